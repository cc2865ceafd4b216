/* test-errors.c — the error enum and its documentation agree.
 *
 * Like curl's check for CURLcode: common/kpr-error.h and docs/errors.md
 * must list the same (number, name) pairs, numbered 0..KPR_ERROR_LAST
 * without gaps, and the table in kpr-error.c must name every code.  Adding
 * an enum value without documenting it makes this test fail.
 *
 * The sources are found through KPR_SOURCE_DIR (set by tests/meson.build).
 */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "kpr-error.h"

typedef struct {
  gint64 number;
  char *name;
} Code;

static void
code_clear (gpointer p)
{
  g_free (((Code *) p)->name);
}

static char *
source_path (const char *relative)
{
  const char *dir = g_getenv ("KPR_SOURCE_DIR");

  if (!dir || !*dir)
    {
      g_test_skip ("KPR_SOURCE_DIR is not set (run through 'meson test')");
      return NULL;
    }
  return g_build_filename (dir, relative, NULL);
}

static char *
read_source (const char *relative)
{
  g_autofree char *path = source_path (relative);
  g_autoptr (GError) error = NULL;
  char *text = NULL;

  if (!path)
    return NULL;
  if (!g_file_get_contents (path, &text, NULL, &error))
    g_error ("cannot read %s: %s", path, error->message);
  return text;
}

/* Removes C comments so that a commented-out value does not count. */
static char *
strip_comments (const char *text)
{
  GString *out = g_string_new (NULL);

  for (const char *p = text; *p; p++)
    {
      if (p[0] == '/' && p[1] == '*')
        {
          const char *end = strstr (p + 2, "*/");
          if (!end)
            break;
          p = end + 1;
          g_string_append_c (out, ' ');
        }
      else if (p[0] == '/' && p[1] == '/')
        {
          while (p[1] && p[1] != '\n')
            p++;
        }
      else
        g_string_append_c (out, *p);
    }
  return g_string_free (out, FALSE);
}

/* The members of "typedef enum { ... } KprError;" in order, with their
 * numbers (explicit, or previous + 1 as C counts). */
static GArray *
parse_header (const char *text, char **ret_last_name)
{
  g_autofree char *code = strip_comments (text);
  GArray *codes = g_array_new (FALSE, TRUE, sizeof (Code));
  g_autoptr (GRegex) block_re = NULL;
  g_autoptr (GRegex) member_re = NULL;
  g_autoptr (GRegex) last_re = NULL;
  g_autoptr (GMatchInfo) match = NULL;
  g_autofree char *body = NULL;
  g_auto (GStrv) members = NULL;
  gint64 next = 0;

  g_array_set_clear_func (codes, code_clear);

  block_re = g_regex_new ("typedef\\s+enum\\s*\\{([^}]*)\\}\\s*KprError\\s*;", 0, 0, NULL);
  g_assert_true (g_regex_match (block_re, code, 0, &match));
  body = g_match_info_fetch (match, 1);
  g_clear_pointer (&match, g_match_info_free);

  member_re = g_regex_new ("^\\s*([A-Za-z_][A-Za-z0-9_]*)\\s*(?:=\\s*([0-9]+)\\s*)?$",
                           G_REGEX_DOTALL, 0, NULL);
  members = g_strsplit (body, ",", -1);
  for (char **m = members; *m; m++)
    {
      Code c = { 0 };
      g_autofree char *number = NULL;

      if (*g_strstrip (*m) == '\0')
        continue;
      if (!g_regex_match (member_re, *m, 0, &match))
        g_error ("kpr-error.h: cannot read enum member '%s'", *m);
      c.name = g_match_info_fetch (match, 1);
      number = g_match_info_fetch (match, 2);
      c.number = number && *number ? g_ascii_strtoll (number, NULL, 10) : next;
      next = c.number + 1;
      g_array_append_val (codes, c);
      g_clear_pointer (&match, g_match_info_free);
    }

  last_re = g_regex_new ("#\\s*define\\s+KPR_ERROR_LAST\\s+([A-Z0-9_]+)", 0, 0, NULL);
  g_assert_true (g_regex_match (last_re, code, 0, &match));
  *ret_last_name = g_match_info_fetch (match, 1);
  return codes;
}

/* The "## N KPR_ERROR_NAME" headings of docs/errors.md; each must be
 * followed by a "Cause:" and a "What to do:" line before the next one. */
static GArray *
parse_doc (const char *text)
{
  GArray *codes = g_array_new (FALSE, TRUE, sizeof (Code));
  g_autoptr (GRegex) heading_re = NULL;
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  Code *current = NULL;
  gboolean cause = FALSE, todo = FALSE;

  g_array_set_clear_func (codes, code_clear);
  heading_re = g_regex_new ("^## ([0-9]+) (KPR_ERROR_[A-Z0-9_]+)\\s*$", 0, 0, NULL);

  for (guint i = 0;; i++)
    {
      const char *line = lines[i];
      g_autoptr (GMatchInfo) match = NULL;

      if (!line || g_str_has_prefix (line, "## "))
        {
          if (current && !(cause && todo))
            g_error ("docs/errors.md: '## %" G_GINT64_FORMAT " %s' lacks a%s%s line",
                     current->number, current->name, cause ? "" : " 'Cause:'",
                     todo ? "" : " 'What to do:'");
          if (!line)
            break;
          if (!g_regex_match (heading_re, line, 0, &match))
            g_error ("docs/errors.md line %u: '%s' is not of the form '## N KPR_ERROR_NAME'",
                     i + 1, line);
          {
            g_autofree char *number = g_match_info_fetch (match, 1);
            Code c = { g_ascii_strtoll (number, NULL, 10), g_match_info_fetch (match, 2) };
            g_array_append_val (codes, c);
            current = &g_array_index (codes, Code, codes->len - 1);
            cause = todo = FALSE;
          }
        }
      else if (current && g_str_has_prefix (line, "Cause: "))
        cause = strlen (line) > strlen ("Cause: ");
      else if (current && g_str_has_prefix (line, "What to do: "))
        todo = strlen (line) > strlen ("What to do: ");
    }
  return codes;
}

static const Code *
find_number (GArray *codes, gint64 number)
{
  for (guint i = 0; i < codes->len; i++)
    if (g_array_index (codes, Code, i).number == number)
      return &g_array_index (codes, Code, i);
  return NULL;
}

static void
test_header_matches_doc (void)
{
  g_autofree char *header = read_source ("common/kpr-error.h");
  g_autofree char *doc = NULL;
  g_autofree char *last_name = NULL;
  g_autoptr (GArray) h = NULL;
  g_autoptr (GArray) d = NULL;
  gint64 max = -1;

  if (!header)
    return;
  doc = read_source ("docs/errors.md");
  h = parse_header (header, &last_name);
  d = parse_doc (doc);

  g_assert_cmpuint (h->len, >, 0);

  /* Numbers unique and contiguous from 0 in the header. */
  for (guint i = 0; i < h->len; i++)
    {
      const Code *c = &g_array_index (h, Code, i);
      for (guint j = i + 1; j < h->len; j++)
        if (g_array_index (h, Code, j).number == c->number)
          g_error ("kpr-error.h: %s and %s both have number %" G_GINT64_FORMAT, c->name,
                   g_array_index (h, Code, j).name, c->number);
      max = MAX (max, c->number);
    }
  for (gint64 n = 0; n <= max; n++)
    if (!find_number (h, n))
      g_error ("kpr-error.h: number %" G_GINT64_FORMAT " is missing (codes must be contiguous)",
               n);
  g_assert_cmpint (max, ==, (gint64) h->len - 1);

  /* KPR_ERROR_LAST names the highest code, and the compiled value agrees. */
  g_assert_cmpint (max, ==, KPR_ERROR_LAST);
  {
    const Code *highest = find_number (h, max);
    g_assert_nonnull (highest);
    if (highest)
      g_assert_cmpstr (last_name, ==, highest->name);
  }

  /* Every header code is documented under its number, and the page
   * documents nothing else. */
  for (guint i = 0; i < h->len; i++)
    {
      const Code *c = &g_array_index (h, Code, i);
      const Code *doc_code = find_number (d, c->number);
      if (!doc_code)
        g_error ("docs/errors.md does not document %" G_GINT64_FORMAT " %s: add a "
                 "'## %" G_GINT64_FORMAT " %s' section with Cause: and What to do: lines",
                 c->number, c->name, c->number, c->name);
      if (!g_str_equal (doc_code->name, c->name))
        g_error ("docs/errors.md calls %" G_GINT64_FORMAT " '%s' but kpr-error.h calls it '%s'",
                 c->number, doc_code->name, c->name);
    }
  for (guint i = 0; i < d->len; i++)
    {
      const Code *c = &g_array_index (d, Code, i);
      guint seen = 0;
      for (guint j = 0; j < d->len; j++)
        seen += g_array_index (d, Code, j).number == c->number;
      if (seen != 1)
        g_error ("docs/errors.md documents %" G_GINT64_FORMAT " %u times", c->number, seen);
      if (!find_number (h, c->number))
        g_error ("docs/errors.md documents %" G_GINT64_FORMAT " %s, which kpr-error.h lacks",
                 c->number, c->name);
    }
  g_assert_cmpuint (d->len, ==, h->len);
}

static void
test_names_and_hints (void)
{
  g_autofree char *header = read_source ("common/kpr-error.h");
  g_autofree char *last_name = NULL;
  g_autoptr (GArray) h = NULL;

  if (!header)
    return;
  h = parse_header (header, &last_name);
  for (guint i = 0; i < h->len; i++)
    {
      const Code *c = &g_array_index (h, Code, i);
      const char *hint = kpr_error_hint ((KprError) c->number);

      g_test_message ("%" G_GINT64_FORMAT " %s: %s", c->number, c->name, hint);
      g_assert_cmpstr (kpr_error_name ((KprError) c->number), ==, c->name);
      g_assert_nonnull (hint);
      g_assert_cmpuint (strlen (hint), >, 0);
    }
  g_assert_null (kpr_error_name ((KprError) (KPR_ERROR_LAST + 1)));
  g_assert_null (kpr_error_name ((KprError) -1));
  /* Unknown codes still get a hint to print. */
  g_assert_nonnull (kpr_error_hint ((KprError) (KPR_ERROR_LAST + 1)));
  g_assert_nonnull (kpr_error_hint ((KprError) -1));
}

static void
test_exit_codes (void)
{
  g_autoptr (GError) other = g_error_new_literal (G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_NOT_FOUND, "x");
  g_autoptr (GError) file = g_error_new_literal (G_FILE_ERROR, G_FILE_ERROR_NOENT, "x");
  g_autoptr (GError) out_of_range = g_error_new_literal (KPR_ERROR, KPR_ERROR_LAST + 1, "x");

  g_assert_cmpint (kpr_error_exit_code (NULL), ==, 0);
  g_assert_cmpint (kpr_error_exit_code (other), ==, KPR_ERROR_INTERNAL);
  g_assert_cmpint (kpr_error_exit_code (file), ==, KPR_ERROR_INTERNAL);
  g_assert_cmpint (kpr_error_exit_code (out_of_range), ==, KPR_ERROR_INTERNAL);
  for (int n = 1; n <= KPR_ERROR_LAST; n++)
    {
      g_autoptr (GError) e = g_error_new (KPR_ERROR, n, "code %d", n);
      g_assert_cmpint (kpr_error_exit_code (e), ==, n);
    }
  /* Exit codes must fit a shell's $? and stay clear of 77 (skip), 126+. */
  g_assert_cmpint (KPR_ERROR_LAST, <, 77);
}

/* kpr_error_is_permanent() says what the "Retry:" line of each code in
 * docs/errors.md says ("no": permanent, "yes": retried), for every code;
 * the two lists it replaced (desktop and headless agent) had drifted. */
static void
test_retry_policy (void)
{
  g_autofree char *doc = read_source ("docs/errors.md");
  g_auto (GStrv) lines = NULL;
  g_autoptr (GRegex) heading_re = g_regex_new ("^## ([0-9]+) ", 0, 0, NULL);
  int current = -1;
  guint checked = 0;
  g_autoptr (GError) other = g_error_new_literal (G_FILE_ERROR, G_FILE_ERROR_NOENT, "x");

  g_assert_false (kpr_error_is_permanent (NULL));
  g_assert_false (kpr_error_is_permanent (other));
  if (!doc)
    return;
  lines = g_strsplit (doc, "\n", -1);
  for (char **l = lines; *l; l++)
    {
      g_autoptr (GMatchInfo) match = NULL;

      if (g_regex_match (heading_re, *l, 0, &match))
        {
          g_autofree char *number = g_match_info_fetch (match, 1);
          current = (int) g_ascii_strtoll (number, NULL, 10);
        }
      else if (current > 0 && g_str_has_prefix (*l, "Retry: "))
        {
          g_autoptr (GError) e = g_error_new (KPR_ERROR, current, "code %d", current);
          gboolean no = g_str_has_prefix (*l, "Retry: no");

          if (!no && !g_str_has_prefix (*l, "Retry: yes"))
            g_error ("docs/errors.md, code %d: the Retry: line must start with yes or no", current);
          if (kpr_error_is_permanent (e) != no)
            g_error ("code %d %s: docs/errors.md says '%s' but kpr_error_is_permanent() says %s",
                     current, kpr_error_name (current), *l,
                     kpr_error_is_permanent (e) ? "permanent" : "retry");
          checked++;
          current = -1;
        }
    }
  /* Every code but OK has its line. */
  g_assert_cmpuint (checked, ==, KPR_ERROR_LAST);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/errors/header-matches-doc", test_header_matches_doc);
  g_test_add_func ("/errors/names-and-hints", test_names_and_hints);
  g_test_add_func ("/errors/exit-codes", test_exit_codes);
  g_test_add_func ("/errors/retry-policy", test_retry_policy);
  return g_test_run ();
}
