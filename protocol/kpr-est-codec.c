/* kpr-est-codec.c — base64 bodies, certs-only PKCS#7, CSRs, fingerprints.
 *
 * Every input here comes from the network (a server's answer, or a client's
 * request on the server side), so nothing is trusted: lengths are capped
 * before anything is allocated, DER must be consumed exactly, and the only
 * errors are KPR_ERROR_PROTOCOL (malformed) and KPR_ERROR_INTERNAL.
 */
#include "config.h"

#include "kpr-est-codec.h"

#include <string.h>

#include <openssl/err.h>
#include <openssl/pkcs7.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PKCS7, PKCS7_free)

/* -1 for a byte that is not in the base64 alphabet. */
static int
b64_value (guchar c)
{
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '+')
    return 62;
  if (c == '/')
    return 63;
  return -1;
}

static gboolean
b64_is_space (guchar c)
{
  /* RFC 8951 §3.1: CR, LF, space and tab may appear anywhere. */
  return c == '\r' || c == '\n' || c == ' ' || c == '\t';
}

gboolean
kpr_est_base64_decode_raw (const char *text, gsize len, guint8 **ret_data,
                           gsize *ret_len, GError **error)
{
  g_autofree guint8 *out = NULL;
  gsize n_out = 0;
  guint32 acc = 0;
  guint n_acc = 0;
  guint n_pad = 0;
  gsize i;

  g_return_val_if_fail (text != NULL || len == 0, FALSE);
  g_return_val_if_fail (ret_data != NULL && ret_len != NULL, FALSE);

  if (len > KPR_EST_BODY_MAX)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL,
                   "The message is too large (%" G_GSIZE_FORMAT " bytes, at most %d)",
                   len, KPR_EST_BODY_MAX);
      return FALSE;
    }

  /* Decoded size never exceeds 3/4 of the input, so one allocation. */
  out = g_malloc (len / 4 * 3 + 3);
  for (i = 0; i < len; i++)
    {
      guchar c = (guchar) text[i];
      int v;

      if (b64_is_space (c))
        continue;
      if (c == '=')
        {
          /* Padding only closes a quantum that has 2 or 3 characters. */
          if (n_pad == 0 && n_acc < 2)
            goto bad;
          n_pad++;
          if (n_acc + n_pad > 4)
            goto bad;
          continue;
        }
      if (n_pad > 0)
        goto bad; /* data after padding */
      v = b64_value (c);
      if (v < 0)
        goto bad;
      acc = (acc << 6) | (guint32) v;
      if (++n_acc == 4)
        {
          out[n_out++] = (acc >> 16) & 0xff;
          out[n_out++] = (acc >> 8) & 0xff;
          out[n_out++] = acc & 0xff;
          acc = 0;
          n_acc = 0;
        }
    }

  /* Missing padding is tolerated (some servers drop it); a lone final
   * character cannot encode a byte. */
  if (n_pad > 0 && n_acc + n_pad != 4)
    goto bad;
  if (n_acc == 1)
    goto bad;
  if (n_acc == 2)
    out[n_out++] = (acc >> 4) & 0xff;
  else if (n_acc == 3)
    {
      out[n_out++] = (acc >> 10) & 0xff;
      out[n_out++] = (acc >> 2) & 0xff;
    }
  acc = 0;

  if (n_out == 0)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL,
                   "The message is empty where base64 data was expected");
      return FALSE;
    }
  *ret_data = g_steal_pointer (&out);
  *ret_len = n_out;
  return TRUE;

bad:
  /* The buffer may hold part of a private key (serverkeygen). */
  kpr_memory_erase (out, len / 4 * 3 + 3);
  acc = 0;
  g_set_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL,
               "The message is not valid base64 (bad character or padding near byte %" G_GSIZE_FORMAT ")",
               i);
  return FALSE;
}

GBytes *
kpr_est_base64_decode (const char *text, gsize len, GError **error)
{
  guint8 *data = NULL;
  gsize n = 0;

  if (!kpr_est_base64_decode_raw (text, len, &data, &n, error))
    return NULL;
  return g_bytes_new_take (data, n);
}

char *
kpr_est_base64_encode_flat (const guint8 *data, gsize len)
{
  static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  GString *s;
  gsize i;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  /* Sized once: the caller may be encoding a private key, and a realloc
   * would leave a copy behind that nobody erases. */
  s = g_string_sized_new ((len + 2) / 3 * 4 + 2);
  for (i = 0; i < len; i += 3)
    {
      guint32 v = (guint32) data[i] << 16;
      gsize rem = len - i;

      if (rem > 1)
        v |= (guint32) data[i + 1] << 8;
      if (rem > 2)
        v |= data[i + 2];
      g_string_append_c (s, alphabet[(v >> 18) & 63]);
      g_string_append_c (s, alphabet[(v >> 12) & 63]);
      g_string_append_c (s, rem > 1 ? alphabet[(v >> 6) & 63] : '=');
      g_string_append_c (s, rem > 2 ? alphabet[v & 63] : '=');
    }
  return g_string_free (s, FALSE);
}

char *
kpr_est_base64_encode (const guint8 *data, gsize len)
{
  char *flat = kpr_est_base64_encode_flat (data, len);
  gsize n = strlen (flat);
  char *s = g_malloc (n + 2);

  memcpy (s, flat, n);
  s[n] = '\n';
  s[n + 1] = '\0';
  kpr_memory_erase (flat, n);
  g_free (flat);
  return s;
}

static void
set_ossl_error (GError **error, KprError code, const char *what)
{
  g_autofree char *detail = kpr_ossl_error_string ();

  g_set_error (error, KPR_ERROR, code, "%s (%s)", what, detail);
}

KprX509Stack *
kpr_est_certs_only_parse (const guint8 *der, gsize len, GError **error)
{
  g_autoptr (PKCS7) p7 = NULL;
  g_autoptr (KprX509Stack) out = NULL;
  STACK_OF (X509) *certs;
  const unsigned char *p = der;
  int i, n;

  g_return_val_if_fail (der != NULL || len == 0, NULL);

  if (len == 0 || len > KPR_EST_BODY_MAX)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL,
                   "The certificate message has an impossible size (%" G_GSIZE_FORMAT " bytes)",
                   len);
      return NULL;
    }
  p7 = d2i_PKCS7 (NULL, &p, (long) len);
  if (!p7)
    {
      set_ossl_error (error, KPR_ERROR_PROTOCOL, "The certificate message is not PKCS#7");
      return NULL;
    }
  if ((gsize) (p - der) != len)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL,
                   "The certificate message has %" G_GSIZE_FORMAT " trailing bytes",
                   len - (gsize) (p - der));
      return NULL;
    }
  if (!PKCS7_type_is_signed (p7) || p7->d.sign == NULL)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL,
                   "The certificate message is not a certs-only SignedData");
      return NULL;
    }
  certs = p7->d.sign->cert;
  n = certs ? sk_X509_num (certs) : 0;
  if (n <= 0)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL,
                   "The certificate message holds no certificate");
      return NULL;
    }
  if (n > KPR_EST_CERTS_MAX)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL,
                   "The certificate message holds too many certificates (%d)", n);
      return NULL;
    }
  out = sk_X509_new_null ();
  if (!out)
    {
      set_ossl_error (error, KPR_ERROR_INTERNAL, "Out of memory");
      return NULL;
    }
  for (i = 0; i < n; i++)
    {
      X509 *cert = sk_X509_value (certs, i);

      if (!cert || !X509_up_ref (cert))
        {
          set_ossl_error (error, KPR_ERROR_INTERNAL, "Cannot keep a certificate");
          return NULL;
        }
      if (!sk_X509_push (out, cert))
        {
          X509_free (cert);
          set_ossl_error (error, KPR_ERROR_INTERNAL, "Out of memory");
          return NULL;
        }
    }
  return g_steal_pointer (&out);
}

GBytes *
kpr_est_certs_only_build (KprX509Stack *certs, GError **error)
{
  g_autoptr (PKCS7) p7 = NULL;
  unsigned char *der = NULL;
  int i, len;
  GBytes *bytes;

  g_return_val_if_fail (certs != NULL, NULL);

  if (sk_X509_num (certs) <= 0)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT,
                   "A certificate message needs at least one certificate");
      return NULL;
    }
  /* A degenerate SignedData: no signers, empty data content — what
   * `openssl crl2pkcs7 -nocrl` writes and RFC 5272 §4.1 describes. */
  p7 = PKCS7_new ();
  if (!p7 || !PKCS7_set_type (p7, NID_pkcs7_signed)
      || !PKCS7_content_new (p7, NID_pkcs7_data))
    {
      set_ossl_error (error, KPR_ERROR_INTERNAL, "Cannot build a PKCS#7 message");
      return NULL;
    }
  for (i = 0; i < sk_X509_num (certs); i++)
    {
      if (!PKCS7_add_certificate (p7, sk_X509_value (certs, i)))
        {
          set_ossl_error (error, KPR_ERROR_INTERNAL, "Cannot add a certificate to PKCS#7");
          return NULL;
        }
    }
  len = i2d_PKCS7 (p7, &der);
  if (len <= 0)
    {
      set_ossl_error (error, KPR_ERROR_INTERNAL, "Cannot encode PKCS#7");
      return NULL;
    }
  bytes = g_bytes_new (der, (gsize) len);
  OPENSSL_free (der);
  return bytes;
}

X509_REQ *
kpr_est_csr_parse (const guint8 *der, gsize len, GError **error)
{
  g_autoptr (X509_REQ) req = NULL;
  const unsigned char *p = der;
  EVP_PKEY *pub;

  g_return_val_if_fail (der != NULL || len == 0, NULL);

  if (len == 0 || len > KPR_EST_BODY_MAX)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL,
                   "The certificate request has an impossible size (%" G_GSIZE_FORMAT " bytes)",
                   len);
      return NULL;
    }
  req = d2i_X509_REQ (NULL, &p, (long) len);
  if (!req)
    {
      set_ossl_error (error, KPR_ERROR_PROTOCOL, "The certificate request is not PKCS#10");
      return NULL;
    }
  if ((gsize) (p - der) != len)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL,
                   "The certificate request has trailing bytes");
      return NULL;
    }
  pub = X509_REQ_get0_pubkey (req);
  if (!pub)
    {
      set_ossl_error (error, KPR_ERROR_PROTOCOL,
                      "The certificate request has an unusable public key");
      return NULL;
    }
  /* Proof of possession: the request must be signed by its own key. */
  if (X509_REQ_verify (req, pub) != 1)
    {
      set_ossl_error (error, KPR_ERROR_PROTOCOL,
                      "The certificate request's signature does not verify");
      return NULL;
    }
  return g_steal_pointer (&req);
}

GBytes *
kpr_est_csr_to_der (X509_REQ *req, GError **error)
{
  unsigned char *der = NULL;
  GBytes *bytes;
  int len;

  g_return_val_if_fail (req != NULL, NULL);

  len = i2d_X509_REQ (req, &der);
  if (len <= 0)
    {
      set_ossl_error (error, KPR_ERROR_INTERNAL, "Cannot encode the certificate request");
      return NULL;
    }
  bytes = g_bytes_new (der, (gsize) len);
  OPENSSL_free (der);
  return bytes;
}

char *
kpr_est_cert_fingerprint (X509 *cert)
{
  g_return_val_if_fail (cert != NULL, NULL);

  return kpr_ossl_fingerprint (cert, EVP_sha256 ());
}
