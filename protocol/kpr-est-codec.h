/* kpr-est-codec.h — the EST message codecs, shared by the client
 * (protocol/) and the reference server (server/).
 *
 * Everything here parses hostile input: lengths are checked, sizes capped,
 * and errors are KPR_ERROR_PROTOCOL (malformed) or KPR_ERROR_BAD_INPUT.
 */
#pragma once

#include <glib.h>
#include <openssl/x509.h>

#include "kpr-common.h"

G_BEGIN_DECLS

/* Largest EST body either side accepts (decoded or not). */
#define KPR_EST_BODY_MAX (256 * 1024)

/* certkeeper-ca names a request that waits for approval (202) in this
 * header (EXTENSIONS.md §3): 1-32 characters of [A-Za-z0-9._-]. */
#define KPR_EST_REQUEST_ID_HEADER "Certkeeper-Request-Id"
#define KPR_EST_REQUEST_ID_MAX 32

/* certkeeper-ca marks its 401 answers with this header, value "one-time"
 * (EXTENSIONS.md §1): the password it refused is a one-time secret word,
 * so the person asks for a new one rather than typing it again. */
#define KPR_EST_SECRET_WORD_HEADER "Certkeeper-Secret-Word"

/* RFC 8951: base64 of DER; CR, LF, space and tab are ignored anywhere;
 * anything else that is not base64 is KPR_ERROR_PROTOCOL. */
GBytes *kpr_est_base64_decode (const char *text, gsize len, GError **error);

/* base64 on one line ending with LF: what the client sends (RFC 8951 §3
 * allows line breaks, but some decoders, strongSwan's among them, do not
 * skip them; and some servers reject a body without a final newline). */
char *kpr_est_base64_encode (const guint8 *data, gsize len);
/* base64 without any line break: what certkeeper-ca sends, and the parts
 * of a multipart answer (their CRLF belongs to the delimiter). */
char *kpr_est_base64_encode_flat (const guint8 *data, gsize len);

/* application/pkcs7-mime; smime-type=certs-only: a degenerate SignedData
 * holding only certificates.  Parse returns at least one certificate. */
KprX509Stack *kpr_est_certs_only_parse (const guint8 *der, gsize len, GError **error);
GBytes *kpr_est_certs_only_build (KprX509Stack *certs, GError **error);

/* application/pkcs10: a CSR whose self-signature verifies. */
X509_REQ *kpr_est_csr_parse (const guint8 *der, gsize len, GError **error);

/* Everything below was added by the client half of issue 3; the
 * functions above keep the signatures the server was promised. */

/* Most certificates a certs-only message may carry (hostile input cap). */
#define KPR_EST_CERTS_MAX 64

/* Like kpr_est_base64_decode but into a plain buffer the caller erases
 * (for private keys): *ret_data is g_malloc'd, written only on success. */
gboolean kpr_est_base64_decode_raw (const char *text, gsize len,
                                    guint8 **ret_data, gsize *ret_len,
                                    GError **error);

/* DER of the CSR, for sending (NULL on OpenSSL failure). */
GBytes *kpr_est_csr_to_der (X509_REQ *req, GError **error);

/* "AB:CD:…" SHA-256 over the whole DER certificate (RFC 7030 §4.1.1). */
char *kpr_est_cert_fingerprint (X509 *cert);

/* application/csrattrs (RFC 7030 §4.5.2, RFC 8951 §4): a SEQUENCE of bare
 * OIDs and attributes.  Each entry is reported with its OID in dotted form;
 * for an attribute, the OIDs found among its values (e.g. the curve of
 * id-ecPublicKey, the extensions of extensionRequest) are listed too.
 * Unknown OIDs are kept so the caller can ignore them (§4.5.2). */
typedef struct {
  char *oid;            /* dotted, e.g. "1.2.840.113549.1.9.7" */
  gboolean is_attribute;/* an Attribute rather than a bare OID */
  GStrv value_oids;     /* OIDs among the attribute's values; never NULL */
  gint64 value_int;     /* the first small INTEGER among them (RSA key size), or -1 */
} KprEstCsrAttr;

typedef struct {
  GPtrArray *attrs;             /* of KprEstCsrAttr */
  gboolean challenge_password;  /* the server asks for tls-unique (§3.5) */
  /* What the entries ask of the request, as far as certkeeper reads them
   * (RFC 7030 §4.5.2, RFC 8951 §4): */
  char *key_algorithm;  /* "EC" or "RSA"; NULL: any */
  char *curve;          /* EC: OpenSSL's short name ("secp384r1"); NULL: any */
  guint rsa_bits;       /* RSA: this modulus size; 0: any */
  char *digest;         /* "SHA384"…: the CSR's signature hash; NULL: SHA-256 */
  GStrv extensions;     /* extension OIDs asked for (extensionRequest); never NULL */
  GStrv other;          /* OIDs certkeeper does not understand (§4.5.2: a client
                         * may ignore them); never NULL */
} KprEstCsrAttrs;

#define KPR_OID_CHALLENGE_PASSWORD "1.2.840.113549.1.9.7"
#define KPR_OID_EXTENSION_REQUEST "1.2.840.113549.1.9.14"

KprEstCsrAttrs *kpr_est_csrattrs_parse (const guint8 *der, gsize len, GError **error);
void kpr_est_csrattrs_free (KprEstCsrAttrs *attrs);
/* Whether @key is what the attributes ask for; KPR_ERROR_UNSUPPORTED
 * naming the wanted key otherwise. */
gboolean kpr_est_csrattrs_check_key (const KprEstCsrAttrs *attrs, EVP_PKEY *key, GError **error);
/* The key the attributes ask for in certkeeper's words ("ec-p384",
 * "rsa-3072", "ec-brainpoolP384r1"), NULL when they ask for none. */
char *kpr_est_csrattrs_key_name (const KprEstCsrAttrs *attrs);
/* TRUE if @oid (dotted) is listed, bare or as an attribute type. */
gboolean kpr_est_csrattrs_has (const KprEstCsrAttrs *attrs, const char *oid);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KprEstCsrAttrs, kpr_est_csrattrs_free)

/* Build a csrattrs body of bare OIDs (dotted), for servers. */
GBytes *kpr_est_csrattrs_build (const char *const *oids, GError **error);

/* /serverkeygen response (RFC 7030 §4.4.2): multipart/mixed with one
 * application/pkcs8 part (the key) and one application/pkcs7-mime part
 * (the certificate).  @content_type is the response's Content-Type header
 * (carries the boundary).  The key must match the first certificate:
 * KPR_ERROR_KEY_MISMATCH otherwise.  Outputs written only on success. */
gboolean kpr_est_serverkeygen_parse (const char *content_type,
                                     const guint8 *body, gsize len,
                                     EVP_PKEY **ret_key,
                                     KprX509Stack **ret_certs,
                                     GError **error);

/* The matching builder (for servers and tests): returns the body and
 * sets *ret_content_type ("multipart/mixed; boundary=…").  The key's DER
 * and its base64 are erased from every intermediate buffer; the caller
 * holds a body containing the key and must erase it (kpr_memory_erase). */
char *kpr_est_serverkeygen_build (EVP_PKEY *key, KprX509Stack *certs,
                                  char **ret_content_type, gsize *ret_len,
                                  GError **error);

G_END_DECLS
