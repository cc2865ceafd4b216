/* kpr-events.c — an identity's history as data (issue 16, item 2): each
 * thing a person would want to read about later (enrolled, renewed,
 * backed up, locked, imported, revoked, made usable in browsers) is one
 * JSON object a line in identities/NAME.events, so a window can say it
 * in its own words and dates without parsing the audit log (NAME.log,
 * which stays the full technical record).
 *
 * Like the audit log, the file is a courtesy: written without fsync after
 * the record's durable write, never read to decide anything; a line that
 * cannot be read is skipped, not an error.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <json-glib/json-glib.h>

#include "kpr-agent-private.h"

/* Bounds what a window loads for a history (a renewal a day for years
 * stays well under it). */
#define KPR_EVENTS_MAX_BYTES (4 * 1024 * 1024)

static const char *const type_names[] = {
  [KPR_EVENT_ENROLLED] = "enrolled",   [KPR_EVENT_RENEWED] = "renewed",
  [KPR_EVENT_BACKED_UP] = "backed-up", [KPR_EVENT_LOCKED] = "locked",
  [KPR_EVENT_IMPORTED] = "imported",   [KPR_EVENT_REVOKED] = "revoked",
  [KPR_EVENT_BROWSERS] = "browsers",
};

static char *
events_path (KprStore *store, const char *name)
{
  g_autofree char *file = g_strconcat (name, ".events", NULL);

  return g_build_filename (kpr_store_get_dir (store), "identities", file, NULL);
}

void
kpr_event_free (KprEvent *event)
{
  if (!event)
    return;
  g_free (event->serial);
  g_free (event->where);
  g_free (event->detail);
  g_free (event);
}

void
kpr_store_record_event (KprStore *store, const char *name, const KprEvent *event)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *path = events_path (store, name);
  g_autofree char *text = NULL, *line = NULL;
  int fd;

  g_return_if_fail (event->type > 0 && event->type < G_N_ELEMENTS (type_names));
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, type_names[event->type]);
  json_builder_set_member_name (b, "time");
  json_builder_add_int_value (b, event->time ? event->time : g_get_real_time () / G_USEC_PER_SEC);
#define OPT_STR(k, v)                                                                          \
  if (v)                                                                                       \
    {                                                                                          \
      json_builder_set_member_name (b, k);                                                     \
      json_builder_add_string_value (b, v);                                                    \
    }
  OPT_STR ("serial", event->serial);
  OPT_STR ("where", event->where);
  OPT_STR ("detail", event->detail);
#undef OPT_STR
  if (event->not_after)
    {
      json_builder_set_member_name (b, "not_after");
      json_builder_add_int_value (b, event->not_after);
    }
  json_builder_set_member_name (b, "exportable");
  json_builder_add_boolean_value (b, event->exportable);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  line = g_strconcat (text, "\n", NULL);
  fd = open (path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return;
  if (write (fd, line, strlen (line)) < 0)
    { /* history lost, never state (see above) */ }
  close (fd);
}

static KprEvent *
event_from_line (const char *line)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *o;
  const char *type;
  KprEvent *event;

  if (!json_parser_load_from_data (parser, line, -1, NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return NULL;
  o = json_node_get_object (json_parser_get_root (parser));
  type = json_object_get_string_member_with_default (o, "type", "");
  event = g_new0 (KprEvent, 1);
  for (guint i = 1; i < G_N_ELEMENTS (type_names); i++)
    if (g_strcmp0 (type_names[i], type) == 0)
      event->type = i;
  if (!event->type)
    {
      /* A newer certkeeper's kind of event: not ours to describe. */
      g_free (event);
      return NULL;
    }
  event->time = json_object_get_int_member_with_default (o, "time", 0);
  event->not_after = json_object_get_int_member_with_default (o, "not_after", 0);
  event->exportable = json_object_get_boolean_member_with_default (o, "exportable", FALSE);
  event->serial = g_strdup (json_object_get_string_member_with_default (o, "serial", NULL));
  event->where = g_strdup (json_object_get_string_member_with_default (o, "where", NULL));
  event->detail = g_strdup (json_object_get_string_member_with_default (o, "detail", NULL));
  return event;
}

GPtrArray *
kpr_store_read_events (KprStore *store, const char *name, GError **error)
{
  g_autofree char *path = events_path (store, name);
  g_autofree char *data = NULL;
  g_autoptr (GError) local = NULL;
  g_autoptr (GPtrArray) events = g_ptr_array_new_with_free_func ((GDestroyNotify) kpr_event_free);
  gsize len = 0;

  if (!g_file_get_contents (path, &data, &len, &local))
    {
      if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return g_steal_pointer (&events);
      g_set_error (error, KPR_ERROR, KPR_ERROR_IO, "Could not read the history of “%s”: %s",
                   name, local->message);
      return NULL;
    }
  /* Only the newest part of a huge file: whole lines after the cut. */
  {
    char *start = data;

    if (len > KPR_EVENTS_MAX_BYTES)
      {
        start = strchr (data + len - KPR_EVENTS_MAX_BYTES, '\n');
        start = start ? start + 1 : data + len;
      }
    for (char *line = start, *next; line && *line; line = next)
      {
        KprEvent *event;

        next = strchr (line, '\n');
        if (next)
          *next++ = '\0';
        if ((event = event_from_line (line)))
          g_ptr_array_add (events, event);
      }
  }
  return g_steal_pointer (&events);
}
