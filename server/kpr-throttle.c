/* kpr-throttle.c — exponential back-off that decays, for guessing secret
 * words (server/README.md, "Threat model", has the numbers).
 *
 * A score counts failures; it halves every half-life after the last one,
 * so an old burst is forgotten.  Past a few free failures every further try
 * must wait 2^(score - free) seconds after the last failure, up to a cap.
 * A try inside the wait is refused (429 with Retry-After) without being
 * checked or counted: no guess is ever tested during a back-off.
 *
 * The per-user score lives in the database (users.failed, failed_at), so
 * every front end sees it; the per-address scores are kept in memory by
 * each front end (KprSourceTable).
 */
#include "config.h"

#include "kpr-server-private.h"

#include <arpa/inet.h>
#include <string.h>

gint64
kpr_backoff_score (const KprBackoff *b, gint64 score, gint64 at, gint64 now)
{
  gint64 halvings;

  if (score <= 0 || now <= at)
    return MAX (score, 0);
  halvings = (now - at) / b->half_life;
  return halvings >= 62 ? 0 : score >> halvings;
}

gint64
kpr_backoff_wait (const KprBackoff *b, gint64 score, gint64 at, gint64 now)
{
  gint64 s = kpr_backoff_score (b, score, at, now);
  gint64 delay;

  if (s < b->free)
    return 0;
  delay = s - b->free >= 30 ? b->cap : MIN ((gint64) 1 << (s - b->free), b->cap);
  return MAX (at + delay - now, 0);
}

const KprBackoff kpr_backoff_user = { KPR_USER_FREE, KPR_USER_CAP, KPR_USER_HALF_LIFE };
const KprBackoff kpr_backoff_source = { KPR_SOURCE_FREE, KPR_SOURCE_CAP, KPR_SOURCE_HALF_LIFE };
const KprBackoff kpr_backoff_challenge = { KPR_CHALLENGE_FREE, KPR_SOURCE_CAP,
                                           KPR_CHALLENGE_HALF_LIFE };

/* ---- per source address, in memory ------------------------------------- */

typedef struct {
  gint64 score;
  gint64 at;
} SourceEntry;

struct _KprSourceTable {
  const KprBackoff *backoff;
  GHashTable *entries; /* address → SourceEntry */
};

/* Beyond this many addresses the oldest forgotten entries are dropped: a
 * flood of addresses costs memory, never correctness for the others. */
#define SOURCE_TABLE_MAX 65536

KprSourceTable *
kpr_source_table_new (const KprBackoff *backoff)
{
  KprSourceTable *t = g_new0 (KprSourceTable, 1);

  t->backoff = backoff;
  t->entries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return t;
}

void
kpr_source_table_free (KprSourceTable *t)
{
  if (!t)
    return;
  g_hash_table_unref (t->entries);
  g_free (t);
}

gint64
kpr_source_wait (KprSourceTable *t, const char *address, gint64 now)
{
  SourceEntry *e = g_hash_table_lookup (t->entries, address);

  return e ? kpr_backoff_wait (t->backoff, e->score, e->at, now) : 0;
}

static void
prune (KprSourceTable *t, gint64 now)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, t->entries);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      SourceEntry *e = value;
      if (kpr_backoff_score (t->backoff, e->score, e->at, now) == 0)
        g_hash_table_iter_remove (&iter);
    }
  /* Still full of live entries: start again rather than grow. */
  if (g_hash_table_size (t->entries) >= SOURCE_TABLE_MAX)
    g_hash_table_remove_all (t->entries);
}

void
kpr_source_count (KprSourceTable *t, const char *address, gint64 now)
{
  SourceEntry *e = g_hash_table_lookup (t->entries, address);

  if (!e)
    {
      if (g_hash_table_size (t->entries) >= SOURCE_TABLE_MAX)
        prune (t, now);
      e = g_new0 (SourceEntry, 1);
      g_hash_table_insert (t->entries, g_strdup (address), e);
    }
  e->score = kpr_backoff_score (t->backoff, e->score, e->at, now) + 1;
  e->at = now;
}

char *
kpr_source_key (const char *address)
{
  struct in6_addr a6;
  char text[INET6_ADDRSTRLEN];

  /* IPv6: one person usually holds a whole /64. */
  if (strchr (address, ':') && inet_pton (AF_INET6, address, &a6) == 1
      && !IN6_IS_ADDR_V4MAPPED (&a6))
    {
      memset (a6.s6_addr + 8, 0, 8);
      if (inet_ntop (AF_INET6, &a6, text, sizeof text))
        return g_strdup_printf ("%s/64", text);
    }
  return g_strdup (address);
}

/* ---- the requesters of a secret word ------------------------------------- */

gboolean
kpr_requesters_contain (const char *list, const char *address)
{
  g_auto (GStrv) items = NULL;

  if (!list || !list[0] || !address)
    return FALSE;
  items = g_strsplit (list, ",", -1);
  return g_strv_contains ((const char *const *) items, address);
}

char *
kpr_requesters_add (const char *list, const char *address)
{
  guint count = 0;

  if (!address || strchr (address, ','))
    return g_strdup (list ? list : "");
  if (kpr_requesters_contain (list, address))
    return g_strdup (list);
  if (list && list[0])
    {
      for (const char *p = list; *p; p++)
        count += *p == ',';
      if (count + 1 >= KPR_REQUESTERS_MAX)
        return g_strdup (list);
      return g_strconcat (list, ",", address, NULL);
    }
  return g_strdup (address);
}
