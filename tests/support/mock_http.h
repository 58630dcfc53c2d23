/*
 * A small HTTP server for tests: it stands in for Pushover and
 * VirusTotal on 127.0.0.1, records every request, and answers whatever
 * the test's handler decides (any status, HTML instead of JSON, a delay,
 * or no answer at all).
 */
#ifndef KLAXON_MOCK_HTTP_H
#define KLAXON_MOCK_HTTP_H

#include <stdbool.h>
#include <stddef.h>

struct mock_request {
    char method[16];
    char *url;              /* path and query string, e.g. "/1/x?a=b" */
    char *headers;          /* "Name: value\n" per request header */
    char *body;             /* NUL-terminated copy of the body */
    size_t body_len;
};

struct mock_response {
    int status;             /* default 200 */
    char content_type[64];  /* default "application/json" */
    char body[4096];        /* default "{\"status\":1,\"request\":\"mock\"}" */
    char headers[512];      /* extra "Name: value\n" lines */
    int delay_ms;           /* wait this long before answering */
    bool hang;              /* never answer; the connection stays open
                               until mock_http_stop() */
};

/*
 * Decide the answer to req (the response comes pre-filled with the
 * defaults). Runs on the server's threads; n is the request's index.
 */
typedef void (*mock_handler)(const struct mock_request *req, size_t n,
                             struct mock_response *resp, void *arg);

struct mock_http;

/* Start on an ephemeral loopback port; handler may be NULL (defaults). */
struct mock_http *mock_http_start(mock_handler handler, void *arg);
void mock_http_stop(struct mock_http *m);

int mock_http_port(const struct mock_http *m);
/* "http://127.0.0.1:PORT", owned by m. */
const char *mock_http_url(const struct mock_http *m);

/* Requests recorded so far, in arrival order. */
size_t mock_http_count(struct mock_http *m);
/* A copy of request i (caller frees with mock_request_free), or NULL. */
struct mock_request *mock_http_request(struct mock_http *m, size_t i);
void mock_request_free(struct mock_request *r);

/* Wait until at least count requests arrived; 0, or -1 on timeout. */
int mock_http_wait(struct mock_http *m, size_t count, int timeout_ms);

/* The value of form field name in a urlencoded body, decoded (caller
   frees), or NULL when absent. */
char *mock_form_field(const char *body, const char *name);

/* The value of header name (any case) of r (caller frees), or NULL. */
char *mock_request_header(const struct mock_request *r, const char *name);

#endif
