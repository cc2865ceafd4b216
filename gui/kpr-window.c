/* kpr-window.c — the main window (see kpr-window.h): the identities as a
 * list of rows, and one identity's detail page.
 *
 * What it shows is loaded by kpr-window-load.c; a reload updates the
 * rows and the history in place (kpr-identity-row.c).
 */
#include "config.h"

#include "kpr-a11y.h"

#include <string.h>

#include "kpr-agent-link.h"
#include "kpr-identity-row.h"
#include "kpr-identity-text.h"
#include "kpr-window-private.h"

G_DEFINE_FINAL_TYPE (KprWindow, kpr_window, ADW_TYPE_APPLICATION_WINDOW)

#define PRESENT_WAIT_MS 400

/* --- the list page --- */

/* What a row needs besides its identity: the clock and the settings. */
static void
row_context (KprWindow *self, gint64 *now, gint64 *lead)
{
  GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));
  GSettings *settings = KPR_IS_APPLICATION (app)
    ? kpr_application_get_settings (KPR_APPLICATION (app)) : NULL;

  *now = g_get_real_time () / G_USEC_PER_SEC;
  *lead = (settings ? g_settings_get_uint (settings, "reminder-lead-days") : 3) * 86400;
}

/* The list's items are GtkStringObjects holding an identity's name, or
 * for a record that cannot be read "NAME: why" and the data
 * "kpr-damaged". */
static void
bind_row (KprWindow *self, GtkWidget *row, GObject *item, gint64 now, gint64 lead)
{
  const char *text = gtk_string_object_get_string (GTK_STRING_OBJECT (item));
  const KprIdentity *id;

  if (g_object_get_data (item, "kpr-damaged"))
    {
      kpr_damaged_row_bind (row, text);
      return;
    }
  id = kpr_window_lookup (self, text);
  if (id)
    kpr_identity_row_bind (row, id, now, lead, kpr_agent_link_needs (self->agent_link, id->name));
}

static void
on_row_widget_activate (GtkWidget *row, KprWindow *self)
{
  const char *name = g_object_get_data (G_OBJECT (row), "kpr-name");

  if (name)
    kpr_window_show_identity (self, name);
}

static void
on_factory_setup (GtkListItemFactory *factory, GtkListItem *item, KprWindow *self)
{
  GtkWidget *row = kpr_identity_row_new ();

  /* gtk_widget_activate() on the row itself (an AdwActionRow outside a
   * GtkListBox) opens it too. */
  g_signal_connect (row, "activate", G_CALLBACK (on_row_widget_activate), self);
  gtk_list_item_set_child (item, row);
}

static void
on_factory_bind (GtkListItemFactory *factory, GtkListItem *item, KprWindow *self)
{
  GObject *entry = gtk_list_item_get_item (item);
  gint64 now, lead;

  row_context (self, &now, &lead);
  bind_row (self, gtk_list_item_get_child (item), entry, now, lead);
  gtk_list_item_set_activatable (item, g_object_get_data (entry, "kpr-damaged") == NULL);
}

static void
on_list_activate (KprWindow *self, guint position)
{
  g_autoptr (GObject) entry = g_list_model_get_item (G_LIST_MODEL (self->entries), position);

  if (entry && !g_object_get_data (entry, "kpr-damaged"))
    kpr_window_show_identity (self, gtk_string_object_get_string (GTK_STRING_OBJECT (entry)));
}

/* Whether the list holds the identities as loaded, in order, and no
 * damaged record: then only the texts of the rows on screen change. */
static gboolean
same_entries (KprWindow *self)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->entries));

  if (self->damaged->len || n != self->identities->len)
    return FALSE;
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (GObject) entry = g_list_model_get_item (G_LIST_MODEL (self->entries), i);
      const KprIdentity *id = self->identities->pdata[i];

      if (g_object_get_data (entry, "kpr-damaged")
          || g_strcmp0 (gtk_string_object_get_string (GTK_STRING_OBJECT (entry)), id->name) != 0)
        return FALSE;
    }
  return TRUE;
}

void
kpr_window_update_list (KprWindow *self)
{
  gint64 now, lead;

  row_context (self, &now, &lead);
  if (same_entries (self))
    {
      /* The usual reload (one renewed, or the minute's tick): the rows
       * the list view has built are updated in place. */
      for (GtkWidget *c = gtk_widget_get_first_child (GTK_WIDGET (self->identity_list)); c;
           c = gtk_widget_get_next_sibling (c))
        {
          GtkWidget *row = gtk_widget_get_first_child (c);
          const char *name = row ? g_object_get_data (G_OBJECT (row), "kpr-name") : NULL;
          const KprIdentity *id = name ? kpr_window_lookup (self, name) : NULL;

          if (id)
            kpr_identity_row_update (row, id, now, lead,
                                     kpr_agent_link_needs (self->agent_link, id->name));
        }
    }
  else
    {
      guint n = self->identities->len + self->damaged->len;
      g_autofree gpointer *entries = g_new0 (gpointer, n + 1);

      for (guint i = 0; i < self->identities->len; i++)
        entries[i] = gtk_string_object_new (((KprIdentity *) self->identities->pdata[i])->name);
      for (guint i = 0; i < self->damaged->len; i++)
        {
          GtkStringObject *entry = gtk_string_object_new (self->damaged->pdata[i]);

          g_object_set_data (G_OBJECT (entry), "kpr-damaged", GINT_TO_POINTER (TRUE));
          entries[self->identities->len + i] = entry;
        }
      g_list_store_splice (self->entries, 0, g_list_model_get_n_items (G_LIST_MODEL (self->entries)),
                           entries, n);
      for (guint i = 0; i < n; i++)
        g_object_unref (entries[i]);
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

/* --- the detail page --- */

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
ACTION_BUTTON (on_browsers_fix_clicked, "win.browsers-fix")
#undef ACTION_BUTTON

/* Statuses change with the clock (due, expired): redrawn every minute,
 * without touching the store. */
/* The header's button does whatever the detail page chose for it. */
static void
on_primary_clicked (KprWindow *self)
{
  const char *action = g_object_get_data (G_OBJECT (self->primary_button), "kpr-action");

  if (self->shown && action)
    gtk_widget_activate_action (GTK_WIDGET (self), action, "s", self->shown);
}

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

/* A toast is one line, which libadwaita cuts short ("…") when the text
 * is wider than the window leaves it.  Its title is set in the "heading"
 * style, and the toast's margins, padding and close button take
 * TOAST_CHROME_PX of the width (libadwaita 1.2, measured at 360 and 720
 * pixels: 94, the same at both; the gui suite checks that no toast is cut
 * short). */
#define TOAST_CHROME_PX 100

static gboolean
toast_fits (KprWindow *self, const char *message)
{
  g_autoptr (GtkWidget) probe = g_object_ref_sink (gtk_label_new (NULL));
  g_autoptr (PangoLayout) layout = NULL;
  int width = 0, room = gtk_widget_get_width (GTK_WIDGET (self->toasts));

  if (room <= 0) /* not laid out yet: its default size */
    gtk_window_get_default_size (GTK_WINDOW (self), &room, NULL);
  gtk_widget_add_css_class (probe, "heading");
  layout = gtk_widget_create_pango_layout (probe, message);
  pango_layout_get_pixel_size (layout, &width, NULL);
  return width + TOAST_CHROME_PX <= room;
}

void
kpr_window_toast (KprWindow *self, const char *message)
{
  AdwToast *toast;

  /* The newest outcome replaces the last one rather than queue behind it. */
  if (self->toast)
    adw_toast_dismiss (self->toast);
  g_clear_object (&self->toast);
  if (self->message_dialog)
    gtk_window_destroy (self->message_dialog);
  if (!toast_fits (self, message))
    {
      /* Said in full, in a dialog, rather than cut short. */
      GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (self), NULL, message);

      adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", "_Close");
      gtk_widget_set_name (dialog, "kpr-message-dialog");
      self->message_dialog = GTK_WINDOW (dialog);
      g_object_add_weak_pointer (G_OBJECT (dialog), (gpointer *) &self->message_dialog);
      gtk_window_present (GTK_WINDOW (dialog));
      return;
    }
  toast = adw_toast_new (message);
  g_set_object (&self->toast, toast);
  adw_toast_set_timeout (toast, 8);
  adw_toast_overlay_add_toast (self->toasts, toast);
}

void
kpr_window_set_busy (KprWindow *self, const char *message)
{
  kpr_window_ensure_detail (self);
  self->busy = message != NULL;
  gtk_label_set_text (self->progress_label, message ? message : "");
  gtk_spinner_set_spinning (self->progress_spinner, self->busy);
  gtk_revealer_set_reveal_child (self->progress_revealer, self->busy);
  kpr_window_update_detail (self);
}

/* The detail page (kpr-window-detail.ui), built the first time it is
 * needed rather than with the window: the first frame of the list does
 * not wait for it (bench/RESULTS.md, cold start). */
void
kpr_window_ensure_detail (KprWindow *self)
{
#define DETAIL(name, member) { name, G_STRUCT_OFFSET (KprWindow, member) }
  static const struct {
    const char *id;
    glong offset;
  } children[] = {
    DETAIL ("detail-page", detail_page),
    DETAIL ("detail-title", detail_title),
    DETAIL ("progress-revealer", progress_revealer),
    DETAIL ("progress-spinner", progress_spinner),
    DETAIL ("progress-label", progress_label),
    DETAIL ("renew-button", renew_button),
    DETAIL ("backup-button", backup_button),
    DETAIL ("lock-button", lock_button),
    DETAIL ("revoke-button", revoke_button),
    DETAIL ("delete-button", delete_button),
    DETAIL ("copy-uri-button", copy_uri_button),
    DETAIL ("detail-state", detail_state),
    DETAIL ("detail-subject", detail_subject),
    DETAIL ("detail-issuer", detail_issuer),
    DETAIL ("detail-serial", detail_serial),
    DETAIL ("detail-validity", detail_validity),
    DETAIL ("detail-sha256", detail_sha256),
    DETAIL ("detail-sha1", detail_sha1),
    DETAIL ("detail-where", detail_where),
    DETAIL ("detail-uri", detail_uri),
    DETAIL ("detail-backup", detail_backup),
    DETAIL ("history-list", history_list),
    DETAIL ("primary-button", primary_button),
    DETAIL ("detail-scroll", detail_scroll),
    DETAIL ("detail-account", detail_account),
    DETAIL ("detail-key-type", detail_key_type),
    DETAIL ("detail-until", detail_until),
    DETAIL ("detail-browsers", detail_browsers),
    DETAIL ("browsers-fix-button", browsers_fix_button),
    DETAIL ("actions-group", actions_group),
    DETAIL ("renew-row", renew_row),
    DETAIL ("backup-row", backup_row),
    DETAIL ("lock-row", lock_row),
    DETAIL ("remove-group", remove_group),
    DETAIL ("revoke-row", revoke_row),
  };
#undef DETAIL
  g_autoptr (GtkBuilder) builder = NULL;
  g_autoptr (GtkBuilderScope) scope = NULL;
  g_autoptr (GError) error = NULL;

  if (self->detail_page)
    return;
  builder = gtk_builder_new ();
  scope = gtk_builder_cscope_new ();
  gtk_builder_cscope_add_callback (scope, on_back_clicked);
  gtk_builder_cscope_add_callback (scope, on_renew_clicked);
  gtk_builder_cscope_add_callback (scope, on_backup_clicked);
  gtk_builder_cscope_add_callback (scope, on_lock_clicked);
  gtk_builder_cscope_add_callback (scope, on_revoke_clicked);
  gtk_builder_cscope_add_callback (scope, on_delete_clicked);
  gtk_builder_cscope_add_callback (scope, on_copy_uri_clicked);
  gtk_builder_cscope_add_callback (scope, on_browsers_fix_clicked);
  gtk_builder_cscope_add_callback (scope, on_primary_clicked);
  gtk_builder_set_scope (builder, scope);
  /* The handlers are swapped: the window is their first argument. */
  gtk_builder_set_current_object (builder, G_OBJECT (self));
  /* Compiled into the program: failing is a build error. */
  gtk_builder_add_from_resource (builder, "/org/certkeeper/Certkeeper/kpr-window-detail.ui", &error);
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (children); i++)
    {
      GObject *child = gtk_builder_get_object (builder, children[i].id);

      g_assert (child);
      G_STRUCT_MEMBER (GObject *, self, children[i].offset) = child;
    }
  kpr_a11y_fix_names (self->detail_page);
  adw_leaflet_append (self->leaflet, self->detail_page);
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
  g_clear_object (&self->browser_worker);
  g_clear_pointer (&self->browsers_name, g_free);
  g_clear_object (&self->toast);
  if (self->message_dialog)
    g_object_remove_weak_pointer (G_OBJECT (self->message_dialog),
                                  (gpointer *) &self->message_dialog);
  self->message_dialog = NULL;
  gtk_widget_dispose_template (GTK_WIDGET (self), KPR_TYPE_WINDOW);
  G_OBJECT_CLASS (kpr_window_parent_class)->dispose (object);
}

static void
kpr_window_finalize (GObject *object)
{
  KprWindow *self = KPR_WINDOW (object);

  g_clear_object (&self->cancellable);
  g_ptr_array_unref (self->identities);
  g_hash_table_unref (self->events);
  g_ptr_array_unref (self->damaged);
  g_clear_object (&self->entries);
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
  gtk_widget_class_bind_template_callback (widget_class, on_list_activate);
  gtk_widget_class_bind_template_callback (widget_class, on_page_changed);
}
#undef BIND

static void
kpr_window_init (KprWindow *self)
{
  GtkListItemFactory *factory;
  GtkNoSelection *selection;

  self->identities = g_ptr_array_new_with_free_func ((GDestroyNotify) kpr_identity_free);
  self->events = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify) g_ptr_array_unref);
  self->damaged = g_ptr_array_new_with_free_func (g_free);
  self->cancellable = g_cancellable_new ();
  self->loader = kpr_worker_new (GTK_WIDGET (self));
  g_object_set_data (G_OBJECT (self->loader), "kpr-window", self);
  /* The store is read (in the loader's thread) while the widgets are
   * built: its answer arrives from the main loop, after this. */
  kpr_window_start_load (self);

  gtk_widget_init_template (GTK_WIDGET (self));
  kpr_a11y_fix_names (GTK_WIDGET (self));
  self->entries = g_list_store_new (GTK_TYPE_STRING_OBJECT);
  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (on_factory_setup), self);
  g_signal_connect (factory, "bind", G_CALLBACK (on_factory_bind), self);
  gtk_list_view_set_factory (self->identity_list, factory);
  g_object_unref (factory);
  selection = gtk_no_selection_new (G_LIST_MODEL (g_object_ref (self->entries)));
  gtk_list_view_set_model (self->identity_list, GTK_SELECTION_MODEL (selection));
  g_object_unref (selection);
  self->worker = kpr_worker_new (GTK_WIDGET (self));
  /* Only while busy, so once the detail page is built. */
  g_signal_connect (self->worker, "progress", G_CALLBACK (on_progress), self);
  self->tick_source = g_timeout_add_seconds (60, on_tick, self);
  kpr_window_add_actions (self);
  kpr_window_update_list (self);
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
  kpr_window_ensure_detail (window);
  if (g_strcmp0 (window->shown, name) != 0)
    {
      g_free (window->shown);
      window->shown = g_strdup (name);
      /* Another identity opens at its top, not at the last one's scroll
       * position, and its browsers are checked afresh. */
      gtk_adjustment_set_value (gtk_scrolled_window_get_vadjustment (window->detail_scroll), 0);
      g_clear_pointer (&window->browsers_name, g_free);
    }
  /* Before the first load the page fills in when the identities arrive. */
  kpr_window_update_detail (window);
  adw_leaflet_set_visible_child (window->leaflet, window->detail_page);
}
