/* kpr-cli-json.c — JSON written as it goes, for the outputs that grow
 * with what is stored (`list --json`, `status --json`, `show --json`).
 *
 * json-glib builds a tree of nodes and hash tables and then prints it:
 * for 1 000 identities that was a third of `list --json` (bench/RESULTS.md,
 * issue 11).  This writes the same document straight into one buffer, in
 * the layout json-glib's pretty generator uses, so a reader sees no
 * difference.  The smaller outputs (tokens, browser) stay on json-glib. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "kpr-cli.h"

void
kpr_cli_json_init (KprCliJson *j)
{
  j->out = g_string_sized_new (4096);
  j->depth = 0;
  j->first = TRUE;
}

void
kpr_cli_json_clear (KprCliJson *j)
{
  if (j->out)
    g_string_free (g_steal_pointer (&j->out), TRUE);
}

/* g_string_append_len() goes through g_string_insert_len(): most of
 * the time of writing 1 000 identities went there. */
static inline void
put (GString *out, const char *text, gsize len)
{
  gsize at = out->len;

  g_string_set_size (out, at + len);
  memcpy (out->str + at, text, len);
}

#define PUT(out, literal) put (out, literal, sizeof literal - 1)

static void
indent (KprCliJson *j)
{
  /* certkeeper's documents are 3 levels deep; 16 are indented. */
  static const char spaces[] = "                                ";

  put (j->out, spaces, MIN (2 * j->depth, sizeof spaces - 1));
}

static void
append_string (GString *out, const char *s)
{
  g_autofree char *valid = NULL;
  const char *run = s;

  /* Records hold UTF-8; anything else must still give valid JSON. */
  if (!g_utf8_validate (s, -1, NULL))
    run = s = valid = g_utf8_make_valid (s, -1);
  g_string_append_c (out, '"');
  /* Plain text is copied in runs; only what JSON escapes goes one by one. */
  for (const char *p = s;; p++)
    {
      unsigned char c = *p;

      if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
        continue;
      put (out, run, p - run);
      run = p + 1;
      if (!c)
        break;
      if (c == '"' || c == '\\')
        {
          g_string_append_c (out, '\\');
          g_string_append_c (out, c);
        }
      else if (c == '\n')
        g_string_append (out, "\\n");
      else if (c == '\t')
        g_string_append (out, "\\t");
      else
        g_string_append_printf (out, "\\u%04x", c);
    }
  g_string_append_c (out, '"');
}

/* The separator, indentation and "name" : before a value. */
static void
member (KprCliJson *j, const char *name)
{
  if (j->depth > 0)
    {
      if (j->first)
        PUT (j->out, "\n");
      else
        PUT (j->out, ",\n");
      indent (j);
    }
  j->first = FALSE;
  /* Names are the program's own words: nothing to escape. */
  if (name)
    {
      PUT (j->out, "\"");
      put (j->out, name, strlen (name));
      PUT (j->out, "\" : ");
    }
}

static void
begin (KprCliJson *j, const char *name, char open)
{
  member (j, name);
  g_string_append_c (j->out, open);
  j->depth++;
  j->first = TRUE;
}

static void
end (KprCliJson *j, char close)
{
  gboolean empty = j->first;

  j->depth--;
  if (!empty)
    {
      g_string_append_c (j->out, '\n');
      indent (j);
    }
  g_string_append_c (j->out, close);
  j->first = FALSE;
}

void
kpr_cli_json_begin_object (KprCliJson *j, const char *name)
{
  begin (j, name, '{');
}

void
kpr_cli_json_end_object (KprCliJson *j)
{
  end (j, '}');
}

void
kpr_cli_json_begin_array (KprCliJson *j, const char *name)
{
  begin (j, name, '[');
}

void
kpr_cli_json_end_array (KprCliJson *j)
{
  end (j, ']');
}

void
kpr_cli_json_string (KprCliJson *j, const char *name, const char *value)
{
  member (j, name);
  if (value)
    append_string (j->out, value);
  else
    PUT (j->out, "null");
}

void
kpr_cli_json_bool (KprCliJson *j, const char *name, gboolean value)
{
  member (j, name);
  if (value)
    PUT (j->out, "true");
  else
    PUT (j->out, "false");
}

void
kpr_cli_json_int (KprCliJson *j, const char *name, gint64 value)
{
  member (j, name);
  g_string_append_printf (j->out, "%" G_GINT64_FORMAT, value);
}

void
kpr_cli_json_print (KprCliJson *j)
{
  g_string_append_c (j->out, '\n');
  fwrite (j->out->str, 1, j->out->len, stdout);
}

/* The smaller outputs, built with json-glib. */
void
kpr_cli_print_json (JsonBuilder *b)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree char *text = NULL;

  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  text = json_generator_to_data (gen, NULL);
  printf ("%s\n", text);
}
