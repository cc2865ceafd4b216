/* kpr-error.c — names and hints for KprError. */
#include "config.h"

#include "kpr-error.h"

G_DEFINE_QUARK (kpr-error-quark, kpr_error)

typedef struct {
  const char *name;
  const char *hint;
} ErrorEntry;

/* Indexed by code.  The hints are the "what to do" column of
 * docs/errors.md, shortened to one sentence. */
static const ErrorEntry entries[KPR_ERROR_LAST + 1] = {
  [KPR_ERROR_OK] = { "KPR_ERROR_OK", "Nothing to do." },
  [KPR_ERROR_INTERNAL] = { "KPR_ERROR_INTERNAL",
    "This is a bug in certkeeper: please report it with the message above." },
  [KPR_ERROR_USAGE] = { "KPR_ERROR_USAGE",
    "Check the command line; run the command with --help for its options." },
  [KPR_ERROR_BAD_INPUT] = { "KPR_ERROR_BAD_INPUT",
    "Check that the file or value is the one intended and is not damaged." },
  [KPR_ERROR_IO] = { "KPR_ERROR_IO",
    "Check that the path exists, is writable and that the disk is not full." },
  [KPR_ERROR_INSECURE_FILE] = { "KPR_ERROR_INSECURE_FILE",
    "Make the secret file private to you: chmod 600 FILE." },
  [KPR_ERROR_NO_TOKEN] = { "KPR_ERROR_NO_TOKEN",
    "Insert the token, or check the token URI with 'certkeeper tokens'." },
  [KPR_ERROR_MODULE] = { "KPR_ERROR_MODULE",
    "Check that the PKCS#11 module is installed and registered with p11-kit." },
  [KPR_ERROR_TOKEN] = { "KPR_ERROR_TOKEN",
    "The token refused the operation; re-insert it and try again." },
  [KPR_ERROR_PIN_INCORRECT] = { "KPR_ERROR_PIN_INCORRECT",
    "Run the command again with the right PIN; watch the tries left." },
  [KPR_ERROR_PIN_LOCKED] = { "KPR_ERROR_PIN_LOCKED",
    "The PIN is blocked: unblock it with the token's SO PIN or its vendor tool." },
  [KPR_ERROR_NOT_EXPORTABLE] = { "KPR_ERROR_NOT_EXPORTABLE",
    "This key is protected from export; a backup can only be made while it is exportable." },
  [KPR_ERROR_UNSUPPORTED] = { "KPR_ERROR_UNSUPPORTED",
    "Choose one of ec-p256, ec-p384, rsa-2048, rsa-3072, supported by the token." },
  [KPR_ERROR_PASSPHRASE] = { "KPR_ERROR_PASSPHRASE",
    "Type the passphrase the backup was written with." },
  [KPR_ERROR_KEY_MISMATCH] = { "KPR_ERROR_KEY_MISMATCH",
    "Use the certificate issued for this key (the one the server sent for this request)." },
  [KPR_ERROR_CANCELLED] = { "KPR_ERROR_CANCELLED", "Nothing was changed." },
  [KPR_ERROR_EXISTS] = { "KPR_ERROR_EXISTS",
    "Pick another name, or remove the existing one first." },
  [KPR_ERROR_NOT_FOUND] = { "KPR_ERROR_NOT_FOUND",
    "Check the name with 'certkeeper list'." },
  [KPR_ERROR_BUSY] = { "KPR_ERROR_BUSY",
    "Another certkeeper is working on the same state; wait for it to finish." },
  [KPR_ERROR_AUTH] = { "KPR_ERROR_AUTH",
    "Do what the message says: a secret word works once (request a new one), a password can be "
    "typed again, a refused certificate means enrolling again." },
  [KPR_ERROR_UNREACHABLE] = { "KPR_ERROR_UNREACHABLE",
    "Check the network and the server address, then try again." },
  [KPR_ERROR_REJECTED] = { "KPR_ERROR_REJECTED",
    "The server refused the request; contact its administrator." },
  [KPR_ERROR_PENDING] = { "KPR_ERROR_PENDING",
    "The request waits for approval; run 'certkeeper renew NAME' later." },
  [KPR_ERROR_UNTRUSTED] = { "KPR_ERROR_UNTRUSTED",
    "Verify the server's CA fingerprint with its administrator." },
  [KPR_ERROR_PROTOCOL] = { "KPR_ERROR_PROTOCOL",
    "The server answered something certkeeper cannot use; tell its administrator." },
  [KPR_ERROR_WEAK_SECRET] = { "KPR_ERROR_WEAK_SECRET",
    "Choose a longer passphrase that is not a dictionary word." },
  [KPR_ERROR_ATTENTION] = { "KPR_ERROR_ATTENTION",
    "Renew the identities 'certkeeper status' marks (certkeeper renew NAME)." },
};

const char *
kpr_error_name (KprError code)
{
  if ((int) code < 0 || code > KPR_ERROR_LAST)
    return NULL;
  return entries[code].name;
}

const char *
kpr_error_hint (KprError code)
{
  if ((int) code < 0 || code > KPR_ERROR_LAST || !entries[code].hint)
    return entries[KPR_ERROR_INTERNAL].hint;
  return entries[code].hint;
}

int
kpr_error_exit_code (const GError *error)
{
  if (!error)
    return KPR_ERROR_OK;
  if (error->domain != KPR_ERROR || error->code <= 0 || error->code > KPR_ERROR_LAST)
    return KPR_ERROR_INTERNAL;
  return error->code;
}

gboolean
kpr_error_is_permanent (const GError *error)
{
  /* Keep in step with the "Retry:" lines of docs/errors.md (test-errors
   * compares them). */
  static const KprError permanent[] = {
    KPR_ERROR_USAGE,
    KPR_ERROR_BAD_INPUT,
    KPR_ERROR_INSECURE_FILE,
    KPR_ERROR_PIN_INCORRECT,
    KPR_ERROR_PIN_LOCKED,
    KPR_ERROR_NOT_EXPORTABLE,
    KPR_ERROR_UNSUPPORTED,
    KPR_ERROR_PASSPHRASE,
    KPR_ERROR_KEY_MISMATCH,
    KPR_ERROR_CANCELLED,
    KPR_ERROR_EXISTS,
    KPR_ERROR_NOT_FOUND,
    KPR_ERROR_AUTH,
    KPR_ERROR_UNTRUSTED,
    KPR_ERROR_WEAK_SECRET,
  };

  if (!error || error->domain != KPR_ERROR)
    return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (permanent); i++)
    if (error->code == (int) permanent[i])
      return TRUE;
  return FALSE;
}
