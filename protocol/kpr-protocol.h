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

G_BEGIN_DECLS

/* One DER certificate revocation list filling @len bytes exactly; NULL
 * for anything else. */
X509_CRL *kpr_protocol_crl_from_der (const guint8 *data, gsize len);

/* The CRL published at @url (http:// or https://: a certificate's CRL
 * distribution point, RFC 5280 §4.2.1.13), within @timeout seconds, at
 * most 16 MiB.  Its signature is not checked here: the caller holds the
 * anchors.  KPR_ERROR_UNREACHABLE, REJECTED (4xx) or PROTOCOL (not one
 * DER CRL). */
X509_CRL *kpr_protocol_fetch_crl (const char *url, guint timeout, GError **error);

G_END_DECLS
