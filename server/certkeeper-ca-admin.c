/* certkeeper-ca-admin.c — the administrator's commands on requests and
 * certificates: requests, approve, reject, cert, revoke (server/README.md,
 * "Requests and the mailed .cer"). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "certkeeper-ca.h"

static gboolean
parse_id (const char *cmd, const char *text, gint64 *ret_id, int *ret)
{
  guint64 id = 0;

  if (!g_ascii_string_to_unsigned (text, 10, 1, G_MAXINT64, &id, NULL))
    {
      *ret = kpr_cli_usage_error (cmd, "ID must be the number of a request "
                                       "('certkeeper-ca requests DIR' lists them)");
      return FALSE;
    }
  *ret_id = (gint64) id;
  return TRUE;
}

int
kpr_cmd_requests (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KprCa) ca = NULL;
  g_autofree char *text = NULL;
  gboolean pending = FALSE, json = FALSE;
  int ret = 0;
  const GOptionEntry entries[] = {
    { "pending", 0, 0, G_OPTION_ARG_NONE, &pending, "Only requests waiting for a decision",
      NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json,
      "A JSON array: id, user, subject, key_type, operation, submitted, state, serial, reason",
      NULL },
    { NULL }
  };

  if (!kpr_cli_parse ("requests", "DIR",
                      "List certificate requests (manual approval): ID, user, subject, key "
                      "type, submitted, state (pending, approved, issued, rejected).",
                      entries, &argc, &argv, 1, &ret))
    return ret;
  if (!(ca = kpr_cli_open ("requests", argv[1], &ret)))
    return ret;
  if (!(text = kpr_ca_requests (ca, pending, json, &error)))
    return kpr_cli_report ("requests", error);
  g_print ("%s", text);
  return 0;
}

int
kpr_cmd_approve (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KprCa) ca = NULL;
  g_autofree char *pin_file = NULL;
  g_auto (KprApproved) done = { 0 };
  gint64 id = 0;
  int ret = 0;
  const GOptionEntry entries[] = {
    { "pin-file", 0, 0, G_OPTION_ARG_FILENAME, &pin_file,
      "PIN of the CA key's token, if it is on one (0600; '-' = stdin)", "FILE" },
    { NULL }
  };

  if (!kpr_cli_parse ("approve", "DIR ID",
                      "Approve a request and issue its certificate; the client gets it on its "
                      "next try, 'cert DIR ID --to FILE.cer' writes it, and a server with "
                      "--mail-command mails it.",
                      entries, &argc, &argv, 2, &ret)
      || !parse_id ("approve", argv[2], &id, &ret))
    return ret;
  if (!(ca = kpr_cli_open ("approve", argv[1], &ret)))
    return ret;
  if (!kpr_ca_approve (ca, id, kpr_cli_token_pin, pin_file, &done, &error))
    return kpr_cli_report ("approve", error);
  if (done.serial)
    g_print ("request %s of %s approved: certificate %s issued; the client gets it on its next "
             "try, or 'certkeeper-ca cert %s %s --to FILE.cer' writes it\n",
             argv[2], done.user, done.serial, argv[1], argv[2]);
  else
    g_print ("request %s of %s approved; the key and certificate are made when the client "
             "comes back for them\n", argv[2], done.user);
  if (done.crl_generation > 0)
    return kpr_cli_publish ("approve", ca, pin_file, done.crl_generation, NULL);
  return 0;
}

int
kpr_cmd_reject (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KprCa) ca = NULL;
  g_autofree char *reason = NULL;
  g_autofree char *user = NULL;
  gint64 id = 0;
  int ret = 0;
  const GOptionEntry entries[] = {
    { "reason", 0, 0, G_OPTION_ARG_STRING, &reason,
      "Why; the client is told (at most 200 characters)", "TEXT" },
    { NULL }
  };

  if (!kpr_cli_parse ("reject", "DIR ID", "Reject a request; the client is told on its next try.",
                      entries, &argc, &argv, 2, &ret)
      || !parse_id ("reject", argv[2], &id, &ret))
    return ret;
  if (!(ca = kpr_cli_open ("reject", argv[1], &ret)))
    return ret;
  if (!kpr_ca_reject (ca, id, reason, &user, &error))
    return kpr_cli_report ("reject", error);
  g_print ("request %s of %s rejected\n", argv[2], user);
  return 0;
}

int
kpr_cmd_cert (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KprCa) ca = NULL;
  g_autoptr (GBytes) der = NULL;
  g_autofree char *to = NULL;
  g_autofree char *pem = NULL;
  gboolean as_pem = FALSE;
  const char *data;
  gsize len;
  int ret = 0;
  const GOptionEntry entries[] = {
    { "to", 0, 0, G_OPTION_ARG_FILENAME, &to, "Write the certificate to FILE (required)",
      "FILE.cer" },
    { "pem", 0, 0, G_OPTION_ARG_NONE, &as_pem, "PEM instead of DER", NULL },
    { NULL }
  };

  if (!kpr_cli_parse ("cert", "DIR ID|SERIAL",
                      "Write the certificate of a request (by ID) or of a serial to a .cer "
                      "file, to mail or hand over; 'certkeeper install NAME FILE' takes it.",
                      entries, &argc, &argv, 2, &ret))
    return ret;
  if (!to)
    return kpr_cli_usage_error ("cert", "--to FILE.cer is required");
  if (!(ca = kpr_cli_open ("cert", argv[1], &ret)))
    return ret;
  if (!(der = kpr_ca_cert_der (ca, argv[2], &error)))
    return kpr_cli_report ("cert", error);
  data = g_bytes_get_data (der, &len);
  if (as_pem)
    {
      g_autofree char *b64 = g_base64_encode ((const guchar *) data, len);
      GString *out = g_string_new ("-----BEGIN CERTIFICATE-----\n");

      for (gsize i = 0; i < strlen (b64); i += 64)
        g_string_append_printf (out, "%.64s\n", b64 + i);
      g_string_append (out, "-----END CERTIFICATE-----\n");
      len = out->len;
      data = pem = g_string_free (out, FALSE);
    }
  /* Written whole or not at all; a certificate is public (0644). */
  if (!g_file_set_contents_full (to, data, (gssize) len, G_FILE_SET_CONTENTS_CONSISTENT, 0644,
                                 &error))
    {
      g_autoptr (GError) io = g_error_new (KPR_ERROR, KPR_ERROR_IO, "Cannot write %s: %s", to,
                                          error->message);
      return kpr_cli_report ("cert", io);
    }
  g_print ("certificate written to %s (%s)\n", to, as_pem ? "PEM" : "DER");
  return 0;
}

int
kpr_cmd_revoke (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KprCa) ca = NULL;
  g_autofree char *pin_file = NULL;
  g_autofree char *text = NULL;
  gint64 generation = 0;
  gboolean already = FALSE;
  int ret = 0;
  const GOptionEntry entries[] = {
    { "pin-file", 0, 0, G_OPTION_ARG_FILENAME, &pin_file,
      "PIN of the CA key's token, if it is on one and no server runs (0600; '-' = stdin)",
      "FILE" },
    { NULL }
  };

  if (!kpr_cli_parse ("revoke", "DIR SERIAL",
                      "Revoke a certificate by serial (hex) and publish the CRL.", entries,
                      &argc, &argv, 2, &ret))
    return ret;
  if (!(ca = kpr_cli_open ("revoke", argv[1], &ret)))
    return ret;
  if (!kpr_ca_revoke_serial (ca, argv[2], "admin", &already, &generation, &error))
    return kpr_cli_report ("revoke", error);
  text = g_strdup_printf (already ? "certificate %s was already revoked" : "certificate %s revoked",
                          argv[2]);
  return kpr_cli_publish ("revoke", ca, pin_file, generation, text);
}
