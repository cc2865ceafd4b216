/* broken-module.c — a PKCS#11 module that cannot be started, for the tests
 * of issue 13, item 11 (a registered module that crashes or hangs must not
 * stop certkeeper).  A stand-in for a fault no real module here produces on
 * demand: built twice, with KPR_BROKEN_HANG its C_Initialize sleeps
 * forever, without it C_Initialize calls abort().  Every other function
 * says CKR_FUNCTION_NOT_SUPPORTED.  Test-only: not installed.
 */
#include <stdlib.h>
#include <unistd.h>

#include <p11-kit/pkcs11.h>

static CK_RV
broken_initialize (CK_VOID_PTR args)
{
  (void) args;
#ifdef KPR_BROKEN_HANG
  for (;;)
    pause ();
#else
  abort ();
#endif
  return CKR_GENERAL_ERROR;
}

static CK_RV
not_supported (void)
{
  return CKR_FUNCTION_NOT_SUPPORTED;
}

static CK_FUNCTION_LIST functions;

CK_RV
C_GetFunctionList (CK_FUNCTION_LIST_PTR_PTR list)
{
  /* Every entry answers CKR_FUNCTION_NOT_SUPPORTED whatever its arguments
   * (the x86-64 calling convention lets a no-argument function stand in),
   * except C_Initialize and C_GetFunctionList. */
  void (**slot) (void) = (void (**) (void)) &functions.C_Initialize;
  void (**end) (void) = (void (**) (void)) (&functions.C_WaitForSlotEvent + 1);

  if (!list)
    return CKR_ARGUMENTS_BAD;
  for (; slot < end; slot++)
    *slot = (void (*) (void)) not_supported;
  functions.version.major = 2;
  functions.version.minor = 40;
  functions.C_Initialize = broken_initialize;
  functions.C_GetFunctionList = C_GetFunctionList;
  *list = &functions;
  return CKR_OK;
}
