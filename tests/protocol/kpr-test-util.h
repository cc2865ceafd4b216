/* kpr-test-util.h — helpers shared by the protocol tests: in-process
 * keys and certificates, the RFC 7030 vectors, temp dirs. */
#pragma once

#include <glib.h>

#include "kpr-est.h"

G_BEGIN_DECLS

EVP_PKEY *kpr_test_key_ec (void);
/* CN=@cn */
X509_NAME *kpr_test_name (const char *cn);
EVP_PKEY *kpr_test_key_rsa (void);

/* A certificate for @key named CN=@cn, signed by @issuer_key (self-signed
 * when @issuer is NULL).  @dns / @ip: optional SAN entries.  Validity
 * starts @from_offset seconds from now and lasts @seconds. */
X509 *kpr_test_cert (EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
                     gboolean is_ca, const char *dns, const char *ip, long from_offset,
                     long seconds);

/* Adds extension @nid ("critical,CA:TRUE"…) to @cert, as issued by
 * @issuer (@cert itself when self-signed). */
void kpr_test_add_ext (X509 *cert, X509 *issuer, int nid, const char *value);

/* File @name of the vectors dir ($KPR_EST_VECTORS). Skips the test when
 * the dir is absent. */
GBytes *kpr_test_vector (const char *name);
/* Decoded contents of the vector @name.b64 (through our decoder). */
GBytes *kpr_test_vector_b64 (const char *name);
X509 *kpr_test_vector_pem (const char *name);

gboolean kpr_test_write_pem_cert (const char *path, X509 *cert);
gboolean kpr_test_write_pem_key (const char *path, EVP_PKEY *key);
KprX509Stack *kpr_test_stack (X509 *first, ...) G_GNUC_NULL_TERMINATED;

G_END_DECLS
