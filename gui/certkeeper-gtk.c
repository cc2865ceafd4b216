/* certkeeper-gtk — the window most people will use (gui/kpr-gui.h). */
#include "config.h"

#include <sys/prctl.h>

#include "kpr-gui.h"

int
main (int argc, char **argv)
{
  g_autoptr (KprApplication) app = NULL;

  /* The window holds PINs and passphrases: no core dump, no ptrace by
   * other processes of the user, as the other programs (issue 13, 15). */
  prctl (PR_SET_DUMPABLE, 0, 0, 0, 0);
  app = kpr_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
