/* kpr-key-kind.h — what kind of key an identity has and how it is
 * protected: the words every layer shares (the token layer makes the keys,
 * the agent records them, the programs and the window show them).  They
 * live here rather than in pkcs11/ so that a front end can name a key
 * type without seeing the token layer. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  KPR_KEY_EC_P256 = 1,
  KPR_KEY_EC_P384,
  KPR_KEY_RSA_2048,
  KPR_KEY_RSA_3072,
} KprKeyType;

typedef enum {
  /* Usable without a PIN by the user's programs; never leaves the token. */
  KPR_PROTECTION_STANDARD = 1,
  /* A PIN is needed to use the key; never leaves the token. */
  KPR_PROTECTION_STRONG,
  /* Software token only: the "exporting mode" right after enrollment, so
   * the person can write a backup; kpr_token_lock_key() ends it. */
  KPR_PROTECTION_EXPORTABLE,
} KprProtection;

typedef enum {
  KPR_P12_MODERN = 1, /* AES-256-CBC, PBKDF2, SHA-256 MAC */
  KPR_P12_LEGACY,     /* 3DES, SHA-1 MAC, for old importers */
} KprP12Preset;

/* "ec-p256", … as the command line, records and config files write them;
 * "unknown" for a value out of range. */
const char *kpr_key_type_to_string (KprKeyType type);
gboolean kpr_key_type_from_string (const char *text, KprKeyType *ret_type);
/* "EC P-256", … for a person. */
const char *kpr_key_type_title (KprKeyType type);
/* "standard", "strong", "exportable". */
const char *kpr_protection_to_string (KprProtection protection);
gboolean kpr_protection_from_string (const char *text, KprProtection *ret_protection);

G_END_DECLS
