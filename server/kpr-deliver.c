/* kpr-deliver.c — messages that leave the CA: secret words by text message
 * (--otp-outbox FILE or --otp-command CMD) and issued certificates by mail
 * (--mail-command CMD).
 *
 * Commands run without a shell (split like a shell would, then exec'd) and
 * get the message on standard input: argv and the environment are visible
 * to every user of the machine, a pipe is not.
 */
#include "config.h"

#include "kpr-server-private.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

struct _KprOtpSender {
  char *outbox;
  char **argv;
};

static gboolean
parse_command (const char *option, const char *command, char ***ret_argv, GError **error)
{
  g_autoptr (GError) local = NULL;

  if (!g_shell_parse_argv (command, NULL, ret_argv, &local))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_USAGE, "Cannot parse %s: %s", option,
                   local->message);
      return FALSE;
    }
  return TRUE;
}

KprOtpSender *
kpr_otp_sender_new (const char *outbox, const char *command, GError **error)
{
  g_autoptr (KprOtpSender) sender = g_new0 (KprOtpSender, 1);

  if (outbox && command)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_USAGE,
                   "Give either --otp-outbox or --otp-command, not both");
      return NULL;
    }
  sender->outbox = g_strdup (outbox);
  if (command && !parse_command ("--otp-command", command, &sender->argv, error))
    return NULL;
  return g_steal_pointer (&sender);
}

void
kpr_otp_sender_free (KprOtpSender *sender)
{
  if (!sender)
    return;
  g_free (sender->outbox);
  g_strfreev (sender->argv);
  g_free (sender);
}

static gboolean
write_all (int fd, const char *data, gsize len)
{
  while (len > 0)
    {
      ssize_t n = write (fd, data, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      data += n;
      len -= (gsize) n;
    }
  return TRUE;
}

/* Runs @argv without a shell and writes @data to its standard input. */
static gboolean
run_with_input (char **argv, const char *option, const char *data, gsize len, GError **error)
{
  g_autoptr (GError) local = NULL;
  int fd = -1;
  gboolean ok;

  if (!g_spawn_async_with_pipes (NULL, argv, NULL,
                                 G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                                 NULL, &fd, NULL, NULL, &local))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_IO, "Cannot run the %s: %s", option,
                   local->message);
      return FALSE;
    }
  ok = write_all (fd, data, len);
  ok = close (fd) == 0 && ok;
  if (!ok)
    g_set_error (error, KPR_ERROR, KPR_ERROR_IO,
                 "The %s did not read the message from its standard input", option);
  return ok;
}

gboolean
kpr_otp_send (KprOtpSender *sender, const KprUser *user, const KprSecret *word, GError **error)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *stamp = g_date_time_format (now, "%Y-%m-%dT%H:%M:%SZ");
  g_autoptr (KprSecret) line = kpr_secret_new ("", 0);
  int written;
  int fd;
  gboolean ok;

  if (!sender->outbox && !sender->argv)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_UNSUPPORTED,
                   "No text-message sender configured (--otp-outbox or --otp-command)");
      return FALSE;
    }
  /* The line is built in the erasing buffer; it holds the word. */
  if (sender->outbox)
    written = g_snprintf (line->data, KPR_SECRET_MAX, "%s %s %s %s\n", stamp, user->name,
                          user->phone, word->data);
  else
    written = g_snprintf (line->data, KPR_SECRET_MAX, "%s %s\n", user->phone, word->data);
  if (written <= 0 || written >= KPR_SECRET_MAX)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "Text message too long");
      return FALSE;
    }
  line->len = (gsize) written;
  if (sender->argv)
    return run_with_input (sender->argv, "--otp-command", line->data, line->len, error);

  /* O_APPEND + one write per line: concurrent writers never interleave. */
  fd = open (sender->outbox, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, KPR_ERROR, KPR_ERROR_IO, "Cannot open the outbox %s: %s",
                   sender->outbox, g_strerror (saved));
      return FALSE;
    }
  ok = write_all (fd, line->data, line->len);
  ok = close (fd) == 0 && ok;
  if (!ok)
    g_set_error (error, KPR_ERROR, KPR_ERROR_IO, "Cannot write the outbox %s", sender->outbox);
  return ok;
}

/* ---- the mailed .cer ---------------------------------------------------- */

struct _KprMailer {
  char **argv;
};

KprMailer *
kpr_mailer_new (const char *command, GError **error)
{
  g_autoptr (KprMailer) mailer = g_new0 (KprMailer, 1);

  if (!parse_command ("--mail-command", command, &mailer->argv, error))
    return NULL;
  return g_steal_pointer (&mailer);
}

void
kpr_mailer_free (KprMailer *mailer)
{
  if (!mailer)
    return;
  g_strfreev (mailer->argv);
  g_free (mailer);
}

char *
kpr_mail_message (const KprIssuedMail *mail, gsize *ret_len)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *date = g_date_time_format (now, "%a, %d %b %Y %H:%M:%S +0000");
  g_autofree char *b64 = g_base64_encode (g_bytes_get_data (mail->der, NULL),
                                          g_bytes_get_size (mail->der));
  g_autofree char *boundary = g_strdup_printf ("certkeeper-%s", mail->serial);
  GString *msg = g_string_new (NULL);
  gsize len = strlen (b64);

  /* RFC 5322 + MIME, ready for `sendmail -t`: the addresses were checked
   * when the user was added (no line breaks can be in them). */
  g_string_append_printf (msg,
                          "To: %s\r\n"
                          "Subject: Your certificate (request %" G_GINT64_FORMAT ")\r\n"
                          "Date: %s\r\n"
                          "MIME-Version: 1.0\r\n"
                          "Content-Type: multipart/mixed; boundary=\"%s\"\r\n"
                          "\r\n"
                          "--%s\r\n"
                          "Content-Type: text/plain; charset=utf-8\r\n"
                          "\r\n"
                          "Request %" G_GINT64_FORMAT " was approved. The attached file is your "
                          "certificate (serial %s).\r\n"
                          "If it was not installed automatically, run:\r\n"
                          "  certkeeper install NAME %s-%" G_GINT64_FORMAT ".cer\r\n"
                          "\r\n"
                          "--%s\r\n"
                          "Content-Type: application/pkix-cert; name=\"%s-%" G_GINT64_FORMAT
                          ".cer\"\r\n"
                          "Content-Disposition: attachment; filename=\"%s-%" G_GINT64_FORMAT
                          ".cer\"\r\n"
                          "Content-Transfer-Encoding: base64\r\n"
                          "\r\n",
                          mail->address, mail->request_id, date, boundary, boundary,
                          mail->request_id, mail->serial, mail->user, mail->request_id,
                          boundary, mail->user, mail->request_id, mail->user, mail->request_id);
  for (gsize i = 0; i < len; i += 76)
    {
      g_string_append_len (msg, b64 + i, (gssize) MIN (76, len - i));
      g_string_append (msg, "\r\n");
    }
  g_string_append_printf (msg, "--%s--\r\n", boundary);
  *ret_len = msg->len;
  return g_string_free (msg, FALSE);
}

gboolean
kpr_mail_send (KprMailer *mailer, const KprIssuedMail *mail, GError **error)
{
  gsize len = 0;
  g_autofree char *msg = kpr_mail_message (mail, &len);

  return run_with_input (mailer->argv, "--mail-command", msg, len, error);
}

void
kpr_issued_mail_free (KprIssuedMail *mail)
{
  if (!mail)
    return;
  g_free (mail->address);
  g_free (mail->user);
  g_free (mail->serial);
  g_clear_pointer (&mail->der, g_bytes_unref);
  g_free (mail);
}
