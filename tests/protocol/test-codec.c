/* test-codec.c — the EST codecs against RFC 7030 Appendix A and against
 * malformed input. */
#include "config.h"

#include <string.h>
#include <time.h>

#include "kpr-test-util.h"

/* 2013-06-01 00:00:00 UTC: inside the Appendix A certificates' year. */
#define VECTOR_TIME ((time_t) 1370044800)

static void
test_vectors_base64 (void)
{
  static const char *const names[] = {
    "A1_cacerts_resp.p7", "A2_csrattrs_resp.der", "A3_simpleenroll_req.p10",
    "A3_simpleenroll_resp.p7", "A4_serverkeygen_req.p10", "A4_serverkeygen_resp_cert.p7",
    "A4_serverkeygen_resp_key.p8", "RFC8951_s4_csrattrs.der", NULL
  };
  gsize i;

  for (i = 0; names[i]; i++)
    {
      g_autoptr (GBytes) raw = kpr_test_vector (names[i]);
      g_autoptr (GBytes) dec = kpr_test_vector_b64 (names[i]);

      if (!raw)
        return;
      g_assert_true (g_bytes_equal (raw, dec));
    }
}

static void
test_vectors_cacerts (void)
{
  g_autoptr (GBytes) der = kpr_test_vector ("A1_cacerts_resp.p7");
  g_autoptr (GError) error = NULL;
  g_autoptr (KprX509Stack) certs = NULL;
  g_autoptr (KprX509Stack) roots = NULL;
  g_autoptr (GBytes) rebuilt = NULL;
  g_autoptr (KprX509Stack) again = NULL;
  g_autofree char *fp = NULL;

  if (!der)
    return;
  certs = kpr_est_certs_only_parse (g_bytes_get_data (der, NULL), g_bytes_get_size (der), &error);
  g_assert_no_error (error);
  g_assert_cmpint (sk_X509_num (certs), ==, 4);
  /* OldWithOld and NewWithNew are the self-signed ones. */
  roots = kpr_est_roots (certs);
  g_assert_cmpint (sk_X509_num (roots), ==, 2);
  fp = kpr_est_cert_fingerprint (sk_X509_value (roots, 0));
  g_assert_cmpuint (strlen (fp), ==, 32 * 3 - 1);

  rebuilt = kpr_est_certs_only_build (certs, &error);
  g_assert_no_error (error);
  again = kpr_est_certs_only_parse (g_bytes_get_data (rebuilt, NULL),
                                    g_bytes_get_size (rebuilt), &error);
  g_assert_no_error (error);
  g_assert_cmpint (sk_X509_num (again), ==, 4);
  g_assert_cmpint (X509_cmp (sk_X509_value (again, 3), sk_X509_value (certs, 3)), ==, 0);
}

/* The issued certificate of A.3 chains to NewWithNew only, and only while
 * the 2013 certificates were valid. */
static void
test_vectors_trust (void)
{
  g_autoptr (GBytes) resp = kpr_test_vector ("A3_simpleenroll_resp.p7");
  g_autoptr (GBytes) req = kpr_test_vector ("A3_simpleenroll_req.p10");
  g_autoptr (GBytes) bag = kpr_test_vector ("A1_cacerts_resp.p7");
  g_autoptr (X509) nwn = kpr_test_vector_pem ("a1_cert4.pem");
  g_autoptr (X509) owo = kpr_test_vector_pem ("a1_cert1.pem");
  g_autoptr (X509) issued_pem = kpr_test_vector_pem ("a3_issued.pem");
  g_autoptr (KprX509Stack) certs = NULL, all = NULL, ta_new = NULL, ta_old = NULL;
  g_autoptr (X509_REQ) csr = NULL;
  g_autoptr (EVP_PKEY) other = kpr_test_key_ec ();
  g_autoptr (GError) error = NULL;
  X509 *issued;
  EVP_PKEY *ours;

  if (!resp || !req || !bag || !nwn)
    return;
  certs = kpr_est_certs_only_parse (g_bytes_get_data (resp, NULL), g_bytes_get_size (resp),
                                    &error);
  g_assert_no_error (error);
  g_assert_cmpint (sk_X509_num (certs), ==, 1);
  issued = sk_X509_value (certs, 0);
  g_assert_cmpint (X509_cmp (issued, issued_pem), ==, 0);
  all = kpr_est_certs_only_parse (g_bytes_get_data (bag, NULL), g_bytes_get_size (bag), &error);
  g_assert_no_error (error);
  csr = kpr_est_csr_parse (g_bytes_get_data (req, NULL), g_bytes_get_size (req), &error);
  g_assert_no_error (error);
  ours = X509_REQ_get0_pubkey (csr);

  ta_new = kpr_test_stack (nwn, NULL);
  ta_old = kpr_test_stack (owo, NULL);

  /* Today: expired. */
  g_assert_false (kpr_est_verify_issued (issued, ours, ta_new, all, 0, &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_UNTRUSTED);
  g_clear_error (&error);
  /* In 2013 and to the right root: fine. */
  g_assert_true (kpr_est_verify_issued (issued, ours, ta_new, all, VECTOR_TIME, &error));
  g_assert_no_error (error);
  /* The old root does not vouch for it, even with the whole bag at hand. */
  g_assert_false (kpr_est_verify_issued (issued, ours, ta_old, all, VECTOR_TIME, &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_UNTRUSTED);
  g_clear_error (&error);
  /* Not our key: refused before the chain is even looked at. */
  g_assert_false (kpr_est_verify_issued (issued, other, ta_new, all, VECTOR_TIME, &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_KEY_MISMATCH);
  g_clear_error (&error);
  /* NewWithOld chains to OldWithOld (root key update, §4.1.3). */
  g_assert_true (kpr_est_verify_issued (sk_X509_value (all, 1), NULL, ta_old, NULL, VECTOR_TIME,
                                        &error));
  g_assert_no_error (error);
}

static void
test_vectors_csr (void)
{
  static const char *const names[] = { "A3_simpleenroll_req.p10", "A4_serverkeygen_req.p10", NULL };
  gsize i;

  for (i = 0; names[i]; i++)
    {
      g_autoptr (GBytes) der = kpr_test_vector (names[i]);
      g_autoptr (GError) error = NULL;
      g_autoptr (X509_REQ) req = NULL;
      g_autofree guint8 *bad = NULL;
      gsize len;

      if (!der)
        return;
      req = kpr_est_csr_parse (g_bytes_get_data (der, NULL), g_bytes_get_size (der), &error);
      g_assert_no_error (error);
      g_assert_nonnull (req);

      /* One flipped bit in the signature: proof of possession fails. */
      len = g_bytes_get_size (der);
      bad = g_memdup2 (g_bytes_get_data (der, NULL), len);
      bad[len - 5] ^= 0x01;
      g_assert_null (kpr_est_csr_parse (bad, len, &error));
      g_assert_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL);
    }
}

static void
assert_values (const KprEstCsrAttr *attr, const char *const *expected)
{
  g_assert_cmpstrv (attr->value_oids, expected);
}

static void
test_vectors_csrattrs (void)
{
  g_autoptr (GBytes) a2 = kpr_test_vector ("A2_csrattrs_resp.der");
  g_autoptr (GBytes) r8951 = kpr_test_vector ("RFC8951_s4_csrattrs.der");
  g_autoptr (KprEstCsrAttrs) attrs = NULL;
  g_autoptr (GError) error = NULL;
  const char *const v2[] = { "2.999.3", "2.999.4", NULL };
  const char *const vcurve[] = { "1.3.132.0.34", NULL };
  const char *const vext[] = { "1.3.6.1.1.1.1.22", NULL };
  const char *const none[] = { NULL };

  if (!a2 || !r8951)
    return;
  attrs = kpr_est_csrattrs_parse (g_bytes_get_data (a2, NULL), g_bytes_get_size (a2), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (attrs->attrs->len, ==, 6);
  g_assert_true (attrs->challenge_password);
  g_assert_true (kpr_est_csrattrs_has (attrs, "1.3.6.1.1.1.1.22"));
  g_assert_true (kpr_est_csrattrs_has (attrs, "1.3.36.3.3.2.8.1.1.11")); /* brainpoolP384r1 */
  g_assert_true (kpr_est_csrattrs_has (attrs, "2.16.840.1.101.3.4.2.2")); /* sha384 */
  g_assert_false (((KprEstCsrAttr *) g_ptr_array_index (attrs->attrs, 0))->is_attribute);
  assert_values (g_ptr_array_index (attrs->attrs, 3), v2);
  assert_values (g_ptr_array_index (attrs->attrs, 1), none);
  g_clear_pointer (&attrs, kpr_est_csrattrs_free);

  attrs = kpr_est_csrattrs_parse (g_bytes_get_data (r8951, NULL), g_bytes_get_size (r8951),
                                  &error);
  g_assert_no_error (error);
  g_assert_cmpuint (attrs->attrs->len, ==, 4);
  g_assert_true (attrs->challenge_password);
  g_assert_cmpstr (((KprEstCsrAttr *) g_ptr_array_index (attrs->attrs, 1))->oid, ==,
                   "1.2.840.10045.2.1");
  assert_values (g_ptr_array_index (attrs->attrs, 1), vcurve);
  g_assert_cmpstr (((KprEstCsrAttr *) g_ptr_array_index (attrs->attrs, 2))->oid, ==,
                   KPR_OID_EXTENSION_REQUEST);
  assert_values (g_ptr_array_index (attrs->attrs, 2), vext);
}

static void
test_csrattrs_build_and_malformed (void)
{
  const char *const oids[] = { KPR_OID_CHALLENGE_PASSWORD, "1.2.840.10045.4.3.2", NULL };
  static const guint8 empty[] = { 0x30, 0x00 };
  static const guint8 indefinite[] = { 0x30, 0x80, 0x06, 0x01, 0x2a, 0x00, 0x00 };
  static const guint8 truncated[] = { 0x30, 0x05, 0x06, 0x03, 0x2a };
  static const guint8 trailing[] = { 0x30, 0x00, 0x00 };
  static const guint8 wrong_entry[] = { 0x30, 0x03, 0x02, 0x01, 0x05 };
  static const guint8 attr_no_set[] = { 0x30, 0x07, 0x30, 0x05, 0x06, 0x01, 0x2a, 0x05, 0x00 };
  g_autoptr (GBytes) der = NULL;
  g_autoptr (KprEstCsrAttrs) attrs = NULL;
  g_autoptr (GError) error = NULL;

  der = kpr_est_csrattrs_build (oids, &error);
  g_assert_no_error (error);
  attrs = kpr_est_csrattrs_parse (g_bytes_get_data (der, NULL), g_bytes_get_size (der), &error);
  g_assert_no_error (error);
  g_assert_true (attrs->challenge_password);
  g_assert_cmpuint (attrs->attrs->len, ==, 2);
  g_clear_pointer (&attrs, kpr_est_csrattrs_free);

  attrs = kpr_est_csrattrs_parse (empty, sizeof empty, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (attrs->attrs->len, ==, 0);
  g_assert_false (attrs->challenge_password);

#define BAD(buf)                                                         \
  do                                                                     \
    {                                                                    \
      g_assert_null (kpr_est_csrattrs_parse (buf, sizeof buf, &error)); \
      g_assert_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL);             \
      g_clear_error (&error);                                            \
    }                                                                    \
  while (0)
  BAD (indefinite);
  BAD (truncated);
  BAD (trailing);
  BAD (wrong_entry);
  BAD (attr_no_set);
#undef BAD
  g_assert_null (kpr_est_csrattrs_parse (empty, 0, &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL);
}

/* The A.4 response, cut verbatim out of Appendix A (3-space indent). */
static char *
appendix_multipart (gsize *ret_len)
{
  g_autoptr (GBytes) txt = kpr_test_vector ("appendixA.txt");
  g_auto (GStrv) lines = NULL;
  GString *out;
  gboolean in = FALSE;
  gsize i;

  if (!txt)
    return NULL;
  lines = g_strsplit (g_bytes_get_data (txt, NULL), "\n", -1);
  out = g_string_new (NULL);
  for (i = 0; lines[i]; i++)
    {
      const char *l = lines[i];

      if (!in && strstr (l, "This is the preamble."))
        in = TRUE;
      if (!in)
        continue;
      g_string_append (out, g_str_has_prefix (l, "   ") ? l + 3 : l);
      g_string_append (out, "\r\n");
      if (strstr (l, "This is the epilogue."))
        break;
    }
  *ret_len = out->len;
  return g_string_free (out, FALSE);
}

static void
test_vectors_serverkeygen (void)
{
  g_autoptr (GBytes) cert_der = kpr_test_vector ("A4_serverkeygen_resp_cert.p7");
  g_autoptr (GError) error = NULL;
  g_autoptr (EVP_PKEY) key = NULL;
  g_autoptr (KprX509Stack) certs = NULL;
  g_autofree char *body = NULL;
  const char *ct = "multipart/mixed ; boundary=estServerExampleBoundary";
  gsize len = 0;
  char *close;

  if (!cert_der)
    return;
  body = appendix_multipart (&len);
  if (!body)
    return;
  g_assert_true (kpr_est_serverkeygen_parse (ct, (const guint8 *) body, len, &key, &certs,
                                             &error));
  g_assert_no_error (error);
  g_assert_cmpint (EVP_PKEY_get_base_id (key), ==, EVP_PKEY_RSA);
  g_assert_cmpint (sk_X509_num (certs), ==, 1);
  g_clear_pointer (&key, EVP_PKEY_free);
  g_clear_pointer (&certs, kpr_x509_stack_free);

  /* Wrong boundary, wrong type, missing boundary. */
  g_assert_false (kpr_est_serverkeygen_parse ("multipart/mixed; boundary=other",
                                              (const guint8 *) body, len, &key, &certs, &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL);
  g_clear_error (&error);
  g_assert_false (kpr_est_serverkeygen_parse ("application/pkcs7-mime", (const guint8 *) body,
                                              len, &key, &certs, &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL);
  g_clear_error (&error);
  g_assert_false (kpr_est_serverkeygen_parse ("multipart/mixed", (const guint8 *) body, len,
                                              &key, &certs, &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL);
  g_clear_error (&error);

  /* Truncated before the closing delimiter. */
  close = strstr (body, "--estServerExampleBoundary--");
  g_assert_nonnull (close);
  g_assert_false (kpr_est_serverkeygen_parse (ct, (const guint8 *) body, (gsize) (close - body),
                                              &key, &certs, &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL);
  g_assert_null (key);
  g_assert_null (certs);
}

static void
test_serverkeygen_roundtrip (void)
{
  g_autoptr (EVP_PKEY) ca_key = kpr_test_key_ec ();
  g_autoptr (EVP_PKEY) key = kpr_test_key_ec ();
  g_autoptr (EVP_PKEY) other = kpr_test_key_ec ();
  g_autoptr (X509) ca = kpr_test_cert (ca_key, "CA", NULL, NULL, TRUE, NULL, NULL, -60, 3600);
  g_autoptr (X509) cert = kpr_test_cert (key, "alice", ca, ca_key, FALSE, NULL, NULL, -60, 3600);
  g_autoptr (KprX509Stack) certs = kpr_test_stack (cert, NULL);
  g_autoptr (EVP_PKEY) got_key = NULL;
  g_autoptr (KprX509Stack) got = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *ct = NULL, *body = NULL;
  gsize len = 0;

  body = kpr_est_serverkeygen_build (key, certs, &ct, &len, &error);
  g_assert_no_error (error);
  g_assert_true (kpr_est_serverkeygen_parse (ct, (const guint8 *) body, len, &got_key, &got,
                                             &error));
  g_assert_no_error (error);
  g_assert_cmpint (EVP_PKEY_eq (got_key, key), ==, 1);
  kpr_memory_erase (body, len);
  g_clear_pointer (&body, g_free);
  g_clear_pointer (&ct, g_free);

  /* A key that does not belong to the certificate. */
  body = kpr_est_serverkeygen_build (other, certs, &ct, &len, &error);
  g_assert_no_error (error);
  g_clear_pointer (&got_key, EVP_PKEY_free);
  g_clear_pointer (&got, kpr_x509_stack_free);
  g_assert_false (kpr_est_serverkeygen_parse (ct, (const guint8 *) body, len, &got_key, &got,
                                              &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_KEY_MISMATCH);
  kpr_memory_erase (body, len);
}

static void
assert_b64 (const char *in, const char *expected_hex_or_null)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) out = kpr_est_base64_decode (in, strlen (in), &error);

  if (!expected_hex_or_null)
    {
      g_assert_null (out);
      g_assert_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL);
      return;
    }
  g_assert_no_error (error);
  {
    GString *hex = g_string_new (NULL);
    gsize i, n;
    const guint8 *d = g_bytes_get_data (out, &n);

    for (i = 0; i < n; i++)
      g_string_append_printf (hex, "%02x", d[i]);
    g_assert_cmpstr (hex->str, ==, expected_hex_or_null);
    g_string_free (hex, TRUE);
  }
}

static void
test_base64_edges (void)
{
  g_autofree char *big = NULL;
  g_autoptr (GError) error = NULL;
  guint8 data[200];
  gsize n;

  assert_b64 ("TWFu", "4d616e");
  assert_b64 ("TW\r\nF u\t", "4d616e");
  assert_b64 ("  TWE=\n", "4d61");
  assert_b64 ("TQ==\r\n", "4d");
  assert_b64 ("TQ", "4d");           /* missing padding tolerated */
  assert_b64 ("TWE", "4d61");
  assert_b64 ("", NULL);             /* empty */
  assert_b64 (" \r\n\t", NULL);      /* whitespace only */
  assert_b64 ("T", NULL);            /* a lone character */
  assert_b64 ("TQ=", NULL);          /* half padding */
  assert_b64 ("TQ==TQ==", NULL);     /* data after padding */
  assert_b64 ("=TWFu", NULL);
  assert_b64 ("TW=u", NULL);
  assert_b64 ("TWFu!", NULL);        /* garbage */
  assert_b64 ("TWFu\x80", NULL);
  assert_b64 ("TW-_", NULL);         /* base64url is not EST's alphabet */
  assert_b64 ("<html>", NULL);

  big = g_strnfill (KPR_EST_BODY_MAX + 4, 'A');
  g_assert_null (kpr_est_base64_decode (big, KPR_EST_BODY_MAX + 4, &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL);
  g_clear_error (&error);

  for (n = 0; n < sizeof data; n++)
    data[n] = (guint8) g_random_int ();
  for (n = 0; n <= sizeof data; n++)
    {
      g_autofree char *enc = kpr_est_base64_encode (data, n);
      g_autofree char *flat = kpr_est_base64_encode_flat (data, n);
      g_autofree char *glib = g_base64_encode (data, n);
      g_autoptr (GBytes) dec = NULL;

      /* One line and a final LF for what the client sends; no line break
       * at all for what certkeeper-ca sends (decoders that do not skip
       * them exist: strongSwan's) — both exactly RFC 4648 base64. */
      g_assert_true (g_str_has_suffix (enc, "\n"));
      g_assert_null (strchr (flat, '\n'));
      g_assert_null (strchr (flat, '\r'));
      g_assert_cmpstr (flat, ==, glib);
      g_assert_cmpuint (strlen (enc), ==, strlen (flat) + 1);
      g_assert_true (strncmp (enc, flat, strlen (flat)) == 0);
      if (n == 0)
        continue;
      dec = kpr_est_base64_decode (enc, strlen (enc), &error);
      g_assert_no_error (error);
      g_assert_cmpmem (g_bytes_get_data (dec, NULL), g_bytes_get_size (dec), data, n);
    }
}

static void
test_certs_only_malformed (void)
{
  static const guint8 garbage[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
  g_autoptr (GBytes) der = kpr_test_vector ("A1_cacerts_resp.p7");
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *longer = NULL;
  gsize n;

  g_assert_null (kpr_est_certs_only_parse (garbage, sizeof garbage, &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL);
  g_clear_error (&error);
  g_assert_null (kpr_est_certs_only_parse (garbage, 0, &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL);
  g_clear_error (&error);
  if (!der)
    return;
  n = g_bytes_get_size (der);
  longer = g_malloc0 (n + 1);
  memcpy (longer, g_bytes_get_data (der, NULL), n);
  g_assert_null (kpr_est_certs_only_parse (longer, n + 1, &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL);
  g_clear_error (&error);
  g_assert_null (kpr_est_certs_only_parse (longer, n - 1, &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL);
}

static void
test_csr_build (void)
{
  g_autoptr (EVP_PKEY) ca_key = kpr_test_key_ec ();
  g_autoptr (EVP_PKEY) old_key = kpr_test_key_ec ();
  g_autoptr (EVP_PKEY) new_key = kpr_test_key_rsa ();
  g_autoptr (X509) ca = kpr_test_cert (ca_key, "CA", NULL, NULL, TRUE, NULL, NULL, -60, 3600);
  g_autoptr (X509) current = kpr_test_cert (old_key, "alice", ca, ca_key, FALSE,
                                            "alice.example", NULL, -60, 3600);
  g_autoptr (X509_REQ) req = NULL;
  g_autoptr (X509_REQ) parsed = NULL;
  g_autoptr (GBytes) der = NULL;
  g_autoptr (GError) error = NULL;
  GENERAL_NAMES *a, *b;
  STACK_OF (X509_EXTENSION) *exts;
  int idx;

  req = kpr_est_csr_new_renewal (new_key, current, "c2VjcmV0", &error);
  g_assert_no_error (error);
  der = kpr_est_csr_to_der (req, &error);
  g_assert_no_error (error);
  parsed = kpr_est_csr_parse (g_bytes_get_data (der, NULL), g_bytes_get_size (der), &error);
  g_assert_no_error (error);
  g_assert_cmpint (X509_NAME_cmp (X509_REQ_get_subject_name (parsed),
                                  X509_get_subject_name (current)), ==, 0);
  g_assert_cmpint (EVP_PKEY_eq (X509_REQ_get0_pubkey (parsed), new_key), ==, 1);
  g_assert_cmpint (X509_REQ_get_signature_nid (parsed), ==, NID_sha256WithRSAEncryption);
  idx = X509_REQ_get_attr_by_NID (parsed, NID_pkcs9_challengePassword, -1);
  g_assert_cmpint (idx, >=, 0);

  exts = X509_REQ_get_extensions (parsed);
  b = X509V3_get_d2i (exts, NID_subject_alt_name, NULL, NULL);
  a = X509_get_ext_d2i (current, NID_subject_alt_name, NULL, NULL);
  g_assert_nonnull (a);
  g_assert_nonnull (b);
  g_assert_cmpint (sk_GENERAL_NAME_num (a), ==, sk_GENERAL_NAME_num (b));
  g_assert_cmpint (GENERAL_NAME_cmp (sk_GENERAL_NAME_value (a, 0), sk_GENERAL_NAME_value (b, 0)),
                   ==, 0);
  GENERAL_NAMES_free (a);
  GENERAL_NAMES_free (b);
  sk_X509_EXTENSION_pop_free (exts, X509_EXTENSION_free);
}

static void
test_challenge_json (void)
{
  static const char *const bad[] = {
    "", "[]", "null", "{}", "{\"channel\":\"sms\",\"destination\":\"x\"}",
    "{\"channel\":\"sms\",\"destination\":\"x\",\"expires_in\":\"300\"}",
    "{\"channel\":\"sms\",\"destination\":\"x\",\"expires_in\":0}",
    "{\"channel\":\"sms\",\"destination\":\"x\",\"expires_in\":1e9}",
    "{\"channel\":\"s m s\",\"destination\":\"x\",\"expires_in\":30}",
    "{\"channel\":\"sms\",\"destination\":\"a\\u0007b\",\"expires_in\":30}",
    "{\"channel\":\"sms\",\"destination\":5,\"expires_in\":30}",
    "{\"channel\":\"sms\",\"destination\":\"x\",\"expires_in\":30",
    /* GScanner octal escape: would be invalid UTF-8 (found by fuzzing) */
    "{\"channel\":\"sms\",\"destination\":\"a\\333\",\"expires_in\":30}", NULL
  };
  const char *good = "{\"channel\":\"sms\",\"destination\":\"+1\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2"
                     "\xe2\x80\xa2\xe2\x80\xa2" "0100\",\"expires_in\":300,\"extra\":[1,2]}";
  g_autoptr (KprEstChallenge) c = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *deep = NULL;
  gsize i;

  c = kpr_est_challenge_parse (good, strlen (good), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (c->channel, ==, "sms");
  g_assert_cmpuint (c->expires_in, ==, 300);
  g_assert_true (g_str_has_prefix (c->destination, "+1"));

  for (i = 0; bad[i]; i++)
    {
      g_assert_null (kpr_est_challenge_parse (bad[i], strlen (bad[i]), &error));
      g_assert_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL);
      g_clear_error (&error);
    }
  deep = g_strnfill (3000, '[');
  g_assert_null (kpr_est_challenge_parse (deep, 3000, &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/codec/vectors/base64", test_vectors_base64);
  g_test_add_func ("/codec/vectors/cacerts", test_vectors_cacerts);
  g_test_add_func ("/codec/vectors/trust", test_vectors_trust);
  g_test_add_func ("/codec/vectors/csr", test_vectors_csr);
  g_test_add_func ("/codec/vectors/csrattrs", test_vectors_csrattrs);
  g_test_add_func ("/codec/vectors/serverkeygen", test_vectors_serverkeygen);
  g_test_add_func ("/codec/csrattrs/build-malformed", test_csrattrs_build_and_malformed);
  g_test_add_func ("/codec/serverkeygen/roundtrip", test_serverkeygen_roundtrip);
  g_test_add_func ("/codec/base64/edges", test_base64_edges);
  g_test_add_func ("/codec/certs-only/malformed", test_certs_only_malformed);
  g_test_add_func ("/codec/csr/build", test_csr_build);
  g_test_add_func ("/codec/challenge/json", test_challenge_json);
  return g_test_run ();
}
