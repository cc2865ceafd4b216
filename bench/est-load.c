/* est-load.c — a load generator for certkeeper-ca simpleenroll (bench only,
 * never built by the main meson project).
 *
 * Every key and CSR (EC P-256) is made before the clock starts, so the
 * timed part is HTTP + TLS + the server.  C client threads each own one
 * libcurl easy handle and take the next request from a shared counter.
 *
 *   --mode fresh      a new TCP connection and a full TLS handshake per
 *                     request (no connection reuse, no session resumption)
 *   --mode keepalive  each thread keeps its connection (HTTP/1.1 reuse)
 *
 * --creds FILE holds one "USER:CODE" line per request (enrollment codes from
 * `certkeeper-ca code`); line i is used by request i.
 *
 * Output: one line of key=value pairs (requests/s, latency median/p95/p99,
 * the client's own CPU time).  Exit 1 when any request did not get 200.
 */
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

typedef struct
{
  char *user;
  char *code;
  char *body; /* base64 DER CSR, LF-terminated */
  double latency_ms;
  long status;
} Req;

static Req *reqs;
static int n_reqs;
static atomic_int next_req;
static const char *url, *cacert;
static int fresh;
static double deadline;

static double
now_s (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static size_t
discard (char *p, size_t s, size_t n, void *u)
{
  (void) p;
  (void) u;
  return s * n;
}

static char *
make_csr_b64 (void)
{
  EVP_PKEY *key = EVP_PKEY_Q_keygen (NULL, NULL, "EC", "P-256");
  X509_REQ *req = X509_REQ_new ();
  X509_NAME *name = X509_NAME_new ();
  unsigned char *der = NULL;
  int len;
  char *out;

  if (!key || !req || !name
      || !X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_ASC, (const unsigned char *) "bench", -1, -1, 0)
      || !X509_REQ_set_subject_name (req, name) || !X509_REQ_set_pubkey (req, key)
      || !X509_REQ_sign (req, key, EVP_sha256 ()) || (len = i2d_X509_REQ (req, &der)) <= 0)
    {
      fprintf (stderr, "est-load: cannot make a CSR\n");
      exit (2);
    }
  out = malloc (4 * ((len + 2) / 3) + 2);
  len = EVP_EncodeBlock ((unsigned char *) out, der, len);
  out[len] = '\n';
  out[len + 1] = '\0';
  OPENSSL_free (der);
  X509_NAME_free (name);
  X509_REQ_free (req);
  EVP_PKEY_free (key);
  return out;
}

static void *
worker (void *arg)
{
  CURL *h = curl_easy_init ();
  struct curl_slist *hdr = curl_slist_append (NULL, "Content-Type: application/pkcs10");
  int i;

  (void) arg;
  while ((i = atomic_fetch_add (&next_req, 1)) < n_reqs)
    {
      Req *r = &reqs[i];
      double t0;

      if (now_s () > deadline)
        break;
      if (fresh)
        {
          /* A brand-new handle: no connection, no TLS session to resume. */
          curl_easy_cleanup (h);
          h = curl_easy_init ();
        }
      curl_easy_setopt (h, CURLOPT_URL, url);
      curl_easy_setopt (h, CURLOPT_CAINFO, cacert);
      curl_easy_setopt (h, CURLOPT_NOSIGNAL, 1L);
      curl_easy_setopt (h, CURLOPT_TIMEOUT, 60L);
      curl_easy_setopt (h, CURLOPT_HTTPHEADER, hdr);
      curl_easy_setopt (h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
      curl_easy_setopt (h, CURLOPT_USERNAME, r->user);
      curl_easy_setopt (h, CURLOPT_PASSWORD, r->code);
      curl_easy_setopt (h, CURLOPT_POSTFIELDS, r->body);
      curl_easy_setopt (h, CURLOPT_WRITEFUNCTION, discard);
      if (fresh)
        {
          curl_easy_setopt (h, CURLOPT_FRESH_CONNECT, 1L);
          curl_easy_setopt (h, CURLOPT_FORBID_REUSE, 1L);
          curl_easy_setopt (h, CURLOPT_SSL_SESSIONID_CACHE, 0L);
        }
      t0 = now_s ();
      if (curl_easy_perform (h) == CURLE_OK)
        curl_easy_getinfo (h, CURLINFO_RESPONSE_CODE, &r->status);
      else
        r->status = -1;
      r->latency_ms = (now_s () - t0) * 1000.0;
    }
  curl_easy_cleanup (h);
  curl_slist_free_all (hdr);
  return NULL;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static double
cpu_s (void)
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec
         + ru.ru_stime.tv_usec / 1e6;
}

int
main (int argc, char **argv)
{
  const char *creds = NULL, *mode = "fresh";
  int clients = 1, max_seconds = 120;
  char line[512];
  FILE *f;
  pthread_t *th;
  double t0, t1, c0, c1, *lat;
  int done = 0, ok = 0;

  n_reqs = 0;
  for (int a = 1; a + 1 < argc; a += 2)
    {
      if (!strcmp (argv[a], "--url")) url = argv[a + 1];
      else if (!strcmp (argv[a], "--cacert")) cacert = argv[a + 1];
      else if (!strcmp (argv[a], "--creds")) creds = argv[a + 1];
      else if (!strcmp (argv[a], "--clients")) clients = atoi (argv[a + 1]);
      else if (!strcmp (argv[a], "--requests")) n_reqs = atoi (argv[a + 1]);
      else if (!strcmp (argv[a], "--mode")) mode = argv[a + 1];
      else if (!strcmp (argv[a], "--max-seconds")) max_seconds = atoi (argv[a + 1]);
      else { fprintf (stderr, "est-load: unknown option %s\n", argv[a]); return 2; }
    }
  if (!url || !cacert || !creds || n_reqs <= 0 || clients <= 0)
    {
      fprintf (stderr, "usage: est-load --url URL --cacert CA.pem --creds FILE --requests N"
                       " [--clients C] [--mode fresh|keepalive] [--max-seconds S]\n");
      return 2;
    }
  fresh = strcmp (mode, "keepalive") != 0;
  reqs = calloc (n_reqs, sizeof *reqs);
  if (!(f = fopen (creds, "r")))
    { perror (creds); return 2; }
  for (int i = 0; i < n_reqs; i++)
    {
      char *colon;
      if (!fgets (line, sizeof line, f) || !(colon = strchr (line, ':')))
        { fprintf (stderr, "est-load: %s has fewer than %d USER:CODE lines\n", creds, n_reqs); return 2; }
      line[strcspn (line, "\r\n")] = '\0';
      *colon = '\0';
      reqs[i].user = strdup (line);
      reqs[i].code = strdup (colon + 1);
      reqs[i].body = make_csr_b64 ();
    }
  fclose (f);
  curl_global_init (CURL_GLOBAL_ALL);
  th = calloc (clients, sizeof *th);
  deadline = now_s () + max_seconds;
  c0 = cpu_s ();
  t0 = now_s ();
  for (int i = 0; i < clients; i++)
    pthread_create (&th[i], NULL, worker, NULL);
  for (int i = 0; i < clients; i++)
    pthread_join (th[i], NULL);
  t1 = now_s ();
  c1 = cpu_s ();
  lat = calloc (n_reqs, sizeof *lat);
  for (int i = 0; i < n_reqs; i++)
    {
      if (reqs[i].status == 0 && reqs[i].latency_ms == 0)
        continue; /* not sent (deadline) */
      lat[done++] = reqs[i].latency_ms;
      if (reqs[i].status == 200)
        ok++;
      else if (done - ok <= 3)
        fprintf (stderr, "est-load: request %d got status %ld\n", i, reqs[i].status);
    }
  qsort (lat, done, sizeof *lat, cmp_double);
  printf ("mode=%s clients=%d sent=%d ok=%d wall_s=%.3f req_per_s=%.1f"
          " p50_ms=%.2f p95_ms=%.2f p99_ms=%.2f max_ms=%.2f client_cpu_s=%.3f"
          " client_cpu_ms_per_req=%.3f\n",
          mode, clients, done, ok, t1 - t0, ok / (t1 - t0), done ? lat[done / 2] : 0,
          done ? lat[(int) (done * 0.95)] : 0, done ? lat[(int) (done * 0.99)] : 0,
          done ? lat[done - 1] : 0, c1 - c0, done ? (c1 - c0) * 1000 / done : 0);
  curl_global_cleanup ();
  return ok == done && done == n_reqs ? 0 : 1;
}
