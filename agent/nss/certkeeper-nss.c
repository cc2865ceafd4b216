/* certkeeper-nss.c — the one place where certkeeper touches a browser's
 * NSS database, run by agent/kpr-browser-nss.c as a child process:
 *
 *   certkeeper-nss list DIR                  the modules, tokens and certificates NSS sees
 *   certkeeper-nss add DIR NAME LIBRARY      register a module (FRIENDLY), creating DIR
 *   certkeeper-nss remove DIR NAME           unregister it
 *
 * Each prints the database as NSS then sees it, as JSON on stdout
 * (docs/browsers.md), and exits with a KprError code and one line on
 * stderr when it fails.
 *
 * Why a separate process: NSS loads every module listed in the database
 * (SoftHSM among them) and calls C_Initialize/C_Finalize on it, while the
 * certkeeper process already has the same modules loaded through p11-kit
 * and libp11 (DESIGN §3: one module instance per process).  Two owners of
 * one module's global state in one process is what DESIGN forbids; here
 * NSS has a process of its own and nothing to share.
 *
 * The changes go through NSS itself (SECMOD_AddNewModuleEx and
 * SECMOD_DeleteModule, what modutil uses): pkcs11.txt is never written as
 * text.  It is read as text, first, because NSS rewrites it on every
 * change and silently drops what it cannot parse (measured: a last entry
 * without its closing blank line is lost): a damaged file is reported and
 * left exactly as it is.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include <cert.h>
#include <nss.h>
#include <pk11pub.h>
#include <prerror.h>
#include <secmod.h>

#include "kpr-browser-path.h"
#include "kpr-error.h"

/* Larger than any real pkcs11.txt; NSS reads lines of at most 2048 bytes. */
#define PKCS11_TXT_MAX (1024 * 1024)
#define NSS_LINE_MAX 2046

static int
fail (int code, const char *format, ...) G_GNUC_PRINTF (2, 3);

static int
fail (int code, const char *format, ...)
{
  va_list ap;

  va_start (ap, format);
  vfprintf (stderr, format, ap);
  va_end (ap);
  fputc ('\n', stderr);
  return code;
}

/* NULL when NSS can rewrite @path without losing anything, else why not. */
static char *
pkcs11_txt_problem (const char *path)
{
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) lines = NULL;
  gsize len = 0;
  gboolean in_block = FALSE, block_named = FALSE;
  guint line_no = 0;
  struct stat st;

  if (g_stat (path, &st) != 0)
    return errno == ENOENT ? NULL : g_strdup_printf ("it cannot be read (%s)", g_strerror (errno));
  if (st.st_size > PKCS11_TXT_MAX)
    return g_strdup_printf ("it is %lld bytes, far more than a module list",
                            (long long) st.st_size);
  if (!g_file_get_contents (path, &text, &len, &error))
    return g_strdup_printf ("it cannot be read (%s)", error->message);
  for (gsize i = 0; i < len; i++)
    {
      unsigned char c = text[i];
      if (c < 0x20 && c != '\n' && c != '\r' && c != '\t')
        return g_strdup_printf ("it holds binary data (byte 0x%02x at offset %zu)", c, i);
    }
  if (!g_utf8_validate (text, len, NULL))
    return g_strdup ("it is not text (invalid UTF-8)");
  lines = g_strsplit (text, "\n", -1);
  /* What follows the last '\n' is not a line (empty when the file ends
   * with one). */
  for (char **l = lines; *l && (l[1] || **l); l++)
    {
      char *line = *l;
      gsize n = strlen (line);
      const char *eq;

      line_no++;
      if (n && line[n - 1] == '\r')
        line[--n] = '\0';
      if (n > NSS_LINE_MAX)
        return g_strdup_printf ("its line %u is longer than NSS reads", line_no);
      if (n == 0)
        {
          if (in_block && !block_named)
            return g_strdup_printf ("its entry ending at line %u has no name=",
                                    line_no);
          in_block = block_named = FALSE;
          continue;
        }
      if (line[0] == '#')
        continue;
      eq = strchr (line, '=');
      if (!eq)
        return g_strdup_printf ("its line %u is not “key=value”", line_no);
      if (g_ascii_strncasecmp (line, "library=", 8) != 0 && g_ascii_strncasecmp (line, "name=", 5) != 0
          && g_ascii_strncasecmp (line, "parameters=", 11) != 0
          && g_ascii_strncasecmp (line, "NSS=", 4) != 0 && g_ascii_strncasecmp (line, "config=", 7) != 0)
        return g_strdup_printf ("its line %u has an unknown key “%.*s”", line_no,
                                (int) MIN (eq - line, 40), line);
      if (g_ascii_strncasecmp (line, "name=", 5) == 0)
        block_named = TRUE;
      in_block = TRUE;
    }
  /* NSS writes a block out when it reaches the empty line after it. */
  if (in_block)
    return g_strdup ("its last entry is cut short (no blank line after it): NSS "
                     "would drop it on its next change");
  return NULL;
}

static char *
nss_error_text (void)
{
  PRErrorCode code = PR_GetError ();
  const char *name = PR_ErrorToName (code);
  const char *text = PR_ErrorToString (code, PR_LANGUAGE_I_DEFAULT);

  return g_strdup_printf ("%s%s%s", text ? text : "unknown NSS error", name ? ", " : "",
                          name ? name : "");
}

/* No password is ever asked: a token that needs one stays logged out. */
static char *
no_password (PK11SlotInfo *slot, PRBool retry, void *arg)
{
  return NULL;
}

static char *
hex_of (const unsigned char *data, unsigned int len, gboolean skip_leading_zeros)
{
  GString *s = g_string_new (NULL);
  unsigned int i = 0;

  while (skip_leading_zeros && i + 1 < len && data[i] == 0)
    i++;
  for (; i < len; i++)
    g_string_append_printf (s, "%02X", data[i]);
  return g_string_free (s, FALSE);
}

static void
add_certs (JsonBuilder *b, PK11SlotInfo *slot)
{
  CERTCertList *list = PK11_ListCertsInSlot (slot);

  json_builder_set_member_name (b, "certs");
  json_builder_begin_array (b);
  for (CERTCertListNode *n = list ? CERT_LIST_HEAD (list) : NULL; n && !CERT_LIST_END (n, list);
       n = CERT_LIST_NEXT (n))
    {
      CERTCertificate *cert = n->cert;
      g_autofree char *serial = hex_of (cert->serialNumber.data, cert->serialNumber.len, TRUE);
      g_autofree char *issuer = g_base64_encode (cert->derIssuer.data, cert->derIssuer.len);
      g_autofree char *subject = CERT_NameToAscii (&cert->subject);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "serial");
      json_builder_add_string_value (b, serial);
      json_builder_set_member_name (b, "issuer_der");
      json_builder_add_string_value (b, issuer);
      json_builder_set_member_name (b, "subject");
      json_builder_add_string_value (b, subject ? subject : "");
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  if (list)
    CERT_DestroyCertList (list);
}

static void
add_module (JsonBuilder *b, SECMODModule *module)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, module->commonName ? module->commonName : "");
  json_builder_set_member_name (b, "library");
  json_builder_add_string_value (b, module->dllName ? module->dllName : "");
  json_builder_set_member_name (b, "internal");
  json_builder_add_boolean_value (b, module->internal);
  json_builder_set_member_name (b, "loaded");
  json_builder_add_boolean_value (b, module->loaded);
  json_builder_set_member_name (b, "slots");
  json_builder_begin_array (b);
  for (int i = 0; module->loaded && i < module->slotCount; i++)
    {
      PK11SlotInfo *slot = module->slots[i];
      gboolean present = PK11_IsPresent (slot);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "token");
      json_builder_add_string_value (b, present ? PK11_GetTokenName (slot) : "");
      json_builder_set_member_name (b, "present");
      json_builder_add_boolean_value (b, present);
      json_builder_set_member_name (b, "friendly");
      json_builder_add_boolean_value (b, PK11_IsFriendly (slot));
      if (present && !module->internal)
        add_certs (b, slot);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
}

static void
print_listing (const char *damaged, gboolean exists)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *text = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "exists");
  json_builder_add_boolean_value (b, exists);
  json_builder_set_member_name (b, "damaged");
  if (damaged)
    json_builder_add_string_value (b, damaged);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "modules");
  json_builder_begin_array (b);
  if (exists && !damaged)
    {
      SECMODListLock *lock = SECMOD_GetDefaultModuleListLock ();

      SECMOD_GetReadLock (lock);
      for (SECMODModuleList *l = SECMOD_GetDefaultModuleList (); l; l = l->next)
        add_module (b, l->module);
      SECMOD_ReleaseReadLock (lock);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  printf ("%s\n", text);
}

static SECMODModule *
find_module (const char *name, const char *library)
{
  SECMODListLock *lock = SECMOD_GetDefaultModuleListLock ();
  SECMODModule *found = NULL;

  SECMOD_GetReadLock (lock);
  for (SECMODModuleList *l = SECMOD_GetDefaultModuleList (); l && !found; l = l->next)
    if ((name && l->module->commonName && g_str_equal (l->module->commonName, name))
        || (library && kpr_browser_same_library (l->module->dllName, library)))
      found = SECMOD_ReferenceModule (l->module);
  SECMOD_ReleaseReadLock (lock);
  return found;
}

/* A present token in a slot that is not FRIENDLY: its slot was not there
 * when the module was registered (a new SoftHSM token gets a new slot id). */
static gboolean
has_unfriendly_token (SECMODModule *module)
{
  for (int i = 0; module->loaded && i < module->slotCount; i++)
    if (PK11_IsPresent (module->slots[i]) && !PK11_IsFriendly (module->slots[i]))
      return TRUE;
  return FALSE;
}

static int
add (const char *name, const char *library)
{
  g_autoptr (GError) error = NULL;
  SECMODModule *present = find_module (name, library);
  gboolean refresh = FALSE;
  int type = 0;

  if (present)
    {
      gboolean ours = present->commonName && g_str_equal (present->commonName, name);
      refresh = ours && kpr_browser_same_library (present->dllName, library) && has_unfriendly_token (present);
      if (ours && !kpr_browser_same_library (present->dllName, library))
        refresh = TRUE; /* our name, another library: replace it */
      SECMOD_DestroyModule (present);
      if (!refresh)
        return 0; /* registered already (by us, or by someone else under their name) */
      if (SECMOD_DeleteModule (name, &type) != SECSuccess)
        {
          g_autofree char *why = nss_error_text ();
          return fail (KPR_ERROR_MODULE, "NSS cannot replace its entry “%s”: %s", name, why);
        }
    }
  if (SECMOD_AddNewModuleEx (name, library, SECMOD_PubMechFlagstoInternal (PUBLIC_MECH_FRIENDLY_FLAG),
                             SECMOD_PubCipherFlagstoInternal (0), NULL, NULL)
      != SECSuccess)
    {
      g_autofree char *why = nss_error_text ();
      return fail (KPR_ERROR_MODULE, "NSS cannot load the module %s: %s", library, why);
    }
  return 0;
}

static int
remove_module (const char *name)
{
  SECMODModule *present = find_module (name, NULL);
  int type = 0;

  if (!present)
    return 0;
  SECMOD_DestroyModule (present);
  if (SECMOD_DeleteModule (name, &type) != SECSuccess)
    {
      g_autofree char *why = nss_error_text ();
      return fail (KPR_ERROR_MODULE, "NSS cannot remove the module “%s”: %s", name, why);
    }
  return 0;
}

/* A database NSS creates has a key store without a password yet; browsers
 * set an empty one on first use, and so does this (certutil -N
 * --empty-password does the same). */
static int
init_password (void)
{
  PK11SlotInfo *slot = PK11_GetInternalKeySlot ();
  int status = 0;

  if (slot && PK11_NeedUserInit (slot) && PK11_InitPin (slot, NULL, "") != SECSuccess)
    {
      g_autofree char *why = nss_error_text ();
      status = fail (KPR_ERROR_IO, "NSS cannot set up the new database: %s", why);
    }
  if (slot)
    PK11_FreeSlot (slot);
  return status;
}

static gboolean
db_exists (const char *dir)
{
  g_autofree char *cert9 = g_build_filename (dir, "cert9.db", NULL);
  return g_file_test (cert9, G_FILE_TEST_EXISTS);
}

int
main (int argc, char **argv)
{
  const char *command = argc > 2 ? argv[1] : "";
  const char *dir = argc > 2 ? argv[2] : NULL;
  gboolean writing = g_str_equal (command, "add") || g_str_equal (command, "remove");
  g_autofree char *txt = NULL, *problem = NULL, *config = NULL;
  int status = 0;

  if (!(g_str_equal (command, "list") && argc == 3) && !(g_str_equal (command, "add") && argc == 5)
      && !(g_str_equal (command, "remove") && argc == 4))
    return fail (KPR_ERROR_USAGE,
                 "usage: certkeeper-nss list DIR | add DIR NAME LIBRARY | remove DIR NAME "
                 "(run by certkeeper, not by people)");
  if (!g_path_is_absolute (dir))
    return fail (KPR_ERROR_USAGE, "certkeeper-nss: %s is not an absolute path", dir);

  txt = g_build_filename (dir, "pkcs11.txt", NULL);
  problem = pkcs11_txt_problem (txt);
  if (problem && writing)
    return fail (KPR_ERROR_BAD_INPUT, "%s is damaged: %s", txt, problem);
  if (!db_exists (dir) && !writing)
    {
      print_listing (problem, FALSE);
      return 0;
    }
  if (problem)
    {
      print_listing (problem, TRUE);
      return 0;
    }
  if (writing && g_mkdir_with_parents (dir, 0700) != 0)
    return fail (KPR_ERROR_IO, "Cannot create %s: %s", dir, g_strerror (errno));

  PK11_SetPasswordFunc (no_password);
  config = g_strdup_printf ("sql:%s", dir);
  if (NSS_Initialize (config, "", "", "secmod.db",
                      NSS_INIT_NOROOTINIT | (writing ? 0 : NSS_INIT_READONLY))
      != SECSuccess)
    {
      g_autofree char *why = nss_error_text ();
      return fail (KPR_ERROR_BAD_INPUT, "NSS cannot open the database %s: %s", dir, why);
    }
  if (writing)
    status = init_password ();
  if (status == 0 && g_str_equal (command, "add"))
    status = add (argv[3], argv[4]);
  else if (status == 0 && g_str_equal (command, "remove"))
    status = remove_module (argv[3]);
  if (status == 0)
    print_listing (NULL, TRUE);
  if (NSS_Shutdown () != SECSuccess && status == 0)
    {
      /* Something still holds an NSS object: a bug here, harmless for
       * the database, which is written already. */
      g_autofree char *why = nss_error_text ();
      fprintf (stderr, "certkeeper-nss: NSS did not shut down cleanly: %s\n", why);
    }
  return status;
}
