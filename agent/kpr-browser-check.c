/* kpr-browser-check.c — "certkeeper browser check NAME --url URL": a real
 * TLS handshake with the identity's key on its token, the way a browser
 * would make it, and what stands between the site and a browser login.
 * It answers what the Securing Labs page has people find out by hand
 * ("try incognito, restart the browser"):
 *
 * - did the site ask for a client certificate, and from which CAs (a
 *   browser offers only certificates whose issuer the site named);
 * - did it accept this one (TLS 1.2 says so in the handshake, TLS 1.3
 *   with its first answer, so one HTTP request is sent);
 * - is the certificate visible in each browser (kpr-browser.c).
 */
#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <gio/gio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "kpr-browser-private.h"

#define CHECK_TIMEOUT 15

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SSL_CTX, SSL_CTX_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SSL, SSL_free)

void
kpr_browser_check_free (KprBrowserCheck *check)
{
  if (!check)
    return;
  g_strfreev (check->asked_cas);
  g_free (check->tls_version), g_free (check->refusal), g_free (check->why_not);
  g_clear_pointer (&check->stores, g_ptr_array_unref);
  g_free (check);
}

typedef struct {
  KprBrowserCheck *check;
  X509 *cert;
  char *alert;
} Probe;

/* Client side: called when the server asks for a certificate. */
static int
on_cert_request (SSL *ssl, void *data)
{
  Probe *probe = data;
  STACK_OF (X509_NAME) *cas = SSL_get_client_CA_list (ssl);
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  gboolean ours = sk_X509_NAME_num (cas) <= 0;

  probe->check->asked = TRUE;
  for (int i = 0; i < sk_X509_NAME_num (cas); i++)
    {
      X509_NAME *name = sk_X509_NAME_value (cas, i);
      g_ptr_array_add (names, kpr_ossl_name_text (name));
      if (X509_NAME_cmp (name, X509_get_issuer_name (probe->cert)) == 0)
        ours = TRUE;
    }
  g_ptr_array_add (names, NULL);
  g_strfreev (probe->check->asked_cas);
  probe->check->asked_cas = (GStrv) g_ptr_array_free (g_steal_pointer (&names), FALSE);
  probe->check->issuer_asked = ours;
  return 1;
}

static void
on_info (const SSL *ssl, int where, int ret)
{
  Probe *probe = SSL_get_app_data (ssl);

  if ((where & SSL_CB_READ_ALERT) && !probe->alert)
    probe->alert = g_strdup_printf ("the site sent the alert “%s”", SSL_alert_desc_string_long (ret));
}

/* The socket as OpenSSL wants it: blocking, with a time limit. */
static void
prepare_fd (int fd)
{
  struct timeval tv = { CHECK_TIMEOUT, 0 };

  fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) & ~O_NONBLOCK);
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static SSL_CTX *
make_ctx (X509 *cert, EVP_PKEY *key, const char *ca_file, Probe *probe, GError **error)
{
  g_autoptr (SSL_CTX) ctx = SSL_CTX_new (TLS_client_method ());

  if (!ctx)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_INTERNAL, "OpenSSL cannot make a TLS context");
      return NULL;
    }
  SSL_CTX_set_verify (ctx, SSL_VERIFY_PEER, NULL);
  if (ca_file ? SSL_CTX_load_verify_locations (ctx, ca_file, NULL) != 1
              : SSL_CTX_set_default_verify_paths (ctx) != 1)
    {
      ERR_clear_error ();
      g_set_error (error, KPR_ERROR, ca_file ? KPR_ERROR_BAD_INPUT : KPR_ERROR_INTERNAL,
                   ca_file ? "%s holds no CA certificate (PEM)" : "%s",
                   ca_file ? ca_file : "The system's CA certificates cannot be read");
      return NULL;
    }
  if (SSL_CTX_use_certificate (ctx, cert) != 1 || SSL_CTX_use_PrivateKey (ctx, key) != 1)
    {
      g_autofree char *detail = kpr_ossl_error_string ();
      g_set_error (error, KPR_ERROR, KPR_ERROR_TOKEN, "The token's key cannot be used for TLS: %s",
                   detail);
      return NULL;
    }
  SSL_CTX_set_cert_cb (ctx, on_cert_request, probe);
  SSL_CTX_set_info_callback (ctx, on_info);
  return g_steal_pointer (&ctx);
}

/* One request; the status of the answer, 0 when the site refused. */
static int
request (SSL *ssl, const char *host, int port, const char *path)
{
  g_autofree char *req = g_strdup_printf ("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: "
                                          "certkeeper/%s\r\nConnection: close\r\n\r\n",
                                          path, host, port, PACKAGE_VERSION);
  char buf[4096];
  int got = 0, n, status = 0;

  if (SSL_write (ssl, req, strlen (req)) <= 0)
    return 0;
  while (got < (int) sizeof buf - 1 && !memchr (buf, '\n', got)
         && (n = SSL_read (ssl, buf + got, sizeof buf - 1 - got)) > 0)
    got += n;
  buf[got] = '\0';
  if (g_str_has_prefix (buf, "HTTP/") && strchr (buf, ' '))
    status = atoi (strchr (buf, ' ') + 1);
  return status;
}

static gboolean
handshake (KprBrowserCheck *check, Probe *probe, SSL_CTX *ctx, GUri *uri, GError **error)
{
  const char *host = g_uri_get_host (uri);
  int port = g_uri_get_port (uri) > 0 ? g_uri_get_port (uri) : 443;
  g_autofree char *path = g_strdup_printf ("%s%s%s", *g_uri_get_path (uri) ? g_uri_get_path (uri) : "/",
                                           g_uri_get_query (uri) ? "?" : "",
                                           g_uri_get_query (uri) ? g_uri_get_query (uri) : "");
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketConnection) conn = NULL;
  g_autoptr (GError) local = NULL;
  g_autoptr (SSL) ssl = NULL;
  gboolean is_ip = g_hostname_is_ip_address (host);

  g_socket_client_set_timeout (client, CHECK_TIMEOUT);
  if (!(conn = g_socket_client_connect_to_host (client, host, port, NULL, &local)))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_UNREACHABLE, "Cannot reach %s:%d: %s", host, port,
                   local->message);
      return FALSE;
    }
  prepare_fd (g_socket_get_fd (g_socket_connection_get_socket (conn)));
  ssl = SSL_new (ctx);
  SSL_set_app_data (ssl, probe);
  SSL_set_fd (ssl, g_socket_get_fd (g_socket_connection_get_socket (conn)));
  if (is_ip)
    X509_VERIFY_PARAM_set1_ip_asc (SSL_get0_param (ssl), host);
  else
    {
      SSL_set_tlsext_host_name (ssl, host);
      SSL_set1_host (ssl, host);
    }
  if (SSL_connect (ssl) != 1)
    {
      long verify = SSL_get_verify_result (ssl);
      g_autofree char *detail = kpr_ossl_error_string ();
      if (verify != X509_V_OK)
        {
          g_set_error (error, KPR_ERROR, KPR_ERROR_UNTRUSTED,
                       "The certificate of %s is not trusted (%s): give its CA with --ca-file",
                       host, X509_verify_cert_error_string (verify));
          return FALSE;
        }
      if (!check->asked && !probe->alert)
        {
          g_set_error (error, KPR_ERROR, KPR_ERROR_UNREACHABLE,
                       "No TLS connection with %s:%d (%s)", host, port, detail);
          return FALSE;
        }
      check->refusal = probe->alert ? g_strdup (probe->alert) : g_strdup (detail);
      return TRUE;
    }
  check->tls_version = g_strdup (SSL_get_version (ssl));
  check->http_status = request (ssl, host, port, path);
  check->accepted = check->http_status > 0;
  if (!check->accepted)
    {
      g_autofree char *detail = kpr_ossl_error_string ();
      check->refusal = probe->alert ? g_strdup (probe->alert)
                                    : g_strdup_printf ("the site closed the connection (%s)",
                                                       detail);
    }
  return TRUE;
}

/* Why a browser would not offer the certificate there, or NULL. */
static char *
why_not (const KprBrowserCheck *check, X509 *cert, const char *name)
{
  g_autoptr (GString) why = g_string_new (NULL);
  gboolean some_usable = FALSE;

  if (!check->asked)
    return g_strdup ("the site did not ask for a client certificate: browsers send none there");
  if (!check->issuer_asked)
    {
      g_autofree char *issuer = kpr_ossl_name_text (X509_get_issuer_name (cert));
      g_autofree char *asked = g_strjoinv ("; ", check->asked_cas);
      return g_strdup_printf ("the site asks for certificates issued by %s, and “%s” is issued "
                              "by %s: no browser offers it there", asked, name, issuer);
    }
  for (guint i = 0; check->stores && i < check->stores->len; i++)
    {
      KprBrowserStore *store = check->stores->pdata[i];
      for (guint j = 0; store->uses && j < store->uses->len; j++)
        {
          KprBrowserUse *use = store->uses->pdata[j];
          if (!g_str_equal (use->identity, name))
            continue;
          some_usable |= use->usable;
          if (!use->usable)
            g_string_append_printf (why, "%s%s: %s", why->len ? "; " : "", store->title,
                                    use->problem);
        }
    }
  if (!check->stores || check->stores->len == 0)
    return g_strdup ("no browser was found for this user");
  if (!why->len)
    return NULL;
  if (!some_usable)
    g_string_prepend (why, "no browser would offer it: ");
  return g_string_free (g_steal_pointer (&why), FALSE);
}

KprBrowserCheck *
kpr_agent_browser_check (KprAgent *agent, const char *name, const char *url, const char *ca_file,
                         GError **error)
{
  g_autoptr (KprIdentity) id = kpr_store_load (agent->store, name, error);
  g_autoptr (KprBrowserCheck) check = g_new0 (KprBrowserCheck, 1);
  g_autoptr (GUri) uri = NULL;
  g_autoptr (EVP_PKEY) key = NULL;
  g_autoptr (SSL_CTX) ctx = NULL;
  Probe probe = { check, NULL, NULL };
  KprToken *token;
  gboolean ok;

  if (!id)
    return NULL;
  if (!id->cert)
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_NOT_FOUND, "“%s” has no certificate yet", name);
      return NULL;
    }
  uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  if (!uri || g_strcmp0 (g_uri_get_scheme (uri), "https") != 0 || !g_uri_get_host (uri)
      || !*g_uri_get_host (uri))
    {
      g_set_error (error, KPR_ERROR, KPR_ERROR_USAGE, "“%s” is not an https:// address", url);
      return NULL;
    }
  if (!(token = kpr_agent_token_for (agent, id, TRUE, error))
      || !(key = kpr_token_get_private_key (token, id->key_id, error)))
    return NULL;
  probe.cert = id->cert;
  if (!(ctx = make_ctx (id->cert, key, ca_file, &probe, error)))
    return NULL;
  ok = handshake (check, &probe, ctx, uri, error);
  g_free (probe.alert);
  if (!ok)
    return NULL;
  check->stores = kpr_agent_browser_status (agent, KPR_BROWSER_ALL, NULL);
  check->why_not = why_not (check, id->cert, name);
  if (!check->asked_cas)
    check->asked_cas = g_new0 (char *, 1);
  return g_steal_pointer (&check);
}
