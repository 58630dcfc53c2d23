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

enum op_type { OP_EVENT, OP_RESULT, OP_PRUNE };

struct op {
    enum op_type type;
    union {
        struct journal_event *ev;
        struct delivery_result *res;
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
};

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

static int
exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL);
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
    case OP_PRUNE:
        return pipeline_prune(j->pipeline, op->u.days);
    }
    return SQLITE_MISUSE;
}

/* An event that fails on its own (not the disk) is refused alone. */
static void
fail_event(struct journal_event *ev, sqlite3 *db)
{
    ev->outcome = JOURNAL_UNAVAILABLE;
    snprintf(ev->reason, sizeof ev->reason, "journal error: %s",
             sqlite3_errmsg(db));
}

/* Apply a batch in one transaction. Returns SQLITE_OK or the disk error
   that aborted it. */
static int
apply_batch(struct journal *j, struct op *batch, int *scheduled)
{
    struct op *op;
    int rc;

    if ((rc = exec(j->db, "BEGIN IMMEDIATE")) != SQLITE_OK)
        return rc;
    for (op = batch; op; op = op->next) {
        if ((rc = exec(j->db, "SAVEPOINT op")) != SQLITE_OK)
            break;
        rc = apply(j, op, scheduled);
        if (rc == SQLITE_OK) {
            rc = exec(j->db, "RELEASE op");
            if (rc != SQLITE_OK)
                break;
            continue;
        }
        if (is_disk_error(rc))
            break;
        log_error("journal", "operation failed: %s", sqlite3_errmsg(j->db));
        if (op->type == OP_EVENT)
            fail_event(op->u.ev, j->db);
        exec(j->db, "ROLLBACK TO op");
        exec(j->db, "RELEASE op");
        rc = SQLITE_OK;
    }
    if (rc == SQLITE_OK)
        rc = exec(j->db, "COMMIT");
    if (rc != SQLITE_OK) {
        log_error("journal", "%s: transaction of the batch failed: %s",
                  j->path, sqlite3_errmsg(j->db));
        exec(j->db, "ROLLBACK");
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
            pipeline_log_event(op->u.ev);
            op->u.ev->done(op->u.ev);
        } else if (op->type == OP_RESULT && op->u.res->done) {
            op->u.res->done(op->u.res);
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
        until.tv_sec += j->retry ? 1 : 5;
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

struct journal *
journal_open(const char *path, char *err, size_t errlen)
{
    struct journal *j = calloc(1, sizeof *j);
    mode_t old_mask;
    int rc;

    if (!j || !(j->path = strdup(path))) {
        snprintf(err, errlen, "out of memory");
        free(j);
        return NULL;
    }
    /* The journal holds payloads and recipients: owner only. */
    old_mask = umask(077);
    rc = sqlite3_open_v2(path, &j->db, SQLITE_OPEN_READWRITE |
                         SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    umask(old_mask);
    if (rc != SQLITE_OK || journal_schema_apply(j->db, err, errlen) < 0 ||
        !(j->pipeline = pipeline_new(j->db, err, errlen))) {
        if (rc != SQLITE_OK)
            snprintf(err, errlen, "%s", sqlite3_errmsg(j->db));
        sqlite3_close(j->db);
        free(j->path);
        free(j);
        return NULL;
    }
    chmod(path, 0600);
    atomic_store(&j->writable, true);
    pthread_mutex_init(&j->lock, NULL);
    pthread_cond_init(&j->wake, NULL);
    if (pthread_create(&j->writer, NULL, writer_main, j) != 0) {
        snprintf(err, errlen, "cannot start the writer thread");
        pipeline_free(j->pipeline);
        sqlite3_close(j->db);
        free(j->path);
        free(j);
        return NULL;
    }
    return j;
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
    pipeline_free(j->pipeline);
    exec(j->db, "PRAGMA wal_checkpoint(TRUNCATE)");
    sqlite3_close(j->db);
    pthread_mutex_destroy(&j->lock);
    pthread_cond_destroy(&j->wake);
    free(j->path);
    free(j);
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

const char *
journal_path(const struct journal *j)
{
    return j->path;
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
