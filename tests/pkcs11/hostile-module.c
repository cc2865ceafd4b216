/* hostile-module.c — a PKCS#11 module that forwards to SoftHSM and lies.
 *
 * A stand-in only for faults the real SoftHSM cannot produce:
 *   KPR_SHIM_TOKEN_FLAGS=N   adds N to CK_TOKEN_INFO.flags (SoftHSM has no
 *                            PIN lockout, so no FINAL_TRY / LOCKED flags);
 *   KPR_SHIM_OVERSIZE=1      reports a 1 GiB CKA_VALUE length (a broken or
 *                            malicious card driver).
 * KPR_SOFTHSM_MODULE names the real module.  Test-only: not installed.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include <p11-kit/pkcs11.h>

static CK_FUNCTION_LIST real;
static CK_FUNCTION_LIST shim;

static CK_RV
shim_get_token_info (CK_SLOT_ID slot, CK_TOKEN_INFO *info)
{
  CK_RV rv = real.C_GetTokenInfo (slot, info);
  const char *extra = getenv ("KPR_SHIM_TOKEN_FLAGS");

  if (rv == CKR_OK && extra)
    info->flags |= strtoul (extra, NULL, 0);
  return rv;
}

static CK_RV
shim_get_attribute_value (CK_SESSION_HANDLE session, CK_OBJECT_HANDLE obj,
                          CK_ATTRIBUTE *tmpl, CK_ULONG count)
{
  CK_RV rv = real.C_GetAttributeValue (session, obj, tmpl, count);

  if (rv == CKR_OK && getenv ("KPR_SHIM_OVERSIZE"))
    for (CK_ULONG i = 0; i < count; i++)
      if (tmpl[i].type == CKA_VALUE && tmpl[i].pValue == NULL)
        tmpl[i].ulValueLen = 1UL << 30;
  return rv;
}

CK_RV C_GetFunctionList (CK_FUNCTION_LIST_PTR_PTR list);

CK_RV
C_GetFunctionList (CK_FUNCTION_LIST_PTR_PTR list)
{
  const char *path = getenv ("KPR_SOFTHSM_MODULE");
  CK_C_GetFunctionList get;
  CK_FUNCTION_LIST *fn;
  void *handle;

  if (!path || !(handle = dlopen (path, RTLD_NOW | RTLD_LOCAL)))
    return CKR_GENERAL_ERROR;
  get = (CK_C_GetFunctionList) dlsym (handle, "C_GetFunctionList");
  if (!get || get (&fn) != CKR_OK)
    return CKR_GENERAL_ERROR;
  real = *fn;
  shim = *fn;
  shim.C_GetTokenInfo = shim_get_token_info;
  shim.C_GetAttributeValue = shim_get_attribute_value;
  *list = &shim;
  return CKR_OK;
}
