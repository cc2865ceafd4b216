/* kpr-secret-dialog.c — asks for a PIN, a secret word or a passphrase
 * (see kpr-secret-dialog.h).
 *
 * GtkPasswordEntry keeps its text in GTK's secure buffer (erased when
 * freed) and shows dots only.  The answer is copied into a KprSecret, the
 * entries are emptied, and only then is the request answered, so no copy
 * stays in a widget while the agent works.
 */
#include "config.h"

#include "kpr-a11y.h"

#include <string.h>

#include "kpr-secret-dialog.h"

#define KPR_TYPE_SECRET_DIALOG (kpr_secret_dialog_get_type ())
G_DECLARE_FINAL_TYPE (KprSecretDialog, kpr_secret_dialog, KPR, SECRET_DIALOG, AdwMessageDialog)

struct _KprSecretDialog {
  AdwMessageDialog parent_instance;

  GtkWidget *warning;
  GtkWidget *entry;
  GtkWidget *again;
  GtkWidget *strength;
  GtkWidget *hint;

  KprWorkerRequest *request; /* answered exactly once, then NULL */
};

G_DEFINE_FINAL_TYPE (KprSecretDialog, kpr_secret_dialog, ADW_TYPE_MESSAGE_DIALOG)

static gboolean
asks_twice (KprSecretDialog *self)
{
  return kpr_worker_request_get_what (self->request) == KPR_WORKER_NEW_PASSPHRASE;
}

static void
on_changed (KprSecretDialog *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->entry));
  gboolean ready = *text != '\0';

  if (self->request && asks_twice (self))
    {
      const char *again = gtk_editable_get_text (GTK_EDITABLE (self->again));
      g_autoptr (KprSecret) secret = kpr_secret_new (text, strlen (text));
      g_autofree char *why = NULL;
      int strength = *text ? kpr_passphrase_strength (secret, &why) : 0;

      gtk_level_bar_set_value (GTK_LEVEL_BAR (self->strength), strength);
      if (!*text)
        gtk_label_set_text (GTK_LABEL (self->hint), "");
      else if (strength == 0)
        gtk_label_set_text (GTK_LABEL (self->hint), why ? why : "This passphrase is too weak.");
      else if (*again && strcmp (text, again) != 0)
        gtk_label_set_text (GTK_LABEL (self->hint), "The two passphrases differ.");
      else
        gtk_label_set_text (GTK_LABEL (self->hint), "");
      ready = ready && strength > 0 && strcmp (text, again) == 0;
    }
  adw_message_dialog_set_response_enabled (ADW_MESSAGE_DIALOG (self), "continue", ready);
}

static void
clear_entries (KprSecretDialog *self)
{
  gtk_editable_set_text (GTK_EDITABLE (self->entry), "");
  gtk_editable_set_text (GTK_EDITABLE (self->again), "");
}

static void
kpr_secret_dialog_response (AdwMessageDialog *dialog, const char *response)
{
  KprSecretDialog *self = KPR_SECRET_DIALOG (dialog);
  KprSecret *secret = NULL;

  if (self->request && g_strcmp0 (response, "continue") == 0)
    {
      const char *text = gtk_editable_get_text (GTK_EDITABLE (self->entry));
      if (*text)
        secret = kpr_secret_new (text, strlen (text));
    }
  clear_entries (self);
  if (self->request)
    kpr_worker_request_reply (g_steal_pointer (&self->request), secret);
  else
    kpr_secret_free (secret);
  if (ADW_MESSAGE_DIALOG_CLASS (kpr_secret_dialog_parent_class)->response)
    ADW_MESSAGE_DIALOG_CLASS (kpr_secret_dialog_parent_class)->response (dialog, response);
}

static void
kpr_secret_dialog_dispose (GObject *object)
{
  KprSecretDialog *self = KPR_SECRET_DIALOG (object);

  /* Closed without an answer (the window went away): that is a cancel. */
  if (self->request)
    kpr_worker_request_reply (g_steal_pointer (&self->request), NULL);
  G_OBJECT_CLASS (kpr_secret_dialog_parent_class)->dispose (object);
}

static void
kpr_secret_dialog_class_init (KprSecretDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  AdwMessageDialogClass *dialog_class = ADW_MESSAGE_DIALOG_CLASS (klass);

  object_class->dispose = kpr_secret_dialog_dispose;
  dialog_class->response = kpr_secret_dialog_response;
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/certkeeper/Certkeeper/kpr-secret-dialog.ui");
  gtk_widget_class_bind_template_child_full (widget_class, "secret-warning", FALSE,
                                             G_STRUCT_OFFSET (KprSecretDialog, warning));
  gtk_widget_class_bind_template_child_full (widget_class, "secret-entry", FALSE,
                                             G_STRUCT_OFFSET (KprSecretDialog, entry));
  gtk_widget_class_bind_template_child_full (widget_class, "secret-again", FALSE,
                                             G_STRUCT_OFFSET (KprSecretDialog, again));
  gtk_widget_class_bind_template_child_full (widget_class, "secret-strength", FALSE,
                                             G_STRUCT_OFFSET (KprSecretDialog, strength));
  gtk_widget_class_bind_template_child_full (widget_class, "secret-hint", FALSE,
                                             G_STRUCT_OFFSET (KprSecretDialog, hint));
  gtk_widget_class_bind_template_callback (widget_class, on_changed);
}

static void
kpr_secret_dialog_init (KprSecretDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  kpr_a11y_fix_names (GTK_WIDGET (self));
}

/* The token's own warning, before a wrong PIN costs more than a retry. */
static const char *
pin_warning (const KprAgentToken *token)
{
  if (!token)
    return NULL;
  if (token->pin_final_try)
    return "Final try: one more wrong PIN locks the token.";
  if (token->pin_count_low)
    return "Few tries left: the token locks after a few more wrong PINs.";
  return NULL;
}

static void
describe (KprSecretDialog *self)
{
  AdwMessageDialog *dialog = ADW_MESSAGE_DIALOG (self);
  const char *detail = kpr_worker_request_get_detail (self->request);
  const KprAgentToken *token = kpr_worker_request_get_token (self->request);
  const char *warning = NULL;

  switch (kpr_worker_request_get_what (self->request))
    {
    case KPR_WORKER_PIN:
      if (token && token->software)
        {
          adw_message_dialog_set_heading (dialog, "Enter the PIN of this computer’s key store");
          adw_message_dialog_set_body (dialog, "It unlocks the keys kept on this computer.");
        }
      else
        {
          adw_message_dialog_format_heading (dialog, "Enter the PIN of “%s”",
                                             detail ? detail : "the token");
          adw_message_dialog_set_body (dialog, "It unlocks the key kept on this token.");
        }
      warning = pin_warning (token);
      break;
    case KPR_WORKER_SECRET_WORD:
      adw_message_dialog_set_heading (dialog, "Enter the secret word");
      if (detail)
        adw_message_dialog_format_body (dialog, "A one-time secret word was %s.", detail);
      else
        adw_message_dialog_set_body (dialog, "The server sent you a one-time word.");
      break;
    case KPR_WORKER_PASSWORD:
      adw_message_dialog_set_heading (dialog, "Enter your password");
      adw_message_dialog_set_body (dialog, "The enrollment server asks for your account’s password.");
      break;
    case KPR_WORKER_NEW_PASSPHRASE:
      adw_message_dialog_set_heading (dialog, "Choose a passphrase for the backup");
      adw_message_dialog_format_body (dialog,
                                      "It protects %s. You will need it to restore the backup: "
                                      "keep it somewhere safe.", detail ? detail : "the backup");
      gtk_widget_set_visible (self->again, TRUE);
      gtk_widget_set_visible (self->strength, TRUE);
      gtk_widget_set_visible (self->hint, TRUE);
      break;
    case KPR_WORKER_PASSPHRASE:
      adw_message_dialog_set_heading (dialog, "Enter the backup’s passphrase");
      if (detail)
        adw_message_dialog_format_body (dialog, "The passphrase that protects %s.", detail);
      break;
    case KPR_WORKER_CONFIRM:
    default:
      g_return_if_reached ();
    }
  gtk_label_set_text (GTK_LABEL (self->warning), warning ? warning : "");
  gtk_widget_set_visible (self->warning, warning != NULL);
}

void
kpr_secret_dialog_ask (GtkWindow *parent, KprWorkerRequest *request)
{
  KprSecretDialog *self;

  if (kpr_worker_request_get_what (request) == KPR_WORKER_CONFIRM)
    {
      g_critical ("kpr_secret_dialog_ask: a yes/no question is not a secret");
      kpr_worker_request_reply (request, NULL);
      return;
    }
  /* Destroyed with its window, and then answered "cancel" (dispose). */
  self = g_object_new (KPR_TYPE_SECRET_DIALOG, "transient-for", parent,
                       "destroy-with-parent", TRUE, NULL);
  gtk_widget_set_name (GTK_WIDGET (self), "kpr-secret-dialog");
  self->request = request;
  describe (self);
  gtk_window_present (GTK_WINDOW (self));
  gtk_widget_grab_focus (self->entry);
}
