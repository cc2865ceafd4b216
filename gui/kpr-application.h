/* kpr-application.h — certkeeper-gtk's AdwApplication: one main window,
 * the app.* actions (kpr-app-actions.c) that the tray icon and the
 * notifications of certkeeper-agent activate over D-Bus, the settings
 * (org.certkeeper.Certkeeper schema). */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define KPR_TYPE_APPLICATION (kpr_application_get_type ())
G_DECLARE_FINAL_TYPE (KprApplication, kpr_application, KPR, APPLICATION, AdwApplication)

KprApplication *kpr_application_new (void);
/* The application's settings (reminder lead time, default key type,
 * default protection). */
GSettings *kpr_application_get_settings (KprApplication *app);
/* Reloads the identities shown (after a dialog changed one). */
void kpr_application_refresh (KprApplication *app);

/* kpr-app-actions.c */
void kpr_application_add_actions (KprApplication *app);

G_END_DECLS
