/* test-lifecycle — the lifecycle table (agent/kpr-lifecycle.c) and its
 * diagram agree, and the table is a machine that converges: every state is
 * reachable from NEW, every unfinished state can reach ACTIVE (or FAILED),
 * each step may enter the state it makes, and every state a step enters has
 * its fault points listed for the crash test. */
#include "config.h"

#include <string.h>

#include "kpr-lifecycle.h"

static char *
source_text (const char *relative)
{
  const char *dir = g_getenv ("KPR_SOURCE_DIR");
  g_autofree char *path = NULL;
  g_autoptr (GError) error = NULL;
  char *text = NULL;

  if (!dir || !*dir)
    return NULL;
  path = g_build_filename (dir, relative, NULL);
  if (!g_file_get_contents (path, &text, NULL, &error))
    g_error ("cannot read %s: %s", path, error->message);
  return text;
}

/* The lines between "BEGIN DIAGRAM" and "END DIAGRAM" in the comment, with
 * the comment's " * " taken off. */
static char *
diagram_in_source (const char *text)
{
  const char *begin = strstr (text, "BEGIN DIAGRAM\n");
  const char *end = begin ? strstr (begin, " * END DIAGRAM") : NULL;
  g_auto (GStrv) lines = NULL;
  GString *out = g_string_new (NULL);

  g_assert_nonnull (begin);
  g_assert_nonnull (end);
  begin += strlen ("BEGIN DIAGRAM\n");
  {
    g_autofree char *block = g_strndup (begin, end - begin);
    lines = g_strsplit (block, "\n", -1);
  }
  for (char **l = lines; *l; l++)
    {
      if (!**l)
        continue;
      g_assert_true (g_str_has_prefix (*l, " * "));
      g_string_append_printf (out, "%s\n", *l + 3);
    }
  return g_string_free (out, FALSE);
}

static void
test_diagram_matches_table (void)
{
  g_autofree char *text = source_text ("agent/kpr-lifecycle.c");
  g_autofree char *in_source = NULL;
  g_autofree char *generated = kpr_lifecycle_diagram ();

  if (!text)
    {
      g_test_skip ("KPR_SOURCE_DIR is not set (run through 'meson test')");
      return;
    }
  in_source = diagram_in_source (text);
  if (!g_str_equal (in_source, generated))
    g_error ("the diagram in agent/kpr-lifecycle.c disagrees with the table; the table says:\n%s",
             generated);
}

static guint
reachable_from (KprState start)
{
  guint seen = 1u << start, frontier = seen;

  while (frontier)
    {
      guint next = 0;
      for (KprState s = 0; kpr_lifecycle_info (s); s++)
        if (frontier & (1u << s))
          next |= kpr_lifecycle_info (s)->next;
      frontier = next & ~seen;
      seen |= next;
    }
  return seen;
}

static void
test_table_converges (void)
{
  guint all = 0;
  guint from_new = reachable_from (KPR_STATE_NEW);

  for (KprState s = 0; kpr_lifecycle_info (s); s++)
    {
      const KprStateInfo *info = kpr_lifecycle_info (s);
      KprState back;

      all |= 1u << s;
      g_assert_cmpint (info->state, ==, s);
      g_assert_true (info->meaning && *info->meaning);
      g_assert_true (kpr_state_from_string (info->name, &back));
      g_assert_cmpint (back, ==, s);
      /* Unfinished work can always end well (or in FAILED, a clean end). */
      if (info->step != KPR_STEP_NONE)
        g_assert_true (reachable_from (s) & ((1u << KPR_STATE_ACTIVE) | (1u << KPR_STATE_FAILED)));
      if (info->enrolling || info->renewing)
        g_assert_true (reachable_from (s) & (1u << KPR_STATE_ACTIVE));
      /* An end state has nothing to do and nothing follows it. */
      if (info->step == KPR_STEP_NONE)
        {
          g_assert_cmpuint (info->next, ==, 0);
          g_assert_cmpint (info->sched, ==, KPR_SCHED_NONE);
        }
      /* Enrolling and renewing are apart; the clock-free statuses agree. */
      g_assert_false (info->enrolling && info->renewing);
      g_assert_cmpint (kpr_state_is_enrolling (s), ==, info->enrolling);
    }
  g_assert_cmpuint (from_new, ==, all);
  g_assert_null (kpr_lifecycle_info (KPR_STATE_FAILED + 1));
}

/* Each step may enter the state that it makes. */
static void
test_steps_allowed (void)
{
  static const struct {
    KprStep step;
    KprState makes;
  } makes[] = {
    { KPR_STEP_MAKE_KEY, KPR_STATE_KEY_READY },      { KPR_STEP_SUBMIT, KPR_STATE_ISSUED },
    { KPR_STEP_STORE_CERT, KPR_STATE_INSTALLED },    { KPR_STEP_CHECK_PAIR, KPR_STATE_ACTIVE },
    { KPR_STEP_RENEW_KEY, KPR_STATE_NEXT_KEY_READY }, { KPR_STEP_RENEW_REQUEST, KPR_STATE_NEXT_INSTALLED },
    { KPR_STEP_SWAP, KPR_STATE_ACTIVE },
  };

  for (KprState s = 0; kpr_lifecycle_info (s); s++)
    for (gsize i = 0; i < G_N_ELEMENTS (makes); i++)
      if (kpr_lifecycle_info (s)->step == makes[i].step && s != KPR_STATE_NEXT_KEY_READY)
        g_assert_true (kpr_lifecycle_allows (s, makes[i].makes));
  /* Never backwards into NEW, never out of an end. */
  g_assert_false (kpr_lifecycle_allows (KPR_STATE_ACTIVE, KPR_STATE_NEW));
  g_assert_false (kpr_lifecycle_allows (KPR_STATE_REVOKED, KPR_STATE_ACTIVE));
  g_assert_false (kpr_lifecycle_allows (KPR_STATE_FAILED, KPR_STATE_KEY_READY));
  g_assert_true (kpr_lifecycle_allows (KPR_STATE_SUBMITTED, KPR_STATE_SUBMITTED));
}

/* Every state a step enters has "before:" and "after:" fault points, each
 * naming a real state or a record save, with the flow that reaches it. */
static void
test_fault_points (void)
{
  const char *const *p = kpr_lifecycle_fault_points ();
  g_autoptr (GHashTable) listed = g_hash_table_new (g_str_hash, g_str_equal);
  guint entered = 0;

  for (gsize i = 0; p[i]; i += 2)
    {
      g_assert_nonnull (p[i + 1]);
      g_assert_true (g_str_has_prefix (p[i + 1], "before:") || g_str_has_prefix (p[i + 1], "after:"));
      g_assert_false (g_hash_table_contains (listed, p[i + 1]));
      g_hash_table_add (listed, (gpointer) p[i + 1]);
    }
  for (KprState s = 0; kpr_lifecycle_info (s); s++)
    entered |= kpr_lifecycle_info (s)->next;
  entered |= 1u << KPR_STATE_NEW;
  for (KprState s = 0; kpr_lifecycle_info (s); s++)
    if (entered & (1u << s))
      {
        g_autofree char *before = g_strconcat ("before:", kpr_state_to_string (s), NULL);
        g_autofree char *after = g_strconcat ("after:", kpr_state_to_string (s), NULL);
        if (!g_hash_table_contains (listed, before) || !g_hash_table_contains (listed, after))
          g_error ("state %s is entered but %s / %s are not fault points", kpr_state_to_string (s),
                   before, after);
      }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/lifecycle/diagram-matches-table", test_diagram_matches_table);
  g_test_add_func ("/lifecycle/table-converges", test_table_converges);
  g_test_add_func ("/lifecycle/steps-allowed", test_steps_allowed);
  g_test_add_func ("/lifecycle/fault-points", test_fault_points);
  return g_test_run ();
}
