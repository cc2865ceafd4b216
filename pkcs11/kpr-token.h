/* kpr-token.h — the face of the token layer (pkcs11/).
 *
 * Everything certkeeper does with keys goes through here: find tokens,
 * log in, generate key pairs, hand OpenSSL a token-backed EVP_PKEY, store
 * and find certificates, import and export PKCS#12, lock keys.
 *
 * One KprTokenCtx per process owns every PKCS#11 module instance
 * (DESIGN §3): libp11 for slot enumeration; raw PKCS#11 through the same
 * module instance for what libp11 0.4.12 lacks or does slowly (login, EC
 * key generation, certificates with CKA_SERIAL_NUMBER, non-exportable
 * import, attribute reads, the token-backed EVP_PKEY, which libp11 finds
 * only by reading every key on the token); p11-kit for module discovery
 * and RFC 7512 URIs.
 *
 * Objects of one identity share one CKA_ID; callers choose it (see
 * kpr_token_new_id()) and record it before the objects exist, so that a
 * crash can always be cleaned up by id.
 *
 * Errors are GErrors in the KPR_ERROR domain; messages keep the PKCS#11
 * return value's name (e.g. "CKR_PIN_INCORRECT").
 */
#pragma once

#include <glib.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "kpr-common.h"

G_BEGIN_DECLS

/* The label of the per-user software token. */
#define KPR_SOFTWARE_TOKEN_LABEL "certkeeper"

/* Largest attribute value we accept from a module (a certificate is a few
 * KiB; anything larger is a broken or hostile module). */
#define KPR_TOKEN_ATTR_MAX (64 * 1024)

typedef struct _KprTokenCtx KprTokenCtx;
typedef struct _KprToken KprToken;

typedef struct {
  char *uri;          /* RFC 7512, "pkcs11:model=...;serial=...;token=..." */
  char *label;
  char *manufacturer;
  char *model;
  char *serial;
  char *module_name;  /* p11-kit module name, or the module file name */
  char *module_path;
  gboolean initialized;
  gboolean login_required;
  gboolean user_pin_initialized;
  gboolean write_protected;
  gboolean pin_count_low;
  gboolean pin_final_try;
  gboolean pin_locked;
  gboolean software;  /* the certkeeper SoftHSM token */
  gboolean spare;     /* SoftHSM's always-present empty slot: not a token
                       * a person has, hidden from listings */
  /* Key generation: which KprKeyType values the token can make. */
  gboolean can_generate[KPR_KEY_RSA_3072 + 1];
  gulong ec_min_bits, ec_max_bits;
  gulong rsa_min_bits, rsa_max_bits;
} KprTokenInfo;

/* Provenance and protection of a private key, for the UI. */
typedef struct {
  KprKeyType type;
  gboolean local;              /* CKA_LOCAL: generated on this token */
  gboolean always_sensitive;   /* CKA_ALWAYS_SENSITIVE */
  gboolean never_extractable;  /* CKA_NEVER_EXTRACTABLE */
  gboolean private_;           /* CKA_PRIVATE: PIN needed to use it */
  gboolean sensitive;          /* CKA_SENSITIVE */
  gboolean extractable;        /* CKA_EXTRACTABLE */
} KprKeyInfo;

/* Asked for the PIN when a login is needed.  @info carries the PIN flags
 * read just before asking (count low, final try) so the prompt can warn.
 * Return NULL with @error set to cancel (KPR_ERROR_CANCELLED). */
typedef KprSecret *(*KprPinFunc) (const KprTokenInfo *info, gpointer user_data,
                                  GError **error);

typedef enum {
  KPR_TOKEN_CTX_REGISTERED = 1 << 0, /* modules registered with p11-kit */
  KPR_TOKEN_CTX_SOFTWARE = 1 << 1,   /* the SoftHSM module for our token */
  /* With REGISTERED: each registered module is started in a child process
   * first, for at most KPR_TOKEN_PROBE_TIMEOUT s; one that crashes or does
   * not answer there is not loaded (kpr_token_ctx_get_broken says so). */
  KPR_TOKEN_CTX_PROBE = 1 << 2,
} KprTokenCtxFlags;

#define KPR_TOKEN_PROBE_TIMEOUT 5

/* --- modules and tokens (kpr-module.c) --- */

/* Loads the modules.  A registered module that fails to load is skipped
 * (see kpr_token_ctx_get_warnings); one of @extra_modules that fails is
 * KPR_ERROR_MODULE. */
KprTokenCtx *kpr_token_ctx_new (KprTokenCtxFlags flags, const char *const *extra_modules,
                                GError **error);
void kpr_token_ctx_free (KprTokenCtx *ctx);
/* Loads more modules into @ctx (those already there stay as they are,
 * and so do their tokens); their tokens join the list. */
gboolean kpr_token_ctx_add (KprTokenCtx *ctx, KprTokenCtxFlags flags,
                            const char *const *extra_modules, GError **error);
/* One line per registered module left out by KPR_TOKEN_CTX_PROBE. */
const char *const *kpr_token_ctx_get_broken (KprTokenCtx *ctx);

/* Messages about registered modules that were skipped. */
const char *const *kpr_token_ctx_get_warnings (KprTokenCtx *ctx);

/* Every token present, owned by @ctx (valid until the next refresh). */
GPtrArray *kpr_token_ctx_list (KprTokenCtx *ctx);

/* Re-reads slots and tokens (after a token was inserted or initialized). */
gboolean kpr_token_ctx_refresh (KprTokenCtx *ctx, GError **error);

/* The token an RFC 7512 URI names; KPR_ERROR_BAD_INPUT for a malformed URI,
 * KPR_ERROR_NO_TOKEN when nothing matches, KPR_ERROR_USAGE when several do. */
KprToken *kpr_token_ctx_find (KprTokenCtx *ctx, const char *uri, GError **error);

/* The per-user software token (label "certkeeper"); KPR_ERROR_NO_TOKEN with
 * a hint to run "certkeeper token init-software" when it does not exist. */
KprToken *kpr_token_ctx_software (KprTokenCtx *ctx, GError **error);

const KprTokenInfo *kpr_token_get_info (KprToken *token);
/* A copy that outlives the token (for a question asked on another
 * thread); kpr_token_info_free releases it. */
KprTokenInfo *kpr_token_info_copy (const KprTokenInfo *info);
void kpr_token_info_free (KprTokenInfo *info);

/* Re-reads the token's flags (PIN state) from the module. */
gboolean kpr_token_update_info (KprToken *token, GError **error);

/* --- the per-user software token (kpr-softhsm.c) --- */

/* Makes sure SoftHSM will find a configuration this user can read: when
 * SOFTHSM2_CONF is unset and ~/.config/softhsm2/softhsm2.conf is missing,
 * writes it with an absolute token directory under $XDG_DATA_HOME, and
 * creates the token directory (0700).  kpr_token_ctx_new() calls it when
 * asked for the software token. */
gboolean kpr_softhsm_ensure_config (char **ret_config_path, GError **error);

/* FALSE (KPR_ERROR_IO, saying which and how to fix it) when the token
 * directory holds a token this user cannot open: SoftHSM skips it without
 * a word, so it looks as if there were no software token. */
gboolean kpr_softhsm_check_tokendir (GError **error);

/* Initializes a free SoftHSM slot as the "certkeeper" token with the given
 * SO PIN and user PIN.  KPR_ERROR_EXISTS when it already exists. */
KprToken *kpr_token_init_software (KprTokenCtx *ctx, const KprSecret *pin,
                                   const KprSecret *so_pin, GError **error);

/* --- login (kpr-session.c) --- */

/* Logs in as the user when the token needs it and is not logged in yet.
 * Reports a locked PIN before asking; a wrong PIN is
 * KPR_ERROR_PIN_INCORRECT and is never retried here. */
gboolean kpr_token_login (KprToken *token, KprPinFunc pin_func, gpointer user_data,
                          GError **error);

gboolean kpr_token_is_logged_in (KprToken *token);

/* --- keys (kpr-keys.c) --- */

/* A fresh random CKA_ID (20 bytes). */
GBytes *kpr_token_new_id (void);

/* Generates a key pair on the token with CKA_ID @id and CKA_LABEL @label.
 * The token must be logged in when it requires login. */
gboolean kpr_token_generate_key (KprToken *token, KprKeyType type, KprProtection protection,
                                 const char *label, GBytes *id, GError **error);

/* Keys sign only (CKA_DECRYPT and CKA_UNWRAP false), except RSA keys made
 * for SCEP: its CA encrypts the answer to the key being certified, so
 * such a key must also decrypt (PKCS#1 v1.5, on the token). */
typedef enum {
  KPR_KEY_USAGE_SIGN = 0,
  KPR_KEY_USAGE_SIGN_DECRYPT = 1,
} KprKeyUsage;
/* kpr_token_generate_key with @usage; KPR_KEY_USAGE_SIGN_DECRYPT is
 * KPR_ERROR_UNSUPPORTED for EC keys. */
gboolean kpr_token_generate_key_for (KprToken *token, KprKeyType type, KprProtection protection,
                                     KprKeyUsage usage, const char *label, GBytes *id,
                                     GError **error);
/* kpr_token_generate_key_for, and the new private key as
 * kpr_token_get_private_key would find it, without searching the token. */
EVP_PKEY *kpr_token_generate_private_key (KprToken *token, KprKeyType type,
                                          KprProtection protection, KprKeyUsage usage,
                                          const char *label, GBytes *id, GError **error);

/* The private key as an EVP_PKEY that signs (and decrypts) on the token,
 * found by one search for @id whatever the token holds (kpr-pkey.c).
 * Valid while @token's context lives; usable from any thread. */
EVP_PKEY *kpr_token_get_private_key (KprToken *token, GBytes *id, GError **error);

/* The public key, read from the token into a plain OpenSSL key. */
EVP_PKEY *kpr_token_get_public_key (KprToken *token, GBytes *id, GError **error);

gboolean kpr_token_get_key_info (KprToken *token, GBytes *id, KprKeyInfo *ret_info,
                                 GError **error);

/* Ends the exporting mode: CKA_SENSITIVE=TRUE, CKA_EXTRACTABLE=FALSE.  One
 * way: the token refuses to turn either back.  Locking a locked key
 * succeeds (a re-run converges). */
gboolean kpr_token_lock_key (KprToken *token, GBytes *id, GError **error);

/* --- certificates and objects (kpr-objects.c) --- */

/* Stores @cert with CKA_ID @id, CKA_LABEL, CKA_SUBJECT, CKA_ISSUER,
 * CKA_SERIAL_NUMBER and CKA_VALUE.  With @id NULL the certificate is stored
 * as a CA certificate (id from its key identifier) unless the token already
 * holds the same certificate. */
gboolean kpr_token_store_certificate (KprToken *token, X509 *cert, const char *label,
                                      GBytes *id, GError **error);

/* The certificate with CKA_ID @id; KPR_ERROR_NOT_FOUND when none. */
X509 *kpr_token_find_certificate (KprToken *token, GBytes *id, GError **error);

/* Every certificate on the token (identity and CA certificates). */
KprX509Stack *kpr_token_list_certificates (KprToken *token, GError **error);

/* Removes the private key, public key and certificate with CKA_ID @id,
 * and on the software token the keys and certificates with neither a
 * CKA_ID nor a CKA_LABEL (what a process killed inside the module's
 * object creation leaves; certkeeper never makes such objects).
 * Removing nothing is not an error (a re-run after a crash converges). */
gboolean kpr_token_delete_objects (KprToken *token, GBytes *id, guint *ret_count,
                                   GError **error);
/* kpr_token_delete_objects; without @sweep only the objects with CKA_ID
 * @id (for a caller that made the token's recent objects itself: the
 * sweep is one more search of every object). */
gboolean kpr_token_delete_objects_of (KprToken *token, GBytes *id, gboolean sweep,
                                      guint *ret_count, GError **error);
/* On the software token, removes the keys and certificates with neither
 * a CKA_ID nor a CKA_LABEL (the sweep of kpr_token_delete_objects). */
gboolean kpr_token_delete_orphans (KprToken *token, guint *ret_count, GError **error);

/* Sets CKA_LABEL of the keys and the certificate with CKA_ID @id (those
 * that already carry it are left alone: a re-run converges). */
gboolean kpr_token_set_label (KprToken *token, GBytes *id, const char *label, GError **error);

/* Stores @cert as the one certificate with CKA_ID @id: an equal one
 * already there is kept (a re-run converges), any other is removed. */
gboolean kpr_token_replace_certificate (KprToken *token, X509 *cert, const char *label,
                                        GBytes *id, GError **error);

/* Number of objects (of any class) with CKA_ID @id, for checks. */
gboolean kpr_token_count_objects (KprToken *token, GBytes *id, guint *ret_count,
                                  GError **error);

/* --- PKCS#12 (kpr-p12.c) --- */

/* Parses and checks a PKCS#12: the passphrase (KPR_ERROR_PASSPHRASE), the
 * key type (KPR_ERROR_UNSUPPORTED) and that the key matches the
 * certificate (KPR_ERROR_KEY_MISMATCH).  @ret_note (optional) receives the
 * note kpr_token_export_pkcs12() stored, or NULL. */
gboolean kpr_p12_parse (GBytes *data, const KprSecret *passphrase, EVP_PKEY **ret_key,
                        X509 **ret_cert, KprX509Stack **ret_chain, char **ret_note,
                        GError **error);

/* Imports key + certificate + chain.  Non-exportable (sensitive,
 * non-extractable) unless @protection is KPR_PROTECTION_EXPORTABLE, which
 * only the software token allows.  Nothing with @id is left on the token
 * when any step fails. */
gboolean kpr_token_import_pkcs12 (KprToken *token, GBytes *data, const KprSecret *passphrase,
                                  const char *label, GBytes *id, KprProtection protection,
                                  GError **error);

/* The same for a key and certificate already in memory (a key the server
 * generated, RFC 7030 serverkeygen).  @chain may be NULL. */
gboolean kpr_token_import_key (KprToken *token, EVP_PKEY *key, X509 *cert, KprX509Stack *chain,
                               const char *label, GBytes *id, KprProtection protection,
                               GError **error);

/* Exports an exportable key with its certificate and the chain found on
 * the token.  KPR_ERROR_NOT_EXPORTABLE for a protected key.  @note (UTF-8,
 * may be NULL) travels as an attribute of the certificate's bag: certkeeper
 * keeps the identity's server details there so a restore needs nothing
 * else.  Other importers ignore it. */
GBytes *kpr_token_export_pkcs12 (KprToken *token, GBytes *id, const KprSecret *passphrase,
                                 KprP12Preset preset, const char *note, GError **error);

G_END_DECLS
