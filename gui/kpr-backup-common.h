/* kpr-backup-common.h — small pieces the backup, import and delete
 * dialogs share (private to gui/). */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

/* Reloads the main window's identities after a dialog changed one, when
 * the default application is certkeeper-gtk's (tests may run without). */
void kpr_backup_refresh_application (void);
/* Gives @row a GtkPasswordEntryBuffer, which erases what it held. */
void kpr_backup_secure_row (AdwPasswordEntryRow *row);
/* A mount a person can take away: ejectable, or on a removable drive. */
gboolean kpr_backup_mount_is_removable (GMount *mount);
/* The removable mounts with a local path, now; free with
 * g_list_free_full (list, g_object_unref). */
GList *kpr_backup_removable_mounts (void);

G_END_DECLS
