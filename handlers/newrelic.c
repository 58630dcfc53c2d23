/*
 * New Relic webhooks, two families told apart by shape: the legacy
 * alert channel (incidents with current_state open/acknowledged/closed,
 * posted as JSON or as a form whose "alert" field holds the document)
 * and workflow notifications (issues with state ACTIVATED/ACKNOWLEDGED/
 * CLOSED and a priority). A workflow's payload is a template the
 * customer edits, so any of its fields may be missing.
 */
#include "handlers/handler.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "handlers/field.h"

struct newrelic_name {
    const char *name;
    int value;
};

/* Legacy current_state; "test" is handled before this table. */
static const struct newrelic_name legacy_states[] = {
    { "open", ALERT_FIRING },
    { "acknowledged", ALERT_ACKNOWLEDGED },
    { "closed", ALERT_RESOLVED },
    { NULL, 0 },
};

static const struct newrelic_name legacy_severities[] = {
    { "critical", SEVERITY_CRITICAL },
    { "warning", SEVERITY_WARNING },
    { "warn", SEVERITY_WARNING },
    { "info", SEVERITY_INFO },
    { NULL, 0 },
};

static const struct newrelic_name workflow_states[] = {
    { "activated", ALERT_FIRING },
    { "created", ALERT_FIRING },
    { "acknowledged", ALERT_ACKNOWLEDGED },
    { "closed", ALERT_RESOLVED },
    { NULL, 0 },
};

static const struct newrelic_name workflow_priorities[] = {
    { "critical", SEVERITY_CRITICAL },
    { "high", SEVERITY_HIGH },
    { "medium", SEVERITY_MEDIUM },
    { "low", SEVERITY_LOW },
    { NULL, 0 },
};

/* Value of name in table (case-insensitive), or fallback. */
static int
newrelic_lookup(const struct newrelic_name *table, const char *name,
                int fallback)
{
    for (; name && table->name; table++) {
        if (strcasecmp(table->name, name) == 0)
            return table->value;
    }
    return fallback;
}

/* A key from an id that may be a number or a string. 0, or -1 when v is
   neither; *out is NULL when v is absent. */
static int
newrelic_id(const json_t *v, char *buf, size_t len, const char **out)
{
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (json_is_integer(v)) {
        snprintf(buf, len, "%lld", (long long)json_integer_value(v));
        *out = buf;
        return 0;
    }
    if (json_is_string(v)) {
        *out = json_string_length(v) ? json_string_value(v) : NULL;
        return 0;
    }
    return -1;
}

/* ---- legacy alert channel ---- */

static bool
legacy_is_test(const json_t *doc, const char *state)
{
    const char *type = field_string(doc, "event_type");
    const char *details = field_string(doc, "details");

    return strcasecmp(state, "test") == 0 ||
           (type && strcasecmp(type, "NOTIFICATION") == 0) ||
           (details && strcasestr(details, "test notification"));
}

/* incident_id, else "condition:<condition_id>:<first target name>". */
static enum handler_status
legacy_key(const json_t *doc, struct alert *a, char *reason,
           size_t reason_len)
{
    const char *target = field_text(json_array_get(field_array(doc,
                                        "targets"), 0), "name");
    const char *id;
    char num[32];

    if (newrelic_id(json_object_get(doc, "incident_id"), num, sizeof num,
                    &id) < 0)
        return handler_result(HANDLER_INVALID, reason, reason_len,
                              "incident_id must be an integer or a string");
    if (id)
        return alert_set(&a->key, id) < 0 ?
               handler_nomem(reason, reason_len) : HANDLER_OK;
    if (newrelic_id(json_object_get(doc, "condition_id"), num, sizeof num,
                    &id) < 0 || !id)
        return handler_result(HANDLER_INVALID, reason, reason_len,
                              "missing field incident_id");
    if (alert_setf(&a->key, "condition:%s:%s", id, target ? target : "") < 0)
        return handler_nomem(reason, reason_len);
    return HANDLER_OK;
}

/* "policy:<policy_name>" and every target label as "<name>:<value>". */
static int
legacy_tags(const json_t *doc, struct alert *a)
{
    const char *policy = field_text(doc, "policy_name");
    const char *label;
    json_t *target, *value;
    char prefix[256];
    size_t i;

    if (policy && field_add_tag(a, "policy:", policy) < 0)
        return -1;
    json_array_foreach(field_array(doc, "targets"), i, target) {
        json_object_foreach(field_object(target, "labels"), label, value) {
            if (!json_is_string(value))
                continue;
            if ((size_t)snprintf(prefix, sizeof prefix, "%s:", label) >=
                sizeof prefix)
                continue;
            if (field_add_tag(a, prefix, json_string_value(value)) < 0)
                return -1;
        }
    }
    return 0;
}

/* "CRITICAL: Disk used > 90% on web-03", plus the details and policy. */
static int
legacy_text(const json_t *doc, const char *what, struct alert *a)
{
    const json_t *targets = field_array(doc, "targets");
    const char *cond = field_text(doc, "condition_name");
    const char *target = field_text(json_array_get(targets, 0), "name");
    const char *details = field_text(doc, "details");
    const char *policy = field_text(doc, "policy_name");
    const char *runbook = field_text(doc, "runbook_url");
    const char *owner = field_text(doc, "owner");
    struct field_textbuf tb;
    size_t more = json_array_size(targets);
    int rc;

    more = more > 1 ? more - 1 : 0;
    if (!cond)
        rc = alert_setf(&a->title, "%s: incident %s", what, a->key);
    else if (target && more)
        rc = alert_setf(&a->title, "%s: %s on %s and %zu more", what, cond,
                        target, more);
    else
        rc = alert_setf(&a->title, "%s: %s%s%s", what, cond,
                        target ? " on " : "", target ? target : "");
    if (rc < 0 || field_text_open(&tb) < 0)
        return -1;
    if (details)
        fprintf(tb.f, "%s\n", details);
    if (policy)
        fprintf(tb.f, "Policy: %s\n", policy);
    if (owner && a->state == ALERT_ACKNOWLEDGED)
        fprintf(tb.f, "Acknowledged by %s\n", owner);
    if (runbook)
        fprintf(tb.f, "Runbook: %s\n", runbook);
    return field_text_close(&tb, &a->message);
}

/* What the title says happened: the severity while open. */
static void
legacy_what(const struct alert *a, char *buf, size_t len)
{
    size_t i;

    snprintf(buf, len, "%s",
             a->kind ? "test" :
             a->state == ALERT_FIRING ? severity_name(a->severity) :
             a->state == ALERT_RESOLVED ? "resolved" : "acknowledged");
    for (i = 0; buf[i]; i++)
        buf[i] = (char)toupper((unsigned char)buf[i]);
}

/* A test is keyed by when it was sent, so each one is delivered. */
static enum handler_status
legacy_test(const json_t *doc, struct alert *a, char *reason,
            size_t reason_len)
{
    long long ms;

    a->state = ALERT_INFO;
    if (field_int(doc, "timestamp", &ms) != FIELD_OK)
        ms = 0;
    if (alert_set(&a->kind, "test") < 0 ||
        alert_setf(&a->key, "test:%lld", ms) < 0)
        return handler_nomem(reason, reason_len);
    return HANDLER_OK;
}

static enum handler_status
legacy_parse(const json_t *doc, struct alert *a, char *reason,
             size_t reason_len)
{
    const char *state = field_string(doc, "current_state");
    char quoted[FIELD_EXCERPT_LEN], what[16];
    enum handler_status rc;
    int st;
    time_t t;

    if (!state)
        return handler_result(HANDLER_INVALID, reason, reason_len,
                              "current_state must be a string");
    a->severity = newrelic_lookup(legacy_severities,
                                  field_string(doc, "severity"),
                                  SEVERITY_WARNING);
    if (legacy_is_test(doc, state)) {
        rc = legacy_test(doc, a, reason, reason_len);
    } else if ((st = newrelic_lookup(legacy_states, state, -1)) < 0) {
        return handler_result(HANDLER_IGNORE, reason, reason_len,
                              "ignored state %s",
                              field_excerpt(quoted, sizeof quoted, state));
    } else {
        a->state = st;
        rc = legacy_key(doc, a, reason, reason_len);
    }
    if (rc != HANDLER_OK)
        return rc;
    if (field_time(doc, "timestamp", FIELD_MILLISECONDS, &t) == FIELD_OK)
        a->time = t;
    legacy_what(a, what, sizeof what);
    if (alert_set(&a->url, field_text(doc, "incident_url")) < 0 ||
        legacy_tags(doc, a) < 0 || legacy_text(doc, what, a) < 0)
        return handler_nomem(reason, reason_len);
    return HANDLER_OK;
}

/* ---- workflow notifications ---- */

/* Comma-separated string elements of array, or NULL when there are none.
   Caller frees. */
static char *
workflow_join(const json_t *array)
{
    struct field_textbuf tb;
    const char *sep = "";
    char *joined = NULL;
    json_t *v;
    size_t i;

    if (field_text_open(&tb) < 0)
        return NULL;
    json_array_foreach(array, i, v) {
        if (!json_is_string(v) || !json_string_length(v))
            continue;
        fprintf(tb.f, "%s%s", sep, json_string_value(v));
        sep = ", ";
    }
    return field_text_close(&tb, &joined) < 0 ? NULL : joined;
}

/* The sender's title, else "<conditions> on <entities>". */
static int
workflow_title(const json_t *doc, struct alert *a)
{
    const char *title = field_text(doc, "title");
    char *conds, *entities;
    int rc;

    if (title)
        return alert_set(&a->title, title);
    conds = workflow_join(field_array(doc, "alertConditionNames"));
    entities = workflow_join(field_array(doc, "impactedEntities"));
    if (conds && entities)
        rc = alert_setf(&a->title, "%s on %s", conds, entities);
    else if (conds || entities)
        rc = alert_set(&a->title, conds ? conds : entities);
    else
        rc = alert_setf(&a->title, "New Relic issue %s", a->key);
    free(conds);
    free(entities);
    return rc;
}

/* Priority, state, and the lists a title leaves out, one per line. */
static int
workflow_message(const json_t *doc, struct alert *a)
{
    static const char *const lists[][2] = {
        { "alertConditionNames", "Conditions" },
        { "alertPolicyNames", "Policies" },
        { "impactedEntities", "Entities" },
    };
    const char *priority = field_text(doc, "priority");
    const char *state = field_text(doc, "state");
    struct field_textbuf tb;
    long long count;
    bool correlated;
    char *joined;
    size_t i;

    if (field_text_open(&tb) < 0)
        return -1;
    if (priority || state)
        fprintf(tb.f, "%s%s%s%s%s\n", priority ? "Priority " : "",
                priority ? priority : "", priority && state ? ", " : "",
                state ? "state " : "", state ? state : "");
    for (i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        if ((joined = workflow_join(field_array(doc, lists[i][0]))))
            fprintf(tb.f, "%s: %s\n", lists[i][1], joined);
        free(joined);
    }
    if (field_int(doc, "totalIncidents", &count) == FIELD_OK && count > 1)
        fprintf(tb.f, "Incidents: %lld\n", count);
    if (field_bool(doc, "isCorrelated", &correlated) == FIELD_OK &&
        correlated)
        fprintf(tb.f, "Correlated with other issues\n");
    return field_text_close(&tb, &a->message);
}

static enum handler_status
workflow_parse(const json_t *doc, struct alert *a, char *reason,
               size_t reason_len)
{
    const char *state = field_string(doc, "state");
    const char *url = field_text(doc, "issueUrl");
    char quoted[FIELD_EXCERPT_LEN], num[32];
    const char *id;
    time_t t;
    int st;

    st = newrelic_lookup(workflow_states, state, state ? -1 : ALERT_FIRING);
    if (st < 0)
        return handler_result(HANDLER_IGNORE, reason, reason_len,
                              "ignored state %s",
                              field_excerpt(quoted, sizeof quoted, state));
    a->state = st;
    a->severity = newrelic_lookup(workflow_priorities,
                                  field_string(doc, "priority"),
                                  SEVERITY_HIGH);
    if (newrelic_id(json_object_get(doc, "id"), num, sizeof num, &id) < 0)
        id = NULL;
    if (!id && !(id = url))
        return handler_result(HANDLER_INVALID, reason, reason_len,
                              "missing field id");
    if (field_time(doc, "updatedAt", FIELD_MILLISECONDS, &t) == FIELD_OK ||
        field_time(doc, "createdAt", FIELD_MILLISECONDS, &t) == FIELD_OK)
        a->time = t;
    if (alert_set(&a->key, id) < 0 || alert_set(&a->url, url) < 0 ||
        field_add_tags(a, field_array(doc, "alertPolicyNames"),
                       "policy:") < 0 ||
        field_add_tags(a, field_array(doc, "alertConditionNames"),
                       "condition:") < 0 ||
        field_add_tags(a, field_array(doc, "impactedEntities"),
                       "entity:") < 0 ||
        workflow_title(doc, a) < 0 || workflow_message(doc, a) < 0)
        return handler_nomem(reason, reason_len);
    return HANDLER_OK;
}

/* The document: the payload itself, or a form post's "alert". */
static const json_t *
newrelic_document(const json_t *payload)
{
    json_t *inner = field_object(payload, "alert");

    if (inner && !json_object_get(payload, "current_state") &&
        !json_object_get(payload, "state"))
        return inner;
    return payload;
}

enum handler_status
newrelic_parse(const json_t *payload, struct alert *out, char *reason,
               size_t reason_len)
{
    const json_t *doc = newrelic_document(payload);

    if (!json_is_object(payload))
        return handler_result(HANDLER_INVALID, reason, reason_len,
                              "payload must be a JSON object");
    if (field_present(doc, "current_state"))
        return legacy_parse(doc, out, reason, reason_len);
    if (field_string(doc, "state") || field_string(doc, "issueUrl") ||
        field_string(doc, "priority"))
        return workflow_parse(doc, out, reason, reason_len);
    if (doc == payload && field_string(doc, "alert"))
        return handler_result(HANDLER_INVALID, reason, reason_len,
                              "alert must be a JSON object");
    return handler_result(HANDLER_INVALID, reason, reason_len,
                          "missing field current_state or state");
}
