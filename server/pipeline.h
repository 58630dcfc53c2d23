/*
 * The pipeline's state machine, run by the journal writer inside its
 * transaction: dedup, alert state, and which deliveries to schedule.
 * Internal to the journal.
 */
#ifndef KLAXON_PIPELINE_H
#define KLAXON_PIPELINE_H

#include <sqlite3.h>
#include <stddef.h>

#include "server/journal.h"

struct pipeline;

/* Prepare the statements on the writer's connection. NULL with err. */
struct pipeline *pipeline_new(sqlite3 *db, char *err, size_t errlen);
void pipeline_free(struct pipeline *p);

/*
 * Apply an inbound event: sets ev->outcome, ev->id, ev->reason and
 * ev->deliveries. Returns an SQLite result code.
 */
int pipeline_apply_event(struct pipeline *p, struct journal_event *ev);

/* Record a delivery attempt's result; may schedule a cancellation
   (added to *scheduled). Returns an SQLite result code. */
int pipeline_apply_result(struct pipeline *p, struct delivery_result *res,
                          int *scheduled);

/* Acknowledge the open alert holding ack->receipt, cancelling its other
   emergency pushes (added to *scheduled). */
int pipeline_apply_ack(struct pipeline *p, struct journal_ack *ack,
                       int *scheduled);

/*
 * Rebuild the in-memory alert index from the alerts table, as it stands
 * in the open transaction. The journal calls it after any rollback and
 * after pruning, so the index never claims or misses an alert.
 */
int pipeline_rebuild_index(struct pipeline *p);

/* Delete rows older than days that nothing still needs. */
int pipeline_prune(struct pipeline *p, int days);

/* One log line for a completed event. */
void pipeline_log_event(const struct journal_event *ev);

#endif
