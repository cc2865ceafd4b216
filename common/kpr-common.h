/* kpr-common.h — the face of common/: errors, secrets, key kinds, OpenSSL cleanups.
 * Every other layer builds on these. */
#pragma once

#include "kpr-error.h"
#include "kpr-key-kind.h"
#include "kpr-ossl.h"
#include "kpr-secret.h"
