/* kpr-token-private.h — what the files of pkcs11/ share among themselves. */
#pragma once

#include <libp11.h>
#include <p11-kit/pkcs11.h>
#include <openssl/params.h>

#include "kpr-token.h"

typedef struct {
  char *path;             /* as given or registered */
  char *name;             /* p11-kit name, or the file name */
  PKCS11_CTX *p11;        /* libp11: slot enumeration */
  CK_FUNCTION_LIST *fn;   /* raw calls into the same module instance */
  PKCS11_SLOT *slots;
  unsigned int n_slots;
  gboolean required;      /* asked for by name: failures are errors */
} KprModule;

struct _KprToken {
  KprTokenCtx *ctx;
  KprModule *module;
  PKCS11_SLOT *slot;
  CK_SLOT_ID slot_id;
  KprTokenInfo info;
  CK_SESSION_HANDLE session; /* our raw R/W session, 0 until needed */
};

struct _KprTokenCtx {
  GPtrArray *modules;  /* KprModule* */
  GPtrArray *tokens;   /* KprToken* */
  GPtrArray *warnings; /* char*, NULL-terminated on request */
  GPtrArray *broken;   /* char*: registered modules that crashed or hung when probed */
  char *softhsm_path;  /* realpath of the SoftHSM module, or NULL */
};

/* kpr-ckr.c */
const char *kpr_ckr_name (CK_RV rv);
void kpr_set_ckr_error (GError **error, CK_RV rv, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

/* kpr-module.c */
void kpr_token_info_clear (KprTokenInfo *info);

/* kpr-probe.c: starts each of the @n modules at @paths (except where
 * @skip[i]) in a child process of its own — load, C_Initialize,
 * C_GetSlotList, C_Finalize — all at once, for at most @timeout_s.
 * Returns @n strings: "" where the child ended, else what went wrong
 * ("module NAME (PATH) crashed (Aborted) …", "… did not answer in N s …"). */
char **kpr_module_probe_all (const char *const *paths, const char *const *names,
                             const gboolean *skip, guint n, guint timeout_s);

/* kpr-session.c: our raw R/W session on the token, opened on first use. */
CK_SESSION_HANDLE kpr_token_session (KprToken *token, GError **error);
void kpr_token_close_session (KprToken *token);

/* kpr-objects.c: attribute helpers that cap what a module may return. */
GBytes *kpr_token_get_attr (KprToken *token, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type,
                            GError **error);
gboolean kpr_token_get_bool (KprToken *token, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type,
                             gboolean *ret_value, GError **error);
gboolean kpr_token_get_ulong (KprToken *token, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type,
                              CK_ULONG *ret_value, GError **error);
/* Objects matching @tmpl (at most 1024). */
GArray *kpr_token_find_objects (KprToken *token, CK_ATTRIBUTE *tmpl, CK_ULONG n,
                                GError **error);
/* The one object of @klass with CKA_ID @id; KPR_ERROR_NOT_FOUND when none. */
gboolean kpr_token_find_one (KprToken *token, CK_OBJECT_CLASS klass, GBytes *id,
                             CK_OBJECT_HANDLE *ret_obj, GError **error);
gboolean kpr_token_destroy (KprToken *token, CK_OBJECT_HANDLE obj, GError **error);

/* kpr-keys.c */
gboolean kpr_key_type_is_ec (KprKeyType type);
/* The public key object @obj as an EVP_PKEY (RSA or EC P-256/P-384). */
EVP_PKEY *kpr_token_public_key_of (KprToken *token, CK_OBJECT_HANDLE obj, GError **error);

/* kpr-pkey.c: the private key object @priv as an EVP_PKEY that signs on
 * the token, its public half read from @pub or else @cert (either may be
 * CK_INVALID_HANDLE). */
EVP_PKEY *kpr_token_private_key_of (KprToken *token, CK_OBJECT_HANDLE priv, CK_OBJECT_HANDLE pub,
                                    CK_OBJECT_HANDLE cert, GError **error);

/* The one attribute template of an identity's key pair, for keys made on
 * the token (kpr-keys.c, C_GenerateKeyPair) and keys imported into it
 * (kpr-p12.c, C_CreateObject): on the token, signing only unless
 * @decrypt (SCEP), never unwrapping or deriving, the protection's
 * CKA_PRIVATE / CKA_SENSITIVE / CKA_EXTRACTABLE, the identity's CKA_ID and
 * CKA_LABEL.  The callers add what is particular to them (the key's
 * parameters or values, CKA_CLASS for an import).  The template points
 * into itself, @id's data and @label: keep them alive while it is used. */
typedef struct {
  CK_BBOOL yes, no, is_private, sensitive, extractable, decrypt;
  CK_ATTRIBUTE priv[24], pub[16];
  CK_ULONG n_priv, n_pub;
} KprKeyTemplate;

void kpr_key_template_init (KprKeyTemplate *t, KprProtection protection, gboolean decrypt,
                            GBytes *id, const char *label);
#define KPR_KEY_TEMPLATE_ADD(array, n, t, v, l)                                                   \
  do                                                                                             \
    {                                                                                            \
      g_assert ((n) < G_N_ELEMENTS (array));                                                     \
      (array)[(n)++] = (CK_ATTRIBUTE) { (t), (void *) (v), (l) };                                \
    }                                                                                            \
  while (0)
#define kpr_key_template_add_priv(tp, type, v, l) KPR_KEY_TEMPLATE_ADD ((tp)->priv, (tp)->n_priv, type, v, l)
#define kpr_key_template_add_pub(tp, type, v, l) KPR_KEY_TEMPLATE_ADD ((tp)->pub, (tp)->n_pub, type, v, l)
/* OpenSSL 3.0 lacks OSSL_PARAM_clear_free; params may hold key material. */
void kpr_params_free_erased (OSSL_PARAM *params);

/* kpr-p12-guard.c: limits on PKCS#12 files from elsewhere */
/* Loads OpenSSL's legacy provider (RC2, for reading old files) once. */
void kpr_p12_reader_init (void);
/* @trailing: bytes after the encoded file.  Checks what costs nothing to
 * read: trailing data, the MAC's and the visible iteration counts. */
gboolean kpr_p12_check_before_mac (PKCS12 *p12, gsize trailing, GError **error);
/* The iteration counts inside the encrypted safes, once the MAC holds. */
gboolean kpr_p12_check_after_mac (PKCS12 *p12, const KprSecret *pass, GError **error);
