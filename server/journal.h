/*
 * The journal: klaxon's durable state in one SQLite database (WAL).
 *
 * All writes go through one writer thread. Whatever arrived while the
 * previous transaction was being flushed is applied in the next one and
 * made durable by a single fsync (group commit), so throughput follows
 * the batch size rather than the disk's flush rate. Each submitted
 * operation gets its completion callback only after its transaction is
 * on disk, or after it failed.
 */
#ifndef KLAXON_JOURNAL_H
#define KLAXON_JOURNAL_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/alert.h"
#include "server/rules.h"

struct journal;

enum journal_outcome {
    JOURNAL_QUEUED,         /* stored; deliveries (if any) scheduled */
    JOURNAL_DUPLICATE,      /* same key, same state: stored nothing new */
    JOURNAL_IGNORED,        /* stored for the record, nothing to deliver */
    JOURNAL_UNAVAILABLE,    /* could not be made durable: not accepted */
};

/* An inbound event. The submitter owns it and keeps it alive until
   done() has been called. */
struct journal_event {
    const struct alert *alert;
    const struct decision *decision;
    const char *body;       /* raw payload as received */
    size_t body_len;
    const char *content_type;
    int64_t received_ms;
    bool deliver;           /* schedule pushes (false: delivery is off) */

    /* Filled in before done() is called. */
    enum journal_outcome outcome;
    int64_t id;             /* event id (for a duplicate: the original) */
    char reason[160];       /* for IGNORED and UNAVAILABLE */
    int deliveries;         /* deliveries scheduled */

    void (*done)(struct journal_event *ev);
    void *ctx;
};

/* The result of one delivery attempt, reported by a notifier. */
enum delivery_status {
    DELIVERY_SENT,          /* the provider took it */
    DELIVERY_RETRY,         /* try again at next_ms */
    DELIVERY_FAILED,        /* permanent failure or given up */
};

struct delivery_result {
    int64_t delivery_id;
    enum delivery_status status;
    int64_t next_ms;        /* for RETRY */
    char receipt[64];       /* emergency receipt from the provider, or "" */
    char answer[256];       /* provider's answer or error, for the record */

    void (*done)(struct delivery_result *res);  /* after commit; may be
                                                   NULL */
    void *ctx;
};

/* An emergency push acknowledged on a phone, by its receipt. */
struct journal_ack {
    char receipt[64];

    /* Filled in before done() is called. */
    bool found;             /* an open alert had this receipt */
    bool stored;            /* false: the journal could not write */
    char source[16];
    char key[256];

    void (*done)(struct journal_ack *ack);
    void *ctx;
};

/*
 * Open (creating if needed) the journal at path, with its schema, and
 * start the writer thread. Returns NULL with the reason in err.
 */
struct journal *journal_open(const char *path, char *err, size_t errlen);

/* Finish everything submitted, stop the writer, close the database. */
void journal_close(struct journal *j);

/* Queue ev; ev->done is called from the writer thread. Never blocks on
   the disk. */
void journal_submit(struct journal *j, struct journal_event *ev);

/* Queue an acknowledgement: the alert holding ack->receipt becomes
   "acknowledged" and its other emergency pushes are cancelled. */
void journal_acknowledge(struct journal *j, struct journal_ack *ack);

/* Queue a delivery result; res->done (if set) is called after commit. */
void journal_record(struct journal *j, struct delivery_result *res);

/*
 * Called on the writer thread after each commit that scheduled new
 * deliveries, so the delivery loop can wake up. Set before submitting.
 */
void journal_on_scheduled(struct journal *j, void (*fn)(void *), void *arg);

/* Whether the last transaction (or a probe) could write. */
bool journal_writable(struct journal *j);

/* Delete events and finished deliveries older than days. Queued to the
   writer; runs in its own transaction. */
void journal_prune(struct journal *j, int days);

/*
 * Open a read-only connection to the same database for another thread
 * (the delivery loop, the HTTP API). Caller closes it with
 * sqlite3_close. NULL with the reason in err.
 */
sqlite3 *journal_reader(struct journal *j, char *err, size_t errlen);

#endif
