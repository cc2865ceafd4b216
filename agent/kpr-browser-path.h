/* kpr-browser-path.h — shared by certkeeper-nss (a program of its own,
 * which links no agent code) and the agent's browser files. */
#pragma once

#include <stdlib.h>

#include <glib.h>

/* Whether two paths name one library file (they may differ by symlinks:
 * /usr/lib/softhsm/libsofthsm2.so and its target). */
static inline gboolean
kpr_browser_same_library (const char *a, const char *b)
{
  g_autofree char *ra = NULL, *rb = NULL;

  if (!a || !b || !*a || !*b)
    return FALSE;
  if (g_str_equal (a, b))
    return TRUE;
  ra = realpath (a, NULL);
  rb = realpath (b, NULL);
  return ra && rb && g_str_equal (ra, rb);
}
