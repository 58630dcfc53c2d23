/*
 * The journal's writer thread and group commit.
 *
 * Request threads queue operations and return at once; the writer takes
 * everything queued, applies it in one transaction and commits it with
 * one fsync (WAL, synchronous=FULL), then completes each operation.
 * A failing disk fails the inbound events of that batch (their senders
 * get 503 and retry) while delivery results are kept and written again,
 * because losing one would mean pushing twice.
 */
#include "server/journal.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/clock.h"
#include "server/journal_schema.h"
#include "server/log.h"
#include "server/pipeline.h"

enum op_type { OP_EVENT, OP_RESULT, OP_ACK, OP_PRUNE };

struct op {
    enum op_type type;
    union {
        struct journal_event *ev;
        struct delivery_result *res;
        struct journal_ack *ack;
        int days;
    } u;
    struct op *next;
};

struct journal {
    char *path;
    sqlite3 *db;
    struct pipeline *pipeline;

    pthread_t writer;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct op *head, *tail;
    bool stopping;
    struct op *retry;           /* results kept after a failed commit */

    void (*on_scheduled)(void *);
    void *on_scheduled_arg;
    atomic_bool writable;

    /* The transaction statements, prepared once: the writer runs them
       for every operation. */
    sqlite3_stmt *begin, *commit, *savepoint, *release, *rollback_to;

    /* Checkpoints copy the log into the database on their own thread
       and connection, so a commit never waits for one. */
    sqlite3 *checkpoint_db;
    pthread_t checkpointer;
    bool checkpointer_started;
    pthread_cond_t checkpoint_wake;
    bool checkpoint_wanted;
};

/* Log size (pages) that triggers a checkpoint. */
#define CHECKPOINT_PAGES 2000

/* Errors that mean the disk, not the operation, is at fault. */
static bool
is_disk_error(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_PERM:
        return true;
    default:
        return false;
    }
}

/* Runs on the writer after each commit, with the log's size. */
static int
wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
    struct journal *j = arg;

    (void)db;
    (void)name;
    if (pages >= CHECKPOINT_PAGES) {
        pthread_mutex_lock(&j->lock);
        j->checkpoint_wanted = true;
        pthread_cond_signal(&j->checkpoint_wake);
        pthread_mutex_unlock(&j->lock);
    }
    return SQLITE_OK;
}

static void *
checkpointer_main(void *arg)
{
    struct journal *j = arg;
    int rc;

    pthread_mutex_lock(&j->lock);
    for (;;) {
        while (!j->checkpoint_wanted && !j->stopping)
            pthread_cond_wait(&j->checkpoint_wake, &j->lock);
        if (j->stopping)
            break;
        j->checkpoint_wanted = false;
        pthread_mutex_unlock(&j->lock);
        rc = sqlite3_wal_checkpoint_v2(j->checkpoint_db, NULL,
                                       SQLITE_CHECKPOINT_PASSIVE, NULL,
                                       NULL);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY)
            log_warn("journal", "%s: checkpoint failed: %s", j->path,
                     sqlite3_errmsg(j->checkpoint_db));
        pthread_mutex_lock(&j->lock);
    }
    pthread_mutex_unlock(&j->lock);
    return NULL;
}

static int
exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* Run a prepared statement that returns no rows. */
static int
run(sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);

    sqlite3_reset(s);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

static int
prepare_transaction_statements(struct journal *j)
{
    static const char *const sql[] = {
        "BEGIN IMMEDIATE", "COMMIT", "SAVEPOINT op", "RELEASE op",
        "ROLLBACK TO op",
    };
    sqlite3_stmt **st[] = {
        &j->begin, &j->commit, &j->savepoint, &j->release, &j->rollback_to,
    };
    size_t i;

    for (i = 0; i < sizeof sql / sizeof *sql; i++) {
        if (sqlite3_prepare_v3(j->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                               st[i], NULL) != SQLITE_OK)
            return -1;
    }
    return 0;
}

static void
finalize_transaction_statements(struct journal *j)
{
    sqlite3_finalize(j->begin);
    sqlite3_finalize(j->commit);
    sqlite3_finalize(j->savepoint);
    sqlite3_finalize(j->release);
    sqlite3_finalize(j->rollback_to);
}

static void
enqueue(struct journal *j, struct op *op)
{
    op->next = NULL;
    pthread_mutex_lock(&j->lock);
    if (j->tail)
        j->tail->next = op;
    else
        j->head = op;
    j->tail = op;
    pthread_cond_signal(&j->wake);
    pthread_mutex_unlock(&j->lock);
}

static struct op *
new_op(enum op_type type)
{
    struct op *op = calloc(1, sizeof *op);

    if (op)
        op->type = type;
    return op;
}

void
journal_submit(struct journal *j, struct journal_event *ev)
{
    struct op *op = new_op(OP_EVENT);

    if (!op) {
        ev->outcome = JOURNAL_UNAVAILABLE;
        snprintf(ev->reason, sizeof ev->reason, "out of memory");
        ev->done(ev);
        return;
    }
    op->u.ev = ev;
    enqueue(j, op);
}

void
journal_record(struct journal *j, struct delivery_result *res)
{
    struct op *op;

    /* Without memory the result is lost and the push may repeat after a
       restart: at least once, never silently dropped while running. */
    while (!(op = new_op(OP_RESULT)))
        sleep(1);
    op->u.res = res;
    enqueue(j, op);
}

void
journal_acknowledge(struct journal *j, struct journal_ack *ack)
{
    struct op *op = new_op(OP_ACK);

    if (!op) {
        ack->stored = false;
        ack->done(ack);
        return;
    }
    op->u.ack = ack;
    enqueue(j, op);
}

void
journal_prune(struct journal *j, int days)
{
    struct op *op = new_op(OP_PRUNE);

    if (!op)
        return;
    op->u.days = days;
    enqueue(j, op);
}

/* Apply one operation inside the open transaction. */
static int
apply(struct journal *j, struct op *op, int *scheduled)
{
    int rc;

    switch (op->type) {
    case OP_EVENT:
        rc = pipeline_apply_event(j->pipeline, op->u.ev);
        if (rc == SQLITE_OK)
            *scheduled += op->u.ev->deliveries;
        return rc;
    case OP_RESULT:
        return pipeline_apply_result(j->pipeline, op->u.res, scheduled);
    case OP_ACK:
        return pipeline_apply_ack(j->pipeline, op->u.ack, scheduled);
    case OP_PRUNE:
        return pipeline_prune(j->pipeline, op->u.days);
    }
    return SQLITE_MISUSE;
}

/* What went wrong with result code rc, in SQLite's words. */
static const char *
error_text(sqlite3 *db, int rc)
{
    return sqlite3_errcode(db) == rc ? sqlite3_errmsg(db) :
           sqlite3_errstr(rc);
}

/* An event that fails on its own (not the disk) is refused alone. */
static void
fail_event(struct journal_event *ev, const char *why)
{
    ev->outcome = JOURNAL_UNAVAILABLE;
    snprintf(ev->reason, sizeof ev->reason, "journal error: %s", why);
}

/*
 * Apply every operation of the batch. Careful, each runs in a savepoint,
 * so one that fails on its own (not the disk) is refused alone; else the
 * first failure is returned as it is.
 */
static int
apply_all(struct journal *j, struct op *batch, int *scheduled, bool careful)
{
    struct op *op;
    int rc;

    for (op = batch; op; op = op->next) {
        if (careful && (rc = run(j->savepoint)) != SQLITE_OK)
            return rc;
        rc = apply(j, op, scheduled);
        if (rc == SQLITE_OK) {
            if (careful && (rc = run(j->release)) != SQLITE_OK)
                return rc;
            continue;
        }
        if (!careful || is_disk_error(rc))
            return rc;
        log_error("journal", "%s: operation refused: %s", j->path,
                  error_text(j->db, rc));
        if (op->type == OP_EVENT)
            fail_event(op->u.ev, error_text(j->db, rc));
        run(j->rollback_to);
        run(j->release);
        if ((rc = pipeline_rebuild_index(j->pipeline)) != SQLITE_OK)
            return rc;
    }
    return SQLITE_OK;
}

/* Undo the open transaction, and what the alert index learnt in it. */
static void
roll_back(struct journal *j)
{
    exec(j->db, "ROLLBACK");
    pipeline_rebuild_index(j->pipeline);
}

/*
 * Apply a batch in one transaction. Savepoints per operation cost the
 * writer two statements each, so the batch first runs without them and
 * only starts over carefully when an operation failed on its own.
 * Returns SQLITE_OK or the disk error that aborted the batch.
 */
static int
apply_batch(struct journal *j, struct op *batch, int *scheduled)
{
    int rc;

    if ((rc = run(j->begin)) != SQLITE_OK)
        return rc;
    rc = apply_all(j, batch, scheduled, false);
    if (rc != SQLITE_OK && !is_disk_error(rc)) {
        roll_back(j);
        *scheduled = 0;
        if ((rc = run(j->begin)) == SQLITE_OK)
            rc = apply_all(j, batch, scheduled, true);
    }
    if (rc == SQLITE_OK)
        rc = run(j->commit);
    if (rc != SQLITE_OK) {
        log_error("journal", "%s: transaction of the batch failed: %s",
                  j->path, sqlite3_errmsg(j->db));
        roll_back(j);
    }
    return rc;
}

/* Complete the batch's operations; failed results go back to retry. */
static void
finish_batch(struct journal *j, struct op *batch, int rc)
{
    struct op *op, *next;

    for (op = batch; op; op = next) {
        next = op->next;
        if (rc != SQLITE_OK && op->type == OP_RESULT) {
            op->next = j->retry;
            j->retry = op;
            continue;
        }
        if (op->type == OP_EVENT) {
            if (rc != SQLITE_OK) {
                op->u.ev->outcome = JOURNAL_UNAVAILABLE;
                snprintf(op->u.ev->reason, sizeof op->u.ev->reason,
                         "journal is not writable");
            }
            op->u.ev->done(op->u.ev);
        } else if (op->type == OP_RESULT && op->u.res->done) {
            op->u.res->done(op->u.res);
        } else if (op->type == OP_ACK) {
            op->u.ack->stored = rc == SQLITE_OK;
            op->u.ack->done(op->u.ack);
        }
        free(op);
    }
}

/* Take the queue, or wait for it; an idle writer probes the disk so
   /healthz stays truthful without traffic. Results that failed to be
   written earlier come first, in their original order. */
static struct op *
take_batch(struct journal *j, bool *stopping)
{
    struct timespec until;
    struct op *batch, *r;

    pthread_mutex_lock(&j->lock);
    if (!j->head && !j->stopping) {
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += j->retry || !atomic_load(&j->writable) ? 1 : 5;
        pthread_cond_timedwait(&j->wake, &j->lock, &until);
    }
    batch = j->head;
    j->head = j->tail = NULL;
    *stopping = j->stopping;
    pthread_mutex_unlock(&j->lock);

    while ((r = j->retry)) {
        j->retry = r->next;
        r->next = batch;
        batch = r;
    }
    return batch;
}

/* At shutdown, results that still cannot be written are dropped: their
   pushes may repeat after a restart, which is better than a miss. */
static void
drop_retries(struct journal *j)
{
    struct op *op;
    int n = 0;

    while ((op = j->retry)) {
        j->retry = op->next;
        if (op->u.res->done)
            op->u.res->done(op->u.res);
        free(op);
        n++;
    }
    if (n)
        log_error("journal", "%s: %d delivery results could not be "
                  "written; those pushes may repeat after a restart",
                  j->path, n);
}

static void
probe(struct journal *j)
{
    int rc = exec(j->db, "BEGIN IMMEDIATE; "
                  "UPDATE meta SET value = value + 1 WHERE name = 'probe'; "
                  "COMMIT");

    if (rc != SQLITE_OK)
        exec(j->db, "ROLLBACK");
    if ((rc == SQLITE_OK) != atomic_load(&j->writable))
        log_warn("journal", "%s: %s", j->path, rc == SQLITE_OK ?
                 "writable again" : sqlite3_errmsg(j->db));
    atomic_store(&j->writable, rc == SQLITE_OK);
}

static void *
writer_main(void *arg)
{
    struct journal *j = arg;
    struct op *batch;
    int rc, scheduled;
    bool stopping;

    for (;;) {
        batch = take_batch(j, &stopping);
        if (!batch) {
            if (stopping)
                break;
            probe(j);
            continue;
        }
        scheduled = 0;
        rc = apply_batch(j, batch, &scheduled);
        if ((rc == SQLITE_OK) != atomic_load(&j->writable))
            log_warn("journal", "%s: %s", j->path, rc == SQLITE_OK ?
                     "writable again" : "not writable, refusing events");
        atomic_store(&j->writable, rc == SQLITE_OK);
        finish_batch(j, batch, rc);
        if (rc == SQLITE_OK && scheduled && j->on_scheduled)
            j->on_scheduled(j->on_scheduled_arg);
        if (stopping && j->retry)
            drop_retries(j);
    }
    return NULL;
}

static void
journal_stop_checkpointer(struct journal *j)
{
    pthread_mutex_lock(&j->lock);
    j->stopping = true;
    pthread_cond_signal(&j->checkpoint_wake);
    pthread_mutex_unlock(&j->lock);
    pthread_join(j->checkpointer, NULL);
    sqlite3_close(j->checkpoint_db);
}

/* Open the writer's connection, the schema and its statements. */
static int
open_database(struct journal *j, char *err, size_t errlen)
{
    mode_t old_mask = umask(077);   /* payloads and recipients: owner */
    int rc;

    rc = sqlite3_open_v2(j->path, &j->db, SQLITE_OPEN_READWRITE |
                         SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    umask(old_mask);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s", j->db ? sqlite3_errmsg(j->db) :
                 "out of memory");
        return -1;
    }
    if (journal_schema_apply(j->db, err, errlen) < 0 ||
        !(j->pipeline = pipeline_new(j->db, err, errlen)))
        return -1;
    if (prepare_transaction_statements(j) < 0) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(j->db));
        return -1;
    }
    chmod(j->path, 0600);
    return 0;
}

static int
start_checkpointer(struct journal *j, char *err, size_t errlen)
{
    if (sqlite3_open_v2(j->path, &j->checkpoint_db, SQLITE_OPEN_READWRITE |
                        SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "checkpoint connection: %s",
                 sqlite3_errmsg(j->checkpoint_db));
        return -1;
    }
    sqlite3_busy_timeout(j->checkpoint_db, 1000);
    /* A connection learns the database is in WAL mode on first read. */
    exec(j->checkpoint_db, "SELECT count(*) FROM meta");
    if (pthread_create(&j->checkpointer, NULL, checkpointer_main, j) != 0) {
        snprintf(err, errlen, "cannot start the checkpoint thread");
        return -1;
    }
    j->checkpointer_started = true;
    sqlite3_wal_hook(j->db, wal_hook, j);
    return 0;
}

/* Release what journal_open set up, whatever it got to. */
static void
journal_free(struct journal *j)
{
    if (j->checkpointer_started)
        journal_stop_checkpointer(j);
    else
        sqlite3_close(j->checkpoint_db);
    finalize_transaction_statements(j);
    pipeline_free(j->pipeline);
    sqlite3_close(j->db);
    pthread_mutex_destroy(&j->lock);
    pthread_cond_destroy(&j->wake);
    pthread_cond_destroy(&j->checkpoint_wake);
    free(j->path);
    free(j);
}

struct journal *
journal_open(const char *path, char *err, size_t errlen)
{
    struct journal *j = calloc(1, sizeof *j);

    if (!j || !(j->path = strdup(path))) {
        snprintf(err, errlen, "out of memory");
        free(j);
        return NULL;
    }
    pthread_mutex_init(&j->lock, NULL);
    pthread_cond_init(&j->wake, NULL);
    pthread_cond_init(&j->checkpoint_wake, NULL);
    atomic_store(&j->writable, true);
    if (open_database(j, err, errlen) < 0 ||
        start_checkpointer(j, err, errlen) < 0)
        goto fail;
    if (pthread_create(&j->writer, NULL, writer_main, j) != 0) {
        snprintf(err, errlen, "cannot start the writer thread");
        goto fail;
    }
    return j;

fail:
    journal_free(j);
    return NULL;
}

void
journal_close(struct journal *j)
{
    if (!j)
        return;
    pthread_mutex_lock(&j->lock);
    j->stopping = true;
    pthread_cond_signal(&j->wake);
    pthread_mutex_unlock(&j->lock);
    pthread_join(j->writer, NULL);
    exec(j->db, "PRAGMA wal_checkpoint(TRUNCATE)");
    journal_free(j);
}

void
journal_on_scheduled(struct journal *j, void (*fn)(void *), void *arg)
{
    j->on_scheduled = fn;
    j->on_scheduled_arg = arg;
}

bool
journal_writable(struct journal *j)
{
    return atomic_load(&j->writable);
}

sqlite3 *
journal_reader(struct journal *j, char *err, size_t errlen)
{
    sqlite3 *db = NULL;

    if (sqlite3_open_v2(j->path, &db, SQLITE_OPEN_READONLY |
                        SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s", db ? sqlite3_errmsg(db) :
                 "out of memory");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 5000);
    return db;
}
