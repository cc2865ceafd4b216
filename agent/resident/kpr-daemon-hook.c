/* kpr-daemon-hook.c — the post-renew hook of the headless agent: a
 * program run without a shell after each new certificate, the details in
 * its environment (CERTKEEPER_IDENTITY, CERTKEEPER_SERIAL,
 * CERTKEEPER_NOT_AFTER, CERTKEEPER_CERT_PEM_FILE, …), never a secret. */
#include "config.h"

#include <errno.h>

#include <openssl/pem.h>

#include "kpr-daemon-hook.h"
#include "kpr-log.h"

/* The certificate as PEM next to the records, for hooks that hand it to a
 * browser or a VPN client.  It is public: no secret ever goes there. */
static char *
write_cert_pem (KprStore *store, const KprIdentity *identity, GError **error)
{
  g_autofree char *dir = g_build_filename (kpr_store_get_dir (store), "certs", NULL);
  g_autofree char *file = g_strconcat (identity->name, ".pem", NULL);
  g_autofree char *path = g_build_filename (dir, file, NULL);
  g_autoptr (BIO) bio = BIO_new (BIO_s_mem ());
  char *data = NULL;
  long len;

  if (g_mkdir_with_parents (dir, 0700) < 0)
    {
      int saved = errno;
      g_set_error (error, KPR_ERROR, KPR_ERROR_IO, "Cannot create %s: %s", dir, g_strerror (saved));
      return NULL;
    }
  if (!bio || !PEM_write_bio_X509 (bio, identity->cert))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "Cannot encode the certificate as PEM");
      return NULL;
    }
  len = BIO_get_mem_data (bio, &data);
  if (!g_file_set_contents_full (path, data, len, G_FILE_SET_CONTENTS_CONSISTENT, 0644, error))
    return NULL;
  return g_steal_pointer (&path);
}

static void
hook_done (GPid pid, int wait_status, gpointer data)
{
  g_autofree char *name = data;
  g_autoptr (GError) error = NULL;

  if (g_spawn_check_wait_status (wait_status, &error))
    kpr_log (KPR_LOG_INFO, "%s: the hook finished", name);
  else
    kpr_log (KPR_LOG_WARNING, "%s: the hook failed: %s", name, error->message);
  g_spawn_close_pid (pid);
}

/* Runs the identity's hook without a shell, details in its environment.
 * Never a PIN or a code: those stay in their files. */
void
kpr_daemon_run_hook (const char *name, char **argv, KprStore *store, const KprIdentity *identity,
                     const char *event)
{
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) env = NULL;
  g_autofree char *pem = NULL, *serial = NULL, *not_before = NULL, *not_after = NULL;
  g_autofree char *key_id = NULL;
  GPid pid;

  if (!argv)
    return;
  if (!(pem = write_cert_pem (store, identity, &error)))
    {
      kpr_log (KPR_LOG_WARNING, "%s: the hook is not run: %s", name, error->message);
      return;
    }
  serial = kpr_ossl_serial_hex (identity->cert);
  not_before = kpr_ossl_time_text (X509_get0_notBefore (identity->cert), KPR_OSSL_TIME_ISO);
  not_after = kpr_ossl_time_text (X509_get0_notAfter (identity->cert), KPR_OSSL_TIME_ISO);
  if (identity->key_id)
    {
      gsize len;
      const guint8 *raw = g_bytes_get_data (identity->key_id, &len);
      key_id = kpr_hex (raw, len);
    }
  env = g_get_environ ();
  env = g_environ_setenv (env, "CERTKEEPER_EVENT", event, TRUE);
  env = g_environ_setenv (env, "CERTKEEPER_IDENTITY", identity->name, TRUE);
  env = g_environ_setenv (env, "CERTKEEPER_SERIAL", serial, TRUE);
  env = g_environ_setenv (env, "CERTKEEPER_NOT_BEFORE", not_before ? not_before : "", TRUE);
  env = g_environ_setenv (env, "CERTKEEPER_NOT_AFTER", not_after ? not_after : "", TRUE);
  env = g_environ_setenv (env, "CERTKEEPER_CERT_PEM_FILE", pem, TRUE);
  env = g_environ_setenv (env, "CERTKEEPER_SERVER", identity->server ? identity->server : "", TRUE);
  env = g_environ_setenv (env, "CERTKEEPER_USERNAME", identity->username ? identity->username : "", TRUE);
  env = g_environ_setenv (env, "CERTKEEPER_TOKEN_URI", identity->token_uri ? identity->token_uri : "", TRUE);
  env = g_environ_setenv (env, "CERTKEEPER_KEY_ID", key_id ? key_id : "", TRUE);
  /* stdin is /dev/null (GLib's default), stdout and stderr go where ours
   * go (the journal); the child is reaped by a watch, so a slow hook does
   * not hold up the next deadline. */
  if (!g_spawn_async (NULL, argv, env, G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD,
                      NULL, NULL, &pid, &error))
    {
      kpr_log (KPR_LOG_WARNING, "%s: cannot run the hook %s: %s", name, argv[0],
               error->message);
      return;
    }
  kpr_log (KPR_LOG_INFO, "%s: hook %s started (pid %d)", name, argv[0], (int) pid);
  g_child_watch_add (pid, hook_done, g_strdup (name));
}
