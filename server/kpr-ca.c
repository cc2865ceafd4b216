/* kpr-ca.c — the CA directory once it exists: loading it, and everything
 * that signs (user certificates and, for kpr-crl.c, the CRL).  Creating a
 * CA is kpr-ca-init.c.
 *
 * The CA key is touched only by ca_sign_context(): either the key read
 * from ca.key or the token-backed EVP_PKEY of kpr-ca-token.c, which signs
 * on the PKCS#11 token; nothing else knows the difference.  `serve` signs
 * certificates in its writer thread and CRLs in its publisher thread, so
 * every signature is taken under ca->sign_lock (a PKCS#11 session is not
 * for two threads at once).
 */
#include "config.h"

#include "kpr-server-private.h"
#include "kpr-est-codec.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ASN1_OCTET_STRING, ASN1_OCTET_STRING_free)

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

gboolean
kpr_ossl_fail (GError **error, int code, const char *what)
{
  g_autofree char *detail = kpr_ossl_error_string ();

  g_set_error (error, KPR_ERROR, code, "%s: %s", what, detail);
  return FALSE;
}

char *
kpr_ca_path (const char *dir, const char *name)
{
  return g_build_filename (dir, name, NULL);
}

gint64
kpr_now (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

EVP_PKEY *
kpr_key_generate (const char *type, int bits, GError **error)
{
  EVP_PKEY *key;

  if (g_str_equal (type, "RSA"))
    key = EVP_PKEY_Q_keygen (NULL, NULL, "RSA", (size_t) bits);
  else
    key = EVP_PKEY_Q_keygen (NULL, NULL, "EC", type);
  if (!key)
    kpr_ossl_fail (error, KPR_ERROR_INTERNAL, "Cannot generate a key");
  return key;
}

gboolean
kpr_serial_random (BIGNUM **ret_bn, char **ret_hex, GError **error)
{
  guint8 bytes[16];
  g_autoptr (BIGNUM) bn = NULL;
  char *hex;

  if (RAND_bytes (bytes, sizeof bytes) != 1)
    return kpr_ossl_fail (error, KPR_ERROR_INTERNAL, "No randomness for a serial number");
  /* Positive (RFC 5280) and always 16 bytes long, so every serial prints
   * the same width. */
  bytes[0] = (bytes[0] & 0x7f) | 0x40;
  bn = BN_bin2bn (bytes, sizeof bytes, NULL);
  if (!bn || !(hex = BN_bn2hex (bn)))
    return kpr_ossl_fail (error, KPR_ERROR_INTERNAL, "Cannot make a serial number");
  *ret_hex = g_strdup (hex);
  OPENSSL_free (hex);
  *ret_bn = g_steal_pointer (&bn);
  return TRUE;
}

char *
kpr_serial_normalize (const char *text, GError **error)
{
  g_autoptr (GString) clean = g_string_new (NULL);
  g_autoptr (BIGNUM) bn = NULL;
  char *hex;
  char *ret;

  for (const char *p = text; *p; p++)
    {
      if (*p == ':' || *p == ' ')
        continue;
      if (!g_ascii_isxdigit (*p) || clean->len >= 64)
        {
          g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT,
                       "'%s' is not a serial number (hexadecimal, as 'openssl x509 -serial' prints it)",
                       text);
          return NULL;
        }
      g_string_append_c (clean, g_ascii_toupper (*p));
    }
  if (clean->len == 0 || !BN_hex2bn (&bn, clean->str) || BN_is_zero (bn))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT, "'%s' is not a serial number", text);
      return NULL;
    }
  hex = BN_bn2hex (bn);
  ret = g_strdup (hex);
  OPENSSL_free (hex);
  return ret;
}

/* The one place the CA key signs; see the comment at the top.  Called and
 * used with ca->sign_lock held. */
static EVP_MD_CTX *
ca_sign_context (KprCa *ca, GError **error)
{
  g_autoptr (EVP_MD_CTX) ctx = NULL;

  if (!ca->key)
    {
      /* A programming error: the command did not call kpr_ca_unlock(). */
      g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL,
                   "The CA key on token %s was not unlocked", ca->token_uri);
      return NULL;
    }
  ctx = EVP_MD_CTX_new ();
  if (!ctx || EVP_DigestSignInit_ex (ctx, NULL, "SHA256", NULL, NULL, ca->key, NULL) != 1)
    {
      kpr_ossl_fail (error, KPR_ERROR_INTERNAL, "The CA key cannot sign");
      return NULL;
    }
  return g_steal_pointer (&ctx);
}

gboolean
kpr_ca_sign_cert (KprCa *ca, X509 *cert, GError **error)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&ca->sign_lock);
  g_autoptr (EVP_MD_CTX) ctx = ca_sign_context (ca, error);

  if (!ctx)
    return FALSE;
  if (X509_sign_ctx (cert, ctx) <= 0)
    return kpr_ossl_fail (error, KPR_ERROR_INTERNAL, "Signing a certificate failed");
  return TRUE;
}

gboolean
kpr_ca_sign_crl (KprCa *ca, X509_CRL *crl, GError **error)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&ca->sign_lock);
  g_autoptr (EVP_MD_CTX) ctx = ca_sign_context (ca, error);

  if (!ctx)
    return FALSE;
  if (X509_CRL_sign_ctx (crl, ctx) <= 0)
    return kpr_ossl_fail (error, KPR_ERROR_INTERNAL, "Signing the CRL failed");
  return TRUE;
}

X509_EXTENSION *
kpr_ca_make_ext (X509 *cert, X509 *issuer, int nid, const char *value, GError **error)
{
  X509V3_CTX ctx;
  X509_EXTENSION *ext;

  X509V3_set_ctx (&ctx, issuer, cert, NULL, NULL, 0);
  ext = X509V3_EXT_nconf_nid (NULL, &ctx, nid, value);
  if (!ext)
    kpr_ossl_fail (error, KPR_ERROR_INTERNAL, "Cannot make a certificate extension");
  return ext;
}

gboolean
kpr_ca_add_ext (X509 *cert, X509 *issuer, int nid, const char *value, GError **error)
{
  g_autoptr (X509_EXTENSION) ext = kpr_ca_make_ext (cert, issuer, nid, value, error);

  if (!ext || !X509_add_ext (cert, ext, -1))
    return ext ? kpr_ossl_fail (error, KPR_ERROR_INTERNAL, "Cannot add a certificate extension")
               : FALSE;
  return TRUE;
}

X509 *
kpr_cert_skeleton (X509_NAME *issuer, const char *cn, const BIGNUM *serial, gint64 not_before,
                   gint64 not_after, GError **error)
{
  g_autoptr (X509) cert = X509_new ();
  g_autoptr (X509_NAME) subject = X509_NAME_new ();

  if (!cert || !subject || !X509_set_version (cert, X509_VERSION_3)
      || !BN_to_ASN1_INTEGER (serial, X509_get_serialNumber (cert))
      || !X509_NAME_add_entry_by_txt (subject, "CN", MBSTRING_UTF8, (const unsigned char *) cn,
                                      -1, -1, 0)
      || !X509_set_subject_name (cert, subject)
      || !X509_set_issuer_name (cert, issuer ? issuer : subject)
      || !ASN1_TIME_set (X509_getm_notBefore (cert), (time_t) not_before)
      || !ASN1_TIME_set (X509_getm_notAfter (cert), (time_t) not_after))
    {
      kpr_ossl_fail (error, KPR_ERROR_INTERNAL, "Cannot build a certificate");
      return NULL;
    }
  return g_steal_pointer (&cert);
}

/* The extensions every user certificate shares, made once: building them
 * from their text form for each certificate was a measurable part of a
 * request (bench/RESULTS.md). */
static gboolean
prepare_profile (KprCa *ca, GError **error)
{
  if (!(ca->ext_bc = kpr_ca_make_ext (NULL, ca->cert, NID_basic_constraints,
                                      "critical,CA:FALSE", error))
      || !(ca->ext_ku_rsa = kpr_ca_make_ext (NULL, ca->cert, NID_key_usage,
                                             "critical,digitalSignature,keyEncipherment", error))
      || !(ca->ext_ku_ec = kpr_ca_make_ext (NULL, ca->cert, NID_key_usage,
                                            "critical,digitalSignature,keyAgreement", error))
      || !(ca->ext_eku = kpr_ca_make_ext (NULL, ca->cert, NID_ext_key_usage, "clientAuth", error))
      || !(ca->ext_aki = kpr_ca_make_ext (NULL, ca->cert, NID_authority_key_identifier,
                                          "keyid:always", error)))
    return FALSE;
  return TRUE;
}

X509 *
kpr_ca_make_user_cert (KprCa *ca, const char *username, const KprPubkey *pub,
                       const BIGNUM *serial, gint64 now, GError **error)
{
  g_autoptr (X509) cert = NULL;
  g_autoptr (ASN1_OCTET_STRING) ski = NULL;
  unsigned char ski_hash[EVP_MAX_MD_SIZE];
  unsigned int ski_len = 0;
  gint64 not_after = now + ca->lifetime;
  gint64 ca_end = kpr_ossl_time_unix (X509_get0_notAfter (ca->cert));

  /* Never outlive the CA: clients would reject the chain anyway. */
  if (ca_end > 0 && not_after > ca_end)
    not_after = ca_end;
  /* A minute of slack for clients whose clock runs a little behind. */
  cert = kpr_cert_skeleton (X509_get_subject_name (ca->cert), username, serial, now - 60,
                            not_after, error);
  if (!cert)
    return NULL;
  /* The request's SubjectPublicKeyInfo as it came, not re-encoded. */
  if (!kpr_pubkey_set_on_cert (pub, cert))
    {
      kpr_ossl_fail (error, KPR_ERROR_INTERNAL, "Cannot build a certificate");
      return NULL;
    }
  /* RFC 5280 §4.2.1.2 method 1: SHA-1 of the key's bits. */
  if (!EVP_Digest (pub->bits, (size_t) pub->bits_len, ski_hash, &ski_len, EVP_sha1 (), NULL)
      || !(ski = ASN1_OCTET_STRING_new ()) || !ASN1_OCTET_STRING_set (ski, ski_hash, (int) ski_len))
    {
      kpr_ossl_fail (error, KPR_ERROR_INTERNAL, "Cannot make the subject key identifier");
      return NULL;
    }
  if (!X509_add_ext (cert, ca->ext_bc, -1)
      || !X509_add_ext (cert, EVP_PKEY_is_a (pub->key, "RSA") ? ca->ext_ku_rsa : ca->ext_ku_ec, -1)
      || !X509_add_ext (cert, ca->ext_eku, -1)
      || X509_add1_ext_i2d (cert, NID_subject_key_identifier, ski, 0, 0) != 1
      || !X509_add_ext (cert, ca->ext_aki, -1))
    {
      kpr_ossl_fail (error, KPR_ERROR_INTERNAL, "Cannot add a certificate extension");
      return NULL;
    }
  if (!kpr_ca_sign_cert (ca, cert, error))
    return NULL;
  return g_steal_pointer (&cert);
}

/* ---- opening a CA directory ------------------------------------------------ */

/* [est] csrattrs= (OIDs, dotted or by name) and require-binding=: what
 * /csrattrs publishes (RFC 7030 §4.5), built once here, and whether every
 * request must carry the tls-unique of its connection (§3.5), in which
 * case challengePassword is published too (§4.5.2). */
static gboolean
load_est_config (KprCa *ca, GKeyFile *kf, const char *path, GError **error)
{
  g_auto (GStrv) names = g_key_file_get_string_list (kf, "est", "csrattrs", NULL, NULL);
  g_autoptr (GPtrArray) oids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) local = NULL;

  ca->require_binding = g_key_file_get_boolean (kf, "est", "require-binding", &local);
  if (local && !g_error_matches (local, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND)
      && !g_error_matches (local, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_GROUP_NOT_FOUND))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT,
                   "%s: require-binding must be true or false (%s)", path, local->message);
      return FALSE;
    }
  for (gsize i = 0; names && names[i]; i++)
    {
      const char *name = g_strstrip (names[i]);
      ASN1_OBJECT *obj;
      char dotted[128];

      if (!name[0])
        continue;
      obj = OBJ_txt2obj (name, 0);
      if (!obj || OBJ_obj2txt (dotted, sizeof dotted, obj, 1) <= 0)
        {
          ASN1_OBJECT_free (obj);
          g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT,
                       "%s: csrattrs: '%s' is not an object identifier (dotted, or a name "
                       "OpenSSL knows such as challengePassword)", path, name);
          return FALSE;
        }
      ASN1_OBJECT_free (obj);
      if (!g_ptr_array_find_with_equal_func (oids, dotted, g_str_equal, NULL))
        g_ptr_array_add (oids, g_strdup (dotted));
    }
  if (ca->require_binding
      && !g_ptr_array_find_with_equal_func (oids, KPR_OID_CHALLENGE_PASSWORD, g_str_equal, NULL))
    g_ptr_array_add (oids, g_strdup (KPR_OID_CHALLENGE_PASSWORD));
  if (oids->len == 0)
    return TRUE;
  g_ptr_array_add (oids, NULL);
  ca->csrattrs = kpr_est_csrattrs_build ((const char *const *) oids->pdata, error);
  return ca->csrattrs != NULL;
}

static gboolean
load_config (KprCa *ca, GError **error)
{
  g_autofree char *path = kpr_ca_path (ca->dir, "ca.conf");
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;
  g_autofree char *life = NULL;
  g_autofree char *approval = NULL;
  g_autofree char *db = NULL;

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, &local))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_NOT_FOUND,
                   "Cannot read %s (%s); is %s a CA made with 'certkeeper-ca init'?", path,
                   local->message, ca->dir);
      return FALSE;
    }
  ca->lifetime = KPR_CA_DEFAULT_LIFETIME;
  ca->approval = KPR_APPROVAL_AUTO;
  life = g_key_file_get_string (kf, "ca", "lifetime", NULL);
  approval = g_key_file_get_string (kf, "ca", "approval", NULL);
  if (life && !kpr_parse_duration (life, &ca->lifetime, error))
    {
      g_prefix_error (error, "%s: ", path);
      return FALSE;
    }
  if (approval && g_str_equal (approval, "manual"))
    ca->approval = KPR_APPROVAL_MANUAL;
  else if (approval && !g_str_equal (approval, "auto"))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT,
                   "%s: approval must be 'auto' or 'manual', not '%s'", path, approval);
      return FALSE;
    }
  if (!load_est_config (ca, kf, path, error))
    return FALSE;
  db = g_key_file_get_string (kf, "ca", "db", NULL);
  if (!ca->db_location)
    ca->db_location = db && db[0] ? g_steal_pointer (&db) : kpr_ca_path (ca->dir, "ca.db");
  ca->token_uri = g_key_file_get_string (kf, "ca", "token", NULL);
  ca->token_module = g_key_file_get_string (kf, "ca", "token-module", NULL);
  if (ca->token_uri)
    {
      g_autofree char *id = g_key_file_get_string (kf, "ca", "key-id", NULL);
      if (!id || !(ca->key_id = kpr_hex_decode (id)))
        {
          g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT,
                       "%s: token= needs key-id= with the CA key's CKA_ID in hex", path);
          return FALSE;
        }
    }
  return TRUE;
}

char *
kpr_ca_fingerprint (X509 *cert)
{
  unsigned char *der = NULL;
  int len = i2d_X509 (cert, &der);
  char *hex = len > 0 ? g_compute_checksum_for_data (G_CHECKSUM_SHA256, der, (gsize) len) : NULL;

  OPENSSL_free (der);
  return hex;
}

gboolean
kpr_ca_db_owner (KprCaDb *db, char **ret_fingerprint, GError **error)
{
  g_autoptr (KprCaDbStmt) get = kpr_ca_db_prepare (
    db, "SELECT value FROM meta WHERE key = 'ca_sha256'", error);
  KprCaDbStep rc;

  *ret_fingerprint = NULL;
  if (!get)
    return FALSE;
  rc = kpr_ca_db_step (get, "reading the CA of the database", error);
  if (rc == KPR_CA_DB_ROW)
    *ret_fingerprint = g_strdup (kpr_ca_db_column_text (get, 0));
  return rc != KPR_CA_DB_FAILED;
}

gboolean
kpr_ca_claim_db (KprCa *ca, KprCaDb *db, gboolean create, GError **error)
{
  g_autoptr (KprCaDbStmt) ins = NULL;
  g_autofree char *mine = kpr_ca_fingerprint (ca->cert);
  g_autofree char *theirs = NULL;

  if (!kpr_ca_db_owner (db, &theirs, error))
    return FALSE;
  if (theirs)
    {
      if (!create && g_str_equal (theirs, mine))
        return TRUE;
      /* A new CA never takes over a database that has one. */
      g_set_error (error, KPR_ERROR, KPR_ERROR_EXISTS,
                   "The database %s belongs to %s CA (its ca.pem has SHA-256 %.16s…); give "
                   "each CA a database of its own",
                   kpr_ca_db_is_postgresql (ca->db_location) ? "given with --db" : ca->db_location,
                   create ? "an existing" : "another", theirs);
      return FALSE;
    }
  /* New, or made before this check: claimed by the CA that opens it. */
  ins = kpr_ca_db_prepare (db, "INSERT INTO meta(key, value) VALUES ('ca_sha256', ?)", error);
  if (!ins)
    return FALSE;
  kpr_ca_db_bind_text (ins, 1, mine);
  return kpr_ca_db_run (ins, "recording the CA", error);
}

static X509 *
read_cert (const char *path, GError **error)
{
  g_autoptr (BIO) bio = BIO_new_file (path, "r");
  X509 *cert;

  if (!bio)
    {
      ERR_clear_error ();
      g_set_error (error, KPR_ERROR, KPR_ERROR_NOT_FOUND, "Cannot read the CA certificate %s",
                   path);
      return NULL;
    }
  if (!(cert = PEM_read_bio_X509 (bio, NULL, NULL, NULL)))
    kpr_ossl_fail (error, KPR_ERROR_BAD_INPUT, "The CA certificate is damaged");
  return cert;
}

static gboolean
kpr_ca_load (KprCa *ca, GError **error)
{
  g_autofree char *key_path = kpr_ca_path (ca->dir, "ca.key");
  g_autofree char *pem_path = kpr_ca_path (ca->dir, "ca.pem");

  if (!load_config (ca, error) || !(ca->cert = read_cert (pem_path, error)))
    return FALSE;
  /* A key on a token comes in kpr_ca_unlock(). */
  if (!ca->token_uri)
    {
      g_autoptr (BIO) kb = BIO_new_file (key_path, "r");

      if (!kb)
        {
          ERR_clear_error ();
          g_set_error (error, KPR_ERROR, KPR_ERROR_NOT_FOUND, "Cannot read the CA key %s",
                       key_path);
          return FALSE;
        }
      if (!(ca->key = PEM_read_bio_PrivateKey (kb, NULL, NULL, NULL)))
        return kpr_ossl_fail (error, KPR_ERROR_BAD_INPUT, "The CA key is damaged");
      if (X509_check_private_key (ca->cert, ca->key) != 1)
        return kpr_ossl_fail (error, KPR_ERROR_KEY_MISMATCH, "ca.key does not belong to ca.pem");
    }
  return prepare_profile (ca, error)
         && (ca->db = kpr_ca_db_open (ca->db_location, FALSE, error))
         && kpr_ca_claim_db (ca, ca->db, FALSE, error);
}

KprCa *
kpr_ca_new_empty (const char *dir, const char *db)
{
  KprCa *ca = g_new0 (KprCa, 1);

  ca->dir = g_strdup (dir);
  ca->db_location = g_strdup (db);
  g_mutex_init (&ca->sign_lock);
  return ca;
}

KprCa *
kpr_ca_open (const char *dir, const char *db, GError **error)
{
  g_autoptr (KprCa) ca = kpr_ca_new_empty (dir, db);

  if (!kpr_ca_load (ca, error))
    return NULL;
  return g_steal_pointer (&ca);
}

const char *
kpr_ca_get_token_uri (KprCa *ca)
{
  return ca->token_uri;
}

gboolean
kpr_ca_unlock (KprCa *ca, KprPinFunc pin_func, gpointer pin_data, GError **error)
{
  if (ca->key || !ca->token_uri)
    return TRUE;
  return kpr_ca_token_open (ca, pin_func, pin_data, error);
}

void
kpr_ca_free (KprCa *ca)
{
  if (!ca)
    return;
  g_clear_pointer (&ca->db, kpr_ca_db_close);
  /* The token-backed key before the context that owns its module. */
  EVP_PKEY_free (ca->key);
  kpr_token_ctx_free (ca->tokens);
  g_clear_pointer (&ca->key_id, g_bytes_unref);
  g_free (ca->token_uri);
  g_free (ca->token_module);
  g_clear_pointer (&ca->csrattrs, g_bytes_unref);
  X509_EXTENSION_free (ca->ext_bc);
  X509_EXTENSION_free (ca->ext_ku_rsa);
  X509_EXTENSION_free (ca->ext_ku_ec);
  X509_EXTENSION_free (ca->ext_eku);
  X509_EXTENSION_free (ca->ext_aki);
  X509_free (ca->cert);
  g_mutex_clear (&ca->sign_lock);
  g_free (ca->db_location);
  g_free (ca->dir);
  g_free (ca);
}

gint64
kpr_ca_get_lifetime (KprCa *ca)
{
  return ca->lifetime;
}

KprApproval
kpr_ca_get_approval (KprCa *ca)
{
  return ca->approval;
}

gboolean
kpr_ca_prepare_profile (KprCa *ca, GError **error)
{
  return prepare_profile (ca, error);
}
