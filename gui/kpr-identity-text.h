/* kpr-identity-text.h — how certkeeper-gtk describes an identity and its
 * certificate in words (the list's subtitles and badges, the detail
 * page), so that the window and its tests agree. */
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "kpr-agent.h"

G_BEGIN_DECLS

/* The certificate text helpers are common/kpr-ossl.h's (kpr_ossl_name_text,
 * kpr_ossl_serial_hex, kpr_ossl_fingerprint, kpr_ossl_time_unix), shared
 * with the command line so both say the same.  Local time, "2026-11-23 14:05". */
char *kpr_cert_time_text (const ASN1_TIME *t);

/* "This computer" for the software token, else the token's label. */
char *kpr_identity_where_text (const KprIdentity *id);
/* "standard", "strong" or "exportable". */
const char *kpr_identity_protection_text (const KprIdentity *id);
/* "expires in N days", "expired N days ago", "waiting for the server"… */
char *kpr_identity_expiry_text (const KprIdentity *id, gint64 now);
/* where · protection, origin · expiry */
char *kpr_identity_subtitle_text (const KprIdentity *id, gint64 now);
/* The state badge ("Active", "Renewal due", "Backup missing"…) and its
 * style class in *ret_class. */
const char *kpr_identity_badge_text (const KprIdentity *id, gint64 now, const char **ret_class);

/* Where the key is and how it is protected, in a sentence: "This
 * computer — can be copied into a backup until you lock it". */
char *kpr_identity_where_long_text (const KprIdentity *id);
/* A day in the person's locale (LC_TIME's date format), local time. */
char *kpr_date_text (gint64 unix_time);
/* "Backed up on DAY to WHERE", "Not yet — …", "Not possible — …". */
char *kpr_identity_backup_text (const KprIdentity *id);
/* What @event means, in a sentence with local dates: "Renewed — new
 * certificate valid until 21/12/26", "Backed up to KINGSTON/alice.p12",
 * "Imported as non-exportable". */
char *kpr_event_sentence (const KprEvent *event);
/* A fingerprint ("AB:CD:…" or hex) as a person compares it: groups of 4
 * characters, 4 groups a line ("ABCD EF01 2345 6789\n…"), for a
 * fixed-width label. */
char *kpr_fingerprint_groups_text (const char *fingerprint);

G_END_DECLS
