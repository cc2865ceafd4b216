/* gui-fixture.c — placeholder until written (see gui-fixture.h). */
#include "gui-fixture.h"
