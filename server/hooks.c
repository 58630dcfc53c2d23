/*
 * The inbound hook endpoints: POST /hooks/<source>.
 *
 * Checks that need no body (source, method, token, declared length) run
 * before the body is read. Once it has arrived the body is decoded,
 * turned into an alert, decided, and handed to the journal; the answer
 * waits until the journal says the event is on disk.
 */
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "handlers/handler.h"
#include "server/body.h"
#include "server/clock.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/pipeline.h"
#include "server/request.h"
#include "server/token.h"

/* Refusals logged per second at most: a stranger posting garbage in a
   loop must not be able to flood the log. */
#define REFUSALS_LOGGED_PER_SECOND 10

/* Whether one more refusal may be logged now; *unlogged: how many were
   not logged since the last one that was. */
static bool
refusal_loggable(unsigned *unlogged)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static int64_t second;
    static unsigned logged, dropped;
    int64_t now = clock_mono_ms() / 1000;
    bool ok;

    pthread_mutex_lock(&lock);
    if (now != second) {
        second = now;
        logged = 0;
    }
    if ((ok = logged < REFUSALS_LOGGED_PER_SECOND)) {
        logged++;
        *unlogged = dropped;
        dropped = 0;
    } else {
        dropped++;
    }
    pthread_mutex_unlock(&lock);
    return ok;
}

/* The sender's address as text, for the log. */
static const char *
client_address(struct request *r, char *buf, size_t len)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    socklen_t salen = sa && sa->sa_family == AF_INET6 ?
                      sizeof(struct sockaddr_in6) :
                      sizeof(struct sockaddr_in);

    if (!sa || getnameinfo(sa, salen, buf, (socklen_t)len, NULL, 0,
                           NI_NUMERICHOST) != 0)
        snprintf(buf, len, "an unknown address");
    return buf;
}

/* Refuse a hook request: count it, log why (see above) and answer with
   status and {"error": reason}. */
static enum MHD_Result
refuse(struct request *r, enum metric_outcome outcome, unsigned status,
       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static enum MHD_Result
refuse(struct request *r, enum metric_outcome outcome, unsigned status,
       const char *fmt, ...)
{
    char reason[256], from[INET6_ADDRSTRLEN + 1];
    unsigned unlogged;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    metrics_event(r->source, outcome);
    if (log_enabled(LOG_WARN) && refusal_loggable(&unlogged)) {
        log_warn("hooks", "%s: refused with %u a request from %s: %s",
                 source_name(r->source), status,
                 client_address(r, from, sizeof from), reason);
        if (unlogged)
            log_warn("hooks", "%u more refusals were not logged",
                     unlogged);
    }
    return request_respond_error(r, status, "%s", reason);
}

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
    if (!token_matches(src->tokens, request_token(r)))
        return refuse(r, OUTCOME_UNAUTHORIZED, MHD_HTTP_UNAUTHORIZED, "%s",
                      request_token(r) ? "wrong token" :
                      "missing token: pass ?token= or Authorization: "
                      "Bearer");
    length = request_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (length && strtoull(length, &end, 10) > r->cfg->server.max_body)
        return refuse(r, OUTCOME_INVALID, MHD_HTTP_CONTENT_TOO_LARGE,
                      "body is larger than max_body (%zu bytes)",
                      r->cfg->server.max_body);
    /* A journal known to be failing refuses before the upload is read;
       it probes the disk every second meanwhile. */
    if (!journal_writable(r->relay->journal))
        return refuse(r, OUTCOME_UNAVAILABLE, MHD_HTTP_SERVICE_UNAVAILABLE,
                      "journal is not writable");
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
        *answer = refuse(r, OUTCOME_UNAUTHORIZED, MHD_HTTP_UNAUTHORIZED,
                         "missing or wrong signature in %s",
                         src->hmac_header);
        return NULL;
    }
    payload = body_decode(request_header(r, MHD_HTTP_HEADER_CONTENT_TYPE),
                          r->body ? r->body : "", r->len, &status, reason,
                          sizeof reason);
    if (!payload)
        *answer = refuse(r, OUTCOME_INVALID,
                         status ? (unsigned)status : MHD_HTTP_BAD_REQUEST,
                         "%s", reason);
    return payload;
}

enum MHD_Result
hooks_finish(struct request *r)
{
    enum MHD_Result answer = MHD_NO;
    char reason[160];
    json_t *payload;
    int rc;

    if (r->too_large)
        return refuse(r, OUTCOME_INVALID, MHD_HTTP_CONTENT_TOO_LARGE,
                      "body is larger than max_body (%zu bytes)",
                      r->max_body);
    if (!(payload = decode(r, &answer)))
        return answer;
    alert_free(&r->alert);
    alert_init(&r->alert, r->source);
    rc = relay_prepare(r->cfg, payload, &r->alert, &r->decision, &r->ev,
                       reason, sizeof reason);
    json_decref(payload);
    if (rc < 0)
        return request_respond_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
                                     "%s", reason);
    if (rc == HANDLER_INVALID)
        return refuse(r, OUTCOME_INVALID, MHD_HTTP_BAD_REQUEST, "%s",
                      reason);
    if (rc == HANDLER_IGNORE)
        return ignore(r, reason);
    r->ev.body = r->body;
    r->ev.body_len = r->len;
    r->ev.content_type = request_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
    r->ev.done = journaled;
    r->ev.ctx = r;
    /* Suspend before submitting: the writer may finish first. */
    request_wait_for_journal(r, hooks_answer);
    journal_submit(r->relay->journal, &r->ev);
    return MHD_YES;
}

void
hooks_unanswered(struct request *r)
{
    pipeline_log_event(&r->ev);
    metrics_event(r->source, relay_outcome_metric(r->ev.outcome));
}

enum MHD_Result
hooks_answer(struct request *r)
{
    const struct journal_event *ev = &r->ev;
    char body[80];
    int n;

    /* Logged here, on the request's thread, to keep the writer short. */
    pipeline_log_event(ev);
    metrics_event(r->source, relay_outcome_metric(ev->outcome));
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
