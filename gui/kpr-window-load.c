/* kpr-window-load.c — what the main window shows, loaded by a KprWorker
 * job (kpr_store_list and kpr_store_load, with the store's lock, off the
 * main thread): at start, after every action, and again whenever the
 * store's identities/ directory changes (another certkeeper renewed
 * something).  The list keeps what it showed until the new load is in. */
#include "config.h"

#include "kpr-window-private.h"

typedef struct {
  GPtrArray *identities;
  GHashTable *events; /* name → GPtrArray of KprEvent */
  GPtrArray *damaged;
} Load;

static void
load_free (Load *load)
{
  g_clear_pointer (&load->identities, g_ptr_array_unref);
  g_clear_pointer (&load->events, g_hash_table_unref);
  g_clear_pointer (&load->damaged, g_ptr_array_unref);
  g_free (load);
}

static gboolean
load_func (KprAgent *agent, gpointer data, GCancellable *cancellable, GError **error)
{
  Load *load = data;
  KprStore *store = kpr_agent_get_store (agent);
  g_auto (GStrv) names = kpr_store_list (store, error);

  if (!names)
    return FALSE;
  for (char **n = names; *n; n++)
    {
      g_autoptr (GError) local = NULL;
      KprIdentity *id = kpr_store_load (store, *n, &local);
      GPtrArray *events;

      if (id)
        g_ptr_array_add (load->identities, id);
      else
        g_ptr_array_add (load->damaged, g_strdup_printf ("%s: %s", *n, local->message));
      events = kpr_store_read_events (store, *n, NULL);
      if (events)
        g_hash_table_insert (load->events, g_strdup (*n), events);
    }
  return TRUE;
}

static void watch_store (KprWindow *self);

static void
on_loaded (GObject *source, GAsyncResult *result, gpointer data)
{
  Load *load = data;
  KprWindow *self = g_object_get_data (G_OBJECT (source), "kpr-window");
  g_autoptr (GError) error = NULL;

  if (!kpr_worker_run_finish (KPR_WORKER (source), result, &error))
    {
      if (self && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        kpr_window_toast (self, error->message);
    }
  else if (self)
    {
      g_ptr_array_unref (self->identities);
      self->identities = g_steal_pointer (&load->identities);
      g_hash_table_unref (self->events);
      self->events = g_steal_pointer (&load->events);
      g_ptr_array_unref (self->damaged);
      self->damaged = g_steal_pointer (&load->damaged);
    }
  load_free (load);
  if (!self)
    return;
  self->loaded = TRUE;
  kpr_window_update_list (self);
  if (self->shown && !kpr_window_lookup (self, self->shown))
    kpr_window_show_identity (self, NULL);
  else
    kpr_window_update_detail (self);
  watch_store (self);
  if (self->present_on_load)
    {
      self->present_on_load = FALSE;
      g_clear_handle_id (&self->present_source, g_source_remove);
      gtk_window_present (GTK_WINDOW (self));
    }
  if (self->reload_pending)
    kpr_window_start_load (self);
}

void
kpr_window_start_load (KprWindow *self)
{
  Load *load;

  if (kpr_worker_is_busy (self->loader))
    {
      self->reload_pending = TRUE;
      return;
    }
  self->reload_pending = FALSE;
  /* This load sees whatever the store's pending change notices were
   * about (our own job's writes, mostly): no second load for them. */
  g_clear_handle_id (&self->reload_source, g_source_remove);
  load = g_new0 (Load, 1);
  load->identities = g_ptr_array_new_with_free_func ((GDestroyNotify) kpr_identity_free);
  load->events = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify) g_ptr_array_unref);
  load->damaged = g_ptr_array_new_with_free_func (g_free);
  kpr_worker_run (self->loader, load_func, load, self->cancellable, on_loaded, load);
}

static gboolean
on_reload_timeout (gpointer data)
{
  KprWindow *self = data;

  self->reload_source = 0;
  kpr_window_start_load (self);
  return G_SOURCE_REMOVE;
}

static void
on_store_changed (GFileMonitor *monitor, GFile *file, GFile *other, GFileMonitorEvent event,
                  gpointer data)
{
  KprWindow *self = data;

  /* A save is a write and a rename: one reload for the burst. */
  if (!self->reload_source)
    self->reload_source = g_timeout_add (300, on_reload_timeout, self);
}

static void
watch_store (KprWindow *self)
{
  g_autofree char *dir = NULL;
  g_autoptr (GFile) file = NULL;

  if (self->monitor)
    return;
  dir = g_build_filename (g_get_user_state_dir (), "certkeeper", "identities", NULL);
  /* A missing directory would be polled by GIO: watched once a load has
   * created it. */
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    return;
  file = g_file_new_for_path (dir);
  self->monitor = g_file_monitor_directory (file, G_FILE_MONITOR_WATCH_MOVES, NULL, NULL);
  if (self->monitor)
    g_signal_connect (self->monitor, "changed", G_CALLBACK (on_store_changed), self);
}
