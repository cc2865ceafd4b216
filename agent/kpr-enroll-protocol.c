/* kpr-enroll-protocol.c — what enroll, renew, pending and revoke ask of
 * the server, whichever protocol the identity speaks (EST by default,
 * SCEP or CMP; docs/scep.md, docs/cmp.md).  The lifecycle is the same for
 * all three: the flows in kpr-enroll.c and kpr-renew.c call here. */
#include "config.h"

#include "kpr-agent-private.h"

void
kpr_agent_pending_error (const KprIdentity *id, guint wait, GError **error)
{
  g_autofree char *quoted = id->request_id
    ? g_strdup_printf (" It is request %s at the server: quote that number to its "
                       "administrator.", id->request_id)
    : g_strdup ("");

  g_set_error (error, KPR_ERROR, KPR_ERROR_PENDING,
               "The server has not decided on “%s” yet.%s Run 'certkeeper renew %s' in %u "
               "seconds or later, or install the certificate you receive with 'certkeeper "
               "install %s FILE.cer'", id->name, quoted, id->name, wait, id->name);
}
