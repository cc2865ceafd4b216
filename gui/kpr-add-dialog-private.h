/* kpr-add-dialog-private.h — shared by the two halves of the "Add an
 * identity" assistant: kpr-add-dialog.c (the object, the pages a person
 * fills in) and kpr-add-steps.c (the enrollment: its questions, progress,
 * done and pending pages). */
#pragma once

#include "kpr-add-jobs.h"
#include "kpr-gui.h"

G_BEGIN_DECLS

struct _KprAddDialog {
  AdwWindow parent_instance;

  /* template */
  AdwWindowTitle *window_title;
  GtkButton *back_button;
  GtkButton *next_button;
  GtkStack *stack;
  AdwEntryRow *server_row;
  AdwEntryRow *label_row;
  GtkLabel *server_error;
  AdwEntryRow *username_row;
  AdwEntryRow *name_row;
  GtkLabel *account_error;
  GtkSpinner *where_spinner;
  GtkListBox *token_list;
  GtkLabel *where_error;
  AdwPasswordEntryRow *pin_row;
  AdwPasswordEntryRow *pin_again_row;
  GtkLabel *pin_error;
  AdwComboRow *key_type_row;
  AdwComboRow *protection_row;
  AdwActionRow *backup_row;
  GtkSwitch *backup_switch;
  GtkLabel *key_error;
  GtkLabel *trust_label;
  GtkLabel *trust_fingerprint;
  GtkButton *trust_button;
  GtkButton *trust_cancel_button;
  GtkLabel *word_label;
  GtkPasswordEntry *secret_entry;
  GtkLabel *word_error;
  GtkButton *word_button;
  GtkButton *resend_button;
  GtkSpinner *progress_spinner;
  GtkLabel *progress_label;
  GtkButton *cancel_button;
  AdwStatusPage *done_page;
  GtkLabel *done_label;
  GtkButton *backup_button;
  GtkButton *close_button;
  GtkLabel *pending_label;
  GtkLabel *pending_error;
  GtkButton *import_button;
  GtkButton *pending_close_button;

  KprWorker *worker;
  GCancellable *cancellable;
  GSettings *settings;
  GPtrArray *tokens;          /* KprAgentToken, from the last listing */
  int selected;               /* index in tokens, -1 none, or KPR_ADD_NEW_SOFTWARE */
  GArray *key_types;          /* KprKeyType shown in key_type_row */
  KprWorkerRequest *request;  /* a question waiting on the trust or word page */
  KprWorkerAsk request_what;
  KprAddEnrollJob *job;       /* the running enrollment, or NULL */
  char *owned_name;           /* a record created here and not finished */
  gboolean removing;          /* taking a cancelled enrollment away */
  gboolean user_cancelled;
  gboolean name_edited;
  gboolean setting_name;
  gboolean disposed;
  char *done_name;            /* the identity on the done/pending page */
  GtkFileChooserNative *chooser;
};

/* "This computer" picked while it has no key store yet: the "pin" page
 * creates one (kpr-add-software.c). */
#define KPR_ADD_NEW_SOFTWARE (-2)

/* The pages a person fills in, in order ("server", "account", "where",
 * "key"); the others are reached by the worker. */
extern const char *const kpr_add_input_pages[];

/* Shows @message under the page's inputs (NULL hides it). */
void kpr_add_set_error (GtkLabel *label, const char *message);
gboolean kpr_add_on_page (KprAddDialog *self, const char *name);
/* Index in kpr_add_input_pages, -1 for the other pages. */
int kpr_add_input_index (const char *name);
/* Switches the stack and sets the header (Back, Next, "Step N of 5"). */
void kpr_add_show_page (KprAddDialog *self, const char *name);
void kpr_add_update_next (KprAddDialog *self);
const KprAgentToken *kpr_add_selected_token (KprAddDialog *self);
/* The row's text without surrounding blanks (free it). */
char *kpr_add_row_text (AdwEntryRow *row);
/* Lists the tokens again (a KprWorker job) for the "where" page. */
void kpr_add_list (KprAddDialog *self);
/* Tells the application (when there is one) that identities changed. */
void kpr_add_refresh_app (void);

/* The "where" page's rows from self->tokens. */
void kpr_add_fill_tokens (KprAddDialog *self);
/* Goes on from a chosen token to the key page. */
void kpr_add_show_key_page (KprAddDialog *self);
/* Next, as the header's button or Enter in a page's last field. */
void kpr_add_next (KprAddDialog *self);

/* kpr-add-software.c: the "pin" page. */
void kpr_add_software_init (KprAddDialog *self);
/* TRUE when the two PINs typed can make the key store; shows what rule
 * they break (not before anything was typed). */
gboolean kpr_add_software_check (KprAddDialog *self);
/* Creates the key store in the worker, then goes on to the key page. */
void kpr_add_software_create (KprAddDialog *self);

/* kpr-add-steps.c */
void kpr_add_steps_init (KprAddDialog *self);
void kpr_add_run_enroll (KprAddDialog *self);
/* Answers a question still waiting on the trust or word page with "no". */
void kpr_add_answer_cancel (KprAddDialog *self);
/* The window is closing: stop the job; take away an unfinished
 * enrollment this assistant started. */
void kpr_add_steps_close (KprAddDialog *self);

G_END_DECLS
