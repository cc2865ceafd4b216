/* kpr-est-csrattrs.c — the CSR Attributes message (RFC 7030 §4.5.2 with
 * the RFC 8951 §4 clarifications).
 *
 *   CsrAttrs ::= SEQUENCE SIZE (0..MAX) OF AttrOrOID
 *   AttrOrOID ::= CHOICE { oid OBJECT IDENTIFIER, attribute Attribute }
 *   Attribute ::= SEQUENCE { type OBJECT IDENTIFIER, values SET OF ANY }
 *
 * Walked with ASN1_get_object so that every length is checked against the
 * bytes that are really there; no generic ASN.1 template is trusted with
 * the ANY values, which a hostile server fully controls.
 */
#include "config.h"

#include "kpr-est-codec.h"

#include <string.h>

#include <openssl/asn1.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>

/* Caps for hostile input: far above any real CA's list. */
#define CSRATTRS_MAX_ENTRIES 256
#define CSRATTRS_MAX_VALUE_OIDS 64
#define CSRATTRS_MAX_DEPTH 4

static void
csr_attr_free (gpointer data)
{
  KprEstCsrAttr *attr = data;

  g_free (attr->oid);
  g_strfreev (attr->value_oids);
  g_free (attr);
}

void
kpr_est_csrattrs_free (KprEstCsrAttrs *attrs)
{
  if (!attrs)
    return;
  g_ptr_array_unref (attrs->attrs);
  g_free (attrs->key_algorithm);
  g_free (attrs->curve);
  g_free (attrs->digest);
  g_strfreev (attrs->extensions);
  g_strfreev (attrs->other);
  g_free (attrs);
}

static gboolean
malformed (GError **error, const char *why)
{
  g_set_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL,
               "The CSR attributes are malformed: %s", why);
  return FALSE;
}

/* Reads one TLV header at *pp within @end.  Definite lengths only (DER). */
static gboolean
read_header (const unsigned char **pp, const unsigned char *end, long *ret_len,
             int *ret_tag, int *ret_class, gboolean *ret_constructed, GError **error)
{
  const unsigned char *p = *pp;
  long len = 0;
  int tag = 0, cls = 0, flags;

  if (p >= end)
    return malformed (error, "truncated");
  flags = ASN1_get_object (&p, &len, &tag, &cls, end - p);
  if (flags & 0x80)
    return malformed (error, "bad length or tag");
  if ((flags & V_ASN1_CONSTRUCTED) && (flags & 0x01))
    return malformed (error, "indefinite length");
  if (len < 0 || len > end - p)
    return malformed (error, "length past the end");
  *pp = p;
  *ret_len = len;
  *ret_tag = tag;
  *ret_class = cls;
  *ret_constructed = (flags & V_ASN1_CONSTRUCTED) != 0;
  return TRUE;
}

/* Dotted text of the OBJECT IDENTIFIER whose whole TLV is [start, end). */
static char *
oid_text (const unsigned char *start, const unsigned char *end, GError **error)
{
  const unsigned char *p = start;
  ASN1_OBJECT *obj = d2i_ASN1_OBJECT (NULL, &p, end - start);
  char buf[128];
  int n;

  if (!obj || p != end)
    {
      ASN1_OBJECT_free (obj);
      malformed (error, "bad object identifier");
      return NULL;
    }
  n = OBJ_obj2txt (buf, sizeof buf, obj, 1);
  ASN1_OBJECT_free (obj);
  if (n <= 0 || n >= (int) sizeof buf)
    {
      malformed (error, "object identifier too long");
      return NULL;
    }
  return g_strdup (buf);
}

/* Collects the OIDs found in [p, end), descending into constructed values
 * (e.g. the SET of extension OIDs inside extensionRequest). */
static gboolean
collect_oids (const unsigned char *p, const unsigned char *end, int depth,
              GPtrArray *out, gint64 *ret_int, GError **error)
{
  if (depth > CSRATTRS_MAX_DEPTH)
    return malformed (error, "nested too deeply");
  while (p < end)
    {
      const unsigned char *start = p;
      long len;
      int tag, cls;
      gboolean cons;

      if (!read_header (&p, end, &len, &tag, &cls, &cons, error))
        return FALSE;
      if (cls == V_ASN1_UNIVERSAL && tag == V_ASN1_OBJECT && !cons)
        {
          char *oid;

          if (out->len >= CSRATTRS_MAX_VALUE_OIDS)
            return malformed (error, "too many values");
          oid = oid_text (start, p + len, error);
          if (!oid)
            return FALSE;
          g_ptr_array_add (out, oid);
        }
      else if (cls == V_ASN1_UNIVERSAL && tag == V_ASN1_INTEGER && !cons && *ret_int < 0
               && len > 0 && len <= 4 && !(p[0] & 0x80))
        {
          /* A small non-negative INTEGER: RFC 8951 §4's RSA key size. */
          gint64 v = 0;

          for (long k = 0; k < len; k++)
            v = (v << 8) | p[k];
          *ret_int = v;
        }
      else if (cons)
        {
          if (!collect_oids (p, p + len, depth + 1, out, ret_int, error))
            return FALSE;
        }
      p += len;
    }
  return TRUE;
}

static KprEstCsrAttr *
parse_attribute (const unsigned char *p, const unsigned char *end, GError **error)
{
  g_autoptr (GPtrArray) values = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *type = NULL;
  const unsigned char *start = p;
  KprEstCsrAttr *attr;
  gint64 value_int = -1;
  long len;
  int tag, cls;
  gboolean cons;

  if (!read_header (&p, end, &len, &tag, &cls, &cons, error))
    return NULL;
  if (cls != V_ASN1_UNIVERSAL || tag != V_ASN1_OBJECT || cons)
    {
      malformed (error, "an attribute does not start with its type");
      return NULL;
    }
  type = oid_text (start, p + len, error);
  if (!type)
    return NULL;
  p += len;
  if (!read_header (&p, end, &len, &tag, &cls, &cons, error))
    return NULL;
  if (cls != V_ASN1_UNIVERSAL || tag != V_ASN1_SET || !cons || p + len != end)
    {
      malformed (error, "an attribute's values are not one SET");
      return NULL;
    }
  if (!collect_oids (p, end, 1, values, &value_int, error))
    return NULL;
  g_ptr_array_add (values, NULL);

  attr = g_new0 (KprEstCsrAttr, 1);
  attr->value_int = value_int;
  attr->oid = g_steal_pointer (&type);
  attr->is_attribute = TRUE;
  attr->value_oids = (GStrv) g_ptr_array_free (g_steal_pointer (&values), FALSE);
  return attr;
}

/* ---- what the entries ask for ------------------------------------------- */

#define OID_EC_PUBLIC_KEY "1.2.840.10045.2.1"
#define OID_RSA_ENCRYPTION "1.2.840.113549.1.1.1"

static void
set_str (char **slot, const char *value)
{
  if (!*slot)
    *slot = g_strdup (value);
}

static void
add_unique (GPtrArray *list, const char *oid)
{
  if (!g_ptr_array_find_with_equal_func (list, oid, g_str_equal, NULL))
    g_ptr_array_add (list, g_strdup (oid));
}

/* An OID naming a curve OpenSSL can make: its short name, else NULL. */
static const char *
curve_name (const char *oid)
{
  ASN1_OBJECT *obj = OBJ_txt2obj (oid, 1);
  int nid = obj ? OBJ_obj2nid (obj) : NID_undef;
  EC_GROUP *group = nid != NID_undef ? EC_GROUP_new_by_curve_name (nid) : NULL;
  const char *name = group ? OBJ_nid2sn (nid) : NULL;

  EC_GROUP_free (group);
  ASN1_OBJECT_free (obj);
  ERR_clear_error ();
  return name;
}

/* A hash or signature OID: the hash's name (and the key algorithm a
 * signature implies), else FALSE. */
static gboolean
digest_of (const char *oid, const char **ret_digest, const char **ret_algorithm)
{
  ASN1_OBJECT *obj = OBJ_txt2obj (oid, 1);
  int nid = obj ? OBJ_obj2nid (obj) : NID_undef;
  int md = NID_undef, pk = NID_undef;

  ASN1_OBJECT_free (obj);
  *ret_algorithm = NULL;
  if (nid == NID_undef)
    return FALSE;
  if (EVP_get_digestbynid (nid))
    md = nid;
  else if (!OBJ_find_sigid_algs (nid, &md, &pk) || md == NID_undef)
    return FALSE;
  if (md != NID_sha256 && md != NID_sha384 && md != NID_sha512)
    return FALSE; /* nothing weaker, nothing exotic */
  *ret_digest = OBJ_nid2sn (md);
  if (pk == NID_X9_62_id_ecPublicKey)
    *ret_algorithm = "EC";
  else if (pk == NID_rsaEncryption)
    *ret_algorithm = "RSA";
  return TRUE;
}

static gboolean
is_extension (const char *oid)
{
  return g_str_has_prefix (oid, "2.5.29.");
}

/* Fills the derived fields of @attrs from its entries. */
static void
interpret (KprEstCsrAttrs *attrs)
{
  g_autoptr (GPtrArray) exts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) other = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < attrs->attrs->len; i++)
    {
      const KprEstCsrAttr *a = g_ptr_array_index (attrs->attrs, i);
      const char *digest = NULL, *alg = NULL, *curve = NULL;

      if (g_str_equal (a->oid, KPR_OID_CHALLENGE_PASSWORD))
        continue;
      if (g_str_equal (a->oid, OID_EC_PUBLIC_KEY))
        {
          set_str (&attrs->key_algorithm, "EC");
          for (gsize k = 0; a->value_oids[k] && !attrs->curve; k++)
            if ((curve = curve_name (a->value_oids[k])))
              set_str (&attrs->curve, curve);
        }
      else if (g_str_equal (a->oid, OID_RSA_ENCRYPTION))
        {
          set_str (&attrs->key_algorithm, "RSA");
          if (a->value_int >= 1024 && a->value_int <= 16384 && !attrs->rsa_bits)
            attrs->rsa_bits = (guint) a->value_int;
        }
      else if (g_str_equal (a->oid, KPR_OID_EXTENSION_REQUEST))
        for (gsize k = 0; a->value_oids[k]; k++)
          add_unique (exts, a->value_oids[k]);
      else if (!a->is_attribute && (curve = curve_name (a->oid)))
        {
          set_str (&attrs->key_algorithm, "EC");
          set_str (&attrs->curve, curve);
        }
      else if (!a->is_attribute && digest_of (a->oid, &digest, &alg))
        {
          set_str (&attrs->digest, digest);
          if (alg)
            set_str (&attrs->key_algorithm, alg);
        }
      else if (!a->is_attribute && is_extension (a->oid))
        add_unique (exts, a->oid);
      else
        add_unique (other, a->oid);
    }
  /* A curve or size for the other algorithm than the one named is no
   * request at all. */
  if (attrs->key_algorithm && g_str_equal (attrs->key_algorithm, "RSA"))
    g_clear_pointer (&attrs->curve, g_free);
  g_ptr_array_add (exts, NULL);
  g_ptr_array_add (other, NULL);
  attrs->extensions = (GStrv) g_ptr_array_free (g_steal_pointer (&exts), FALSE);
  attrs->other = (GStrv) g_ptr_array_free (g_steal_pointer (&other), FALSE);
}

char *
kpr_est_csrattrs_key_name (const KprEstCsrAttrs *attrs)
{
  g_return_val_if_fail (attrs != NULL, NULL);

  if (!attrs->key_algorithm)
    return NULL;
  if (g_str_equal (attrs->key_algorithm, "RSA"))
    return attrs->rsa_bits ? g_strdup_printf ("rsa-%u", attrs->rsa_bits) : g_strdup ("rsa");
  if (!attrs->curve)
    return g_strdup ("ec");
  if (g_str_equal (attrs->curve, "prime256v1"))
    return g_strdup ("ec-p256");
  if (g_str_equal (attrs->curve, "secp384r1"))
    return g_strdup ("ec-p384");
  if (g_str_equal (attrs->curve, "secp521r1"))
    return g_strdup ("ec-p521");
  return g_strdup_printf ("ec-%s", attrs->curve);
}

gboolean
kpr_est_csrattrs_check_key (const KprEstCsrAttrs *attrs, EVP_PKEY *key, GError **error)
{
  g_autofree char *wanted = NULL;
  char group[64] = "";
  gboolean ok = TRUE;

  g_return_val_if_fail (attrs != NULL && key != NULL, FALSE);

  if (!attrs->key_algorithm)
    return TRUE;
  if (g_str_equal (attrs->key_algorithm, "EC"))
    {
      ok = EVP_PKEY_is_a (key, "EC");
      if (ok && attrs->curve)
        {
          int nid = NID_undef;

          ok = EVP_PKEY_get_group_name (key, group, sizeof group, NULL) == 1;
          nid = ok ? EC_curve_nist2nid (group) : NID_undef;
          if (nid == NID_undef)
            nid = OBJ_sn2nid (group);
          ok = ok && nid != NID_undef && g_str_equal (OBJ_nid2sn (nid), attrs->curve);
        }
    }
  else
    ok = EVP_PKEY_is_a (key, "RSA")
         && (!attrs->rsa_bits || EVP_PKEY_get_bits (key) == (int) attrs->rsa_bits);
  ERR_clear_error ();
  if (ok)
    return TRUE;
  wanted = kpr_est_csrattrs_key_name (attrs);
  g_set_error (error, KPR_ERROR, KPR_ERROR_UNSUPPORTED,
               "The server asks for a %s key (its CSR attributes), and this key is %s %d bits; "
               "make the key the server asks for (--key %s) on a token that can",
               wanted, EVP_PKEY_get0_type_name (key), EVP_PKEY_get_bits (key), wanted);
  return FALSE;
}

KprEstCsrAttrs *
kpr_est_csrattrs_parse (const guint8 *der, gsize len, GError **error)
{
  g_autoptr (KprEstCsrAttrs) attrs = NULL;
  const unsigned char *p = der;
  const unsigned char *end;
  long seq_len;
  int tag, cls;
  gboolean cons;

  g_return_val_if_fail (der != NULL || len == 0, NULL);

  if (len == 0 || len > KPR_EST_BODY_MAX)
    {
      malformed (error, "impossible size");
      return NULL;
    }
  end = der + len;
  if (!read_header (&p, end, &seq_len, &tag, &cls, &cons, error))
    return NULL;
  if (cls != V_ASN1_UNIVERSAL || tag != V_ASN1_SEQUENCE || !cons)
    {
      malformed (error, "not a SEQUENCE");
      return NULL;
    }
  if (p + seq_len != end)
    {
      malformed (error, "trailing bytes");
      return NULL;
    }

  attrs = g_new0 (KprEstCsrAttrs, 1);
  attrs->attrs = g_ptr_array_new_with_free_func (csr_attr_free);
  while (p < end)
    {
      const unsigned char *start = p;
      KprEstCsrAttr *attr;
      long item_len;

      if (attrs->attrs->len >= CSRATTRS_MAX_ENTRIES)
        {
          malformed (error, "too many entries");
          return NULL;
        }
      if (!read_header (&p, end, &item_len, &tag, &cls, &cons, error))
        return NULL;
      if (cls == V_ASN1_UNIVERSAL && tag == V_ASN1_OBJECT && !cons)
        {
          char *oid = oid_text (start, p + item_len, error);

          if (!oid)
            return NULL;
          attr = g_new0 (KprEstCsrAttr, 1);
          attr->oid = oid;
          attr->value_oids = g_new0 (char *, 1);
          attr->value_int = -1;
        }
      else if (cls == V_ASN1_UNIVERSAL && tag == V_ASN1_SEQUENCE && cons)
        {
          attr = parse_attribute (p, p + item_len, error);
          if (!attr)
            return NULL;
        }
      else
        {
          malformed (error, "an entry is neither an OID nor an attribute");
          return NULL;
        }
      g_ptr_array_add (attrs->attrs, attr);
      if (g_str_equal (attr->oid, KPR_OID_CHALLENGE_PASSWORD))
        attrs->challenge_password = TRUE;
      p += item_len;
    }
  interpret (attrs);
  return g_steal_pointer (&attrs);
}

gboolean
kpr_est_csrattrs_has (const KprEstCsrAttrs *attrs, const char *oid)
{
  guint i;

  g_return_val_if_fail (attrs != NULL && oid != NULL, FALSE);

  for (i = 0; i < attrs->attrs->len; i++)
    {
      const KprEstCsrAttr *attr = g_ptr_array_index (attrs->attrs, i);

      if (g_str_equal (attr->oid, oid))
        return TRUE;
    }
  return FALSE;
}

GBytes *
kpr_est_csrattrs_build (const char *const *oids, GError **error)
{
  g_autoptr (GByteArray) content = g_byte_array_new ();
  unsigned char *out, *p;
  int total;
  gsize i;

  for (i = 0; oids && oids[i]; i++)
    {
      ASN1_OBJECT *obj = OBJ_txt2obj (oids[i], 1);
      unsigned char *der = NULL;
      int n;

      if (!obj)
        {
          g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT,
                       "“%s” is not a dotted object identifier", oids[i]);
          return NULL;
        }
      n = i2d_ASN1_OBJECT (obj, &der);
      ASN1_OBJECT_free (obj);
      if (n <= 0)
        {
          g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL,
                       "Cannot encode object identifier %s", oids[i]);
          return NULL;
        }
      g_byte_array_append (content, der, (guint) n);
      OPENSSL_free (der);
    }

  total = ASN1_object_size (1, (int) content->len, V_ASN1_SEQUENCE);
  if (total <= 0)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "Cannot size the CSR attributes");
      return NULL;
    }
  out = g_malloc ((gsize) total);
  p = out;
  ASN1_put_object (&p, 1, (int) content->len, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
  if (content->len)
    memcpy (p, content->data, content->len);
  return g_bytes_new_take (out, (gsize) total);
}
