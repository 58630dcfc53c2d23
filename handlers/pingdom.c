/*
 * Pingdom state-change webhooks: uptime checks (UP/DOWN) and transaction
 * checks (SUCCESS/FAILING), posted as JSON or as a form whose "message"
 * field holds the JSON document.
 */
#include "handlers/handler.h"

#include <stdio.h>
#include <strings.h>

#include "handlers/field.h"

struct pingdom_state {
    const char *name;
    enum alert_state state;
    bool transaction;
};

static const struct pingdom_state pingdom_states[] = {
    { "DOWN", ALERT_FIRING, false },
    { "UP", ALERT_RESOLVED, false },
    { "FAILING", ALERT_FIRING, true },
    { "SUCCESS", ALERT_RESOLVED, true },
};

static const struct pingdom_state *
pingdom_find_state(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof pingdom_states / sizeof pingdom_states[0]; i++) {
        if (strcasecmp(pingdom_states[i].name, name) == 0)
            return &pingdom_states[i];
    }
    return NULL;
}

/* The check document: the payload itself, or a form post's "message". */
static const json_t *
pingdom_document(const json_t *payload)
{
    json_t *inner = field_object(payload, "message");

    return inner && !json_object_get(payload, "check_id") ? inner : payload;
}

/* Description, check type and where it was probed from, one per line. */
static int
pingdom_message(const json_t *doc, struct alert *a)
{
    const char *desc = field_text(doc, "description");
    const char *longdesc = field_text(doc, "long_description");
    const char *type = field_text(doc, "check_type");
    const char *host = field_text(field_object(doc, "check_params"),
                                  "hostname");
    const char *probes[2], *sep = "";
    struct field_textbuf tb;
    int i;

    probes[0] = field_text(field_object(doc, "first_probe"), "location");
    probes[1] = field_text(field_object(doc, "second_probe"), "location");
    if (field_text_open(&tb) < 0)
        return -1;
    if (desc)
        fprintf(tb.f, "%s\n", desc);
    if (longdesc && !(desc && strcasecmp(desc, longdesc) == 0))
        fprintf(tb.f, "%s\n", longdesc);
    if (type || host) {
        fprintf(tb.f, "%s check%s%s\n", type ? type : "Pingdom",
                host ? " of " : "", host ? host : "");
    }
    for (i = 0; i < 2; i++) {
        if (!probes[i])
            continue;
        fprintf(tb.f, "%s%s", *sep ? sep : "Probes: ", probes[i]);
        sep = "; ";
    }
    return field_text_close(&tb, &a->message);
}

/* Everything past the required fields: none of it can make it invalid. */
static int
pingdom_details(const json_t *doc, const struct pingdom_state *st,
                long long id, struct alert *a)
{
    const char *name = field_text(doc, "check_name");
    const char *importance = field_string(doc, "importance_level");
    const char *type = field_string(doc, "check_type");
    bool transaction = st->transaction ||
                       (type && strcasecmp(type, "TRANSACTION") == 0);
    time_t t;

    a->state = st->state;
    a->severity = importance && strcasecmp(importance, "LOW") == 0 ?
                  SEVERITY_WARNING : SEVERITY_CRITICAL;
    if (field_time(doc, "state_changed_timestamp", FIELD_SECONDS,
                   &t) == FIELD_OK ||
        field_time(doc, "state_changed_utc_time", FIELD_SECONDS,
                   &t) == FIELD_OK)
        a->time = t;
    if (alert_setf(&a->key, "%lld", id) < 0 ||
        alert_set(&a->kind, transaction ? "transaction" : "check") < 0 ||
        alert_set(&a->url, field_text(field_object(doc, "check_params"),
                                      "full_url")) < 0 ||
        field_add_tags(a, field_array(doc, "tags"), "") < 0 ||
        pingdom_message(doc, a) < 0)
        return -1;
    if (name)
        return alert_setf(&a->title, "%s: %s", st->name, name);
    return alert_setf(&a->title, "%s: check %lld", st->name, id);
}

enum handler_status
pingdom_parse(const json_t *payload, struct alert *out, char *reason,
              size_t reason_len)
{
    const json_t *doc = pingdom_document(payload);
    const struct pingdom_state *st;
    char quoted[FIELD_EXCERPT_LEN];
    const char *state;
    long long id;

    if (!json_is_object(payload))
        return handler_result(HANDLER_INVALID, reason, reason_len,
                              "payload must be a JSON object");
    if (doc == payload && field_string(doc, "message") &&
        !field_present(doc, "check_id"))
        return handler_result(HANDLER_INVALID, reason, reason_len,
                              "message must be a JSON object");
    switch (field_int(doc, "check_id", &id)) {
    case FIELD_MISSING:
        return handler_result(HANDLER_INVALID, reason, reason_len,
                              "missing field check_id");
    case FIELD_BAD:
        return handler_result(HANDLER_INVALID, reason, reason_len,
                              "check_id must be a positive integer");
    case FIELD_OK:
        if (id <= 0)
            return handler_result(HANDLER_INVALID, reason, reason_len,
                                  "check_id must be a positive integer");
        break;
    }
    if (!field_present(doc, "current_state"))
        return handler_result(HANDLER_INVALID, reason, reason_len,
                              "missing field current_state");
    if (!(state = field_string(doc, "current_state")))
        return handler_result(HANDLER_INVALID, reason, reason_len,
                              "current_state must be a string");
    if (!(st = pingdom_find_state(state)))
        return handler_result(HANDLER_IGNORE, reason, reason_len,
                              "ignored state %s",
                              field_excerpt(quoted, sizeof quoted, state));
    if (pingdom_details(doc, st, id, out) < 0)
        return handler_nomem(reason, reason_len);
    return HANDLER_OK;
}
