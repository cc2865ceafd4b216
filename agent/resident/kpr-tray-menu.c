/* kpr-tray-menu.c — the tray icon's menu: com.canonical.dbusmenu at
 * /MenuBar with "Open certkeeper", "Renew now" (enabled while something
 * needs it), a separator and "Quit".  The menu is fixed; only the
 * "enabled" of "Renew now" changes (kpr_tray_update announces it).
 */
#include "config.h"

#include "kpr-log.h"
#include "kpr-tray-private.h"

static void
add_prop (GVariantBuilder *b, const char *const *names, const char *key, GVariant *value)
{
  g_variant_ref_sink (value);
  if (!names || !names[0] || g_strv_contains (names, key))
    g_variant_builder_add (b, "{sv}", key, value);
  g_variant_unref (value);
}

GVariant *
kpr_tray_menu_props (KprTray *tray, int id, const char *const *names)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{sv}"));
  switch (id)
    {
    case MENU_ROOT:
      add_prop (&b, names, "children-display", g_variant_new_string ("submenu"));
      break;
    case MENU_OPEN:
      add_prop (&b, names, "label", g_variant_new_string ("Open certkeeper"));
      break;
    case MENU_RENEW:
      add_prop (&b, names, "label", g_variant_new_string ("Renew now"));
      add_prop (&b, names, "enabled",
                g_variant_new_boolean (tray->due && tray->due[0] != NULL));
      break;
    case MENU_SEPARATOR:
      add_prop (&b, names, "type", g_variant_new_string ("separator"));
      break;
    case MENU_QUIT:
      add_prop (&b, names, "label", g_variant_new_string ("Quit"));
      break;
    }
  return g_variant_builder_end (&b);
}

static GVariant *
layout_node (KprTray *tray, int id, int depth, const char *const *names)
{
  GVariantBuilder children;

  g_variant_builder_init (&children, G_VARIANT_TYPE ("av"));
  if (id == MENU_ROOT && depth != 0)
    for (int child = MENU_OPEN; child <= MENU_QUIT; child++)
      g_variant_builder_add (&children, "v", layout_node (tray, child, depth - 1, names));
  return g_variant_new ("(i@a{sv}av)", id, kpr_tray_menu_props (tray, id, names), &children);
}

static gboolean
valid_item (int id)
{
  return id >= MENU_ROOT && id <= MENU_QUIT;
}


static gboolean
renew_due (gpointer data)
{
  KprTray *tray = data;
  g_auto (GStrv) names = g_strdupv (tray->due);
  gboolean asked = FALSE;

  tray->renew_idle = 0;
  if (!names || !names[0])
    {
      kpr_log (KPR_LOG_INFO, "tray: “Renew now” chosen, but nothing is due");
      return G_SOURCE_REMOVE;
    }
  for (int i = 0; names[i]; i++)
    {
      g_autoptr (GError) error = NULL;
      KprAgentNeeds needs = KPR_AGENT_NEEDS_NOTHING;

      kpr_log (KPR_LOG_INFO, "%s: “Renew now” chosen in the tray", names[i]);
      if (!tray->actions->renew (tray->data, names[i], &needs, &error))
        {
          kpr_log (KPR_LOG_WARNING, "%s: renewal failed: %s", names[i], error->message);
          /* The window asks for the PIN or word (one renewal at a time
           * there: the first that needs a person). */
          if (needs && !asked)
            {
              tray->actions->open_gui (tray->data, "renew", names[i]);
              asked = TRUE;
            }
        }
    }
  return G_SOURCE_REMOVE;
}

/* Only starts things: a renewal takes seconds and runs from an idle, after
 * the panel's call has its reply. */
static gboolean
menu_event (KprTray *tray, int id, const char *event)
{
  if (!valid_item (id))
    return FALSE;
  if (!g_str_equal (event, "clicked"))
    return TRUE; /* hovered, opened, closed: nothing to do */
  switch (id)
    {
    case MENU_OPEN:
      kpr_log (KPR_LOG_INFO, "tray: “Open certkeeper” chosen");
      tray->actions->open_gui (tray->data, NULL, NULL);
      break;
    case MENU_RENEW:
      if (!tray->renew_idle)
        tray->renew_idle = g_idle_add (renew_due, tray);
      break;
    case MENU_QUIT:
      kpr_log (KPR_LOG_INFO, "tray: “Quit” chosen, stopping");
      tray->actions->quit (tray->data);
      break;
    }
  return TRUE;
}

void
kpr_tray_menu_method (KprTray *tray, const char *method, GVariant *params,
                      GDBusMethodInvocation *invocation)
{
  if (g_str_equal (method, "GetLayout"))
    {
      g_autofree const char **names = NULL;
      int parent, depth;

      g_variant_get (params, "(ii^a&s)", &parent, &depth, &names);
      if (!valid_item (parent))
        goto no_item;
      g_dbus_method_invocation_return_value (
        invocation, g_variant_new ("(u@(ia{sv}av))", tray->revision,
                                   layout_node (tray, parent, depth, names)));
    }
  else if (g_str_equal (method, "GetGroupProperties"))
    {
      g_autofree const char **names = NULL;
      g_autoptr (GVariantIter) ids = NULL;
      GVariantBuilder b;
      int id;

      g_variant_get (params, "(ai^a&s)", &ids, &names);
      g_variant_builder_init (&b, G_VARIANT_TYPE ("a(ia{sv})"));
      while (g_variant_iter_next (ids, "i", &id))
        if (valid_item (id))
          g_variant_builder_add (&b, "(i@a{sv})", id, kpr_tray_menu_props (tray, id, names));
      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(a(ia{sv}))", &b));
    }
  else if (g_str_equal (method, "GetProperty"))
    {
      g_autoptr (GVariant) props = NULL, value = NULL;
      const char *name;
      int id;

      g_variant_get (params, "(i&s)", &id, &name);
      if (!valid_item (id))
        goto no_item;
      props = g_variant_ref_sink (kpr_tray_menu_props (tray, id, NULL));
      if (!(value = g_variant_lookup_value (props, name, NULL)))
        {
          g_dbus_method_invocation_return_dbus_error (
            invocation, "org.freedesktop.DBus.Error.InvalidArgs", "The item has no such property");
          return;
        }
      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(v)", value));
    }
  else if (g_str_equal (method, "Event"))
    {
      const char *event;
      int id;

      g_variant_get (params, "(i&svu)", &id, &event, NULL, NULL);
      if (!valid_item (id))
        goto no_item;
      g_dbus_method_invocation_return_value (invocation, NULL);
      menu_event (tray, id, event);
    }
  else if (g_str_equal (method, "EventGroup"))
    {
      g_autoptr (GVariantIter) events = NULL;
      GVariantBuilder errors;
      const char *event;
      int id;

      /* menu_event only starts things (an idle, an async call, the
       * loop's end): the reply is not held up. */
      g_variant_builder_init (&errors, G_VARIANT_TYPE ("ai"));
      g_variant_get (params, "(a(isvu))", &events);
      while (g_variant_iter_next (events, "(i&svu)", &id, &event, NULL, NULL))
        if (!menu_event (tray, id, event))
          g_variant_builder_add (&errors, "i", id);
      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(ai)", &errors));
    }
  else if (g_str_equal (method, "AboutToShow"))
    {
      int id;

      g_variant_get (params, "(i)", &id);
      if (!valid_item (id))
        goto no_item;
      /* The menu is always up to date: ItemsPropertiesUpdated said so. */
      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(b)", FALSE));
    }
  else if (g_str_equal (method, "AboutToShowGroup"))
    {
      g_autoptr (GVariantIter) ids = NULL;
      GVariantBuilder updates, errors;
      int id;

      g_variant_builder_init (&updates, G_VARIANT_TYPE ("ai"));
      g_variant_builder_init (&errors, G_VARIANT_TYPE ("ai"));
      g_variant_get (params, "(ai)", &ids);
      while (g_variant_iter_next (ids, "i", &id))
        if (!valid_item (id))
          g_variant_builder_add (&errors, "i", id);
      g_dbus_method_invocation_return_value (invocation,
                                             g_variant_new ("(aiai)", &updates, &errors));
    }
  else
    g_dbus_method_invocation_return_dbus_error (
      invocation, "org.freedesktop.DBus.Error.UnknownMethod", method);
  return;

no_item:
  g_dbus_method_invocation_return_dbus_error (invocation, "org.freedesktop.DBus.Error.InvalidArgs",
                                              "There is no such menu item");
}
