/*
 * The generic hook: a small JSON (or form) document any script can post
 * ({"title": ..., "message": ..., "state": ..., "priority": ...}). The
 * values that decide who is woken (state, priority, severity) are
 * checked strictly, so a typo in a script fails loudly instead of
 * paging at the wrong level.
 */
#include "handlers/handler.h"

#include <stdio.h>
#include <strings.h>

#include "handlers/field.h"

/* Severity when the sender gave a priority but no severity. */
static const enum severity generic_severity_of_priority[] = {
    SEVERITY_INFO, SEVERITY_LOW, SEVERITY_WARNING, SEVERITY_HIGH,
    SEVERITY_CRITICAL,
};

static enum handler_status
generic_state(const json_t *doc, struct alert *a, char *reason,
              size_t reason_len)
{
    const char *state = field_string(doc, "state");

    if (!field_present(doc, "state"))
        return HANDLER_OK;
    if (state && strcasecmp(state, "firing") == 0)
        a->state = ALERT_FIRING;
    else if (state && strcasecmp(state, "resolved") == 0)
        a->state = ALERT_RESOLVED;
    else if (state && strcasecmp(state, "info") == 0)
        a->state = ALERT_INFO;
    else
        return handler_result(HANDLER_INVALID, reason, reason_len,
                              "state must be one of firing, resolved, "
                              "info");
    return HANDLER_OK;
}

/* priority (-2..2) and severity; a missing severity follows priority. */
static enum handler_status
generic_urgency(const json_t *doc, struct alert *a, char *reason,
                size_t reason_len)
{
    long long priority = 0;
    int severity;

    switch (field_int(doc, "priority", &priority)) {
    case FIELD_MISSING:
        priority = 0;
        break;
    case FIELD_OK:
        if (priority >= -2 && priority <= 2) {
            a->priority = (int)priority;
            break;
        }
        /* fall through */
    case FIELD_BAD:
        return handler_result(HANDLER_INVALID, reason, reason_len,
                              "priority must be an integer from -2 to 2");
    }
    a->severity = generic_severity_of_priority[priority + 2];
    if (!field_present(doc, "severity"))
        return HANDLER_OK;
    if ((severity = severity_from_name(field_string(doc, "severity"))) < 0)
        return handler_result(HANDLER_INVALID, reason, reason_len,
                              "severity must be one of critical, high, "
                              "warning, medium, low, info");
    a->severity = severity;
    return HANDLER_OK;
}

/* The key: the sender's (a string or an integer), else the title. */
static int
generic_key(const json_t *doc, struct alert *a)
{
    const char *key = field_text(doc, "key");
    json_t *v = json_object_get(doc, "key");

    if (key)
        return alert_set(&a->key, key);
    if (json_is_integer(v))
        return alert_setf(&a->key, "%lld", (long long)json_integer_value(v));
    return alert_set(&a->key, a->title);
}

enum handler_status
generic_parse(const json_t *payload, struct alert *out, char *reason,
              size_t reason_len)
{
    enum handler_status rc;
    const char *title;

    if (!json_is_object(payload))
        return handler_result(HANDLER_INVALID, reason, reason_len,
                              "payload must be a JSON object");
    if (!field_present(payload, "title"))
        return handler_result(HANDLER_INVALID, reason, reason_len,
                              "missing field title");
    if (!(title = field_text(payload, "title")))
        return handler_result(HANDLER_INVALID, reason, reason_len,
                              "title must be a non-empty string");
    if ((rc = generic_state(payload, out, reason, reason_len)) !=
        HANDLER_OK ||
        (rc = generic_urgency(payload, out, reason, reason_len)) !=
        HANDLER_OK)
        return rc;
    if (alert_set(&out->title, title) < 0 ||
        alert_set(&out->message, field_text(payload, "message")) < 0 ||
        alert_set(&out->url, field_text(payload, "url")) < 0 ||
        alert_set(&out->url_title, field_text(payload, "url_title")) < 0 ||
        field_add_tags(out, field_array(payload, "tags"), "") < 0 ||
        generic_key(payload, out) < 0)
        return handler_nomem(reason, reason_len);
    return HANDLER_OK;
}
