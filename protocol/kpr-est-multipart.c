/* kpr-est-multipart.c — the /serverkeygen response (RFC 7030 §4.4.2):
 * multipart/mixed holding an application/pkcs8 key and an
 * application/pkcs7-mime certificate, both base64.
 *
 * Only what EST needs of RFC 2046 is implemented: delimiter lines, part
 * headers up to the first blank line, preamble and epilogue ignored.  The
 * closing delimiter is required, so a truncated answer is never mistaken
 * for a whole one.  Every buffer that held the private key is erased.
 */
#include "config.h"

#include "kpr-est-codec.h"

#include <string.h>

#include <openssl/rand.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PKCS8_PRIV_KEY_INFO, PKCS8_PRIV_KEY_INFO_free)

#define MULTIPART_MAX_PARTS 8
#define BOUNDARY_MAX 70 /* RFC 2046 §5.1.1 */

static gboolean
malformed (GError **error, const char *why)
{
  g_set_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL,
               "The server-generated key response is malformed: %s", why);
  return FALSE;
}

/* The boundary parameter of a Content-Type value, or NULL. */
static char *
find_boundary (const char *content_type)
{
  g_auto (GStrv) fields = g_strsplit (content_type, ";", 16);
  gsize i;

  for (i = 1; fields[i]; i++)
    {
      char *eq = strchr (fields[i], '=');
      g_autofree char *name = NULL;
      char *value;
      gsize vlen;

      if (!eq)
        continue;
      name = g_strstrip (g_strndup (fields[i], (gsize) (eq - fields[i])));
      if (g_ascii_strcasecmp (name, "boundary") != 0)
        continue;
      value = g_strstrip (eq + 1);
      vlen = strlen (value);
      if (vlen >= 2 && value[0] == '"' && value[vlen - 1] == '"')
        return g_strndup (value + 1, vlen - 2);
      return g_strdup (value);
    }
  return NULL;
}

static gboolean
boundary_valid (const char *b)
{
  gsize n = strlen (b), i;

  if (n == 0 || n > BOUNDARY_MAX)
    return FALSE;
  for (i = 0; i < n; i++)
    if (!g_ascii_isalnum (b[i]) && !strchr ("'()+_,-./:=? ", b[i]))
      return FALSE;
  return b[n - 1] != ' ';
}

/* Lower-cased media type of a header value, without parameters. */
static char *
media_type (const char *value, gsize len)
{
  g_autofree char *v = g_strndup (value, len);
  char *semi = strchr (v, ';');

  if (semi)
    *semi = '\0';
  return g_ascii_strdown (g_strstrip (v), -1);
}

typedef struct {
  const char *body; /* base64 text of the part */
  gsize body_len;
  char *type;       /* lower-cased media type */
  gboolean enveloped; /* smime-type=server-generated-key (CMS-wrapped key) */
} Part;

/* Parses one part [p, end): headers, blank line, body. */
static gboolean
parse_part (const char *p, const char *end, Part *part, GError **error)
{
  while (p < end)
    {
      const char *eol = memchr (p, '\n', (gsize) (end - p));
      const char *line_end = eol ? eol : end;
      gsize n = (gsize) (line_end - p);

      if (n > 0 && p[n - 1] == '\r')
        n--;
      if (n == 0)
        {
          part->body = eol ? eol + 1 : end;
          part->body_len = (gsize) (end - part->body);
          return part->type != NULL || malformed (error, "a part has no Content-Type");
        }
      if (n > 13 && g_ascii_strncasecmp (p, "content-type:", 13) == 0)
        {
          g_autofree char *params = g_ascii_strdown (p + 13, (gssize) (n - 13));

          if (part->type)
            return malformed (error, "a part has two Content-Type headers");
          part->type = media_type (p + 13, n - 13);
          part->enveloped = strstr (params, "server-generated-key") != NULL;
        }
      if (!eol)
        break;
      p = eol + 1;
    }
  return malformed (error, "a part has no body");
}

static EVP_PKEY *
decode_key (const Part *part, GError **error)
{
  g_autoptr (PKCS8_PRIV_KEY_INFO) p8 = NULL;
  guint8 *der = NULL;
  gsize der_len = 0;
  const unsigned char *p;
  EVP_PKEY *key;

  if (!kpr_est_base64_decode_raw (part->body, part->body_len, &der, &der_len, error))
    return NULL;
  p = der;
  p8 = d2i_PKCS8_PRIV_KEY_INFO (NULL, &p, (long) der_len);
  if (!p8 || (gsize) (p - der) != der_len)
    {
      kpr_memory_erase (der, der_len);
      g_free (der);
      malformed (error, "the key part is not a PKCS#8 private key");
      return NULL;
    }
  kpr_memory_erase (der, der_len);
  g_free (der);
  key = EVP_PKCS82PKEY (p8);
  if (!key)
    malformed (error, "the PKCS#8 key is of an unknown type");
  return key;
}

gboolean
kpr_est_serverkeygen_parse (const char *content_type, const guint8 *body, gsize len,
                            EVP_PKEY **ret_key, KprX509Stack **ret_certs, GError **error)
{
  g_autofree char *type = NULL;
  g_autofree char *boundary = NULL;
  g_autofree char *delim = NULL;
  g_autoptr (EVP_PKEY) key = NULL;
  g_autoptr (KprX509Stack) certs = NULL;
  g_autoptr (GBytes) p7 = NULL;
  Part parts[MULTIPART_MAX_PARTS] = { { 0 } };
  const Part *key_part = NULL, *cert_part = NULL;
  const char *text = (const char *) body;
  const char *end = text + len;
  const char *p = text;
  const char *part_start = NULL;
  gsize delim_len;
  guint n_parts = 0, i;
  gboolean closed = FALSE, ok = FALSE;

  g_return_val_if_fail (content_type != NULL, FALSE);
  g_return_val_if_fail (body != NULL || len == 0, FALSE);
  g_return_val_if_fail (ret_key != NULL && ret_certs != NULL, FALSE);

  type = media_type (content_type, strlen (content_type));
  if (!g_str_equal (type, "multipart/mixed"))
    return malformed (error, "the Content-Type is not multipart/mixed");
  boundary = find_boundary (content_type);
  if (!boundary || !boundary_valid (boundary))
    return malformed (error, "the multipart boundary is missing or invalid");
  if (len == 0 || len > KPR_EST_BODY_MAX)
    return malformed (error, "impossible size");

  delim = g_strconcat ("--", boundary, NULL);
  delim_len = strlen (delim);

  /* Walk the lines; a delimiter line starts a part and ends the previous
   * one.  The line break before a delimiter belongs to the delimiter. */
  while (p < end && !closed)
    {
      const char *eol = memchr (p, '\n', (gsize) (end - p));
      const char *line_end = eol ? eol : end;
      gsize n = (gsize) (line_end - p);

      if (n >= delim_len && memcmp (p, delim, delim_len) == 0)
        {
          const char *rest = p + delim_len;
          gboolean is_close = (gsize) (line_end - rest) >= 2 && rest[0] == '-' && rest[1] == '-';
          const char *q = rest + (is_close ? 2 : 0);

          /* Only transport padding may follow the delimiter. */
          while (q < line_end && (*q == ' ' || *q == '\t' || *q == '\r'))
            q++;
          if (q == line_end)
            {
              if (part_start)
                {
                  if (n_parts == MULTIPART_MAX_PARTS)
                    {
                      malformed (error, "too many parts");
                      goto out;
                    }
                  if (!parse_part (part_start, p, &parts[n_parts++], error))
                    goto out;
                }
              part_start = eol ? eol + 1 : end;
              closed = is_close;
            }
        }
      if (!eol)
        break;
      p = eol + 1;
    }
  if (!closed)
    {
      malformed (error, "the closing boundary is missing (truncated answer?)");
      goto out;
    }

  for (i = 0; i < n_parts; i++)
    {
      const Part *part = &parts[i];

      if (g_str_equal (part->type, "application/pkcs8"))
        {
          if (key_part)
            {
              malformed (error, "two key parts");
              goto out;
            }
          key_part = part;
        }
      else if (g_str_equal (part->type, "application/pkcs7-mime") && part->enveloped)
        {
          g_set_error (error, KPR_ERROR, KPR_ERROR_UNSUPPORTED,
                       "The server sent the key wrapped in CMS EnvelopedData, which certkeeper does not support");
          goto out;
        }
      else if (g_str_equal (part->type, "application/pkcs7-mime"))
        {
          if (cert_part)
            {
              malformed (error, "two certificate parts");
              goto out;
            }
          cert_part = part;
        }
      /* Other parts are ignored, like unknown headers. */
    }
  if (!key_part || !cert_part)
    {
      malformed (error, "the key or the certificate part is missing");
      goto out;
    }

  p7 = kpr_est_base64_decode (cert_part->body, cert_part->body_len, error);
  if (!p7)
    goto out;
  certs = kpr_est_certs_only_parse (g_bytes_get_data (p7, NULL), g_bytes_get_size (p7), error);
  if (!certs)
    goto out;
  key = decode_key (key_part, error);
  if (!key)
    goto out;
  if (EVP_PKEY_eq (X509_get0_pubkey (sk_X509_value (certs, 0)), key) != 1)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_KEY_MISMATCH,
                   "The certificate the server sent does not belong to the key it generated");
      goto out;
    }
  *ret_key = g_steal_pointer (&key);
  *ret_certs = g_steal_pointer (&certs);
  ok = TRUE;

out:
  for (i = 0; i < n_parts; i++)
    g_free (parts[i].type);
  return ok;
}

char *
kpr_est_serverkeygen_build (EVP_PKEY *key, KprX509Stack *certs, char **ret_content_type,
                            gsize *ret_len, GError **error)
{
  g_autoptr (PKCS8_PRIV_KEY_INFO) p8 = NULL;
  g_autoptr (GBytes) p7 = NULL;
  g_autofree char *cert_b64 = NULL;
  unsigned char *der = NULL;
  char *key_b64;
  guint8 rnd[12];
  char boundary[40];
  GString *body;
  gsize need;
  int der_len, i;

  g_return_val_if_fail (key != NULL && certs != NULL, NULL);
  g_return_val_if_fail (ret_content_type != NULL && ret_len != NULL, NULL);

  p7 = kpr_est_certs_only_build (certs, error);
  if (!p7)
    return NULL;
  cert_b64 = kpr_est_base64_encode_flat (g_bytes_get_data (p7, NULL), g_bytes_get_size (p7));

  p8 = EVP_PKEY2PKCS8 (key);
  der_len = p8 ? i2d_PKCS8_PRIV_KEY_INFO (p8, &der) : -1;
  if (der_len <= 0)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "Cannot encode the key as PKCS#8");
      return NULL;
    }
  key_b64 = kpr_est_base64_encode_flat (der, (gsize) der_len);
  OPENSSL_clear_free (der, (size_t) der_len);

  if (RAND_bytes (rnd, sizeof rnd) != 1)
    {
      kpr_memory_erase (key_b64, strlen (key_b64));
      g_free (key_b64);
      g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "No randomness for a boundary");
      return NULL;
    }
  memcpy (boundary, "kpr-", 4);
  for (i = 0; i < (int) sizeof rnd; i++)
    g_snprintf (boundary + 4 + 2 * i, 3, "%02x", rnd[i]);

  /* Sized once so the GString never reallocates: a realloc would leave a
   * copy of the key behind that nobody erases. */
  need = strlen (key_b64) + strlen (cert_b64) + 4 * sizeof boundary + 256;
  body = g_string_sized_new (need);
  g_string_append_printf (body,
                          "--%s\r\nContent-Type: application/pkcs8\r\n"
                          "Content-Transfer-Encoding: base64\r\n\r\n",
                          boundary);
  /* RFC 2046 §5.1.1: the CRLF before each delimiter is part of it, so
   * every delimiter line starts after a CRLF of its own. */
  g_string_append (body, key_b64);
  g_string_append_printf (body,
                          "\r\n--%s\r\nContent-Type: application/pkcs7-mime; smime-type=certs-only\r\n"
                          "Content-Transfer-Encoding: base64\r\n\r\n",
                          boundary);
  g_string_append (body, cert_b64);
  g_string_append_printf (body, "\r\n--%s--\r\n", boundary);
  g_assert (body->len < need);

  kpr_memory_erase (key_b64, strlen (key_b64));
  g_free (key_b64);
  *ret_content_type = g_strdup_printf ("multipart/mixed; boundary=%s", boundary);
  *ret_len = body->len;
  return g_string_free (body, FALSE);
}
