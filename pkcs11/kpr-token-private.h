/* kpr-token-private.h — what the files of pkcs11/ share among themselves. */
#pragma once

#include <libp11.h>
#include <p11-kit/pkcs11.h>
#include <openssl/params.h>

#include "kpr-token.h"

typedef struct {
  char *path;             /* as given or registered */
  char *name;             /* p11-kit name, or the file name */
  PKCS11_CTX *p11;        /* libp11: enumeration, login, EVP_PKEY */
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
  char *softhsm_path;  /* realpath of the SoftHSM module, or NULL */
};

/* kpr-ckr.c */
const char *kpr_ckr_name (CK_RV rv);
void kpr_set_ckr_error (GError **error, CK_RV rv, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

/* kpr-module.c */
void kpr_token_info_clear (KprTokenInfo *info);

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
