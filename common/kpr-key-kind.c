/* kpr-key-kind.c — the names of key types, protections and backup presets
 * (kpr-key-kind.h): one table each, so the command line, the records, the
 * config files and the window all say the same. */
#include "config.h"

#include "kpr-key-kind.h"

static const struct {
  KprKeyType type;
  const char *name;  /* command line, records, config files */
  const char *title; /* for a person */
} key_types[] = {
  { KPR_KEY_EC_P256, "ec-p256", "EC P-256" },
  { KPR_KEY_EC_P384, "ec-p384", "EC P-384" },
  { KPR_KEY_RSA_2048, "rsa-2048", "RSA 2048" },
  { KPR_KEY_RSA_3072, "rsa-3072", "RSA 3072" },
};

const char *
kpr_key_type_to_string (KprKeyType type)
{
  for (gsize i = 0; i < G_N_ELEMENTS (key_types); i++)
    if (key_types[i].type == type)
      return key_types[i].name;
  return "unknown";
}

const char *
kpr_key_type_title (KprKeyType type)
{
  for (gsize i = 0; i < G_N_ELEMENTS (key_types); i++)
    if (key_types[i].type == type)
      return key_types[i].title;
  return "unknown";
}

gboolean
kpr_key_type_from_string (const char *text, KprKeyType *ret_type)
{
  for (gsize i = 0; i < G_N_ELEMENTS (key_types); i++)
    if (g_strcmp0 (key_types[i].name, text) == 0)
      {
        *ret_type = key_types[i].type;
        return TRUE;
      }
  return FALSE;
}

const char *
kpr_protection_to_string (KprProtection protection)
{
  switch (protection)
    {
    case KPR_PROTECTION_STANDARD:
      return "standard";
    case KPR_PROTECTION_STRONG:
      return "strong";
    case KPR_PROTECTION_EXPORTABLE:
      return "exportable";
    default:
      return "unknown";
    }
}

gboolean
kpr_protection_from_string (const char *text, KprProtection *ret_protection)
{
  for (KprProtection p = KPR_PROTECTION_STANDARD; p <= KPR_PROTECTION_EXPORTABLE; p++)
    if (g_strcmp0 (kpr_protection_to_string (p), text) == 0)
      {
        *ret_protection = p;
        return TRUE;
      }
  return FALSE;
}
