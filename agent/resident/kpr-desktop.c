/* kpr-desktop.c — the desktop agent's loop: every identity in the
 * person's store, renewed on the scheduler's deadlines (kpr-scheduler.c),
 * reminders when a due renewal has not happened.
 *
 * Like the headless mode it holds the store's lock only while working, so
 * the certkeeper command works between deadlines.  Unlike it, nobody
 * wrote a config with secret files: a renewal that needs a PIN or a
 * secret word the agent cannot read from a file is not failed silently —
 * the identity waits (blocked) with what it needs recorded, the person is
 * notified, and a front end asks through org.certkeeper.Agent1
 * (kpr-desktop-bus.c) which answers Renew with Error.NeedsSecret.
 *
 * The only secret source is the optional pin-file= of
 * $XDG_CONFIG_HOME/certkeeper/certkeeper.conf ([agent] group): the PIN of
 * the software token for people who chose unattended renewal.  No secret
 * word is ever requested from the server by the agent on its own: that
 * would text the person a word nobody is there to type.
 */
#include "config.h"

#include <string.h>

#include "kpr-daemon-hook.h"
#include "kpr-desktop.h"
#include "kpr-log.h"
#include "kpr-tray.h"

#define STORE_SETTLE 2

static void
desktop_identity_free (gpointer data)
{
  KprDesktopIdentity *id = data;

  g_free (id->name);
  g_free (id->last_error);
  g_free (id->seen);
  g_free (id);
}

KprDesktopIdentity *
kpr_desktop_identity (KprDesktop *desktop, const char *name)
{
  KprDesktopIdentity *id = g_hash_table_lookup (desktop->identities, name);

  if (!id)
    {
      id = g_new0 (KprDesktopIdentity, 1);
      id->name = g_strdup (name);
      g_hash_table_insert (desktop->identities, id->name, id);
    }
  return id;
}

void
kpr_desktop_free (KprDesktop *desktop)
{
  if (!desktop)
    return;
  g_clear_pointer (&desktop->tray, kpr_tray_free);
  kpr_desktop_bus_stop (desktop);
  g_clear_pointer (&desktop->identities, g_hash_table_unref);
  g_clear_pointer (&desktop->loop, g_main_loop_unref);
  g_clear_pointer (&desktop->rounds, kpr_loop_free);
  g_clear_pointer (&desktop->last_list, g_variant_unref);
  g_free (desktop->pin_file);
  g_free (desktop);
}

KprDesktop *
kpr_desktop_new (GError **error)
{
  g_autoptr (KprDesktop) desktop = g_new0 (KprDesktop, 1);
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;
  g_autofree char *path = g_build_filename (g_get_user_config_dir (), "certkeeper",
                                            "certkeeper.conf", NULL);

  desktop->identities = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                               desktop_identity_free);
  desktop->deadline = G_MAXINT64;
  kpr_sched_policy_init (&desktop->policy);
  /* The config is optional: without it the agent reminds and renews what
   * it can without a PIN. */
  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, &local))
    {
      if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return g_steal_pointer (&desktop);
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT, "Cannot read the config %s: %s", path,
                   local->message);
      return NULL;
    }
  if (g_key_file_has_key (kf, "agent", "renew-at", NULL))
    {
      double fraction = g_key_file_get_double (kf, "agent", "renew-at", NULL);
      if (fraction < 0.1 || fraction > 0.9)
        {
          g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT,
                       "%s, [agent]: renew-at= is a fraction from 0.1 to 0.9", path);
          return NULL;
        }
      desktop->policy.renew_fraction = fraction;
    }
  desktop->pin_file = g_key_file_get_string (kf, "agent", "pin-file", NULL);
  if (desktop->pin_file && !g_path_is_absolute (desktop->pin_file))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT,
                   "%s, [agent]: pin-file= must be an absolute path", path);
      return NULL;
    }
  return g_steal_pointer (&desktop);
}

/* --- secrets: what the agent may read, and what it must ask for ------------ */

static KprSecret *
desktop_pin (const KprAgentToken *info, gpointer data, GError **error)
{
  KprDesktop *desktop = data;

  if (desktop->pin_file)
    return kpr_secret_read_file (desktop->pin_file, error);
  if (desktop->current)
    desktop->current->needs = KPR_AGENT_NEEDS_PIN;
  g_set_error (error, KPR_ERROR, KPR_ERROR_CANCELLED,
               "The token “%s” needs its PIN: renew from certkeeper (or set pin-file= in "
               "certkeeper.conf for unattended renewal)", info->label);
  return NULL;
}

static KprSecret *
desktop_ask (KprAsk what, const char *detail, gpointer data, GError **error)
{
  KprDesktop *desktop = data;

  if (desktop->current)
    desktop->current->needs = what == KPR_ASK_SECRET_WORD || what == KPR_ASK_PASSWORD
                                ? KPR_AGENT_NEEDS_SECRET_WORD : KPR_AGENT_NEEDS_PASSPHRASE;
  g_set_error (error, KPR_ERROR, KPR_ERROR_CANCELLED,
               "The server wants %s %s: renew from certkeeper, which asks for it",
               what == KPR_ASK_PASSWORD ? "its password" : "a secret word", detail ? detail : "");
  return NULL;
}

static void
desktop_progress (const char *message, gpointer data)
{
  KprDesktop *desktop = data;

  kpr_log (KPR_LOG_DEBUG, "%s: %s", desktop->current ? desktop->current->name : "agent",
           message);
}

static KprAgent *
desktop_agent (KprDesktop *desktop, GError **error)
{
  KprAgentUi ui = {
    .pin = desktop_pin, .ask = desktop_ask, .progress = desktop_progress, .data = desktop,
    /* Never text a word on our own (see the top of the file). */
    .secret_known = TRUE,
  };
  return kpr_agent_new (&ui, error);
}

/* --- one renewal ---------------------------------------------------------- */

/* Nobody watched the renewal (the scheduler's, or "Renew now" in a
 * bubble): the person learns that it happened, and whether a browser that
 * ran while its module was registered must restart to offer the new
 * certificate (issue 12, item 6).  Nothing to choose: no actions. */
static void
inform_renewed (KprDesktop *desktop, KprAgent *agent, KprDesktopIdentity *id,
                const KprIdentity *identity)
{
  g_autofree char *until = NULL, *body = NULL;
  g_autofree char *summary = g_strdup_printf ("Certificate “%s” renewed", id->name);
  const char *restart = kpr_agent_get_browser_restart (agent);
  KprSchedInput in = { 0 };

  kpr_sched_input_from_identity (&in, identity);
  until = kpr_time_for_people (in.not_after);
  body = g_strdup_printf ("Valid until %s.%s%s", until, restart ? " " : "",
                          restart ? restart : "");
  kpr_desktop_inform (desktop, id, summary, body);
}

/* @asker: a front end asked (Renew) and shows the outcome itself; no
 * bubble on top of its dialog. */
static gboolean
renew_one (KprDesktop *desktop, KprAgent *agent, KprDesktopIdentity *id, gboolean force,
           gboolean asker, gint64 now, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (KprIdentity) identity = NULL;
  g_autoptr (KprIdentity) old = kpr_store_load (kpr_agent_get_store (agent), id->name, NULL);
  g_autofree char *before = old && old->cert ? kpr_ossl_serial_hex (old->cert) : NULL;
  gboolean renewed = FALSE;

  id->needs = KPR_AGENT_NEEDS_NOTHING;
  desktop->current = id;
  kpr_log (KPR_LOG_INFO, "%s: renewal%s", id->name, force ? " (now)" : "");
  identity = kpr_agent_renew (agent, id->name, force, &renewed, &local);
  desktop->current = NULL;
  if (!identity)
    {
      if (g_error_matches (local, KPR_ERROR, KPR_ERROR_PENDING))
        {
          /* The server's schedule (retry_at), not a failure. */
          id->failures = 0;
          kpr_log (KPR_LOG_NOTICE, "%s: %s", id->name, local->message);
          return TRUE;
        }
      g_free (id->last_error);
      id->last_error = g_strdup (local->message);
      kpr_desktop_emit (desktop, "Failed", g_variant_new ("(ss)", id->name, local->message));
      if (id->needs || kpr_error_is_permanent (local))
        {
          g_autofree char *body = NULL;

          id->blocked = TRUE;
          kpr_log (KPR_LOG_ERR, "%s: renewal needs %s: %s", id->name,
                   id->needs ? kpr_agent_needs_to_string (id->needs) : "a person", local->message);
          body = g_strdup_printf ("%s", local->message);
          if (!asker)
            kpr_desktop_notify (desktop, id, "Your certificate cannot be renewed unattended",
                                body);
          id->last_reminder = now;
        }
      else
        {
          id->failures++;
          id->last_failure = now;
          id->retry_after = kpr_agent_get_retry_after (agent);
          kpr_log (KPR_LOG_WARNING, "%s: renewal failed (attempt %u): %s", id->name,
                   id->failures, local->message);
        }
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  id->failures = 0;
  id->retry_after = 0;
  id->blocked = FALSE;
  id->last_reminder = 0;
  g_clear_pointer (&id->last_error, g_free);
  if (identity->state == KPR_STATE_ACTIVE && identity->cert)
    {
      g_autofree char *serial = kpr_ossl_serial_hex (identity->cert);

      if (before && g_str_equal (before, serial))
        return TRUE; /* not due, or an interrupted step was tidied up */
      id->last_renewal = now;
      kpr_log (KPR_LOG_INFO, "%s: renewed, serial %s", id->name, serial);
      if (kpr_agent_get_renewal_note (agent))
        kpr_log (KPR_LOG_NOTICE, "%s: %s", id->name, kpr_agent_get_renewal_note (agent));
      kpr_desktop_emit (desktop, "Renewed", g_variant_new ("(ss)", id->name, serial));
      if (!asker)
        inform_renewed (desktop, agent, id, identity);
    }
  return TRUE;
}

gboolean
kpr_desktop_renew_now (KprDesktop *desktop, const char *name, gboolean asker,
                       KprAgentNeeds *ret_needs, GError **error)
{
  g_autoptr (KprAgent) agent = NULL;
  KprDesktopIdentity *id;
  gboolean ok;

  if (!kpr_identity_name_is_valid (name))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_NOT_FOUND, "There is no identity “%s”", name);
      return FALSE;
    }
  if (!(agent = desktop_agent (desktop, error)))
    return FALSE;
  if (!kpr_store_exists (kpr_agent_get_store (agent), name))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_NOT_FOUND,
                   "There is no identity “%s”: 'certkeeper list' shows them", name);
      return FALSE;
    }
  id = kpr_desktop_identity (desktop, name);
  /* A person asked: whatever blocked it may have been fixed. */
  id->blocked = FALSE;
  id->failures = 0;
  ok = renew_one (desktop, agent, id, TRUE, asker, g_get_real_time () / G_USEC_PER_SEC, error);
  if (!ok && ret_needs)
    *ret_needs = id->needs;
  /* The lock goes before the next round looks at everything again. */
  g_clear_pointer (&agent, kpr_agent_free);
  kpr_desktop_rearm (desktop, 0, "a renewal was asked for");
  return ok;
}

/* --- what the person sees ------------------------------------------------- */

static gboolean
needs_attention (KprStatus status, const KprIdentity *identity, const KprDesktopIdentity *id)
{
  /* A renewal that made its new key but keeps failing shows as "in
   * progress": for the person it is a renewal due that has not happened. */
  return status == KPR_STATUS_RENEW_DUE || status == KPR_STATUS_EXPIRED
         || status == KPR_STATUS_FAILED || kpr_identity_backup_missing (identity)
         || (id && id->blocked)
         || (id && status == KPR_STATUS_IN_PROGRESS && id->failures > 0);
}

/* The List() answer from the store, announcing Changed for identities
 * whose status or certificate moved since the last look. */
static GVariant *
list_store (KprDesktop *desktop, KprStore *store, guint *ret_attention, GError **error)
{
  g_auto (GStrv) names = kpr_store_list (store, error);
  GVariantBuilder b;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  guint attention = 0;

  if (!names)
    return NULL;
  g_variant_builder_init (&b, G_VARIANT_TYPE ("a(sssx)"));
  for (int i = 0; names[i]; i++)
    {
      g_autoptr (KprIdentity) identity = kpr_store_load (store, names[i], NULL);
      KprDesktopIdentity *id = kpr_desktop_identity (desktop, names[i]);
      g_autofree char *serial = NULL, *seen = NULL;
      KprSchedInput in = { 0 };
      KprStatus status;

      if (!identity)
        {
          g_variant_builder_add (&b, "(sssx)", names[i], "failed", "damaged", (gint64) 0);
          attention++;
          continue;
        }
      kpr_sched_input_from_identity (&in, identity);
      status = kpr_identity_status (identity, now);
      if (needs_attention (status, identity, id))
        attention++;
      g_variant_builder_add (&b, "(sssx)", names[i], kpr_status_to_string (status),
                             kpr_state_to_string (identity->state), in.not_after);
      serial = identity->cert ? kpr_ossl_serial_hex (identity->cert) : g_strdup ("");
      seen = g_strdup_printf ("%d/%d/%s/%s", status, identity->state, serial,
                              kpr_agent_needs_to_string (id->needs));
      if (g_strcmp0 (seen, id->seen) != 0)
        {
          gboolean first = id->seen == NULL;
          g_free (id->seen);
          id->seen = g_steal_pointer (&seen);
          if (!first)
            kpr_desktop_emit (desktop, "Changed", g_variant_new ("(s)", names[i]));
        }
    }
  g_clear_pointer (&desktop->last_list, g_variant_unref);
  desktop->last_list = g_variant_ref_sink (g_variant_builder_end (&b));
  kpr_tray_update (desktop->tray, desktop->last_list, attention);
  if (ret_attention)
    *ret_attention = attention;
  return g_variant_ref (desktop->last_list);
}

GVariant *
kpr_desktop_list (KprDesktop *desktop, guint *ret_attention, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (KprStore) store = kpr_store_open (&local);

  if (!store)
    {
      /* The certkeeper command is at work: the last round's view, which
       * is at most that old. */
      if (desktop->last_list && g_error_matches (local, KPR_ERROR, KPR_ERROR_BUSY))
        {
          if (ret_attention)
            *ret_attention = 0;
          return g_variant_ref (desktop->last_list);
        }
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  return list_store (desktop, store, ret_attention, error);
}

/* The Waiting() answer: identities of the last round that wait for a
 * person, with what to type ("pin", "secret-word", "passphrase"; "" when
 * something else must be fixed) and the last error.  From memory, without
 * the store's lock: the certkeeper command asks while it holds it. */
GVariant *
kpr_desktop_waiting (KprDesktop *desktop)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a(sss)"));
  if (desktop->last_list)
    {
      GVariantIter iter;
      const char *name;

      g_variant_iter_init (&iter, desktop->last_list);
      while (g_variant_iter_next (&iter, "(&s&s&sx)", &name, NULL, NULL, NULL))
        {
          KprDesktopIdentity *id = g_hash_table_lookup (desktop->identities, name);

          if (id && id->blocked)
            g_variant_builder_add (&b, "(sss)", name, kpr_agent_needs_to_string (id->needs),
                                   id->last_error ? id->last_error : "");
        }
    }
  return g_variant_builder_end (&b);
}

/* --- the loop ------------------------------------------------------------- */

/* desktop->deadline is what Status() and the store watch read. */
static void
arm (KprDesktop *desktop, gint64 deadline, const char *why)
{
  desktop->deadline = kpr_loop_arm (desktop->rounds, deadline, why);
}

void
kpr_desktop_rearm (KprDesktop *desktop, gint64 when, const char *why)
{
  arm (desktop, when, why);
}

static void
remind (KprDesktop *desktop, KprDesktopIdentity *id, const KprSchedInput *in, gint64 now)
{
  g_autofree char *until = kpr_time_for_people (in->not_after);
  g_autofree char *body = NULL;
  gboolean expired = in->not_after <= now;

  kpr_log (expired ? KPR_LOG_ERR : KPR_LOG_WARNING,
           "%s: the certificate %s %s and is not renewed yet (last error: %s)", id->name,
           expired ? "expired" : "expires", until, id->last_error ? id->last_error : "none");
  body = g_strdup_printf ("“%s” %s %s.%s%s", id->name, expired ? "expired" : "expires", until,
                          id->last_error ? " The last attempt failed: " : "",
                          id->last_error ? id->last_error : "");
  kpr_desktop_notify (desktop, id,
                      expired ? "Your certificate has expired" : "Your certificate is due for renewal",
                      body);
  kpr_desktop_emit (desktop, "ExpiringSoon", g_variant_new ("(sx)", id->name, in->not_after));
  id->last_reminder = now;
}

static void
sched_input (KprDesktopIdentity *id, const KprIdentity *identity, KprSchedInput *in)
{
  memset (in, 0, sizeof *in);
  if (identity)
    kpr_sched_input_from_identity (in, identity);
  in->name = id->name;
  in->exists = identity != NULL;
  in->failures = id->failures;
  in->last_failure = id->last_failure;
  in->retry_after = id->retry_after;
  in->last_reminder = id->last_reminder;
  in->last_renewal = id->last_renewal;
  /* Enrollment needs a person (a secret word, a trust decision): an
   * identity whose enrollment is unfinished is left to the front end. */
  in->blocked = id->blocked || !identity
                || (kpr_state_is_enrolling (identity->state) && identity->state != KPR_STATE_PENDING);
}

static void
work (gpointer data)
{
  KprDesktop *desktop = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (KprAgent) agent = desktop_agent (desktop, &error);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  g_autoptr (GArray) inputs = NULL;
  g_autoptr (GVariant) list = NULL;
  g_auto (GStrv) names = NULL;
  KprStore *store;
  gint64 deadline;
  gsize index = 0;

  if (!agent)
    {
      desktop->deadline = kpr_loop_retry (desktop->rounds, error);
      return;
    }
  store = kpr_agent_get_store (agent);
  /* A certificate the server replaced (another identity of the same
   * account) is learnt from the CA's CRL, cached for minutes: it is shown
   * revoked and never renewed again (issue 13, item 3). */
  if (kpr_agent_check_revocations (agent, NULL, NULL, FALSE, NULL) > 0)
    kpr_log (KPR_LOG_WARNING, "an identity was found revoked on its CA's CRL: see certkeeper status");
  if (!(names = kpr_store_list (store, &error)))
    {
      kpr_log (KPR_LOG_ERR, "%s", error->message);
      arm (desktop, now + 60, "the identities cannot be listed");
      return;
    }
  for (int i = 0; names[i]; i++)
    {
      KprDesktopIdentity *id = kpr_desktop_identity (desktop, names[i]);
      g_autoptr (KprIdentity) identity = NULL;
      g_autoptr (GError) local = NULL;
      KprSchedInput in;
      KprSchedNext next;

      if (!desktop->resumed)
        {
          /* Whatever a crash interrupted is finished or rolled back first,
           * without asking anything. */
          desktop->current = id;
          identity = kpr_agent_resume (agent, names[i], &local);
          desktop->current = NULL;
          if (!identity)
            kpr_log (KPR_LOG_WARNING, "%s: cannot tidy up an interrupted step: %s", names[i],
                     local->message);
          g_clear_pointer (&identity, kpr_identity_free);
          g_clear_error (&local);
        }
      identity = kpr_store_load (store, names[i], &local);
      if (!identity && !id->blocked)
        {
          kpr_log (KPR_LOG_ERR, "%s: %s", names[i], local->message);
          id->blocked = TRUE;
        }
      sched_input (id, identity, &in);
      next = kpr_sched_next (&desktop->policy, &in, now);
      if (next.action == KPR_SCHED_REMIND && next.when <= now)
        remind (desktop, id, &in, now);
      else if ((next.action == KPR_SCHED_RENEW || next.action == KPR_SCHED_POLL)
               && next.when <= now)
        renew_one (desktop, agent, id, next.action == KPR_SCHED_RENEW, FALSE, now, NULL);
    }
  desktop->resumed = TRUE;
  /* The records as they now stand decide when to wake up. */
  now = g_get_real_time () / G_USEC_PER_SEC;
  inputs = g_array_new (FALSE, TRUE, sizeof (KprSchedInput));
  for (int i = 0; names[i]; i++)
    {
      g_autoptr (KprIdentity) identity = kpr_store_load (store, names[i], NULL);
      KprSchedInput in;

      /* in.name is the KprDesktopIdentity's, which outlives the record. */
      sched_input (kpr_desktop_identity (desktop, names[i]), identity, &in);
      g_array_append_val (inputs, in);
    }
  list = list_store (desktop, store, NULL, NULL);
  deadline = kpr_sched_deadline (&desktop->policy, (KprSchedInput *) inputs->data, inputs->len,
                                 now, &index);
  {
    g_autofree char *why = deadline == G_MAXINT64
      ? g_strdup ("nothing scheduled")
      : g_strdup_printf ("%s", names[index]);
    arm (desktop, deadline, why);
  }
}

/* The certkeeper command (or the GUI) added, renewed or deleted an
 * identity: look again in a moment rather than at the next deadline.
 * The pause gathers the several writes of one command into one round. */
static void
on_store_changed (GFileMonitor *monitor, GFile *file, GFile *other, GFileMonitorEvent event,
                  gpointer data)
{
  KprDesktop *desktop = data;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  if (event != G_FILE_MONITOR_EVENT_CHANGES_DONE_HINT && event != G_FILE_MONITOR_EVENT_DELETED
      && event != G_FILE_MONITOR_EVENT_MOVED_IN && event != G_FILE_MONITOR_EVENT_MOVED_OUT
      && event != G_FILE_MONITOR_EVENT_RENAMED && event != G_FILE_MONITOR_EVENT_CREATED)
    return;
  if (desktop->deadline > now + STORE_SETTLE)
    arm (desktop, now + STORE_SETTLE, "the store changed");
}

static GFileMonitor *
watch_store (KprDesktop *desktop)
{
  g_autofree char *dir = g_build_filename (g_get_user_state_dir (), "certkeeper", "identities",
                                           NULL);
  g_autoptr (GFile) file = g_file_new_for_path (dir);
  GFileMonitor *monitor;

  /* A directory that does not exist yet would be polled by GIO every
   * few seconds: only an existing one is watched (inotify, no wake-ups). */
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    return NULL;
  monitor = g_file_monitor_directory (file, G_FILE_MONITOR_WATCH_MOVES, NULL, NULL);
  if (monitor)
    g_signal_connect (monitor, "changed", G_CALLBACK (on_store_changed), desktop);
  return monitor;
}

/* As in the headless mode: after a resume or when the network is back,
 * what failed for want of a network is tried now, not at the end of its
 * backoff; what waits for a person still waits. */
static gboolean
on_wake (const char *why, gpointer data)
{
  KprDesktop *desktop = data;
  GHashTableIter iter;
  gpointer value;

  if (!desktop->name_owned)
    return FALSE; /* the first round comes with the name */
  g_hash_table_iter_init (&iter, desktop->identities);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    ((KprDesktopIdentity *) value)->last_failure = 0;
  return TRUE;
}

/* --- what the tray asks (kpr-tray.h) ------------------------------------- */

static gboolean
tray_renew (gpointer data, const char *name, KprAgentNeeds *needs, GError **error)
{
  /* Not an asker: nobody shows the outcome, so a failure notifies. */
  return kpr_desktop_renew_now (data, name, FALSE, needs, error);
}

static void
tray_open_gui (gpointer data, const char *action, const char *name)
{
  kpr_desktop_open_gui (data, action, name);
}

static gboolean
tray_stuck (gpointer data, const char *name, gboolean in_progress)
{
  KprDesktop *desktop = data;
  KprDesktopIdentity *id = g_hash_table_lookup (desktop->identities, name);

  return id && (id->blocked || (in_progress && id->failures > 0));
}

static void
tray_quit (gpointer data)
{
  KprDesktop *desktop = data;

  if (desktop->loop)
    g_main_loop_quit (desktop->loop);
}

static const KprTrayActions tray_actions = {
  .renew = tray_renew, .open_gui = tray_open_gui, .stuck = tray_stuck, .quit = tray_quit,
};

int
kpr_desktop_run (KprDesktop *desktop)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GFileMonitor) monitor = NULL;
  static const KprLoopFuncs funcs = { .work = work, .wake = on_wake };

  desktop->rounds = kpr_loop_new (&funcs, desktop);
  /* Quit by SIGTERM/SIGINT (kpr-loop.c), a lost bus name, the tray. */
  desktop->loop = g_main_loop_ref (kpr_loop_get_main (desktop->rounds));
  if (!kpr_desktop_bus_start (desktop, &error))
    {
      kpr_log (KPR_LOG_ERR, "%s", error->message);
      desktop->status = kpr_error_exit_code (error);
    }
  else
    {
      kpr_log (KPR_LOG_INFO, "certkeeper-agent %s: desktop mode", PACKAGE_VERSION);
      /* Without a tray the agent still reminds through notifications. */
      if (!(desktop->tray = kpr_tray_new (desktop->bus, &tray_actions, desktop, &error)))
        {
          kpr_log (KPR_LOG_WARNING, "no tray icon: %s", error->message);
          g_clear_error (&error);
        }
      monitor = watch_store (desktop);
      /* The first round starts once the bus name is ours
       * (kpr-desktop-bus.c): a second agent leaves without touching the
       * store. */
      kpr_loop_run (desktop->rounds, FALSE);
    }
  return desktop->status;
}
