/* kpr-log.h — certkeeper-agent's log (kpr-log.c): one line per message on
 * stderr with its journald priority ("<N>"), multi-line messages split. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* sd-daemon(3) priorities, written as "<N>" before each line. */
typedef enum {
  KPR_LOG_ERR = 3,
  KPR_LOG_WARNING = 4,
  KPR_LOG_NOTICE = 5,
  KPR_LOG_INFO = 6,
  KPR_LOG_DEBUG = 7,
} KprLogPriority;

void kpr_log (KprLogPriority priority, const char *format, ...) G_GNUC_PRINTF (2, 3);

G_END_DECLS
