/* kpr-daemon.c — the headless agent: config, its rounds of work (the
 * sleep-until-deadline loop they run in is kpr-loop.c, shared with the
 * desktop mode), the post-renew hook (kpr-daemon-hook.c).
 *
 * The store's lock is held only while working: the agent (and with it the
 * flock and the token modules) is created when a deadline comes and freed
 * before sleeping again, so `certkeeper status --json` works for
 * monitoring between deadlines.  A renewal interrupted by a signal or a
 * crash is finished or rolled back by the next run (kpr-lifecycle.c); a
 * SIGTERM waits for the work at hand, which the main loop only sees once
 * the current step returns.
 *
 * Failures are retried on the scheduler's backoff (each logged once, with
 * the time of the next attempt), except those no retry can fix (a wrong
 * enrollment code or PIN, an untrusted server): those are logged with
 * what to do and left alone until SIGHUP or a restart, so that a used
 * code is not replayed into the server's lockout.
 *
 * A certificate expired during an outage: the backoff restarts at expiry,
 * the server refuses the certificate once back, and the identity enrolls
 * again with its code file, or says what the administrator must put there
 * and waits for the file to change (kpr-daemon-code.c; issue 13, item 14).
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kpr-agent.h"
#include "kpr-daemon-code.h"
#include "kpr-daemon-hook.h"
#include "kpr-daemon.h"
#include "kpr-log.h"
#include "kpr-loop.h"

typedef struct {
  /* from the config */
  char *name, *server, *label, *username, *token_uri;
  char *pin_file, *code_file, *password_file, *ca_file;
  KprProtocol protocol; /* protocol= (est, scep, cmp; docs/headless.md) */
  char *reference;      /* cmp-reference= */
  char *browser_url; /* kiosk browser policies (kpr-browser-policy.c) */
  char **hook_argv;
  KprKeyType key_type;
  KprProtection protection;
  /* what the scheduler needs that is not in the record */
  guint failures;
  gint64 last_failure;
  gint64 retry_after; /* the server's Retry-After with the last failure */
  gint64 last_reminder;
  gint64 last_renewal;
  gboolean blocked;
  gboolean needs_code;  /* blocked for want of a code the server has not seen */
  gboolean past_expiry; /* the backoff was restarted at the certificate's expiry */
  char *code_digest;    /* of the code sent in the attempt at hand */
  GFileMonitor *code_monitor;
  char *last_error;
} DaemonIdentity;

struct _KprDaemon {
  char *config_path;
  KprSchedPolicy policy;
  GPtrArray *identities; /* DaemonIdentity */
  DaemonIdentity *current; /* whose files answer the agent's questions */
  char *policy_error; /* the last browser-policy failure logged, not to repeat it */
  char *state_dir;    /* the store's, for what the agent remembers of codes */
  KprLoop *loop; /* timer, signals, re-checks (kpr-loop.c) */
  gboolean resumed;
  int status;
};

static void
identity_free (gpointer data)
{
  DaemonIdentity *id = data;

  g_free (id->name), g_free (id->server), g_free (id->label), g_free (id->username);
  g_free (id->token_uri), g_free (id->pin_file), g_free (id->code_file), g_free (id->password_file);
  g_free (id->ca_file), g_free (id->reference);
  g_free (id->browser_url);
  g_strfreev (id->hook_argv);
  g_free (id->code_digest);
  g_clear_object (&id->code_monitor);
  g_free (id->last_error);
  g_free (id);
}

void
kpr_daemon_free (KprDaemon *daemon)
{
  if (!daemon)
    return;
  g_free (daemon->config_path);
  g_free (daemon->policy_error);
  g_free (daemon->state_dir);
  g_clear_pointer (&daemon->identities, g_ptr_array_unref);
  g_clear_pointer (&daemon->loop, kpr_loop_free);
  g_free (daemon);
}

/* --- the config ---------------------------------------------------------- */

static const char *const identity_keys[] = {
  "server", "label", "username", "token", "pin-file", "enrollment-code-file", "password-file",
  "ca-file", "key", "protection", "hook", "browser-url", "protocol", "cmp-reference", NULL,
};

/* Relative paths are taken from the config file's directory, so a config
 * and its secret files can move together. */
static char *
config_path_value (GKeyFile *kf, const char *group, const char *key, const char *base)
{
  g_autofree char *value = g_key_file_get_string (kf, group, key, NULL);

  if (!value || !*value)
    return NULL;
  if (g_path_is_absolute (value))
    return g_steal_pointer (&value);
  return g_build_filename (base, value, NULL);
}

static gboolean
bad_config (GError **error, const char *path, const char *group, const char *message)
{
  g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT, "%s, [%s]: %s", path, group, message);
  return FALSE;
}

static gboolean
load_identity (KprDaemon *daemon, GKeyFile *kf, const char *group, const char *base,
               GError **error)
{
  g_autoptr (GPtrArray) holder = g_ptr_array_new_with_free_func (identity_free);
  DaemonIdentity *id = g_new0 (DaemonIdentity, 1);
  g_auto (GStrv) keys = g_key_file_get_keys (kf, group, NULL, NULL);
  g_autofree char *token = NULL, *key = NULL, *protection = NULL, *hook = NULL, *protocol = NULL;
  const char *path = daemon->config_path;

  g_ptr_array_add (holder, id);
  id->name = g_strstrip (g_strdup (group + strlen ("identity ")));
  if (!kpr_identity_name_is_valid (id->name))
    return bad_config (error, path, group, "the name may use letters, digits, '.', '_', '-'");
  for (int i = 0; keys && keys[i]; i++)
    if (!g_strv_contains (identity_keys, keys[i]))
      kpr_log (KPR_LOG_WARNING, "%s, [%s]: unknown key “%s” is ignored", path, group, keys[i]);
  id->server = g_key_file_get_string (kf, group, "server", NULL);
  id->username = g_key_file_get_string (kf, group, "username", NULL);
  if (!id->server || !id->username)
    return bad_config (error, path, group, "server= and username= are required");
  id->label = g_key_file_get_string (kf, group, "label", NULL);
  token = g_key_file_get_string (kf, group, "token", NULL);
  if (token && !g_str_equal (token, "software"))
    id->token_uri = g_steal_pointer (&token);
  id->pin_file = config_path_value (kf, group, "pin-file", base);
  id->code_file = config_path_value (kf, group, "enrollment-code-file", base);
  id->password_file = config_path_value (kf, group, "password-file", base);
  id->ca_file = config_path_value (kf, group, "ca-file", base);
  key = g_key_file_get_string (kf, group, "key", NULL);
  if (key && !kpr_key_type_from_string (key, &id->key_type))
    return bad_config (error, path, group, "key= is one of ec-p256, ec-p384, rsa-2048, rsa-3072");
  protection = g_key_file_get_string (kf, group, "protection", NULL);
  if (protection && (!kpr_protection_from_string (protection, &id->protection)
                     || id->protection == KPR_PROTECTION_EXPORTABLE))
    return bad_config (error, path, group, "protection= is standard or strong");
  protocol = g_key_file_get_string (kf, group, "protocol", NULL);
  if (protocol && !kpr_protocol_from_string (protocol, &id->protocol))
    return bad_config (error, path, group, "protocol= is est (the default), scep or cmp");
  /* The enrollment code file holds the SCEP challenge or the CMP secret. */
  id->reference = g_key_file_get_string (kf, group, "cmp-reference", NULL);
  id->browser_url = g_key_file_get_string (kf, group, "browser-url", NULL);
  if (id->browser_url && !g_str_has_prefix (id->browser_url, "https://"))
    return bad_config (error, path, group, "browser-url= is the https:// address of the site");
  hook = g_key_file_get_string (kf, group, "hook", NULL);
  if (hook)
    {
      g_autoptr (GError) local = NULL;
      /* Split like a shell would, but never run one: the hook is a
       * program and its arguments. */
      if (!g_shell_parse_argv (hook, NULL, &id->hook_argv, &local))
        {
          g_autofree char *message = g_strdup_printf ("hook= cannot be split into a command: %s",
                                                      local->message);
          return bad_config (error, path, group, message);
        }
    }
  for (guint i = 0; i < daemon->identities->len; i++)
    if (g_str_equal (((DaemonIdentity *) daemon->identities->pdata[i])->name, id->name))
      return bad_config (error, path, group, "this identity is declared twice");
  g_ptr_array_add (daemon->identities, g_ptr_array_steal_index (holder, 0));
  return TRUE;
}

KprDaemon *
kpr_daemon_new (const char *config_path, GError **error)
{
  g_autoptr (KprDaemon) daemon = g_new0 (KprDaemon, 1);
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;
  g_auto (GStrv) groups = NULL;
  g_autofree char *base = g_path_get_dirname (config_path);

  daemon->config_path = g_strdup (config_path);
  daemon->identities = g_ptr_array_new_with_free_func (identity_free);
  kpr_sched_policy_init (&daemon->policy);
  /* Once expired, each attempt's failure is the log line (no reminders). */
  daemon->policy.remind_expired = FALSE;
  if (!g_key_file_load_from_file (kf, config_path, G_KEY_FILE_NONE, &local))
    {
      g_set_error (error, KPR_ERROR,
                   g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT) ? KPR_ERROR_IO
                                                                              : KPR_ERROR_BAD_INPUT,
                   "Cannot read the config %s: %s", config_path, local->message);
      return NULL;
    }
  if (g_key_file_has_key (kf, "agent", "renew-at", NULL))
    {
      double fraction = g_key_file_get_double (kf, "agent", "renew-at", NULL);
      if (fraction < 0.1 || fraction > 0.9)
        {
          bad_config (error, config_path, "agent", "renew-at= is a fraction from 0.1 to 0.9");
          return NULL;
        }
      daemon->policy.renew_fraction = fraction;
    }
  groups = g_key_file_get_groups (kf, NULL);
  for (int i = 0; groups[i]; i++)
    {
      if (g_str_has_prefix (groups[i], "identity "))
        {
          if (!load_identity (daemon, kf, groups[i], base, error))
            return NULL;
        }
      else if (!g_str_equal (groups[i], "agent"))
        kpr_log (KPR_LOG_WARNING, "%s: unknown group [%s] is ignored", config_path, groups[i]);
    }
  if (daemon->identities->len == 0)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT,
                   "%s declares no identity: add an [identity NAME] group", config_path);
      return NULL;
    }
  return g_steal_pointer (&daemon);
}

/* --- answering the agent from files ----------------------------------------- */

static KprSecret *
daemon_pin (const KprAgentToken *info, gpointer data, GError **error)
{
  KprDaemon *daemon = data;
  DaemonIdentity *id = daemon->current;

  if (!id || !id->pin_file)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_USAGE,
                   "The token “%s” needs its PIN and [identity %s] in %s has no pin-file=",
                   info->label, id ? id->name : "?", daemon->config_path);
      return NULL;
    }
  return kpr_secret_read_file (id->pin_file, error);
}

static KprDaemonCode
daemon_code (KprDaemon *daemon, DaemonIdentity *id)
{
  return (KprDaemonCode) { .name = id->name, .username = id->username,
                           .code_file = id->code_file, .config_path = daemon->config_path,
                           .protocol = id->protocol, .reference = id->reference };
}

static KprSecret *
daemon_ask (KprAsk what, const char *detail, gpointer data, GError **error)
{
  KprDaemon *daemon = data;
  DaemonIdentity *id = daemon->current;

  if (what != KPR_ASK_SECRET_WORD && what != KPR_ASK_PASSWORD)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_CANCELLED,
                   "The headless agent does not make or open backups");
      return NULL;
    }
  /* A server's own password (one that is not one-time: renewals that
   * want it with the certificate, polls that want it again) comes from
   * password-file=; the one-time enrollment code from its file (which
   * holds the SCEP challenge or the CMP secret with protocol=scep|cmp). */
  if (id && what == KPR_ASK_PASSWORD && id->password_file && id->protocol == KPR_PROTOCOL_EST)
    return kpr_secret_read_file (id->password_file, error);
  if (!id) /* asked only within act() and resume */
    return g_set_error_literal (error, KPR_ERROR, KPR_ERROR_AUTH, "No identity asks"), NULL;
  {
    KprDaemonCode code = daemon_code (daemon, id);
    KprSecret *secret;

    g_clear_pointer (&id->code_digest, g_free);
    secret = kpr_daemon_code_read (&code, daemon->state_dir, &id->code_digest, error);
    id->needs_code = !secret && error && g_error_matches (*error, KPR_ERROR, KPR_ERROR_AUTH);
    return secret;
  }
}

static void
daemon_progress (const char *message, gpointer data)
{
  KprDaemon *daemon = data;

  kpr_log (KPR_LOG_DEBUG, "%s: %s", daemon->current ? daemon->current->name : "agent", message);
}

/* --- one round of work ----------------------------------------------------------- */

/* The scheduler's view of @cfg; the record, when there is one, in
 * *ret_identity. */
static gboolean
sched_input (KprDaemon *daemon, KprStore *store, DaemonIdentity *cfg, KprSchedInput *in,
             KprIdentity **ret_identity)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KprIdentity) identity = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  memset (in, 0, sizeof *in);
  if (kpr_store_exists (store, cfg->name))
    {
      if (!(identity = kpr_store_load (store, cfg->name, &error)))
        {
          if (!cfg->blocked)
            kpr_log (KPR_LOG_ERR, "%s: %s", cfg->name, error->message);
          cfg->blocked = TRUE;
        }
      else
        kpr_sched_input_from_identity (in, identity);
    }
  if (in->not_after && in->not_after <= now && !cfg->past_expiry && !cfg->blocked)
    {
      g_autofree char *at = kpr_time_iso (in->not_after);

      /* Out of service until a new enrollment works: back off anew. */
      cfg->past_expiry = TRUE;
      cfg->failures = 0;
      kpr_log (KPR_LOG_ERR, "%s: the certificate expired at %s and is not renewed yet (last "
               "error: %s); it is renewed, or enrolled again with %s, as soon as the server "
               "answers", cfg->name, at, cfg->last_error ? cfg->last_error : "none",
               cfg->code_file ? cfg->code_file : "an enrollment code");
    }
  in->name = cfg->name;
  in->failures = cfg->failures;
  in->last_failure = cfg->last_failure;
  in->retry_after = cfg->retry_after;
  in->last_reminder = cfg->last_reminder;
  in->last_renewal = cfg->last_renewal;
  in->blocked = cfg->blocked;
  if (ret_identity)
    *ret_identity = g_steal_pointer (&identity);
  return TRUE;
}

static void
failed (KprDaemon *daemon, DaemonIdentity *cfg, const char *what, const GError *error,
        gint64 now, const KprSchedInput *in)
{
  g_free (cfg->last_error);
  cfg->last_error = g_strdup (error->message);
  if (cfg->needs_code)
    {
      /* The message is the administrator's instruction (kpr-daemon-code.c). */
      cfg->blocked = TRUE;
      kpr_log (KPR_LOG_ERR, "%s failed: %s", what, error->message);
      return;
    }
  if (cfg->code_digest && g_error_matches (error, KPR_ERROR, KPR_ERROR_AUTH))
    {
      /* The server refused the code: it is not sent again. */
      KprDaemonCode code = daemon_code (daemon, cfg);
      g_autofree char *message = kpr_daemon_code_refused (&code, daemon->state_dir,
                                                          cfg->code_digest, error);

      cfg->blocked = cfg->needs_code = TRUE;
      kpr_log (KPR_LOG_ERR, "%s failed: %s", what, message);
      return;
    }
  if (kpr_error_is_permanent (error))
    {
      cfg->blocked = TRUE;
      kpr_log (KPR_LOG_ERR, "%s: %s failed: %s (%s) — not retried: fix it, then send SIGHUP "
               "or restart certkeeper-agent", cfg->name, what, error->message,
               error->domain == KPR_ERROR ? kpr_error_hint (error->code) : "internal error");
      return;
    }
  cfg->failures++;
  cfg->last_failure = now;
  {
    KprSchedInput next = *in;
    gint64 at;
    g_autofree char *when = NULL;

    next.failures = cfg->failures;
    next.last_failure = cfg->last_failure;
    next.retry_after = cfg->retry_after;
    at = kpr_sched_retry_at (&next, now);
    when = kpr_time_iso (at);
    kpr_log (KPR_LOG_WARNING, "%s: %s failed (attempt %u%s): %s; next attempt at %s (in %"
             G_GINT64_FORMAT " s)", cfg->name, what, cfg->failures,
             in->not_after && in->not_after <= now ? ", the certificate has expired" : "",
             error->message, when, at - now);
  }
}

static void
act (KprDaemon *daemon, KprAgent *agent, DaemonIdentity *cfg, KprSchedAction action, gint64 now,
     const KprSchedInput *in)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KprIdentity) identity = NULL;
  g_autofree char *before = NULL;
  KprStore *store = kpr_agent_get_store (agent);
  gboolean renewed = FALSE;
  const char *what = action == KPR_SCHED_ENROLL ? "enrollment"
                     : action == KPR_SCHED_POLL ? "polling the pending request"
                                                : "renewal";

  if (action == KPR_SCHED_REMIND)
    {
      g_autofree char *until = kpr_time_iso (in->not_after);
      kpr_log (in->not_after <= now ? KPR_LOG_ERR : KPR_LOG_WARNING,
               "%s: the certificate %s %s and is not renewed yet (last error: %s)", cfg->name,
               in->not_after <= now ? "expired" : "expires", until,
               cfg->last_error ? cfg->last_error : "none");
      cfg->last_reminder = now;
      return;
    }
  daemon->current = cfg;
  g_clear_pointer (&cfg->code_digest, g_free);
  cfg->needs_code = FALSE;
  if (action == KPR_SCHED_ENROLL && !kpr_store_exists (store, cfg->name))
    {
      KprEnrollOptions o = {
        .name = cfg->name, .server = cfg->server, .label = cfg->label,
        .username = cfg->username, .token_uri = cfg->token_uri, .key_type = cfg->key_type,
        .protection = cfg->protection ? cfg->protection : KPR_PROTECTION_STANDARD,
        /* A kiosk makes no backups: the key is non-exportable from the
         * start, and status does not report a missing backup forever. */
        .no_backup = TRUE, .ca_file = cfg->ca_file, .protocol = cfg->protocol,
        .reference = cfg->reference,
      };
      kpr_log (KPR_LOG_INFO, "%s: enrolling as %s with %s", cfg->name, cfg->username, cfg->server);
      identity = kpr_agent_enroll (agent, &o, &error);
      renewed = identity != NULL;
    }
  else
    {
      g_autoptr (KprIdentity) old = kpr_store_load (store, cfg->name, NULL);
      if (old && old->cert)
        before = kpr_ossl_serial_hex (old->cert);
      kpr_log (KPR_LOG_INFO, "%s: %s", cfg->name, what);
      identity = kpr_agent_renew (agent, cfg->name, action == KPR_SCHED_RENEW, &renewed, &error);
    }
  daemon->current = NULL;
  if (!identity)
    {
      if (g_error_matches (error, KPR_ERROR, KPR_ERROR_PENDING))
        {
          /* The server's schedule (retry_at), not a failure. */
          cfg->failures = 0;
          kpr_log (KPR_LOG_NOTICE, "%s: %s", cfg->name, error->message);
          return;
        }
      cfg->retry_after = kpr_agent_get_retry_after (agent);
      failed (daemon, cfg, what, error, now, in);
      return;
    }
  if (cfg->code_digest)
    {
      /* The code enrolled: spent. */
      KprDaemonCode code = daemon_code (daemon, cfg);
      kpr_daemon_code_used (&code, daemon->state_dir, cfg->code_digest);
      g_clear_pointer (&cfg->code_digest, g_free);
    }
  cfg->past_expiry = FALSE;
  cfg->failures = 0;
  cfg->retry_after = 0;
  cfg->last_reminder = 0;
  g_clear_pointer (&cfg->last_error, g_free);
  if (identity->state == KPR_STATE_ACTIVE && identity->cert)
    {
      g_autofree char *serial = kpr_ossl_serial_hex (identity->cert);
      g_autofree char *until =
        kpr_ossl_time_text (X509_get0_notAfter (identity->cert), KPR_OSSL_TIME_ISO);

      if (before && g_str_equal (before, serial))
        return; /* nothing new (an interrupted step was tidied up) */
      cfg->last_renewal = now;
      kpr_log (KPR_LOG_INFO, "%s: %s, serial %s, valid until %s", cfg->name,
               before ? "renewed" : "enrolled", serial, until);
      if (kpr_agent_get_renewal_note (agent))
        kpr_log (KPR_LOG_NOTICE, "%s: %s", cfg->name, kpr_agent_get_renewal_note (agent));
      kpr_daemon_run_hook (cfg->name, cfg->hook_argv, store, identity,
                           before ? "renewed" : "enrolled");
    }
}

/* The browser policies follow the identities that have a browser-url= and
 * a certificate; identities gone from the config lose theirs. */
static void
apply_browser_policies (KprDaemon *daemon, KprAgent *agent)
{
  g_autoptr (GArray) wanted = g_array_new (FALSE, TRUE, sizeof (KprBrowserPolicy));
  g_autoptr (GError) error = NULL;
  gboolean changed = FALSE;

  for (guint i = 0; i < daemon->identities->len; i++)
    {
      DaemonIdentity *cfg = daemon->identities->pdata[i];
      g_autoptr (KprIdentity) identity = NULL;
      KprBrowserPolicy policy = { cfg->name, cfg->browser_url };

      if (cfg->browser_url && kpr_store_exists (kpr_agent_get_store (agent), cfg->name)
          && (identity = kpr_store_load (kpr_agent_get_store (agent), cfg->name, NULL))
          && kpr_state_is_in_use (identity->state))
        g_array_append_val (wanted, policy);
    }
  if (!kpr_agent_browser_policies (agent, (KprBrowserPolicy *) wanted->data, wanted->len,
                                   &changed, &error))
    {
      if (g_strcmp0 (daemon->policy_error, error->message) != 0)
        kpr_log (KPR_LOG_WARNING, "browser policies: %s", error->message);
      g_free (daemon->policy_error);
      daemon->policy_error = g_strdup (error->message);
      return;
    }
  g_clear_pointer (&daemon->policy_error, g_free);
  if (changed)
    kpr_log (KPR_LOG_INFO, "browser policies now cover %u identit%s", wanted->len,
             wanted->len == 1 ? "y" : "ies");
}

static const char *
action_name (KprSchedAction action)
{
  static const char *const names[] = { "nothing to do", "enroll", "poll", "renew", "remind" };
  return names[action];
}

static void
work (gpointer data)
{
  KprDaemon *daemon = data;
  KprAgentUi ui = {
    .pin = daemon_pin, .ask = daemon_ask, .progress = daemon_progress, .data = daemon,
    /* The code is in a file: no secret word is requested by text. */
    .secret_known = TRUE,
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (KprAgent) agent = kpr_agent_new (&ui, &error);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  g_autofree KprSchedInput *inputs = NULL;
  gint64 deadline;
  gsize index = 0;
  guint n = daemon->identities->len;

  if (!agent)
    {
      kpr_loop_retry (daemon->loop, error);
      return;
    }
  g_free (daemon->state_dir);
  daemon->state_dir = g_strdup (kpr_store_get_dir (kpr_agent_get_store (agent)));
  /* A certificate the server replaced (another identity of the same
   * account) is learnt from the CA's CRL, cached for minutes: it is shown
   * revoked and never renewed again (issue 13, item 3). */
  if (kpr_agent_check_revocations (agent, NULL, NULL, FALSE, NULL) > 0)
    kpr_log (KPR_LOG_WARNING, "an identity was found revoked on its CA's CRL: see certkeeper status");
  if (!daemon->resumed)
    {
      /* Whatever a crash or a SIGKILL interrupted is finished or rolled
       * back first, without asking anything. */
      for (guint i = 0; i < n; i++)
        {
          DaemonIdentity *cfg = daemon->identities->pdata[i];
          g_autoptr (KprIdentity) identity = NULL;
          g_autoptr (GError) local = NULL;

          if (!kpr_store_exists (kpr_agent_get_store (agent), cfg->name))
            continue;
          daemon->current = cfg;
          identity = kpr_agent_resume (agent, cfg->name, &local);
          daemon->current = NULL;
          if (!identity)
            kpr_log (KPR_LOG_WARNING, "%s: cannot tidy up an interrupted step: %s", cfg->name,
                     local->message);
          else
            kpr_log (KPR_LOG_INFO, "%s: %s", cfg->name, kpr_state_to_string (identity->state));
        }
      daemon->resumed = TRUE;
    }
  inputs = g_new0 (KprSchedInput, n);
  for (guint i = 0; i < n; i++)
    {
      DaemonIdentity *cfg = daemon->identities->pdata[i];
      KprSchedNext next;

      sched_input (daemon, kpr_agent_get_store (agent), cfg, &inputs[i], NULL);
      next = kpr_sched_next (&daemon->policy, &inputs[i], now);
      if (next.action != KPR_SCHED_NONE && next.when <= now)
        act (daemon, agent, cfg, next.action, now, &inputs[i]);
    }
  apply_browser_policies (daemon, agent);
  /* The records as they now stand decide when to wake up. */
  now = g_get_real_time () / G_USEC_PER_SEC;
  for (guint i = 0; i < n; i++)
    sched_input (daemon, kpr_agent_get_store (agent), daemon->identities->pdata[i], &inputs[i],
                 NULL);
  deadline = kpr_sched_deadline (&daemon->policy, inputs, n, now, &index);
  {
    g_autofree char *why = deadline == G_MAXINT64
      ? g_strdup ("nothing scheduled")
      : g_strdup_printf ("%s: %s", ((DaemonIdentity *) daemon->identities->pdata[index])->name,
                         action_name (kpr_sched_next (&daemon->policy, &inputs[index], now).action));
    kpr_loop_arm (daemon->loop, deadline, why);
  }
}

static void
on_hangup (gpointer data)
{
  KprDaemon *daemon = data;

  kpr_log (KPR_LOG_INFO, "SIGHUP: retrying every identity now");
  for (guint i = 0; i < daemon->identities->len; i++)
    {
      DaemonIdentity *cfg = daemon->identities->pdata[i];
      cfg->blocked = FALSE;
      cfg->needs_code = FALSE;
      cfg->failures = 0;
    }
  kpr_loop_arm (daemon->loop, 0, "SIGHUP");
}

/* The enrollment code file changed: an identity that waits for a new code
 * tries it (a moment later, so that a file being written is complete). */
static void
on_code_file (const char *path, gpointer data)
{
  KprDaemon *daemon = data;
  gboolean any = FALSE;

  for (guint i = 0; i < daemon->identities->len; i++)
    {
      DaemonIdentity *cfg = daemon->identities->pdata[i];

      if (!cfg->needs_code || g_strcmp0 (cfg->code_file, path) != 0)
        continue;
      kpr_log (KPR_LOG_INFO, "%s: %s changed: trying the code", cfg->name, cfg->code_file);
      cfg->blocked = cfg->needs_code = FALSE;
      cfg->failures = 0;
      any = TRUE;
    }
  if (any)
    kpr_loop_arm (daemon->loop, g_get_real_time () / G_USEC_PER_SEC + 2,
                  "a new enrollment code");
}

/* Resumed from suspend, or the network is back: what failed for want of
 * a network is worth trying now rather than at the end of its backoff
 * (the count of failures stays, for the next backoff); what waits for a
 * person still waits. */
static gboolean
on_wake (const char *why, gpointer data)
{
  KprDaemon *daemon = data;

  for (guint i = 0; i < daemon->identities->len; i++)
    ((DaemonIdentity *) daemon->identities->pdata[i])->last_failure = 0;
  return TRUE;
}

int
kpr_daemon_run (KprDaemon *daemon)
{
  static const KprLoopFuncs funcs = { .work = work, .wake = on_wake, .hangup = on_hangup };

  daemon->loop = kpr_loop_new (&funcs, daemon);
  for (guint i = 0; i < daemon->identities->len; i++)
    {
      DaemonIdentity *cfg = daemon->identities->pdata[i];
      cfg->code_monitor = kpr_daemon_code_watch (cfg->name, cfg->code_file, on_code_file, daemon);
    }
  kpr_log (KPR_LOG_INFO, "certkeeper-agent %s: %u identit%s from %s", PACKAGE_VERSION,
           daemon->identities->len, daemon->identities->len == 1 ? "y" : "ies",
           daemon->config_path);
  kpr_loop_run (daemon->loop, TRUE);
  return daemon->status;
}
