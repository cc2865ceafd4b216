/* kpr-application.c — certkeeper-gtk's AdwApplication (see
 * kpr-application.h): one main window, raised again on every activation
 * (the tray icon and the notifications of certkeeper-agent activate the
 * app over D-Bus, which starts it when it is not running).
 */
#include "config.h"

#include "kpr-window.h"

#define KPR_SETTINGS_SCHEMA "org.certkeeper.Certkeeper"

struct _KprApplication {
  AdwApplication parent_instance;

  GSettings *settings;
};

G_DEFINE_FINAL_TYPE (KprApplication, kpr_application, ADW_TYPE_APPLICATION)

static KprWindow *
main_window (KprApplication *self)
{
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l; l = l->next)
    if (KPR_IS_WINDOW (l->data))
      return l->data;
  return NULL;
}

static void
kpr_application_activate (GApplication *app)
{
  KprApplication *self = KPR_APPLICATION (app);
  KprWindow *window = main_window (self);

  if (!window)
    window = kpr_window_new (self);
  kpr_window_present_loaded (window);
}

static void
kpr_application_startup (GApplication *app)
{
  KprApplication *self = KPR_APPLICATION (app);
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr (GSettingsSchema) schema = NULL;

  G_APPLICATION_CLASS (kpr_application_parent_class)->startup (app);
  /* Without the schema GSettings would abort the program: a build run
   * from its directory needs GSETTINGS_SCHEMA_DIR=BUILD/gui. */
  if (source)
    schema = g_settings_schema_source_lookup (source, KPR_SETTINGS_SCHEMA, TRUE);
  if (schema)
    self->settings = g_settings_new (KPR_SETTINGS_SCHEMA);
  else
    g_warning ("The settings schema %s is not installed; using the defaults "
               "(set GSETTINGS_SCHEMA_DIR to the build's gui/ directory)", KPR_SETTINGS_SCHEMA);
  kpr_application_add_actions (self);
}

static void
kpr_application_dispose (GObject *object)
{
  KprApplication *self = KPR_APPLICATION (object);

  g_clear_object (&self->settings);
  G_OBJECT_CLASS (kpr_application_parent_class)->dispose (object);
}

static void
kpr_application_class_init (KprApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = kpr_application_dispose;
  app_class->activate = kpr_application_activate;
  app_class->startup = kpr_application_startup;
}

static void
kpr_application_init (KprApplication *self)
{
}

KprApplication *
kpr_application_new (void)
{
  return g_object_new (KPR_TYPE_APPLICATION,
                       "application-id", KPR_APP_ID,
                       "flags", G_APPLICATION_DEFAULT_FLAGS,
                       "resource-base-path", "/org/certkeeper/Certkeeper",
                       NULL);
}

GSettings *
kpr_application_get_settings (KprApplication *app)
{
  g_return_val_if_fail (KPR_IS_APPLICATION (app), NULL);
  return app->settings;
}

void
kpr_application_refresh (KprApplication *app)
{
  KprWindow *window;

  g_return_if_fail (KPR_IS_APPLICATION (app));
  window = main_window (app);
  if (window)
    kpr_window_refresh (window);
}
