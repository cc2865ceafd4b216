/* kpr-window.c — the main window (see kpr-window.h): the identities as a
 * list of rows, and one identity's detail page.
 *
 * What it shows is loaded by kpr-window-load.c; a reload updates the
 * rows and the history in place (kpr-identity-row.c).
 */
#include "config.h"

#include <string.h>

#include "kpr-agent-link.h"
#include "kpr-identity-row.h"
#include "kpr-identity-text.h"
#include "kpr-window-private.h"

/* Enough history for a person; the whole log stays in NAME.log. */
#define KPR_HISTORY_LINES 50

G_DEFINE_FINAL_TYPE (KprWindow, kpr_window, ADW_TYPE_APPLICATION_WINDOW)

#define PRESENT_WAIT_MS 400

/* --- the list page --- */

void
kpr_window_update_list (KprWindow *self)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));
  GSettings *settings = KPR_IS_APPLICATION (app)
    ? kpr_application_get_settings (KPR_APPLICATION (app)) : NULL;
  gint64 lead = (settings ? g_settings_get_uint (settings, "reminder-lead-days") : 3) * 86400;
  GtkWidget *child;

  guint i = 0;

  /* The same identities as shown (the usual reload: one renewed, or the
   * minute's tick): the rows are updated in place. */
  child = gtk_widget_get_first_child (GTK_WIDGET (self->identity_list));
  for (; child && i < self->identities->len; child = gtk_widget_get_next_sibling (child), i++)
    {
      const KprIdentity *id = self->identities->pdata[i];
      if (g_strcmp0 (g_object_get_data (G_OBJECT (child), "kpr-name"), id->name) != 0
          || !g_object_get_data (G_OBJECT (child), "kpr-badge"))
        break;
    }
  if (child || i != self->identities->len || self->damaged->len)
    {
      while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->identity_list))))
        gtk_list_box_remove (self->identity_list, child);
      for (i = 0; i < self->identities->len; i++)
        {
          const KprIdentity *id = self->identities->pdata[i];

          gtk_list_box_append (self->identity_list,
                               kpr_identity_row_new (id, now, lead,
                                             kpr_agent_link_needs (self->agent_link, id->name)));
        }
      for (i = 0; i < self->damaged->len; i++)
        gtk_list_box_append (self->identity_list, kpr_damaged_row_new (self->damaged->pdata[i]));
    }
  else
    for (i = 0, child = gtk_widget_get_first_child (GTK_WIDGET (self->identity_list)); child;
         child = gtk_widget_get_next_sibling (child), i++)
      {
        const KprIdentity *id = self->identities->pdata[i];

        kpr_identity_row_update (child, id, now, lead, kpr_agent_link_needs (self->agent_link, id->name));
      }
  /* A spinner spins (and redraws the window every frame) even on a page
   * nobody sees: only while loading. */
  gtk_spinner_set_spinning (self->loading_spinner, !self->loaded);
  if (!self->loaded)
    gtk_stack_set_visible_child_name (self->list_stack, "loading");
  else if (self->identities->len + self->damaged->len == 0)
    gtk_stack_set_visible_child_name (self->list_stack, "empty");
  else
    gtk_stack_set_visible_child_name (self->list_stack, "list");
}

static void
on_row_activated (KprWindow *self, GtkListBoxRow *row)
{
  const char *name = g_object_get_data (G_OBJECT (row), "kpr-name");

  if (name)
    kpr_window_show_identity (self, name);
}

/* --- the detail page --- */

static void
set_row (AdwActionRow *row, const char *text)
{
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_action_row_set_subtitle (row, text && *text ? text : "—");
}

static void
update_history (KprWindow *self, const char *name)
{
  GStrv lines = g_hash_table_lookup (self->audits, name);
  guint n = lines ? g_strv_length (lines) : 0;
  GtkWidget *child;

  if (self->history_count > 0 && n >= self->history_count
      && g_strcmp0 (self->history_name, name) == 0)
    {
      guint shown = 0;

      /* The log only grows: its new lines go on top and the oldest shown
       * drop off; the others keep their (measured) labels. */
      for (guint i = self->history_count; i < n; i++)
        gtk_list_box_prepend (self->history_list, kpr_history_label_new (lines[i]));
      for (child = gtk_widget_get_first_child (GTK_WIDGET (self->history_list)); child;)
        {
          GtkWidget *next = gtk_widget_get_next_sibling (child);
          if (++shown > KPR_HISTORY_LINES)
            gtk_list_box_remove (self->history_list, child);
          child = next;
        }
      self->history_count = n;
      return;
    }
  g_free (self->history_name);
  self->history_name = g_strdup (name);
  self->history_count = n;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->history_list))))
    gtk_list_box_remove (self->history_list, child);
  /* Newest first: what just happened is what a person looks for. */
  for (guint i = n; i > 0 && n - i < KPR_HISTORY_LINES; i--)
    gtk_list_box_append (self->history_list, kpr_history_label_new (lines[i - 1]));
  if (n == 0)
    {
      GtkWidget *label = gtk_label_new ("Nothing recorded yet.");

      gtk_widget_add_css_class (label, "dim-label");
      gtk_widget_set_margin_top (label, 6);
      gtk_widget_set_margin_bottom (label, 6);
      gtk_list_box_append (self->history_list, label);
    }
}

void
kpr_window_update_detail (KprWindow *self)
{
  const KprIdentity *id = self->shown ? kpr_window_lookup (self, self->shown) : NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  g_autofree char *where = NULL, *uri = NULL, *subtitle = NULL, *state = NULL;
  const char *css = NULL;
  gboolean exportable;

  if (!id)
    return;
  subtitle = kpr_identity_subtitle_text (id, now);
  adw_window_title_set_title (self->detail_title, id->name);
  adw_window_title_set_subtitle (self->detail_title, kpr_identity_badge_text (id, now, &css));
  state = id->state == KPR_STATE_FAILED && id->failed_reason
            ? g_strdup_printf ("%s: %s", kpr_identity_badge_text (id, now, &css), id->failed_reason)
            : g_strdup_printf ("%s (%s)", kpr_identity_badge_text (id, now, &css), subtitle);
  set_row (self->detail_state, state);
  if (id->cert)
    {
      g_autofree char *subject = kpr_ossl_name_text (X509_get_subject_name (id->cert));
      g_autofree char *issuer = kpr_ossl_name_text (X509_get_issuer_name (id->cert));
      g_autofree char *serial = kpr_ossl_serial_hex (id->cert);
      g_autofree char *from = kpr_cert_time_text (X509_get0_notBefore (id->cert));
      g_autofree char *until = kpr_cert_time_text (X509_get0_notAfter (id->cert));
      g_autofree char *validity = g_strdup_printf ("%s to %s", from, until);
      g_autofree char *sha256 = kpr_ossl_fingerprint (id->cert, EVP_sha256 ());
      g_autofree char *sha1 = kpr_ossl_fingerprint (id->cert, EVP_sha1 ());

      set_row (self->detail_subject, subject);
      set_row (self->detail_issuer, issuer);
      set_row (self->detail_serial, serial);
      set_row (self->detail_validity, validity);
      set_row (self->detail_sha256, sha256);
      set_row (self->detail_sha1, sha1);
    }
  else
    {
      set_row (self->detail_subject, NULL);
      set_row (self->detail_issuer, NULL);
      set_row (self->detail_serial, NULL);
      set_row (self->detail_validity, NULL);
      set_row (self->detail_sha256, NULL);
      set_row (self->detail_sha1, NULL);
    }
  where = kpr_identity_where_text (id);
  set_row (self->detail_where, where);
  uri = kpr_identity_key_uri (id);
  set_row (self->detail_uri, uri);
  gtk_widget_set_sensitive (self->copy_uri_button, uri != NULL);
  if (id->backup_when)
    {
      g_autofree char *backup = g_strdup_printf ("%s, %s", id->backup_when,
                                                 id->backup_where ? id->backup_where : "");
      set_row (self->detail_backup, backup);
    }
  else
    set_row (self->detail_backup, kpr_identity_backup_missing (id) ? "None yet" : "None");
  update_history (self, id->name);

  exportable = id->protection == KPR_PROTECTION_EXPORTABLE;
  /* A revoked or failed identity is not renewed: it is added again. */
  gtk_widget_set_sensitive (self->renew_button, !self->busy && id->state != KPR_STATE_REVOKED
                                                  && id->state != KPR_STATE_FAILED);
  gtk_widget_set_sensitive (self->backup_button, !self->busy && exportable);
  gtk_widget_set_tooltip_text (self->backup_button,
                               exportable ? "Write the key and certificate to a file protected by a passphrase"
                                          : "The key is locked on its token: it cannot be copied, so there is nothing to back up.");
  gtk_widget_set_sensitive (self->lock_button, !self->busy && exportable);
  gtk_widget_set_tooltip_text (self->lock_button,
                               exportable ? "Make the key impossible to copy from now on"
                                          : "The key is already locked: it never leaves its token.");
  gtk_widget_set_sensitive (self->revoke_button,
                            !self->busy && id->cert && id->state != KPR_STATE_REVOKED);
  gtk_widget_set_sensitive (self->delete_button, !self->busy);
}

static void
on_back_clicked (KprWindow *self)
{
  kpr_window_show_identity (self, NULL);
}

static void
on_page_changed (KprWindow *self)
{
  /* Back by Escape or a swipe: the detail page is no longer shown. */
  if (adw_leaflet_get_visible_child (self->leaflet) == self->list_page)
    g_clear_pointer (&self->shown, g_free);
}

#define ACTION_BUTTON(fn, action)                                                    \
  static void fn (KprWindow *self)                                                   \
  {                                                                                  \
    if (self->shown)                                                                 \
      gtk_widget_activate_action (GTK_WIDGET (self), action, "s", self->shown);      \
  }
ACTION_BUTTON (on_renew_clicked, "win.renew")
ACTION_BUTTON (on_backup_clicked, "win.backup")
ACTION_BUTTON (on_lock_clicked, "win.lock")
ACTION_BUTTON (on_revoke_clicked, "win.revoke")
ACTION_BUTTON (on_delete_clicked, "win.delete")
ACTION_BUTTON (on_copy_uri_clicked, "win.copy-uri")
#undef ACTION_BUTTON

/* Statuses change with the clock (due, expired): redrawn every minute,
 * without touching the store. */
static gboolean
on_tick (gpointer data)
{
  KprWindow *self = data;

  if (self->loaded)
    {
      kpr_window_update_list (self);
      kpr_window_update_detail (self);
    }
  return G_SOURCE_CONTINUE;
}

static void
on_progress (KprWorker *worker, const char *message, KprWindow *self)
{
  if (self->busy)
    gtk_label_set_text (self->progress_label, message);
}

/* --- shared with kpr-window-actions.c --- */

const KprIdentity *
kpr_window_lookup (KprWindow *self, const char *name)
{
  for (guint i = 0; i < self->identities->len; i++)
    {
      const KprIdentity *id = self->identities->pdata[i];
      if (g_strcmp0 (id->name, name) == 0)
        return id;
    }
  return NULL;
}

KprWorker *
kpr_window_get_worker (KprWindow *self)
{
  return self->worker;
}

void
kpr_window_toast (KprWindow *self, const char *message)
{
  AdwToast *toast = adw_toast_new (message);

  /* The newest outcome replaces the last one rather than queue behind it. */
  if (self->toast)
    adw_toast_dismiss (self->toast);
  g_set_object (&self->toast, toast);
  adw_toast_set_timeout (toast, 8);
  adw_toast_overlay_add_toast (self->toasts, toast);
}

void
kpr_window_set_busy (KprWindow *self, const char *message)
{
  self->busy = message != NULL;
  gtk_label_set_text (self->progress_label, message ? message : "");
  gtk_spinner_set_spinning (self->progress_spinner, self->busy);
  gtk_revealer_set_reveal_child (self->progress_revealer, self->busy);
  kpr_window_update_detail (self);
}

/* --- the object --- */

static void
kpr_window_dispose (GObject *object)
{
  KprWindow *self = KPR_WINDOW (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->reload_source, g_source_remove);
  g_clear_handle_id (&self->present_source, g_source_remove);
  g_clear_handle_id (&self->tick_source, g_source_remove);
  g_clear_pointer (&self->agent_link, kpr_agent_link_free);
  g_clear_pointer (&self->history_name, g_free);
  if (self->monitor)
    g_signal_handlers_disconnect_by_data (self->monitor, self);
  g_clear_object (&self->monitor);
  /* A job still running finishes on its own; its callback finds no window. */
  if (self->loader)
    g_object_set_data (G_OBJECT (self->loader), "kpr-window", NULL);
  if (self->worker)
    g_signal_handlers_disconnect_by_data (self->worker, self);
  g_clear_object (&self->loader);
  g_clear_object (&self->worker);
  g_clear_object (&self->toast);
  gtk_widget_dispose_template (GTK_WIDGET (self), KPR_TYPE_WINDOW);
  G_OBJECT_CLASS (kpr_window_parent_class)->dispose (object);
}

static void
kpr_window_finalize (GObject *object)
{
  KprWindow *self = KPR_WINDOW (object);

  g_clear_object (&self->cancellable);
  g_ptr_array_unref (self->identities);
  g_hash_table_unref (self->audits);
  g_ptr_array_unref (self->damaged);
  g_free (self->shown);
  G_OBJECT_CLASS (kpr_window_parent_class)->finalize (object);
}

#define BIND(name, member) \
  gtk_widget_class_bind_template_child_full (widget_class, name, FALSE, \
                                             G_STRUCT_OFFSET (KprWindow, member))

static void
kpr_window_class_init (KprWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kpr_window_dispose;
  object_class->finalize = kpr_window_finalize;
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/certkeeper/Certkeeper/kpr-window.ui");
  BIND ("toasts", toasts);
  BIND ("leaflet", leaflet);
  BIND ("list-page", list_page);
  BIND ("list-stack", list_stack);
  BIND ("loading-spinner", loading_spinner);
  BIND ("identity-list", identity_list);
  BIND ("detail-page", detail_page);
  BIND ("detail-title", detail_title);
  BIND ("progress-revealer", progress_revealer);
  BIND ("progress-spinner", progress_spinner);
  BIND ("progress-label", progress_label);
  BIND ("renew-button", renew_button);
  BIND ("backup-button", backup_button);
  BIND ("lock-button", lock_button);
  BIND ("revoke-button", revoke_button);
  BIND ("delete-button", delete_button);
  BIND ("copy-uri-button", copy_uri_button);
  BIND ("detail-state", detail_state);
  BIND ("detail-subject", detail_subject);
  BIND ("detail-issuer", detail_issuer);
  BIND ("detail-serial", detail_serial);
  BIND ("detail-validity", detail_validity);
  BIND ("detail-sha256", detail_sha256);
  BIND ("detail-sha1", detail_sha1);
  BIND ("detail-where", detail_where);
  BIND ("detail-uri", detail_uri);
  BIND ("detail-backup", detail_backup);
  BIND ("history-list", history_list);
  gtk_widget_class_bind_template_callback (widget_class, on_row_activated);
  gtk_widget_class_bind_template_callback (widget_class, on_back_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_page_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_renew_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_backup_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_lock_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_revoke_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_delete_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_copy_uri_clicked);
}
#undef BIND

static void
kpr_window_init (KprWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->identities = g_ptr_array_new_with_free_func ((GDestroyNotify) kpr_identity_free);
  self->audits = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify) g_strfreev);
  self->damaged = g_ptr_array_new_with_free_func (g_free);
  self->cancellable = g_cancellable_new ();
  self->loader = kpr_worker_new (GTK_WIDGET (self));
  g_object_set_data (G_OBJECT (self->loader), "kpr-window", self);
  self->worker = kpr_worker_new (GTK_WIDGET (self));
  g_signal_connect (self->worker, "progress", G_CALLBACK (on_progress), self);
  self->tick_source = g_timeout_add_seconds (60, on_tick, self);
  kpr_window_add_actions (self);
  kpr_window_update_list (self);
  kpr_window_start_load (self);
}

static void
on_agent_changed (gpointer data)
{
  KprWindow *self = data;

  if (self->loaded)
    kpr_window_update_list (self);
}

static void
on_lead_changed (KprWindow *self)
{
  if (self->loaded)
    kpr_window_update_list (self);
}

KprWindow *
kpr_window_new (KprApplication *app)
{
  KprWindow *window = g_object_new (KPR_TYPE_WINDOW, "application", app, NULL);
  GSettings *settings = app ? kpr_application_get_settings (app) : NULL;

  GDBusConnection *bus = app ? g_application_get_dbus_connection (G_APPLICATION (app)) : NULL;

  if (settings)
    g_signal_connect_object (settings, "changed::reminder-lead-days",
                             G_CALLBACK (on_lead_changed), window, G_CONNECT_SWAPPED);
  if (bus)
    window->agent_link = kpr_agent_link_new (bus, on_agent_changed, window);
  return window;
}

static gboolean
on_present_timeout (gpointer data)
{
  KprWindow *self = data;

  self->present_source = 0;
  self->present_on_load = FALSE;
  gtk_window_present (GTK_WINDOW (self));
  return G_SOURCE_REMOVE;
}

void
kpr_window_present_loaded (KprWindow *window)
{
  g_return_if_fail (KPR_IS_WINDOW (window));
  if (window->loaded || gtk_widget_get_visible (GTK_WIDGET (window)))
    {
      gtk_window_present (GTK_WINDOW (window));
      return;
    }
  /* Shown with its identities in it: laid out once rather than with a
   * spinner first and the rows again a moment later (bench/RESULTS.md,
   * cold start).  A slow store (a busy lock) shows the spinner after
   * PRESENT_WAIT_MS rather than nothing. */
  window->present_on_load = TRUE;
  if (!window->present_source)
    window->present_source = g_timeout_add (PRESENT_WAIT_MS, on_present_timeout, window);
}

void
kpr_window_refresh (KprWindow *window)
{
  g_return_if_fail (KPR_IS_WINDOW (window));
  kpr_window_start_load (window);
}

void
kpr_window_show_identity (KprWindow *window, const char *name)
{
  g_return_if_fail (KPR_IS_WINDOW (window));
  if (!name)
    {
      g_clear_pointer (&window->shown, g_free);
      adw_leaflet_set_visible_child (window->leaflet, window->list_page);
      return;
    }
  if (window->loaded && !kpr_window_lookup (window, name))
    {
      g_autofree char *message = g_strdup_printf ("There is no identity named “%s”.", name);
      kpr_window_toast (window, message);
      return;
    }
  if (window->shown != name)
    {
      g_free (window->shown);
      window->shown = g_strdup (name);
    }
  /* Before the first load the page fills in when the identities arrive. */
  kpr_window_update_detail (window);
  adw_leaflet_set_visible_child (window->leaflet, window->detail_page);
}
