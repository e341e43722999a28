/* incident.h - incidents (a lost medium, a wrong recipient, unexplained
 * reads) kept as catalog rows: who opened one, when and why, the files
 * involved with their record and person counts (what a report to the PPC
 * asks for), the notes written while it is open, and who closed it.
 *
 * Invariants:
 * - Naming a file in an incident places an incident hold on it first
 *   (retention.h, spif_hold_place_incident), in the same transaction: a
 *   file an incident involves cannot be disposed of while the hold stands.
 *   A disposed file is recorded without a hold (nothing is left to hold).
 * - Closing an incident releases nothing: an incident hold is released
 *   one by one with spif retain release, by a second person when the
 *   catalog has operators (operator.h, SPIF_ACT_RELEASE).
 * - Every change is made inside the caller's transaction with its event
 *   ("incident.open", "incident.file", "incident.note", "incident.close";
 *   object: the incident's id), so it is under the audit log like every
 *   row.  Texts (summary, notes) must hold no Individual Number: the
 *   caller refuses them (spif_text_has_number); lib/ checks again.
 * - Ids are "INC-YYYY-NNNNNN", numbered per year in Japan like exports. */
#ifndef SPIF_INCIDENT_H
#define SPIF_INCIDENT_H

#include <stddef.h>

#include "catalog.h"
#include "err.h"

struct spif_incident {
	char id[32];
	char *opened, *opened_by, *summary, *state; /* state: "open" or "closed" */
	char *closed, *closed_by, *close_note;      /* NULL while open */
};
void spif_incident_free(struct spif_incident *in);

/* One file of an incident (strings valid during the callback). */
struct spif_incident_file {
	long long file_id, records, persons;
	long long hold_id; /* 0: none (the file was disposed) */
	const char *label, *added;
};

/* One note (strings valid during the callback). */
struct spif_incident_note {
	const char *time, *operator_, *note;
};

/* Is s "INC-YYYY-NNNNNN"?  1 or 0. */
int spif_incident_id_valid(const char *s);

/* Open an incident on n files (n >= 1, no file twice): the row, each
 * file with its counts and an incident hold, and the event.  id gets the
 * new id.  SPIF_EX_DATAERR for an unknown file, SPIF_EX_USAGE for a file
 * named twice or a summary with a number. */
int spif_incident_open(struct spif_catalog *c, const char *summary, const long long *files, size_t n,
                       char id[32], struct spif_err *err);
/* Add files to an open incident (those already in it are skipped), each
 * held first.  *added (may be NULL) gets how many were new. */
int spif_incident_add_files(struct spif_catalog *c, const char *id, const long long *files, size_t n,
                            size_t *added, struct spif_err *err);
/* A note on an open incident. */
int spif_incident_note(struct spif_catalog *c, const char *id, const char *note, struct spif_err *err);
/* Close an open incident with a note (required). */
int spif_incident_close(struct spif_catalog *c, const char *id, const char *note, struct spif_err *err);

/* One incident: 0, or SPIF_EX_DATAERR "no incident ID". */
int spif_incident_get(struct spif_catalog *c, const char *id, struct spif_incident *in, struct spif_err *err);
/* Every incident in id order (open ones only unless all). */
int spif_incident_list(struct spif_catalog *c, int all, int (*fn)(void *ctx, const struct spif_incident *in),
                       void *ctx, struct spif_err *err);
/* An incident's files, by file id. */
int spif_incident_files(struct spif_catalog *c, const char *id,
                        int (*fn)(void *ctx, const struct spif_incident_file *f), void *ctx, struct spif_err *err);
/* An incident's notes, oldest first. */
int spif_incident_notes(struct spif_catalog *c, const char *id,
                        int (*fn)(void *ctx, const struct spif_incident_note *nt), void *ctx, struct spif_err *err);

#endif
