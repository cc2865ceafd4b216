/* kpr-window-detail.c — one identity's page in the main window (issue
 * 16, item 1): the action its state calls for in the header bar; the
 * facts a person asks about (where the key is and how it is protected,
 * server and username, key type, valid until, backup, browsers); only
 * the actions that can work now, with a sentence for those that cannot;
 * the certificate's details and the history; the destructive actions
 * last, each in its own row and each confirmed (kpr-window-actions.c).
 */
#include "config.h"

#include "kpr-a11y.h"

#include <string.h>

#include "kpr-identity-row.h"
#include "kpr-identity-text.h"
#include "kpr-row-text.h"
#include "kpr-window-private.h"

/* Enough history for a person; the whole audit stays in NAME.log.  The
 * newest KPR_HISTORY_FIRST events are shown, older ones KPR_HISTORY_MORE
 * at a time on request: rows are built (and laid out again after every
 * renewal) only for what is asked for (bench/RESULTS.md, main-loop
 * stall). */
#define KPR_HISTORY_FIRST 8
#define KPR_HISTORY_MORE 20

static void
set_row (AdwActionRow *row, const char *text)
{
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  /* KprRowText: a renewal changes the serial, the fingerprints, the
   * dates and the URI, long texts that GtkLabel would shape again for
   * every size asked (bench/RESULTS.md, main-loop stall). */
  kpr_row_text_set_subtitle (GTK_WIDGET (row), text && *text ? text : "—");
}

static void
on_history_more (GtkButton *button, KprWindow *self)
{
  const KprIdentity *id = self->shown ? kpr_window_lookup (self, self->shown) : NULL;

  self->history_limit += KPR_HISTORY_MORE;
  self->history_count = 0; /* built again with the new limit */
  if (id)
    kpr_window_update_detail (self);
}

/* The last row while older events are not shown: a button for them. */
static GtkWidget *
history_more_row (KprWindow *self)
{
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *button = gtk_button_new_with_mnemonic ("Show _Older Events");

  gtk_widget_set_name (row, "history-more");
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
  gtk_widget_add_css_class (button, "flat");
  gtk_widget_set_margin_top (button, 6);
  gtk_widget_set_margin_bottom (button, 6);
  gtk_widget_set_halign (button, GTK_ALIGN_CENTER);
  g_signal_connect (button, "clicked", G_CALLBACK (on_history_more), self);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), button);
  return row;
}

static void
update_history (KprWindow *self, const char *name)
{
  GPtrArray *events = g_hash_table_lookup (self->events, name);
  guint n = events ? events->len : 0;
  GtkWidget *child, *last;
  guint shown = 0;

  if (self->history_count > 0 && n >= self->history_count
      && g_strcmp0 (self->history_name, name) == 0)
    {
      /* The history only grows: its new events go on top and the oldest
       * shown drop off; the others keep their (measured) rows. */
      for (guint i = self->history_count; i < n; i++)
        gtk_list_box_prepend (self->history_list, kpr_history_row_new (events->pdata[i]));
      for (child = gtk_widget_get_first_child (GTK_WIDGET (self->history_list)); child;)
        {
          GtkWidget *next = gtk_widget_get_next_sibling (child);
          if (ADW_IS_ACTION_ROW (child) && ++shown > self->history_limit)
            gtk_list_box_remove (self->history_list, child);
          child = next;
        }
      last = gtk_widget_get_last_child (GTK_WIDGET (self->history_list));
      if (n > self->history_limit && !(last && g_str_equal (gtk_widget_get_name (last), "history-more")))
        gtk_list_box_append (self->history_list, history_more_row (self));
      self->history_count = n;
      return;
    }
  if (g_strcmp0 (self->history_name, name) != 0)
    {
      g_free (self->history_name);
      self->history_name = g_strdup (name);
      self->history_limit = KPR_HISTORY_FIRST;
    }
  self->history_count = n;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->history_list))))
    gtk_list_box_remove (self->history_list, child);
  /* Newest first: what just happened is what a person looks for. */
  for (guint i = n; i > 0 && n - i < self->history_limit; i--)
    gtk_list_box_append (self->history_list, kpr_history_row_new (events->pdata[i - 1]));
  if (n > self->history_limit)
    gtk_list_box_append (self->history_list, history_more_row (self));
  if (n == 0)
    {
      GtkWidget *label = gtk_label_new ("Nothing recorded yet.");

      gtk_widget_add_css_class (label, "dim-label");
      gtk_widget_set_margin_top (label, 6);
      gtk_widget_set_margin_bottom (label, 6);
      gtk_list_box_append (self->history_list, label);
    }
}

/* What the header's button does for @id: the backup while one is
 * missing (it must come before the lock), else a renewal that is due;
 * NULL when nothing is pressing. */
static const char *
primary_action (const KprIdentity *id, gint64 now, const char **ret_label)
{
  KprStatus status = kpr_identity_status (id, now);

  if (id->protection == KPR_PROTECTION_EXPORTABLE && kpr_identity_backup_missing (id))
    {
      *ret_label = "Back Up…";
      return "win.backup";
    }
  if (status == KPR_STATUS_RENEW_DUE || status == KPR_STATUS_EXPIRED)
    {
      *ret_label = "Renew Now";
      return "win.renew";
    }
  return NULL;
}

static void
update_actions (KprWindow *self, const KprIdentity *id, gint64 now)
{
  gboolean software = FALSE;
  g_autofree char *token = kpr_identity_token_label (id, &software);
  gboolean exportable = id->protection == KPR_PROTECTION_EXPORTABLE;
  gboolean can_renew = id->state != KPR_STATE_REVOKED && id->state != KPR_STATE_FAILED;
  const char *label = NULL;
  const char *primary = primary_action (id, now, &label);
  GString *why = g_string_new (NULL);

  gtk_widget_set_visible (self->primary_button, primary != NULL);
  if (primary)
    kpr_a11y_button_set_label (GTK_BUTTON (self->primary_button), label);
  g_object_set_data (G_OBJECT (self->primary_button), "kpr-action", (gpointer) primary);
  gtk_widget_set_sensitive (self->primary_button, !self->busy);

  /* Only what can work; the header's action is not repeated below. */
  gtk_widget_set_visible (self->renew_row, can_renew && g_strcmp0 (primary, "win.renew") != 0);
  gtk_widget_set_visible (self->backup_row, exportable && g_strcmp0 (primary, "win.backup") != 0);
  gtk_widget_set_visible (self->lock_row, exportable);
  gtk_widget_set_sensitive (self->renew_button, !self->busy);
  gtk_widget_set_sensitive (self->backup_button, !self->busy);
  gtk_widget_set_sensitive (self->lock_button, !self->busy);
  if (!can_renew)
    g_string_append (why, id->state == KPR_STATE_REVOKED
                            ? "A revoked certificate is not renewed: delete it and add the "
                              "identity again. "
                            : "A failed identity is not renewed: delete it and add it again. ");
  if (!exportable)
    g_string_append (why, "The key is locked on its token: it cannot be copied, so there is "
                          "no backup to make and nothing left to lock.");
  else if (kpr_identity_backup_missing (id))
    g_string_append (why, "Lock the key after its backup: a locked key can never be "
                          "copied again.");
  adw_preferences_group_set_description (self->actions_group,
                                         why->len ? g_strstrip (why->str) : NULL);
  g_string_free (why, TRUE);

  /* A lost token is revoked; a key on this computer is deleted (and the
   * computer's loss told to the server's operator). */
  gtk_widget_set_visible (self->revoke_row,
                          !software && token && id->cert && id->state != KPR_STATE_REVOKED);
  gtk_widget_set_sensitive (self->revoke_button, !self->busy);
  gtk_widget_set_sensitive (self->delete_button, !self->busy);
  adw_preferences_group_set_description (
    self->remove_group,
    software ? "The key is on this computer, not on a removable token: there is no token to "
               "lose, so “Revoke (lost token)” is not offered."
             : NULL);
}

void
kpr_window_update_detail (KprWindow *self)
{
  const KprIdentity *id = self->shown ? kpr_window_lookup (self, self->shown) : NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  g_autofree char *where = NULL, *uri = NULL, *subtitle = NULL, *state = NULL;
  g_autofree char *account = NULL, *backup = NULL;
  const char *css = NULL;

  if (!id)
    return;
  subtitle = kpr_identity_subtitle_text (id, now);
  adw_window_title_set_title (self->detail_title, id->name);
  adw_window_title_set_subtitle (self->detail_title, kpr_identity_badge_text (id, now, &css));
  state = id->state == KPR_STATE_FAILED && id->failed_reason
            ? g_strdup_printf ("%s: %s", kpr_identity_badge_text (id, now, &css), id->failed_reason)
            : g_strdup_printf ("%s (%s)", kpr_identity_badge_text (id, now, &css), subtitle);
  set_row (self->detail_state, state);
  where = kpr_identity_where_long_text (id);
  set_row (self->detail_where, where);
  account = g_strdup_printf ("%s at %s%s%s", id->username ? id->username : "?",
                             id->server ? id->server : "?", id->label ? ", CA " : "",
                             id->label ? id->label : "");
  set_row (self->detail_account, account);
  set_row (self->detail_key_type, kpr_key_type_title (id->key_type));
  backup = kpr_identity_backup_text (id);
  set_row (self->detail_backup, backup);
  if (id->cert)
    {
      g_autofree char *subject = kpr_ossl_name_text (X509_get_subject_name (id->cert));
      g_autofree char *issuer = kpr_ossl_name_text (X509_get_issuer_name (id->cert));
      g_autofree char *serial = kpr_ossl_serial_hex (id->cert);
      g_autofree char *from = kpr_cert_time_text (X509_get0_notBefore (id->cert));
      g_autofree char *until = kpr_cert_time_text (X509_get0_notAfter (id->cert));
      g_autofree char *validity = g_strdup_printf ("%s to %s", from, until);
      g_autofree char *sha256 = kpr_ossl_fingerprint (id->cert, EVP_sha256 ());
      g_autofree char *sha1 = kpr_ossl_fingerprint (id->cert, EVP_sha1 ());
      g_autofree char *until_day =
        kpr_date_text (kpr_ossl_time_unix (X509_get0_notAfter (id->cert)));

      set_row (self->detail_subject, subject);
      set_row (self->detail_issuer, issuer);
      set_row (self->detail_serial, serial);
      set_row (self->detail_validity, validity);
      set_row (self->detail_sha256, sha256);
      set_row (self->detail_sha1, sha1);
      set_row (self->detail_until, until_day);
    }
  else
    {
      set_row (self->detail_subject, NULL);
      set_row (self->detail_issuer, NULL);
      set_row (self->detail_serial, NULL);
      set_row (self->detail_validity, NULL);
      set_row (self->detail_sha256, NULL);
      set_row (self->detail_sha1, NULL);
      set_row (self->detail_until, id->state == KPR_STATE_PENDING ? "Waiting for the server"
                                                                  : "No certificate yet");
    }
  uri = kpr_identity_key_uri (id);
  set_row (self->detail_uri, uri);
  gtk_widget_set_sensitive (self->copy_uri_button, uri != NULL);
  update_history (self, id->name);
  update_actions (self, id, now);
  /* Checked once per identity shown (and after a fix), not every reload:
   * it runs a child process per browser store. */
  if (g_strcmp0 (self->browsers_name, id->name) != 0)
    {
      g_free (self->browsers_name);
      self->browsers_name = g_strdup (id->name);
      kpr_window_check_browsers (self, id->name);
    }
}
