/* kpr-scep.h — a SCEP client (RFC 8894) over libcurl and OpenSSL CMS:
 * GetCACaps, GetCACert, PKCSReq with a challenge password, RenewalReq
 * signed with the current certificate, and CertPoll for a pending
 * request.  Part of protocol/ (face: kpr-protocol.h).
 *
 * What SCEP asks of the key: the request is signed by the key being
 * certified (through a self-signed certificate made on the fly), and the
 * CA's answer is encrypted to that certificate, so the key must be RSA and
 * allowed to decrypt (CKA_DECRYPT on a token).  Keys come in as EVP_PKEYs
 * (possibly token-backed); nothing here knows about tokens.
 *
 * Trust: SCEP messages carry their own protection, so the server URL may
 * be http://.  The CA certificate is confirmed by a person (fingerprint)
 * and set as the explicit trust anchor; the RA/CA certificates GetCACert
 * returns are used only if they chain to it; every answer must be signed
 * by one of them; the issued certificate must carry our key and chain to
 * the anchor.  Nothing from the system CA store decides any of it.
 *
 * Errors are GErrors in KPR_ERROR:
 *   KPR_ERROR_UNTRUSTED    no anchor set, the RA/CA certificates or the
 *                          issued one do not chain to it, an answer is not
 *                          signed by the RA/CA
 *   KPR_ERROR_KEY_MISMATCH the issued certificate is for another key
 *   KPR_ERROR_REJECTED     pkiStatus FAILURE (failInfo in the message), 4xx
 *   KPR_ERROR_PENDING      pkiStatus PENDING: poll later with the same key
 *   KPR_ERROR_UNREACHABLE  connection failures, timeouts, 5xx
 *   KPR_ERROR_PROTOCOL     malformed or mismatched answers, too large
 *   KPR_ERROR_UNSUPPORTED  a non-RSA key, a CA offering only single DES
 *   KPR_ERROR_TOKEN        the key could not sign or decrypt
 * Nothing is printed; the challenge password never reaches a message.
 */
#pragma once

#include <glib.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "kpr-common.h"

G_BEGIN_DECLS

typedef struct _KprScepClient KprScepClient;

/* Largest SCEP answer accepted (NDES sends a few KiB). */
#define KPR_SCEP_BODY_MAX (256 * 1024)

/* GetCACaps keywords (RFC 8894 §3.5.2) the client acts on. */
typedef enum {
  KPR_SCEP_CAP_AES = 1 << 0,
  KPR_SCEP_CAP_DES3 = 1 << 1,
  KPR_SCEP_CAP_SHA1 = 1 << 2,
  KPR_SCEP_CAP_SHA256 = 1 << 3,
  KPR_SCEP_CAP_SHA512 = 1 << 4,
  KPR_SCEP_CAP_POST = 1 << 5,      /* POSTPKIOperation */
  KPR_SCEP_CAP_RENEWAL = 1 << 6,
  KPR_SCEP_CAP_STANDARD = 1 << 7,  /* SCEPStandard: AES, SHA-256, POST */
  KPR_SCEP_CAP_NEXT_CA = 1 << 8,   /* GetNextCACert */
} KprScepCaps;

/* @url: the SCEP endpoint as the CA publishes it, e.g.
 * "http://ndes.example/certsrv/mscep/mscep.dll" or "http://host:8080/scep";
 * "?operation=…" is appended to it.  KPR_ERROR_BAD_INPUT for anything
 * else. */
KprScepClient *kpr_scep_client_new (const char *url, GError **error);
void kpr_scep_client_free (KprScepClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KprScepClient, kpr_scep_client_free)

/* Seconds; 0 keeps the default (15 s to connect, 60 s per request). */
void kpr_scep_client_set_timeouts (KprScepClient *client, guint connect_s, guint total_s);
/* The CA identifier some servers want as GetCACert's "message" (NULL:
 * none, what NDES and most servers expect). */
void kpr_scep_client_set_ca_ident (KprScepClient *client, const char *ident);

/* GetCACaps.  A server without it (404, 5xx or an empty answer: older
 * NDES, RFC 8894 §3.5.2) yields 0: then requests go by GET, with DES3
 * and SHA-1, and renewal by a PKCSReq signed with the current
 * certificate.  *ret_missing (optional) tells that case apart. */
gboolean kpr_scep_client_get_caps (KprScepClient *client, KprScepCaps *ret_caps,
                                   gboolean *ret_missing, GError **error);
/* "AES SHA-256 POST Renewal" for messages. */
char *kpr_scep_caps_to_string (KprScepCaps caps);

/* GetCACert, for a person to confirm (nothing is trusted yet): the CA and
 * RA certificates as sent.  *ret_fingerprints gets the SHA-256
 * fingerprints ("AB:CD:…") of the CA certificates among them (basic
 * constraints CA:TRUE), the ones kpr_scep_ca_certs() returns. */
KprX509Stack *kpr_scep_client_bootstrap (KprScepClient *client, GStrv *ret_fingerprints,
                                         GError **error);
/* The CA certificates of @certs (referenced), in the order of the
 * fingerprints above, for storing as the anchor once one is confirmed. */
KprX509Stack *kpr_scep_ca_certs (KprX509Stack *certs);

/* The explicit trust anchors (copied); partial chains are accepted, so
 * the anchor may be the issuing CA below an unpublished root. */
gboolean kpr_scep_client_set_trust_anchors (KprScepClient *client, KprX509Stack *anchors,
                                            GError **error);

typedef struct {
  EVP_PKEY *key;              /* the key to certify (RSA, may decrypt) */
  const X509_NAME *subject;
  const GENERAL_NAMES *san;   /* may be NULL */
  const KprSecret *challenge; /* PKCSReq: the one-time challenge password
                               * (may be NULL if the CA wants none);
                               * RenewalReq: sent only if given */
  X509 *current;              /* renewal: the certificate being renewed … */
  EVP_PKEY *current_key;      /* … and its key, which signs the request */
} KprScepRequest;

/* Enrolls: PKCSReq signed by @req->key through a self-signed certificate,
 * or, with @req->current, RenewalReq signed by it (a PKCSReq signed by
 * it when the CA does not offer Renewal).  Fetches GetCACaps and
 * GetCACert first.  Returns the issued certificate: for @req->key,
 * chained to the anchor, valid now.  KPR_ERROR_PENDING: poll with the
 * same @req (the transaction is derived from the key, so a new process
 * can poll). */
X509 *kpr_scep_client_enroll (KprScepClient *client, const KprScepRequest *req,
                              GError **error);
/* CertPoll (GetCertInitial) for a pending enroll of @req->key. */
X509 *kpr_scep_client_poll (KprScepClient *client, const KprScepRequest *req, GError **error);

/* What the last enroll or poll used, for the person to see: cipher
 * ("AES-128-CBC", "DES-EDE3-CBC"), digest ("SHA-256", "SHA-1"), HTTP
 * method of the PKIOperation, and the cipher of the CA's answer.  @weak is
 * TRUE when DES3 or SHA-1 had to be used because the CA offers nothing
 * better.  Strings are static; NULL before any request. */
typedef struct {
  const char *cipher;
  const char *digest;
  const char *method;
  const char *reply_cipher;
  gboolean weak;
} KprScepAlgorithms;
void kpr_scep_client_get_algorithms (KprScepClient *client, KprScepAlgorithms *ret);

/* The transaction ID SCEP uses for @key (hex SHA-256 of its public key),
 * for logs and records. */
char *kpr_scep_transaction_id (EVP_PKEY *key, GError **error);

G_END_DECLS
