/*
 * The inbound hook endpoints: POST /hooks/<source>.
 *
 * Checks that need no body (source, method, token, declared length) run
 * before the body is read. Once it has arrived the body is decoded,
 * turned into an alert, decided, and handed to the journal; the answer
 * waits until the journal says the event is on disk.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers/handler.h"
#include "server/body.h"
#include "server/clock.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/pipeline.h"
#include "server/request.h"
#include "server/token.h"

int
hooks_begin(struct request *r, const char *name)
{
    const struct source_conf *src;
    const char *length;
    char *end;

    r->source = source_from_name(name);
    src = r->source >= 0 ? &r->cfg->sources[r->source] : NULL;
    if (!src || strv_len(src->tokens) == 0)
        return request_respond_error(r, MHD_HTTP_NOT_FOUND, "not found");
    if (strcmp(r->method, "POST") != 0)
        return request_respond_405(r, "POST");
    if (!token_matches(src->tokens, request_token(r))) {
        metrics_event(r->source, OUTCOME_UNAUTHORIZED);
        return request_respond_error(r, MHD_HTTP_UNAUTHORIZED,
                                     request_token(r) ? "wrong token" :
                                     "missing token: pass ?token= or "
                                     "Authorization: Bearer");
    }
    length = request_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (length && strtoull(length, &end, 10) > r->cfg->server.max_body) {
        metrics_event(r->source, OUTCOME_INVALID);
        return request_respond_error(r, MHD_HTTP_CONTENT_TOO_LARGE,
                                     "body is larger than max_body (%zu "
                                     "bytes)", r->cfg->server.max_body);
    }
    return -1;
}

/* Runs on the journal writer once the event is durable (or refused):
   the siren follows the committed state, then the sender gets its
   answer. */
static void
journaled(struct journal_event *ev)
{
    struct request *r = ev->ctx;

    relay_event_committed(r->relay, ev);
    request_journaled(r);
}

static enum MHD_Result
reject(struct request *r, unsigned status, const char *reason)
{
    metrics_event(r->source, OUTCOME_INVALID);
    return request_respond_error(r, status, "%s", reason);
}

static enum MHD_Result
ignore(struct request *r, const char *reason)
{
    metrics_event(r->source, OUTCOME_IGNORED);
    return request_respond_json(r, MHD_HTTP_OK,
                                json_pack("{ss ss}", "status", "ignored",
                                          "reason", reason));
}

/* Body decoded and signature checked: the payload, or an answer. */
static json_t *
decode(struct request *r, enum MHD_Result *answer)
{
    const struct source_conf *src = &r->cfg->sources[r->source];
    char reason[160];
    int status = 0;
    json_t *payload;

    if (src->hmac_key &&
        !token_signature_valid(src->hmac_key, r->body ? r->body : "",
                               r->len, request_header(r, src->hmac_header))) {
        metrics_event(r->source, OUTCOME_UNAUTHORIZED);
        *answer = request_respond_error(r, MHD_HTTP_UNAUTHORIZED,
                                        "missing or wrong signature in %s",
                                        src->hmac_header);
        return NULL;
    }
    payload = body_decode(request_header(r, MHD_HTTP_HEADER_CONTENT_TYPE),
                          r->body ? r->body : "", r->len, &status, reason,
                          sizeof reason);
    if (!payload)
        *answer = reject(r, status ? status : MHD_HTTP_BAD_REQUEST, reason);
    return payload;
}

enum MHD_Result
hooks_finish(struct request *r)
{
    enum handler_status hs;
    enum MHD_Result answer = MHD_NO;
    char reason[160];
    json_t *payload;
    int64_t now = clock_now_ms();

    /* A journal known to be failing refuses at once rather than after
       its next try; it probes the disk every second meanwhile. */
    if (!journal_writable(r->relay->journal)) {
        metrics_event(r->source, OUTCOME_UNAVAILABLE);
        return request_respond_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
                                     "journal is not writable");
    }
    if (!(payload = decode(r, &answer)))
        return answer;
    alert_free(&r->alert);
    alert_init(&r->alert, r->source);
    hs = handler_parse(r->source, payload, &r->alert, reason, sizeof reason);
    json_decref(payload);
    if (hs == HANDLER_INVALID)
        return reject(r, MHD_HTTP_BAD_REQUEST, reason);
    if (hs == HANDLER_IGNORE)
        return ignore(r, reason);
    if (alert_clip(&r->alert) < 0)
        return request_respond_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
                                     "out of memory");
    if (r->alert.time == 0)
        r->alert.time = (time_t)(now / 1000);
    if (rules_decide(r->cfg, &r->alert, (time_t)(now / 1000),
                     &r->decision) < 0)
        return request_respond_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
                                     "out of memory");

    r->ev.alert = &r->alert;
    r->ev.decision = &r->decision;
    r->ev.body = r->body;
    r->ev.body_len = r->len;
    r->ev.content_type = request_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
    r->ev.received_ms = now;
    r->ev.deliver = r->cfg->pushover.token != NULL;
    r->ev.done = journaled;
    r->ev.ctx = r;
    /* Suspend before submitting: the writer may finish first. */
    request_wait_for_journal(r, hooks_answer);
    journal_submit(r->relay->journal, &r->ev);
    return MHD_YES;
}

static enum metric_outcome
outcome_metric(enum journal_outcome o)
{
    switch (o) {
    case JOURNAL_QUEUED: return OUTCOME_QUEUED;
    case JOURNAL_DUPLICATE: return OUTCOME_DUPLICATE;
    case JOURNAL_IGNORED: return OUTCOME_IGNORED;
    default: return OUTCOME_UNAVAILABLE;
    }
}

void
hooks_unanswered(struct request *r)
{
    pipeline_log_event(&r->ev);
    metrics_event(r->source, outcome_metric(r->ev.outcome));
}

enum MHD_Result
hooks_answer(struct request *r)
{
    const struct journal_event *ev = &r->ev;
    char body[80];
    int n;

    /* Logged here, on the request's thread, to keep the writer short. */
    pipeline_log_event(ev);
    metrics_event(r->source, outcome_metric(ev->outcome));
    /* The two answers every event gets, written directly: this is the
       hot path, and the id is the only variable part. */
    switch (ev->outcome) {
    case JOURNAL_QUEUED:
    case JOURNAL_DUPLICATE:
        n = snprintf(body, sizeof body, "{\"id\":\"%lld\",\"status\":"
                     "\"%s\"}", (long long)ev->id,
                     ev->outcome == JOURNAL_QUEUED ? "queued" : "duplicate");
        return request_respond(r, ev->outcome == JOURNAL_QUEUED ?
                               MHD_HTTP_ACCEPTED : MHD_HTTP_OK,
                               "application/json", body, n);
    case JOURNAL_IGNORED:
        return request_respond_json(r, MHD_HTTP_OK,
                                    json_pack("{ss ss}", "status", "ignored",
                                              "reason", ev->reason));
    case JOURNAL_UNAVAILABLE:
    default:
        return request_respond_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "%s",
                                     ev->reason);
    }
}
