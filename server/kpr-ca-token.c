/* kpr-ca-token.c — the CA key on a PKCS#11 token (DESIGN §9).
 *
 * The key pair is generated on the token (EC P-256, CKA_SENSITIVE,
 * never extractable, CKA_PRIVATE so that signing needs the PIN) and
 * ca.conf records the token URI and the key's CKA_ID.  The process logs
 * in once, when it starts, and keeps the libp11 EVP_PKEY for
 * ca_sign_context() in kpr-ca.c, the only place that signs.
 *
 * One KprTokenCtx per process, owned by the KprCa and freed with it (after
 * the key): never unloaded while the server runs (DESIGN §3).
 */
#include "config.h"

#include "kpr-server-private.h"

#include <string.h>

#include <openssl/evp.h>

#define CA_KEY_LABEL "certkeeper CA"
#define KEY_ID_MAX 64 /* bytes of CKA_ID we accept from ca.conf */

char *
kpr_hex_encode (GBytes *bytes)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  return kpr_hex (data, len);
}

GBytes *
kpr_hex_decode (const char *text)
{
  gsize len = strlen (text);
  g_autofree guint8 *data = NULL;

  if (len == 0 || len % 2 != 0 || len / 2 > KEY_ID_MAX)
    return NULL;
  data = g_malloc (len / 2);
  for (gsize i = 0; i < len / 2; i++)
    {
      int hi = g_ascii_xdigit_value (text[2 * i]);
      int lo = g_ascii_xdigit_value (text[2 * i + 1]);
      if (hi < 0 || lo < 0)
        return NULL;
      data[i] = (guint8) (hi << 4 | lo);
    }
  return g_bytes_new_take (g_steal_pointer (&data), len / 2);
}

/* Loads the modules (registered ones plus ca->token_module) and finds the
 * token; logs in. */
static gboolean
token_connect (KprCa *ca, KprPinFunc pin_func, gpointer pin_data, GError **error)
{
  const char *modules[] = { ca->token_module, NULL };
  g_autoptr (GError) local = NULL;

  /* Created once and kept: unloading a module finalizes it (DESIGN §3). */
  if (!ca->tokens
      && !(ca->tokens = kpr_token_ctx_new (KPR_TOKEN_CTX_REGISTERED, modules, error)))
    return FALSE;
  ca->token = kpr_token_ctx_find (ca->tokens, ca->token_uri, &local);
  if (!ca->token && g_error_matches (local, KPR_ERROR, KPR_ERROR_NO_TOKEN))
    {
      if (ca->token_module)
        g_set_error (error, KPR_ERROR, KPR_ERROR_NO_TOKEN,
                     "No token of module %s matches %s, the token of the CA key; "
                     "is it inserted?", ca->token_module, ca->token_uri);
      else
        g_set_error (error, KPR_ERROR, KPR_ERROR_NO_TOKEN,
                     "No token matches %s, the token of the CA key; is it inserted, and is "
                     "its PKCS#11 module registered with p11-kit ('p11-kit list-modules')?",
                     ca->token_uri);
      return FALSE;
    }
  if (!ca->token)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  return kpr_token_login (ca->token, pin_func, pin_data, error);
}

EVP_PKEY *
kpr_ca_token_create (KprCa *ca, KprPinFunc pin_func, gpointer pin_data, GError **error)
{
  g_autoptr (GBytes) id = kpr_token_new_id ();
  g_autoptr (EVP_PKEY) pub = NULL;

  if (!token_connect (ca, pin_func, pin_data, error))
    return NULL;
  if (!kpr_token_generate_key (ca->token, KPR_KEY_EC_P256, KPR_PROTECTION_STRONG, CA_KEY_LABEL,
                               id, error))
    return NULL;
  ca->key_id = g_bytes_ref (id);
  if (!(pub = kpr_token_get_public_key (ca->token, id, error))
      || !(ca->key = kpr_token_get_private_key (ca->token, id, error)))
    return NULL;
  return g_steal_pointer (&pub);
}

gboolean
kpr_ca_token_open (KprCa *ca, KprPinFunc pin_func, gpointer pin_data, GError **error)
{
  g_autoptr (EVP_PKEY) pub = NULL;
  g_autoptr (EVP_PKEY) key = NULL;

  if (!token_connect (ca, pin_func, pin_data, error))
    return FALSE;
  if (!(pub = kpr_token_get_public_key (ca->token, ca->key_id, error))
      || !(key = kpr_token_get_private_key (ca->token, ca->key_id, error)))
    {
      g_prefix_error (error, "The CA key (key-id in %s/ca.conf) is not on the token: ", ca->dir);
      return FALSE;
    }
  if (EVP_PKEY_eq (pub, X509_get0_pubkey (ca->cert)) != 1)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_KEY_MISMATCH,
                   "The key on token %s does not belong to %s/ca.pem", ca->token_uri, ca->dir);
      return FALSE;
    }
  ca->key = g_steal_pointer (&key);
  return TRUE;
}

void
kpr_ca_token_discard (KprCa *ca)
{
  if (!ca->token || !ca->key_id)
    return;
  g_clear_pointer (&ca->key, EVP_PKEY_free);
  /* Best effort: the failure being reported matters more. */
  (void) kpr_token_delete_objects (ca->token, ca->key_id, NULL, NULL);
}
