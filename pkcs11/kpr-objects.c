/* kpr-objects.c — attributes, object search, certificates.
 *
 * A module is hostile input: every length it reports is checked against
 * KPR_TOKEN_ATTR_MAX before we allocate, and checked again after it
 * filled the buffer.
 */
#include "config.h"

#include <string.h>

#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "kpr-token-private.h"

/* Attribute values may be key material: erase them when released. */
typedef struct {
  gsize len;
  guint8 data[];
} ErasingBuffer;

static void
erasing_buffer_free (gpointer data)
{
  ErasingBuffer *buf = data;
  kpr_memory_erase (buf->data, buf->len);
  g_free (buf);
}

GBytes *
kpr_token_get_attr (KprToken *token, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type,
                    GError **error)
{
  CK_FUNCTION_LIST *fn = token->module->fn;
  CK_SESSION_HANDLE session = kpr_token_session (token, error);
  CK_ATTRIBUTE attr = { type, NULL, 0 };
  ErasingBuffer *buf;
  CK_ULONG allocated;
  CK_RV rv;

  if (!session)
    return NULL;
  rv = fn->C_GetAttributeValue (session, obj, &attr, 1);
  if (rv != CKR_OK)
    {
      kpr_set_ckr_error (error, rv, "Cannot read attribute 0x%lx", (unsigned long) type);
      return NULL;
    }
  if (attr.ulValueLen == CK_UNAVAILABLE_INFORMATION || attr.ulValueLen > KPR_TOKEN_ATTR_MAX)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_TOKEN,
                   "Module %s reported a %lu-byte attribute 0x%lx; refusing values over %d bytes",
                   token->module->name, (unsigned long) attr.ulValueLen, (unsigned long) type,
                   KPR_TOKEN_ATTR_MAX);
      return NULL;
    }
  allocated = attr.ulValueLen;
  buf = g_malloc0 (sizeof *buf + allocated + 1);
  buf->len = allocated;
  attr.pValue = buf->data;
  rv = fn->C_GetAttributeValue (session, obj, &attr, 1);
  if (rv != CKR_OK || attr.ulValueLen > allocated)
    {
      if (rv == CKR_OK)
        g_set_error (error, KPR_ERROR, KPR_ERROR_TOKEN,
                     "Module %s changed the size of attribute 0x%lx between two reads",
                     token->module->name, (unsigned long) type);
      else
        kpr_set_ckr_error (error, rv, "Cannot read attribute 0x%lx", (unsigned long) type);
      erasing_buffer_free (buf);
      return NULL;
    }
  return g_bytes_new_with_free_func (buf->data, attr.ulValueLen, erasing_buffer_free, buf);
}

/* A fixed-size attribute (CK_BBOOL, CK_ULONG): a module that answers
 * with another size is broken or hostile. */
static gboolean
get_fixed (KprToken *token, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type, void *ret_value,
           gsize size, const char *kind, GError **error)
{
  g_autoptr (GBytes) value = kpr_token_get_attr (token, obj, type, error);

  if (!value)
    return FALSE;
  if (g_bytes_get_size (value) != size)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_TOKEN, "Malformed %s attribute 0x%lx", kind,
                   (unsigned long) type);
      return FALSE;
    }
  memcpy (ret_value, g_bytes_get_data (value, NULL), size);
  return TRUE;
}

gboolean
kpr_token_get_bool (KprToken *token, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type,
                    gboolean *ret_value, GError **error)
{
  CK_BBOOL value;

  if (!get_fixed (token, obj, type, &value, sizeof value, "boolean", error))
    return FALSE;
  *ret_value = value != CK_FALSE;
  return TRUE;
}

gboolean
kpr_token_get_ulong (KprToken *token, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type,
                     CK_ULONG *ret_value, GError **error)
{
  return get_fixed (token, obj, type, ret_value, sizeof *ret_value, "numeric", error);
}

GArray *
kpr_token_find_objects (KprToken *token, CK_ATTRIBUTE *tmpl, CK_ULONG n, GError **error)
{
  CK_FUNCTION_LIST *fn = token->module->fn;
  CK_SESSION_HANDLE session = kpr_token_session (token, error);
  g_autoptr (GArray) found = g_array_new (FALSE, FALSE, sizeof (CK_OBJECT_HANDLE));
  CK_RV rv;

  if (!session)
    return NULL;
  rv = fn->C_FindObjectsInit (session, tmpl, n);
  if (rv != CKR_OK)
    {
      kpr_set_ckr_error (error, rv, "Cannot search token “%s”", token->info.label);
      return NULL;
    }
  for (;;)
    {
      CK_OBJECT_HANDLE batch[64];
      CK_ULONG count = 0;

      rv = fn->C_FindObjects (session, batch, G_N_ELEMENTS (batch), &count);
      if (rv != CKR_OK || count == 0 || count > G_N_ELEMENTS (batch))
        break;
      g_array_append_vals (found, batch, count);
      if (found->len > 1024)
        {
          rv = CKR_GENERAL_ERROR;
          break;
        }
    }
  fn->C_FindObjectsFinal (session);
  if (rv != CKR_OK)
    {
      kpr_set_ckr_error (error, rv, "Searching token “%s” failed", token->info.label);
      return NULL;
    }
  return g_steal_pointer (&found);
}

/* The objects of class @klass with CKA_ID @id: one C_FindObjects template,
 * however many objects the token holds. */
static GArray *
find_by_id (KprToken *token, CK_OBJECT_CLASS klass, GBytes *id, GError **error)
{
  gsize id_len;
  const void *id_data = g_bytes_get_data (id, &id_len);
  CK_ATTRIBUTE tmpl[] = {
    { CKA_CLASS, &klass, sizeof klass },
    { CKA_ID, (void *) id_data, id_len },
  };

  return kpr_token_find_objects (token, tmpl, G_N_ELEMENTS (tmpl), error);
}

static gboolean
destroy_all (KprToken *token, GArray *found, GError **error)
{
  for (guint i = 0; i < found->len; i++)
    if (!kpr_token_destroy (token, g_array_index (found, CK_OBJECT_HANDLE, i), error))
      return FALSE;
  return TRUE;
}

gboolean
kpr_token_find_one (KprToken *token, CK_OBJECT_CLASS klass, GBytes *id,
                    CK_OBJECT_HANDLE *ret_obj, GError **error)
{
  g_autoptr (GArray) found = find_by_id (token, klass, id, error);

  if (!found)
    return FALSE;
  if (found->len == 0)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_NOT_FOUND, "No %s with this id on token “%s”",
                   klass == CKO_PRIVATE_KEY  ? "private key"
                   : klass == CKO_PUBLIC_KEY ? "public key"
                                             : "certificate",
                   token->info.label);
      return FALSE;
    }
  *ret_obj = g_array_index (found, CK_OBJECT_HANDLE, 0);
  return TRUE;
}

gboolean
kpr_token_destroy (KprToken *token, CK_OBJECT_HANDLE obj, GError **error)
{
  CK_RV rv = token->module->fn->C_DestroyObject (token->session, obj);

  if (rv != CKR_OK && rv != CKR_OBJECT_HANDLE_INVALID)
    {
      kpr_set_ckr_error (error, rv, "Cannot remove an object from token “%s”", token->info.label);
      return FALSE;
    }
  return TRUE;
}

static GBytes *
der_of (int (*i2d) (const void *, unsigned char **), const void *obj)
{
  unsigned char *der = NULL;
  int len = i2d (obj, &der);
  GBytes *bytes;

  if (len <= 0)
    return NULL;
  bytes = g_bytes_new (der, len);
  OPENSSL_free (der);
  return bytes;
}

/* CA certificates share objects between identities: their id is their
 * key identifier (or a hash of the key), the convention NSS follows. */
static GBytes *
ca_certificate_id (X509 *cert)
{
  const ASN1_OCTET_STRING *skid = X509_get0_subject_key_id (cert);
  unsigned char md[SHA_DIGEST_LENGTH];
  unsigned int md_len = 0;

  if (skid)
    return g_bytes_new (ASN1_STRING_get0_data (skid), ASN1_STRING_length (skid));
  X509_pubkey_digest (cert, EVP_sha1 (), md, &md_len);
  return g_bytes_new (md, md_len);
}

gboolean
kpr_token_store_certificate (KprToken *token, X509 *cert, const char *label, GBytes *id,
                             GError **error)
{
  CK_OBJECT_CLASS klass = CKO_CERTIFICATE;
  CK_CERTIFICATE_TYPE ctype = CKC_X_509;
  CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
  CK_ULONG category = id ? 1 /* token user */ : 2 /* authority */;
  g_autoptr (GBytes) value = der_of ((int (*) (const void *, unsigned char **)) i2d_X509, cert);
  g_autoptr (GBytes) subject = der_of ((int (*) (const void *, unsigned char **)) i2d_X509_NAME,
                                       X509_get_subject_name (cert));
  g_autoptr (GBytes) issuer = der_of ((int (*) (const void *, unsigned char **)) i2d_X509_NAME,
                                      X509_get_issuer_name (cert));
  g_autoptr (GBytes) serial = der_of ((int (*) (const void *, unsigned char **)) i2d_ASN1_INTEGER,
                                      X509_get0_serialNumber (cert));
  g_autoptr (GBytes) ca_id = id ? NULL : ca_certificate_id (cert);
  GBytes *obj_id = id ? id : ca_id;
  CK_SESSION_HANDLE session;
  CK_OBJECT_HANDLE handle;
  CK_RV rv;

  if (!value || !subject || !issuer || !serial)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT, "The certificate cannot be encoded");
      return FALSE;
    }
  if (!(session = kpr_token_session (token, error)))
    return FALSE;

  if (!id)
    {
      CK_ATTRIBUTE same[] = {
        { CKA_CLASS, &klass, sizeof klass },
        { CKA_VALUE, (void *) g_bytes_get_data (value, NULL), g_bytes_get_size (value) },
      };
      g_autoptr (GArray) found = kpr_token_find_objects (token, same, G_N_ELEMENTS (same), error);
      if (!found)
        return FALSE;
      if (found->len > 0)
        return TRUE;
    }

  {
    CK_ATTRIBUTE tmpl[] = {
      { CKA_CLASS, &klass, sizeof klass },
      { CKA_CERTIFICATE_TYPE, &ctype, sizeof ctype },
      { CKA_TOKEN, &yes, sizeof yes },
      { CKA_PRIVATE, &no, sizeof no },
      { CKA_MODIFIABLE, &yes, sizeof yes },
      { CKA_LABEL, (void *) label, label ? strlen (label) : 0 },
      { CKA_ID, (void *) g_bytes_get_data (obj_id, NULL), g_bytes_get_size (obj_id) },
      { CKA_SUBJECT, (void *) g_bytes_get_data (subject, NULL), g_bytes_get_size (subject) },
      { CKA_ISSUER, (void *) g_bytes_get_data (issuer, NULL), g_bytes_get_size (issuer) },
      { CKA_SERIAL_NUMBER, (void *) g_bytes_get_data (serial, NULL), g_bytes_get_size (serial) },
      { CKA_VALUE, (void *) g_bytes_get_data (value, NULL), g_bytes_get_size (value) },
      { CKA_CERTIFICATE_CATEGORY, &category, sizeof category },
    };
    rv = token->module->fn->C_CreateObject (session, tmpl, G_N_ELEMENTS (tmpl), &handle);
    if (rv == CKR_ATTRIBUTE_TYPE_INVALID)
      /* PKCS#11 2.20 tokens do not know CKA_CERTIFICATE_CATEGORY. */
      rv = token->module->fn->C_CreateObject (session, tmpl, G_N_ELEMENTS (tmpl) - 1, &handle);
  }
  if (rv != CKR_OK)
    {
      kpr_set_ckr_error (error, rv, "Cannot store the certificate on token “%s”",
                         token->info.label);
      return FALSE;
    }
  return TRUE;
}

static X509 *
certificate_from_object (KprToken *token, CK_OBJECT_HANDLE obj, GError **error)
{
  g_autoptr (GBytes) value = kpr_token_get_attr (token, obj, CKA_VALUE, error);
  const unsigned char *p;
  gsize len;
  X509 *cert;

  if (!value)
    return NULL;
  p = g_bytes_get_data (value, &len);
  cert = d2i_X509 (NULL, &p, len);
  if (!cert)
    g_set_error (error, KPR_ERROR, KPR_ERROR_TOKEN,
                 "Token “%s” holds a certificate that cannot be parsed", token->info.label);
  return cert;
}

X509 *
kpr_token_find_certificate (KprToken *token, GBytes *id, GError **error)
{
  CK_OBJECT_HANDLE obj;

  if (!kpr_token_find_one (token, CKO_CERTIFICATE, id, &obj, error))
    return NULL;
  return certificate_from_object (token, obj, error);
}

KprX509Stack *
kpr_token_list_certificates (KprToken *token, GError **error)
{
  CK_OBJECT_CLASS klass = CKO_CERTIFICATE;
  CK_ATTRIBUTE tmpl[] = { { CKA_CLASS, &klass, sizeof klass } };
  g_autoptr (GArray) found = kpr_token_find_objects (token, tmpl, 1, error);
  g_autoptr (KprX509Stack) certs = sk_X509_new_null ();

  if (!found)
    return NULL;
  for (guint i = 0; i < found->len; i++)
    {
      X509 *cert = certificate_from_object (token, g_array_index (found, CK_OBJECT_HANDLE, i),
                                            error);
      if (!cert)
        return NULL;
      sk_X509_push (certs, cert);
    }
  return g_steal_pointer (&certs);
}

static GArray *
objects_with_id (KprToken *token, GBytes *id, GError **error)
{
  gsize id_len;
  const void *id_data = g_bytes_get_data (id, &id_len);
  CK_ATTRIBUTE tmpl[] = { { CKA_ID, (void *) id_data, id_len } };

  return kpr_token_find_objects (token, tmpl, 1, error);
}

/* The class of each object in @found (0xffffffff when unreadable). */
static GArray *
classes_of (KprToken *token, GArray *found)
{
  GArray *classes = g_array_sized_new (FALSE, FALSE, sizeof (CK_ULONG), found->len);

  for (guint i = 0; i < found->len; i++)
    {
      CK_ULONG klass = (CK_ULONG) -1;
      (void) kpr_token_get_ulong (token, g_array_index (found, CK_OBJECT_HANDLE, i), CKA_CLASS,
                                  &klass, NULL);
      g_array_append_val (classes, klass);
    }
  return classes;
}

gboolean
kpr_token_set_label (KprToken *token, GBytes *id, const char *label, GError **error)
{
  /* Keys first, the certificate last: programs that look the identity up
   * by label find the certificate first and then the key of that name. */
  static const CK_OBJECT_CLASS order[] = { CKO_PUBLIC_KEY, CKO_PRIVATE_KEY, CKO_CERTIFICATE };
  gsize label_len = strlen (label);
  /* One search for all three classes: each search costs SoftHSM a look at
   * every object on the token (issue 11, item 6). */
  g_autoptr (GArray) found = objects_with_id (token, id, error);
  g_autoptr (GArray) classes = NULL;

  if (!found)
    return FALSE;
  classes = classes_of (token, found);
  for (gsize c = 0; c < G_N_ELEMENTS (order); c++)
    {
      for (guint i = 0; i < found->len; i++)
        {
          CK_OBJECT_HANDLE obj = g_array_index (found, CK_OBJECT_HANDLE, i);
          g_autoptr (GBytes) now = NULL;
          CK_ATTRIBUTE attr = { CKA_LABEL, (void *) label, label_len };
          CK_RV rv;

          if (g_array_index (classes, CK_ULONG, i) != order[c])
            continue;
          now = kpr_token_get_attr (token, obj, CKA_LABEL, NULL);
          if (now && g_bytes_get_size (now) == label_len
              && memcmp (g_bytes_get_data (now, NULL), label, label_len) == 0)
            continue;
          rv = token->module->fn->C_SetAttributeValue (token->session, obj, &attr, 1);
          if (rv != CKR_OK)
            {
              kpr_set_ckr_error (error, rv, "Token “%s” refused to rename an object to “%s”",
                                 token->info.label, label);
              return FALSE;
            }
        }
    }
  return TRUE;
}

gboolean
kpr_token_count_objects (KprToken *token, GBytes *id, guint *ret_count, GError **error)
{
  g_autoptr (GArray) found = objects_with_id (token, id, error);

  if (!found)
    return FALSE;
  *ret_count = found->len;
  return TRUE;
}

gboolean
kpr_token_replace_certificate (KprToken *token, X509 *cert, const char *label, GBytes *id,
                               GError **error)
{
  /* One search: what is there is compared here, not found again to be
   * removed (each search costs SoftHSM a look at every object). */
  g_autoptr (GArray) found = find_by_id (token, CKO_CERTIFICATE, id, error);
  g_autoptr (GBytes) want = der_of ((int (*) (const void *, unsigned char **)) i2d_X509, cert);

  if (!found)
    return FALSE;
  if (found->len == 1 && want)
    {
      g_autoptr (GBytes) have = kpr_token_get_attr (token, g_array_index (found, CK_OBJECT_HANDLE, 0),
                                                    CKA_VALUE, NULL);
      if (have && g_bytes_equal (have, want))
        return TRUE;
    }
  return destroy_all (token, found, error)
         && kpr_token_store_certificate (token, cert, label, id, error);
}

/* Half-made objects: SoftHSM writes an object's class (and its defaults:
 * an empty CKA_ID and CKA_LABEL) before the caller's template, so a
 * process killed inside C_GenerateKeyPair or C_CreateObject can leave a
 * key or certificate that names nobody.  certkeeper always passes the
 * identity's id and label in that same call (kpr_key_template_init,
 * kpr_token_store_certificate), so on its own software token an object
 * with neither is such a leftover.  Other tokens are left alone: their
 * objects may belong to other programs. */
gboolean
kpr_token_delete_orphans (KprToken *token, guint *ret_count, GError **error)
{
  CK_ATTRIBUTE tmpl[] = { { CKA_ID, NULL, 0 } };
  g_autoptr (GArray) found = NULL;
  g_autoptr (GArray) classes = NULL;
  guint count = 0;

  if (!token->info.software)
    return TRUE;
  /* Every class in one search (see kpr_token_set_label). */
  if (!(found = kpr_token_find_objects (token, tmpl, G_N_ELEMENTS (tmpl), error)))
    return FALSE;
  classes = classes_of (token, found);
  for (guint i = 0; i < found->len; i++)
    {
      CK_OBJECT_HANDLE obj = g_array_index (found, CK_OBJECT_HANDLE, i);
      CK_ULONG klass = g_array_index (classes, CK_ULONG, i);
      g_autoptr (GBytes) label = NULL;

      if (klass != CKO_PRIVATE_KEY && klass != CKO_PUBLIC_KEY && klass != CKO_CERTIFICATE)
        continue;
      label = kpr_token_get_attr (token, obj, CKA_LABEL, NULL);
      if (!label || g_bytes_get_size (label) != 0)
        continue;
      if (!kpr_token_destroy (token, obj, error))
        return FALSE;
      count++;
    }
  if (ret_count)
    *ret_count = count;
  return TRUE;
}

gboolean
kpr_token_delete_objects_of (KprToken *token, GBytes *id, gboolean sweep, guint *ret_count,
                             GError **error)
{
  g_autoptr (GArray) found = objects_with_id (token, id, error);
  guint orphans = 0;

  if (!found || !destroy_all (token, found, error)
      || (sweep && !kpr_token_delete_orphans (token, &orphans, error)))
    return FALSE;
  if (ret_count)
    *ret_count = found->len + orphans;
  return TRUE;
}

gboolean
kpr_token_delete_objects (KprToken *token, GBytes *id, guint *ret_count, GError **error)
{
  return kpr_token_delete_objects_of (token, id, TRUE, ret_count, error);
}
