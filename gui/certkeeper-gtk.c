/* certkeeper-gtk — the window most people will use (gui/kpr-gui.h). */
#include "config.h"

#include "kpr-gui.h"

int
main (int argc, char **argv)
{
  g_autoptr (KprApplication) app = kpr_application_new ();

  return g_application_run (G_APPLICATION (app), argc, argv);
}
