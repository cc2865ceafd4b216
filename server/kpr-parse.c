/* kpr-parse.c — parsers for what arrives from the network or the command
 * line.  Everything here treats its input as hostile: lengths are capped
 * before anything is decoded, and each has a fuzz target in
 * tests/fuzz/server/.
 */
#include "config.h"

#include "kpr-server-private.h"

#include <arpa/inet.h>
#include <string.h>

#include <json-glib/json-glib.h>

#define JSON_BODY_MAX 4096

gboolean
kpr_parse_duration (const char *text, gint64 *ret_seconds, GError **error)
{
  guint64 value = 0;
  char *end = NULL;
  gint64 unit = 1;

  if (text && g_ascii_isdigit (text[0]))
    value = g_ascii_strtoull (text, &end, 10);
  if (end && end[0] != '\0' && end[1] == '\0')
    {
      switch (end[0])
        {
        case 's': unit = 1; break;
        case 'm': unit = 60; break;
        case 'h': unit = 3600; break;
        case 'd': unit = 86400; break;
        default: end = NULL;
        }
    }
  else if (end && end[0] != '\0')
    end = NULL;
  /* Ten years is the CA's own validity; more makes no sense. */
  if (!end || value == 0 || value > (guint64) 3650 * 86400 / (guint64) unit)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_USAGE,
                   "'%s' is not a duration: use a number with s, m, h or d (e.g. 90s, 24h, 14d), "
                   "at most 3650d", text ? text : "");
      return FALSE;
    }
  *ret_seconds = (gint64) value * unit;
  return TRUE;
}

gboolean
kpr_valid_username (const char *name)
{
  gsize len = name ? strlen (name) : 0;

  if (len == 0 || len > KPR_NAME_MAX || !g_ascii_isalnum (name[0]))
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum (name[i]) && !strchr ("._-@", name[i]))
      return FALSE;
  return TRUE;
}

gboolean
kpr_valid_phone (const char *phone)
{
  gsize len = phone ? strlen (phone) : 0;

  if (len < 5 || len > 20 || phone[0] != '+')
    return FALSE;
  for (gsize i = 1; i < len; i++)
    if (!g_ascii_isdigit (phone[i]))
      return FALSE;
  return TRUE;
}

gboolean
kpr_valid_mail (const char *mail)
{
  gsize len = mail ? strlen (mail) : 0;
  const char *at = mail ? strchr (mail, '@') : NULL;

  /* It goes into a To: header: no spaces, quotes, brackets or line
   * breaks, exactly one '@' with something on both sides and a dot in
   * the domain. */
  if (len < 5 || len > 254 || !at || at == mail || strchr (at + 1, '@') || !strchr (at + 1, '.')
      || at[1] == '.' || mail[len - 1] == '.')
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if ((guchar) mail[i] <= ' ' || (guchar) mail[i] >= 0x7f || strchr ("\"(),:;<>[]\\", mail[i]))
      return FALSE;
  return TRUE;
}

char *
kpr_mask_phone (const char *phone)
{
  gsize len = strlen (phone);

  /* Country code and the last four digits are enough to recognise one's
   * own number, and the same five dots hide how long it is. */
  if (len < 7)
    return g_strdup ("+•••••");
  return g_strdup_printf ("%.2s•••••%s", phone, phone + len - 4);
}

static gboolean
is_b64_char (char c)
{
  return g_ascii_isalnum (c) || c == '+' || c == '/';
}

gboolean
kpr_parse_basic_auth (const char *header, gsize len, char **ret_user,
                      KprSecret **ret_password, GError **error)
{
  const char *p = header;
  const char *end = header + len;
  const char *b64;
  gsize b64_len;
  gsize pad = 0;
  g_autofree char *copy = NULL;
  gsize decoded_len = 0;
  guint8 *decoded;
  const char *colon;
  g_autofree char *user = NULL;

  /* user (64) + ':' + password (256) in base64 is < 450 characters. */
  if (!header || len > 512)
    goto bad;
  while (p < end && (*p == ' ' || *p == '\t'))
    p++;
  if (end - p < 6 || g_ascii_strncasecmp (p, "Basic", 5) != 0 || (p[5] != ' ' && p[5] != '\t'))
    goto bad;
  p += 5;
  while (p < end && (*p == ' ' || *p == '\t'))
    p++;
  while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
    end--;
  b64 = p;
  b64_len = (gsize) (end - p);
  if (b64_len == 0 || b64_len % 4 != 0)
    goto bad;
  for (gsize i = 0; i < b64_len; i++)
    {
      if (b64[i] == '=' && i >= b64_len - 2)
        pad++;
      else if (pad > 0 || !is_b64_char (b64[i]))
        goto bad;
    }

  copy = g_strndup (b64, b64_len);
  decoded = g_base64_decode_inplace (copy, &decoded_len);
  colon = memchr (decoded, ':', decoded_len);
  if (!colon || colon == (const char *) decoded)
    {
      kpr_memory_erase (copy, b64_len);
      goto bad;
    }
  user = g_strndup ((const char *) decoded, (gsize) (colon - (const char *) decoded));
  {
    gsize pw_len = decoded_len - (gsize) (colon + 1 - (const char *) decoded);
    gboolean ok = strlen (user) == (gsize) (colon - (const char *) decoded)
                  && kpr_valid_username (user) && pw_len > 0 && pw_len <= KPR_PASSWORD_MAX
                  && memchr (colon + 1, '\0', pw_len) == NULL;
    if (ok)
      *ret_password = kpr_secret_new (colon + 1, pw_len);
    kpr_memory_erase (copy, b64_len);
    if (!ok)
      goto bad;
  }
  *ret_user = g_steal_pointer (&user);
  return TRUE;

bad:
  g_set_error (error, KPR_ERROR, KPR_ERROR_AUTH,
               "The Authorization header must be 'Basic' with a registered username and the "
               "secret word");
  return FALSE;
}

/* Parses a small JSON object and returns the string member @member. */
static char *
json_string_member (const char *body, gsize len, const char *member, GError **error)
{
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (GError) local = NULL;
  JsonNode *root;
  JsonObject *obj;
  JsonNode *node;

  if (!body || len == 0 || len > JSON_BODY_MAX || memchr (body, '\0', len))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT,
                   "The request body must be a JSON object of at most %d bytes", JSON_BODY_MAX);
      return NULL;
    }
  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, body, (gssize) len, &local))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT, "The request body is not JSON: %s",
                   local->message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT, "The request body must be a JSON object");
      return NULL;
    }
  obj = json_node_get_object (root);
  node = json_object_get_member (obj, member);
  if (!node || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT,
                   "The JSON object needs a string member \"%s\"", member);
      return NULL;
    }
  return g_strdup (json_node_get_string (node));
}

char *
kpr_parse_challenge_json (const char *body, gsize len, GError **error)
{
  g_autofree char *name = json_string_member (body, len, "username", error);

  if (!name)
    return NULL;
  if (!kpr_valid_username (name))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT,
                   "\"username\" must be 1-%d letters, digits, '.', '_', '-' or '@'",
                   KPR_NAME_MAX);
      return NULL;
    }
  return g_steal_pointer (&name);
}

char *
kpr_parse_revoke_json (const char *body, gsize len, GError **error)
{
  g_autofree char *serial = json_string_member (body, len, "serial", error);

  if (!serial)
    return NULL;
  return kpr_serial_normalize (serial, error);
}

gboolean
kpr_policy_check_key (EVP_PKEY *key, GError **error)
{
  if (!key)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT, "The request carries no public key");
      return FALSE;
    }
  if (EVP_PKEY_is_a (key, "RSA"))
    {
      int bits = EVP_PKEY_get_bits (key);
      if (bits < 2048 || bits > 8192)
        {
          g_set_error (error, KPR_ERROR, KPR_ERROR_UNSUPPORTED,
                       "RSA keys of %d bits are not accepted: use RSA 2048-8192, EC P-256 or "
                       "EC P-384", bits);
          return FALSE;
        }
      return TRUE;
    }
  if (EVP_PKEY_is_a (key, "EC"))
    {
      char curve[64] = "";
      size_t curve_len = 0;

      if (EVP_PKEY_get_utf8_string_param (key, "group", curve, sizeof curve, &curve_len)
          && (g_str_equal (curve, "prime256v1") || g_str_equal (curve, "P-256")
              || g_str_equal (curve, "secp384r1") || g_str_equal (curve, "P-384")))
        return TRUE;
      g_set_error (error, KPR_ERROR, KPR_ERROR_UNSUPPORTED,
                   "EC keys on curve '%s' are not accepted: use EC P-256, EC P-384 or RSA "
                   "2048 and up", curve[0] ? curve : "unknown");
      return FALSE;
    }
  g_set_error (error, KPR_ERROR, KPR_ERROR_UNSUPPORTED,
               "%s keys are not accepted: use EC P-256, EC P-384 or RSA 2048 and up",
               EVP_PKEY_get0_type_name (key) ? EVP_PKEY_get0_type_name (key) : "These");
  return FALSE;
}

static gboolean
proxy_fail (GError **error, const char *what)
{
  g_set_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL, "Bad PROXY header: %s", what);
  return FALSE;
}

/* "PROXY TCP4 SRC DST SPORT DPORT\r\n" (at most 107 bytes). */
static gboolean
proxy_v1 (const guint8 *data, gsize len, gsize *ret_consumed, char **ret_address,
          guint16 *ret_port, GError **error)
{
  const guint8 *end = memchr (data, '\n', MIN (len, 107));
  g_autofree char *line = NULL;
  g_auto (GStrv) f = NULL;
  guint64 port = 0;
  guint8 addr[16];
  int family;

  if (!end || end == data || end[-1] != '\r')
    return proxy_fail (error, "no complete line");
  line = g_strndup ((const char *) data, (gsize) (end - data - 1));
  *ret_consumed = (gsize) (end - data) + 1;
  f = g_strsplit (line, " ", -1);
  if (g_strv_length (f) >= 2 && g_str_equal (f[1], "UNKNOWN"))
    return TRUE;
  if (g_strv_length (f) != 6 || !g_str_equal (f[0], "PROXY"))
    return proxy_fail (error, "not six fields");
  family = g_str_equal (f[1], "TCP4") ? AF_INET : g_str_equal (f[1], "TCP6") ? AF_INET6 : -1;
  if (family < 0 || inet_pton (family, f[2], addr) != 1
      || !g_ascii_string_to_unsigned (f[4], 10, 0, 65535, &port, NULL))
    return proxy_fail (error, "bad address or port");
  *ret_address = g_strdup (f[2]);
  *ret_port = (guint16) port;
  return TRUE;
}

gboolean
kpr_parse_proxy_header (const guint8 *data, gsize len, gsize *ret_consumed, char **ret_address,
                        guint16 *ret_port, GError **error)
{
  static const guint8 sig[12] = { 0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                  0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A };
  char text[INET6_ADDRSTRLEN];
  gsize body;

  *ret_address = NULL;
  *ret_port = 0;
  if (len >= 6 && memcmp (data, "PROXY ", 6) == 0)
    return proxy_v1 (data, len, ret_consumed, ret_address, ret_port, error);
  if (len < 16 || memcmp (data, sig, sizeof sig) != 0)
    return proxy_fail (error, "no PROXY signature");
  body = (gsize) data[14] << 8 | data[15];
  if ((data[12] & 0xf0) != 0x20 || 16 + body > KPR_PROXY_HEADER_MAX || 16 + body > len)
    return proxy_fail (error, "bad version or length");
  *ret_consumed = 16 + body;
  /* LOCAL (a health check), or a family we do not route: keep the
   * socket's address. */
  if ((data[12] & 0x0f) == 0 || (data[13] != 0x11 && data[13] != 0x21))
    return TRUE;
  if (data[13] == 0x11 && body >= 12 && inet_ntop (AF_INET, data + 16, text, sizeof text))
    *ret_port = (guint16) (data[24] << 8 | data[25]);
  else if (data[13] == 0x21 && body >= 36 && inet_ntop (AF_INET6, data + 16, text, sizeof text))
    *ret_port = (guint16) (data[48] << 8 | data[49]);
  else
    return proxy_fail (error, "address block too short");
  *ret_address = g_strdup (text);
  return TRUE;
}
