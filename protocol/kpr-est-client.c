/* kpr-est-client.c — the EST client object and its HTTPS transport.
 *
 * Trust is explicit (RFC 7030 §3.6): the server is verified only against
 * the anchors the person confirmed, never against the system store, and no
 * credential is handed to libcurl before an anchor is set.  Bodies are
 * capped while they arrive; redirects are followed by hand so that one to
 * another origin is refused before anything is sent there.
 */
#include "config.h"

#include "kpr-est-private.h"
#include "kpr-http-private.h"

#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#define MAX_REDIRECTS 3

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CURLU, curl_url_cleanup)

static void
drop_handle (KprEstClient *client)
{
  g_clear_pointer (&client->easy, curl_easy_cleanup);
}

static gboolean
label_valid (const char *label)
{
  static const char *const ops[] = { "cacerts", "simpleenroll", "simplereenroll", "fullcmc",
                                     "serverkeygen", "csrattrs", "challenge", "revoke", NULL };
  gsize i, n = strlen (label);

  if (n == 0 || n > 64)
    return FALSE;
  for (i = 0; i < n; i++)
    if (!g_ascii_isalnum (label[i]) && !strchr ("-._~", label[i]))
      return FALSE;
  /* RFC 7030 §3.2.2: a label must not look like an operation. */
  return !g_strv_contains (ops, label) && !g_str_equal (label, ".") && !g_str_equal (label, "..");
}

/* Splits an https URL into lower-cased host and port.  Only the origin
 * part is accepted: user info, query and fragment are refused. */
static gboolean
parse_origin (const char *url, gboolean allow_path, char **ret_host, int *ret_port,
              char **ret_path, GError **error)
{
  g_autoptr (CURLU) u = curl_url ();
  g_autofree char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
  char *extra = NULL;

  if (!u || curl_url_set (u, CURLUPART_URL, url, 0) != CURLUE_OK
      || curl_url_get (u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK
      || curl_url_get (u, CURLUPART_HOST, &host, 0) != CURLUE_OK
      || curl_url_get (u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT, "“%s” is not a server URL", url);
      return FALSE;
    }
  curl_url_get (u, CURLUPART_PATH, &path, 0);
  if (g_ascii_strcasecmp (scheme, "https") != 0)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT,
                   "The server URL must start with https:// (EST runs over TLS only)");
      return FALSE;
    }
  if (curl_url_get (u, CURLUPART_USER, &extra, 0) == CURLUE_OK
      || curl_url_get (u, CURLUPART_QUERY, &extra, 0) == CURLUE_OK
      || curl_url_get (u, CURLUPART_FRAGMENT, &extra, 0) == CURLUE_OK
      || (!allow_path && path && !g_str_equal (path, "/")))
    {
      curl_free (extra);
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT,
                   "The server URL must be just https://HOST[:PORT] (use --label for a CA label)");
      return FALSE;
    }
  *ret_host = g_ascii_strdown (host, -1);
  *ret_port = atoi (port);
  if (ret_path)
    *ret_path = g_strdup (path ? path : "/");
  curl_free (scheme);
  curl_free (host);
  curl_free (port);
  curl_free (path);
  scheme = host = port = path = NULL;
  return TRUE;
}

KprEstClient *
kpr_est_client_new (const char *base_url, const char *label, GError **error)
{
  KprEstClient *client;
  char *host = NULL;
  int port = 0;

  g_return_val_if_fail (base_url != NULL, NULL);

  if (!kpr_http_init (error))
    return NULL;
  if (label && !label_valid (label))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT,
                   "“%s” cannot be a CA label (letters, digits and -._~, not an operation name)",
                   label);
      return NULL;
    }
  if (!parse_origin (base_url, FALSE, &host, &port, NULL, error))
    return NULL;
  if (port <= 0 || port > 65535)
    {
      g_free (host);
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT, "Bad port in “%s”", base_url);
      return NULL;
    }

  client = g_new0 (KprEstClient, 1);
  client->host = host;
  client->port = port;
  /* IPv6 literals may come back from CURLU with or without brackets. */
  client->origin = strchr (host, ':') && host[0] != '['
                     ? g_strdup_printf ("https://[%s]:%d", host, port)
                     : g_strdup_printf ("https://%s:%d", host, port);
  client->prefix = label ? g_strdup_printf ("/.well-known/est/%s/", label)
                         : g_strdup ("/.well-known/est/");
  client->connect_timeout = KPR_EST_CONNECT_TIMEOUT;
  client->total_timeout = KPR_EST_TOTAL_TIMEOUT;
  return client;
}

void
kpr_est_client_free (KprEstClient *client)
{
  if (!client)
    return;
  drop_handle (client);
  g_free (client->origin);
  g_free (client->host);
  g_free (client->prefix);
  g_clear_pointer (&client->anchors, kpr_x509_stack_free);
  g_free (client->anchors_pem);
  g_free (client->request_id);
  g_free (client->auth_offered);
  g_strfreev (client->unmet);
  g_clear_pointer (&client->client_cert, X509_free);
  g_clear_pointer (&client->client_key, EVP_PKEY_free);
  g_clear_pointer (&client->client_chain, kpr_x509_stack_free);
  g_free (client);
}

gboolean
kpr_est_client_set_trust_anchors (KprEstClient *client, KprX509Stack *anchors, GError **error)
{
  g_autoptr (BIO) bio = BIO_new (BIO_s_mem ());
  g_autoptr (KprX509Stack) copy = NULL;
  char *data = NULL;
  long n;
  int i;

  g_return_val_if_fail (client != NULL && anchors != NULL, FALSE);

  if (sk_X509_num (anchors) <= 0)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT, "No trust anchor given");
      return FALSE;
    }
  copy = X509_chain_up_ref (anchors);
  for (i = 0; bio && copy && i < sk_X509_num (anchors); i++)
    if (!PEM_write_bio_X509 (bio, sk_X509_value (anchors, i)))
      break;
  if (!bio || !copy || i < sk_X509_num (anchors))
    {
      g_autofree char *detail = kpr_ossl_error_string ();
      g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "Cannot keep the trust anchors (%s)",
                   detail);
      return FALSE;
    }
  n = BIO_get_mem_data (bio, &data);
  drop_handle (client);
  g_clear_pointer (&client->anchors, kpr_x509_stack_free);
  g_free (client->anchors_pem);
  client->anchors = g_steal_pointer (&copy);
  client->anchors_pem = g_strndup (data, (gsize) n);
  return TRUE;
}

void
kpr_est_client_set_client_cert (KprEstClient *client, X509 *cert, EVP_PKEY *key,
                                KprX509Stack *chain)
{
  g_return_if_fail (client != NULL);
  g_return_if_fail ((cert == NULL) == (key == NULL));

  drop_handle (client);
  g_clear_pointer (&client->client_cert, X509_free);
  g_clear_pointer (&client->client_key, EVP_PKEY_free);
  g_clear_pointer (&client->client_chain, kpr_x509_stack_free);
  if (cert)
    {
      X509_up_ref (cert);
      EVP_PKEY_up_ref (key);
      client->client_cert = cert;
      client->client_key = key;
      client->client_chain = chain ? X509_chain_up_ref (chain) : NULL;
    }
}

void
kpr_est_client_set_timeouts (KprEstClient *client, guint connect_s, guint total_s)
{
  g_return_if_fail (client != NULL);
  if (connect_s)
    client->connect_timeout = connect_s;
  if (total_s)
    client->total_timeout = total_s;
}

long
kpr_est_client_get_http_status (KprEstClient *client)
{
  g_return_val_if_fail (client != NULL, 0);
  return client->last_status;
}

guint
kpr_est_client_get_retry_after (KprEstClient *client)
{
  g_return_val_if_fail (client != NULL, 0);
  return client->retry_after;
}

const char *
kpr_est_client_get_request_id (KprEstClient *client)
{
  g_return_val_if_fail (client != NULL, NULL);
  return client->request_id;
}

KprEstRefusal
kpr_est_client_get_refusal (KprEstClient *client)
{
  g_return_val_if_fail (client != NULL, KPR_EST_REFUSAL_NONE);
  return client->refusal;
}

const char *
kpr_est_client_get_auth_offered (KprEstClient *client)
{
  g_return_val_if_fail (client != NULL, NULL);
  return client->auth_offered;
}

const char *
kpr_est_client_get_tls_version (KprEstClient *client)
{
  g_return_val_if_fail (client != NULL, NULL);
  return client->tls_version[0] ? client->tls_version : NULL;
}

void
kpr_est_response_clear (KprEstResponse *resp)
{
  g_clear_pointer (&resp->media_type, g_free);
  g_clear_pointer (&resp->content_type, g_free);
  g_clear_pointer (&resp->auth_offered, g_free);
  g_clear_pointer (&resp->body, g_byte_array_unref);
  memset (resp, 0, sizeof *resp);
}

typedef struct {
  KprHttpSink http;
  char *location;
  KprEstClient *client;
  CURL *easy;
  gboolean secret_word; /* Certkeeper-Secret-Word: one-time */
  char *challenge;      /* the first WWW-Authenticate scheme named */
} Sink;

static void record_tls (KprEstClient *client, CURL *easy);

/* A body we will not hand out may still hold a server-generated key. */
static void
discard_body (GByteArray *body)
{
  kpr_memory_erase (body->data, body->len);
  g_byte_array_unref (body);
}

/* Keeps the Location header of the current answer.  libcurl's own
 * CURLINFO_REDIRECT_URL is not used: it carries the Basic credentials in
 * its user-info part. */
static size_t
header_cb (char *data, size_t size, size_t nmemb, void *user)
{
  Sink *sink = user;
  gsize n = size * nmemb;

  if (n >= 5 && g_str_has_prefix (data, "HTTP/"))
    {
      /* A new answer (after 1xx, or the 401 that started authentication). */
      g_clear_pointer (&sink->location, g_free);
      g_clear_pointer (&sink->challenge, g_free);
      sink->secret_word = FALSE;
      record_tls (sink->client, sink->easy);
    }
  else if (n > 17 && g_ascii_strncasecmp (data, "www-authenticate:", 17) == 0 && n < 4096
           && !sink->challenge)
    {
      g_autofree char *value = g_strstrip (g_strndup (data + 17, n - 17));
      gsize len = strspn (value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

      /* Only the scheme's name, and only a sane one: it may be shown. */
      if (len > 0 && len <= 32)
        sink->challenge = g_strndup (value, len);
    }
  else if (n > sizeof KPR_EST_SECRET_WORD_HEADER && n < 256
           && g_ascii_strncasecmp (data, KPR_EST_SECRET_WORD_HEADER ":",
                                   sizeof KPR_EST_SECRET_WORD_HEADER) == 0)
    {
      g_autofree char *value = g_strstrip (g_strndup (data + sizeof KPR_EST_SECRET_WORD_HEADER,
                                                      n - sizeof KPR_EST_SECRET_WORD_HEADER));
      sink->secret_word = g_ascii_strcasecmp (value, "one-time") == 0;
    }
  else if (n > 9 && g_ascii_strncasecmp (data, "location:", 9) == 0 && n < 4096)
    {
      g_free (sink->location);
      sink->location = g_strstrip (g_strndup (data + 9, n - 9));
    }
  else if (n > sizeof KPR_EST_REQUEST_ID_HEADER && n < 256
           && g_ascii_strncasecmp (data, KPR_EST_REQUEST_ID_HEADER ":",
                                   sizeof KPR_EST_REQUEST_ID_HEADER) == 0)
    {
      g_autofree char *id = g_strstrip (g_strndup (data + sizeof KPR_EST_REQUEST_ID_HEADER,
                                                   n - sizeof KPR_EST_REQUEST_ID_HEADER));
      gboolean valid = id[0] && strlen (id) <= KPR_EST_REQUEST_ID_MAX;

      /* Shown to a person and kept in state files: nothing but a plain ID. */
      for (const char *p = id; valid && *p; p++)
        valid = g_ascii_isalnum (*p) || *p == '.' || *p == '_' || *p == '-';
      if (valid)
        {
          g_free (sink->client->request_id);
          sink->client->request_id = g_steal_pointer (&id);
        }
    }
  return n;
}

/* Mutual TLS through the SSL_CTX: works with token-backed EVP_PKEYs and
 * needs no OpenSSL ENGINE (DESIGN §3). */
static CURLcode
ssl_ctx_cb (CURL *easy, void *ssl_ctx, void *user)
{
  KprEstClient *client = user;
  SSL_CTX *ctx = ssl_ctx;
  int i;

  /* Answers may hold a server-generated private key: OpenSSL would free
   * its read buffer with the decrypted record still in it. */
  SSL_CTX_set_options (ctx, SSL_OP_CLEANSE_PLAINTEXT);
  if (!client->client_cert)
    return CURLE_OK;
  if (SSL_CTX_use_certificate (ctx, client->client_cert) != 1
      || SSL_CTX_use_PrivateKey (ctx, client->client_key) != 1)
    return CURLE_SSL_CERTPROBLEM;
  for (i = 0; client->client_chain && i < sk_X509_num (client->client_chain); i++)
    if (SSL_CTX_add1_chain_cert (ctx, sk_X509_value (client->client_chain, i)) != 1)
      return CURLE_SSL_CERTPROBLEM;
  return CURLE_OK;
}

/* Notes the TLS version and tls-unique of the connection in use; called
 * during the transfer, the only time libcurl exposes the SSL object. */
static void
record_tls (KprEstClient *client, CURL *easy)
{
  struct curl_tlssessioninfo *info = NULL;
  SSL *ssl;

  client->tls_version[0] = '\0';
  client->tls_unique_len = 0;
  if (curl_easy_getinfo (easy, CURLINFO_TLS_SSL_PTR, &info) != CURLE_OK || !info
      || info->backend != CURLSSLBACKEND_OPENSSL || !info->internals)
    return;
  ssl = info->internals;
  g_strlcpy (client->tls_version, SSL_get_version (ssl), sizeof client->tls_version);
  /* The first Finished of the latest handshake: ours on a full handshake,
   * the server's on a resumed one. */
  client->tls_unique_len = SSL_session_reused (ssl)
                             ? SSL_get_peer_finished (ssl, client->tls_unique,
                                                      sizeof client->tls_unique)
                             : SSL_get_finished (ssl, client->tls_unique,
                                                 sizeof client->tls_unique);
  if (client->tls_unique_len > sizeof client->tls_unique)
    client->tls_unique_len = 0;
  if (SSL_version (ssl) != TLS1_2_VERSION)
    client->tls_unique_len = 0;
}

/* Whether @url (a redirect target) has the same origin as the client. */
static gboolean
same_origin (KprEstClient *client, const char *url)
{
  g_autofree char *host = NULL;
  int port = 0;

  if (!parse_origin (url, TRUE, &host, &port, NULL, NULL))
    return FALSE;
  return g_str_equal (host, client->host) && port == client->port;
}

/* The absolute URL a (possibly relative) Location points to, or NULL. */
static char *
resolve_location (const char *base, const char *location)
{
  g_autoptr (CURLU) u = curl_url ();
  char *full = NULL;
  char *out;

  if (!u || !location || !location[0]
      || curl_url_set (u, CURLUPART_URL, base, 0) != CURLUE_OK
      || curl_url_set (u, CURLUPART_URL, location, 0) != CURLUE_OK
      || curl_url_get (u, CURLUPART_URL, &full, 0) != CURLUE_OK)
    return NULL;
  out = g_strdup (full);
  curl_free (full);
  return out;
}

/* "Basic, Digest": the schemes a 401 offered, from libcurl's reading of
 * WWW-Authenticate, or the first one named when libcurl knows none. */
static char *
auth_names (long avail, const char *first)
{
  static const struct {
    long bit;
    const char *name;
  } schemes[] = {
    { CURLAUTH_BASIC, "Basic" },         { CURLAUTH_DIGEST, "Digest" },
    { CURLAUTH_NEGOTIATE, "Negotiate" }, { CURLAUTH_NTLM, "NTLM" },
    { CURLAUTH_BEARER, "Bearer" },       { CURLAUTH_AWS_SIGV4, "AWS4-HMAC-SHA256" },
  };
  GString *s = g_string_new (NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (schemes); i++)
    if (avail & schemes[i].bit)
      g_string_append_printf (s, "%s%s", s->len ? ", " : "", schemes[i].name);
  if (s->len == 0 && first)
    g_string_append (s, first);
  if (s->len == 0)
    {
      g_string_free (s, TRUE);
      return NULL;
    }
  return g_string_free (s, FALSE);
}

static gboolean
configure (KprEstClient *client, CURL *easy, const KprEstRequest *req, const char *url,
           Sink *sink, char *errbuf, struct curl_slist **headers)
{
  gboolean ok = TRUE;

  curl_easy_reset (easy);
#define SET(opt, val) ok = ok && curl_easy_setopt (easy, opt, val) == CURLE_OK
  SET (CURLOPT_URL, url);
  SET (CURLOPT_PROTOCOLS_STR, "https");
  SET (CURLOPT_REDIR_PROTOCOLS_STR, "https");
  /* Redirects are followed by kpr_est_perform, after the origin check. */
  SET (CURLOPT_FOLLOWLOCATION, 0L);
  SET (CURLOPT_NOSIGNAL, 1L);
  SET (CURLOPT_ERRORBUFFER, errbuf);
  SET (CURLOPT_CONNECTTIMEOUT, (long) client->connect_timeout);
  SET (CURLOPT_TIMEOUT, (long) client->total_timeout);
  SET (CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION);
  SET (CURLOPT_WRITEFUNCTION, kpr_http_sink_write);
  SET (CURLOPT_WRITEDATA, &sink->http);
  SET (CURLOPT_HEADERFUNCTION, header_cb);
  SET (CURLOPT_HEADERDATA, sink);
  SET (CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) KPR_EST_BODY_MAX);
  SET (CURLOPT_SSLVERSION, client->tls12_only
                             ? (long) (CURL_SSLVERSION_TLSv1_2 | CURL_SSLVERSION_MAX_TLSv1_2)
                             : (long) CURL_SSLVERSION_TLSv1_2);
  if (req->trust == KPR_EST_BOOTSTRAP)
    {
      /* RFC 7030 §4.1.1: the answer is shown to a person, never trusted. */
      SET (CURLOPT_SSL_VERIFYPEER, 0L);
      SET (CURLOPT_SSL_VERIFYHOST, 0L);
    }
  else
    {
      struct curl_blob blob = { client->anchors_pem, strlen (client->anchors_pem),
                                CURL_BLOB_COPY };

      SET (CURLOPT_SSL_VERIFYPEER, 1L);
      SET (CURLOPT_SSL_VERIFYHOST, 2L);
      /* Explicit anchors only: the blob replaces the CA file, and no
       * CA path means no implicit database (RFC 7030 §3.1). */
      SET (CURLOPT_CAINFO_BLOB, &blob);
      SET (CURLOPT_CAPATH, (char *) NULL);
      SET (CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_cb);
      SET (CURLOPT_SSL_CTX_DATA, client);
      if (req->creds)
        {
          /* Two schemes allowed: libcurl sends the request without
           * credentials first and answers the scheme the server's 401
           * names — never Basic to a server that did not ask for it (RFC
           * 7030 §3.2.3), Digest when it asks for Digest. */
          SET (CURLOPT_HTTPAUTH, (long) (CURLAUTH_BASIC | CURLAUTH_DIGEST));
          SET (CURLOPT_USERNAME, req->creds->username);
          SET (CURLOPT_PASSWORD, req->creds->secret->data);
        }
    }
#undef SET
  if (!ok)
    return FALSE;
  if (g_str_equal (req->method, "POST"))
    return kpr_http_set_post (easy, req->content_type, req->body, req->body_len,
                              req->base64_body ? "Content-Transfer-Encoding: base64" : NULL,
                              headers);
  *headers = curl_slist_append (NULL, "Expect:");
  return *headers && curl_easy_setopt (easy, CURLOPT_HTTPGET, 1L) == CURLE_OK
         && curl_easy_setopt (easy, CURLOPT_HTTPHEADER, *headers) == CURLE_OK;
}

gboolean
kpr_est_perform (KprEstClient *client, const KprEstRequest *req, KprEstResponse *ret_resp,
                 GError **error)
{
  g_autofree char *url = NULL;
  CURL *bootstrap_easy = NULL;
  CURL *easy;
  gboolean ok = FALSE;
  int hops;

  g_return_val_if_fail (client != NULL && req != NULL && ret_resp != NULL, FALSE);
  g_return_val_if_fail (req->trust == KPR_EST_VERIFIED || req->creds == NULL, FALSE);

  if (req->creds && (!req->creds->username || !req->creds->secret))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_BAD_INPUT, "Incomplete credentials");
      return FALSE;
    }
  client->retry_after = 0;
  client->refusal = KPR_EST_REFUSAL_NONE;
  g_clear_pointer (&client->auth_offered, g_free);
  g_clear_pointer (&client->request_id, g_free);
  client->tls_version[0] = '\0';
  client->tls_unique_len = 0;
  if (req->trust == KPR_EST_VERIFIED && !client->anchors)
    {
      /* Nothing — least of all a credential — goes to a server we cannot
       * authenticate (RFC 7030 §3.6). */
      g_set_error (error, KPR_ERROR, KPR_ERROR_UNTRUSTED,
                   "No trust anchor is set for %s; fetch and confirm the CA certificate first",
                   client->origin);
      return FALSE;
    }
  if (req->trust == KPR_EST_BOOTSTRAP)
    {
      /* A handle of its own, so an unverified connection is never reused
       * by a verified request. */
      easy = bootstrap_easy = curl_easy_init ();
    }
  else
    {
      if (!client->easy)
        client->easy = curl_easy_init ();
      easy = client->easy;
    }
  if (!easy)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "libcurl cannot create a handle");
      return FALSE;
    }

  url = req->path ? g_strconcat (client->origin, req->path, NULL)
                  : g_strconcat (client->origin, client->prefix, req->op, NULL);
  for (hops = 0;; hops++)
    {
      char errbuf[CURL_ERROR_SIZE] = "";
      struct curl_slist *headers = NULL;
      /* Sized for the cap at once: growing would realloc and leave
       * unerased copies of a server-generated key behind. */
      Sink sink = { { g_byte_array_sized_new (KPR_EST_BODY_MAX), KPR_EST_BODY_MAX, FALSE }, NULL,
                    client, easy };
      g_autofree char *location = NULL;
      const char *ct = NULL;
      curl_off_t retry = 0;
      long status = 0, avail = 0;
      CURLcode rc;

      if (!configure (client, easy, req, url, &sink, errbuf, &headers))
        {
          curl_slist_free_all (headers);
          discard_body (sink.http.body);
          g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "libcurl refused an option");
          break;
        }
      rc = curl_easy_perform (easy);
      /* Take the password back out of libcurl as soon as it was used. */
      curl_easy_setopt (easy, CURLOPT_PASSWORD, NULL);
      curl_easy_setopt (easy, CURLOPT_HTTPHEADER, NULL);
      curl_easy_setopt (easy, CURLOPT_ERRORBUFFER, NULL);
      curl_slist_free_all (headers);
      if (rc != CURLE_OK)
        {
          kpr_http_set_curl_error (error, rc, errbuf, &sink.http);
          discard_body (sink.http.body);
          g_free (sink.location);
          g_free (sink.challenge);
          break;
        }
      curl_easy_getinfo (easy, CURLINFO_RESPONSE_CODE, &status);
      curl_easy_getinfo (easy, CURLINFO_HTTPAUTH_AVAIL, &avail);
      curl_easy_getinfo (easy, CURLINFO_CONTENT_TYPE, &ct);
      curl_easy_getinfo (easy, CURLINFO_RETRY_AFTER, &retry);
      location = resolve_location (url, sink.location);
      g_clear_pointer (&sink.location, g_free);

      if (status >= 300 && status < 400 && status != 304)
        {
          g_clear_pointer (&sink.challenge, g_free);
          discard_body (sink.http.body);
          if (!location)
            {
              g_set_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL,
                           "The server answered HTTP %ld without a usable Location", status);
              break;
            }
          if (!same_origin (client, location))
            {
              g_set_error (error, KPR_ERROR, KPR_ERROR_UNTRUSTED,
                           "The server redirected to another server; refused");
              break;
            }
          if (hops + 1 >= MAX_REDIRECTS)
            {
              g_set_error (error, KPR_ERROR, KPR_ERROR_PROTOCOL, "Too many redirects");
              break;
            }
          g_free (url);
          url = g_strdup (location);
          continue;
        }

      memset (ret_resp, 0, sizeof *ret_resp);
      ret_resp->status = status;
      ret_resp->body = sink.http.body;
      ret_resp->retry_after = (gint64) retry;
      ret_resp->content_type = g_strdup (ct);
      ret_resp->media_type = kpr_http_media_type (ct);
      ret_resp->sent_creds = req->creds != NULL;
      ret_resp->sent_cert = client->client_cert != NULL && req->trust == KPR_EST_VERIFIED;
      ret_resp->secret_word = sink.secret_word;
      ret_resp->auth_offered = auth_names (avail, sink.challenge);
      g_free (sink.challenge);
      ok = TRUE;
      break;
    }
  if (bootstrap_easy)
    curl_easy_cleanup (bootstrap_easy);
  return ok;
}
