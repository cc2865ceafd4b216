/* kpr-scep-private.h — the SCEP message codecs behind kpr-scep.h, shared
 * by the client, the fuzz targets and the tests.  Everything that parses
 * takes hostile input: sizes capped, types checked, nothing trusted before
 * its signature verified against certificates the caller vouches for. */
#pragma once

#include <curl/curl.h>

#include "kpr-scep.h"

G_BEGIN_DECLS

/* messageType (RFC 8894 §3.2.1.2) */
typedef enum {
  KPR_SCEP_MSG_CERT_REP = 3,
  KPR_SCEP_MSG_RENEWAL_REQ = 17,
  KPR_SCEP_MSG_PKCS_REQ = 19,
  KPR_SCEP_MSG_CERT_POLL = 20,
} KprScepMessageType;

/* pkiStatus (§3.2.1.3) */
typedef enum {
  KPR_SCEP_STATUS_SUCCESS = 0,
  KPR_SCEP_STATUS_FAILURE = 2,
  KPR_SCEP_STATUS_PENDING = 3,
} KprScepStatus;

#define KPR_SCEP_NONCE_LEN 16

/* The signed attributes of a pkiMessage (§3.2.1). */
#define KPR_SCEP_OID_MESSAGE_TYPE "2.16.840.1.113733.1.9.2"
#define KPR_SCEP_OID_PKI_STATUS "2.16.840.1.113733.1.9.3"
#define KPR_SCEP_OID_FAIL_INFO "2.16.840.1.113733.1.9.4"
#define KPR_SCEP_OID_SENDER_NONCE "2.16.840.1.113733.1.9.5"
#define KPR_SCEP_OID_RECIPIENT_NONCE "2.16.840.1.113733.1.9.6"
#define KPR_SCEP_OID_TRANSACTION_ID "2.16.840.1.113733.1.9.7"

/* GetCACaps text: one keyword per line, case-insensitive, unknown ones
 * ignored.  Never fails (an empty or garbage text has no capabilities). */
KprScepCaps kpr_scep_caps_parse (const guint8 *text, gsize len);

/* GetCACert answer: one DER certificate (application/x-x509-ca-cert) or a
 * degenerate PKCS#7 (application/x-x509-ca-ra-cert); both are tried when
 * the media type is something else. */
KprX509Stack *kpr_scep_ca_certs_parse (const char *media_type, const guint8 *body, gsize len,
                                       GError **error);

/* A self-signed certificate for @key named @subject, signed with @md:
 * the "on the fly" signer of a PKCSReq (RFC 8894 §2.3). */
X509 *kpr_scep_self_signed (EVP_PKEY *key, const X509_NAME *subject, const EVP_MD *md,
                            GError **error);

/* DER of IssuerAndSubject (§3.3.3), the content of a CertPoll. */
GBytes *kpr_scep_issuer_and_subject (const X509_NAME *issuer, const X509_NAME *subject,
                                     GError **error);

typedef struct {
  KprScepMessageType type;
  const char *transaction_id;
  const guint8 *nonce;         /* KPR_SCEP_NONCE_LEN bytes */
  const guint8 *content;       /* plaintext for the envelope */
  gsize content_len;
  X509 *recipient;             /* the RA/CA certificate to encrypt to */
  const EVP_CIPHER *cipher;
  X509 *signer;                /* self-signed or current certificate … */
  EVP_PKEY *signer_key;        /* … and its key */
  const EVP_MD *md;
} KprScepBuild;

/* pkiMessage: SignedData over an EnvelopedData of @b->content. */
GBytes *kpr_scep_request_build (const KprScepBuild *b, GError **error);

typedef struct {
  KprScepStatus status;
  int fail_info;     /* FAILURE: 0..4, -1 when absent */
  GBytes *envelope;  /* SUCCESS: DER of the EnvelopedData ContentInfo */
} KprScepReply;

void kpr_scep_reply_free (KprScepReply *reply);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KprScepReply, kpr_scep_reply_free)

/* A CertRep: its one signature must verify with one of @signers (the
 * certificates inside the message are never used to find it), the
 * message type must be CertRep, transactionID @transaction_id and
 * recipientNonce @nonce. */
KprScepReply *kpr_scep_reply_parse (const guint8 *der, gsize len, KprX509Stack *signers,
                                    const char *transaction_id, const guint8 *nonce,
                                    GError **error);

/* Opens the envelope of a SUCCESS with @key as recipient @cert, returns
 * the certificates of the degenerate PKCS#7 inside; *ret_cipher (optional)
 * gets the content cipher's name.  Single DES is accepted here only to
 * read a certificate (public data) from servers that use it. */
KprX509Stack *kpr_scep_envelope_open (GBytes *envelope, EVP_PKEY *key, X509 *cert,
                                      const char **ret_cipher, GError **error);

/* "badRequest" for 2, … ; "unknown" otherwise. */
const char *kpr_scep_fail_info_name (int fail_info);

struct _KprScepClient {
  char *url;
  char *ca_ident;
  guint connect_timeout;
  guint total_timeout;
  KprX509Stack *anchors;
  CURL *easy;
  KprScepAlgorithms used;
};

G_END_DECLS
