/*
 * The test HTTP server behind mock_http.h: libmicrohttpd on 127.0.0.1
 * with one thread per connection, so that a request told to hang blocks
 * only its own connection. Every request is recorded, in arrival order,
 * before the test's handler decides the answer; a hanging or delayed
 * answer ends as soon as mock_http_stop() is called.
 */
#include "tests/support/mock_http.h"

#include <curl/curl.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Bodies above this are refused; tests never need more. */
#define MOCK_BODY_MAX (16 * 1024 * 1024)

struct mock_http {
    struct MHD_Daemon *daemon;
    mock_handler handler;
    void *arg;
    int port;
    char url[32];

    pthread_mutex_t lock;
    pthread_cond_t changed;         /* a request arrived, or stopping */
    struct mock_request **reqs;     /* recorded, immutable once added */
    size_t count, cap;
    bool stopping;
};

/* A request being received on one connection. */
struct mock_pending {
    char *url;
    char *body;
    size_t len;
    bool started;                   /* headers seen, body may follow */
};

static const struct mock_response mock_defaults = {
    .status = 200,
    .content_type = "application/json",
    .body = "{\"status\":1,\"request\":\"mock\"}",
};

/* The deadline ms from now on the monotonic clock the condition uses. */
static struct timespec
deadline_after(int ms)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

/* Called first for each request with the raw target, query included;
   what it returns becomes the request's context. */
static void *
mock_uri_seen(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct mock_pending *p = calloc(1, sizeof *p);

    (void)cls;
    (void)conn;
    if (p && !(p->url = strdup(uri ? uri : ""))) {
        free(p);
        p = NULL;
    }
    return p;
}

static void
mock_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
               enum MHD_RequestTerminationCode toe)
{
    struct mock_pending *p = *con_cls;

    (void)cls;
    (void)conn;
    (void)toe;
    if (p) {
        free(p->url);
        free(p->body);
        free(p);
        *con_cls = NULL;
    }
}

static enum MHD_Result
mock_header_line(void *cls, enum MHD_ValueKind kind, const char *key,
                 const char *value)
{
    (void)kind;
    fprintf(cls, "%s: %s\n", key, value ? value : "");
    return MHD_YES;
}

/* A recorded copy of the request; NULL when out of memory. */
static struct mock_request *
mock_record(struct MHD_Connection *conn, const char *method,
            struct mock_pending *p)
{
    struct mock_request *r = calloc(1, sizeof *r);
    size_t size;
    FILE *f;

    if (!r)
        return NULL;
    snprintf(r->method, sizeof r->method, "%s", method);
    r->url = strdup(p->url);
    r->body = malloc(p->len + 1);
    if ((f = open_memstream(&r->headers, &size))) {
        MHD_get_connection_values(conn, MHD_HEADER_KIND, mock_header_line,
                                  f);
        fclose(f);
    }
    if (!r->url || !r->body || !r->headers) {
        mock_request_free(r);
        return NULL;
    }
    if (p->len)
        memcpy(r->body, p->body, p->len);
    r->body[p->len] = '\0';
    r->body_len = p->len;
    return r;
}

/* Append r to the record; its index, or -1 when out of memory. */
static long
mock_append(struct mock_http *m, struct mock_request *r)
{
    struct mock_request **grown;
    long n = -1;

    pthread_mutex_lock(&m->lock);
    if (m->count == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        if (!(grown = realloc(m->reqs, cap * sizeof *grown)))
            goto out;
        m->reqs = grown;
        m->cap = cap;
    }
    n = (long)m->count;
    m->reqs[m->count++] = r;
    pthread_cond_broadcast(&m->changed);
out:
    pthread_mutex_unlock(&m->lock);
    return n;
}

/*
 * Wait for the answer's delay, or forever for a hang, unless the server
 * is stopping. Returns false when stopping: the connection is then
 * dropped without an answer.
 */
static bool
mock_wait_turn(struct mock_http *m, const struct mock_response *resp)
{
    struct timespec until = deadline_after(resp->delay_ms);
    bool go;

    pthread_mutex_lock(&m->lock);
    while (!m->stopping && (resp->hang || resp->delay_ms > 0)) {
        if (resp->hang)
            pthread_cond_wait(&m->changed, &m->lock);
        else if (pthread_cond_timedwait(&m->changed, &m->lock, &until) ==
                 ETIMEDOUT)
            break;
    }
    go = !m->stopping;
    pthread_mutex_unlock(&m->lock);
    return go;
}

/* Add each "Name: value" line of lines to r. */
static void
mock_add_headers(struct MHD_Response *r, const char *lines)
{
    char copy[sizeof ((struct mock_response *)0)->headers];
    char *line, *save, *colon, *value;

    snprintf(copy, sizeof copy, "%s", lines);
    for (line = strtok_r(copy, "\r\n", &save); line;
         line = strtok_r(NULL, "\r\n", &save)) {
        if (!(colon = strchr(line, ':')))
            continue;
        *colon = '\0';
        for (value = colon + 1; *value == ' '; value++)
            ;
        MHD_add_response_header(r, line, value);
    }
}

static enum MHD_Result
mock_answer(struct mock_http *m, struct MHD_Connection *conn,
            const char *method, struct mock_pending *p)
{
    struct mock_response resp = mock_defaults;
    struct MHD_Response *r;
    struct mock_request *req;
    enum MHD_Result ret;
    long n;

    if (!(req = mock_record(conn, method, p)))
        return MHD_NO;
    if ((n = mock_append(m, req)) < 0) {
        mock_request_free(req);
        return MHD_NO;
    }
    if (m->handler)
        m->handler(req, (size_t)n, &resp, m->arg);
    if (!mock_wait_turn(m, &resp))
        return MHD_NO;

    resp.body[sizeof resp.body - 1] = '\0';
    r = MHD_create_response_from_buffer(strlen(resp.body), resp.body,
                                        MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    resp.content_type[sizeof resp.content_type - 1] = '\0';
    resp.headers[sizeof resp.headers - 1] = '\0';
    if (resp.content_type[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                resp.content_type);
    mock_add_headers(r, resp.headers);
    ret = MHD_queue_response(conn, (unsigned)resp.status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result
mock_access(void *cls, struct MHD_Connection *conn, const char *url,
            const char *method, const char *version, const char *data,
            size_t *data_size, void **con_cls)
{
    struct mock_pending *p = *con_cls;
    char *grown;

    (void)url;
    (void)version;
    if (!p)
        return MHD_NO;
    /* The first call only announces the headers; answering now would
       skip the body. */
    if (!p->started) {
        p->started = true;
        return MHD_YES;
    }
    if (*data_size) {
        if (p->len + *data_size > MOCK_BODY_MAX ||
            !(grown = realloc(p->body, p->len + *data_size)))
            return MHD_NO;
        p->body = grown;
        memcpy(p->body + p->len, data, *data_size);
        p->len += *data_size;
        *data_size = 0;
        return MHD_YES;
    }
    return mock_answer(cls, conn, method, p);
}

static int
mock_init_sync(struct mock_http *m)
{
    pthread_condattr_t attr;
    int rc;

    if (pthread_condattr_init(&attr) != 0)
        return -1;
    rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_cond_init(&m->changed, &attr);
    pthread_condattr_destroy(&attr);
    if (rc != 0)
        return -1;
    if (pthread_mutex_init(&m->lock, NULL) != 0) {
        pthread_cond_destroy(&m->changed);
        return -1;
    }
    return 0;
}

struct mock_http *
mock_http_start(mock_handler handler, void *arg)
{
    struct sockaddr_in sin = { .sin_family = AF_INET };
    const union MHD_DaemonInfo *info;
    struct mock_http *m;

    if (!(m = calloc(1, sizeof *m)))
        return NULL;
    if (mock_init_sync(m) < 0) {
        free(m);
        return NULL;
    }
    m->handler = handler;
    m->arg = arg;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    m->daemon = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD,
        0, NULL, NULL, mock_access, m,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
        MHD_OPTION_URI_LOG_CALLBACK, mock_uri_seen, m,
        MHD_OPTION_NOTIFY_COMPLETED, mock_completed, m,
        MHD_OPTION_END);
    if (!m->daemon ||
        !(info = MHD_get_daemon_info(m->daemon, MHD_DAEMON_INFO_BIND_PORT))
        || info->port == 0) {
        mock_http_stop(m);
        return NULL;
    }
    m->port = info->port;
    snprintf(m->url, sizeof m->url, "http://127.0.0.1:%d", m->port);
    return m;
}

void
mock_http_stop(struct mock_http *m)
{
    size_t i;

    if (!m)
        return;
    /* Release hanging and delayed answers first: the daemon waits for
       every connection thread before it returns. */
    pthread_mutex_lock(&m->lock);
    m->stopping = true;
    pthread_cond_broadcast(&m->changed);
    pthread_mutex_unlock(&m->lock);
    if (m->daemon)
        MHD_stop_daemon(m->daemon);

    for (i = 0; i < m->count; i++)
        mock_request_free(m->reqs[i]);
    free(m->reqs);
    pthread_cond_destroy(&m->changed);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

int
mock_http_port(const struct mock_http *m)
{
    return m->port;
}

const char *
mock_http_url(const struct mock_http *m)
{
    return m->url;
}

size_t
mock_http_count(struct mock_http *m)
{
    size_t n;

    pthread_mutex_lock(&m->lock);
    n = m->count;
    pthread_mutex_unlock(&m->lock);
    return n;
}

static struct mock_request *
mock_request_copy(const struct mock_request *r)
{
    struct mock_request *c = calloc(1, sizeof *c);

    if (!c)
        return NULL;
    memcpy(c->method, r->method, sizeof c->method);
    c->url = strdup(r->url);
    c->headers = strdup(r->headers);
    c->body = malloc(r->body_len + 1);
    if (!c->url || !c->headers || !c->body) {
        mock_request_free(c);
        return NULL;
    }
    memcpy(c->body, r->body, r->body_len + 1);
    c->body_len = r->body_len;
    return c;
}

struct mock_request *
mock_http_request(struct mock_http *m, size_t i)
{
    struct mock_request *c = NULL;

    pthread_mutex_lock(&m->lock);
    if (i < m->count)
        c = mock_request_copy(m->reqs[i]);
    pthread_mutex_unlock(&m->lock);
    return c;
}

void
mock_request_free(struct mock_request *r)
{
    if (!r)
        return;
    free(r->url);
    free(r->headers);
    free(r->body);
    free(r);
}

int
mock_http_wait(struct mock_http *m, size_t count, int timeout_ms)
{
    struct timespec until = deadline_after(timeout_ms > 0 ? timeout_ms : 0);
    int rc = 0;

    pthread_mutex_lock(&m->lock);
    while (m->count < count) {
        if (pthread_cond_timedwait(&m->changed, &m->lock, &until) ==
            ETIMEDOUT) {
            rc = m->count < count ? -1 : 0;
            break;
        }
    }
    pthread_mutex_unlock(&m->lock);
    return rc;
}

/* Decode one urlencoded piece ('+' is a space); caller frees. */
static char *
mock_form_decode(const char *s, size_t len)
{
    char *copy = strndup(s, len), *out = NULL, *dec;
    size_t i;
    int outlen;

    if (!copy)
        return NULL;
    for (i = 0; copy[i]; i++) {
        if (copy[i] == '+')
            copy[i] = ' ';
    }
    if ((dec = curl_easy_unescape(NULL, copy, 0, &outlen))) {
        out = strdup(dec);
        curl_free(dec);
    }
    free(copy);
    return out;
}

char *
mock_form_field(const char *body, const char *name)
{
    const char *p = body, *end, *eq;
    char *key, *value;
    bool match;

    while (p && *p) {
        end = strchr(p, '&');
        if (!end)
            end = p + strlen(p);
        eq = memchr(p, '=', (size_t)(end - p));
        if (!eq)
            eq = end;
        if ((key = mock_form_decode(p, (size_t)(eq - p)))) {
            match = strcmp(key, name) == 0;
            free(key);
            if (match) {
                value = eq < end ? mock_form_decode(eq + 1,
                                                    (size_t)(end - eq - 1))
                                 : strdup("");
                return value;
            }
        }
        p = *end ? end + 1 : end;
    }
    return NULL;
}

char *
mock_request_header(const struct mock_request *r, const char *name)
{
    size_t nlen = strlen(name);
    const char *line = r->headers, *eol;

    while (line && *line) {
        eol = strchr(line, '\n');
        if (!eol)
            eol = line + strlen(line);
        if ((size_t)(eol - line) >= nlen + 1 &&
            strncasecmp(line, name, nlen) == 0 && line[nlen] == ':') {
            line += nlen + 1;
            while (*line == ' ')
                line++;
            return strndup(line, (size_t)(eol - line));
        }
        line = *eol ? eol + 1 : eol;
    }
    return NULL;
}
