/* test-throttle-unit.c — the decaying back-off of server/kpr-throttle.c,
 * the words' requester lists and the PROXY header parser, with numbers the
 * threat model in server/README.md quotes. */
#include "config.h"

#include <string.h>

#include "kpr-server-private.h"

static void
test_user_backoff (void)
{
  const KprBackoff *b = &kpr_backoff_user;
  gint64 t = 1000000;

  /* Three wrong words cost nothing. */
  for (gint64 s = 0; s < KPR_USER_FREE; s++)
    g_assert_cmpint (kpr_backoff_wait (b, s, t, t), ==, 0);
  /* Then 1, 2, 4, … seconds after the last one, never more than 60. */
  g_assert_cmpint (kpr_backoff_wait (b, 3, t, t), ==, 1);
  g_assert_cmpint (kpr_backoff_wait (b, 4, t, t), ==, 2);
  g_assert_cmpint (kpr_backoff_wait (b, 5, t, t + 1), ==, 3);
  g_assert_cmpint (kpr_backoff_wait (b, 9, t, t), ==, 60);
  g_assert_cmpint (kpr_backoff_wait (b, 1000, t, t), ==, KPR_USER_CAP);
  /* The score halves every ten minutes: an old burst is forgotten. */
  g_assert_cmpint (kpr_backoff_score (b, 8, t, t + 599), ==, 8);
  g_assert_cmpint (kpr_backoff_score (b, 8, t, t + 600), ==, 4);
  g_assert_cmpint (kpr_backoff_score (b, 8, t, t + 3 * 600), ==, 1);
  g_assert_cmpint (kpr_backoff_score (b, 1000, t, t + 3600 * 24), ==, 0);
  g_assert_cmpint (kpr_backoff_wait (b, 8, t, t + 600), ==, 0);
  /* A clock that went back does not make a negative wait. */
  g_assert_cmpint (kpr_backoff_wait (b, 8, t, t - 100), >=, 0);
}

/* How many guesses fit in one word's 300 s through a back-off that starts
 * at @b's state zero: the numbers server/README.md quotes. */
static gint64
guesses_per_word (const KprBackoff *b)
{
  gint64 score = 0, at = 0, guesses = 0;

  for (gint64 now = 0; now < KPR_WORD_TTL; now++)
    while (kpr_backoff_wait (b, score, at, now) == 0)
      {
        score = kpr_backoff_score (b, score, at, now) + 1;
        at = now;
        guesses++;
      }
  return guesses;
}

static void
test_guesses_per_word (void)
{
  /* From addresses that did not ask for the word: 3 free, then 1, 2, 4,
   * 8, 16, 32 s, then one a minute. */
  g_assert_cmpint (guesses_per_word (&kpr_backoff_user), ==, 12);
  /* From one address (also one that asked for it): 5 free, then 1 … 128 s. */
  g_assert_cmpint (guesses_per_word (&kpr_backoff_source), ==, 13);
}

static void
test_sources (void)
{
  g_autoptr (KprSourceTable) t = kpr_source_table_new (&kpr_backoff_source);
  g_autofree char *v6 = kpr_source_key ("2001:db8:1:2:3:4:5:6");
  g_autofree char *v6b = kpr_source_key ("2001:db8:1:2::9");
  g_autofree char *v4 = kpr_source_key ("192.0.2.7");

  g_assert_cmpstr (v6, ==, "2001:db8:1:2::/64");
  g_assert_cmpstr (v6, ==, v6b);
  g_assert_cmpstr (v4, ==, "192.0.2.7");
  for (int i = 0; i < KPR_SOURCE_FREE; i++)
    {
      g_assert_cmpint (kpr_source_wait (t, v4, 100), ==, 0);
      kpr_source_count (t, v4, 100);
    }
  g_assert_cmpint (kpr_source_wait (t, v4, 100), ==, 1);
  g_assert_cmpint (kpr_source_wait (t, "192.0.2.8", 100), ==, 0);
  /* Knocking during the wait doubles it, up to 15 minutes. */
  for (int i = 0; i < 20; i++)
    kpr_source_count (t, v4, 100);
  g_assert_cmpint (kpr_source_wait (t, v4, 100), ==, KPR_SOURCE_CAP);
}

static void
test_requesters (void)
{
  g_autofree char *a = kpr_requesters_add ("", "192.0.2.1");
  g_autofree char *b = kpr_requesters_add (a, "192.0.2.2");
  g_autofree char *c = kpr_requesters_add (b, "192.0.2.1");
  g_autofree char *d = kpr_requesters_add (b, "x,y");
  GString *full = g_string_new ("10.0.0.0");

  g_assert_cmpstr (b, ==, "192.0.2.1,192.0.2.2");
  g_assert_cmpstr (c, ==, b);
  g_assert_cmpstr (d, ==, b);
  g_assert_true (kpr_requesters_contain (b, "192.0.2.2"));
  g_assert_false (kpr_requesters_contain (b, "192.0.2.22"));
  g_assert_false (kpr_requesters_contain ("", "192.0.2.2"));
  for (int i = 1; i < KPR_REQUESTERS_MAX; i++)
    g_string_append_printf (full, ",10.0.0.%d", i);
  {
    g_autofree char *more = kpr_requesters_add (full->str, "10.9.9.9");
    g_assert_cmpstr (more, ==, full->str);
  }
  g_string_free (full, TRUE);
}

static void
test_proxy (void)
{
  static const guint8 v2[] = { 0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54,
                               0x0A, 0x21, 0x11, 0x00, 0x0C, 198, 51, 100, 7, 10, 0, 0, 1,
                               0x9c, 0x40, 0x20, 0xfb, 0x16, 0x03 };
  const char *v1 = "PROXY TCP4 203.0.113.9 10.0.0.1 51000 8443\r\n\x16\x03\x01";
  g_autofree char *address = NULL;
  g_autoptr (GError) error = NULL;
  guint16 port = 0;
  gsize used = 0;

  g_assert_true (kpr_parse_proxy_header ((const guint8 *) v1, strlen (v1), &used, &address,
                                         &port, &error));
  g_assert_cmpstr (address, ==, "203.0.113.9");
  g_assert_cmpuint (port, ==, 51000);
  g_assert_cmpuint (used, ==, strlen (v1) - 3);
  g_clear_pointer (&address, g_free);
  g_assert_true (kpr_parse_proxy_header (v2, sizeof v2, &used, &address, &port, &error));
  g_assert_cmpstr (address, ==, "198.51.100.7");
  g_assert_cmpuint (port, ==, 40000);
  g_assert_cmpuint (used, ==, 28);
  g_clear_pointer (&address, g_free);
  g_assert_false (kpr_parse_proxy_header ((const guint8 *) "\x16\x03\x01\x02", 4, &used,
                                          &address, &port, &error));
  g_assert_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL);
  g_clear_error (&error);
  g_assert_false (kpr_parse_proxy_header ((const guint8 *) "PROXY TCP4 1.2.3.4 5.6.7.8 1 2", 30,
                                          &used, &address, &port, &error));
  g_clear_error (&error);
  g_assert_false (kpr_parse_proxy_header ((const guint8 *) "PROXY TCP4 1.2.3.999 5.6.7.8 1 2\r\n",
                                          34, &used, &address, &port, &error));
  g_assert_null (address);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/throttle/user-backoff", test_user_backoff);
  g_test_add_func ("/throttle/guesses-per-word", test_guesses_per_word);
  g_test_add_func ("/throttle/sources", test_sources);
  g_test_add_func ("/throttle/requesters", test_requesters);
  g_test_add_func ("/throttle/proxy-header", test_proxy);
  return g_test_run ();
}
