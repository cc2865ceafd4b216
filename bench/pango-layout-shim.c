/* pango-layout-shim.c — a diagnostic LD_PRELOAD (bench/RESULTS.md,
 * 2026-12-08): logs every Pango layout query that took more than 20 µs
 * (a layout laid out, i.e. its text shaped and broken into lines) with
 * its time, width, wrap mode and the start of its text, to $SHIM_OUT.
 * Shows which labels GTK lays out, at which widths, how often.
 *
 *   cc -O2 -shared -fPIC bench/pango-layout-shim.c -o /tmp/pango-shim.so $(pkg-config --cflags pango) -ldl
 *   SHIM_OUT=/tmp/shim.log LD_PRELOAD=/tmp/pango-shim.so BUILD/bench/gui-startup 20   (under gui-lib.sh's Xvfb)
 *   awk '{n++; s += $2} END {print n " calls, " s " ms"}' /tmp/shim.log
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <pango/pango.h>

static double
now_ms (void)
{
  struct timespec t;

  clock_gettime (CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void
log_call (const char *fn, PangoLayout *layout, double ms)
{
  static FILE *out;
  const char *text = pango_layout_get_text (layout);

  if (!out)
    {
      const char *path = getenv ("SHIM_OUT");

      out = fopen (path ? path : "/tmp/pango-shim.log", "a");
      if (!out)
        return;
    }
  fprintf (out, "%s %.3f w=%d wrap=%d ell=%d \"%.60s\"\n", fn, ms, pango_layout_get_width (layout),
           pango_layout_get_wrap (layout), pango_layout_get_ellipsize (layout), text ? text : "");
}

#define TIMED(name, proto, args)                                                                   \
  void name proto                                                                                  \
  {                                                                                                \
    static void(*real) proto;                                                                      \
    double t;                                                                                      \
    if (!real)                                                                                     \
      real = dlsym (RTLD_NEXT, #name);                                                             \
    t = now_ms ();                                                                                 \
    real args;                                                                                     \
    t = now_ms () - t;                                                                             \
    if (t > 0.02)                                                                                  \
      log_call (#name, layout, t);                                                                 \
  }

TIMED (pango_layout_get_extents, (PangoLayout *layout, PangoRectangle *ink, PangoRectangle *logical),
       (layout, ink, logical))
TIMED (pango_layout_get_pixel_extents, (PangoLayout *layout, PangoRectangle *ink, PangoRectangle *logical),
       (layout, ink, logical))
TIMED (pango_layout_get_size, (PangoLayout *layout, int *width, int *height), (layout, width, height))
TIMED (pango_layout_get_pixel_size, (PangoLayout *layout, int *width, int *height), (layout, width, height))
