/*
 * The mock HTTP server the notifier tests rely on: it must record what
 * it received exactly, answer exactly as told, keep connections alive,
 * and let go of a hanging answer as soon as it is stopped.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/support/mock_http.h"

struct reply {
    CURLcode code;
    long status;
    char body[8192];
    size_t len;
    char content_type[128];
    char extra[128];            /* value of X-Extra */
};

static size_t
reply_write(char *data, size_t size, size_t n, void *arg)
{
    struct reply *r = arg;
    size_t len = size * n, room = sizeof r->body - 1 - r->len;

    if (len > room)
        len = room;
    memcpy(r->body + r->len, data, len);
    r->len += len;
    r->body[r->len] = '\0';
    return size * n;
}

static void
reply_header(CURL *h, const char *name, char *buf, size_t size)
{
    struct curl_header *hd;

    buf[0] = '\0';
    if (curl_easy_header(h, name, 0, CURLH_HEADER, -1, &hd) == CURLHE_OK)
        snprintf(buf, size, "%s", hd->value);
}

/* Send one request on h (POST when body is not NULL). */
static void
http_do(CURL *h, const char *url, const char *body, long timeout_ms,
        struct reply *r)
{
    memset(r, 0, sizeof *r);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, reply_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    if (body)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    else
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    r->code = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    reply_header(h, "Content-Type", r->content_type,
                 sizeof r->content_type);
    reply_header(h, "X-Extra", r->extra, sizeof r->extra);
}

/* One request on a fresh handle. */
static void
http_once(const char *url, const char *body, long timeout_ms,
          struct reply *r)
{
    CURL *h = curl_easy_init();

    assert_non_null(h);
    http_do(h, url, body, timeout_ms, r);
    curl_easy_cleanup(h);
}

static char *
url_of(struct mock_http *m, const char *path)
{
    char *url;

    assert_true(asprintf(&url, "%s%s", mock_http_url(m), path) > 0);
    return url;
}

static void
answer_teapot(const struct mock_request *req, size_t n,
              struct mock_response *resp, void *arg)
{
    (void)req;
    (void)n;
    (void)arg;
    resp->status = 418;
    snprintf(resp->content_type, sizeof resp->content_type, "text/html");
    snprintf(resp->body, sizeof resp->body, "<h1>teapot</h1>");
    snprintf(resp->headers, sizeof resp->headers,
             "X-Extra: one two\nRetry-After: 7\n");
}

/* Hang on the first request only. */
static void
answer_hang_first(const struct mock_request *req, size_t n,
                  struct mock_response *resp, void *arg)
{
    (void)req;
    (void)arg;
    resp->hang = n == 0;
}

static void
answer_index(const struct mock_request *req, size_t n,
             struct mock_response *resp, void *arg)
{
    (void)req;
    (void)arg;
    snprintf(resp->body, sizeof resp->body, "{\"n\":%zu}", n);
}

static void
answer_slowly(const struct mock_request *req, size_t n,
              struct mock_response *resp, void *arg)
{
    (void)req;
    (void)n;
    (void)arg;
    resp->delay_ms = 50;
    snprintf(resp->body, sizeof resp->body, "late");
}

static void
starts_on_loopback_with_a_port(void **state)
{
    struct mock_http *m = mock_http_start(NULL, NULL);
    char expect[64];

    (void)state;
    assert_non_null(m);
    assert_true(mock_http_port(m) > 0);
    snprintf(expect, sizeof expect, "http://127.0.0.1:%d",
             mock_http_port(m));
    assert_string_equal(mock_http_url(m), expect);
    mock_http_stop(m);
}

static void
records_method_url_with_query_headers_and_body(void **state)
{
    struct mock_http *m = mock_http_start(NULL, NULL);
    char *url = url_of(m, "/1/messages.json?a=b&c=%20d");
    struct mock_request *req;
    struct reply r;
    char *ct;

    (void)state;
    http_once(url, "token=x&user=y", 5000, &r);
    assert_int_equal(mock_http_count(m), 1);
    req = mock_http_request(m, 0);
    assert_non_null(req);
    assert_string_equal(req->method, "POST");
    assert_string_equal(req->url, "/1/messages.json?a=b&c=%20d");
    assert_string_equal(req->body, "token=x&user=y");
    assert_int_equal(req->body_len, 14);
    ct = mock_request_header(req, "content-type");
    assert_string_equal(ct, "application/x-www-form-urlencoded");
    assert_non_null(strstr(req->headers, "Host: 127.0.0.1:"));
    free(ct);
    mock_request_free(req);
    free(url);
    mock_http_stop(m);
}

static void
default_answer_is_pushover_success(void **state)
{
    struct mock_http *m = mock_http_start(NULL, NULL);
    char *url = url_of(m, "/");
    struct reply r;

    (void)state;
    http_once(url, NULL, 5000, &r);
    assert_int_equal(r.code, CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.content_type, "application/json");
    assert_string_equal(r.body, "{\"status\":1,\"request\":\"mock\"}");
    free(url);
    mock_http_stop(m);
}

static void
answers_status_type_body_and_headers_as_told(void **state)
{
    struct mock_http *m = mock_http_start(answer_teapot, NULL);
    char *url = url_of(m, "/x");
    struct reply r;

    (void)state;
    http_once(url, "a=1", 5000, &r);
    assert_int_equal(r.status, 418);
    assert_string_equal(r.content_type, "text/html");
    assert_string_equal(r.body, "<h1>teapot</h1>");
    assert_string_equal(r.extra, "one two");
    free(url);
    mock_http_stop(m);
}

static void
handler_sees_requests_numbered_in_arrival_order(void **state)
{
    struct mock_http *m = mock_http_start(answer_index, NULL);
    char *url = url_of(m, "/n");
    struct mock_request *req;
    struct reply r;
    char body[32];
    int i;

    (void)state;
    for (i = 0; i < 3; i++) {
        snprintf(body, sizeof body, "i=%d", i);
        http_once(url, body, 5000, &r);
        snprintf(body, sizeof body, "{\"n\":%d}", i);
        assert_string_equal(r.body, body);
    }
    req = mock_http_request(m, 2);
    assert_string_equal(req->body, "i=2");
    mock_request_free(req);
    free(url);
    mock_http_stop(m);
}

static void
keeps_the_connection_alive_between_requests(void **state)
{
    struct mock_http *m = mock_http_start(NULL, NULL);
    char *url = url_of(m, "/k");
    CURL *h = curl_easy_init();
    long connects = -1;
    struct reply r;

    (void)state;
    http_do(h, url, "first=1", 5000, &r);
    assert_int_equal(r.status, 200);
    http_do(h, url, "second=2", 5000, &r);
    assert_int_equal(r.status, 200);
    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects);
    assert_int_equal(connects, 0);
    assert_int_equal(mock_http_count(m), 2);
    curl_easy_cleanup(h);
    free(url);
    mock_http_stop(m);
}

static void
delayed_answer_still_arrives(void **state)
{
    struct mock_http *m = mock_http_start(answer_slowly, NULL);
    char *url = url_of(m, "/d");
    struct reply r;

    (void)state;
    http_once(url, NULL, 10000, &r);
    assert_int_equal(r.code, CURLE_OK);
    assert_string_equal(r.body, "late");
    free(url);
    mock_http_stop(m);
}

static void
records_a_large_body_exactly(void **state)
{
    struct mock_http *m = mock_http_start(NULL, NULL);
    char *url = url_of(m, "/big");
    struct mock_request *req;
    size_t len = 300000, i;
    char *big = malloc(len + 1);
    struct reply r;

    (void)state;
    assert_non_null(big);
    for (i = 0; i < len; i++)
        big[i] = (char)('a' + i % 26);
    big[len] = '\0';
    http_once(url, big, 10000, &r);
    assert_int_equal(r.status, 200);
    req = mock_http_request(m, 0);
    assert_int_equal(req->body_len, len);
    assert_memory_equal(req->body, big, len);
    mock_request_free(req);
    free(big);
    free(url);
    mock_http_stop(m);
}

struct client {
    char *url;
    struct reply r;
};

static void *
client_run(void *arg)
{
    struct client *c = arg;
    CURL *h = curl_easy_init();

    /* No cmocka assertions on this thread; 60 s: if the hang ended by
       this timeout, the test would see CURLE_OPERATION_TIMEDOUT. */
    if (!h) {
        c->r.code = CURLE_FAILED_INIT;
        return NULL;
    }
    http_do(h, c->url, "hang=1", 60000, &c->r);
    curl_easy_cleanup(h);
    return NULL;
}

static void
hanging_answer_ends_when_stopped(void **state)
{
    struct mock_http *m = mock_http_start(answer_hang_first, NULL);
    struct client c = { .url = url_of(m, "/hang") };
    pthread_t t;

    (void)state;
    assert_int_equal(pthread_create(&t, NULL, client_run, &c), 0);
    assert_int_equal(mock_http_wait(m, 1, 10000), 0);
    mock_http_stop(m);
    pthread_join(t, NULL);
    assert_int_not_equal(c.r.code, CURLE_OK);
    assert_int_not_equal(c.r.code, CURLE_OPERATION_TIMEDOUT);
    assert_int_equal(c.r.status, 0);
    free(c.url);
}

static void
hanging_answer_blocks_only_its_own_connection(void **state)
{
    struct mock_http *m = mock_http_start(answer_hang_first, NULL);
    struct client c = { .url = url_of(m, "/hang") };
    struct reply r;
    pthread_t t;

    (void)state;
    assert_int_equal(pthread_create(&t, NULL, client_run, &c), 0);
    assert_int_equal(mock_http_wait(m, 1, 10000), 0);
    http_once(c.url, "other=1", 10000, &r);
    assert_int_equal(r.code, CURLE_OK);
    assert_int_equal(r.status, 200);
    mock_http_stop(m);
    pthread_join(t, NULL);
    free(c.url);
}

static void
wait_gives_up_when_nothing_arrives(void **state)
{
    struct mock_http *m = mock_http_start(NULL, NULL);

    (void)state;
    assert_int_equal(mock_http_wait(m, 1, 20), -1);
    assert_int_equal(mock_http_count(m), 0);
    mock_http_stop(m);
}

static void
request_beyond_the_record_is_null(void **state)
{
    struct mock_http *m = mock_http_start(NULL, NULL);

    (void)state;
    assert_null(mock_http_request(m, 0));
    mock_http_stop(m);
}

static void
form_field_decodes_percent_and_plus(void **state)
{
    const char *body = "a=1&b=x%20y+z&c=&d&e%5Ff=%26%3D%F0%9F%98%80";
    char *v;

    (void)state;
    assert_string_equal(v = mock_form_field(body, "b"), "x y z");
    free(v);
    assert_string_equal(v = mock_form_field(body, "c"), "");
    free(v);
    assert_string_equal(v = mock_form_field(body, "d"), "");
    free(v);
    assert_string_equal(v = mock_form_field(body, "e_f"),
                        "&=\xf0\x9f\x98\x80");
    free(v);
    assert_null(mock_form_field(body, "missing"));
    assert_null(mock_form_field(body, "1"));
}

static void
form_field_survives_hostile_bodies(void **state)
{
    static const char *const bodies[] = {
        "", "&", "=", "==&&", "%", "a=%", "a=%z", "a=%zz&b=%4", "%00=1",
        "a=1&a=2",
    };
    size_t i;
    char *v;

    (void)state;
    for (i = 0; i < sizeof bodies / sizeof bodies[0]; i++)
        free(mock_form_field(bodies[i], "a"));
    assert_string_equal(v = mock_form_field("a=1&a=2", "a"), "1");
    free(v);
}

static int
setup_curl(void **state)
{
    (void)state;
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static int
teardown_curl(void **state)
{
    (void)state;
    curl_global_cleanup();
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(starts_on_loopback_with_a_port),
        cmocka_unit_test(records_method_url_with_query_headers_and_body),
        cmocka_unit_test(default_answer_is_pushover_success),
        cmocka_unit_test(answers_status_type_body_and_headers_as_told),
        cmocka_unit_test(handler_sees_requests_numbered_in_arrival_order),
        cmocka_unit_test(keeps_the_connection_alive_between_requests),
        cmocka_unit_test(delayed_answer_still_arrives),
        cmocka_unit_test(records_a_large_body_exactly),
        cmocka_unit_test(hanging_answer_ends_when_stopped),
        cmocka_unit_test(hanging_answer_blocks_only_its_own_connection),
        cmocka_unit_test(wait_gives_up_when_nothing_arrives),
        cmocka_unit_test(request_beyond_the_record_is_null),
        cmocka_unit_test(form_field_decodes_percent_and_plus),
        cmocka_unit_test(form_field_survives_hostile_bodies),
    };

    return cmocka_run_group_tests(tests, setup_curl, teardown_curl);
}
