/* kpr-worker.c — placeholder until the core is written. */
#include "kpr-worker.h"

struct _KprWorker {
  GObject parent_instance;
};

G_DEFINE_FINAL_TYPE (KprWorker, kpr_worker, G_TYPE_OBJECT)

static void
kpr_worker_class_init (KprWorkerClass *klass)
{
}

static void
kpr_worker_init (KprWorker *self)
{
}

KprWorker *
kpr_worker_new (GtkWidget *parent)
{
  return g_object_new (KPR_TYPE_WORKER, NULL);
}

void
kpr_worker_request_reply (KprWorkerRequest *request, KprSecret *secret)
{
  kpr_secret_free (secret);
}
