/* softhsm-cost.c — what one PKCS#11 call costs a SoftHSM token as the number
 * of objects on it grows: the floor under any renewal that searches the
 * token (bench/README.md, issue 11 item 6).
 *
 *   cc -O2 -std=gnu17 bench/softhsm-cost.c -o /tmp/softhsm-cost $(pkg-config --cflags p11-kit-1) -ldl
 *   softhsm2-util --init-token --free --label cost --pin 1234 --so-pin 12345678   (SOFTHSM2_CONF set)
 *   /tmp/softhsm-cost /usr/lib/softhsm/libsofthsm2.so N PIN
 *
 * Fills the token's first slot up to N "identities" (an EC P-256 key pair
 * and a 600-byte data object each, 3 objects like certkeeper's key pair +
 * certificate), then times, averaged over 20 runs (5 for key generation):
 * a C_FindObjects by CKA_CLASS + CKA_ID, one attribute read, a walk over
 * every private key reading two attributes of each (what libp11's
 * PKCS11_enumerate_keys does, more or less), an ECDSA signature, a session
 * opened and closed, a key pair generated and destroyed, a data object
 * created and destroyed, a label set.  Wall and
 * process CPU time in ms per call.  A throwaway token: it is not cleaned.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <p11-kit/pkcs11.h>

static CK_FUNCTION_LIST *f;

static double
ms (clockid_t clock)
{
  struct timespec t;
  clock_gettime (clock, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

#define CK(x)                                                                                    \
  do                                                                                             \
    {                                                                                            \
      CK_RV r_ = (x);                                                                            \
      if (r_ != CKR_OK)                                                                          \
        {                                                                                        \
          fprintf (stderr, "%s: 0x%lx\n", #x, (unsigned long) r_);                               \
          exit (1);                                                                              \
        }                                                                                        \
    }                                                                                            \
  while (0)

#define TIME(label, runs, ...)                                                                   \
  do                                                                                             \
    {                                                                                            \
      double w_ = ms (CLOCK_MONOTONIC), c_ = ms (CLOCK_PROCESS_CPUTIME_ID);                      \
      for (int r_ = 0; r_ < (runs); r_++)                                                        \
        {                                                                                        \
          __VA_ARGS__;                                                                           \
        }                                                                                        \
      printf ("%-56s %9.3f ms wall %9.3f ms CPU\n", label, (ms (CLOCK_MONOTONIC) - w_) / (runs),  \
              (ms (CLOCK_PROCESS_CPUTIME_ID) - c_) / (runs));                                    \
    }                                                                                            \
  while (0)

static const unsigned char p256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };

static void
generate (CK_SESSION_HANDLE s, unsigned char *id, CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv)
{
  CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
  CK_MECHANISM m = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
  CK_ATTRIBUTE pt[] = { { CKA_TOKEN, &yes, 1 }, { CKA_EC_PARAMS, (void *) p256, sizeof p256 },
                        { CKA_ID, id, 20 }, { CKA_VERIFY, &yes, 1 } };
  CK_ATTRIBUTE kt[] = { { CKA_TOKEN, &yes, 1 }, { CKA_PRIVATE, &yes, 1 }, { CKA_SIGN, &yes, 1 },
                        { CKA_SENSITIVE, &yes, 1 }, { CKA_EXTRACTABLE, &no, 1 }, { CKA_ID, id, 20 } };
  CK (f->C_GenerateKeyPair (s, &m, pt, 4, kt, 6, pub, priv));
}

/* A 600-byte data object on the token (the size of a certificate). */
static CK_OBJECT_HANDLE
make_data (CK_SESSION_HANDLE s)
{
  CK_OBJECT_CLASS data = CKO_DATA;
  CK_BBOOL yes = CK_TRUE;
  unsigned char value[600] = { 0 };
  CK_ATTRIBUTE dt[] = { { CKA_CLASS, &data, sizeof data }, { CKA_TOKEN, &yes, 1 },
                        { CKA_VALUE, value, sizeof value }, { CKA_LABEL, "x", 1 } };
  CK_OBJECT_HANDLE d;

  CK (f->C_CreateObject (s, dt, 4, &d));
  return d;
}

/* Objects of @cls (with CKA_ID @id unless NULL), at most @max. */
static CK_ULONG
find (CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls, unsigned char *id, CK_OBJECT_HANDLE *out,
      CK_ULONG max)
{
  CK_ATTRIBUTE t[] = { { CKA_CLASS, &cls, sizeof cls }, { CKA_ID, id, 20 } };
  CK_ULONG n = 0;

  CK (f->C_FindObjectsInit (s, t, id ? 2 : 1));
  CK (f->C_FindObjects (s, out, max, &n));
  CK (f->C_FindObjectsFinal (s));
  return n;
}

static void
make_id (unsigned char id[20], int i)
{
  memset (id, 0, 20);
  memcpy (id, &i, sizeof i);
}

int
main (int argc, char **argv)
{
  static CK_OBJECT_HANDLE objs[8192];
  CK_C_INITIALIZE_ARGS init = { .flags = CKF_OS_LOCKING_OK };
  CK_C_GetFunctionList get_list;
  CK_SLOT_ID slots[8];
  CK_ULONG n_slots = 8, all = 0, have, kt, len;
  CK_SESSION_HANDLE s, s2;
  CK_OBJECT_HANDLE pub, priv;
  CK_MECHANISM ecdsa = { CKM_ECDSA, NULL, 0 };
  CK_ATTRIBUTE type_attr = { CKA_KEY_TYPE, &kt, sizeof kt };
  unsigned char id[20], digest[32] = { 1 }, sig[132];
  void *module;
  int n;

  if (argc != 4 || (n = atoi (argv[2])) < 1 || n > 2500)
    {
      fprintf (stderr, "usage: %s MODULE N(1-2500) PIN\n", argv[0]);
      return 2;
    }
  if (!(module = dlopen (argv[1], RTLD_NOW))
      || !(get_list = (CK_C_GetFunctionList) dlsym (module, "C_GetFunctionList")))
    {
      fprintf (stderr, "%s: not a PKCS#11 module\n", argv[1]);
      return 1;
    }
  CK (get_list (&f));
  /* What every process that uses the token pays once (SoftHSM reads the
   * token's objects when it starts); timed from the second run on, when
   * the token already holds what the previous run left. */
  TIME ("C_Initialize + C_OpenSession + C_Login (once per process)", 1, {
    CK (f->C_Initialize (&init));
    CK (f->C_GetSlotList (CK_TRUE, slots, &n_slots));
    CK (f->C_OpenSession (slots[0], CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s));
    CK (f->C_Login (s, CKU_USER, (CK_UTF8CHAR *) argv[3], strlen (argv[3])));
  });

  have = find (s, CKO_PRIVATE_KEY, NULL, objs, 8192);
  for (int i = (int) have; i < n; i++)
    {
      make_id (id, i);
      generate (s, id, &pub, &priv);
      make_data (s);
    }
  CK (f->C_FindObjectsInit (s, NULL, 0));
  CK (f->C_FindObjects (s, objs, 8192, &all));
  CK (f->C_FindObjectsFinal (s));
  printf ("objects on the token: %lu\n", (unsigned long) all);

  make_id (id, n / 2);
  TIME ("C_FindObjects* (CKA_CLASS private key + CKA_ID)", 20,
        if (find (s, CKO_PRIVATE_KEY, id, objs, 2) != 1) abort ());
  find (s, CKO_PRIVATE_KEY, id, &priv, 1);
  TIME ("C_GetAttributeValue (CKA_KEY_TYPE) of one object", 20,
        CK (f->C_GetAttributeValue (s, priv, &type_attr, 1)));
  TIME ("every private key, CKA_ID + CKA_KEY_TYPE of each", 20, {
    CK_ULONG keys = find (s, CKO_PRIVATE_KEY, NULL, objs, 8192);
    for (CK_ULONG k = 0; k < keys; k++)
      {
        unsigned char b[64];
        CK_ATTRIBUTE two[] = { { CKA_ID, b, sizeof b }, { CKA_KEY_TYPE, &kt, sizeof kt } };
        CK (f->C_GetAttributeValue (s, objs[k], two, 2));
      }
  });
  TIME ("C_SignInit + C_Sign (ECDSA P-256)", 20, {
    len = sizeof sig;
    CK (f->C_SignInit (s, &ecdsa, priv));
    CK (f->C_Sign (s, digest, sizeof digest, sig, &len));
  });
  TIME ("C_OpenSession + C_CloseSession", 20, {
    CK (f->C_OpenSession (slots[0], CKF_SERIAL_SESSION, NULL, NULL, &s2));
    CK (f->C_CloseSession (s2));
  });
  TIME ("C_GenerateKeyPair (EC P-256) + C_DestroyObject x2", 5, {
    unsigned char other[20] = { 0xff, 0xfe };
    generate (s, other, &pub, &priv);
    CK (f->C_DestroyObject (s, pub));
    CK (f->C_DestroyObject (s, priv));
  });
  TIME ("C_CreateObject (600-byte data object) + C_DestroyObject", 5,
        CK (f->C_DestroyObject (s, make_data (s))));
  find (s, CKO_PRIVATE_KEY, id, &priv, 1);
  TIME ("C_SetAttributeValue (CKA_LABEL) of one object", 10, {
    CK_ATTRIBUTE label = { CKA_LABEL, "relabelled", 10 };
    CK (f->C_SetAttributeValue (s, priv, &label, 1));
  });
  f->C_Finalize (NULL);
  return 0;
}
