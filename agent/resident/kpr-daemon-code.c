/* kpr-daemon-code.c — the headless agent's one-time enrollment code.
 *
 * A code works once.  The agent needs one for the first enrollment and
 * again whenever its certificate can no longer be renewed with itself
 * (it expired during a server outage, or was revoked): then it enrolls
 * anew with whatever enrollment-code-file= holds.  Sending a code the
 * server already had would only count towards its lockout, so the agent
 * remembers the SHA-256 of every code the server has seen (that enrolled,
 * or that it refused) in STATE/headless/NAME.code-used and, finding that
 * code in the file again, tells the administrator what to put there
 * instead of sending it.  The digest of a code that can never be used
 * again gives nothing away; the code itself is never written anywhere.
 * Only EST's codes (certkeeper-ca's) are one-time for sure: a SCEP
 * challenge is often static (micromdm's scepserver wants the same one
 * with every renewal), so with protocol=scep|cmp nothing is remembered.
 */
#include "config.h"

#include <errno.h>
#include <openssl/evp.h>

#include "kpr-daemon-code.h"
#include "kpr-log.h"

static char *
used_path (const KprDaemonCode *code, const char *state_dir)
{
  g_autofree char *file = g_strconcat (code->name, ".code-used", NULL);

  return g_build_filename (state_dir, "headless", file, NULL);
}

static char *
digest_of (const KprSecret *secret)
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;

  if (!EVP_Digest (secret->data, secret->len, md, &len, EVP_sha256 (), NULL))
    return NULL;
  return kpr_hex (md, len);
}

static gboolean
was_used (const KprDaemonCode *code, const char *state_dir, const char *digest)
{
  g_autofree char *path = used_path (code, state_dir);
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return FALSE;
  lines = g_strsplit (text, "\n", -1);
  return g_strv_contains ((const char *const *) lines, digest);
}

char *
kpr_daemon_code_wanted (const KprDaemonCode *code, const char *why)
{
  const char *what = code->protocol == KPR_PROTOCOL_SCEP ? "a new SCEP challenge password"
                     : code->protocol == KPR_PROTOCOL_CMP ? "a new CMP secret"
                                                           : "a new one-time enrollment code";
  g_autofree char *source =
    code->protocol == KPR_PROTOCOL_EST
      ? g_strdup_printf ("'certkeeper-ca code DIR %s' on certkeeper-ca", code->username)
    : code->protocol == KPR_PROTOCOL_CMP
      ? g_strdup_printf ("from the CA, for reference %s (cmp-reference=)",
                         code->reference ? code->reference : "?")
      : g_strdup ("from the SCEP server's administrator");

  if (!code->code_file)
    return g_strdup_printf ("%s: %s. The administrator must get %s for %s (%s), write it as "
                            "the only line of a file readable by this agent's user alone "
                            "(mode 0600), set enrollment-code-file= to that file in "
                            "[identity %s] of %s and send SIGHUP or restart certkeeper-agent",
                            code->name, why, what, code->username, source, code->name,
                            code->config_path);
  return g_strdup_printf ("%s: %s. The administrator must get %s for %s (%s) and write it as "
                          "the only line of %s (mode 0600, owned by this agent's user): the "
                          "agent tries it as soon as the file changes",
                          code->name, why, what, code->username, source, code->code_file);
}

static KprSecret *
wanted (const KprDaemonCode *code, const char *why, GError **error)
{
  g_autofree char *message = kpr_daemon_code_wanted (code, why);

  g_set_error_literal (error, KPR_ERROR, KPR_ERROR_AUTH, message);
  return NULL;
}

KprSecret *
kpr_daemon_code_read (const KprDaemonCode *code, const char *state_dir, char **ret_digest,
                      GError **error)
{
  g_autoptr (KprSecret) secret = NULL;
  g_autoptr (GError) local = NULL;
  g_autofree char *digest = NULL;

  if (!code->code_file)
    return wanted (code, "the server wants a one-time code and there is no "
                         "enrollment-code-file=", error);
  if (!(secret = kpr_secret_read_file (code->code_file, &local)))
    {
      /* A file that is not there or holds nothing: the administrator's
       * part, said as such.  Anything else (a file others can read) keeps
       * its own words. */
      if (g_error_matches (local, KPR_ERROR, KPR_ERROR_IO)
          || g_error_matches (local, KPR_ERROR, KPR_ERROR_BAD_INPUT))
        {
          g_autofree char *why = g_strdup_printf ("no code to enroll with (%s)", local->message);
          return wanted (code, why, error);
        }
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  if (!(digest = digest_of (secret)))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "Cannot compute SHA-256");
      return NULL;
    }
  if (was_used (code, state_dir, digest))
    return wanted (code, "the code in its enrollment code file was already used (or refused) "
                         "by the server and is not sent again", error);
  if (ret_digest)
    *ret_digest = g_steal_pointer (&digest);
  return g_steal_pointer (&secret);
}

void
kpr_daemon_code_used (const KprDaemonCode *code, const char *state_dir, const char *digest)
{
  g_autofree char *path = used_path (code, state_dir);
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *old = NULL;
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;

  if (!digest || code->protocol != KPR_PROTOCOL_EST || was_used (code, state_dir, digest))
    return;
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      kpr_log (KPR_LOG_WARNING, "%s: cannot create %s: %s", code->name, dir, g_strerror (errno));
      return;
    }
  /* Every code the server has seen; they are few (one per enrollment). */
  g_file_get_contents (path, &old, NULL, NULL);
  text = g_strconcat (old ? old : "", digest, "\n", NULL);
  if (!g_file_set_contents_full (path, text, -1,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                 0600, &error))
    kpr_log (KPR_LOG_WARNING, "%s: cannot record that its code was used: %s", code->name,
             error->message);
}

char *
kpr_daemon_code_refused (const KprDaemonCode *code, const char *state_dir, const char *digest,
                         const GError *error)
{
  g_autofree char *why = g_strdup_printf ("the server refused the code in its enrollment code "
                                          "file (%s)", error->message);

  kpr_daemon_code_used (code, state_dir, digest);
  return kpr_daemon_code_wanted (code, why);
}

typedef struct {
  char *path;
  KprDaemonCodeChanged func;
  gpointer data;
} Watch;

static void
watch_free (gpointer data, GClosure *closure)
{
  Watch *watch = data;

  g_free (watch->path);
  g_free (watch);
}

static void
on_changed (GFileMonitor *monitor, GFile *file, GFile *other, GFileMonitorEvent event,
            gpointer data)
{
  Watch *watch = data;

  /* Written and closed, moved into place, or chmod 0600 after writing. */
  if (event == G_FILE_MONITOR_EVENT_CHANGES_DONE_HINT || event == G_FILE_MONITOR_EVENT_CREATED
      || event == G_FILE_MONITOR_EVENT_MOVED_IN || event == G_FILE_MONITOR_EVENT_RENAMED
      || event == G_FILE_MONITOR_EVENT_ATTRIBUTE_CHANGED)
    watch->func (watch->path, watch->data);
}

GFileMonitor *
kpr_daemon_code_watch (const char *name, const char *path, KprDaemonCodeChanged func,
                       gpointer data)
{
  g_autoptr (GFile) file = NULL;
  g_autoptr (GError) error = NULL;
  GFileMonitor *monitor;
  Watch *watch;

  if (!path)
    return NULL;
  file = g_file_new_for_path (path);
  if (!(monitor = g_file_monitor_file (file, G_FILE_MONITOR_WATCH_MOVES, NULL, &error)))
    {
      kpr_log (KPR_LOG_WARNING, "%s: cannot watch %s (%s): after writing a new code there, "
               "send SIGHUP", name, path, error->message);
      return NULL;
    }
  watch = g_new0 (Watch, 1);
  watch->path = g_strdup (path);
  watch->func = func;
  watch->data = data;
  g_signal_connect_data (monitor, "changed", G_CALLBACK (on_changed), watch, watch_free, 0);
  return monitor;
}
