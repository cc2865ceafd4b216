/* gui-fixture.h — shared by the certkeeper-gtk tests (suite gui).
 *
 * The tests run under Xvfb (lib-gui.sh starts one per test on a free
 * display, GDK_BACKEND=x11, GSK_RENDERER=cairo) with the private HOME and
 * XDG dirs of tests/agent/lib.sh, the compiled settings schema of the
 * build (GSETTINGS_SCHEMA_DIR) and GSETTINGS_BACKEND=memory.  They drive
 * the real widgets (gui/kpr-gui.h) against a real certkeeper-ca and
 * SoftHSM2 token prepared by the shell script, and check the widget tree;
 * each main screen is saved as a PNG under $KPR_SCREENSHOT_DIR.
 *
 * Results are TAP on stdout (kpr_gui_check); the exit status is 1 when a
 * check failed.
 */
#pragma once

#include "kpr-gui.h"

G_BEGIN_DECLS

/* adw_init() and the test's TAP counter; call first. */
void kpr_gui_test_init (int *argc, char ***argv);
/* One TAP line; returns @cond. */
gboolean kpr_gui_check (gboolean cond, const char *format, ...) G_GNUC_PRINTF (2, 3);
/* 0 when every check passed, else 1 (the process's exit status). */
int kpr_gui_test_finish (void);

/* Runs the main loop until @cond returns TRUE or @timeout_ms passes;
 * returns the last value of @cond. */
gboolean kpr_gui_wait (gboolean (*cond) (gpointer data), gpointer data, guint timeout_ms);
/* Runs the main loop for @ms (lets widgets lay out and draw). */
void kpr_gui_settle (guint ms);

/* A shown toplevel (window or dialog) of @type, or NULL. */
GtkWidget *kpr_gui_toplevel_of_type (GType type);
/* The first widget under @root (depth first, @root included) whose
 * buildable id (the .ui "id") or widget name (gtk_widget_set_name) is
 * @id; NULL when there is none. */
GtkWidget *kpr_gui_find (GtkWidget *root, const char *id);
/* The first GtkLabel / AdwPreferencesRow / AdwActionRow / GtkButton
 * under @root whose visible text (label, title or subtitle) contains
 * @text; NULL when there is none. */
GtkWidget *kpr_gui_find_text (GtkWidget *root, const char *text);
/* TRUE when @widget is visible, mapped and sensitive (with its parents):
 * what a person could click. */
gboolean kpr_gui_can_click (GtkWidget *widget);
/* Clicks a GtkButton (emits "clicked") or activates any other widget. */
void kpr_gui_click (GtkWidget *widget);
/* Types @text into a GtkEditable (GtkEntry, GtkPasswordEntry, AdwEntryRow…). */
void kpr_gui_type (GtkWidget *editable, const char *text);

/* gui-fixture-steps.c: the same steps in several tests. */
/* kpr_gui_find, and a "# no widget" note when there is none. */
GtkWidget *kpr_gui_need (GtkWidget *root, const char *id);
/* The visible page of the GtkStack named "stack" under @root (dialogs). */
const char *kpr_gui_stack_page (GtkWidget *root);
/* Waits until that page is @page; says where it stayed on a timeout. */
gboolean kpr_gui_wait_page (GtkWidget *root, const char *page, guint timeout_ms);
/* A window shown and given a size, as a kpr_gui_wait condition. */
gboolean kpr_gui_window_drawn (gpointer window);
/* kpr_gui_can_click as a kpr_gui_wait condition. */
gboolean kpr_gui_clickable (gpointer widget);
/* A label's or an editable's text; "" for anything else or NULL. */
const char *kpr_gui_text (GtkWidget *widget);
/* Empties @editable and types @text. */
void kpr_gui_set_text (GtkWidget *editable, const char *text);
/* certkeeper-ca --otp-outbox: lines so far, and the last line's last
 * field (the word it "texted"). */
guint kpr_gui_outbox_lines (const char *outbox);
char *kpr_gui_outbox_last_word (const char *outbox);
/* Types @pin into a PIN dialog of the worker that is shown and not yet
 * answered, and continues; FALSE when there is none. */
gboolean kpr_gui_answer_pin (const char *pin);

/* How many buttons with a mnemonic under @root have an accessible name
 * other than their label without the underscore (GTK_A11Y=test, see
 * lib-gui.sh); each is named on a "#" line. */
guint kpr_gui_mnemonic_names (GtkWidget *root);

/* Renders @widget's window (or @widget itself) and writes
 * $KPR_SCREENSHOT_DIR/@name.png; returns FALSE (and says why on stderr)
 * when it could not. */
gboolean kpr_gui_screenshot (GtkWidget *widget, const char *name);

G_END_DECLS
