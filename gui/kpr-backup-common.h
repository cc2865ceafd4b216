/* kpr-backup-common.h — small pieces the backup, import and delete
 * dialogs share (private to gui/). */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

/* Reloads the main window's identities after a dialog changed one, when
 * the default application is certkeeper-gtk's (tests may run without). */
void kpr_backup_refresh_application (void);
/* A dialog's job finished after the dialog was closed (@worker is
 * NULL): the agent's work stands with no widget to show it, so the main
 * window is refreshed when it succeeded.  TRUE then: the caller only
 * frees its job. */
gboolean kpr_backup_job_orphaned (gpointer worker, GObject *source, GAsyncResult *result);
/* Gives @row a GtkPasswordEntryBuffer, which erases what it held. */
void kpr_backup_secure_row (AdwPasswordEntryRow *row);
/* A mount a person can take away: ejectable, or on a removable drive. */
gboolean kpr_backup_mount_is_removable (GMount *mount);
/* The removable mounts with a local path, now; free with
 * g_list_free_full (list, g_object_unref). */
GList *kpr_backup_removable_mounts (void);

G_END_DECLS
