/* kpr-backup-common.c — see kpr-backup-common.h. */
#include "config.h"

#include "kpr-backup-common.h"

#include "kpr-application.h"
#include "kpr-worker.h"

void
kpr_backup_refresh_application (void)
{
  GApplication *app = g_application_get_default ();

  if (app && KPR_IS_APPLICATION (app))
    kpr_application_refresh (KPR_APPLICATION (app));
}

/* AdwPasswordEntryRow keeps its text in a plain GtkEntryBuffer, whose
 * freed memory still holds the passphrase. */
void
kpr_backup_secure_row (AdwPasswordEntryRow *row)
{
  GtkEditable *delegate = gtk_editable_get_delegate (GTK_EDITABLE (row));
  g_autoptr (GtkEntryBuffer) buffer = gtk_password_entry_buffer_new ();

  if (GTK_IS_TEXT (delegate))
    gtk_text_set_buffer (GTK_TEXT (delegate), buffer);
}

gboolean
kpr_backup_mount_is_removable (GMount *mount)
{
  g_autoptr (GDrive) drive = mount ? g_mount_get_drive (mount) : NULL;

  if (!mount)
    return FALSE;
  return g_mount_can_eject (mount)
         || (drive && (g_drive_is_removable (drive) || g_drive_is_media_removable (drive)
                       || g_drive_can_eject (drive)));
}

GList *
kpr_backup_removable_mounts (void)
{
  g_autoptr (GVolumeMonitor) monitor = g_volume_monitor_get ();
  GList *mounts = g_volume_monitor_get_mounts (monitor);
  GList *removable = NULL;

  for (GList *l = mounts; l; l = l->next)
    {
      g_autoptr (GFile) root = g_mount_get_root (l->data);
      g_autofree char *path = g_file_get_path (root);

      if (path && !g_mount_is_shadowed (l->data) && kpr_backup_mount_is_removable (l->data))
        removable = g_list_prepend (removable, g_object_ref (l->data));
    }
  g_list_free_full (mounts, g_object_unref);
  return g_list_reverse (removable);
}

gboolean
kpr_backup_job_orphaned (gpointer worker, GObject *source, GAsyncResult *result)
{
  if (worker)
    return FALSE;
  if (kpr_worker_run_finish (KPR_WORKER (source), result, NULL))
    kpr_backup_refresh_application ();
  return TRUE;
}
