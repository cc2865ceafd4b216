/* kpr-agent-link.c — certkeeper-gtk's view of a running certkeeper-agent
 * (see kpr-agent-link.h).  Plain GDBus: the agent's introspection is
 * agent/resident/org.certkeeper.Agent1.xml. */
#include "config.h"

#include "kpr-agent-bus.h"
#include "kpr-agent-link.h"


struct _KprAgentLink {
  GDBusConnection *bus;
  void (*changed) (gpointer data);
  gpointer data;
  guint watch_id, signal_id;
  gboolean running;
  GHashTable *needs; /* name → what the agent waits for */
  GCancellable *cancellable;
};

static void
on_waiting (GObject *source, GAsyncResult *result, gpointer data)
{
  KprAgentLink *link = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result,
                                                              &error);
  g_autoptr (GVariantIter) iter = NULL;
  const char *name, *needs;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return; /* @link is gone */
  g_hash_table_remove_all (link->needs);
  if (reply)
    {
      g_variant_get (reply, "(a(sss))", &iter);
      while (g_variant_iter_next (iter, "(&s&s&s)", &name, &needs, NULL))
        g_hash_table_insert (link->needs, g_strdup (name), g_strdup (needs));
    }
  link->changed (link->data);
}

static void
ask_waiting (KprAgentLink *link)
{
  /* NO_AUTO_START: looking must not start an agent the person stopped. */
  g_dbus_connection_call (link->bus, KPR_AGENT_BUS_NAME, KPR_AGENT_BUS_PATH, KPR_AGENT_BUS_INTERFACE, "Waiting", NULL,
                          G_VARIANT_TYPE ("(a(sss))"), G_DBUS_CALL_FLAGS_NO_AUTO_START, 10000,
                          link->cancellable, on_waiting, link);
}

static void
on_agent_signal (GDBusConnection *bus, const char *sender, const char *path, const char *iface,
                 const char *signal, GVariant *params, gpointer data)
{
  ask_waiting (data);
}

static void
on_appeared (GDBusConnection *bus, const char *name, const char *owner, gpointer data)
{
  KprAgentLink *link = data;

  link->running = TRUE;
  ask_waiting (link);
}

static void
on_vanished (GDBusConnection *bus, const char *name, gpointer data)
{
  KprAgentLink *link = data;
  gboolean was = link->running;

  link->running = FALSE;
  g_hash_table_remove_all (link->needs);
  if (was)
    link->changed (link->data);
}

KprAgentLink *
kpr_agent_link_new (GDBusConnection *bus, void (*changed) (gpointer data), gpointer data)
{
  KprAgentLink *link = g_new0 (KprAgentLink, 1);

  link->bus = g_object_ref (bus);
  link->changed = changed;
  link->data = data;
  link->needs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  link->cancellable = g_cancellable_new ();
  link->signal_id = g_dbus_connection_signal_subscribe (bus, NULL, KPR_AGENT_BUS_INTERFACE, NULL, KPR_AGENT_BUS_PATH,
                                                        NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                                        on_agent_signal, link, NULL);
  link->watch_id = g_bus_watch_name_on_connection (bus, KPR_AGENT_BUS_NAME, G_BUS_NAME_WATCHER_FLAGS_NONE,
                                                   on_appeared, on_vanished, link, NULL);
  return link;
}

void
kpr_agent_link_free (KprAgentLink *link)
{
  if (!link)
    return;
  g_cancellable_cancel (link->cancellable);
  g_bus_unwatch_name (link->watch_id);
  g_dbus_connection_signal_unsubscribe (link->bus, link->signal_id);
  g_clear_object (&link->cancellable);
  g_clear_pointer (&link->needs, g_hash_table_unref);
  g_clear_object (&link->bus);
  g_free (link);
}

gboolean
kpr_agent_link_is_running (KprAgentLink *link)
{
  return link && link->running;
}

const char *
kpr_agent_link_needs (KprAgentLink *link, const char *name)
{
  return link ? g_hash_table_lookup (link->needs, name) : NULL;
}
