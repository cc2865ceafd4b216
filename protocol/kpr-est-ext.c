/* kpr-est-ext.c — clients for certkeeper-ca's extensions (EXTENSIONS.md):
 * requesting a secret word and revoking a certificate.
 *
 * The JSON answers are hostile input: size-capped, nesting-capped before
 * json-glib sees them (its parser recurses), every member type-checked.
 */
#include "config.h"

#include "kpr-est-private.h"
#include "kpr-protocol.h"

#include <string.h>

#include <json-glib/json-glib.h>

#define JSON_MAX 4096
#define JSON_MAX_DEPTH 8

void
kpr_est_challenge_free (KprEstChallenge *challenge)
{
  if (!challenge)
    return;
  g_free (challenge->channel);
  g_free (challenge->destination);
  g_free (challenge);
}

static gboolean
bad_json (GError **error, const char *why)
{
  g_set_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL, "The server's answer is malformed: %s",
               why);
  return FALSE;
}

/* Rejects nesting deeper than JSON_MAX_DEPTH without parsing. */
static gboolean
depth_ok (const char *json, gsize len)
{
  gboolean in_string = FALSE, escaped = FALSE;
  int depth = 0;
  gsize i;

  for (i = 0; i < len; i++)
    {
      char c = json[i];

      if (in_string)
        {
          if (escaped)
            escaped = FALSE;
          else if (c == '\\')
            escaped = TRUE;
          else if (c == '"')
            in_string = FALSE;
          continue;
        }
      if (c == '"')
        in_string = TRUE;
      else if (c == '{' || c == '[')
        {
          if (++depth > JSON_MAX_DEPTH)
            return FALSE;
        }
      else if (c == '}' || c == ']')
        depth--;
    }
  return TRUE;
}

/* Parses @json into its root object (a new reference), or NULL. */
static JsonObject *
parse_object (const char *json, gsize len, GError **error)
{
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (GError) local = NULL;
  JsonNode *root;

  if (len == 0 || len > JSON_MAX)
    {
      bad_json (error, "empty or too large");
      return NULL;
    }
  if (memchr (json, '\0', len) || !g_utf8_validate_len (json, len, NULL))
    {
      bad_json (error, "not UTF-8 text");
      return NULL;
    }
  if (!depth_ok (json, len))
    {
      bad_json (error, "nested too deeply");
      return NULL;
    }
  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, json, (gssize) len, &local))
    {
      bad_json (error, "not JSON");
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root))
    {
      bad_json (error, "not a JSON object");
      return NULL;
    }
  return json_object_ref (json_node_get_object (root));
}

/* A string member, or NULL when absent, of another type or not UTF-8.
 * The check matters: json-glib's scanner (GScanner) takes octal escapes
 * such as "\333", which JSON does not have, and yields invalid UTF-8. */
static const char *
get_string (JsonObject *obj, const char *name)
{
  JsonNode *node = json_object_get_member (obj, name);
  const char *s;

  if (!node || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  s = json_node_get_string (node);
  return s && g_utf8_validate (s, -1, NULL) ? s : NULL;
}

static gboolean
printable_utf8 (const char *s)
{
  for (; *s; s = g_utf8_next_char (s))
    {
      gunichar c = g_utf8_get_char (s);

      if (g_unichar_iscntrl (c) || c == 0x202e /* RIGHT-TO-LEFT OVERRIDE */)
        return FALSE;
    }
  return TRUE;
}

KprEstChallenge *
kpr_est_challenge_parse (const char *json, gsize len, GError **error)
{
  g_autoptr (JsonObject) obj = NULL;
  g_autoptr (KprEstChallenge) challenge = NULL;
  const char *channel, *destination;
  JsonNode *expires;
  gint64 seconds;
  gsize i;

  obj = parse_object (json, len, error);
  if (!obj)
    return NULL;
  channel = get_string (obj, "channel");
  destination = get_string (obj, "destination");
  expires = json_object_get_member (obj, "expires_in");
  if (!channel || !destination || !expires || !JSON_NODE_HOLDS_VALUE (expires)
      || json_node_get_value_type (expires) != G_TYPE_INT64)
    {
      bad_json (error, "channel, destination or expires_in missing");
      return NULL;
    }
  if (strlen (channel) == 0 || strlen (channel) > 32)
    {
      bad_json (error, "bad channel");
      return NULL;
    }
  for (i = 0; channel[i]; i++)
    if (!g_ascii_isalnum (channel[i]) && channel[i] != '-' && channel[i] != '_')
      {
        bad_json (error, "bad channel");
        return NULL;
      }
  if (strlen (destination) > 64 || !printable_utf8 (destination))
    {
      bad_json (error, "bad destination");
      return NULL;
    }
  seconds = json_node_get_int (expires);
  if (seconds < 1 || seconds > 86400)
    {
      bad_json (error, "expires_in out of range");
      return NULL;
    }
  challenge = g_new0 (KprEstChallenge, 1);
  challenge->channel = g_strdup (channel);
  challenge->destination = g_strdup (destination);
  challenge->expires_in = (guint) seconds;
  return g_steal_pointer (&challenge);
}

static gboolean
username_valid (const char *username)
{
  gsize i, n = strlen (username);

  if (n == 0 || n > 64)
    return FALSE;
  for (i = 0; i < n; i++)
    if (!g_ascii_isalnum (username[i]) && !strchr ("._@-", username[i]))
      return FALSE;
  return TRUE;
}

static gboolean
hex_valid (const char *hex)
{
  gsize i, n = strlen (hex);

  if (n == 0 || n > 64)
    return FALSE;
  for (i = 0; i < n; i++)
    if (!g_ascii_isxdigit (hex[i]))
      return FALSE;
  return TRUE;
}

KprEstChallenge *
kpr_est_client_challenge (KprEstClient *client, const char *username, GError **error)
{
  g_autofree char *body = NULL;
  KprEstRequest req = { .method = "POST", .op = "challenge",
                        .content_type = "application/json" };
  KprEstResponse resp = { 0 };
  KprEstChallenge *challenge = NULL;

  g_return_val_if_fail (client != NULL && username != NULL, NULL);

  if (!username_valid (username))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT,
                   "“%s” is not a valid user name (letters, digits and ._@-, at most 64)",
                   username);
      return NULL;
    }
  /* Validated above, so it needs no JSON escaping. */
  body = g_strdup_printf ("{\"username\":\"%s\"}", username);
  req.body = body;
  req.body_len = strlen (body);
  if (!kpr_est_perform (client, &req, &resp, error))
    return NULL;
  if ((resp.status == 202 || resp.status == 200
       || kpr_est_check_status (client, &resp, FALSE, error))
      && kpr_est_check_media_type (&resp, "application/json", error))
    challenge = kpr_est_challenge_parse ((const char *) resp.body->data, resp.body->len, error);
  kpr_est_response_clear (&resp);
  return challenge;
}

gboolean
kpr_est_client_revoke (KprEstClient *client, const char *serial_hex,
                       const KprEstCredentials *creds, char **ret_serial, GError **error)
{
  g_autofree char *body = NULL;
  g_autoptr (JsonObject) obj = NULL;
  KprEstRequest req = { .method = "POST", .op = "revoke", .content_type = "application/json",
                        .creds = creds };
  KprEstResponse resp = { 0 };
  const char *revoked = NULL;
  gboolean ok;

  g_return_val_if_fail (client != NULL, FALSE);

  if (serial_hex)
    {
      if (!hex_valid (serial_hex))
        {
          g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT,
                       "“%s” is not a hexadecimal serial number", serial_hex);
          return FALSE;
        }
      body = g_strdup_printf ("{\"serial\":\"%s\"}", serial_hex);
      req.body = body;
      req.body_len = strlen (body);
    }
  if (!kpr_est_perform (client, &req, &resp, error))
    return FALSE;
  ok = kpr_est_check_status (client, &resp, FALSE, error)
       && kpr_est_check_media_type (&resp, "application/json", error)
       && (obj = parse_object ((const char *) resp.body->data, resp.body->len, error)) != NULL;
  kpr_est_response_clear (&resp);
  if (!ok)
    return FALSE;
  revoked = get_string (obj, "revoked");
  if (!revoked || !hex_valid (revoked))
    return bad_json (error, "no revoked serial");
  if (ret_serial)
    *ret_serial = g_ascii_strup (revoked, -1);
  return TRUE;
}

X509_CRL *
kpr_est_client_crl (KprEstClient *client, GError **error)
{
  KprEstRequest req = { .method = "GET", .op = "crl", .path = "/crl" };
  KprEstResponse resp = { 0 };
  X509_CRL *crl = NULL;

  g_return_val_if_fail (client != NULL, NULL);

  if (!kpr_est_perform (client, &req, &resp, error))
    return NULL;
  if (kpr_est_check_status (client, &resp, FALSE, error))
    {
      crl = kpr_protocol_crl_from_der (resp.body->data, resp.body->len);
      if (!crl)
        {
          g_set_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL,
                       "The server's /crl answer is not one DER certificate revocation list");
        }
    }
  kpr_est_response_clear (&resp);
  return crl;
}
