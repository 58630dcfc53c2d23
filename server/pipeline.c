/*
 * Alert state machine and delivery scheduling, applied on the journal
 * writer's connection inside its transaction.
 *
 * A repeat of a key in its current state (and revision, for senders that
 * revise an open alert) is a duplicate. "resolved" and
 * "acknowledged" act only on an open (firing or acknowledged) alert and
 * reach the people who heard of it firing. Priority-2 pushes keep their
 * receipt; resolving the alert schedules cancellation of each, including
 * receipts that arrive after the resolve.
 */
#include "server/pipeline.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/alert_index.h"
#include "server/clock.h"
#include "server/log.h"

enum stmt {
    ST_ALERT_BY_ID,
    ST_ADD_EVENT,
    ST_NEW_ALERT,
    ST_UPDATE_ALERT,
    ST_ALL_ALERTS,
    ST_ADD_DELIVERY,
    ST_OPEN_RECEIPTS,
    ST_SET_RESULT,
    ST_ALERT_STATE,
    ST_ACKNOWLEDGE,
    ST_COUNT
};

static const char *const sql[ST_COUNT] = {
    [ST_ALERT_BY_ID] =
        "SELECT source, dedup_key, state, last_event, recipients, revision"
        " FROM alerts WHERE id = ?1",
    [ST_ADD_EVENT] =
        "INSERT INTO events (received_ms, source, dedup_key, state, outcome,"
        " content_type, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_NEW_ALERT] =
        "INSERT INTO alerts (source, dedup_key, state, severity, priority,"
        " siren, title, message, url, recipients, first_ms, updated_ms,"
        " last_event, revision) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
        " ?10, ?11, ?11, ?12, ?13)",
    [ST_UPDATE_ALERT] =
        "UPDATE alerts SET state = ?3, severity = ?4, priority = ?5,"
        " siren = ?6, title = ?7, message = ?8, url = ?9,"
        " recipients = coalesce(?10, recipients), updated_ms = ?11,"
        " last_event = ?12, revision = ?13 WHERE id = ?14",
    [ST_ALL_ALERTS] =
        "SELECT id, source, dedup_key FROM alerts",
    [ST_ADD_DELIVERY] =
        "INSERT INTO deliveries (alert_id, event_id, person, kind, priority,"
        " title, message, url, url_title, timestamp, receipt, status,"
        " next_ms, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
        " ?10, ?11, 'pending', ?12, ?12)",
    [ST_OPEN_RECEIPTS] =
        "SELECT d.person, d.receipt, d.event_id FROM deliveries d"
        " WHERE d.alert_id = ?1 AND d.kind = 'message'"
        " AND d.receipt IS NOT NULL AND NOT EXISTS (SELECT 1 FROM"
        " deliveries c WHERE c.alert_id = d.alert_id AND c.kind = 'cancel'"
        " AND c.receipt = d.receipt)",
    [ST_SET_RESULT] =
        "UPDATE deliveries SET status = ?2, attempts = attempts + 1,"
        " next_ms = ?3, receipt = coalesce(?4, receipt), answer = ?5,"
        " done_ms = ?6 WHERE id = ?1 RETURNING alert_id, kind",
    [ST_ALERT_STATE] =
        "SELECT state FROM alerts WHERE id = ?1",
    [ST_ACKNOWLEDGE] =
        "UPDATE alerts SET state = 'acknowledged', siren = 0,"
        " updated_ms = ?2 WHERE state = 'firing' AND id = (SELECT alert_id"
        " FROM deliveries WHERE receipt = ?1 AND kind = 'message' LIMIT 1)"
        " RETURNING id, source, dedup_key",
};

struct pipeline {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
    struct alert_index *index;  /* (source, key) -> alerts.id */
};

/* What is known of the alert before this event. */
struct prior {
    uint64_t hash;          /* of (source, key) in the index */
    bool exists;
    int64_t id;
    int state;              /* enum alert_state, -1 if unknown text */
    int64_t last_event;
    json_t *recipients;     /* of the last firing or info, or NULL */
    char *revision;         /* or NULL */
};

struct pipeline *
pipeline_new(sqlite3 *db, char *err, size_t errlen)
{
    struct pipeline *p = calloc(1, sizeof *p);
    int i;

    if (!p) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    p->db = db;
    for (i = 0; i < ST_COUNT; i++) {
        if (sqlite3_prepare_v3(db, sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                               &p->st[i], NULL) != SQLITE_OK) {
            snprintf(err, errlen, "%s", sqlite3_errmsg(db));
            pipeline_free(p);
            return NULL;
        }
    }
    if (!(p->index = alert_index_new()) ||
        pipeline_rebuild_index(p) != SQLITE_OK) {
        snprintf(err, errlen, "cannot index the alerts: %s",
                 sqlite3_errmsg(db));
        pipeline_free(p);
        return NULL;
    }
    return p;
}


void
pipeline_free(struct pipeline *p)
{
    int i;

    if (!p)
        return;
    for (i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(p->st[i]);
    alert_index_free(p->index);
    free(p);
}

/* Reset a statement for use; the caller binds and steps it. */
static sqlite3_stmt *
stmt(struct pipeline *p, enum stmt which)
{
    sqlite3_stmt *s = p->st[which];

    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return s;
}

int
pipeline_rebuild_index(struct pipeline *p)
{
    sqlite3_stmt *s = stmt(p, ST_ALL_ALERTS);
    int rc;

    alert_index_clear(p->index);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        uint64_t h = alert_index_hash(p->index,
            source_from_name((const char *)sqlite3_column_text(s, 1)),
            (const char *)sqlite3_column_text(s, 2));

        if (alert_index_put(p->index, h, sqlite3_column_int64(s, 0)) < 0) {
            sqlite3_reset(s);
            return SQLITE_NOMEM;
        }
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static void
bind_text(sqlite3_stmt *s, int i, const char *text)
{
    if (text)
        sqlite3_bind_text(s, i, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, i);
}

struct lookup {
    struct pipeline *p;
    const struct alert *alert;
    struct prior *prior;
    int rc;
};

/* Whether row id is the alert looked for; if so, read what it knows. */
static bool
is_the_alert(int64_t id, void *arg)
{
    struct lookup *l = arg;
    sqlite3_stmt *s = stmt(l->p, ST_ALERT_BY_ID);
    struct prior *pr = l->prior;
    const char *text;
    bool match;

    sqlite3_bind_int64(s, 1, id);
    if ((l->rc = sqlite3_step(s)) != SQLITE_ROW) {
        l->rc = l->rc == SQLITE_DONE ? SQLITE_OK : l->rc;
        sqlite3_reset(s);
        return false;
    }
    l->rc = SQLITE_OK;
    match = source_from_name((const char *)sqlite3_column_text(s, 0)) ==
            (int)l->alert->source &&
            strcmp((const char *)sqlite3_column_text(s, 1),
                   l->alert->key) == 0;
    if (match) {
        pr->exists = true;
        pr->id = id;
        pr->state = alert_state_from_name((const char *)
                                          sqlite3_column_text(s, 2));
        pr->last_event = sqlite3_column_int64(s, 3);
        if ((text = (const char *)sqlite3_column_text(s, 4)))
            pr->recipients = json_loads(text, 0, NULL);
        if ((text = (const char *)sqlite3_column_text(s, 5)))
            pr->revision = strdup(text);
    }
    sqlite3_reset(s);
    return match;
}

static int
find_alert(struct pipeline *p, const struct alert *a, struct prior *pr)
{
    struct lookup l = { p, a, pr, SQLITE_OK };

    memset(pr, 0, sizeof *pr);
    pr->state = -1;
    pr->hash = alert_index_hash(p->index, a->source, a->key);
    alert_index_find(p->index, pr->hash, is_the_alert, &l);
    return l.rc;
}

static const char *const outcome_names[] = {
    [JOURNAL_QUEUED] = "queued",
    [JOURNAL_DUPLICATE] = "duplicate",
    [JOURNAL_IGNORED] = "ignored",
    [JOURNAL_UNAVAILABLE] = "unavailable",
};

static int
add_event(struct pipeline *p, struct journal_event *ev)
{
    sqlite3_stmt *s = stmt(p, ST_ADD_EVENT);
    int rc;

    sqlite3_bind_int64(s, 1, ev->received_ms);
    bind_text(s, 2, source_name(ev->alert->source));
    bind_text(s, 3, ev->alert->key);
    bind_text(s, 4, alert_state_name(ev->alert->state));
    bind_text(s, 5, outcome_names[ev->outcome]);
    bind_text(s, 6, ev->content_type);
    sqlite3_bind_blob(s, 7, ev->body ? ev->body : "", (int)ev->body_len,
                      SQLITE_STATIC);
    if ((rc = sqlite3_step(s)) != SQLITE_DONE)
        return rc;
    ev->id = sqlite3_last_insert_rowid(p->db);
    return SQLITE_OK;
}

/* Who hears of this event: those who heard of the firing for a resolve
   or acknowledgement, the decision's recipients otherwise. */
static json_t *
recipients_for(const struct journal_event *ev, const struct prior *pr)
{
    const struct decision *d = ev->decision;
    json_t *list;
    size_t i;

    if ((ev->alert->state == ALERT_RESOLVED ||
         ev->alert->state == ALERT_ACKNOWLEDGED) && pr->recipients)
        return json_incref(pr->recipients);
    list = json_array();
    for (i = 0; d->recipients && d->recipients[i]; i++)
        json_array_append_new(list, json_string(d->recipients[i]));
    return list;
}

/* Write the alert's new state: a new row (indexed), or its row. */
static int
put_alert(struct pipeline *p, const struct journal_event *ev,
          const struct prior *pr, json_t *recipients, int64_t *alert_id)
{
    sqlite3_stmt *s = stmt(p, pr->exists ? ST_UPDATE_ALERT : ST_NEW_ALERT);
    const struct alert *a = ev->alert;
    char *list = NULL;
    int rc;

    if (a->state == ALERT_FIRING || a->state == ALERT_INFO)
        list = json_dumps(recipients, JSON_COMPACT);
    bind_text(s, 1, source_name(a->source));
    bind_text(s, 2, a->key);
    bind_text(s, 3, alert_state_name(a->state));
    bind_text(s, 4, severity_name(a->severity));
    sqlite3_bind_int(s, 5, ev->decision->priority);
    sqlite3_bind_int(s, 6, ev->decision->siren);
    bind_text(s, 7, a->title);
    bind_text(s, 8, a->message);
    bind_text(s, 9, a->url);
    bind_text(s, 10, list);
    sqlite3_bind_int64(s, 11, ev->received_ms);
    sqlite3_bind_int64(s, 12, ev->id);
    bind_text(s, 13, a->revision);
    if (pr->exists)
        sqlite3_bind_int64(s, 14, pr->id);
    rc = sqlite3_step(s);
    sqlite3_reset(s);
    free(list);
    if (rc != SQLITE_DONE)
        return rc;
    *alert_id = pr->exists ? pr->id : sqlite3_last_insert_rowid(p->db);
    if (!pr->exists && alert_index_put(p->index, pr->hash, *alert_id) < 0)
        return SQLITE_NOMEM;
    return SQLITE_OK;
}

static int
add_delivery(struct pipeline *p, const struct journal_event *ev,
             int64_t alert_id, const char *person, const char *kind,
             const char *receipt)
{
    sqlite3_stmt *s = stmt(p, ST_ADD_DELIVERY);
    const struct alert *a = ev->alert;

    sqlite3_bind_int64(s, 1, alert_id);
    sqlite3_bind_int64(s, 2, ev->id);
    bind_text(s, 3, person);
    bind_text(s, 4, kind);
    sqlite3_bind_int(s, 5, ev->decision->priority);
    bind_text(s, 6, a->title);
    bind_text(s, 7, a->message);
    bind_text(s, 8, a->url);
    bind_text(s, 9, a->url_title);
    sqlite3_bind_int64(s, 10, (sqlite3_int64)a->time);
    bind_text(s, 11, receipt);
    sqlite3_bind_int64(s, 12, ev->received_ms);
    return sqlite3_step(s) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(p->db);
}

/* Schedule cancellation of every emergency receipt still running. */
static int
cancel_receipts(struct pipeline *p, int64_t alert_id, int64_t event_id,
                int *count)
{
    sqlite3_stmt *s = stmt(p, ST_OPEN_RECEIPTS), *ins;
    int rc;

    sqlite3_bind_int64(s, 1, alert_id);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        ins = p->st[ST_ADD_DELIVERY];
        sqlite3_reset(ins);
        sqlite3_clear_bindings(ins);
        sqlite3_bind_int64(ins, 1, alert_id);
        sqlite3_bind_int64(ins, 2, event_id);
        sqlite3_bind_value(ins, 3, sqlite3_column_value(s, 0));
        bind_text(ins, 4, "cancel");
        sqlite3_bind_int(ins, 5, 0);
        sqlite3_bind_value(ins, 11, sqlite3_column_value(s, 1));
        sqlite3_bind_int64(ins, 12, clock_now_ms());
        if (sqlite3_step(ins) != SQLITE_DONE)
            return sqlite3_errcode(p->db);
        (*count)++;
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static bool
same_revision(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* Decide the outcome from the alert's prior state, before any write. */
static void
judge(struct journal_event *ev, const struct prior *pr)
{
    enum alert_state st = ev->alert->state;

    ev->outcome = JOURNAL_QUEUED;
    if (pr->exists && pr->state == (int)st && !ev->decision->repeat &&
        same_revision(pr->revision, ev->alert->revision)) {
        ev->outcome = JOURNAL_DUPLICATE;
        ev->id = pr->last_event;
        return;
    }
    if ((st == ALERT_RESOLVED || st == ALERT_ACKNOWLEDGED) &&
        pr->state != ALERT_FIRING && pr->state != ALERT_ACKNOWLEDGED) {
        ev->outcome = JOURNAL_IGNORED;
        snprintf(ev->reason, sizeof ev->reason, "no open alert with this key");
        return;
    }
    if (ev->decision->ignore) {
        ev->outcome = JOURNAL_IGNORED;
        snprintf(ev->reason, sizeof ev->reason, "a rule at %s:%d ignores it",
                 ev->decision->rule->file, ev->decision->rule->line);
    }
}

static int
schedule(struct pipeline *p, struct journal_event *ev,
         const struct prior *pr)
{
    json_t *recipients = recipients_for(ev, pr), *who;
    int64_t alert_id = 0;
    size_t i;
    int rc;

    rc = put_alert(p, ev, pr, recipients, &alert_id);
    if (rc == SQLITE_OK && ev->deliver) {
        json_array_foreach(recipients, i, who) {
            rc = add_delivery(p, ev, alert_id, json_string_value(who),
                              "message", NULL);
            if (rc != SQLITE_OK)
                break;
            ev->deliveries++;
        }
        if (rc == SQLITE_OK && ev->alert->state == ALERT_RESOLVED)
            rc = cancel_receipts(p, alert_id, ev->id, &ev->deliveries);
    }
    json_decref(recipients);
    return rc;
}

int
pipeline_apply_event(struct pipeline *p, struct journal_event *ev)
{
    struct prior pr;
    int rc;

    ev->deliveries = 0;
    ev->reason[0] = '\0';
    /* Handlers always set a key; without one the event cannot be
       stored, and is refused on its own. */
    if (!ev->alert->key)
        return SQLITE_CONSTRAINT;
    if ((rc = find_alert(p, ev->alert, &pr)) != SQLITE_OK)
        return rc;
    judge(ev, &pr);
    if (ev->outcome != JOURNAL_DUPLICATE)
        rc = add_event(p, ev);
    if (rc == SQLITE_OK && ev->outcome == JOURNAL_QUEUED)
        rc = schedule(p, ev, &pr);
    json_decref(pr.recipients);
    free(pr.revision);
    return rc;
}

static const char *const status_names[] = {
    [DELIVERY_SENT] = "sent",
    [DELIVERY_RETRY] = "pending",
    [DELIVERY_FAILED] = "failed",
};

int
pipeline_apply_result(struct pipeline *p, struct delivery_result *res,
                      int *scheduled)
{
    sqlite3_stmt *s = stmt(p, ST_SET_RESULT), *st;
    int64_t now = clock_now_ms(), alert_id;
    bool receipt_for_message, resolved;
    int rc;

    sqlite3_bind_int64(s, 1, res->delivery_id);
    bind_text(s, 2, status_names[res->status]);
    sqlite3_bind_int64(s, 3, res->status == DELIVERY_RETRY ? res->next_ms :
                       now);
    bind_text(s, 4, res->receipt[0] ? res->receipt : NULL);
    bind_text(s, 5, res->answer);
    if (res->status == DELIVERY_RETRY)
        sqlite3_bind_null(s, 6);
    else
        sqlite3_bind_int64(s, 6, now);
    rc = sqlite3_step(s);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? SQLITE_OK : rc;
    alert_id = sqlite3_column_int64(s, 0);
    receipt_for_message = res->receipt[0] &&
        strcmp((const char *)sqlite3_column_text(s, 1), "message") == 0;
    sqlite3_reset(s);
    if (!receipt_for_message)
        return SQLITE_OK;

    /* An emergency push that was accepted after its alert resolved must
       be cancelled at once, or it would repeat until it expires. */
    st = stmt(p, ST_ALERT_STATE);
    sqlite3_bind_int64(st, 1, alert_id);
    if ((rc = sqlite3_step(st)) != SQLITE_ROW)
        return rc == SQLITE_DONE ? SQLITE_OK : rc;
    resolved = strcmp((const char *)sqlite3_column_text(st, 0),
                      "resolved") == 0;
    sqlite3_reset(st);
    return resolved ? cancel_receipts(p, alert_id, 0, scheduled) : SQLITE_OK;
}

int
pipeline_apply_ack(struct pipeline *p, struct journal_ack *ack,
                   int *scheduled)
{
    sqlite3_stmt *s = stmt(p, ST_ACKNOWLEDGE);
    int64_t alert_id;
    int rc;

    bind_text(s, 1, ack->receipt);
    sqlite3_bind_int64(s, 2, clock_now_ms());
    rc = sqlite3_step(s);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? SQLITE_OK : rc;
    ack->found = true;
    alert_id = sqlite3_column_int64(s, 0);
    snprintf(ack->source, sizeof ack->source, "%s",
             (const char *)sqlite3_column_text(s, 1));
    snprintf(ack->key, sizeof ack->key, "%s",
             (const char *)sqlite3_column_text(s, 2));
    sqlite3_reset(s);
    return cancel_receipts(p, alert_id, 0, scheduled);
}

int
pipeline_prune(struct pipeline *p, int days)
{
    static const char *const prune_sql[] = {
        /* Event ids grow with time: delete up to the first recent one
           rather than keep an index on the time. */
        "DELETE FROM events WHERE id < coalesce((SELECT id FROM events"
        " WHERE received_ms >= ?1 ORDER BY id LIMIT 1),"
        " (SELECT max(id) + 1 FROM events))",
        "DELETE FROM deliveries WHERE status != 'pending'"
        " AND created_ms < ?1",
        /* Open alerts go too once nothing has been heard of them for
           that long, so never-resolved keys cannot pile up forever. */
        "DELETE FROM alerts WHERE updated_ms < ?1 AND NOT EXISTS"
        " (SELECT 1 FROM deliveries d WHERE d.alert_id = alerts.id)",
    };
    int64_t cutoff = clock_now_ms() - (int64_t)days * 86400 * 1000;
    sqlite3_stmt *s;
    size_t i;
    int rc = SQLITE_DONE;

    for (i = 0; i < sizeof prune_sql / sizeof *prune_sql; i++) {
        if ((rc = sqlite3_prepare_v2(p->db, prune_sql[i], -1, &s,
                                     NULL)) != SQLITE_OK)
            return rc;
        sqlite3_bind_int64(s, 1, cutoff);
        rc = sqlite3_step(s);
        sqlite3_finalize(s);
        if (rc != SQLITE_DONE)
            return rc;
    }
    return pipeline_rebuild_index(p);
}

void
pipeline_log_event(const struct journal_event *ev)
{
    const struct alert *a = ev->alert;
    char key[80];

    if (!log_enabled(ev->outcome == JOURNAL_UNAVAILABLE ? LOG_WARN :
                     LOG_INFO))
        return;
    log_quote(key, sizeof key, a->key);
    switch (ev->outcome) {
    case JOURNAL_QUEUED:
        log_info("pipeline", "%s %s: %s, event %lld stored, priority %d, "
                 "%d deliveries%s%s", source_name(a->source), key,
                 alert_state_name(a->state), (long long)ev->id,
                 ev->decision->priority, ev->deliveries,
                 ev->decision->siren ? ", siren" : "",
                 ev->deliver ? "" : " (delivery is off)");
        if (ev->decision->note[0])
            log_warn("pipeline", "%s %s: left out: %s",
                     source_name(a->source), key, ev->decision->note);
        break;
    case JOURNAL_DUPLICATE:
        log_info("pipeline", "%s %s: duplicate of event %lld",
                 source_name(a->source), key, (long long)ev->id);
        break;
    case JOURNAL_IGNORED:
        log_info("pipeline", "%s %s: event %lld stored, ignored: %s",
                 source_name(a->source), key, (long long)ev->id,
                 ev->reason);
        break;
    case JOURNAL_UNAVAILABLE:
        log_warn("pipeline", "%s %s: refused: %s", source_name(a->source),
                 key, ev->reason);
        break;
    }
}
