/* kpr-gui.h — the face of gui/: certkeeper-gtk's widgets, for its main()
 * and its tests.  gui/ holds no business logic: everything it does is a
 * kpr-agent.h call that the certkeeper command can make too, run off the
 * main thread by kpr-worker.h. */
#pragma once

#include "kpr-add-dialog.h"
#include "kpr-application.h"
#include "kpr-backup-dialog.h"
#include "kpr-delete-dialog.h"
#include "kpr-import-dialog.h"
#include "kpr-preferences.h"
#include "kpr-secret-dialog.h"
#include "kpr-window.h"
#include "kpr-worker.h"
