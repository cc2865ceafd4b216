/* kpr-add-jobs.h — the "Add an identity" assistant's work, off the main
 * thread (KprWorkFunc for kpr-worker.h) and its input checks.  Private to
 * kpr-add-dialog.c: nothing here touches a widget. */
#pragma once

#include <gio/gio.h>

#include "kpr-agent.h"

G_BEGIN_DECLS

/* kpr_add_list_tokens: fills @tokens (KprAgentToken) with the tokens a
 * person can pick, spare slots left out. */
typedef struct {
  GPtrArray *tokens;
} KprAddListJob;

gboolean kpr_add_list_tokens (KprAgent *agent, gpointer data, GCancellable *cancellable,
                              GError **error);

/* kpr_add_enroll: kpr_agent_enroll.  kpr_add_remove: takes away what an
 * enrollment this assistant started left behind (key and record), when
 * the person cancelled it; kpr_agent_delete's "no backup, delete
 * anyway?" must be answered yes. */
typedef struct {
  /* in */
  char *name, *server, *label, *username, *token_uri;
  KprKeyType key_type;
  KprProtection protection;
  gboolean no_backup;
  /* in/out: the record is this assistant's own (it did not exist when
   * the assistant first enrolled it; later runs resume it) */
  gboolean owned;
  /* out */
  gboolean exportable;
  char *subject;
  char *not_after;
  char *browser_note; /* what the browser step did, or NULL */
} KprAddEnrollJob;

void kpr_add_enroll_job_free (KprAddEnrollJob *job);
gboolean kpr_add_enroll (KprAgent *agent, gpointer data, GCancellable *cancellable,
                         GError **error);
gboolean kpr_add_remove (KprAgent *agent, gpointer data, GCancellable *cancellable,
                         GError **error);

/* kpr_add_install: completes the pending identity @name with the
 * certificate file @path. */
typedef struct {
  char *name;
  char *path;
  /* out */
  gboolean exportable;
  char *subject;
  char *not_after;
  char *browser_note;
} KprAddInstallJob;

void kpr_add_install_job_free (KprAddInstallJob *job);
gboolean kpr_add_install (KprAgent *agent, gpointer data, GCancellable *cancellable,
                          GError **error);

/* "https://host[:port]" from what a person typed, or NULL with a sentence
 * saying what to type in *ret_message. */
char *kpr_add_check_server (const char *text, char **ret_message);
/* NULL when @label is empty or usable as an EST CA label, else a sentence. */
char *kpr_add_check_label (const char *label);

G_END_DECLS
