/*
 * One HTTP request as the handlers see it, and the ways to answer it.
 * Internal to the HTTP server (http.c, hooks.c, api.c).
 */
#ifndef KLAXON_REQUEST_H
#define KLAXON_REQUEST_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "conf/config.h"
#include "server/alert.h"
#include "server/journal.h"
#include "server/relay.h"
#include "server/rules.h"

struct request {
    struct relay *relay;
    struct MHD_Connection *conn;
    const struct config *cfg;   /* snapshot held for the whole request */
    const char *method;
    int source;                 /* hooks: enum source */

    char *body;                 /* the upload, NUL-terminated */
    size_t len, cap;
    size_t max_body;            /* this request's limit */
    size_t discarded;           /* bytes read and dropped past it */
    bool too_large;

    /* Hooks: what the payload became while the journal stores it. */
    struct alert alert;
    struct decision decision;
    struct journal_event ev;
    struct journal_ack ack;
    bool submitted;             /* suspended, waiting for the journal */
    enum MHD_Result (*resume)(struct request *r);  /* answers after it */
    atomic_bool journaled;
    bool answered;
};

/* Queue a JSON answer (steals body; NULL sends no body). */
enum MHD_Result request_respond_json(struct request *r, unsigned status,
                                     json_t *body);
/* Queue {"error": "..."} with the given status. */
enum MHD_Result request_respond_error(struct request *r, unsigned status,
                                      const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Queue any body (copied) with its content type. */
enum MHD_Result request_respond(struct request *r, unsigned status,
                                const char *content_type, const char *body,
                                size_t len);
/* Queue 405 with the Allow header. */
enum MHD_Result request_respond_405(struct request *r, const char *allow);

/* Suspend r until the journal completes what the caller submits next;
   then r->resume answers. Call before submitting. */
void request_wait_for_journal(struct request *r,
                              enum MHD_Result (*resume)(struct request *));
/* The journal's completion: resume r. Safe from any thread. */
void request_journaled(struct request *r);

/* A request header's value, or NULL. */
const char *request_header(struct request *r, const char *name);

/* The bearer token or ?token= of the request, or NULL. */
const char *request_token(struct request *r);

/* Hook endpoints (hooks.c). begin runs before the body is read and
   returns -1 when the request may go on, else the MHD result of an
   answer it queued. */
int hooks_begin(struct request *r, const char *source);
enum MHD_Result hooks_finish(struct request *r);
enum MHD_Result hooks_answer(struct request *r);
/* A stored event whose sender left before its answer: log and count. */
void hooks_unanswered(struct request *r);

/* Open and recent alerts as a JSON array (new reference), or NULL with
   the reason in err. */
json_t *api_alert_list(struct relay *relay, char *err, size_t errlen);

/* -1 (as an MHD result) when r carries the admin token, else the
   answer queued (404 without an admin token configured, 401). */
enum MHD_Result api_check_admin(struct request *r);

/* The other endpoints (api.c); each answers the request. */
enum MHD_Result api_healthz(struct request *r);
enum MHD_Result api_metrics(struct request *r);
enum MHD_Result api_alerts(struct request *r);
enum MHD_Result api_board(struct request *r);
enum MHD_Result api_siren_off(struct request *r);
enum MHD_Result api_pushover_callback(struct request *r);

#endif
