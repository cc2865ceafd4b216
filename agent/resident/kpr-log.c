/* kpr-log.c — the resident agent's one way to log: stderr lines with
 * sd-daemon(3) priority prefixes, which journald reads as priorities and a
 * terminal shows as they are.  Both modes (headless and desktop) and
 * every file of certkeeper-agent log through here; the core library never
 * logs (it returns errors). */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#include "kpr-log.h"

void
kpr_log (KprLogPriority priority, const char *format, ...)
{
  g_autofree char *message = NULL;
  g_auto (GStrv) lines = NULL;
  va_list ap;

  va_start (ap, format);
  message = g_strdup_vprintf (format, ap);
  va_end (ap);
  /* journald reads one priority per line. */
  lines = g_strsplit (message, "\n", -1);
  for (int i = 0; lines[i]; i++)
    if (lines[i][0] || i == 0)
      fprintf (stderr, "<%d>%s\n", priority, lines[i]);
  fflush (stderr);
}
