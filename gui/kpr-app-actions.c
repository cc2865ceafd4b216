/* kpr-app-actions.c — placeholder until the core is written. */
#include "kpr-application.h"

void
kpr_application_add_actions (KprApplication *app)
{
}
