/* scep-fake.h — a scripted SCEP CA for the answers micromdm's scepserver
 * cannot give: PENDING and CertPoll, NDES's separate RA signing and
 * encryption certificates with GET and no GetCACaps, and hostile CertReps
 * (garbage, a wrong signer, a certificate for another key or from another
 * CA, a wrong nonce, an oversized body).  Built directly on OpenSSL CMS,
 * not on the client's own codecs, and served by responder.c.  It records
 * what it received so tests can check what the client sent. */
#pragma once

#include "protocols-fixture.h"
#include "responder.h"

G_BEGIN_DECLS

typedef enum {
  FAKE_ISSUE,        /* a well-behaved CA */
  FAKE_PENDING,      /* PENDING until approved, then issues on CertPoll */
  FAKE_FAIL,         /* FAILURE badRequest */
  FAKE_GARBAGE,      /* 200 with a body that is not SCEP */
  FAKE_HUGE,         /* 200 with a body larger than the client's cap */
  FAKE_WRONG_SIGNER, /* signed by a key that only borrows the RA's name */
  FAKE_OTHER_KEY,    /* a certificate for a key that is not the requester's */
  FAKE_OTHER_CA,     /* a certificate from a CA the person did not confirm */
  FAKE_WRONG_NONCE,  /* recipientNonce not ours (a replayed answer) */
} FakeMode;

typedef struct {
  int type;         /* messageType */
  char *tid;
  char *method;     /* "GET" / "POST" */
  char *cipher;     /* content cipher of the envelope ("AES-128-CBC") */
  char *digest;     /* the signer's digest ("SHA256") */
  X509 *signer;     /* the signer certificate the request carried */
  gboolean opened;  /* the envelope opened with the key it was meant for */
  char *challenge;  /* the CSR's challengePassword, NULL if none */
} FakeSeen;

typedef struct {
  FakeMode mode;
  gboolean ndes;     /* RA signing + RA encryption certificates beside the CA */
  const char *caps;  /* GetCACaps text; NULL answers 404 (older NDES) */
  gboolean approved; /* FAKE_PENDING: the administrator said yes */
  EVP_PKEY *ca_key, *ra_sign_key, *ra_enc_key, *rogue_key;
  X509 *ca, *ra_sign, *ra_enc, *rogue;
  X509_REQ *pending_csr;
  GPtrArray *seen;   /* of FakeSeen */
  GMutex lock;
} FakeScep;

FakeScep *fake_scep_new (gboolean ndes);
void fake_scep_free (FakeScep *fake);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FakeScep, fake_scep_free)

/* The RespHandler; @user_data is the FakeScep. */
RespAnswer fake_scep_handle (const char *method, const char *target, GBytes *body,
                             gpointer user_data);

/* The @i-th PKIOperation seen (locked copy of the pointer; the record
 * lives as long as @fake). */
FakeSeen *fake_scep_seen (FakeScep *fake, guint i);
guint fake_scep_count (FakeScep *fake);

G_END_DECLS
