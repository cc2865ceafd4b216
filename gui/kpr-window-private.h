/* kpr-window-private.h — what kpr-window.c shares with
 * kpr-window-actions.c and kpr-window-load.c. */
#pragma once

#include "kpr-agent-link.h"
#include "kpr-window.h"
#include "kpr-worker.h"

G_BEGIN_DECLS

struct _KprWindow {
  AdwApplicationWindow parent_instance;

  /* template */
  AdwToastOverlay *toasts;
  AdwLeaflet *leaflet;
  GtkWidget *list_page;
  GtkStack *list_stack;
  GtkSpinner *loading_spinner;
  GtkListView *identity_list;
  /* the detail page, NULL until kpr_window_ensure_detail() */
  GtkWidget *detail_page;
  AdwWindowTitle *detail_title;
  GtkRevealer *progress_revealer;
  GtkSpinner *progress_spinner;
  GtkLabel *progress_label;
  GtkWidget *renew_button;
  GtkWidget *backup_button;
  GtkWidget *lock_button;
  GtkWidget *revoke_button;
  GtkWidget *delete_button;
  GtkWidget *copy_uri_button;
  AdwActionRow *detail_state;
  AdwActionRow *detail_subject;
  AdwActionRow *detail_issuer;
  AdwActionRow *detail_serial;
  AdwActionRow *detail_validity;
  AdwActionRow *detail_sha256;
  AdwActionRow *detail_sha1;
  AdwActionRow *detail_where;
  AdwActionRow *detail_uri;
  AdwActionRow *detail_backup;
  GtkListBox *history_list;
  GtkWidget *primary_button;
  GtkScrolledWindow *detail_scroll;
  AdwActionRow *detail_account;
  AdwActionRow *detail_key_type;
  AdwActionRow *detail_until;
  AdwActionRow *detail_browsers;
  GtkWidget *browsers_fix_button;
  AdwPreferencesGroup *actions_group;
  GtkWidget *renew_row;
  GtkWidget *backup_row;
  GtkWidget *lock_row;
  AdwPreferencesGroup *remove_group;
  GtkWidget *revoke_row;

  GPtrArray *identities; /* KprIdentity, sorted by name */
  GHashTable *events;    /* name → GPtrArray of KprEvent (the history) */
  GPtrArray *damaged;    /* "name: why" of records that could not be read */
  GListStore *entries;   /* the list view's items (kpr-window.c) */
  char *shown;           /* the detail page's identity, or NULL */
  gboolean loaded;
  gboolean present_on_load; /* kpr_window_present_loaded() is waiting */
  KprAgentLink *agent_link;  /* a running certkeeper-agent, if any */
  char *history_name;        /* whose history the detail page shows */
  guint history_count;       /* how many of its events it has seen */
  guint history_limit;       /* how many it shows (kpr-window-detail.c) */
  guint present_source;

  KprWorker *loader;
  KprWorker *worker;
  KprWorker *browser_worker; /* kpr-window-browsers.c, made when first needed */
  char *browsers_name;       /* whose "Browsers" row was last checked */
  GCancellable *cancellable;
  gboolean reload_pending;
  GFileMonitor *monitor;
  guint reload_source;
  guint tick_source;
  gboolean busy;
  AdwToast *toast; /* the last one shown */
  GtkWindow *message_dialog; /* a message too long for a toast (weak) */
};

/* kpr-window.c: builds the detail page (kpr-window-detail.ui) if it is
 * not built yet; its widgets below are NULL until then. */
void kpr_window_ensure_detail (KprWindow *window);
/* kpr-window.c: the list from what was loaded. */
void kpr_window_update_list (KprWindow *window);
/* kpr-window-detail.c: the detail page from what was loaded. */
void kpr_window_update_detail (KprWindow *window);
/* kpr-window-load.c: (re)loads the identities in the loader worker; a
 * load asked for while one runs follows it. */
void kpr_window_start_load (KprWindow *window);

/* kpr-window-browsers.c: the "Browsers" row of identity @name, checked
 * (and fixed) in a worker of its own. */
void kpr_window_check_browsers (KprWindow *window, const char *name);
void kpr_window_fix_browsers (KprWindow *window, const char *name);

/* The identity as last loaded; NULL when it is not (or no longer) there. */
const KprIdentity *kpr_window_lookup (KprWindow *window, const char *name);
/* The worker for the actions (one at a time per window). */
KprWorker *kpr_window_get_worker (KprWindow *window);
/* A short sentence at the bottom of the window; one too long for a
 * toast's line is said in a dialog instead, never cut short. */
void kpr_window_toast (KprWindow *window, const char *message);
/* While an action runs: its progress on the detail page, and the action
 * buttons insensitive.  @message NULL ends it. */
void kpr_window_set_busy (KprWindow *window, const char *message);

G_END_DECLS
