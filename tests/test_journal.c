/*
 * The journal and the alert state machine on a real SQLite file: what
 * each event becomes, which deliveries are scheduled, results, receipts,
 * acknowledgements, pruning, and group commit under concurrency.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "server/clock.h"
#include "server/journal.h"
#include "tests/support/testutil.h"

struct env {
    char *dir;
    char path[512];
    struct journal *j;
    sqlite3 *db;            /* for checking rows */
};

struct waiter {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int done;
};

static void
wake(struct waiter *w)
{
    pthread_mutex_lock(&w->lock);
    w->done = 1;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

static void
wait_done(struct waiter *w)
{
    pthread_mutex_lock(&w->lock);
    while (!w->done)
        pthread_cond_wait(&w->cond, &w->lock);
    pthread_mutex_unlock(&w->lock);
}

static void
event_done(struct journal_event *ev)
{
    wake(ev->ctx);
}

static void
result_done(struct delivery_result *res)
{
    wake(res->ctx);
}

static void
ack_done(struct journal_ack *ack)
{
    wake(ack->ctx);
}

static int
setup(void **state)
{
    struct env *e = calloc(1, sizeof *e);
    char err[256];

    e->dir = test_tempdir();
    snprintf(e->path, sizeof e->path, "%s/j.db", e->dir);
    e->j = journal_open(e->path, err, sizeof err);
    if (!e->j)
        fail_msg("journal_open: %s", err);
    e->db = journal_reader(e->j, err, sizeof err);
    assert_non_null(e->db);
    *state = e;
    return 0;
}

static int
teardown(void **state)
{
    struct env *e = *state;

    sqlite3_close(e->db);
    journal_close(e->j);
    test_rmtree(e->dir);
    free(e->dir);
    free(e);
    clock_set_fake_ms(0);
    return 0;
}

/* One alert with its decision and revision, submitted and waited for. */
static struct journal_event
submit_revision(struct env *e, const char *key, enum alert_state st,
                const char *const *to, bool deliver, const char *revision)
{
    struct waiter w = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER };
    struct journal_event ev = { 0 };
    struct decision d = { 0 };
    struct alert a;
    size_t n = 0;

    alert_init(&a, SOURCE_GENERIC);
    alert_set(&a.key, key);
    alert_set(&a.title, "title");
    alert_set(&a.revision, revision);
    a.state = st;
    while (to && to[n])
        n++;
    d.recipients = calloc(n + 1, sizeof *d.recipients);
    for (n = 0; to && to[n]; n++)
        d.recipients[n] = strdup(to[n]);
    d.priority = 1;
    ev.alert = &a;
    ev.decision = &d;
    ev.body = "{\"title\":\"title\"}";
    ev.body_len = strlen(ev.body);
    ev.content_type = "application/json";
    ev.received_ms = clock_now_ms();
    ev.deliver = deliver;
    ev.done = event_done;
    ev.ctx = &w;
    journal_submit(e->j, &ev);
    wait_done(&w);
    decision_free(&d);
    alert_free(&a);
    ev.alert = NULL;
    ev.decision = NULL;
    return ev;
}

static struct journal_event
submit(struct env *e, const char *key, enum alert_state st,
       const char *const *to, bool deliver)
{
    return submit_revision(e, key, st, to, deliver, NULL);
}

static long long
count(struct env *e, const char *sql)
{
    sqlite3_stmt *s;
    long long n = -1;

    assert_int_equal(sqlite3_prepare_v2(e->db, sql, -1, &s, NULL),
                     SQLITE_OK);
    if (sqlite3_step(s) == SQLITE_ROW)
        n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return n;
}

static const char *const alice_bob[] = { "alice", "bob", NULL };
static const char *const carol[] = { "carol", NULL };

static void
test_firing_event_is_stored_with_a_delivery_per_person(void **state)
{
    struct env *e = *state;
    struct journal_event ev = submit(e, "k1", ALERT_FIRING, alice_bob, true);
    struct stat st;

    assert_int_equal(ev.outcome, JOURNAL_QUEUED);
    assert_true(ev.id > 0);
    assert_int_equal(ev.deliveries, 2);
    assert_int_equal(count(e, "SELECT count(*) FROM events WHERE "
                           "CAST(body AS TEXT) = '{\"title\":\"title\"}'"),
                     1);
    assert_int_equal(count(e, "SELECT count(*) FROM deliveries WHERE "
                           "status = 'pending' AND kind = 'message'"), 2);
    assert_int_equal(count(e, "SELECT count(*) FROM alerts WHERE state = "
                           "'firing' AND recipients = "
                           "'[\"alice\",\"bob\"]'"), 1);
    assert_int_equal(stat(e->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
}

static void
test_same_state_again_is_a_duplicate_of_the_first(void **state)
{
    struct env *e = *state;
    struct journal_event first, again;

    first = submit(e, "k1", ALERT_FIRING, alice_bob, true);
    again = submit(e, "k1", ALERT_FIRING, alice_bob, true);
    assert_int_equal(again.outcome, JOURNAL_DUPLICATE);
    assert_int_equal(again.id, first.id);
    assert_int_equal(count(e, "SELECT count(*) FROM events"), 1);
    assert_int_equal(count(e, "SELECT count(*) FROM deliveries"), 2);
}

static void
test_a_new_revision_of_an_open_alert_is_news(void **state)
{
    struct env *e = *state;
    struct journal_event ev;

    submit_revision(e, "web", ALERT_FIRING, alice_bob, true, "r1");
    ev = submit_revision(e, "web", ALERT_FIRING, alice_bob, true, "r1");
    assert_int_equal(ev.outcome, JOURNAL_DUPLICATE);
    ev = submit_revision(e, "web", ALERT_FIRING, alice_bob, true, "r2");
    assert_int_equal(ev.outcome, JOURNAL_QUEUED);
    assert_int_equal(ev.deliveries, 2);
    assert_int_equal(count(e, "SELECT count(*) FROM alerts WHERE "
                           "revision = 'r2'"), 1);
    ev = submit_revision(e, "web", ALERT_RESOLVED, NULL, true, NULL);
    assert_int_equal(ev.outcome, JOURNAL_QUEUED);
    ev = submit_revision(e, "web", ALERT_RESOLVED, NULL, true, NULL);
    assert_int_equal(ev.outcome, JOURNAL_DUPLICATE);
}

static void
test_resolve_reaches_those_who_heard_it_fire(void **state)
{
    struct env *e = *state;
    struct journal_event ev;

    submit(e, "k1", ALERT_FIRING, alice_bob, true);
    /* On call changed meanwhile: the resolve still goes to alice, bob. */
    ev = submit(e, "k1", ALERT_RESOLVED, carol, true);
    assert_int_equal(ev.outcome, JOURNAL_QUEUED);
    assert_int_equal(ev.deliveries, 2);
    assert_int_equal(count(e, "SELECT count(*) FROM deliveries WHERE "
                           "person = 'carol'"), 0);
    assert_int_equal(count(e, "SELECT count(*) FROM alerts WHERE state = "
                           "'resolved'"), 1);
    /* Firing again after a resolve is a new state: pushed again. */
    ev = submit(e, "k1", ALERT_FIRING, alice_bob, true);
    assert_int_equal(ev.outcome, JOURNAL_QUEUED);
    assert_int_equal(count(e, "SELECT count(*) FROM deliveries"), 6);
}

static void
test_resolve_of_unknown_key_is_stored_and_ignored(void **state)
{
    struct env *e = *state;
    struct journal_event ev = submit(e, "never-fired", ALERT_RESOLVED,
                                     alice_bob, true);

    assert_int_equal(ev.outcome, JOURNAL_IGNORED);
    assert_string_equal(ev.reason, "no open alert with this key");
    assert_int_equal(count(e, "SELECT count(*) FROM events WHERE outcome = "
                           "'ignored'"), 1);
    assert_int_equal(count(e, "SELECT count(*) FROM deliveries"), 0);
}

static void
test_delivery_off_schedules_nothing_but_keeps_the_alert(void **state)
{
    struct env *e = *state;
    struct journal_event ev = submit(e, "k1", ALERT_FIRING, alice_bob,
                                     false);

    assert_int_equal(ev.outcome, JOURNAL_QUEUED);
    assert_int_equal(ev.deliveries, 0);
    assert_int_equal(count(e, "SELECT count(*) FROM alerts"), 1);
    assert_int_equal(count(e, "SELECT count(*) FROM deliveries"), 0);
}

static int64_t
delivery_id(struct env *e, const char *person)
{
    char sql[160];

    snprintf(sql, sizeof sql, "SELECT max(id) FROM deliveries WHERE "
             "person = '%s' AND kind = 'message'", person);
    return count(e, sql);
}

static void
record(struct env *e, int64_t id, enum delivery_status status,
       const char *receipt)
{
    struct waiter w = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER };
    struct delivery_result res = { 0 };

    res.delivery_id = id;
    res.status = status;
    res.next_ms = clock_now_ms() + 60000;
    snprintf(res.receipt, sizeof res.receipt, "%s", receipt);
    snprintf(res.answer, sizeof res.answer, "req-1");
    res.done = result_done;
    res.ctx = &w;
    journal_record(e->j, &res);
    wait_done(&w);
}

static void
test_results_are_recorded(void **state)
{
    struct env *e = *state;

    submit(e, "k1", ALERT_FIRING, alice_bob, true);
    record(e, delivery_id(e, "alice"), DELIVERY_SENT, "");
    record(e, delivery_id(e, "bob"), DELIVERY_RETRY, "");
    assert_int_equal(count(e, "SELECT count(*) FROM deliveries WHERE "
                           "person = 'alice' AND status = 'sent' AND "
                           "attempts = 1 AND answer = 'req-1'"), 1);
    assert_int_equal(count(e, "SELECT count(*) FROM deliveries WHERE "
                           "person = 'bob' AND status = 'pending' AND "
                           "attempts = 1"), 1);
    record(e, delivery_id(e, "bob"), DELIVERY_FAILED, "");
    assert_int_equal(count(e, "SELECT count(*) FROM deliveries WHERE "
                           "status = 'failed' AND attempts = 2"), 1);
}

static void
test_resolve_cancels_emergency_receipts_even_late_ones(void **state)
{
    struct env *e = *state;

    submit(e, "k1", ALERT_FIRING, alice_bob, true);
    record(e, delivery_id(e, "alice"), DELIVERY_SENT, "rcptA");
    submit(e, "k1", ALERT_RESOLVED, NULL, true);
    assert_int_equal(count(e, "SELECT count(*) FROM deliveries WHERE "
                           "kind = 'cancel' AND receipt = 'rcptA' AND "
                           "person = 'alice'"), 1);
    /* bob's emergency push was accepted only after the resolve. */
    record(e, count(e, "SELECT min(id) FROM deliveries WHERE person = "
                    "'bob'"), DELIVERY_SENT, "rcptB");
    assert_int_equal(count(e, "SELECT count(*) FROM deliveries WHERE "
                           "kind = 'cancel'"), 2);
}

static void
test_acknowledgement_by_receipt(void **state)
{
    struct env *e = *state;
    struct waiter w = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER };
    struct journal_ack ack = { 0 };

    submit(e, "k1", ALERT_FIRING, alice_bob, true);
    record(e, delivery_id(e, "alice"), DELIVERY_SENT, "rcptA");
    record(e, delivery_id(e, "bob"), DELIVERY_SENT, "rcptB");
    snprintf(ack.receipt, sizeof ack.receipt, "rcptA");
    ack.done = ack_done;
    ack.ctx = &w;
    journal_acknowledge(e->j, &ack);
    wait_done(&w);
    assert_true(ack.stored);
    assert_true(ack.found);
    assert_string_equal(ack.source, "generic");
    assert_string_equal(ack.key, "k1");
    assert_int_equal(count(e, "SELECT count(*) FROM alerts WHERE state = "
                           "'acknowledged' AND siren = 0"), 1);
    assert_int_equal(count(e, "SELECT count(*) FROM deliveries WHERE "
                           "kind = 'cancel'"), 2);
}

static void
test_prune_removes_only_old_rows(void **state)
{
    struct env *e = *state;
    int64_t now = clock_now_ms();

    clock_set_fake_ms(now - 40LL * 86400 * 1000);
    submit(e, "old", ALERT_FIRING, alice_bob, true);
    record(e, delivery_id(e, "alice"), DELIVERY_SENT, "");
    submit(e, "forgotten", ALERT_FIRING, alice_bob, false);
    clock_set_fake_ms(now);
    submit(e, "new", ALERT_FIRING, alice_bob, true);
    journal_prune(e->j, 30);
    /* The prune is queued; a later event completes after it. */
    submit(e, "later", ALERT_FIRING, NULL, true);
    assert_int_equal(count(e, "SELECT count(*) FROM events"), 2);
    /* bob's old delivery is still pending: kept. */
    assert_int_equal(count(e, "SELECT count(*) FROM deliveries WHERE "
                           "person = 'alice'"), 1);
    assert_int_equal(count(e, "SELECT count(*) FROM deliveries WHERE "
                           "person = 'bob'"), 2);
    /* An alert still firing after 40 days of silence is forgotten,
       unless a push for it is still waiting. */
    assert_int_equal(count(e, "SELECT count(*) FROM alerts WHERE "
                           "dedup_key = 'forgotten'"), 0);
    assert_int_equal(count(e, "SELECT count(*) FROM alerts WHERE "
                           "dedup_key = 'old'"), 1);
    assert_int_equal(submit(e, "forgotten", ALERT_FIRING, NULL,
                            false).outcome, JOURNAL_QUEUED);
}

static void
test_state_survives_reopening(void **state)
{
    struct env *e = *state;
    struct journal_event ev;
    char err[256];

    submit(e, "k1", ALERT_FIRING, alice_bob, true);
    sqlite3_close(e->db);
    journal_close(e->j);
    e->j = journal_open(e->path, err, sizeof err);
    assert_non_null(e->j);
    e->db = journal_reader(e->j, err, sizeof err);
    ev = submit(e, "k1", ALERT_FIRING, alice_bob, true);
    assert_int_equal(ev.outcome, JOURNAL_DUPLICATE);
    assert_int_equal(count(e, "SELECT count(*) FROM deliveries WHERE "
                           "status = 'pending'"), 2);
}

/* Several events in flight at once, so they share a batch; the middle
   one cannot be stored (no key). */
static void
test_one_bad_event_in_a_batch_is_refused_alone(void **state)
{
    struct env *e = *state;
    struct waiter w[5];
    struct journal_event ev[5];
    struct decision d = { 0 };
    struct alert a[5];
    char key[16];
    int i;

    for (i = 0; i < 5; i++) {
        pthread_mutex_init(&w[i].lock, NULL);
        pthread_cond_init(&w[i].cond, NULL);
        w[i].done = 0;
        alert_init(&a[i], SOURCE_GENERIC);
        snprintf(key, sizeof key, "b%d", i);
        alert_set(&a[i].key, i == 2 ? NULL : key);
        alert_set(&a[i].title, "t");
        memset(&ev[i], 0, sizeof ev[i]);
        ev[i].alert = &a[i];
        ev[i].decision = &d;
        ev[i].body = "{}";
        ev[i].body_len = 2;
        ev[i].received_ms = clock_now_ms();
        ev[i].done = event_done;
        ev[i].ctx = &w[i];
    }
    for (i = 0; i < 5; i++)
        journal_submit(e->j, &ev[i]);
    for (i = 0; i < 5; i++) {
        wait_done(&w[i]);
        assert_int_equal(ev[i].outcome, i == 2 ? JOURNAL_UNAVAILABLE :
                         JOURNAL_QUEUED);
        alert_free(&a[i]);
    }
    assert_non_null(strstr(ev[2].reason, "journal error"));
    assert_int_equal(count(e, "SELECT count(*) FROM events"), 4);
    assert_int_equal(count(e, "SELECT count(*) FROM alerts"), 4);
    /* The index kept what was stored, and nothing else. */
    assert_int_equal(submit(e, "b1", ALERT_FIRING, NULL, true).outcome,
                     JOURNAL_DUPLICATE);
}

struct burst {
    struct env *e;
    int first;
    int64_t ids[50];
};

static void *
post_burst(void *arg)
{
    struct burst *b = arg;
    char key[32];
    int i;

    for (i = 0; i < 50; i++) {
        snprintf(key, sizeof key, "burst-%d", b->first + i);
        struct journal_event ev = submit(b->e, key, ALERT_FIRING, carol,
                                         true);
        assert_int_equal(ev.outcome, JOURNAL_QUEUED);
        b->ids[i] = ev.id;
    }
    return NULL;
}

static void
test_concurrent_events_each_get_their_own_id(void **state)
{
    struct env *e = *state;
    struct burst b[8];
    pthread_t t[8];
    int i, k;

    for (i = 0; i < 8; i++) {
        b[i].e = e;
        b[i].first = i * 50;
        pthread_create(&t[i], NULL, post_burst, &b[i]);
    }
    for (i = 0; i < 8; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(count(e, "SELECT count(DISTINCT id) FROM events"), 400);
    assert_int_equal(count(e, "SELECT count(*) FROM deliveries"), 400);
    for (i = 0; i < 8; i++) {
        for (k = 0; k < 50; k++)
            assert_true(b[i].ids[k] > 0);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_firing_event_is_stored_with_a_delivery_per_person),
        T(test_same_state_again_is_a_duplicate_of_the_first),
        T(test_a_new_revision_of_an_open_alert_is_news),
        T(test_resolve_reaches_those_who_heard_it_fire),
        T(test_resolve_of_unknown_key_is_stored_and_ignored),
        T(test_delivery_off_schedules_nothing_but_keeps_the_alert),
        T(test_results_are_recorded),
        T(test_resolve_cancels_emergency_receipts_even_late_ones),
        T(test_acknowledgement_by_receipt),
        T(test_prune_removes_only_old_rows),
        T(test_state_survives_reopening),
        T(test_concurrent_events_each_get_their_own_id),
        T(test_one_bad_event_in_a_batch_is_refused_alone),
#undef T
    };

    return cmocka_run_group_tests_name("journal", tests, NULL, NULL);
}
