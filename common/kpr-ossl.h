/* kpr-ossl.h — cleanup attributes for the OpenSSL types we hold. */
#pragma once

#include <glib.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

G_BEGIN_DECLS

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_PKEY, EVP_PKEY_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_PKEY_CTX, EVP_PKEY_CTX_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_MD_CTX, EVP_MD_CTX_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509, X509_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509_REQ, X509_REQ_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509_NAME, X509_NAME_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GENERAL_NAMES, GENERAL_NAMES_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PKCS12, PKCS12_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BIO, BIO_free_all)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BIGNUM, BN_clear_free)

/* STACK_OF(X509) is a macro type; give it a name cleanup can use. */
typedef STACK_OF (X509) KprX509Stack;
static inline void
kpr_x509_stack_free (KprX509Stack *stack)
{
  sk_X509_pop_free (stack, X509_free);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KprX509Stack, kpr_x509_stack_free)

/* The first OpenSSL error as text (for messages), and clears the queue.
 * Returns a newly allocated string, never NULL. */
char *kpr_ossl_error_string (void);

/* "CN=alice,O=Example" (RFC 2253), for people and JSON. */
char *kpr_ossl_name_text (const X509_NAME *name);
/* The serial number in upper-case hex ("7DBB28…"), as certkeeper shows it. */
char *kpr_ossl_serial_hex (X509 *cert);

/* "AB:CD:…": the certificate's @md digest (SHA-256 for fingerprints a
 * person compares), upper-case hex pairs; NULL when OpenSSL fails. */
char *kpr_ossl_fingerprint (X509 *cert, const EVP_MD *md);

/* The one set of certificate time helpers (records, JSON, hooks, logs and
 * the window all read times through these). */
/* Unix seconds; 0 for NULL or a time OpenSSL cannot read. */
gint64 kpr_ossl_time_unix (const ASN1_TIME *t);
/* strftime(@format) in UTC; NULL for NULL or an unreadable time.
 * KPR_OSSL_TIME_ISO (ISO 8601) is what JSON, records and hooks write:
 * machine output. */
#define KPR_OSSL_TIME_ISO "%Y-%m-%dT%H:%M:%SZ"
char *kpr_ossl_time_text (const ASN1_TIME *t, const char *format);
/* KPR_OSSL_TIME_ISO of unix seconds (machine output); "-" for a time
 * GLib cannot represent. */
char *kpr_time_iso (gint64 unix_utc);
/* Appends @len bytes of @data to @out as hex pairs, each after @prefix
 * ("", "%" in a PKCS#11 URI, ":"), upper- or lower-case. */
void kpr_hex_append (GString *out, const void *data, gsize len, const char *prefix,
                     gboolean upper);
/* Lower-case hex of @len bytes, no separators. */
char *kpr_hex (const void *data, gsize len);
/* Human output's one date format: the locale's date and time (%c) in the
 * local time zone; "-" for 0 (no time). */
char *kpr_time_for_people (gint64 unix_utc);

G_END_DECLS
