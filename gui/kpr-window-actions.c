/* kpr-window-actions.c — placeholder until the core is written. */
#include "kpr-window.h"

void
kpr_window_add_actions (KprWindow *window)
{
}
