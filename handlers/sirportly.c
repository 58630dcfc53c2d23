/*
 * Sirportly ticket events: a ticket was created, assigned, changed
 * status, or got a reply. They tell the ticket's assignee, so a ticket
 * nobody is assigned to, and a reply the assignee wrote, need no alert.
 * Sent as JSON {event, ticket, update} or as a form whose ticket= and
 * update= fields hold JSON.
 */
#include "handlers/handler.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "handlers/field.h"

/* What happened to the ticket, and who it is for. */
struct sirportly_event {
    const json_t *ticket;
    const json_t *update;       /* NULL: not a reply */
    const char *reference;
    const char *assignee;
    const char *kind;
};

/* The kind of a ticket event without an update. */
static const char *
sirportly_ticket_kind(const json_t *payload)
{
    const char *event = field_string(payload, "event");

    if (!event)
        return "assigned";
    if (strcasecmp(event, "new") == 0 ||
        strcasecmp(event, "ticket_created") == 0)
        return "new";
    if (strcasecmp(event, "status") == 0 ||
        strcasecmp(event, "status_change") == 0)
        return "status";
    return "assigned";
}

/* Reply kind and dedup key; IGNORE for the assignee's own update. */
static enum handler_status
sirportly_reply(struct sirportly_event *ev, struct alert *a, char *reason,
                size_t reason_len)
{
    const json_t *author = field_object(ev->update, "author");
    const char *type = field_string(author, "type");
    const char *username = field_string(author, "username");
    json_t *idv = json_object_get(ev->update, "id");
    long long id;

    if (type && strcasecmp(type, "customer") == 0)
        ev->kind = "customer_reply";
    else if (username && strcmp(username, ev->assignee) == 0)
        return handler_result(HANDLER_IGNORE, reason, reason_len,
                              "update by the assignee");
    else
        ev->kind = "staff_reply";
    if (field_int(ev->update, "id", &id) == FIELD_OK) {
        if (alert_setf(&a->key, "%s:%s:%lld", ev->reference, ev->kind,
                       id) < 0)
            return handler_nomem(reason, reason_len);
    } else if (json_is_string(idv) && json_string_length(idv)) {
        if (alert_setf(&a->key, "%s:%s:%s", ev->reference, ev->kind,
                       json_string_value(idv)) < 0)
            return handler_nomem(reason, reason_len);
    } else {
        return handler_result(HANDLER_INVALID, reason, reason_len,
                              field_present(ev->update, "id") ?
                              "update.id must be an integer or a string" :
                              "missing field update.id");
    }
    return HANDLER_OK;
}

static const char *
sirportly_name(const json_t *ticket, const char *member)
{
    return field_text(field_object(ticket, member), "name");
}

/* "KX-482113 assigned to you: <subject>" and the like. */
static int
sirportly_title(const struct sirportly_event *ev, struct alert *a)
{
    const char *subject = field_text(ev->ticket, "subject");
    const char *author = field_text(field_object(ev->update, "author"),
                                    "name");
    const char *status = sirportly_name(ev->ticket, "status");

    if (!subject)
        subject = "(no subject)";
    if (strcmp(ev->kind, "customer_reply") == 0)
        return alert_setf(&a->title, "%s: customer replied: %s",
                          ev->reference, subject);
    if (strcmp(ev->kind, "staff_reply") == 0)
        return alert_setf(&a->title, "%s: %s replied: %s", ev->reference,
                          author ? author : "staff", subject);
    if (strcmp(ev->kind, "new") == 0)
        return alert_setf(&a->title, "%s: new ticket: %s", ev->reference,
                          subject);
    if (strcmp(ev->kind, "status") == 0 && status)
        return alert_setf(&a->title, "%s: status %s: %s", ev->reference,
                          status, subject);
    if (strcmp(ev->kind, "status") == 0)
        return alert_setf(&a->title, "%s: status changed: %s",
                          ev->reference, subject);
    return alert_setf(&a->title, "%s assigned to you: %s", ev->reference,
                      subject);
}

/* For a reply who wrote it and what; otherwise the ticket's summary. */
static int
sirportly_message(const struct sirportly_event *ev, struct alert *a)
{
    static const char *const facts[][2] = {
        { "customer", "Customer" },
        { "priority", "Priority" },
        { "status", "Status" },
    };
    const char *author = field_text(field_object(ev->update, "author"),
                                    "name");
    const char *text = field_text(ev->update, "message");
    const char *value;
    struct field_textbuf tb;
    size_t i;

    if (field_text_open(&tb) < 0)
        return -1;
    if (ev->update) {
        if (!author)
            author = sirportly_name(ev->ticket, "customer");
        fprintf(tb.f, "%s wrote:\n%s\n", author ? author : "Someone",
                text ? text : "(no message)");
        return field_text_close(&tb, &a->message);
    }
    if ((value = field_text(ev->ticket, "subject")))
        fprintf(tb.f, "%s\n", value);
    for (i = 0; i < sizeof facts / sizeof facts[0]; i++) {
        if ((value = sirportly_name(ev->ticket, facts[i][0])))
            fprintf(tb.f, "%s: %s\n", facts[i][1], value);
    }
    return field_text_close(&tb, &a->message);
}

/* Tags, time, title and message: nothing here can make it invalid. */
static int
sirportly_details(const struct sirportly_event *ev, struct alert *a)
{
    static const char *const groups[] = { "department", "priority", "team" };
    char prefix[32];
    const char *name;
    time_t t;
    size_t i;

    for (i = 0; i < sizeof groups / sizeof groups[0]; i++) {
        if (!(name = sirportly_name(ev->ticket, groups[i])))
            continue;
        snprintf(prefix, sizeof prefix, "%s:", groups[i]);
        if (field_add_tag(a, prefix, name) < 0)
            return -1;
    }
    if ((ev->update && field_time(ev->update, "posted_at", FIELD_SECONDS,
                                  &t) == FIELD_OK) ||
        field_time(ev->ticket, "updated_at", FIELD_SECONDS, &t) == FIELD_OK)
        a->time = t;
    if (alert_set(&a->kind, ev->kind) < 0 ||
        alert_set(&a->assignee, ev->assignee) < 0 ||
        sirportly_title(ev, a) < 0)
        return -1;
    return sirportly_message(ev, a);
}

/* The ticket and its reference, which every event needs. */
static enum handler_status
sirportly_ticket(const json_t *payload, struct sirportly_event *ev,
                 char *reason, size_t reason_len)
{
    if (!field_present(payload, "ticket"))
        return handler_result(HANDLER_INVALID, reason, reason_len,
                              "missing field ticket");
    if (!(ev->ticket = field_object(payload, "ticket")))
        return handler_result(HANDLER_INVALID, reason, reason_len,
                              "ticket must be an object");
    if (!field_present(ev->ticket, "reference"))
        return handler_result(HANDLER_INVALID, reason, reason_len,
                              "missing field ticket.reference");
    if (!(ev->reference = field_text(ev->ticket, "reference")))
        return handler_result(HANDLER_INVALID, reason, reason_len,
                              "ticket.reference must be a non-empty "
                              "string");
    return HANDLER_OK;
}

enum handler_status
sirportly_parse(const json_t *payload, struct alert *out, char *reason,
                size_t reason_len)
{
    struct sirportly_event ev = { 0 };
    char quoted[FIELD_EXCERPT_LEN];
    const char *updated;
    enum handler_status rc;

    if (!json_is_object(payload))
        return handler_result(HANDLER_INVALID, reason, reason_len,
                              "payload must be a JSON object");
    if ((rc = sirportly_ticket(payload, &ev, reason, reason_len)) !=
        HANDLER_OK)
        return rc;
    ev.assignee = field_text(field_object(ev.ticket, "user"), "username");
    if (!ev.assignee)
        return handler_result(HANDLER_IGNORE, reason, reason_len,
                              "ticket %s has no assignee",
                              field_excerpt(quoted, sizeof quoted,
                                            ev.reference));
    out->state = ALERT_INFO;
    out->severity = SEVERITY_INFO;
    if ((ev.update = field_object(payload, "update"))) {
        rc = sirportly_reply(&ev, out, reason, reason_len);
        if (rc != HANDLER_OK)
            return rc;
    } else {
        ev.kind = sirportly_ticket_kind(payload);
        updated = field_string(ev.ticket, "updated_at");
        if (alert_setf(&out->key, "%s:%s:%s:%s", ev.reference, ev.kind,
                       ev.assignee, updated ? updated : "") < 0)
            return handler_nomem(reason, reason_len);
    }
    if (sirportly_details(&ev, out) < 0)
        return handler_nomem(reason, reason_len);
    return HANDLER_OK;
}
