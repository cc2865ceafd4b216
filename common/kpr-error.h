/* kpr-error.h — the one error enum of certkeeper.
 *
 * Every failure in every layer is reported as a GError in the KPR_ERROR
 * domain with one of these codes.  The programs use the code as their exit
 * status, so the numbers are stable: never renumber, never reuse a retired
 * number.  Each code has a cause and a fix in docs/errors.md; the unit test
 * test-errors checks that this header and that page agree.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  KPR_ERROR_OK = 0,             /* success (never set in a GError) */
  KPR_ERROR_INTERNAL = 1,       /* a bug or an unexpected library failure */
  KPR_ERROR_USAGE = 2,          /* wrong command-line usage */
  KPR_ERROR_BAD_INPUT = 3,      /* a file or value is malformed */
  KPR_ERROR_IO = 4,             /* reading or writing a file failed */
  KPR_ERROR_INSECURE_FILE = 5,  /* a secret file is readable by others */
  KPR_ERROR_NO_TOKEN = 6,       /* no token matches / token removed */
  KPR_ERROR_MODULE = 7,         /* a PKCS#11 module cannot be loaded or used */
  KPR_ERROR_TOKEN = 8,          /* the token refused or failed an operation */
  KPR_ERROR_PIN_INCORRECT = 9,  /* the PIN was wrong (not retried) */
  KPR_ERROR_PIN_LOCKED = 10,    /* the PIN is blocked */
  KPR_ERROR_NOT_EXPORTABLE = 11,/* the key cannot leave its token */
  KPR_ERROR_UNSUPPORTED = 12,   /* key type or mechanism not supported */
  KPR_ERROR_PASSPHRASE = 13,    /* wrong passphrase for a backup file */
  KPR_ERROR_KEY_MISMATCH = 14,  /* certificate does not belong to the key */
  KPR_ERROR_CANCELLED = 15,     /* the person cancelled */
  KPR_ERROR_EXISTS = 16,        /* the thing to create already exists */
  KPR_ERROR_NOT_FOUND = 17,     /* identity or object not found */
  KPR_ERROR_BUSY = 18,          /* another certkeeper holds the lock */
  KPR_ERROR_AUTH = 19,          /* the server refused our credentials */
  KPR_ERROR_UNREACHABLE = 20,   /* the server cannot be reached */
  KPR_ERROR_REJECTED = 21,      /* the server refused the request */
  KPR_ERROR_PENDING = 22,       /* the server has not decided yet */
  KPR_ERROR_UNTRUSTED = 23,     /* the server or its answer is not trusted */
  KPR_ERROR_PROTOCOL = 24,      /* the server's answer is malformed */
  KPR_ERROR_WEAK_SECRET = 25,   /* a new passphrase or PIN is too weak */
  KPR_ERROR_ATTENTION = 26,     /* an identity is expired, failed or due */
} KprError;

#define KPR_ERROR_LAST KPR_ERROR_ATTENTION

#define KPR_ERROR (kpr_error_quark ())
GQuark kpr_error_quark (void);

/* "KPR_ERROR_PIN_INCORRECT" for KPR_ERROR_PIN_INCORRECT; NULL if unknown. */
const char *kpr_error_name (KprError code);

/* One sentence saying what the person can do about it; never NULL. */
const char *kpr_error_hint (KprError code);

/* The exit status a program returns for an error (the code itself, or
 * KPR_ERROR_INTERNAL for errors from other domains). */
int kpr_error_exit_code (const GError *error);

/* The one retry policy (docs/errors.md, "Retry:" of each code): TRUE when
 * trying the same thing again cannot succeed until a person acts (a wrong
 * PIN or secret word, an untrusted server, a bad file...); an agent then
 * stops retrying and says what is needed.  FALSE for failures that may
 * pass on their own (network, server, busy store, a token plugged in
 * later), which are retried with backoff, and for errors of other
 * domains. */
gboolean kpr_error_is_permanent (const GError *error);

G_END_DECLS
