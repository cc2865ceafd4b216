/* kpr-add-dialog.c — "Add an identity": server → who → where the key
 * lives → key type → "Send me the secret word" (kpr-add-steps.c: the
 * enrollment, whose questions land on the assistant's own trust and
 * secret-word pages) → done, or pending.
 *
 * The order differs from the (fingerprint and word before the
 * key's place): kpr_agent_enroll is one call that asks the fingerprint
 * and the word through callbacks, so everything it needs is asked first.
 * The work itself is in kpr-add-jobs.c.
 */
#include "config.h"

#include "kpr-a11y.h"

#include <string.h>

#include "kpr-add-dialog-private.h"

G_DEFINE_FINAL_TYPE (KprAddDialog, kpr_add_dialog, ADW_TYPE_WINDOW)

/* The input pages, in order; the others are reached by the worker. */
const char *const kpr_add_input_pages[] = { "server", "account", "where", "key", NULL };

void
kpr_add_set_error (GtkLabel *label, const char *message)
{
  gtk_label_set_text (label, message ? message : "");
  gtk_widget_set_visible (GTK_WIDGET (label), message && *message);
}

static const char *
page (KprAddDialog *self)
{
  return gtk_stack_get_visible_child_name (self->stack);
}

gboolean
kpr_add_on_page (KprAddDialog *self, const char *name)
{
  return g_strcmp0 (page (self), name) == 0;
}

int
kpr_add_input_index (const char *name)
{
  for (int i = 0; kpr_add_input_pages[i]; i++)
    if (g_strcmp0 (kpr_add_input_pages[i], name) == 0)
      return i;
  return -1;
}

const KprAgentToken *
kpr_add_selected_token (KprAddDialog *self)
{
  if (!self->tokens || self->selected < 0 || (guint) self->selected >= self->tokens->len)
    return NULL;
  return g_ptr_array_index (self->tokens, self->selected);
}

char *
kpr_add_row_text (AdwEntryRow *row)
{
  return g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (row))));
}

/* Sensitivity of Next from what the current page holds. */
void
kpr_add_update_next (KprAddDialog *self)
{
  gboolean ok = FALSE;

  if (kpr_add_on_page (self, "server"))
    {
      g_autofree char *message = NULL;
      const char *typed = gtk_editable_get_text (GTK_EDITABLE (self->server_row));
      g_autofree char *server = kpr_add_check_server (typed, &message);
      g_autofree char *label = kpr_add_row_text (self->label_row);
      g_autofree char *label_message = kpr_add_check_label (label);

      /* Nothing typed yet is not a mistake worth a red sentence. */
      if (label_message)
        kpr_add_set_error (self->server_error, label_message);
      else
        kpr_add_set_error (self->server_error, *typed && !server ? message : NULL);
      ok = server && !label_message;
    }
  else if (kpr_add_on_page (self, "account"))
    {
      g_autofree char *user = kpr_add_row_text (self->username_row);
      g_autofree char *name = kpr_add_row_text (self->name_row);

      if (*name && !kpr_identity_name_is_valid (name))
        {
          g_autofree char *message = g_strdup_printf (
            "“%s” cannot name an identity: use up to 64 letters, digits, '.', '_' or '-', "
            "not starting with a dot.", name);
          kpr_add_set_error (self->account_error, message);
        }
      else if (*user && strpbrk (user, " \t/\\"))
        kpr_add_set_error (self->account_error, "A username has no spaces or slashes.");
      else
        kpr_add_set_error (self->account_error, NULL);
      ok = *user && kpr_identity_name_is_valid (name) && !strpbrk (user, " \t/\\");
    }
  else if (kpr_add_on_page (self, "where"))
    {
      const KprAgentToken *t = kpr_add_selected_token (self);
      ok = ((t && !t->pin_locked) || self->selected == KPR_ADD_NEW_SOFTWARE)
           && !kpr_worker_is_busy (self->worker);
    }
  else if (kpr_add_on_page (self, "pin"))
    ok = kpr_add_software_check (self) && !kpr_worker_is_busy (self->worker);
  else if (kpr_add_on_page (self, "key"))
    ok = self->key_types->len > 0
         && adw_combo_row_get_selected (self->key_type_row) != GTK_INVALID_LIST_POSITION;
  gtk_widget_set_sensitive (GTK_WIDGET (self->next_button), ok);
}

/* Each page opens with the focus where a person starts typing or
 * choosing (the trust, word and done pages place it themselves). */
static void
focus_first_field (KprAddDialog *self, const char *name)
{
  GtkWidget *first = g_str_equal (name, "server")    ? GTK_WIDGET (self->server_row)
                     : g_str_equal (name, "account") ? GTK_WIDGET (self->username_row)
                     : g_str_equal (name, "where")   ? GTK_WIDGET (self->token_list)
                     : g_str_equal (name, "pin")     ? GTK_WIDGET (self->pin_row)
                     : g_str_equal (name, "key")     ? GTK_WIDGET (self->key_type_row)
                                                     : NULL;

  if (first)
    gtk_widget_grab_focus (first);
}

void
kpr_add_show_page (KprAddDialog *self, const char *name)
{
  gboolean pin = g_str_equal (name, "pin"); /* between "where" and "key" */
  int i = pin ? kpr_add_input_index ("where") : kpr_add_input_index (name);
  g_autofree char *step = NULL;

  gtk_stack_set_visible_child_name (self->stack, name);
  /* Back and Next belong to the input pages; once the worker runs, the
   * pages' own buttons say what happens. */
  gtk_widget_set_visible (GTK_WIDGET (self->back_button), i > 0);
  gtk_widget_set_visible (GTK_WIDGET (self->next_button), i >= 0);
  kpr_a11y_button_set_label (self->next_button,
                        g_str_equal (name, "key") ? "_Send me the secret word" : "_Next");
  /* At phone width (360 px) the long label takes two lines ("Send me the
   * / secret word") rather than widening the header bar past the screen. */
  if (GTK_IS_LABEL (gtk_button_get_child (self->next_button)))
    {
      GtkLabel *label = GTK_LABEL (gtk_button_get_child (self->next_button));

      gtk_label_set_wrap (label, TRUE);
      gtk_label_set_width_chars (label, 12);
      gtk_label_set_justify (label, GTK_JUSTIFY_CENTER);
    }
  if (i >= 0)
    step = g_strdup_printf ("Step %d of 5", i + 1);
  else if (g_str_equal (name, "trust") || g_str_equal (name, "word")
           || g_str_equal (name, "progress"))
    step = g_strdup ("Step 5 of 5");
  adw_window_title_set_subtitle (self->window_title, step ? step : "");
  gtk_spinner_set_spinning (self->progress_spinner, g_str_equal (name, "progress"));
  kpr_add_update_next (self);
  focus_first_field (self, name);
}

void
kpr_add_refresh_app (void)
{
  GApplication *app = g_application_get_default ();

  /* Tests run the assistant without an application. */
  if (app && KPR_IS_APPLICATION (app))
    kpr_application_refresh (KPR_APPLICATION (app));
}

/* --- 1–2: server and person ------------------------------------------ */

static void
on_input_changed (KprAddDialog *self)
{
  kpr_add_update_next (self);
}

static void
on_username_changed (KprAddDialog *self)
{
  /* The identity's name follows the username until the person edits it. */
  if (!self->name_edited)
    {
      g_autofree char *user = kpr_add_row_text (self->username_row);

      g_strcanon (user, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-", '_');
      self->setting_name = TRUE;
      gtk_editable_set_text (GTK_EDITABLE (self->name_row), user);
      self->setting_name = FALSE;
    }
  kpr_add_update_next (self);
}

/* Enter in Username goes on when the page is complete (the name follows
 * the username), else to the name that still needs fixing. */
static void
on_username_activated (KprAddDialog *self)
{
  if (gtk_widget_get_sensitive (GTK_WIDGET (self->next_button)))
    kpr_add_next (self);
  else
    gtk_widget_grab_focus (GTK_WIDGET (self->name_row));
}

static void
on_name_changed (KprAddDialog *self)
{
  if (!self->setting_name)
    self->name_edited = TRUE;
  kpr_add_update_next (self);
}

/* --- 3: where the key lives ------------------------------------------ */

static void
on_token_toggled (GtkCheckButton *check, KprAddDialog *self)
{
  const KprAgentToken *t;

  if (gtk_check_button_get_active (check))
    self->selected = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (check), "index"));
  /* The PIN chosen for a new key store answers only that store's question. */
  t = kpr_add_selected_token (self);
  if (!t || !t->software)
    kpr_worker_preset (self->worker, KPR_WORKER_PIN, NULL);
  kpr_add_update_next (self);
}

static char *
token_subtitle (const KprAgentToken *t)
{
  const char *pin = t->pin_locked      ? "PIN locked: ask whoever gave you this token to unlock it"
                    : t->pin_final_try ? "PIN: one try left"
                    : t->pin_count_low ? "PIN: few tries left"
                                       : NULL;
  const char *what = t->software ? "Kept in your home folder; you can make a backup"
                                 : t->description;

  if (pin)
    return g_strdup_printf ("%s — %s", what, pin);
  return g_strdup (what);
}

static void
add_token_row (KprAddDialog *self, const KprAgentToken *t, int index, GtkCheckButton **group)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *check = gtk_check_button_new ();
  g_autofree char *subtitle = token_subtitle (t);
  g_autofree char *id = g_strdup_printf ("token_row_%d", index);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row),
                                 t->software ? "This computer" : t->label);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  gtk_widget_set_name (row, t->software ? "software_row" : id);
  gtk_widget_set_valign (check, GTK_ALIGN_CENTER);
  if (*group)
    gtk_check_button_set_group (GTK_CHECK_BUTTON (check), *group);
  else
    *group = GTK_CHECK_BUTTON (check);
  g_object_set_data (G_OBJECT (check), "index", GINT_TO_POINTER (index));
  g_signal_connect (check, "toggled", G_CALLBACK (on_token_toggled), self);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), check);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), check);
  /* A locked PIN cannot make a key: shown, not pickable. */
  gtk_widget_set_sensitive (row, !t->pin_locked);
  gtk_list_box_append (self->token_list, row);
  if (index == self->selected)
    gtk_check_button_set_active (GTK_CHECK_BUTTON (check), TRUE);
}

/* "This computer" before its key store exists: picking it leads to the
 * "pin" page, which creates it. */
static void
add_new_software_row (KprAddDialog *self, GtkCheckButton **group)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *check = gtk_check_button_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), "This computer");
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row),
                               "Kept in your home folder; you can make a backup. "
                               "Not set up yet: you choose its PIN next.");
  gtk_widget_set_name (row, "software_row");
  gtk_widget_set_valign (check, GTK_ALIGN_CENTER);
  *group = GTK_CHECK_BUTTON (check);
  g_object_set_data (G_OBJECT (check), "index", GINT_TO_POINTER (KPR_ADD_NEW_SOFTWARE));
  g_signal_connect (check, "toggled", G_CALLBACK (on_token_toggled), self);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), check);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), check);
  gtk_list_box_append (self->token_list, row);
  if (self->selected == KPR_ADD_NEW_SOFTWARE)
    gtk_check_button_set_active (GTK_CHECK_BUTTON (check), TRUE);
}

void
kpr_add_fill_tokens (KprAddDialog *self)
{
  GtkWidget *child;
  GtkCheckButton *group = NULL;
  int software = -1, first = -1;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->token_list))))
    gtk_list_box_remove (self->token_list, child);
  for (guint i = 0; i < self->tokens->len; i++)
    {
      const KprAgentToken *t = g_ptr_array_index (self->tokens, i);
      if (t->software && software < 0)
        software = i;
      if (!t->pin_locked && first < 0)
        first = i;
    }
  if ((!kpr_add_selected_token (self) && !(self->selected == KPR_ADD_NEW_SOFTWARE && software < 0))
      || (kpr_add_selected_token (self) && kpr_add_selected_token (self)->pin_locked))
    {
      const KprAgentToken *soft = software >= 0 ? g_ptr_array_index (self->tokens, software) : NULL;
      /* This computer first, made on the spot when it is not there yet. */
      self->selected = soft && !soft->pin_locked ? software
                       : software < 0            ? KPR_ADD_NEW_SOFTWARE
                                                 : first;
    }
  /* "This computer" first, then the tokens in the order found. */
  if (software >= 0)
    add_token_row (self, g_ptr_array_index (self->tokens, software), software, &group);
  else
    add_new_software_row (self, &group);
  for (guint i = 0; i < self->tokens->len; i++)
    if ((int) i != software)
      add_token_row (self, g_ptr_array_index (self->tokens, i), i, &group);
}

typedef struct {
  KprAddDialog *self;
  KprAddListJob job;
} ListCall;

static void
on_list_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ListCall *call = user_data;
  KprAddDialog *self = call->self;
  g_autoptr (GError) error = NULL;
  gboolean ok = kpr_worker_run_finish (KPR_WORKER (source), result, &error);

  if (!self->disposed)
    {
      g_clear_pointer (&self->tokens, g_ptr_array_unref);
      self->tokens = call->job.tokens
                       ? g_steal_pointer (&call->job.tokens)
                       : g_ptr_array_new_with_free_func ((GDestroyNotify) kpr_agent_token_free);
      gtk_widget_set_visible (GTK_WIDGET (self->where_spinner), FALSE);
      gtk_spinner_set_spinning (self->where_spinner, FALSE);
      /* An enrollment's error shown here stays; a listing error joins it. */
      if (!ok)
        kpr_add_set_error (self->where_error, error->message);
      kpr_add_fill_tokens (self);
      kpr_add_update_next (self);
      if (kpr_add_on_page (self, "where"))
        gtk_widget_grab_focus (GTK_WIDGET (self->token_list));
    }
  g_clear_pointer (&call->job.tokens, g_ptr_array_unref);
  g_object_unref (call->self);
  g_free (call);
}

void
kpr_add_list (KprAddDialog *self)
{
  ListCall *call;

  if (kpr_worker_is_busy (self->worker))
    return;
  call = g_new0 (ListCall, 1);
  call->self = g_object_ref (self);
  gtk_widget_set_visible (GTK_WIDGET (self->where_spinner), TRUE);
  gtk_spinner_set_spinning (self->where_spinner, TRUE);
  kpr_worker_run (self->worker, kpr_add_list_tokens, &call->job, NULL, on_list_done, call);
  kpr_add_update_next (self);
}

/* --- 4: key type and protection -------------------------------------- */

static void
fill_key_types (KprAddDialog *self)
{
  const KprAgentToken *t = kpr_add_selected_token (self);
  g_autoptr (GtkStringList) model = gtk_string_list_new (NULL);
  g_autofree char *wanted_text =
    self->settings ? g_settings_get_string (self->settings, "default-key-type") : NULL;
  KprKeyType wanted = KPR_KEY_EC_P256;
  guint pick = 0;

  if (wanted_text)
    kpr_key_type_from_string (wanted_text, &wanted);
  g_array_set_size (self->key_types, 0);
  for (KprKeyType type = KPR_KEY_EC_P256; t && type <= KPR_KEY_RSA_3072; type++)
    if (t->can_generate[type])
      {
        if (type == wanted)
          pick = self->key_types->len;
        g_array_append_val (self->key_types, type);
        gtk_string_list_append (model, kpr_key_type_title (type));
      }
  adw_combo_row_set_model (self->key_type_row, G_LIST_MODEL (model));
  if (self->key_types->len)
    adw_combo_row_set_selected (self->key_type_row, pick);
  kpr_add_set_error (self->key_error,
                     self->key_types->len ? NULL
                                          : "This token cannot make any key type certkeeper uses: "
                                            "go back and pick another place for the key.");
}

static void
set_default_protection (KprAddDialog *self)
{
  g_autofree char *text =
    self->settings ? g_settings_get_string (self->settings, "default-protection") : NULL;

  adw_combo_row_set_selected (self->protection_row, g_strcmp0 (text, "strong") == 0 ? 1 : 0);
}

/* On this computer the key starts exportable (for its backup) and is
 * "standard" once locked: the protection choice only applies without a
 * backup.  A token never lets a key out, so there is no backup choice. */
static void
update_protection (KprAddDialog *self)
{
  const KprAgentToken *t = kpr_add_selected_token (self);
  gboolean software = t && t->software;
  gboolean backup = software && gtk_switch_get_active (self->backup_switch);

  gtk_widget_set_visible (GTK_WIDGET (self->backup_row), software);
  gtk_widget_set_sensitive (GTK_WIDGET (self->protection_row), !backup);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->protection_row),
                               backup ? "Standard once the key is locked after its backup"
                                      : "Standard: your programs use the key without the PIN. "
                                        "Strong: the PIN is needed each time.");
}

/* --- navigation ------------------------------------------------------- */

void
kpr_add_show_key_page (KprAddDialog *self)
{
  fill_key_types (self);
  update_protection (self);
  kpr_add_show_page (self, "key");
}

void
kpr_add_next (KprAddDialog *self)
{
  if (!gtk_widget_get_sensitive (GTK_WIDGET (self->next_button)))
    return;
  if (kpr_add_on_page (self, "server"))
    kpr_add_show_page (self, "account");
  else if (kpr_add_on_page (self, "account"))
    {
      kpr_add_set_error (self->where_error, NULL);
      kpr_add_show_page (self, "where");
      kpr_add_list (self);
    }
  else if (kpr_add_on_page (self, "where") && self->selected == KPR_ADD_NEW_SOFTWARE)
    {
      kpr_add_show_page (self, "pin");
      gtk_widget_grab_focus (GTK_WIDGET (self->pin_row));
    }
  else if (kpr_add_on_page (self, "where"))
    kpr_add_show_key_page (self);
  else if (kpr_add_on_page (self, "pin"))
    kpr_add_software_create (self);
  else if (kpr_add_on_page (self, "key"))
    kpr_add_run_enroll (self);
}

static void
on_back (KprAddDialog *self)
{
  int i = kpr_add_input_index (page (self));

  if (kpr_add_on_page (self, "pin")
      || (kpr_add_on_page (self, "key") && self->selected == KPR_ADD_NEW_SOFTWARE))
    kpr_add_show_page (self, "where");
  else if (i > 0)
    kpr_add_show_page (self, kpr_add_input_pages[i - 1]);
  else if (kpr_add_on_page (self, "word") && !self->request)
    kpr_add_show_page (self, "key"); /* after a refused word: change something and retry */
}

/* --- the object ------------------------------------------------------- */

static gboolean
on_close_request (KprAddDialog *self)
{
  kpr_add_steps_close (self);
  return FALSE;
}

static void
kpr_add_dialog_dispose (GObject *object)
{
  KprAddDialog *self = KPR_ADD_DIALOG (object);

  self->disposed = TRUE;
  /* Gone without "close-request" (destroyed by its parent): a cancel too. */
  if (self->job)
    self->user_cancelled = TRUE;
  g_cancellable_cancel (self->cancellable);
  kpr_add_answer_cancel (self);
  if (self->chooser)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  if (self->worker)
    g_signal_handlers_disconnect_by_data (self->worker, self);
  gtk_widget_dispose_template (GTK_WIDGET (self), KPR_TYPE_ADD_DIALOG);
  G_OBJECT_CLASS (kpr_add_dialog_parent_class)->dispose (object);
}

static void
kpr_add_dialog_finalize (GObject *object)
{
  KprAddDialog *self = KPR_ADD_DIALOG (object);

  g_clear_object (&self->worker);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->tokens, g_ptr_array_unref);
  g_clear_pointer (&self->key_types, g_array_unref);
  g_free (self->done_name);
  g_free (self->owned_name);
  G_OBJECT_CLASS (kpr_add_dialog_parent_class)->finalize (object);
}

static void
kpr_add_dialog_class_init (KprAddDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kpr_add_dialog_dispose;
  object_class->finalize = kpr_add_dialog_finalize;
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/certkeeper/Certkeeper/kpr-add-dialog.ui");
#define CHILD(name) gtk_widget_class_bind_template_child (widget_class, KprAddDialog, name)
  CHILD (window_title);
  CHILD (back_button);
  CHILD (next_button);
  CHILD (stack);
  CHILD (server_row);
  CHILD (label_row);
  CHILD (server_error);
  CHILD (username_row);
  CHILD (name_row);
  CHILD (account_error);
  CHILD (where_spinner);
  CHILD (token_list);
  CHILD (where_error);
  CHILD (pin_row);
  CHILD (pin_again_row);
  CHILD (pin_error);
  CHILD (key_type_row);
  CHILD (protection_row);
  CHILD (backup_row);
  CHILD (backup_switch);
  CHILD (key_error);
  CHILD (trust_label);
  CHILD (trust_fingerprint);
  CHILD (trust_button);
  CHILD (trust_cancel_button);
  CHILD (word_label);
  CHILD (secret_entry);
  CHILD (word_error);
  CHILD (word_button);
  CHILD (resend_button);
  CHILD (progress_spinner);
  CHILD (progress_label);
  CHILD (cancel_button);
  CHILD (done_page);
  CHILD (done_label);
  CHILD (backup_button);
  CHILD (close_button);
  CHILD (pending_label);
  CHILD (pending_error);
  CHILD (import_button);
  CHILD (pending_close_button);
#undef CHILD
}

static GSettings *
find_settings (void)
{
  GApplication *app = g_application_get_default ();
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr (GSettingsSchema) schema = NULL;

  if (app && KPR_IS_APPLICATION (app) && kpr_application_get_settings (KPR_APPLICATION (app)))
    return g_object_ref (kpr_application_get_settings (KPR_APPLICATION (app)));
  /* Without the application (tests), the schema may still be installed. */
  if (source)
    schema = g_settings_schema_source_lookup (source, "org.certkeeper.Certkeeper", TRUE);
  return schema ? g_settings_new_full (schema, NULL, NULL) : NULL;
}

static void
kpr_add_dialog_init (KprAddDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  kpr_a11y_fix_names (GTK_WIDGET (self));
  self->selected = -1;
  self->key_types = g_array_new (FALSE, FALSE, sizeof (KprKeyType));
  self->cancellable = g_cancellable_new ();
  self->settings = find_settings ();
  self->worker = kpr_worker_new (GTK_WIDGET (self));
  set_default_protection (self);

  g_signal_connect_swapped (self->next_button, "clicked", G_CALLBACK (kpr_add_next), self);
  g_signal_connect_swapped (self->back_button, "clicked", G_CALLBACK (on_back), self);
  g_signal_connect_swapped (self->server_row, "changed", G_CALLBACK (on_input_changed), self);
  g_signal_connect_swapped (self->label_row, "changed", G_CALLBACK (on_input_changed), self);
  g_signal_connect_swapped (self->server_row, "entry-activated", G_CALLBACK (kpr_add_next), self);
  g_signal_connect_swapped (self->username_row, "changed", G_CALLBACK (on_username_changed), self);
  g_signal_connect_swapped (self->username_row, "entry-activated",
                            G_CALLBACK (on_username_activated), self);
  g_signal_connect_swapped (self->name_row, "changed", G_CALLBACK (on_name_changed), self);
  g_signal_connect_swapped (self->name_row, "entry-activated", G_CALLBACK (kpr_add_next), self);
  g_signal_connect_swapped (self->key_type_row, "notify::selected",
                            G_CALLBACK (on_input_changed), self);
  g_signal_connect_swapped (self->backup_switch, "notify::active",
                            G_CALLBACK (update_protection), self);
  g_signal_connect_swapped (self, "close-request", G_CALLBACK (on_close_request), self);
  kpr_add_steps_init (self);
  kpr_add_software_init (self);
  kpr_add_show_page (self, "server");
}

KprAddDialog *
kpr_add_dialog_new (GtkWindow *parent)
{
  return g_object_new (KPR_TYPE_ADD_DIALOG, "transient-for", parent, NULL);
}
