/* kpr-add-software.c — "Add an identity" on a computer that has no key
 * store yet: "This computer" stays a choice, and the "pin" page creates
 * the software token (kpr_agent_create_software_token) with a PIN the
 * person types twice, checked as it is typed (issue 10, item 5).
 *
 * The PIN just chosen is handed to the worker for the enrollment's one
 * PIN question, so nobody types it a third time a second later; it goes
 * away with the worker, or when another token is picked.
 */
#include "config.h"

#include <string.h>

#include "kpr-add-dialog-private.h"

gboolean
kpr_add_software_check (KprAddDialog *self)
{
  const char *pin = gtk_editable_get_text (GTK_EDITABLE (self->pin_row));
  const char *again = gtk_editable_get_text (GTK_EDITABLE (self->pin_again_row));
  g_autofree char *problem = kpr_software_pin_problem (pin, again);
  g_autofree char *alone = kpr_software_pin_problem (pin, pin); /* the first PIN's own rules */
  gsize typed = strlen (again);
  /* Only what is wrong already: not "too short" before anything was
   * typed, not "type it again" or "not the same" while the second entry
   * is empty or still agrees with the first so far. */
  gboolean say = *pin && (alone || (typed > 0 && (typed >= strlen (pin)
                                                 || strncmp (pin, again, typed) != 0)));

  kpr_add_set_error (self->pin_error, say ? problem : NULL);
  return problem == NULL;
}

typedef struct {
  KprAddDialog *self;
  KprSecret *pin;
  KprAgentToken *token;
} CreateCall;

static gboolean
create_job (KprAgent *agent, gpointer data, GCancellable *cancellable, GError **error)
{
  CreateCall *call = data;

  call->token = kpr_agent_create_software_token (agent, call->pin, error);
  return call->token != NULL;
}

static void
on_created (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CreateCall *call = user_data;
  KprAddDialog *self = call->self;
  g_autoptr (GError) error = NULL;
  gboolean ok = kpr_worker_run_finish (KPR_WORKER (source), result, &error);

  if (!self->disposed)
    {
      gtk_editable_set_text (GTK_EDITABLE (self->pin_row), "");
      gtk_editable_set_text (GTK_EDITABLE (self->pin_again_row), "");
      if (ok)
        {
          g_ptr_array_add (self->tokens, g_steal_pointer (&call->token));
          self->selected = self->tokens->len - 1;
          kpr_worker_preset (self->worker, KPR_WORKER_PIN, g_steal_pointer (&call->pin));
          kpr_add_fill_tokens (self);
          kpr_add_show_key_page (self);
        }
      else
        {
          kpr_add_show_page (self, "pin");
          kpr_add_set_error (self->pin_error, error->message);
        }
    }
  kpr_secret_free (call->pin);
  kpr_agent_token_free (call->token);
  g_object_unref (call->self);
  g_free (call);
}

void
kpr_add_software_create (KprAddDialog *self)
{
  const char *pin = gtk_editable_get_text (GTK_EDITABLE (self->pin_row));
  CreateCall *call;

  if (!kpr_add_software_check (self) || kpr_worker_is_busy (self->worker))
    return;
  call = g_new0 (CreateCall, 1);
  call->self = g_object_ref (self);
  call->pin = kpr_secret_new (pin, strlen (pin));
  gtk_label_set_text (self->progress_label, "Creating the key store on this computer…");
  kpr_add_show_page (self, "progress");
  /* A key store half made is finished by the next try: no way back. */
  gtk_widget_set_sensitive (GTK_WIDGET (self->cancel_button), FALSE);
  kpr_worker_run (self->worker, create_job, call, NULL, on_created, call);
}

static void
on_pin_changed (KprAddDialog *self)
{
  kpr_add_update_next (self);
}

static void
on_pin_activated (KprAddDialog *self)
{
  gtk_widget_grab_focus (GTK_WIDGET (self->pin_again_row));
}

void
kpr_add_software_init (KprAddDialog *self)
{
  g_signal_connect_swapped (self->pin_row, "changed", G_CALLBACK (on_pin_changed), self);
  g_signal_connect_swapped (self->pin_again_row, "changed", G_CALLBACK (on_pin_changed), self);
  g_signal_connect_swapped (self->pin_row, "entry-activated", G_CALLBACK (on_pin_activated), self);
  g_signal_connect_swapped (self->pin_again_row, "entry-activated", G_CALLBACK (kpr_add_next),
                            self);
}
