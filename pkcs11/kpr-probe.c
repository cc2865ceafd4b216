/* kpr-probe.c — trying a PKCS#11 module in a child process before loading
 * it here.
 *
 * A module is a library that runs inside our process: one that crashes in
 * C_Initialize takes certkeeper with it, one that hangs there hangs it.
 * Where every registered module must be looked at (`certkeeper tokens`),
 * each is first started in a child — loaded, initialized, its slots
 * listed, finalized — and only one whose child ended is loaded here.  The
 * child is forked rather than exec'd: it needs nothing but the module, and
 * dlopen() there is independent of p11-kit's state in this process.
 */
#include "config.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <p11-kit/pkcs11.h>

#include "kpr-token-private.h"

/* In the child: exit 0 once the module answered (or refused cleanly —
 * loading it here will say why), never return. */
static void G_GNUC_NORETURN
child (const char *path)
{
  const struct rlimit no_core = { 0, 0 };
  CK_C_INITIALIZE_ARGS args = { .flags = CKF_OS_LOCKING_OK };
  CK_C_GetFunctionList get;
  CK_FUNCTION_LIST *fn = NULL;
  CK_ULONG n = 0;
  void *lib;
  int null = open ("/dev/null", O_RDWR | O_CLOEXEC);

  /* A crash here is expected, not worth a core file; what the module
   * prints is not ours to show. */
  setrlimit (RLIMIT_CORE, &no_core);
  if (null >= 0)
    {
      dup2 (null, STDOUT_FILENO);
      dup2 (null, STDERR_FILENO);
    }
  if (!(lib = dlopen (path, RTLD_NOW | RTLD_LOCAL))
      || !(get = (CK_C_GetFunctionList) dlsym (lib, "C_GetFunctionList"))
      || get (&fn) != CKR_OK || !fn || !fn->C_Initialize)
    _exit (3);
  if (fn->C_Initialize (&args) != CKR_OK)
    _exit (4);
  if (fn->C_GetSlotList)
    fn->C_GetSlotList (CK_FALSE, NULL, &n);
  if (fn->C_Finalize)
    fn->C_Finalize (NULL);
  _exit (0);
}

static char *
broken_text (const char *path, const char *name, const char *what)
{
  return g_strdup_printf ("module %s (%s) %s when started: it was left out; fix or unregister "
                          "it (p11-kit list-modules shows where it is registered)",
                          name ? name : path, path, what);
}

char **
kpr_module_probe_all (const char *const *paths, const char *const *names, const gboolean *skip,
                      guint n, guint timeout_s)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;
  g_autofree pid_t *pids = g_new0 (pid_t, n);
  char **out = g_new0 (char *, n + 1);
  guint running = 0;

  fflush (NULL);
  for (guint i = 0; i < n; i++)
    {
      out[i] = g_strdup ("");
      /* No child (fork failed): load it as before rather than refuse it. */
      if (skip[i] || (pids[i] = fork ()) < 0)
        {
          pids[i] = 0;
          continue;
        }
      if (pids[i] == 0)
        child (paths[i]);
      running++;
    }
  while (running > 0)
    {
      gboolean late = g_get_monotonic_time () >= deadline;

      for (guint i = 0; i < n; i++)
        {
          int status = 0;
          pid_t done;

          if (!pids[i])
            continue;
          done = waitpid (pids[i], &status, WNOHANG);
          if (done == 0 && !late)
            continue;
          if (done == 0)
            {
              g_autofree char *what = g_strdup_printf ("did not answer in %u s", timeout_s);
              kill (pids[i], SIGKILL);
              waitpid (pids[i], NULL, 0);
              g_free (out[i]);
              out[i] = broken_text (paths[i], names[i], what);
            }
          else if (done == pids[i] && WIFSIGNALED (status))
            {
              g_autofree char *what = g_strdup_printf ("crashed (%s)",
                                                       strsignal (WTERMSIG (status)));
              g_free (out[i]);
              out[i] = broken_text (paths[i], names[i], what);
            }
          pids[i] = 0;
          running--;
        }
      if (running > 0)
        g_usleep (10 * 1000);
    }
  return out;
}
