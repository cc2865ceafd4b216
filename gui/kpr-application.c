/* kpr-application.c — placeholder until the core is written. */
#include "config.h"

#include "kpr-window.h"

struct _KprApplication {
  AdwApplication parent_instance;
};

G_DEFINE_FINAL_TYPE (KprApplication, kpr_application, ADW_TYPE_APPLICATION)

static void
kpr_application_class_init (KprApplicationClass *klass)
{
}

static void
kpr_application_init (KprApplication *self)
{
}

KprApplication *
kpr_application_new (void)
{
  return g_object_new (KPR_TYPE_APPLICATION, "application-id", KPR_APP_ID, NULL);
}

GSettings *
kpr_application_get_settings (KprApplication *app)
{
  return NULL;
}

void
kpr_application_refresh (KprApplication *app)
{
}
