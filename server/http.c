/*
 * HTTP server on libmicrohttpd: listeners, routing, bodies, answers.
 *
 * Threading: each listener runs libmicrohttpd's epoll loop on a small
 * pool of threads (one per core). A hook request is parsed on its pool
 * thread, then the connection is suspended while the journal writer
 * makes the event durable, and resumed to answer. No thread ever blocks
 * on the disk, so a handful of threads keeps thousands of connections
 * moving, and the writer sees many events per fsync. A thread per
 * connection would block one thread per event in flight instead.
 */
#include "server/http.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "server/clock.h"
#include "server/listen.h"
#include "server/live_config.h"
#include "server/log.h"
#include "server/request.h"

/* Request line and headers must fit in this much memory per
   connection; larger ones get 431/414 from libmicrohttpd. It is cleared
   for every request, so it is kept to what senders need. */
#define CONNECTION_MEMORY (16 * 1024)

struct listener {
    struct MHD_Daemon *daemon;
    int fd;
    char name[80];
};

struct http_server {
    struct relay *relay;
    struct listener *listeners;
    size_t count;
    atomic_int active;          /* requests started and not completed */
    atomic_bool stopping;
};

/* Queue an answer, with one extra header when name is not NULL. A 503
   always says when to come back. */
static enum MHD_Result
respond(struct request *r, unsigned status, const char *content_type,
        const char *body, size_t len, const char *name, const char *value)
{
    struct MHD_Response *resp;
    enum MHD_Result ret;

    resp = MHD_create_response_from_buffer(len, (void *)body,
                                           MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            content_type);
    if (status == MHD_HTTP_SERVICE_UNAVAILABLE)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "5");
    if (name)
        MHD_add_response_header(resp, name, value);
    ret = MHD_queue_response(r->conn, status, resp);
    MHD_destroy_response(resp);
    r->answered = true;
    return ret;
}

enum MHD_Result
request_respond(struct request *r, unsigned status, const char *content_type,
                const char *body, size_t len)
{
    return respond(r, status, content_type, body, len, NULL, NULL);
}

enum MHD_Result
request_respond_json(struct request *r, unsigned status, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    enum MHD_Result ret;

    ret = request_respond(r, status, "application/json", text ? text : "",
                          text ? strlen(text) : 0);
    free(text);
    json_decref(body);
    return ret;
}

enum MHD_Result
request_respond_error(struct request *r, unsigned status, const char *fmt,
                      ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return request_respond_json(r, status, json_pack("{ss}", "error", msg));
}

enum MHD_Result
request_respond_405(struct request *r, const char *allow)
{
    char body[96];
    int n;

    n = snprintf(body, sizeof body, "{\"error\":\"method not allowed, "
                 "use %s\"}", allow);
    return respond(r, MHD_HTTP_METHOD_NOT_ALLOWED, "application/json", body,
                   (size_t)n, MHD_HTTP_HEADER_ALLOW, allow);
}

void
request_wait_for_journal(struct request *r,
                         enum MHD_Result (*resume)(struct request *))
{
    r->resume = resume;
    r->submitted = true;
    MHD_suspend_connection(r->conn);
}

void
request_journaled(struct request *r)
{
    atomic_store(&r->journaled, true);
    MHD_resume_connection(r->conn);
}

const char *
request_header(struct request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *
request_token(struct request *r)
{
    const char *auth = request_header(r, MHD_HTTP_HEADER_AUTHORIZATION);

    if (auth && strncasecmp(auth, "Bearer ", 7) == 0) {
        auth += 7;
        while (*auth == ' ')
            auth++;
        return auth;
    }
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND,
                                       "token");
}

/* Bodies the fixed POST endpoints take are a few form fields at most. */
#define FORM_MAX_BODY 4096

/* The fixed paths: methods, and who may send how much. Pushover's
   acknowledgement needs no token: only Pushover and klaxon know the
   receipt it names, and an unknown receipt changes nothing. */
static const struct route {
    const char *path;
    const char *allow;
    bool admin;                 /* needs server.admin_token */
    size_t max_body;            /* 0: takes no body */
    enum MHD_Result (*handler)(struct request *);
} routes[] = {
    { "/healthz", "GET, HEAD", false, 0, api_healthz },
    { "/metrics", "GET, HEAD", false, 0, api_metrics },
    { "/", "GET, HEAD", false, 0, api_board },
    { "/api/v1/alerts", "GET, HEAD", false, 0, api_alerts },
    { "/api/v1/siren/off", "POST", true, FORM_MAX_BODY, api_siren_off },
    { "/pushover/callback", "POST", false, FORM_MAX_BODY,
      api_pushover_callback },
};

/* How far past the limit an upload is read, to answer 413, before the
   connection is dropped instead. */
#define DISCARD_FACTOR 4

static bool
method_allowed(const char *allow, const char *method)
{
    size_t n = strlen(method);
    const char *p;

    for (p = allow; (p = strstr(p, method)); p += n) {
        if ((p == allow || p[-1] == ' ') && (p[n] == ',' || !p[n]))
            return true;
    }
    return false;
}

static bool
has_body(struct request *r)
{
    const char *len = request_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);

    return (len && strtoull(len, NULL, 10) > 0) ||
           request_header(r, MHD_HTTP_HEADER_TRANSFER_ENCODING);
}

/* Checks of a fixed path before any body is read: nobody without the
   admin token gets to make klaxon buffer anything on an admin path. */
static enum MHD_Result
begin_route(struct request *r, const struct route *route)
{
    enum MHD_Result rc;

    if (!method_allowed(route->allow, r->method))
        return request_respond_405(r, route->allow);
    if (route->admin && (rc = api_check_admin(r)) != (enum MHD_Result)-1)
        return rc;
    if (route->max_body == 0 && has_body(r))
        return request_respond_error(r, MHD_HTTP_BAD_REQUEST,
                                     "%s takes no body", r->method);
    r->max_body = route->max_body;
    return MHD_YES;
}

/* First call of a request: route it; answer at once when possible. */
static enum MHD_Result
begin(struct request *r, const char *url)
{
    size_t i;
    int rc;

    r->max_body = r->cfg->server.max_body;
    if (strncmp(url, "/hooks/", 7) == 0) {
        rc = hooks_begin(r, url + 7);
        return rc < 0 ? MHD_YES : (enum MHD_Result)rc;
    }
    for (i = 0; i < sizeof routes / sizeof *routes; i++) {
        if (strcmp(url, routes[i].path) == 0)
            return begin_route(r, &routes[i]);
    }
    return request_respond_error(r, MHD_HTTP_NOT_FOUND, "not found");
}

static enum MHD_Result
finish(struct request *r, const char *url)
{
    size_t i;

    if (strncmp(url, "/hooks/", 7) == 0)
        return hooks_finish(r);
    if (r->too_large)
        return request_respond_error(r, MHD_HTTP_CONTENT_TOO_LARGE,
                                     "body is larger than %zu bytes",
                                     r->max_body);
    for (i = 0; i < sizeof routes / sizeof *routes; i++) {
        if (strcmp(url, routes[i].path) == 0)
            return routes[i].handler(r);
    }
    return request_respond_error(r, MHD_HTTP_NOT_FOUND, "not found");
}

/*
 * Keep the upload, up to the request's limit. Past it the rest is read
 * and dropped so the sender still gets its 413 (libmicrohttpd cannot
 * answer in the middle of an upload), up to a bound: -1 means stop
 * reading and close.
 */
static int
append_body(struct request *r, const char *data, size_t size)
{
    size_t cap;
    char *grown;

    if (r->too_large || r->len + size > r->max_body) {
        r->too_large = true;
        r->discarded += size;
        return r->discarded > DISCARD_FACTOR * r->max_body ? -1 : 0;
    }
    if (r->len + size + 1 > r->cap) {
        cap = r->cap ? r->cap : 4096;
        while (cap < r->len + size + 1)
            cap *= 2;
        if (!(grown = realloc(r->body, cap))) {
            r->too_large = true;
            return 0;
        }
        r->body = grown;
        r->cap = cap;
    }
    memcpy(r->body + r->len, data, size);
    r->len += size;
    r->body[r->len] = '\0';
    return 0;
}

static struct request *
request_new(struct http_server *h, struct MHD_Connection *conn,
            const char *method)
{
    struct request *r = calloc(1, sizeof *r);

    if (!r)
        return NULL;
    r->relay = h->relay;
    r->conn = conn;
    r->method = method;
    r->cfg = live_config_acquire();
    alert_init(&r->alert, SOURCE_GENERIC);
    atomic_fetch_add(&h->active, 1);
    return r;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
           const char *method, const char *version, const char *upload,
           size_t *upload_size, void **con_cls)
{
    struct http_server *h = cls;
    struct request *r = *con_cls;

    (void)version;
    if (!r) {
        if (!(r = request_new(h, conn, method)))
            return MHD_NO;
        *con_cls = r;
        /* Draining for shutdown: finish what is in flight only. */
        if (atomic_load(&h->stopping))
            return request_respond_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
                                         "shutting down");
        return begin(r, url);
    }
    if (r->answered)
        return MHD_YES;
    if (r->submitted)
        return atomic_load(&r->journaled) ? r->resume(r) : MHD_YES;
    if (*upload_size) {
        if (append_body(r, upload, *upload_size) < 0)
            return MHD_NO;
        *upload_size = 0;
        return MHD_YES;
    }
    return finish(r, url);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode why)
{
    struct http_server *h = cls;
    struct request *r = *con_cls;

    (void)conn;
    (void)why;
    if (!r)
        return;
    /* The sender went away before its answer; what was stored stays
       stored and is delivered, and is logged and counted here. */
    if (r->submitted && atomic_load(&r->journaled) && !r->answered)
        hooks_unanswered(r);
    alert_free(&r->alert);
    decision_free(&r->decision);
    live_config_release(r->cfg);
    free(r->body);
    free(r);
    *con_cls = NULL;
    atomic_fetch_sub(&h->active, 1);
}

static void
on_mhd_error(void *cls, const char *fmt, va_list ap)
{
    char msg[256];
    size_t n;

    (void)cls;
    vsnprintf(msg, sizeof msg, fmt, ap);
    n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '.'))
        msg[--n] = '\0';
    log_debug("http", "%s", msg);
}

static int
start_listener(struct http_server *h, struct listener *l,
               const struct config *cfg, char *err, size_t errlen)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);

    l->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
        MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG,
        0, NULL, NULL, on_request, h,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error, NULL,
        MHD_OPTION_LISTEN_SOCKET, l->fd,
        /* Refuse ambiguous framing (two Content-Lengths, bare LF...),
           the raw material of request smuggling behind a proxy. */
        MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(cores > 1 ? cores : 1),
        MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)cfg->server.max_connections,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->server.timeout,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
        MHD_OPTION_END);
    if (!l->daemon) {
        snprintf(err, errlen, "cannot start the HTTP server on %s", l->name);
        return -1;
    }
    return 0;
}

struct http_server *
http_bind(const struct config *cfg, char *err, size_t errlen)
{
    struct http_server *h = calloc(1, sizeof *h);
    size_t n = strv_len(cfg->server.listen), i;
    struct listen_addr addr;
    struct listener *l;
    char why[160];

    if (!h || !(h->listeners = calloc(n, sizeof *h->listeners))) {
        snprintf(err, errlen, "out of memory");
        free(h);
        return NULL;
    }
    for (i = 0; i < n; i++) {
        l = &h->listeners[i];
        if (listen_parse(cfg->server.listen[i], &addr, why, sizeof why) < 0 ||
            (l->fd = listen_open(&addr, why, sizeof why)) < 0) {
            snprintf(err, errlen, "cannot listen on %s: %s",
                     cfg->server.listen[i], why);
            http_stop(h, 0);
            return NULL;
        }
        listen_describe(l->fd, l->name, sizeof l->name);
        h->count++;
    }
    return h;
}

int
http_start(struct http_server *h, struct relay *relay,
           const struct config *cfg, char *err, size_t errlen)
{
    size_t i;

    h->relay = relay;
    for (i = 0; i < h->count; i++) {
        if (start_listener(h, &h->listeners[i], cfg, err, errlen) < 0)
            return -1;
    }
    return 0;
}

size_t
http_listener_count(const struct http_server *h)
{
    return h->count;
}

const char *
http_listener_name(const struct http_server *h, size_t i)
{
    return i < h->count ? h->listeners[i].name : NULL;
}

void
http_stop(struct http_server *h, int grace_ms)
{
    int64_t deadline = clock_mono_ms() + grace_ms;
    size_t i;

    if (!h)
        return;
    /* New connections are refused at once; requests that arrive on open
       connections get 503 while those already accepted finish. */
    atomic_store(&h->stopping, true);
    for (i = 0; i < h->count; i++) {
        if (h->listeners[i].daemon)
            MHD_quiesce_daemon(h->listeners[i].daemon);
        close(h->listeners[i].fd);
        h->listeners[i].fd = -1;
    }
    while (atomic_load(&h->active) > 0 && clock_mono_ms() < deadline)
        usleep(10000);
    if (atomic_load(&h->active) > 0) {
        /* libmicrohttpd aborts the process when stopped with suspended
           connections; leave them to the exit instead. */
        log_error("http", "%d requests still waiting for the journal "
                  "after %d ms; exiting without answering them",
                  atomic_load(&h->active), grace_ms);
        return;
    }
    for (i = 0; i < h->count; i++) {
        if (h->listeners[i].daemon)
            MHD_stop_daemon(h->listeners[i].daemon);
    }
    free(h->listeners);
    free(h);
}
