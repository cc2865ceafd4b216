/* kpr-window.c — placeholder until the core is written. */
#include "kpr-window.h"

struct _KprWindow {
  AdwApplicationWindow parent_instance;
};

G_DEFINE_FINAL_TYPE (KprWindow, kpr_window, ADW_TYPE_APPLICATION_WINDOW)

static void
kpr_window_class_init (KprWindowClass *klass)
{
}

static void
kpr_window_init (KprWindow *self)
{
}

KprWindow *
kpr_window_new (KprApplication *app)
{
  return g_object_new (KPR_TYPE_WINDOW, "application", app, NULL);
}

void
kpr_window_refresh (KprWindow *window)
{
}

void
kpr_window_show_identity (KprWindow *window, const char *name)
{
}
