/* kpr-server-private.h — what the files of server/ share among themselves
 * (and with the fuzz targets); not part of the face. */
#pragma once

#include <sqlite3.h>
#include <openssl/x509.h>

#include "kpr-server.h"

G_BEGIN_DECLS

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509_CRL, X509_CRL_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509_EXTENSION, X509_EXTENSION_free)

/* Policy constants (DESIGN §9). */
#define KPR_WORD_TTL 300          /* a secret word lives five minutes */
#define KPR_WORD_LEN 8            /* characters of a secret word */
#define KPR_CODE_LEN 16           /* characters of an enrollment code */
#define KPR_MAX_TRIES 5           /* wrong words before the lockout */
#define KPR_LOCK_SECONDS 900      /* how long a lockout lasts */
#define KPR_WORDS_PER_HOUR 10     /* text messages per user and hour */
#define KPR_RETRY_AFTER 30        /* seconds, for 202 answers */
#define KPR_NAME_MAX 64
#define KPR_PASSWORD_MAX 256

struct _KprCa {
  char *dir;
  sqlite3 *db;
  EVP_PKEY *key;  /* used only through kpr_ca_sign_*; NULL until unlocked */
  X509 *cert;
  /* CA key on a PKCS#11 token (kpr-ca-token.c); all NULL for ca.key. */
  char *token_uri;
  char *token_module;
  GBytes *key_id;
  KprTokenCtx *tokens; /* the process's one context; freed after @key */
  KprToken *token;
  gint64 lifetime;
  KprApproval approval;
};

/* ---- kpr-store.c: SQLite ---------------------------------------------- */
sqlite3 *kpr_store_open (const char *path, gboolean create, GError **error);
gboolean kpr_store_exec (sqlite3 *db, const char *sql, GError **error);
sqlite3_stmt *kpr_store_prepare (sqlite3 *db, const char *sql, GError **error);
/* BEGIN IMMEDIATE: takes the write lock up front so two writers never
 * deadlock half-way; busy_timeout makes the other one wait. */
gboolean kpr_store_begin (sqlite3 *db, GError **error);
gboolean kpr_store_commit (sqlite3 *db, GError **error);
void kpr_store_rollback (sqlite3 *db);
/* Sets @error from the db's last error; returns FALSE. */
gboolean kpr_store_fail (sqlite3 *db, const char *what, GError **error);
gboolean kpr_store_audit (sqlite3 *db, const char *actor, const char *action,
                          const char *detail, const char *peer, GError **error);
gint64 kpr_store_next_crl_number (sqlite3 *db, GError **error);

/* ---- kpr-ca.c: keys, certificates, CRL -------------------------------- */
gboolean kpr_ca_load (KprCa *ca, GError **error);
/* The only places that use the CA key; a PKCS#11 key plugs in here. */
gboolean kpr_ca_sign_cert (KprCa *ca, X509 *cert, GError **error);
gboolean kpr_ca_sign_crl (KprCa *ca, X509_CRL *crl, GError **error);
EVP_PKEY *kpr_key_generate (const char *type, int bits, GError **error);
/* Random positive 126-bit serial; uppercase hex as OpenSSL prints it. */
gboolean kpr_serial_random (BIGNUM **ret_bn, char **ret_hex, GError **error);
/* Accepts "0a:1B…" etc.; returns the canonical uppercase form. */
char *kpr_serial_normalize (const char *text, GError **error);
X509 *kpr_ca_make_user_cert (KprCa *ca, const char *username, EVP_PKEY *pub,
                             const BIGNUM *serial, gint64 now, GError **error);
/* Builds, signs and writes DIR/crl.der; call inside a transaction. */
gboolean kpr_ca_write_crl (KprCa *ca, GError **error);
GBytes *kpr_ca_read_crl (KprCa *ca, GError **error);

/* ---- kpr-ca-token.c: the CA key on a PKCS#11 token ------------------- */
/* Generates the CA key pair on ca->token_uri; sets ca->tokens, token,
 * key_id and key (the signer) and returns the public key. */
EVP_PKEY *kpr_ca_token_create (KprCa *ca, KprPinFunc pin_func, gpointer pin_data,
                               GError **error);
/* Logs in and loads ca->key from the token; checks it against ca->cert. */
gboolean kpr_ca_token_open (KprCa *ca, KprPinFunc pin_func, gpointer pin_data, GError **error);
/* After a failed init: removes the key pair made by kpr_ca_token_create. */
void kpr_ca_token_discard (KprCa *ca);
/* ca.conf's key-id= (hex) ↔ CKA_ID. */
char *kpr_hex_encode (GBytes *bytes);
GBytes *kpr_hex_decode (const char *text);

/* ---- kpr-parse.c: hostile-input parsers (fuzzed) ---------------------- */
gboolean kpr_valid_username (const char *name);
gboolean kpr_valid_phone (const char *phone);
/* "Basic base64(user:password)".  KPR_ERROR_AUTH for anything else. */
gboolean kpr_parse_basic_auth (const char *header, gsize len, char **ret_user,
                               KprSecret **ret_password, GError **error);
/* {"username":"alice"} */
char *kpr_parse_challenge_json (const char *body, gsize len, GError **error);
/* {"serial":"HEX"} → canonical serial */
char *kpr_parse_revoke_json (const char *body, gsize len, GError **error);
/* EC P-256/P-384, RSA ≥ 2048; KPR_ERROR_UNSUPPORTED with a clear text. */
gboolean kpr_policy_check_key (EVP_PKEY *key, GError **error);
/* Masked phone for the challenge answer: "+1•••••0100". */
char *kpr_mask_phone (const char *phone);

/* ---- kpr-ca.c helpers shared with kpr-crl.c ---------------------------- */
char *kpr_ca_path (const char *dir, const char *name);
gboolean kpr_ossl_fail (GError **error, int code, const char *what);

/* ---- kpr-users.c: users, secret words, codes, delivery ---------------- */
typedef struct {
  gint64 id;
  char *name;
  char *phone;
  gboolean disabled;
  gint failed;
  gint64 locked_until;
} KprUser;
void kpr_user_free (KprUser *user);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KprUser, kpr_user_free)
/* NULL without error when there is no such user. */
KprUser *kpr_user_lookup (KprCa *ca, const char *name, GError **error);
KprUser *kpr_user_lookup_id (KprCa *ca, gint64 id, GError **error);

/* Creates a new secret word for @user (replacing unused older ones);
 * FALSE without error when the hourly limit is reached. */
gboolean kpr_word_create (KprCa *ca, const KprUser *user, KprSecret **ret_word,
                          GError **error);
/* Checks @password against the user's live words and codes, counting
 * failures: KPR_ERROR_AUTH (wrong) or KPR_ERROR_BUSY (locked out).
 * On success @ret_word_id names the word; it is NOT consumed yet. */
gboolean kpr_word_verify (KprCa *ca, const char *name, const KprSecret *password,
                          KprUser **ret_user, gint64 *ret_word_id, GError **error);
/* Inside a transaction: marks the word used; fails if it already was. */
gboolean kpr_word_consume (KprCa *ca, gint64 word_id, GError **error);
/* SHA-256(salt || normalized word): upper case, '-' and spaces dropped,
 * so "abcd-efgh" typed from a text message still matches. */
#define KPR_SALT_LEN 16
void kpr_word_hash (const KprSecret *password, const guint8 *salt,
                    guint8 ret_hash[32]);

typedef struct _KprOtpSender KprOtpSender;
KprOtpSender *kpr_otp_sender_new (const char *outbox, const char *command,
                                  GError **error);
gboolean kpr_otp_send (KprOtpSender *sender, const KprUser *user,
                       const KprSecret *word, GError **error);
void kpr_otp_sender_free (KprOtpSender *sender);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KprOtpSender, kpr_otp_sender_free)

/* ---- kpr-issue.c: issuance, revocation, approvals --------------------- */
typedef enum {
  KPR_ISSUE_ENROLL,
  KPR_ISSUE_REENROLL,
  KPR_ISSUE_SERVERKEYGEN,
} KprIssueKind;

/* One transaction: consume @word_id (if > 0), issue, record, revoke the
 * user's previous certificates, rewrite the CRL, close @pending_id (if
 * > 0), audit. */
X509 *kpr_issue (KprCa *ca, const KprUser *user, EVP_PKEY *pub, KprIssueKind kind,
                 gint64 word_id, gint64 pending_id, const char *peer, GError **error);
const char *kpr_issue_kind_name (KprIssueKind kind);

/* Manual approval.  kpr_pending_find looks for an open request of @name
 * for the same public key whose word matches @password (the word was
 * consumed when the request was recorded, so it keeps opening only that
 * request); @ret_id is 0 when there is none. */
gboolean kpr_pending_find (KprCa *ca, const char *name, EVP_PKEY *pub,
                           KprIssueKind kind, const KprSecret *password,
                           gint64 *ret_id, gboolean *ret_approved,
                           KprUser **ret_user, GError **error);
/* The open request (of any user) for public key @pub, for a poll that
 * comes without credentials (RFC 7030 §4.2.3: the client repeats the same
 * request).  @ret_id is 0 when there is none. */
gboolean kpr_pending_find_by_key (KprCa *ca, EVP_PKEY *pub, KprIssueKind kind, gint64 *ret_id,
                                  gboolean *ret_approved, KprUser **ret_user, GError **error);
/* The newest current, unrevoked certificate issued for public key @pub,
 * or NULL (also on errors, which set @error). */
X509 *kpr_cert_find_by_key (KprCa *ca, EVP_PKEY *pub, GError **error);
/* Records a request and consumes @word_id in one transaction. */
gint64 kpr_pending_create (KprCa *ca, const KprUser *user, EVP_PKEY *pub,
                           KprIssueKind kind, gint64 word_id,
                           const KprSecret *password, const char *peer,
                           GError **error);

/* A presented client certificate that is ours, current and unrevoked;
 * returns its owner. */
KprUser *kpr_cert_owner (KprCa *ca, X509 *cert, char **ret_serial, GError **error);
/* Inside a transaction: revokes every valid certificate of @user_id. */
gboolean kpr_revoke_user_certs (KprCa *ca, gint64 user_id, int reason, guint *ret_count,
                                GError **error);
/* Revokes @serial for @user_id (any user when < 0), consuming @word_id
 * (if > 0).  Already revoked is success with @ret_already set; someone
 * else's serial is KPR_ERROR_REJECTED, an unknown one KPR_ERROR_NOT_FOUND. */
gboolean kpr_revoke (KprCa *ca, const char *serial, gint64 user_id, int reason,
                     gint64 word_id, const char *actor, const char *peer,
                     gboolean *ret_already, GError **error);
/* The user's newest valid certificate (KPR_ERROR_NOT_FOUND if none). */
char *kpr_user_current_serial (KprCa *ca, gint64 user_id, GError **error);

G_END_DECLS
