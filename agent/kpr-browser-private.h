/* kpr-browser-private.h — what the kpr-browser*.c files share. */
#pragma once

#include "kpr-agent-private.h"
#include "kpr-browser-path.h"

/* The name certkeeper registers a module under; unregister removes only
 * these.  The closing parenthesis matters: NSS matches names by prefix
 * when it rewrites pkcs11.txt. */
#define KPR_BROWSER_MODULE_PREFIX "certkeeper ("

/* --- kpr-browser-nss.c: the certkeeper-nss child process --- */

typedef struct {
  char *serial;      /* hex, as kpr_ossl_serial_hex() writes it */
  GBytes *issuer;    /* DER */
} KprNssCert;

typedef struct {
  char *token;
  gboolean present;
  gboolean friendly;
  GPtrArray *certs;  /* KprNssCert */
} KprNssSlot;

typedef struct {
  char *name;
  char *library;
  gboolean internal;
  GPtrArray *slots;  /* KprNssSlot */
} KprNssModule;

typedef struct {
  gboolean exists;
  char *damaged;
  GPtrArray *modules; /* KprNssModule */
} KprNssDb;

void kpr_nss_db_free (KprNssDb *db);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KprNssDb, kpr_nss_db_free)

KprNssDb *kpr_nss_list (const char *db_dir, GError **error);
KprNssDb *kpr_nss_add (const char *db_dir, const char *name, const char *library,
                       GError **error);
KprNssDb *kpr_nss_remove (const char *db_dir, const char *name, GError **error);


/* --- kpr-browser-stores.c: where the browsers keep their stores --- */

/* The stores of @kinds found for this user (running and restart_needed
 * filled in, nothing read from the databases yet). */
GPtrArray *kpr_browser_find_stores (KprBrowserKind kinds);
/* Updates ->running and ->restart_needed (after a change). */
void kpr_browser_store_update_running (KprBrowserStore *store);
KprBrowserStore *kpr_browser_store_new (KprBrowserKind kind, const char *title,
                                        const char *db_dir);
