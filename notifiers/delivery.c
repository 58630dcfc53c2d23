/*
 * The delivery loop.
 *
 * Due deliveries are read from the journal, at most MAX_IN_FLIGHT at a
 * time, and sent with libcurl's multi interface; the multi handle keeps
 * one connection to the provider (HTTP/2 streams share it, HTTP/1.1
 * requests queue on it). Each answer becomes a row update queued to the
 * journal writer. A delivery stays "busy" from the moment it is picked
 * until its result is committed, so it is never sent twice in one run;
 * a crash between the send and the commit can repeat it once after a
 * restart, which alerting prefers to a miss.
 *
 * A result is committed on the writer thread while this thread may be
 * reading an older snapshot of the journal, in which the delivery still
 * looks pending. So a delivery leaves the busy set only at the start of
 * the next read, which is sure to see the commit.
 *
 * Order: a person's deliveries for one alert go out one at a time in the
 * order they were scheduled (the query skips any with an earlier one
 * still pending), so a resolve notice never overtakes its alert.
 */
#include "notifiers/delivery.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notifiers/pushover.h"
#include "notifiers/retry.h"
#include "server/clock.h"
#include "server/live_config.h"
#include "server/log.h"
#include "server/metrics.h"

/* Pushes sent or being sent whose result is not yet committed: also the
   most that a crash can make klaxon send a second time. */
#define MAX_IN_FLIGHT 8
#define IDLE_WAIT_MS 5000

static const char due_sql[] =
    "SELECT d.id, d.person, d.kind, d.priority, d.title, d.message, d.url,"
    " d.url_title, d.timestamp, d.receipt, d.attempts, d.created_ms"
    " FROM deliveries d"
    " WHERE d.status = 'pending' AND d.next_ms <= ?1"
    " AND NOT EXISTS (SELECT 1 FROM deliveries e"
    "  WHERE e.alert_id = d.alert_id AND e.person = d.person"
    "  AND e.status = 'pending' AND e.id < d.id)"
    " ORDER BY d.next_ms, d.id LIMIT ?2";

static const char next_sql[] =
    "SELECT min(next_ms), count(*) FROM deliveries WHERE status = 'pending'";

struct transfer {
    struct delivery *d;
    CURL *h;
    struct pushover_answer ans;
    char *body;
    char *url;
    struct delivery_result res;
    int64_t id;
    char person[64];
    char kind[8];
    int attempts;
    int64_t created_ms;
};

struct delivery {
    struct journal *journal;
    sqlite3 *db;
    sqlite3_stmt *due, *next;
    CURLM *multi;           /* made at the first push, under lock */
    pthread_t thread;
    pthread_cond_t wake;    /* sleeps on this until multi exists */
    bool woken;
    atomic_bool stopping;
    int in_flight;

    /* Deliveries picked and not yet seen committed; the journal's
       completion callback runs on the writer thread, hence the lock. */
    pthread_mutex_t lock;
    struct busy {
        int64_t id;
        bool committed;     /* result on disk; drop before the next read */
    } busy[MAX_IN_FLIGHT];
    int nbusy;

    /* Pushover failed, then took a push again: deliveries waiting out
       their backoff go now rather than minutes after it recovered. */
    bool failing;
    bool expedite;
};

static bool
is_busy(struct delivery *d, int64_t id)
{
    bool found = false;
    int i;

    pthread_mutex_lock(&d->lock);
    for (i = 0; i < d->nbusy && !found; i++)
        found = d->busy[i].id == id;
    pthread_mutex_unlock(&d->lock);
    return found;
}

/* Forget deliveries whose results are committed. Called before a read
   of the journal, whose snapshot then includes those commits. */
static void
drop_committed(struct delivery *d)
{
    int i = 0;

    pthread_mutex_lock(&d->lock);
    while (i < d->nbusy) {
        if (d->busy[i].committed)
            d->busy[i] = d->busy[--d->nbusy];
        else
            i++;
    }
    pthread_mutex_unlock(&d->lock);
}

static int
busy_count(struct delivery *d)
{
    int n;

    pthread_mutex_lock(&d->lock);
    n = d->nbusy;
    pthread_mutex_unlock(&d->lock);
    return n;
}

static void
mark_busy(struct delivery *d, int64_t id)
{
    pthread_mutex_lock(&d->lock);
    d->busy[d->nbusy].id = id;
    d->busy[d->nbusy++].committed = false;
    pthread_mutex_unlock(&d->lock);
}

/* The journal committed a result: after the next read, the delivery may
   be picked again (if it is to be retried). */
static void
recorded(struct delivery_result *res)
{
    struct transfer *t = res->ctx;
    struct delivery *d = t->d;
    int i;

    pthread_mutex_lock(&d->lock);
    for (i = 0; i < d->nbusy; i++) {
        if (d->busy[i].id == t->id)
            d->busy[i].committed = true;
    }
    pthread_mutex_unlock(&d->lock);
    delivery_wake(d);
    pushover_answer_free(&t->ans);
    free(t->body);
    free(t->url);
    free(t);
}

static void
record(struct transfer *t, enum delivery_status status, int64_t next_ms,
       const char *answer)
{
    t->res.delivery_id = t->id;
    t->res.status = status;
    t->res.next_ms = next_ms;
    snprintf(t->res.answer, sizeof t->res.answer, "%s", answer);
    t->res.done = recorded;
    t->res.ctx = t;
    journal_record(t->d->journal, &t->res);
}

static const char *
column(sqlite3_stmt *s, int i)
{
    return (const char *)sqlite3_column_text(s, i);
}

/* The request for a message row: the alert's text for this person. */
static int
prepare_message(struct transfer *t, sqlite3_stmt *s, const struct config *cfg,
                const char *user)
{
    struct pushover_message m;
    struct alert a;
    int rc = -1;

    alert_init(&a, SOURCE_GENERIC);
    if (alert_set(&a.title, column(s, 4)) == 0 &&
        alert_set(&a.message, column(s, 5)) == 0 &&
        alert_set(&a.url, column(s, 6)) == 0 &&
        alert_set(&a.url_title, column(s, 7)) == 0) {
        a.time = (time_t)sqlite3_column_int64(s, 8);
        if (pushover_message_init(&m, &a, user, sqlite3_column_int(s, 3),
                                  &cfg->pushover) == 0) {
            t->body = pushover_encode(&m, cfg->pushover.token);
            t->url = strdup(cfg->pushover.api_url);
            rc = t->body && t->url ? 0 : -1;
        }
        pushover_message_free(&m);
    }
    alert_free(&a);
    return rc;
}

/*
 * libcurl and its TLS library are set up only when the first push is
 * due: a relay that never pushes (delivery off, a quiet week) does not
 * carry their few megabytes of state.
 */
static int
ensure_multi(struct delivery *d)
{
    CURLM *m;

    if (d->multi)
        return 0;
    if (!(m = curl_multi_init())) {
        log_error("pushover", "cannot set up libcurl; pushes wait");
        return -1;
    }
    curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, 1L);
    curl_multi_setopt(m, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
    pthread_mutex_lock(&d->lock);
    d->multi = m;
    pthread_mutex_unlock(&d->lock);
    return 0;
}

/* Start sending one due row, or record why it cannot be sent. */
static void
start(struct delivery *d, sqlite3_stmt *s, const struct config *cfg)
{
    struct transfer *t = calloc(1, sizeof *t);
    const struct person *p;
    const char *why = NULL;
    int rc;

    if (!t)
        return;
    t->d = d;
    t->id = sqlite3_column_int64(s, 0);
    snprintf(t->person, sizeof t->person, "%s", column(s, 1));
    snprintf(t->kind, sizeof t->kind, "%s", column(s, 2));
    t->attempts = sqlite3_column_int(s, 10);
    t->created_ms = sqlite3_column_int64(s, 11);
    mark_busy(d, t->id);

    p = config_person(cfg, t->person);
    if (!p || !p->pushover) {
        why = "person is no longer configured with a pushover key";
    } else if (strcmp(t->kind, "cancel") == 0) {
        t->url = pushover_cancel_url(cfg->pushover.api_url, column(s, 9));
        t->body = pushover_cancel_body(cfg->pushover.token);
        if (!t->url || !t->body)
            why = "cannot build the cancel request for this receipt";
    } else if (prepare_message(t, s, cfg, p->pushover) < 0) {
        why = "cannot build the message";
    }
    if (why) {
        log_error("pushover", "delivery %lld to %s: %s", (long long)t->id,
                  t->person, why);
        metrics_delivery(DELIVERY_OUTCOME_FAILED, 0);
        record(t, DELIVERY_FAILED, 0, why);
        return;
    }
    t->h = ensure_multi(d) == 0 ? curl_easy_init() : NULL;
    rc = t->h ? pushover_easy_setup(t->h, t->url, t->body,
                                    cfg->pushover.token,
                                    p->pushover, &cfg->pushover, &t->ans) :
                -1;
    if (rc < 0) {
        /* Out of memory: leave the row pending and try again later. */
        curl_easy_cleanup(t->h);
        record(t, DELIVERY_RETRY, clock_now_ms() + RETRY_BASE_MS,
               "out of memory");
        return;
    }
    curl_easy_setopt(t->h, CURLOPT_PRIVATE, t);
    curl_easy_setopt(t->h, CURLOPT_PIPEWAIT, 1L);
    curl_multi_add_handle(d->multi, t->h);
    d->in_flight++;
}

/* Pick due rows that are not busy and start them. */
static void
start_due(struct delivery *d)
{
    const struct config *cfg;
    int room, limit, rows = 0;

    drop_committed(d);
    if ((room = MAX_IN_FLIGHT - busy_count(d)) <= 0)
        return;
    cfg = live_config_acquire();
    if (!cfg->pushover.token) {
        live_config_release(cfg);
        return;
    }
    sqlite3_reset(d->due);
    sqlite3_bind_int64(d->due, 1, d->expedite ? INT64_MAX : clock_now_ms());
    /* Busy rows may come first: ask for enough to fill the room. */
    limit = room + MAX_IN_FLIGHT + 1;
    sqlite3_bind_int(d->due, 2, limit);
    while (room > 0 && sqlite3_step(d->due) == SQLITE_ROW) {
        rows++;
        if (is_busy(d, sqlite3_column_int64(d->due, 0)))
            continue;
        start(d, d->due, cfg);
        room--;
    }
    sqlite3_reset(d->due);
    if (room > 0 && rows < limit)
        d->expedite = false;    /* nothing more is waiting */
    live_config_release(cfg);
}

/* Turn a finished transfer's answer into the row's next state. */
static void
finish(struct transfer *t, int give_up_after)
{
    struct pushover_result res;
    int64_t now = clock_now_ms(), next;
    char quoted[200];

    pushover_classify(&t->ans, now, &res);
    log_quote(quoted, sizeof quoted, res.error);
    if (res.verdict == PUSHOVER_SENT && t->d->failing) {
        log_info("pushover", "taking pushes again; sending the ones "
                 "waiting to retry now");
        t->d->failing = false;
        t->d->expedite = true;
    } else if (res.verdict == PUSHOVER_RETRY) {
        t->d->failing = true;
    }
    if (res.verdict == PUSHOVER_SENT) {
        snprintf(t->res.receipt, sizeof t->res.receipt, "%s", res.receipt);
        log_info("pushover", "delivery %lld to %s: %s", (long long)t->id,
                 t->person, strcmp(t->kind, "cancel") == 0 ?
                 "emergency retries cancelled" : "sent");
        metrics_delivery(DELIVERY_OUTCOME_SENT, now - t->created_ms);
        record(t, DELIVERY_SENT, 0, res.request);
        return;
    }
    next = retry_at_ms(t->attempts + 1, now, res.retry_at_ms, retry_random,
                       NULL);
    if (res.verdict == PUSHOVER_REJECTED ||
        next - t->created_ms > (int64_t)give_up_after * 1000) {
        log_error("pushover", "delivery %lld to %s: %s after %d attempt%s: "
                  "%s", (long long)t->id, t->person,
                  res.verdict == PUSHOVER_REJECTED ? "rejected" : "gave up",
                  t->attempts + 1, t->attempts ? "s" : "", quoted);
        metrics_delivery(DELIVERY_OUTCOME_FAILED, 0);
        record(t, DELIVERY_FAILED, 0, res.error);
        return;
    }
    log_warn("pushover", "delivery %lld to %s: attempt %d failed, retrying "
             "in %llds: %s", (long long)t->id, t->person, t->attempts + 1,
             (long long)((next - now + 999) / 1000), quoted);
    metrics_delivery(DELIVERY_OUTCOME_RETRIED, 0);
    record(t, DELIVERY_RETRY, next, res.error);
}

static void
collect(struct delivery *d)
{
    const struct config *cfg = live_config_acquire();
    struct transfer *t;
    CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(d->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
        pushover_answer_done(t->h, msg->data.result, &t->ans);
        curl_multi_remove_handle(d->multi, t->h);
        curl_easy_cleanup(t->h);
        t->h = NULL;
        d->in_flight--;
        finish(t, cfg->pushover.give_up_after);
    }
    live_config_release(cfg);
}

/* How long to sleep: until the next future attempt, or a while. */
static int
wait_ms(struct delivery *d)
{
    int64_t now = clock_now_ms(), next;
    int ms = IDLE_WAIT_MS;

    if (d->expedite)
        return 50;
    sqlite3_reset(d->next);
    if (sqlite3_step(d->next) == SQLITE_ROW) {
        metrics_set_queue_depth(sqlite3_column_int64(d->next, 1));
        if (sqlite3_column_type(d->next, 0) != SQLITE_NULL) {
            next = sqlite3_column_int64(d->next, 0);
            if (next > now && next - now < ms)
                ms = (int)(next - now);
            else if (next <= now && busy_count(d) < MAX_IN_FLIGHT)
                ms = 200;
        }
    }
    sqlite3_reset(d->next);
    return ms;
}

/* Sleep up to ms, or until delivery_wake. */
static void
sleep_until_woken(struct delivery *d, int ms)
{
    struct timespec until;

    if (d->multi) {
        curl_multi_poll(d->multi, NULL, 0, ms, NULL);
        return;
    }
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&d->lock);
    if (!d->woken)
        pthread_cond_timedwait(&d->wake, &d->lock, &until);
    d->woken = false;
    pthread_mutex_unlock(&d->lock);
}

static void *
loop(void *arg)
{
    struct delivery *d = arg;
    int running;

    while (!atomic_load(&d->stopping) || d->in_flight > 0) {
        if (!atomic_load(&d->stopping))
            start_due(d);
        if (d->multi) {
            curl_multi_perform(d->multi, &running);
            collect(d);
        }
        sleep_until_woken(d, d->in_flight ? 1000 : wait_ms(d));
    }
    return NULL;
}

void
delivery_wake(void *arg)
{
    struct delivery *d = arg;

    pthread_mutex_lock(&d->lock);
    d->woken = true;
    pthread_cond_signal(&d->wake);
    if (d->multi)
        curl_multi_wakeup(d->multi);
    pthread_mutex_unlock(&d->lock);
}

static int
open_reader(struct delivery *d, char *err, size_t errlen)
{
    if (!(d->db = journal_reader(d->journal, err, errlen)))
        return -1;
    if (sqlite3_prepare_v2(d->db, due_sql, -1, &d->due, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(d->db, next_sql, -1, &d->next, NULL) !=
        SQLITE_OK) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(d->db));
        return -1;
    }
    return 0;
}

struct delivery *
delivery_start(struct journal *j, char *err, size_t errlen)
{
    struct delivery *d = calloc(1, sizeof *d);

    if (!d) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    d->journal = j;
    pthread_mutex_init(&d->lock, NULL);
    pthread_cond_init(&d->wake, NULL);
    if (open_reader(d, err, errlen) < 0)
        goto fail;
    if (pthread_create(&d->thread, NULL, loop, d) != 0) {
        snprintf(err, errlen, "cannot start the delivery thread");
        goto fail;
    }
    return d;

fail:
    sqlite3_finalize(d->due);
    sqlite3_finalize(d->next);
    sqlite3_close(d->db);
    pthread_mutex_destroy(&d->lock);
    pthread_cond_destroy(&d->wake);
    free(d);
    return NULL;
}

void
delivery_stop(struct delivery *d)
{
    if (!d)
        return;
    atomic_store(&d->stopping, true);
    delivery_wake(d);
    pthread_join(d->thread, NULL);
    sqlite3_finalize(d->due);
    sqlite3_finalize(d->next);
    sqlite3_close(d->db);
    if (d->multi)
        curl_multi_cleanup(d->multi);
    d->multi = NULL;
}

void
delivery_free(struct delivery *d)
{
    if (!d)
        return;
    pthread_mutex_destroy(&d->lock);
    pthread_cond_destroy(&d->wake);
    free(d);
}
