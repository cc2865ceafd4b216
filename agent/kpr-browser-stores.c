/* kpr-browser-stores.c — where a person's browsers keep their NSS
 * databases, and whether a browser runs on one (DESIGN §3, measured on
 * Debian 12 with chromium 156 and firefox-esr 153):
 *
 * - Chromium (and Google Chrome) use ~/.pki/nssdb when it exists, else
 *   $XDG_DATA_HOME/pki/nssdb, which is what a new account gets.
 * - Firefox lists its profiles in profiles.ini under ~/.mozilla/firefox
 *   or, on new accounts, $XDG_CONFIG_HOME/mozilla/firefox; installs.ini
 *   (and the [Install…] groups) name each installation's default profile.
 * - Snap and flatpak browsers live in their own sandbox and cannot load a
 *   module from the host: they are reported, never changed.
 *
 * A browser reads the module list when it starts, so a change made while
 * it runs needs a restart.  Firefox marks a running profile with a "lock"
 * symlink to "ADDRESS:+PID"; Chromium is found among this user's
 * processes (its browser process, with this HOME).  The restart is
 * needed when that process started before pkcs11.txt last changed.
 */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "kpr-browser-private.h"

KprBrowserStore *
kpr_browser_store_new (KprBrowserKind kind, const char *title, const char *db_dir)
{
  KprBrowserStore *store = g_new0 (KprBrowserStore, 1);
  g_autofree char *cert9 = g_build_filename (db_dir, "cert9.db", NULL);

  store->kind = kind;
  store->title = g_strdup (title);
  store->db_dir = g_strdup (db_dir);
  store->exists = g_file_test (cert9, G_FILE_TEST_EXISTS);
  return store;
}

/* --- processes ------------------------------------------------------------ */

/* Unix time (with fractions) at which process @pid started, or 0. */
static double
process_start_time (pid_t pid)
{
  static double boot_time;
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *stat = NULL;
  g_auto (GStrv) fields = NULL;
  const char *after;

  if (!boot_time)
    {
      g_autofree char *text = NULL;
      const char *btime;
      if (g_file_get_contents ("/proc/stat", &text, NULL, NULL) && (btime = strstr (text, "\nbtime ")))
        boot_time = g_ascii_strtod (btime + 7, NULL);
    }
  if (!g_file_get_contents (path, &stat, NULL, NULL) || !(after = strrchr (stat, ')')))
    return 0;
  /* After "pid (comm)": state is field 3; starttime is field 22. */
  fields = g_strsplit (after + 2, " ", 0);
  if (g_strv_length (fields) < 20)
    return 0;
  return boot_time + g_ascii_strtod (fields[19], NULL) / (double) sysconf (_SC_CLK_TCK);
}

/* The home directory a process of this user runs with: its HOME, else
 * (as Chromium does) the account's; NULL when its environment cannot be
 * read (then it is not counted: nothing says it uses this store). */
static char *
process_home (pid_t pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/environ", (int) pid);
  g_autofree char *env = NULL;
  struct passwd *pw;
  gsize len = 0;

  if (!g_file_get_contents (path, &env, &len, NULL) || len == 0)
    return NULL;
  for (gsize i = 0; i < len; i += strlen (env + i) + 1)
    if (g_str_has_prefix (env + i, "HOME="))
      return g_strdup (env + i + 5);
  pw = getpwuid (getuid ());
  return pw ? g_strdup (pw->pw_dir) : NULL;
}

/* The earliest start of a Chromium or Chrome browser process of this
 * user and HOME; 0 when none runs. */
static double
chromium_started (void)
{
  g_autoptr (GDir) proc = g_dir_open ("/proc", 0, NULL);
  const char *entry;
  double earliest = 0;

  while (proc && (entry = g_dir_read_name (proc)))
    {
      g_autofree char *dir = NULL, *exe_link = NULL, *exe = NULL, *cmdline = NULL, *home = NULL;
      gsize len = 0;
      gboolean helper = FALSE;
      pid_t pid = atoi (entry);
      struct stat st;
      double started;

      if (pid <= 0)
        continue;
      dir = g_build_filename ("/proc", entry, NULL);
      if (g_stat (dir, &st) != 0 || st.st_uid != getuid ())
        continue;
      exe_link = g_build_filename (dir, "exe", NULL);
      if (!(exe = g_file_read_link (exe_link, NULL)))
        continue;
      if (g_str_has_suffix (exe, " (deleted)"))
        exe[strlen (exe) - strlen (" (deleted)")] = '\0';
      {
        g_autofree char *base = g_path_get_basename (exe);
        if (!g_str_equal (base, "chromium") && !g_str_equal (base, "chrome"))
          continue;
      }
      {
        g_autofree char *cmd_path = g_build_filename (dir, "cmdline", NULL);
        if (!g_file_get_contents (cmd_path, &cmdline, &len, NULL))
          continue;
      }
      /* Renderers, zygotes and the GPU process carry --type=. */
      for (gsize i = 0; i < len; i += strlen (cmdline + i) + 1)
        if (g_str_has_prefix (cmdline + i, "--type="))
          helper = TRUE;
      if (helper)
        continue;
      home = process_home (pid);
      if (g_strcmp0 (home, g_get_home_dir ()) != 0)
        continue;
      started = process_start_time (pid);
      if (started && (!earliest || started < earliest))
        earliest = started;
    }
  return earliest;
}

/* When the Firefox that holds the profile's lock started; 0 when none. */
static double
firefox_started (const char *profile_dir)
{
  g_autofree char *lock = g_build_filename (profile_dir, "lock", NULL);
  g_autofree char *target = g_file_read_link (lock, NULL);
  g_autofree char *exe_link = NULL, *exe = NULL, *base = NULL;
  const char *plus;
  pid_t pid;

  /* "127.0.1.1:+4242" */
  if (!target || !(plus = strstr (target, ":+")) || (pid = atoi (plus + 2)) <= 0)
    return 0;
  exe_link = g_strdup_printf ("/proc/%d/exe", (int) pid);
  if (!(exe = g_file_read_link (exe_link, NULL)))
    return 0; /* a stale lock, or another machine's (shared home) */
  base = g_path_get_basename (exe);
  if (!strstr (base, "firefox"))
    return 0;
  return process_start_time (pid);
}

void
kpr_browser_store_update_running (KprBrowserStore *store)
{
  g_autofree char *txt = g_build_filename (store->db_dir, "pkcs11.txt", NULL);
  double started = store->kind == KPR_BROWSER_CHROMIUM ? chromium_started ()
                                                        : firefox_started (store->db_dir);
  struct stat st;

  store->running = started > 0;
  store->restart_needed = FALSE;
  if (store->running && g_stat (txt, &st) == 0)
    store->restart_needed = started < st.st_mtim.tv_sec + st.st_mtim.tv_nsec / 1e9;
}

/* --- where the stores are -------------------------------------------------- */

static gboolean
chromium_installed (void)
{
  static const char *const programs[] = {
    "chromium", "chromium-browser", "google-chrome", "google-chrome-stable", NULL,
  };
  static const char *const configs[] = { "chromium", "google-chrome", NULL };

  for (const char *const *p = programs; *p; p++)
    {
      g_autofree char *found = g_find_program_in_path (*p);
      if (found)
        return TRUE;
    }
  for (const char *const *c = configs; *c; c++)
    {
      g_autofree char *dir = g_build_filename (g_get_user_config_dir (), *c, NULL);
      if (g_file_test (dir, G_FILE_TEST_IS_DIR))
        return TRUE;
    }
  return FALSE;
}

static void
add_chromium (GPtrArray *stores)
{
  g_autofree char *legacy = g_build_filename (g_get_home_dir (), ".pki", "nssdb", NULL);
  g_autofree char *xdg = g_build_filename (g_get_user_data_dir (), "pki", "nssdb", NULL);
  const char *dir = g_file_test (legacy, G_FILE_TEST_IS_DIR) ? legacy : xdg;
  KprBrowserStore *store = kpr_browser_store_new (KPR_BROWSER_CHROMIUM, "Chromium", dir);

  if (!store->exists && !chromium_installed ())
    {
      kpr_browser_store_free (store);
      return;
    }
  g_ptr_array_add (stores, store);
}

/* The default profile path of each installation (installs.ini, and the
 * [Install…] groups of profiles.ini). */
static void
collect_install_defaults (const char *root, GKeyFile *profiles, GPtrArray *defaults)
{
  g_autoptr (GKeyFile) installs = g_key_file_new ();
  g_autofree char *installs_path = g_build_filename (root, "installs.ini", NULL);
  GKeyFile *files[] = { profiles, installs };

  if (!g_key_file_load_from_file (installs, installs_path, G_KEY_FILE_NONE, NULL))
    files[1] = NULL;
  for (gsize f = 0; f < G_N_ELEMENTS (files) && files[f]; f++)
    {
      g_auto (GStrv) names = g_key_file_get_groups (files[f], NULL);
      for (char **g = names; *g; g++)
        {
          char *path;
          if (files[f] == profiles && !g_str_has_prefix (*g, "Install"))
            continue;
          if ((path = g_key_file_get_string (files[f], *g, "Default", NULL)))
            g_ptr_array_add (defaults, path);
        }
    }
}

static void
add_firefox_root (GPtrArray *stores, const char *root)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autofree char *ini = g_build_filename (root, "profiles.ini", NULL);
  g_autoptr (GPtrArray) defaults = g_ptr_array_new_with_free_func (g_free);
  g_auto (GStrv) groups = NULL;

  if (!g_key_file_load_from_file (kf, ini, G_KEY_FILE_NONE, NULL))
    return;
  collect_install_defaults (root, kf, defaults);
  groups = g_key_file_get_groups (kf, NULL);
  for (char **g = groups; *g; g++)
    {
      g_autofree char *name = NULL, *path = NULL, *dir = NULL, *title = NULL;
      KprBrowserStore *store;
      gboolean relative;

      if (!g_str_has_prefix (*g, "Profile"))
        continue;
      name = g_key_file_get_string (kf, *g, "Name", NULL);
      path = g_key_file_get_string (kf, *g, "Path", NULL);
      if (!name || !path)
        continue;
      relative = g_key_file_get_boolean (kf, *g, "IsRelative", NULL);
      dir = relative ? g_build_filename (root, path, NULL) : g_strdup (path);
      if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
        continue;
      title = g_strdup_printf ("Firefox (%s)", name);
      store = kpr_browser_store_new (KPR_BROWSER_FIREFOX, title, dir);
      store->profile = g_strdup (name);
      if (defaults->len)
        {
          for (guint i = 0; i < defaults->len; i++)
            if (g_str_equal (defaults->pdata[i], path))
              store->is_default = TRUE;
        }
      else
        store->is_default = g_key_file_get_boolean (kf, *g, "Default", NULL);
      g_ptr_array_add (stores, store);
    }
}

static void
add_sandboxed (GPtrArray *stores, KprBrowserKind kind, const char *title, const char *dir)
{
  g_autofree char *full = g_build_filename (g_get_home_dir (), dir, NULL);
  KprBrowserStore *store;

  if (!g_file_test (full, G_FILE_TEST_IS_DIR))
    return;
  store = kpr_browser_store_new (kind, title, full);
  store->sandboxed = TRUE;
  store->damaged = g_strdup_printf ("%s runs in a sandbox that cannot load PKCS#11 modules from "
                                    "this computer: use the browser from the distribution's "
                                    "packages", title);
  g_ptr_array_add (stores, store);
}

GPtrArray *
kpr_browser_find_stores (KprBrowserKind kinds)
{
  GPtrArray *stores = g_ptr_array_new_with_free_func ((GDestroyNotify) kpr_browser_store_free);

  if (kinds & KPR_BROWSER_CHROMIUM)
    {
      add_chromium (stores);
      add_sandboxed (stores, KPR_BROWSER_CHROMIUM, "Chromium (snap)", "snap/chromium");
      add_sandboxed (stores, KPR_BROWSER_CHROMIUM, "Chromium (flatpak)",
                     ".var/app/org.chromium.Chromium");
    }
  if (kinds & KPR_BROWSER_FIREFOX)
    {
      g_autofree char *legacy = g_build_filename (g_get_home_dir (), ".mozilla", "firefox", NULL);
      g_autofree char *xdg = g_build_filename (g_get_user_config_dir (), "mozilla", "firefox", NULL);

      add_firefox_root (stores, legacy);
      if (!g_str_equal (legacy, xdg))
        add_firefox_root (stores, xdg);
      add_sandboxed (stores, KPR_BROWSER_FIREFOX, "Firefox (snap)", "snap/firefox");
      add_sandboxed (stores, KPR_BROWSER_FIREFOX, "Firefox (flatpak)",
                     ".var/app/org.mozilla.firefox");
    }
  for (guint i = 0; i < stores->len; i++)
    if (!((KprBrowserStore *) stores->pdata[i])->sandboxed)
      kpr_browser_store_update_running (stores->pdata[i]);
  return stores;
}
