/* kpr-ckr.c — PKCS#11 return values by name, for messages people can
 * search for ("CKR_PIN_INCORRECT" rather than "0xa0"). */
#include "config.h"

#include <stdarg.h>

#include "kpr-token-private.h"

#define CKR(x) { x, #x }

static const struct {
  CK_RV rv;
  const char *name;
} names[] = {
  CKR (CKR_OK), CKR (CKR_CANCEL), CKR (CKR_HOST_MEMORY), CKR (CKR_SLOT_ID_INVALID),
  CKR (CKR_GENERAL_ERROR), CKR (CKR_FUNCTION_FAILED), CKR (CKR_ARGUMENTS_BAD),
  CKR (CKR_ATTRIBUTE_READ_ONLY), CKR (CKR_ATTRIBUTE_SENSITIVE),
  CKR (CKR_ATTRIBUTE_TYPE_INVALID), CKR (CKR_ATTRIBUTE_VALUE_INVALID),
  CKR (CKR_DATA_INVALID), CKR (CKR_DATA_LEN_RANGE), CKR (CKR_DEVICE_ERROR),
  CKR (CKR_DEVICE_MEMORY), CKR (CKR_DEVICE_REMOVED), CKR (CKR_FUNCTION_NOT_SUPPORTED),
  CKR (CKR_KEY_HANDLE_INVALID), CKR (CKR_KEY_SIZE_RANGE), CKR (CKR_KEY_TYPE_INCONSISTENT),
  CKR (CKR_KEY_UNEXTRACTABLE), CKR (CKR_MECHANISM_INVALID), CKR (CKR_MECHANISM_PARAM_INVALID),
  CKR (CKR_OBJECT_HANDLE_INVALID), CKR (CKR_OPERATION_ACTIVE), CKR (CKR_PIN_INCORRECT),
  CKR (CKR_PIN_INVALID), CKR (CKR_PIN_LEN_RANGE), CKR (CKR_PIN_EXPIRED), CKR (CKR_PIN_LOCKED),
  CKR (CKR_SESSION_CLOSED), CKR (CKR_SESSION_COUNT), CKR (CKR_SESSION_HANDLE_INVALID),
  CKR (CKR_SESSION_READ_ONLY), CKR (CKR_SESSION_EXISTS), CKR (CKR_SESSION_READ_ONLY_EXISTS),
  CKR (CKR_SESSION_READ_WRITE_SO_EXISTS), CKR (CKR_SIGNATURE_INVALID),
  CKR (CKR_TEMPLATE_INCOMPLETE), CKR (CKR_TEMPLATE_INCONSISTENT),
  CKR (CKR_TOKEN_NOT_PRESENT), CKR (CKR_TOKEN_NOT_RECOGNIZED), CKR (CKR_TOKEN_WRITE_PROTECTED),
  CKR (CKR_USER_ALREADY_LOGGED_IN), CKR (CKR_USER_NOT_LOGGED_IN),
  CKR (CKR_USER_PIN_NOT_INITIALIZED), CKR (CKR_USER_TYPE_INVALID),
  CKR (CKR_USER_ANOTHER_ALREADY_LOGGED_IN), CKR (CKR_USER_TOO_MANY_TYPES),
  CKR (CKR_BUFFER_TOO_SMALL), CKR (CKR_CRYPTOKI_NOT_INITIALIZED),
  CKR (CKR_CRYPTOKI_ALREADY_INITIALIZED), CKR (CKR_FUNCTION_REJECTED),
};

const char *
kpr_ckr_name (CK_RV rv)
{
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    if (names[i].rv == rv)
      return names[i].name;
  return NULL;
}

/* Maps a return value to the KprError a caller can act on. */
static KprError
ckr_to_code (CK_RV rv)
{
  switch (rv)
    {
    case CKR_PIN_INCORRECT:
    case CKR_PIN_INVALID:
    case CKR_PIN_LEN_RANGE:
      return KPR_ERROR_PIN_INCORRECT;
    case CKR_PIN_LOCKED:
    case CKR_PIN_EXPIRED:
      return KPR_ERROR_PIN_LOCKED;
    case CKR_TOKEN_NOT_PRESENT:
    case CKR_DEVICE_REMOVED:
    case CKR_SLOT_ID_INVALID:
    case CKR_TOKEN_NOT_RECOGNIZED:
      return KPR_ERROR_NO_TOKEN;
    case CKR_KEY_UNEXTRACTABLE:
    case CKR_ATTRIBUTE_SENSITIVE:
      return KPR_ERROR_NOT_EXPORTABLE;
    case CKR_MECHANISM_INVALID:
    case CKR_MECHANISM_PARAM_INVALID:
    case CKR_KEY_SIZE_RANGE:
    case CKR_FUNCTION_NOT_SUPPORTED:
      return KPR_ERROR_UNSUPPORTED;
    case CKR_CANCEL:
      return KPR_ERROR_CANCELLED;
    default:
      return KPR_ERROR_TOKEN;
    }
}

void
kpr_set_ckr_error (GError **error, CK_RV rv, const char *fmt, ...)
{
  g_autofree char *what = NULL;
  const char *name = kpr_ckr_name (rv);
  va_list args;

  va_start (args, fmt);
  what = g_strdup_vprintf (fmt, args);
  va_end (args);

  if (name)
    g_set_error (error, KPR_ERROR, ckr_to_code (rv), "%s: %s", what, name);
  else
    g_set_error (error, KPR_ERROR, ckr_to_code (rv), "%s: CKR 0x%08lx", what,
                 (unsigned long) rv);
}
