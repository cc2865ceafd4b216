/* fuzz-scep-reply.c — kpr_scep_reply_parse (a SCEP CertRep).  The
 * signers are the certificates the input itself carries, so that seeds
 * signed by their own embedded certificate get past the signature and
 * the attribute checks are fuzzed too; transaction "FUZZ", nonce zeros. */
#include "config.h"

#include <stdint.h>

#include <openssl/cms.h>

#include "kpr-scep-private.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static const guint8 nonce[KPR_SCEP_NONCE_LEN] = { 0 };
  const unsigned char *p = data;
  CMS_ContentInfo *cms = d2i_CMS_ContentInfo (NULL, &p, (long) size);
  KprX509Stack *signers = cms ? CMS_get1_certs (cms) : NULL;
  g_autoptr (KprScepReply) reply = NULL;

  if (!signers)
    signers = sk_X509_new_null ();
  reply = kpr_scep_reply_parse (data, size, signers, "FUZZ", nonce, NULL);
  if (reply)
    {
      /* What parsed is one of the three statuses, and only SUCCESS
       * carries an envelope. */
      if (reply->status != 0 && reply->status != 2 && reply->status != 3)
        __builtin_trap ();
      if ((reply->envelope != NULL) != (reply->status == 0))
        __builtin_trap ();
    }
  kpr_x509_stack_free (signers);
  CMS_ContentInfo_free (cms);
  return 0;
}
