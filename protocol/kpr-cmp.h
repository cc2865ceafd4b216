/* kpr-cmp.h — a CMP client (RFC 4210, RFC 9480; the lightweight profile
 * RFC 9483) on OpenSSL 3's OSSL_CMP, over the same libcurl transport as
 * the rest of protocol/: IR protected by a one-time reference + secret
 * (password-based MAC), KUR signed with the current key for renewal,
 * certConf, polling for a delayed answer, and RR (revocation).  Part of
 * protocol/ (face: kpr-protocol.h).
 *
 * Keys come in as EVP_PKEYs, possibly token-backed; nothing here knows
 * about tokens.  Any key type OpenSSL signs with works (EC, RSA).
 *
 * Trust: the CA certificate is an explicit anchor, set by the caller (a
 * file the person chose, or one they confirmed by its fingerprint, see
 * kpr_cmp_client_set_anchor_fingerprint).  Signature-protected answers
 * must chain to it; MAC-protected ones must verify with the secret; the
 * issued certificate must carry our key and chain to the anchor, or it is
 * refused in certConf and nothing is returned.  caPubs and extraCerts are
 * never trusted by themselves.
 *
 * Polling (PKIStatus "waiting") happens inside one call, up to the poll
 * limit: OSSL_CMP in OpenSSL 3.0 cannot resume a transaction in another
 * process, so an answer slower than that is KPR_ERROR_PENDING and the
 * request has to be made again.
 *
 * Errors are GErrors in KPR_ERROR:
 *   KPR_ERROR_AUTH         a MAC-protected exchange did not verify with the
 *                          secret (wrong reference or secret)
 *   KPR_ERROR_UNTRUSTED    no anchor, an answer not signed by a certificate
 *                          chaining to it, an issued certificate that does
 *                          not
 *   KPR_ERROR_KEY_MISMATCH the issued certificate is for another key
 *   KPR_ERROR_REJECTED     PKIStatus rejection or an error message (with
 *                          the server's failInfo and text)
 *   KPR_ERROR_PENDING      still "waiting" when the poll limit ran out
 *   KPR_ERROR_UNREACHABLE  connection failures, timeouts, 5xx
 *   KPR_ERROR_PROTOCOL     malformed answers, too large
 *   KPR_ERROR_TOKEN        the key could not sign
 * Nothing is printed; the secret never reaches a message.
 */
#pragma once

#include <glib.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "kpr-common.h"

G_BEGIN_DECLS

typedef struct _KprCmpClient KprCmpClient;

/* Largest CMP answer accepted. */
#define KPR_CMP_BODY_MAX (256 * 1024)
/* Default time a delayed answer is polled for, seconds. */
#define KPR_CMP_POLL_LIMIT 300

/* @url: the CMP endpoint, "http[s]://host[:port]/path" (RFC 6712), e.g.
 * "http://ca.example:8080/pkix/" or EJBCA's ".../ejbca/publicweb/cmp/ALIAS". */
KprCmpClient *kpr_cmp_client_new (const char *url, GError **error);
void kpr_cmp_client_free (KprCmpClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KprCmpClient, kpr_cmp_client_free)

/* Seconds; 0 keeps the default (15 s to connect, 60 s per message,
 * KPR_CMP_POLL_LIMIT for a delayed answer). */
void kpr_cmp_client_set_timeouts (KprCmpClient *client, guint connect_s, guint message_s,
                                  guint poll_limit_s);

/* The explicit trust anchors (copied).  Partial chains are accepted. */
gboolean kpr_cmp_client_set_trust_anchors (KprCmpClient *client, KprX509Stack *anchors,
                                           GError **error);
/* First contact without a CA file: the certificate among the answer's
 * caPubs and extraCerts whose SHA-256 fingerprint ("AB:CD:…", case and
 * colons ignored) is @fingerprint becomes the anchor — only in a
 * MAC-protected exchange, where the secret vouches for the answer, and
 * before the issued certificate is checked against it.  Fetch it with
 * kpr_cmp_client_get_anchor() to store it. */
gboolean kpr_cmp_client_set_anchor_fingerprint (KprCmpClient *client, const char *fingerprint,
                                                GError **error);
/* The anchor found by fingerprint in the last exchange (referenced), or
 * NULL. */
X509 *kpr_cmp_client_get_anchor (KprCmpClient *client);

/* The one-time reference (senderKID) and secret for the password-based MAC
 * of an IR (and of an RR without a key).  Copied; erased on free. */
gboolean kpr_cmp_client_set_secret (KprCmpClient *client, const char *reference,
                                    const KprSecret *secret, GError **error);

typedef struct {
  EVP_PKEY *key;              /* the key to certify */
  const X509_NAME *subject;   /* IR: required; KUR: NULL keeps the current */
  const GENERAL_NAMES *san;   /* may be NULL */
  X509 *current;              /* KUR: the certificate being renewed … */
  EVP_PKEY *current_key;      /* … and its key, which signs the request */
} KprCmpRequest;

/* IR (MAC-protected with the secret) or, with @req->current, KUR
 * (signed with the current key).  certConf is sent after the checks; the
 * certificate is returned only if the CA acknowledged it (pkiConf). */
X509 *kpr_cmp_client_enroll (KprCmpClient *client, const KprCmpRequest *req, GError **error);

/* RR for @cert with CRL reason @reason (CRL_REASON_KEY_COMPROMISE for a
 * lost token, CRL_REASON_SUPERSEDED, …).  Signed with @key when given,
 * else MAC-protected with the secret ("I lost my token": the key is gone). */
gboolean kpr_cmp_client_revoke (KprCmpClient *client, X509 *cert, EVP_PKEY *key, int reason,
                                GError **error);

G_END_DECLS
