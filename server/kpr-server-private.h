/* kpr-server-private.h — what the files of server/ share among themselves
 * (and with the fuzz targets); not part of the face. */
#pragma once

#include <openssl/x509.h>

#include "kpr-ca-db.h"
#include "kpr-server.h"

G_BEGIN_DECLS

G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509_CRL, X509_CRL_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509_EXTENSION, X509_EXTENSION_free)

/* Policy constants (DESIGN §9; server/README.md "Threat model"). */
#define KPR_WORD_TTL 300          /* a secret word lives five minutes */
#define KPR_WORD_LEN 8            /* characters of a secret word (40 bits) */
#define KPR_CODE_LEN 16           /* characters of an enrollment code (80 bits) */
#define KPR_CHALLENGE_FREE_WORDS 3 /* words an hour a user gets at once */
#define KPR_CHALLENGE_GAP 60      /* then at least this between two, doubling */
#define KPR_REQUESTERS_MAX 16     /* addresses remembered per word */
#define KPR_USER_FREE 3           /* wrong words before the per-user back-off */
#define KPR_USER_CAP 60           /* longest per-user wait, seconds */
#define KPR_USER_HALF_LIFE 600    /* the per-user score halves in 10 minutes */
#define KPR_SOURCE_FREE 5         /* wrong credentials before an address waits */
#define KPR_SOURCE_CAP 900        /* longest per-address wait */
#define KPR_SOURCE_HALF_LIFE 900
#define KPR_CHALLENGE_FREE 20     /* /challenge calls of an address before it waits */
#define KPR_CHALLENGE_HALF_LIFE 1800
#define KPR_RECOVERY_WINDOW 600   /* a lost answer is recovered this long */
#define KPR_RETRY_AFTER 30        /* seconds, for 202 answers */
#define KPR_NAME_MAX 64
#define KPR_PASSWORD_MAX 256
#define KPR_REASON_SUPERSEDED 4
#define KPR_REASON_CESSATION 5

struct _KprCa {
  char *dir;
  char *db_location; /* DIR/ca.db or a postgresql:// URI */
  KprCaDb *db;       /* the connection of the command line / the event loop */
  EVP_PKEY *key;     /* used only through kpr_ca_sign_*; NULL until unlocked */
  X509 *cert;
  GMutex sign_lock;  /* the writer and the CRL publisher both sign */
  /* Extensions every user certificate shares (kpr-ca.c). */
  X509_EXTENSION *ext_bc, *ext_ku_rsa, *ext_ku_ec, *ext_eku, *ext_aki;
  /* CA key on a PKCS#11 token (kpr-ca-token.c); all NULL for ca.key. */
  char *token_uri;
  char *token_module;
  GBytes *key_id;
  KprTokenCtx *tokens; /* the process's one context; freed after @key */
  KprToken *token;
  gint64 lifetime;
  KprApproval approval;
  GBytes *csrattrs;         /* what /csrattrs answers (DER); NULL: 204 */
  gboolean require_binding; /* requests carry tls-unique (RFC 7030 §3.5) */
};

/* ---- kpr-ca.c, kpr-ca-init.c: keys, certificates ------------------------- */
gint64 kpr_now (void);
KprCa *kpr_ca_new_empty (const char *dir, const char *db);
gboolean kpr_ca_prepare_profile (KprCa *ca, GError **error);
/* The only places that use the CA key; a PKCS#11 key plugs in here. */
gboolean kpr_ca_sign_cert (KprCa *ca, X509 *cert, GError **error);
gboolean kpr_ca_sign_crl (KprCa *ca, X509_CRL *crl, GError **error);
EVP_PKEY *kpr_key_generate (const char *type, int bits, GError **error);
/* Random positive 126-bit serial; uppercase hex as OpenSSL prints it. */
gboolean kpr_serial_random (BIGNUM **ret_bn, char **ret_hex, GError **error);
/* Accepts "0a:1B…" etc.; returns the canonical uppercase form. */
char *kpr_serial_normalize (const char *text, GError **error);
X509_EXTENSION *kpr_ca_make_ext (X509 *cert, X509 *issuer, int nid, const char *value,
                                 GError **error);
gboolean kpr_ca_add_ext (X509 *cert, X509 *issuer, int nid, const char *value, GError **error);
X509 *kpr_cert_skeleton (X509_NAME *issuer, const char *cn, const BIGNUM *serial,
                         gint64 not_before, gint64 not_after, GError **error);
char *kpr_ca_path (const char *dir, const char *name);
gboolean kpr_ossl_fail (GError **error, int code, const char *what);
gboolean kpr_write_new_file (const char *path, const void *data, gsize len, int mode,
                             GError **error);
/* SHA-256 of ca.pem's DER, hex: meta('ca_sha256') ties a database to its
 * CA, so two CAs never share one by mistake. */
char *kpr_ca_fingerprint (X509 *cert);
gboolean kpr_ca_db_owner (KprCaDb *db, char **ret_fingerprint, GError **error);
gboolean kpr_ca_claim_db (KprCa *ca, KprCaDb *db, gboolean create, GError **error);

/* A request's public key, encoded once (kpr-issue.c). */
typedef struct {
  EVP_PKEY *key;     /* decoded: policy checks, key usage */
  GBytes *spki;      /* SubjectPublicKeyInfo DER */
  char *fingerprint; /* SHA-256 of @spki, hex: certs.pubkey, pending.pubkey */
  char *type;        /* "EC P-256", "RSA 2048" */
  ASN1_OBJECT *alg;  /* the parts the certificate gets, as they came */
  int ptype;
  void *pval;
  guint8 *bits;
  int bits_len;
} KprPubkey;
void kpr_pubkey_free (KprPubkey *pk);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KprPubkey, kpr_pubkey_free)
/* From the parts of a parsed SubjectPublicKeyInfo (@der: its encoding). */
KprPubkey *kpr_pubkey_from_parts (const X509_ALGOR *algor, const ASN1_BIT_STRING *bits,
                                  const guint8 *der, gsize len, EVP_PKEY *key, GError **error);
KprPubkey *kpr_pubkey_from_spki (const guint8 *der, gsize len, GError **error);
KprPubkey *kpr_pubkey_from_key (EVP_PKEY *key, GError **error);
gboolean kpr_pubkey_set_on_cert (const KprPubkey *pk, X509 *cert);
X509 *kpr_ca_make_user_cert (KprCa *ca, const char *username, const KprPubkey *pub,
                             const BIGNUM *serial, gint64 now, GError **error);

/* ---- kpr-csr.c: the PKCS#10 request (fuzzed) ---------------------------- */
#define KPR_CSR_MAX (64 * 1024)
typedef struct {
  KprPubkey *pub;      /* its key, signature checked */
  X509_NAME *subject;
  GBytes *san;         /* subjectAltName requested (DER of GeneralNames), or NULL */
  char *common_name;   /* the subject's CN, UTF-8, or NULL */
  char *challenge_password; /* its challengePassword (the tls-unique binding of
                             * RFC 7030 §3.5), or NULL */
  gboolean key_encryption; /* serverkeygen: asks for the key encrypted (RFC 7030
                            * §4.4.1.1/2), which certkeeper-ca cannot do */
} KprCsr;
/* Parses a DER request and checks its signature with its own key (proof
 * of possession); KPR_ERROR_PROTOCOL for anything else. */
KprCsr *kpr_csr_parse (const guint8 *der, gsize len, GError **error);
void kpr_csr_free (KprCsr *csr);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KprCsr, kpr_csr_free)

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
gboolean kpr_valid_mail (const char *mail);
/* "Basic base64(user:password)".  KPR_ERROR_AUTH for anything else. */
gboolean kpr_parse_basic_auth (const char *header, gsize len, char **ret_user,
                               KprSecret **ret_password, GError **error);
/* {"username":"alice"} */
char *kpr_parse_challenge_json (const char *body, gsize len, GError **error);
/* {"serial":"HEX"} → canonical serial */
char *kpr_parse_revoke_json (const char *body, gsize len, GError **error);
/* EC P-256/P-384, RSA ≥ 2048; KPR_ERROR_UNSUPPORTED with a clear text. */
gboolean kpr_policy_check_key (EVP_PKEY *key, GError **error);
/* A PROXY protocol header (v1 text or v2 binary, haproxy's send-proxy and
 * send-proxy-v2) at the start of @data: *@ret_consumed bytes, the client's
 * address and port (NULL address for LOCAL / UNKNOWN: keep the socket's). */
#define KPR_PROXY_HEADER_MAX 536
gboolean kpr_parse_proxy_header (const guint8 *data, gsize len, gsize *ret_consumed,
                                 char **ret_address, guint16 *ret_port, GError **error);
/* Masked phone for the challenge answer: "+1•••••0100". */
char *kpr_mask_phone (const char *phone);

/* ---- kpr-throttle.c: back-off that decays ------------------------------- */
typedef struct {
  gint64 free;      /* failures that cost nothing */
  gint64 cap;       /* longest wait, seconds */
  gint64 half_life; /* seconds for the score to halve */
} KprBackoff;
extern const KprBackoff kpr_backoff_user, kpr_backoff_source, kpr_backoff_challenge;
/* The score @score recorded at @at, decayed to @now. */
gint64 kpr_backoff_score (const KprBackoff *b, gint64 score, gint64 at, gint64 now);
/* Seconds still to wait before the next try (0: go ahead). */
gint64 kpr_backoff_wait (const KprBackoff *b, gint64 score, gint64 at, gint64 now);
/* Per address, in the memory of one front end. */
typedef struct _KprSourceTable KprSourceTable;
KprSourceTable *kpr_source_table_new (const KprBackoff *backoff);
void kpr_source_table_free (KprSourceTable *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KprSourceTable, kpr_source_table_free)
gint64 kpr_source_wait (KprSourceTable *t, const char *source, gint64 now);
void kpr_source_count (KprSourceTable *t, const char *source, gint64 now);
/* The throttling key of an address: itself, or its /64 for IPv6. */
char *kpr_source_key (const char *address);
/* words.requesters: comma-separated addresses that asked for the word. */
gboolean kpr_requesters_contain (const char *list, const char *address);
char *kpr_requesters_add (const char *list, const char *address);

/* ---- kpr-users.c: users, secret words, codes -------------------------- */
typedef struct {
  gint64 id;
  char *name;
  char *phone;
  char *mail;
  gboolean disabled;
  gint64 failed;    /* decaying score of wrong words */
  gint64 failed_at; /* time of the last one */
} KprUser;
void kpr_user_free (KprUser *user);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KprUser, kpr_user_free)
/* NULL without error when there is no such user. */
KprUser *kpr_user_lookup (KprCaDb *db, const char *name, GError **error);
KprUser *kpr_user_lookup_id (KprCaDb *db, gint64 id, GError **error);
/* Inside a transaction: the user (by @name, else @id) with its row locked
 * until the end of the transaction. */
KprUser *kpr_user_lock (KprCaDb *db, const char *name, gint64 id, GError **error);
gboolean kpr_audit (KprCaDb *db, const char *actor, const char *action, const char *detail,
                    const char *peer, GError **error);

/* Asked for by @source: makes a new word for @user (returned, to be sent)
 * unless the previous one is too recent, in which case nothing is sent
 * and @source joins the requesters of the newest live word. */
gboolean kpr_word_challenge (KprCaDb *db, const KprUser *user, const char *source, gint64 now,
                             KprSecret **ret_word, GError **error);
typedef struct {
  gint64 word_id;     /* the matching word or code (not consumed yet) */
  gint64 retry_after; /* KPR_ERROR_BUSY: seconds of per-user back-off */
  gboolean counted;   /* a wrong word counted against the user */
} KprWordCheck;
/* Checks @password (user locked); KPR_ERROR_AUTH when wrong, KPR_ERROR_BUSY
 * during the per-user back-off (not checked, not counted). */
gboolean kpr_word_check (KprCaDb *db, const KprUser *user, const KprSecret *password,
                         const char *source, gint64 now, KprWordCheck *ret, GError **error);
/* Marks the word used; fails if it already was. */
gboolean kpr_word_consume (KprCaDb *db, gint64 word_id, gint64 now, GError **error);
/* SHA-256(salt || normalized word): upper case, '-' and spaces dropped. */
#define KPR_SALT_LEN 16
void kpr_word_hash (const KprSecret *password, const guint8 *salt, guint8 ret_hash[32]);

/* ---- kpr-deliver.c: text messages and mail ---------------------------- */
typedef struct _KprOtpSender KprOtpSender;
KprOtpSender *kpr_otp_sender_new (const char *outbox, const char *command, GError **error);
gboolean kpr_otp_send (KprOtpSender *sender, const KprUser *user, const KprSecret *word,
                       GError **error);
void kpr_otp_sender_free (KprOtpSender *sender);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KprOtpSender, kpr_otp_sender_free)
typedef struct {
  gint64 request_id;
  char *user;
  char *address;
  char *serial;
  GBytes *der;
} KprIssuedMail;
void kpr_issued_mail_free (KprIssuedMail *mail);
typedef struct _KprMailer KprMailer;
KprMailer *kpr_mailer_new (const char *command, GError **error);
void kpr_mailer_free (KprMailer *mailer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KprMailer, kpr_mailer_free)
/* The message (RFC 5322 + MIME, the .cer attached) the command reads. */
char *kpr_mail_message (const KprIssuedMail *mail, gsize *ret_len);
gboolean kpr_mail_send (KprMailer *mailer, const KprIssuedMail *mail, GError **error);

/* ---- kpr-issue.c: issuance, revocation -------------------------------- */
typedef enum {
  KPR_ISSUE_ENROLL,
  KPR_ISSUE_REENROLL,
  KPR_ISSUE_SERVERKEYGEN,
} KprIssueKind;
const char *kpr_issue_kind_name (KprIssueKind kind);
/* Inside a transaction, @user locked: issues a certificate for @pub,
 * records it (for request @request_id when > 0) and revokes the user's
 * previous ones (*@ret_crl_generation gets the CRL generation when any
 * were).  The caller consumed the word or closes the request. */
X509 *kpr_issue (KprCa *ca, KprCaDb *db, const KprUser *user, const KprPubkey *pub,
                 KprIssueKind kind, gint64 request_id, const char *peer,
                 gint64 *ret_crl_generation, GError **error);
typedef struct {
  char *serial;
  X509 *cert;
  gint64 user_id;
  gint64 issued;
  gint64 not_after;
  gboolean revoked;
} KprCertRow;
void kpr_cert_row_free (KprCertRow *row);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KprCertRow, kpr_cert_row_free)
/* The newest current, unrevoked certificate for the key with @fingerprint
 * (any user); NULL without error when there is none. */
KprCertRow *kpr_cert_current_by_key (KprCaDb *db, const char *fingerprint, gint64 now,
                                     GError **error);
KprCertRow *kpr_cert_by_serial (KprCaDb *db, const char *serial, GError **error);
char *kpr_cert_serial_hex (X509 *cert);
/* The owner (locked) of a presented certificate this CA issued, whole DER
 * compared; *@ret_current says whether it is unrevoked and unexpired. */
KprUser *kpr_cert_owner (KprCaDb *db, X509 *cert, char **ret_serial, gboolean *ret_current,
                         GError **error);
gboolean kpr_revoke_user_certs (KprCaDb *db, gint64 user_id, int reason, guint *ret_count,
                                GError **error);
/* Revokes @serial for @user_id (any user when < 0), consuming @word_id
 * (if > 0).  Already revoked is success with @ret_already set; someone
 * else's serial is KPR_ERROR_REJECTED, an unknown one KPR_ERROR_NOT_FOUND. */
gboolean kpr_revoke (KprCaDb *db, const char *serial, gint64 user_id, int reason,
                     gint64 word_id, const char *actor, const char *peer, gboolean *ret_already,
                     gint64 *ret_generation, GError **error);
/* The user's newest valid certificate (KPR_ERROR_NOT_FOUND if none). */
char *kpr_user_current_serial (KprCaDb *db, gint64 user_id, GError **error);

/* ---- kpr-requests.c: manual approval ----------------------------------- */
typedef struct {
  gint64 id;
  gint64 user_id;
  gboolean approved, done, rejected;
  char *reason;
  char *serial; /* the certificate issued for it */
} KprPending;
void kpr_pending_free (KprPending *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KprPending, kpr_pending_free)
/* Records a request (the caller consumed the word); returns its ID. */
gint64 kpr_pending_create (KprCaDb *db, const KprUser *user, const KprPubkey *pub,
                           KprIssueKind kind, const KprSecret *password, const char *peer,
                           GError **error);
/* @user_id's newest request for the key with @fingerprint whose word was
 * @password; NULL without error when there is none. */
KprPending *kpr_pending_find (KprCaDb *db, gint64 user_id, const char *fingerprint,
                              KprIssueKind kind, const KprSecret *password, GError **error);
/* The newest request for the key (any user): a poll without credentials
 * (RFC 7030 §4.2.3: the client repeats the same request). */
KprPending *kpr_pending_find_by_key (KprCaDb *db, const char *fingerprint, KprIssueKind kind,
                                     GError **error);
gboolean kpr_pending_close (KprCaDb *db, gint64 id, const char *serial, GError **error);
/* Claims (for this front end only) issued requests to mail. */
GPtrArray *kpr_mail_claim (KprCaDb *db, gint64 now, GError **error);

/* ---- kpr-crl.c: the CRL, off the request path --------------------------- */
/* The newest revocation's generation: a CRL that includes it is current. */
gboolean kpr_crl_generation (KprCaDb *db, gint64 *ret_generation, GError **error);
/* Records that something was revoked (urgent: publish at once). */
gboolean kpr_crl_mark (KprCaDb *db, gboolean urgent, gint64 *ret_generation, GError **error);
/* Builds, signs and stores the CRL now, and writes DIR/crl.der (the
 * caller holds the publisher lock and an unlocked key). */
gboolean kpr_ca_publish_crl (KprCa *ca, GError **error);
typedef struct _KprCrlPublisher KprCrlPublisher;
typedef void (*KprCrlWaitFunc) (gpointer data);
struct event_base;
KprCrlPublisher *kpr_crl_publisher_new (KprCa *ca, struct event_base *base, gint64 interval,
                                        KprServerLogFunc log_func, gpointer log_data,
                                        GError **error);
void kpr_crl_publisher_free (KprCrlPublisher *p);
/* The CRL to serve (NULL before the first one is loaded). */
GBytes *kpr_crl_publisher_current (KprCrlPublisher *p);
/* A revocation of @generation was committed here: look now. */
void kpr_crl_publisher_poke (KprCrlPublisher *p, gint64 generation);
/* Calls @func on the loop once the served CRL includes @generation and,
 * when @fresh, every revocation found in the database by a round of the
 * publisher thread begun after this call (another front end's, a command
 * line's); or after @timeout_s. */
void kpr_crl_publisher_wait (KprCrlPublisher *p, gint64 generation, gboolean fresh,
                             gint64 timeout_s, KprCrlWaitFunc func, gpointer data);

/* ---- kpr-writer.c: the database writer thread ---------------------------- */
typedef struct _KprJob KprJob;
struct _KprJob {
  /* Writer thread, inside a savepoint: TRUE keeps what it wrote.  May be
   * run again (a retried batch): it resets its outputs first. */
  gboolean (*run) (KprJob *job, KprCa *ca, KprCaDb *db);
  /* Event loop, once the batch is committed (or failed). */
  void (*done) (KprJob *job);
  void (*free) (KprJob *job);
  GError *error;
  gboolean failed;       /* the batch was not written: nothing of it happened */
  gint64 crl_generation; /* it revoked something: the CRL generation */
};
void kpr_job_free (KprJob *job);
typedef struct _KprWriter KprWriter;
KprWriter *kpr_writer_new (KprCa *ca, struct event_base *base, GError **error);
void kpr_writer_submit (KprWriter *w, KprJob *job);
/* Finishes what was submitted (the answers go out), then stops. */
void kpr_writer_free (KprWriter *w);

/* ---- kpr-enroll.c: the jobs of the EST operations ------------------------ */
typedef struct {
  KprJob job;
  /* in */
  KprIssueKind kind;
  gboolean manual;     /* approval=manual */
  char *name;          /* Basic user name; NULL: a request repeated without
                        * credentials (a poll, a lost answer) */
  char *csr_name;      /* the CN the CSR asks for: who repeats without credentials */
  KprSecret *password;
  X509 *presented;     /* simplereenroll: the client certificate */
  GError *mismatch;    /* simplereenroll: the CSR's subject differs (told once the
                        * certificate is known to be current) */
  KprPubkey *pub;      /* the CSR's key */
  char *source;        /* throttling key of the client's address */
  char *peer;          /* ADDRESS:PORT for the audit */
  gpointer request;    /* the HTTP side's */
  /* out */
  X509 *cert;
  EVP_PKEY *server_key; /* serverkeygen */
  char *server_body;    /* serverkeygen: the whole answer (holds the key) */
  gsize server_body_len;
  char *server_body_type;
  gint64 pending_id;    /* 202 */
  gboolean auth_failed; /* wrong credentials: counts against the address */
  gint64 retry_after;   /* per-user back-off */
  char *log;
} KprEnrollJob;
gboolean kpr_enroll_job_run (KprJob *job, KprCa *ca, KprCaDb *db);
void kpr_enroll_job_free (KprJob *job);

typedef struct {
  KprJob job;
  char *name;
  char *source;
  gpointer request;
  KprUser *user;   /* NULL: no such user (the same answer anyway) */
  KprSecret *word; /* to send; NULL when nothing is sent */
} KprChallengeJob;
gboolean kpr_challenge_job_run (KprJob *job, KprCa *ca, KprCaDb *db);
void kpr_challenge_job_free (KprJob *job);

typedef struct {
  KprJob job;
  X509 *presented;
  char *name;
  KprSecret *password;
  char *serial; /* NULL: "my current certificate" */
  char *source;
  char *peer;
  gpointer request;
  char *revoked;
  char *actor;
  gboolean already;
  gboolean auth_failed;
  gint64 retry_after;
} KprRevokeJob;
gboolean kpr_revoke_job_run (KprJob *job, KprCa *ca, KprCaDb *db);
void kpr_revoke_job_free (KprJob *job);

typedef struct {
  KprJob job;
  gpointer server;
  GPtrArray *mails; /* KprIssuedMail */
} KprMailJob;
gboolean kpr_mail_job_run (KprJob *job, KprCa *ca, KprCaDb *db);
void kpr_mail_job_free (KprJob *job);

G_END_DECLS
