/* kpr-est.h — the EST part of protocol/ (face: kpr-protocol.h): an EST
 * client (RFC 7030, RFC 8951) over libcurl, the certkeeper-ca extensions
 * (challenge, revoke; see EXTENSIONS.md) and the CSR helpers, which SCEP
 * and CMP share (kpr_est_verify_issued is every protocol's last check).
 *
 * Keys and certificates come in as OpenSSL objects: the caller may hand a
 * token-backed EVP_PKEY; nothing here knows about tokens.
 *
 * Errors are GErrors in KPR_ERROR:
 *   KPR_ERROR_UNTRUSTED    TLS verification failed, no trust anchor set, or
 *                          the returned certificate does not chain to it
 *   KPR_ERROR_KEY_MISMATCH the returned certificate is not for our key
 *   KPR_ERROR_AUTH         401 (never retried here); what was refused:
 *                          kpr_est_client_get_refusal()
 *   KPR_ERROR_PENDING      202: kpr_est_client_get_retry_after() says when
 *   KPR_ERROR_REJECTED     other 4xx, with the server's text (sanitised)
 *   KPR_ERROR_UNREACHABLE  connection failures, timeouts, 5xx
 *   (a 503 or 429 with Retry-After also sets kpr_est_client_get_retry_after)
 *   KPR_ERROR_PROTOCOL     malformed answers, wrong Content-Type, too large
 *   KPR_ERROR_UNSUPPORTED  tls-unique asked for on a TLS 1.3 connection
 * Nothing is ever printed; secrets are never put in messages.
 */
#pragma once

#include <glib.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "kpr-common.h"
#include "kpr-est-codec.h"

G_BEGIN_DECLS

typedef struct _KprEstClient KprEstClient;

/* Default timeouts, seconds. */
#define KPR_EST_CONNECT_TIMEOUT 15
#define KPR_EST_TOTAL_TIMEOUT 60
/* Retry-After is clamped to this range (curl 7.88 can report negatives). */
#define KPR_EST_RETRY_MIN 1
#define KPR_EST_RETRY_MAX 3600
/* Retry-After assumed when a 202 carries none. */
#define KPR_EST_RETRY_DEFAULT 60

/* HTTP credentials for one request.  Basic or Digest, whichever the
 * server asks for: nothing is sent before its 401 names a scheme (RFC 7030
 * §3.2.3), and only to a server verified against the trust anchors.  The
 * secret is copied into libcurl for the duration of the request only. */
typedef struct {
  const char *username;
  const KprSecret *secret;
} KprEstCredentials;

/* @base_url: "https://host[:port]" (a path, if any, must be empty or "/");
 * @label: optional CA label (RFC 7030 §3.2.2), NULL for none.
 * KPR_ERROR_BAD_INPUT for anything that is not such a URL or label. */
KprEstClient *kpr_est_client_new (const char *base_url, const char *label, GError **error);
void kpr_est_client_free (KprEstClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KprEstClient, kpr_est_client_free)

/* The explicit trust anchors (copied).  Only these are used to verify the
 * server and issued certificates: the system CA store is never consulted.
 * Anchors may be intermediates (partial chains are accepted). */
gboolean kpr_est_client_set_trust_anchors (KprEstClient *client, KprX509Stack *anchors,
                                           GError **error);
/* Client certificate and key for mutual TLS (both referenced, not
 * copied), or NULL/NULL to stop presenting one.  @chain may be NULL. */
void kpr_est_client_set_client_cert (KprEstClient *client, X509 *cert, EVP_PKEY *key,
                                     KprX509Stack *chain);
/* Seconds; 0 keeps the default. */
void kpr_est_client_set_timeouts (KprEstClient *client, guint connect_s, guint total_s);
/* After a KPR_ERROR_PENDING, or a 503/429 that carried Retry-After:
 * seconds to wait, in [KPR_EST_RETRY_MIN, KPR_EST_RETRY_MAX]; 0 when the
 * server said nothing. */
guint kpr_est_client_get_retry_after (KprEstClient *client);
/* After a KPR_ERROR_PENDING from certkeeper-ca: the ID of the request
 * waiting for approval (EXTENSIONS.md §3), the one a person quotes to the
 * administrator; NULL when the server named none. */
const char *kpr_est_client_get_request_id (KprEstClient *client);
/* What the last KPR_ERROR_AUTH refused, so that a person is told the
 * right thing to do. */
typedef enum {
  KPR_EST_REFUSAL_NONE = 0,
  /* A one-time secret word (the server said so, EXTENSIONS.md §1): ask for
   * a new one; the same word never works twice. */
  KPR_EST_REFUSAL_SECRET_WORD,
  /* A password of a server without the secret-word extension: it may be
   * typed again. */
  KPR_EST_REFUSAL_PASSWORD,
  /* Only a client certificate was presented, and the server wants HTTP
   * authentication as well (or does not accept the certificate). */
  KPR_EST_REFUSAL_CERTIFICATE,
  /* Nothing was presented, and the server asks for credentials. */
  KPR_EST_REFUSAL_NEEDS_CREDENTIALS,
  /* Credentials were given, but the server asks for an HTTP scheme
   * certkeeper does not speak (neither Basic nor Digest). */
  KPR_EST_REFUSAL_SCHEME,
} KprEstRefusal;
KprEstRefusal kpr_est_client_get_refusal (KprEstClient *client);
/* The authentication schemes the last 401 offered ("Basic, Digest"), for
 * messages; NULL when it named none. */
const char *kpr_est_client_get_auth_offered (KprEstClient *client);
/* The HTTP status of the last answer that was checked (0 if none): lets a
 * caller tell "no such endpoint" (404) from "too many requests" (429). */
long kpr_est_client_get_http_status (KprEstClient *client);
/* "TLSv1.2" or "TLSv1.3": the version the last request's connection used
 * (for messages), NULL when there was no TLS connection. */
const char *kpr_est_client_get_tls_version (KprEstClient *client);

/* Bootstrap (RFC 7030 §4.1.1): GET /cacerts WITHOUT verifying the server,
 * for a person to confirm the root's fingerprint out of band.  Sends no
 * credentials and no client certificate, and changes nothing in @client.
 * Returns the certificates; *ret_fingerprints gets the SHA-256
 * fingerprints ("AB:CD:…") of the self-signed roots among them. */
KprX509Stack *kpr_est_client_bootstrap (KprEstClient *client, GStrv *ret_fingerprints,
                                        GError **error);

/* The self-signed certificates of @certs (referenced), for storing as the
 * explicit trust anchors once a person confirmed a fingerprint. */
KprX509Stack *kpr_est_roots (KprX509Stack *certs);

/* GET /cacerts over a verified connection.  The certificates are returned
 * as sent: RFC 7030 §4.1.3 wants them path-validated against the anchor
 * (kpr_est_verify_issued) before they are used for anything. */
KprX509Stack *kpr_est_client_cacerts (KprEstClient *client, GError **error);

/* GET /csrattrs.  204 and 404 mean "no attributes" (RFC 8951 §4): an empty
 * list is returned. */
KprEstCsrAttrs *kpr_est_client_csrattrs (KprEstClient *client, GError **error);

/* POST /simpleenroll (or /simplereenroll when @reenroll) with @req.
 * @key is our key (its public half is compared with the answer).
 * @creds may be NULL (mutual TLS only).  The returned certificate carries
 * our public key, chains to the trust anchors and is valid now. */
X509 *kpr_est_client_enroll (KprEstClient *client, X509_REQ *req, EVP_PKEY *key,
                             gboolean reenroll, const KprEstCredentials *creds,
                             GError **error);

/* The whole enrollment on one connection: GET /csrattrs, and if the server
 * asks for challengePassword put the tls-unique value of this connection
 * there (RFC 7030 §3.5; TLS 1.2 only — KPR_ERROR_UNSUPPORTED on 1.3), build
 * the CSR for @key with @subject and @san (may be NULL) honouring the
 * attributes (kpr_est_csr_new_with_attrs: KPR_ERROR_UNSUPPORTED before
 * anything is sent when @key is not the type the server asks for) and
 * enroll (re-enroll: pass the current certificate's subject and SAN).  When the first connection negotiated TLS 1.3, the client
 * reconnects limited to TLS 1.2 (and stays limited for its lifetime).
 * *ret_req (optional) receives the CSR sent, also on KPR_ERROR_PENDING:
 * the retry must send the same one with kpr_est_client_enroll(). */
X509 *kpr_est_client_enroll_linked (KprEstClient *client, EVP_PKEY *key,
                                    const X509_NAME *subject, const GENERAL_NAMES *san,
                                    gboolean reenroll, const KprEstCredentials *creds,
                                    X509_REQ **ret_req, GError **error);

/* After kpr_est_client_enroll_linked: the OIDs the server's CSR
 * attributes asked for that certkeeper could not supply (for the log);
 * never NULL. */
const char *const *kpr_est_client_get_unmet_attributes (KprEstClient *client);

/* POST /serverkeygen.  On success the key and certificate (checked like an
 * enrolled one, against the generated key) are returned. */
gboolean kpr_est_client_serverkeygen (KprEstClient *client, X509_REQ *req,
                                      const KprEstCredentials *creds,
                                      EVP_PKEY **ret_key, X509 **ret_cert, GError **error);

/* certkeeper-ca extension: ask for a secret word (EXTENSIONS.md §1). */
typedef struct {
  char *channel;      /* "sms" */
  char *destination;  /* "+1•••••0100", valid UTF-8 */
  guint expires_in;   /* seconds */
} KprEstChallenge;
void kpr_est_challenge_free (KprEstChallenge *challenge);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KprEstChallenge, kpr_est_challenge_free)
KprEstChallenge *kpr_est_client_challenge (KprEstClient *client, const char *username,
                                           GError **error);
/* Parser behind it, exposed for tests and fuzzing. */
KprEstChallenge *kpr_est_challenge_parse (const char *json, gsize len, GError **error);

/* certkeeper-ca extension: revoke (EXTENSIONS.md §2).  @serial_hex NULL
 * means "my current certificate".  *ret_serial (optional) gets the
 * canonical serial the server revoked. */
gboolean kpr_est_client_revoke (KprEstClient *client, const char *serial_hex,
                                const KprEstCredentials *creds, char **ret_serial,
                                GError **error);

/* certkeeper-ca extension: its CRL (GET /crl, DER), over the verified
 * channel; the caller checks its signature against the CA. */
X509_CRL *kpr_est_client_crl (KprEstClient *client, GError **error);

/* Build and sign (SHA-256) a CSR for @key.  @san and @challenge_password
 * may be NULL.  Works with token-backed keys (only EVP_PKEY signing). */
X509_REQ *kpr_est_csr_new (EVP_PKEY *key, const X509_NAME *subject, const GENERAL_NAMES *san,
                           const char *challenge_password, GError **error);

/* The same, honouring what a server's /csrattrs asks (@attrs may be
 * NULL): KPR_ERROR_UNSUPPORTED when @key is not the key type or curve it
 * asks for; the hash it names; the extensions it asks for that certkeeper
 * can fill in (keyUsage, extendedKeyUsage clientAuth, basicConstraints,
 * subjectKeyIdentifier, subjectAltName from @san).  *@ret_unmet (optional)
 * gets the OIDs asked for that could not be supplied (the server may
 * still accept the request; callers log them). */
X509_REQ *kpr_est_csr_new_with_attrs (EVP_PKEY *key, const X509_NAME *subject,
                                      const GENERAL_NAMES *san, const KprEstCsrAttrs *attrs,
                                      const char *challenge_password, GStrv *ret_unmet,
                                      GError **error);

/* A CSR for renewing @current with @new_key: the same Subject and
 * SubjectAltName (RFC 7030 §4.2.2). */
X509_REQ *kpr_est_csr_new_renewal (EVP_PKEY *new_key, X509 *current,
                                   const char *challenge_password, GError **error);

/* The checks every issued certificate passes before anyone sees it:
 * @cert carries @key's public key (KPR_ERROR_KEY_MISMATCH) and chains to
 * @anchors, possibly through @untrusted, at time @at (0 = now)
 * (KPR_ERROR_UNTRUSTED). */
gboolean kpr_est_verify_issued (X509 *cert, EVP_PKEY *key, KprX509Stack *anchors,
                                KprX509Stack *untrusted, time_t at, GError **error);

G_END_DECLS
