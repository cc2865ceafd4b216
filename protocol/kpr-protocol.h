/* kpr-protocol.h — the face of protocol/: the enrollment protocols
 * certkeeper speaks.  EST (RFC 7030) is the default and what certkeeper-ca
 * serves; SCEP (RFC 8894) and CMP (RFC 4210/9483) reach the CAs that
 * organisations already run (NDES/Intune, EJBCA, step-ca, …).
 *
 * All three take the key as an EVP_PKEY (possibly token-backed) and check
 * every issued certificate the same way (kpr_est_verify_issued: our key,
 * chained to the explicit anchor, valid now).  Nothing here knows about
 * tokens; nothing here prints.
 */
#pragma once

#include "kpr-cmp.h"
#include "kpr-est.h"
#include "kpr-scep.h"
