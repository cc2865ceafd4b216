/* test-csrattrs.c — what a server's CSR attributes ask of a request
 * (RFC 7030 §4.5.2, RFC 8951 §4; Appendix A vectors), the CSR built to
 * honour them, and the wire format certkeeper-ca's serverkeygen answer
 * uses (CRLF before every delimiter, base64 without line breaks) next to
 * the one the client still accepts (bare LF, 64-column lines). */
#include "config.h"

#include <string.h>

#include <openssl/ec.h>

#include "kpr-test-util.h"

static KprEstCsrAttrs *
vector_attrs (const char *name)
{
  g_autoptr (GBytes) der = kpr_test_vector (name);
  g_autoptr (GError) error = NULL;
  KprEstCsrAttrs *attrs;

  if (!der)
    return NULL;
  attrs = kpr_est_csrattrs_parse (g_bytes_get_data (der, NULL), g_bytes_get_size (der), &error);
  g_assert_no_error (error);
  return attrs;
}

static EVP_PKEY *
ec_key (const char *curve)
{
  EVP_PKEY *key = EVP_PKEY_Q_keygen (NULL, NULL, "EC", curve);

  g_assert_nonnull (key);
  return key;
}

static void
test_interpret_vectors (void)
{
  g_autoptr (KprEstCsrAttrs) a2 = vector_attrs ("A2_csrattrs_resp.der");
  g_autoptr (KprEstCsrAttrs) r = vector_attrs ("RFC8951_s4_csrattrs.der");
  g_autofree char *a2_key = NULL, *r_key = NULL;
  const char *const a2_other[] = { "1.3.6.1.1.1.1.22", "2.999.1", "2.999.2", NULL };
  const char *const r_ext[] = { "1.3.6.1.1.1.1.22", NULL };
  const char *const none[] = { NULL };

  if (!a2 || !r)
    return;
  /* A.2: a bare curve OID and a bare hash OID. */
  g_assert_cmpstr (a2->key_algorithm, ==, "EC");
  g_assert_cmpstr (a2->curve, ==, "brainpoolP384r1");
  g_assert_cmpstr (a2->digest, ==, "SHA384");
  g_assert_cmpstrv (a2->other, a2_other);
  g_assert_cmpstrv (a2->extensions, none);
  a2_key = kpr_est_csrattrs_key_name (a2);
  g_assert_cmpstr (a2_key, ==, "ec-brainpoolP384r1");

  /* RFC 8951 §4: id-ecPublicKey { secp384r1 }, an extensionRequest, and
   * ecdsa-with-SHA384 as a bare signature OID. */
  g_assert_true (r->challenge_password);
  g_assert_cmpstr (r->key_algorithm, ==, "EC");
  g_assert_cmpstr (r->curve, ==, "secp384r1");
  g_assert_cmpstr (r->digest, ==, "SHA384");
  g_assert_cmpstrv (r->extensions, r_ext);
  g_assert_cmpstrv (r->other, none);
  r_key = kpr_est_csrattrs_key_name (r);
  g_assert_cmpstr (r_key, ==, "ec-p384");
}

/* RSA with a size, as RFC 8951 §4 writes it: rsaEncryption { INTEGER }. */
static void
test_interpret_rsa (void)
{
  static const guint8 der[] = {
    0x30, 0x13,
    0x30, 0x11, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, /* rsaEncryption */
    0x31, 0x04, 0x02, 0x02, 0x0c, 0x00,                                         /* { 3072 } */
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (KprEstCsrAttrs) attrs = kpr_est_csrattrs_parse (der, sizeof der, &error);
  g_autoptr (EVP_PKEY) ec = ec_key ("P-256");
  g_autofree char *name = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (attrs->key_algorithm, ==, "RSA");
  g_assert_cmpuint (attrs->rsa_bits, ==, 3072);
  name = kpr_est_csrattrs_key_name (attrs);
  g_assert_cmpstr (name, ==, "rsa-3072");
  g_assert_false (kpr_est_csrattrs_check_key (attrs, ec, &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "rsa-3072"));
}

static void
test_csr_honours_attrs (void)
{
  g_autoptr (KprEstCsrAttrs) r = vector_attrs ("RFC8951_s4_csrattrs.der");
  g_autoptr (EVP_PKEY) p256 = ec_key ("P-256");
  g_autoptr (EVP_PKEY) p384 = ec_key ("P-384");
  g_autoptr (X509_NAME) name = kpr_test_name ("alice");
  g_autoptr (X509_REQ) req = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) unmet = NULL;
  const char *const r_unmet[] = { "1.3.6.1.1.1.1.22", NULL };
  const char *const wanted[] = { "2.5.29.15", "2.5.29.37", "2.5.29.19", "2.5.29.14", NULL };
  g_autoptr (GBytes) der = NULL;
  g_autoptr (KprEstCsrAttrs) ask = NULL;
  STACK_OF (X509_EXTENSION) *exts;

  if (!r)
    return;
  /* The wrong curve is refused before anything is signed or sent. */
  g_assert_null (kpr_est_csr_new_with_attrs (p256, name, NULL, r, NULL, &unmet, &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "ec-p384"));
  g_assert_null (unmet);
  g_clear_error (&error);

  req = kpr_est_csr_new_with_attrs (p384, name, NULL, r, "bound", &unmet, &error);
  g_assert_no_error (error);
  g_assert_cmpint (X509_REQ_get_signature_nid (req), ==, NID_ecdsa_with_SHA384);
  g_assert_cmpint (X509_REQ_verify (req, p384), ==, 1);
  g_assert_cmpint (X509_REQ_get_attr_by_NID (req, NID_pkcs9_challengePassword, -1), >=, 0);
  /* macAddress cannot be filled in: named for the log, not invented. */
  g_assert_cmpstrv (unmet, r_unmet);
  g_clear_pointer (&req, X509_REQ_free);
  g_clear_pointer (&unmet, g_strfreev);

  /* The extensions a client certificate has are filled in when asked. */
  der = kpr_est_csrattrs_build (wanted, &error);
  g_assert_no_error (error);
  ask = kpr_est_csrattrs_parse (g_bytes_get_data (der, NULL), g_bytes_get_size (der), &error);
  g_assert_no_error (error);
  g_assert_cmpstrv (ask->extensions, wanted);
  req = kpr_est_csr_new_with_attrs (p256, name, NULL, ask, NULL, &unmet, &error);
  g_assert_no_error (error);
  g_assert_cmpint (X509_REQ_get_signature_nid (req), ==, NID_ecdsa_with_SHA256);
  g_assert_cmpuint (g_strv_length (unmet), ==, 0);
  exts = X509_REQ_get_extensions (req);
  g_assert_cmpint (X509v3_get_ext_by_NID (exts, NID_key_usage, -1), >=, 0);
  g_assert_cmpint (X509v3_get_ext_by_NID (exts, NID_ext_key_usage, -1), >=, 0);
  g_assert_cmpint (X509v3_get_ext_by_NID (exts, NID_basic_constraints, -1), >=, 0);
  g_assert_cmpint (X509v3_get_ext_by_NID (exts, NID_subject_key_identifier, -1), >=, 0);
  sk_X509_EXTENSION_pop_free (exts, X509_EXTENSION_free);
}

/* certkeeper-ca's serverkeygen answer: CRLF before every delimiter (RFC
 * 2046 §5.1.1), one base64 line per part; the client reads that, and the
 * bare-LF, line-broken form older servers (and certkeeper-ca before) sent. */
static void
test_multipart_wire (void)
{
  g_autoptr (EVP_PKEY) ca_key = kpr_test_key_ec ();
  g_autoptr (EVP_PKEY) key = kpr_test_key_ec ();
  g_autoptr (X509) ca = kpr_test_cert (ca_key, "CA", NULL, NULL, TRUE, NULL, NULL, -60, 3600);
  g_autoptr (X509) cert = kpr_test_cert (key, "alice", ca, ca_key, FALSE, NULL, NULL, -60, 3600);
  g_autoptr (KprX509Stack) certs = kpr_test_stack (cert, NULL);
  g_autoptr (EVP_PKEY) got_key = NULL;
  g_autoptr (KprX509Stack) got = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *ct = NULL, *body = NULL, *delim = NULL;
  g_autoptr (GString) lf = g_string_new (NULL);
  const char *p;
  guint n_delims = 0;
  gsize len = 0;

  body = kpr_est_serverkeygen_build (key, certs, &ct, &len, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (ct, "multipart/mixed; boundary="));
  delim = g_strconcat ("--", ct + strlen ("multipart/mixed; boundary="), NULL);
  g_assert_true (g_str_has_prefix (body, delim));
  for (p = strstr (body + 1, delim); p; p = strstr (p + 1, delim))
    {
      g_assert_true (p - body >= 2 && p[-2] == '\r' && p[-1] == '\n');
      n_delims++;
    }
  g_assert_cmpuint (n_delims, ==, 2);
  /* No bare LF anywhere: every line break is CRLF. */
  for (p = body; (p = strchr (p, '\n')); p++)
    g_assert_true (p > body && p[-1] == '\r');

  /* The old form: bare LF everywhere, base64 broken into 64-column lines. */
  for (p = body; *p; p++)
    {
      if (*p == '\r')
        continue;
      g_string_append_c (lf, *p);
    }
  {
    g_autofree char *old = NULL;
    GString *wrapped = g_string_new (NULL);
    gsize col = 0;
    gboolean in_b64 = FALSE;

    /* Break every long line at 64 columns. */
    for (p = lf->str; *p; p++)
      {
        g_string_append_c (wrapped, *p);
        col = *p == '\n' ? 0 : col + 1;
        in_b64 = col >= 64 && p[1] && p[1] != '\n';
        if (in_b64)
          {
            g_string_append_c (wrapped, '\n');
            col = 0;
          }
      }
    old = g_string_free (wrapped, FALSE);
    g_assert_true (kpr_est_serverkeygen_parse (ct, (const guint8 *) old, strlen (old), &got_key,
                                               &got, &error));
    g_assert_no_error (error);
    g_assert_cmpint (EVP_PKEY_eq (got_key, key), ==, 1);
    kpr_memory_erase (old, strlen (old));
  }
  kpr_memory_erase (lf->str, lf->len);
  kpr_memory_erase (body, len);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/csrattrs/interpret/vectors", test_interpret_vectors);
  g_test_add_func ("/csrattrs/interpret/rsa", test_interpret_rsa);
  g_test_add_func ("/csrattrs/csr", test_csr_honours_attrs);
  g_test_add_func ("/multipart/wire", test_multipart_wire);
  return g_test_run ();
}
