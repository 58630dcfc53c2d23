/*
 * The relay end to end: the real daemon on an ephemeral loopback port,
 * a mock Pushover in this process, webhooks posted over HTTP.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <sqlite3.h>

#include "tests/support/daemon.h"
#include "tests/support/mock_http.h"
#include "tests/support/testutil.h"

/* How the mock Pushover answers. */
struct pushover_mock {
    struct mock_http *http;
    atomic_int fail_next;       /* answer fail_status to this many */
    atomic_int fail_status;     /* 500, 429, 400 ... */
    atomic_int receipts;        /* receipts handed out */
};

struct fixture {
    struct daemon d;
    struct pushover_mock mock;
    char url[256];              /* base of the hook URLs */
};

static void
answer(const struct mock_request *req, size_t n, struct mock_response *resp,
       void *arg)
{
    struct pushover_mock *m = arg;
    char *priority = mock_form_field(req->body, "priority");

    (void)n;
    if (atomic_load(&m->fail_next) > 0) {
        atomic_fetch_sub(&m->fail_next, 1);
        resp->status = atomic_load(&m->fail_status);
        if (resp->status == 400)
            snprintf(resp->body, sizeof resp->body, "{\"user\":\"invalid\","
                     "\"errors\":[\"user identifier is invalid\"],"
                     "\"status\":0,\"request\":\"r-bad\"}");
        else
            snprintf(resp->body, sizeof resp->body, "<html>busy</html>");
        if (resp->status != 400)
            snprintf(resp->content_type, sizeof resp->content_type,
                     "text/html");
        if (resp->status == 429)
            snprintf(resp->headers, sizeof resp->headers,
                     "Retry-After: 7200\n");
    } else if (priority && strcmp(priority, "2") == 0) {
        snprintf(resp->body, sizeof resp->body, "{\"status\":1,\"request\":"
                 "\"r-%zu\",\"receipt\":\"rcpt%d\"}", n,
                 atomic_fetch_add(&m->receipts, 1) + 1);
    }
    free(priority);
}

static void
write_config(struct fixture *f, const char *extra)
{
    daemon_write_config(&f->d,
        "server: { listen = [\"127.0.0.1:0\"]; max_body = 65536; };\n"
        "journal: { path = \"%s/klaxon.db\"; };\n"
        "sources: {\n"
        "  pingdom = { token = \"pingdom-secret-1\"; };\n"
        "  newrelic = { token = \"newrelic-secret-1\"; };\n"
        "  sirportly = { token = \"sirportly-secret-1\"; };\n"
        "  generic = { token = [\"generic-secret-2\", \"generic-secret-1\"];"
        " };\n"
        "};\n"
        "people = (\n"
        "  { name = \"alice\"; pushover = \"uAliceKey\"; on_call = true; },\n"
        "  { name = \"bob\"; pushover = \"uBobKey\"; on_call = true; },\n"
        "  { name = \"carol\"; pushover = \"uCarolKey\"; }\n"
        ");\n"
        "pushover: { token = \"appTokenSecret\"; "
        "api_url = \"%s/1/messages.json\"; timeout = 2; };\n%s",
        f->d.dir, mock_http_url(f->mock.http), extra ? extra : "");
}

/* One source and one person, alice: the count of pushes is then the
   count of tries. server_extra and pushover_extra are added to those
   sections ("" for none). */
static void
write_one_person_config_with(struct fixture *f, const char *server_extra,
                             const char *source, const char *token,
                             const char *pushover_extra)
{
    daemon_write_config(&f->d,
        "server: { listen = [\"127.0.0.1:0\"]; %s };\n"
        "journal: { path = \"%s/klaxon.db\"; };\n"
        "sources: { %s = { token = \"%s\"; }; };\n"
        "people = ( { name = \"alice\"; pushover = \"uAliceKey\"; "
        "on_call = true; } );\n"
        "pushover: { token = \"appTokenSecret\"; %s"
        "api_url = \"%s/1/messages.json\"; timeout = 2; };\n",
        server_extra, f->d.dir, source, token, pushover_extra,
        mock_http_url(f->mock.http));
}

static void
write_one_person_config(struct fixture *f)
{
    write_one_person_config_with(f, "", "generic", "generic-secret-1", "");
}

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);

    f->mock.http = mock_http_start(answer, &f->mock);
    daemon_init(&f->d);
    write_config(f, NULL);
    *state = f;
    return 0;
}

/* Every secret the tests configure; none may ever reach the log. */
static const char *const secrets[] = {
    "pingdom-secret-1", "pingdom-secret-2", "newrelic-secret-1",
    "sirportly-secret-1", "generic-secret-1", "generic-secret-2",
    "appTokenSecret", "uAliceKey", "uBobKey", "uCarolKey",
    "signing-key-123", "admin-secret-1",
};

static int
teardown(void **state)
{
    struct fixture *f = *state;
    char *log = NULL;
    size_t i;

    daemon_cleanup_keep_log(&f->d, &log);
    for (i = 0; log && i < sizeof secrets / sizeof *secrets; i++) {
        if (strstr(log, secrets[i]))
            fail_msg("secret %s appears in the log:\n%s", secrets[i], log);
    }
    free(log);
    daemon_cleanup(&f->d);
    mock_http_stop(f->mock.http);
    free(f);
    return 0;
}

static const char *
hook(struct fixture *f, const char *source, const char *token)
{
    snprintf(f->url, sizeof f->url, "%s/hooks/%s?token=%s", f->d.base,
             source, token);
    return f->url;
}

/* Field name of request i at the mock, or NULL (caller frees). */
static char *
field(struct fixture *f, size_t i, const char *name)
{
    struct mock_request *req = mock_http_request(f->mock.http, i);
    char *v = req ? mock_form_field(req->body, name) : NULL;

    mock_request_free(req);
    return v;
}

static void
assert_field(struct fixture *f, size_t i, const char *name,
             const char *want)
{
    char *got = field(f, i, name);

    if (!got || strcmp(got, want) != 0)
        fail_msg("push %zu: %s is '%s', want '%s'", i, name,
                 got ? got : "(absent)", want);
    free(got);
}

/* Users of the pushes so far, sorted, joined by ','. */
static void
users(struct fixture *f, char *out, size_t len)
{
    size_t n = mock_http_count(f->mock.http), i, j;
    char *u[16] = { 0 }, *t;

    for (i = 0; i < n && i < 16; i++)
        u[i] = field(f, i, "user");
    for (i = 0; i < n && i < 16; i++) {
        for (j = i + 1; j < n && j < 16; j++) {
            if (u[i] && u[j] && strcmp(u[i], u[j]) > 0) {
                t = u[i];
                u[i] = u[j];
                u[j] = t;
            }
        }
    }
    out[0] = '\0';
    for (i = 0; i < n && i < 16; i++) {
        snprintf(out + strlen(out), len - strlen(out), "%s%s", i ? "," : "",
                 u[i] ? u[i] : "?");
        free(u[i]);
    }
}

static void
post_json(struct http_reply *r, const char *url, const char *json,
          const char *extra_header)
{
    http_request(r, "POST", url, "application/json", json, strlen(json),
                 extra_header);
}

static void
expect_reply(struct http_reply *r, long status, const char *body_part)
{
    if (r->status != status || !strstr(r->body, body_part))
        fail_msg("got %ld %s, want %ld with %s", r->status, r->body, status,
                 body_part);
}

static void
test_pingdom_down_reaches_on_call_people_at_priority_1(void **state)
{
    struct fixture *f = *state;
    struct http_reply r;
    char who[128];

    daemon_start(&f->d);
    http_post_fixture(&r, hook(f, "pingdom", "pingdom-secret-1"),
                      "pingdom/down.json");
    expect_reply(&r, 202, "\"status\":\"queued\"");
    assert_non_null(strstr(r.body, "\"id\":\""));
    http_reply_free(&r);

    assert_int_equal(mock_http_wait(f->mock.http, 2, 5000), 0);
    users(f, who, sizeof who);
    assert_string_equal(who, "uAliceKey,uBobKey");
    assert_field(f, 0, "token", "appTokenSecret");
    assert_field(f, 0, "priority", "1");
    assert_field(f, 0, "title", "DOWN: shop.example.org homepage");
    assert_field(f, 0, "url", "https://shop.example.org/");
    assert_field(f, 0, "timestamp", "1764841500");
    assert_int_equal(daemon_stop(&f->d), 0);
}

static void
test_repeat_is_duplicate_and_pushes_nothing_more(void **state)
{
    struct fixture *f = *state;
    struct http_reply r;
    char *first;

    daemon_start(&f->d);
    http_post_fixture(&r, hook(f, "pingdom", "pingdom-secret-1"),
                      "pingdom/down.json");
    expect_reply(&r, 202, "queued");
    first = strdup(r.body + strlen("{\"id\":"));
    http_reply_free(&r);
    http_post_fixture(&r, hook(f, "pingdom", "pingdom-secret-1"),
                      "pingdom/down.json");
    expect_reply(&r, 200, "\"status\":\"duplicate\"");
    /* The duplicate names the stored event it repeats. */
    assert_non_null(strstr(r.body, strtok(first, ",")));
    http_reply_free(&r);
    free(first);

    assert_int_equal(mock_http_wait(f->mock.http, 2, 5000), 0);
    usleep(500 * 1000);
    assert_int_equal(mock_http_count(f->mock.http), 2);
    assert_int_equal(daemon_stop(&f->d), 0);
}

static void
test_up_resolves_with_one_notice_per_person(void **state)
{
    struct fixture *f = *state;
    struct http_reply r;

    daemon_start(&f->d);
    http_post_fixture(&r, hook(f, "pingdom", "pingdom-secret-1"),
                      "pingdom/down.json");
    http_reply_free(&r);
    http_post_fixture(&r, hook(f, "pingdom", "pingdom-secret-1"),
                      "pingdom/up.json");
    expect_reply(&r, 202, "queued");
    http_reply_free(&r);
    http_post_fixture(&r, hook(f, "pingdom", "pingdom-secret-1"),
                      "pingdom/up.json");
    expect_reply(&r, 200, "duplicate");
    http_reply_free(&r);

    assert_int_equal(mock_http_wait(f->mock.http, 4, 5000), 0);
    usleep(300 * 1000);
    assert_int_equal(mock_http_count(f->mock.http), 4);
    /* Per person, the alert comes before its resolve notice. */
    assert_field(f, 2, "title", "UP: shop.example.org homepage");
    assert_field(f, 2, "priority", "0");
    assert_field(f, 3, "priority", "0");
    assert_int_equal(daemon_stop(&f->d), 0);
}

static void
test_resolve_without_open_alert_is_ignored(void **state)
{
    struct fixture *f = *state;
    struct http_reply r;

    daemon_start(&f->d);
    http_post_fixture(&r, hook(f, "pingdom", "pingdom-secret-1"),
                      "pingdom/up.json");
    expect_reply(&r, 200, "\"status\":\"ignored\"");
    assert_non_null(strstr(r.body, "no open alert"));
    http_reply_free(&r);
    assert_int_equal(daemon_stop(&f->d), 0);
    assert_int_equal(mock_http_count(f->mock.http), 0);
}

static void
test_sirportly_events_reach_the_assignee_only(void **state)
{
    struct fixture *f = *state;
    const char *url;
    struct http_reply r;
    char who[128];

    daemon_start(&f->d);
    url = hook(f, "sirportly", "sirportly-secret-1");
    http_post_fixture(&r, url, "sirportly/assigned.form");
    expect_reply(&r, 202, "queued");
    http_reply_free(&r);
    http_post_fixture(&r, url, "sirportly/unassigned-twin.form");
    expect_reply(&r, 200, "\"status\":\"ignored\"");
    http_reply_free(&r);
    http_post_fixture(&r, url, "sirportly/own-reply.json");
    expect_reply(&r, 200, "\"status\":\"ignored\"");
    http_reply_free(&r);
    http_post_fixture(&r, url, "sirportly/customer-reply.json");
    expect_reply(&r, 202, "queued");
    http_reply_free(&r);

    assert_int_equal(mock_http_wait(f->mock.http, 2, 5000), 0);
    usleep(300 * 1000);
    users(f, who, sizeof who);
    assert_string_equal(who, "uAliceKey,uAliceKey");
    assert_field(f, 0, "priority", "0");
    assert_int_equal(daemon_stop(&f->d), 0);
}

/* The daemon's log holds text (after daemon_stop). */
static void
assert_logged(struct fixture *f, const char *text)
{
    char *log = daemon_log_text(&f->d);
    bool found = strstr(log, text) != NULL;

    if (!found)
        print_error("no \"%s\" in the log:\n%s\n", text, log);
    free(log);
    assert_true(found);
}

static void
test_tokens_are_checked(void **state)
{
    struct fixture *f = *state;
    struct http_reply r;
    char url[256];

    daemon_start(&f->d);
    snprintf(url, sizeof url, "%s/hooks/generic", f->d.base);
    post_json(&r, url, "{\"title\":\"x\"}", NULL);
    expect_reply(&r, 401, "missing token");
    http_reply_free(&r);
    http_post_fixture(&r, hook(f, "generic", "generic-secret-9"),
                      "generic/backup-failed.json");
    expect_reply(&r, 401, "wrong token");
    http_reply_free(&r);
    /* Both tokens of a rotation are accepted, by URL or bearer. */
    http_post_fixture(&r, hook(f, "generic", "generic-secret-1"),
                      "generic/backup-failed.json");
    expect_reply(&r, 202, "queued");
    http_reply_free(&r);
    post_json(&r, url, "{\"title\":\"other\"}",
              "Authorization: Bearer generic-secret-2");
    expect_reply(&r, 202, "queued");
    http_reply_free(&r);
    /* hashgate has no token in this config: it does not exist. */
    http_post_fixture(&r, hook(f, "hashgate", "anything"),
                      "hashgate/changes.json");
    assert_int_equal(r.status, 404);
    http_reply_free(&r);
    assert_int_equal(daemon_stop(&f->d), 0);
    /* Each refusal is a log line naming the source, sender and reason. */
    assert_logged(f, "warn hooks: generic: refused with 401 a request from "
                  "127.0.0.1: missing token: pass ?token= or "
                  "Authorization: Bearer\n");
    assert_logged(f, "warn hooks: generic: refused with 401 a request from "
                  "127.0.0.1: wrong token\n");
}

static void
test_bad_requests_get_clear_4xx_and_the_daemon_keeps_serving(void **state)
{
    struct fixture *f = *state;
    struct http_reply r;
    char url[256], *allow, *big;

    daemon_start(&f->d);
    snprintf(url, sizeof url, "%s/hooks/pingdom?token=pingdom-secret-1",
             f->d.base);
    http_request(&r, "GET", url, NULL, NULL, 0, NULL);
    assert_int_equal(r.status, 405);
    allow = http_reply_header(&r, "Allow");
    assert_string_equal(allow, "POST");
    free(allow);
    http_reply_free(&r);

    post_json(&r, url, "{\"check_id\": 5", NULL);
    expect_reply(&r, 400, "invalid JSON");
    http_reply_free(&r);
    post_json(&r, url, "{\"current_state\": \"DOWN\"}", NULL);
    expect_reply(&r, 400, "check_id");
    http_reply_free(&r);
    http_request(&r, "POST", url, "text/plain", "DOWN", 4, NULL);
    expect_reply(&r, 415, "text/plain");
    http_reply_free(&r);
    post_json(&r, url, "{\"x\":\"\xff\"}", NULL);
    expect_reply(&r, 400, "UTF-8");
    http_reply_free(&r);
    big = calloc(1, 70000);
    memset(big, ' ', 69999);
    big[0] = '{';
    http_request(&r, "POST", url, "application/json", big, 69999, NULL);
    assert_int_equal(r.status, 413);
    http_reply_free(&r);
    free(big);
    snprintf(url, sizeof url, "%s/nothing/here", f->d.base);
    http_request(&r, "GET", url, NULL, NULL, 0, NULL);
    assert_int_equal(r.status, 404);
    http_reply_free(&r);

    /* Still serving, and a valid event still goes through. */
    http_post_fixture(&r, hook(f, "pingdom", "pingdom-secret-1"),
                      "pingdom/down.json");
    expect_reply(&r, 202, "queued");
    http_reply_free(&r);
    assert_int_equal(mock_http_wait(f->mock.http, 2, 5000), 0);
    assert_int_equal(daemon_stop(&f->d), 0);
    assert_logged(f, "warn hooks: pingdom: refused with 400 a request from "
                  "127.0.0.1: invalid JSON");
    assert_logged(f, "warn hooks: pingdom: refused with 415 a request from "
                  "127.0.0.1: unsupported content type text/plain\n");
    assert_logged(f, "warn hooks: pingdom: refused with 413 a request from "
                  "127.0.0.1: body is larger than max_body");
}

/* A raw HTTP/1.1 exchange on a fresh connection: send req, return the
   status of the answer (0 if none). */
static int
raw_exchange(struct fixture *f, const char *req, size_t len)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    char answer[512] = "";
    int fd, status = 0;
    ssize_t n;
    size_t sent = 0;

    sa.sin_port = htons(atoi(strrchr(f->d.base, ':') + 1));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    while (sent < len && (n = send(fd, req + sent, len - sent,
                                   MSG_NOSIGNAL)) > 0)
        sent += n;
    if ((n = recv(fd, answer, sizeof answer - 1, 0)) > 0) {
        answer[n] = '\0';
        sscanf(answer, "HTTP/1.1 %d", &status);
    }
    close(fd);
    return status;
}

static void
test_oversized_chunked_body_gets_413_and_bodies_only_where_due(void **state)
{
    struct fixture *f = *state;
    char head[256], *req, url[256];
    size_t chunk = 100000, len, i;
    struct http_reply r;

    daemon_start(&f->d);
    /* 2 x 100 kB in chunks against max_body = 64 kB. */
    len = snprintf(head, sizeof head, "POST /hooks/generic?token="
                   "generic-secret-1 HTTP/1.1\r\nHost: x\r\n"
                   "Content-Type: application/json\r\n"
                   "Transfer-Encoding: chunked\r\n\r\n");
    req = malloc(len + 2 * (chunk + 16) + 8);
    memcpy(req, head, len);
    for (i = 0; i < 2; i++) {
        len += sprintf(req + len, "%zx\r\n", chunk);
        memset(req + len, ' ', chunk);
        len += chunk;
        len += sprintf(req + len, "\r\n");
    }
    len += sprintf(req + len, "0\r\n\r\n");
    assert_int_equal(raw_exchange(f, req, len), 413);
    free(req);

    /* GET takes no body; the admin endpoints need their token before a
       byte of body is read. */
    snprintf(url, sizeof url, "%s/healthz", f->d.base);
    http_request(&r, "GET", url, "text/plain", "x", 1, NULL);
    expect_reply(&r, 400, "GET takes no body");
    http_reply_free(&r);
    snprintf(url, sizeof url, "%s/api/v1/siren/off", f->d.base);
    http_request(&r, "POST", url, "text/plain", "x", 1, NULL);
    expect_reply(&r, 404, "no admin_token");
    http_reply_free(&r);
    assert_int_equal(daemon_stop(&f->d), 0);
}

static void
test_huge_titles_are_stored_cut_to_what_a_phone_shows(void **state)
{
    struct fixture *f = *state;
    struct http_reply r;
    char *body, url[256], *title;
    json_t *doc;
    size_t n = 200000;

    daemon_start(&f->d);
    body = malloc(n + 64);
    strcpy(body, "{\"title\":\"");
    memset(body + strlen(body), '\'', n);
    strcpy(body + 10 + n, "\"}");
    post_json(&r, hook(f, "generic", "generic-secret-1"), body, NULL);
    free(body);
    assert_int_equal(r.status, 413);
    http_reply_free(&r);

    body = malloc(60000);
    strcpy(body, "{\"title\":\"");
    memset(body + 10, 'x', 50000);
    strcpy(body + 50010, "\"}");
    post_json(&r, hook(f, "generic", "generic-secret-1"), body, NULL);
    free(body);
    expect_reply(&r, 202, "queued");
    http_reply_free(&r);
    snprintf(url, sizeof url, "%s/api/v1/alerts", f->d.base);
    http_request(&r, "GET", url, NULL, NULL, 0, NULL);
    doc = json_loads(r.body, 0, NULL);
    title = (char *)json_string_value(json_object_get(json_array_get(
        json_object_get(doc, "alerts"), 0), "title"));
    /* 249 characters and an ellipsis. */
    assert_int_equal(strlen(title), 249 + 3);
    json_decref(doc);
    http_reply_free(&r);
    assert_int_equal(daemon_stop(&f->d), 0);
}

struct stalled_post {
    struct fixture *f;
    long status;
};

static void *
post_while_stalled(void *arg)
{
    struct stalled_post *p = arg;
    struct http_reply r;
    char url[256];

    snprintf(url, sizeof url, "%s/hooks/generic?token=generic-secret-1",
             p->f->d.base);
    post_json(&r, url, "{\"title\":\"stalled\"}", NULL);
    p->status = r.status;
    http_reply_free(&r);
    return NULL;
}

static void
test_stop_while_the_journal_is_stalled_still_exits_cleanly(void **state)
{
    struct fixture *f = *state;
    struct stalled_post p = { f, 0 };
    char path[600];
    pthread_t t;
    sqlite3 *db;

    daemon_start(&f->d);
    /* Someone holds the journal: commits wait for the lock. */
    snprintf(path, sizeof path, "%s/klaxon.db", f->d.dir);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL),
                     SQLITE_OK);
    pthread_create(&t, NULL, post_while_stalled, &p);
    usleep(300 * 1000);
    assert_int_equal(daemon_stop(&f->d), 0);
    pthread_join(t, NULL);
    /* Not stored, so not accepted. */
    assert_int_equal(p.status, 503);
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(db);
}

static void
test_signed_source_needs_the_right_signature(void **state)
{
    struct fixture *f = *state;
    const char *body = "{\"title\":\"signed\"}";
    char url[256], header[128];
    struct http_reply r;

    daemon_write_config(&f->d,
        "server: { listen = [\"127.0.0.1:0\"]; };\n"
        "journal: { path = \"%s/klaxon.db\"; };\n"
        "sources: { generic = { token = \"generic-secret-1\"; "
        "hmac_key = \"signing-key-123\"; hmac_header = \"X-Hub-Signature\";"
        " }; };\n", f->d.dir);
    daemon_start(&f->d);
    snprintf(url, sizeof url, "%s/hooks/generic?token=generic-secret-1",
             f->d.base);
    post_json(&r, url, body, NULL);
    expect_reply(&r, 401, "signature in X-Hub-Signature");
    http_reply_free(&r);
    post_json(&r, url, body, "X-Hub-Signature: sha256=00112233");
    assert_int_equal(r.status, 401);
    http_reply_free(&r);
    /* HMAC-SHA256 of the body under signing-key-123, computed with
       "openssl dgst -sha256 -hmac". */
    snprintf(header, sizeof header, "X-Hub-Signature: sha256=%s%s",
             "a6a666dfe91c5dccb7baaf7295605852",
             "278f89ac1cbd4b8a8a182fe8a4183304");
    post_json(&r, url, body, header);
    expect_reply(&r, 202, "queued");
    http_reply_free(&r);
    /* The signature covers the body: another body fails with it. */
    post_json(&r, url, "{\"title\":\"forged\"}", header);
    assert_int_equal(r.status, 401);
    http_reply_free(&r);
    assert_int_equal(daemon_stop(&f->d), 0);
}

static void
test_oversized_url_and_headers_are_refused(void **state)
{
    struct fixture *f = *state;
    struct http_reply r;
    char *url, *hdr;

    daemon_start(&f->d);
    url = malloc(40000);
    snprintf(url, 40000, "%s/hooks/generic?token=", f->d.base);
    memset(url + strlen(url), 'a', 30000);
    url[strlen(f->d.base) + 22 + 30000] = '\0';
    http_request(&r, "POST", url, "application/json", "{}", 2, NULL);
    assert_int_equal(r.status, 414);
    http_reply_free(&r);
    free(url);
    hdr = malloc(40000);
    strcpy(hdr, "X-Filler: ");
    memset(hdr + 10, 'b', 30000);
    hdr[30010] = '\0';
    http_request(&r, "POST", hook(f, "generic", "generic-secret-1"),
                 "application/json", "{}", 2, hdr);
    assert_int_equal(r.status, 431);
    http_reply_free(&r);
    free(hdr);
    assert_int_equal(daemon_stop(&f->d), 0);
}

/* Started as root with server.user set: binds, then runs as that user,
   and the journal it creates belongs to that user, mode 0600. */
static void
test_root_drops_to_the_service_user_after_binding(void **state)
{
    struct fixture *f = *state;
    char dir[600], path[700], status[64], *line, *text;
    struct passwd *pw = getpwnam("nobody");
    struct http_reply r;
    struct stat st;
    unsigned uid;
    FILE *proc;

    if (geteuid() != 0 || !pw)
        skip();
    snprintf(dir, sizeof dir, "%s/var", f->d.dir);
    mkdir(dir, 0700);
    assert_int_equal(chown(dir, pw->pw_uid, pw->pw_gid), 0);
    chmod(f->d.dir, 0755);
    daemon_write_config(&f->d,
        "server: { listen = [\"127.0.0.1:0\"]; user = \"nobody\"; };\n"
        "journal: { path = \"%s/klaxon.db\"; };\n"
        "sources: { generic = { token = \"generic-secret-1\"; }; };\n",
        dir);
    daemon_start(&f->d);
    post_json(&r, hook(f, "generic", "generic-secret-1"),
              "{\"title\":\"as nobody\"}", NULL);
    expect_reply(&r, 202, "queued");
    http_reply_free(&r);
    snprintf(status, sizeof status, "/proc/%d/status", (int)f->d.pid);
    text = calloc(1, 8192);
    proc = fopen(status, "r");
    assert_non_null(proc);
    fread(text, 1, 8191, proc);
    fclose(proc);
    line = strstr(text, "\nUid:");
    assert_non_null(line);
    /* Real, effective, saved and filesystem ids all dropped. */
    assert_int_equal(sscanf(line, "\nUid:\t%u", &uid), 1);
    assert_int_equal(uid, pw->pw_uid);
    assert_null(strstr(line, "\t0\t"));
    free(text);
    snprintf(path, sizeof path, "%s/klaxon.db", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_uid, pw->pw_uid);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(daemon_stop(&f->d), 0);
}

static void
test_failed_push_is_retried_and_delivered_once(void **state)
{
    struct fixture *f = *state;
    struct http_reply r;

    atomic_store(&f->mock.fail_status, 500);
    atomic_store(&f->mock.fail_next, 1);
    write_one_person_config(f);
    daemon_start(&f->d);
    http_post_fixture(&r, hook(f, "generic", "generic-secret-1"),
                      "generic/backup-failed.json");
    expect_reply(&r, 202, "queued");
    http_reply_free(&r);
    assert_int_equal(mock_http_wait(f->mock.http, 2, 10000), 0);
    usleep(500 * 1000);
    assert_int_equal(mock_http_count(f->mock.http), 2);
    assert_field(f, 1, "title", "Nightly backup failed on db-01");
    assert_int_equal(daemon_wait_log(&f->d, "retrying", 0), 0);
    assert_int_equal(daemon_stop(&f->d), 0);
}

static void
test_pushes_waiting_to_retry_go_as_soon_as_pushover_recovers(void **state)
{
    struct fixture *f = *state;
    struct http_reply r;
    char body[96];
    int i;

    /* Six failures: each of five pushes fails once, one fails twice. */
    atomic_store(&f->mock.fail_status, 500);
    atomic_store(&f->mock.fail_next, 6);
    write_one_person_config(f);
    daemon_start(&f->d);
    for (i = 0; i < 5; i++) {
        snprintf(body, sizeof body, "{\"title\":\"recover %d\",\"key\":"
                 "\"r%d\"}", i, i);
        post_json(&r, hook(f, "generic", "generic-secret-1"), body, NULL);
        expect_reply(&r, 202, "queued");
        http_reply_free(&r);
    }
    /* Six failures and five successes, whatever each backoff said. */
    assert_int_equal(mock_http_wait(f->mock.http, 11, 30000), 0);
    assert_int_equal(daemon_wait_log(&f->d, "taking pushes again", 1000), 0);
    usleep(500 * 1000);
    assert_int_equal(mock_http_count(f->mock.http), 11);
    assert_int_equal(daemon_stop(&f->d), 0);
}

static void
test_rejected_push_is_not_retried(void **state)
{
    struct fixture *f = *state;
    struct http_reply r;
    char url[256];

    atomic_store(&f->mock.fail_status, 400);
    atomic_store(&f->mock.fail_next, 100);
    daemon_start(&f->d);
    http_post_fixture(&r, hook(f, "generic", "generic-secret-1"),
                      "generic/backup-failed.json");
    http_reply_free(&r);
    assert_int_equal(mock_http_wait(f->mock.http, 2, 5000), 0);
    assert_int_equal(daemon_wait_log(&f->d, "user identifier is invalid",
                                     3000), 0);
    usleep(1500 * 1000);
    assert_int_equal(mock_http_count(f->mock.http), 2);
    snprintf(url, sizeof url, "%s/api/v1/alerts", f->d.base);
    http_request(&r, "GET", url, NULL, NULL, 0, NULL);
    expect_reply(&r, 200, "\"failed\":2");
    http_reply_free(&r);
    assert_int_equal(daemon_stop(&f->d), 0);
}

static void
test_push_not_possible_within_give_up_after_is_abandoned(void **state)
{
    struct fixture *f = *state;
    struct http_reply r;
    char url[256];

    write_one_person_config_with(f, "", "generic", "generic-secret-1",
                                 "give_up_after = 60; ");
    /* Rate-limited for two hours: past give_up_after at the first try. */
    atomic_store(&f->mock.fail_status, 429);
    atomic_store(&f->mock.fail_next, 100);
    daemon_start(&f->d);
    http_post_fixture(&r, hook(f, "generic", "generic-secret-1"),
                      "generic/backup-failed.json");
    expect_reply(&r, 202, "queued");
    http_reply_free(&r);
    assert_int_equal(daemon_wait_log(&f->d, "gave up after 1 attempt:",
                                     5000), 0);
    usleep(500 * 1000);
    assert_int_equal(mock_http_count(f->mock.http), 1);
    snprintf(url, sizeof url, "%s/api/v1/alerts", f->d.base);
    http_request(&r, "GET", url, NULL, NULL, 0, NULL);
    expect_reply(&r, 200, "\"failed\":1");
    http_reply_free(&r);
    assert_int_equal(daemon_stop(&f->d), 0);
}

static void
test_admin_token_guards_siren_off(void **state)
{
    struct fixture *f = *state;
    struct http_reply r;
    char url[256];

    write_one_person_config_with(f, "admin_token = \"admin-secret-1\";",
                                 "pingdom", "pingdom-secret-1", "");
    daemon_start(&f->d);
    http_post_fixture(&r, hook(f, "pingdom", "pingdom-secret-1"),
                      "pingdom/down.json");
    expect_reply(&r, 202, "queued");
    http_reply_free(&r);
    snprintf(url, sizeof url, "%s/api/v1/siren/off", f->d.base);
    http_request(&r, "POST", url, NULL, NULL, 0,
                 "Authorization: Bearer wrong-guess-1");
    expect_reply(&r, 401, "missing or wrong admin token");
    http_reply_free(&r);
    snprintf(url, sizeof url, "%s/metrics", f->d.base);
    http_request(&r, "GET", url, NULL, NULL, 0, NULL);
    expect_reply(&r, 200, "klaxon_siren_on 1\n");
    http_reply_free(&r);
    snprintf(url, sizeof url, "%s/api/v1/siren/off?token=admin-secret-1",
             f->d.base);
    http_request(&r, "POST", url, NULL, NULL, 0, NULL);
    expect_reply(&r, 200, "\"status\":\"off\"");
    http_reply_free(&r);
    snprintf(url, sizeof url, "%s/metrics", f->d.base);
    http_request(&r, "GET", url, NULL, NULL, 0, NULL);
    expect_reply(&r, 200, "klaxon_siren_on 0\n");
    http_reply_free(&r);
    assert_int_equal(daemon_stop(&f->d), 0);
}

static void
test_accepted_event_survives_kill_9_and_is_delivered_once(void **state)
{
    struct fixture *f = *state;
    struct http_reply r;

    /* Pushover fails while the event is accepted... */
    atomic_store(&f->mock.fail_status, 500);
    atomic_store(&f->mock.fail_next, 1000);
    daemon_start(&f->d);
    http_post_fixture(&r, hook(f, "pingdom", "pingdom-secret-1"),
                      "pingdom/down.json");
    expect_reply(&r, 202, "queued");
    http_reply_free(&r);
    assert_int_equal(mock_http_wait(f->mock.http, 2, 5000), 0);
    daemon_kill(&f->d);

    /* ...then the process is gone, Pushover recovers, klaxon restarts. */
    atomic_store(&f->mock.fail_next, 0);
    size_t before = mock_http_count(f->mock.http);
    daemon_start(&f->d);
    assert_int_equal(mock_http_wait(f->mock.http, before + 2, 10000), 0);
    sleep(1);
    assert_int_equal(mock_http_count(f->mock.http), before + 2);
    assert_int_equal(daemon_stop(&f->d), 0);
}

static void
test_emergency_push_is_cancelled_when_resolved(void **state)
{
    struct fixture *f = *state;
    struct http_reply r;
    struct mock_request *req;
    const char *url;
    size_t i, cancels = 0;

    daemon_start(&f->d);
    url = hook(f, "generic", "generic-secret-1");
    post_json(&r, url, "{\"title\":\"db down\",\"key\":\"db\","
              "\"priority\":2}", NULL);
    expect_reply(&r, 202, "queued");
    http_reply_free(&r);
    assert_int_equal(mock_http_wait(f->mock.http, 2, 5000), 0);
    assert_field(f, 0, "priority", "2");
    assert_field(f, 0, "retry", "60");
    assert_field(f, 0, "expire", "3600");
    post_json(&r, url, "{\"title\":\"db up\",\"key\":\"db\","
              "\"state\":\"resolved\"}", NULL);
    expect_reply(&r, 202, "queued");
    http_reply_free(&r);
    /* Two resolve notices and two cancellations. */
    assert_int_equal(mock_http_wait(f->mock.http, 6, 5000), 0);
    for (i = 0; i < mock_http_count(f->mock.http); i++) {
        req = mock_http_request(f->mock.http, i);
        if (strstr(req->url, "/1/receipts/rcpt") &&
            strstr(req->url, "/cancel.json"))
            cancels++;
        mock_request_free(req);
    }
    assert_int_equal(cancels, 2);
    assert_int_equal(daemon_stop(&f->d), 0);
}

/* POST a Pushover acknowledgement for receipt to the callback. */
static void
post_callback(struct fixture *f, struct http_reply *r, const char *body)
{
    char url[256];

    snprintf(url, sizeof url, "%s/pushover/callback", f->d.base);
    http_request(r, "POST", url, "application/x-www-form-urlencoded", body,
                 strlen(body), NULL);
}

static void
test_acknowledged_emergency_silences_its_siren(void **state)
{
    struct fixture *f = *state;
    struct http_reply r;
    char url[256];

    write_config(f, "rules = ( { source = \"generic\"; priority = 2; "
                 "siren = true; } );\n");
    daemon_start(&f->d);
    post_json(&r, hook(f, "generic", "generic-secret-1"),
              "{\"title\":\"db down\",\"key\":\"db\"}", NULL);
    expect_reply(&r, 202, "queued");
    http_reply_free(&r);
    assert_int_equal(mock_http_wait(f->mock.http, 2, 5000), 0);
    snprintf(url, sizeof url, "%s/metrics", f->d.base);
    http_request(&r, "GET", url, NULL, NULL, 0, NULL);
    expect_reply(&r, 200, "klaxon_siren_on 1\n");
    http_reply_free(&r);

    /* Hostile or stray callbacks change nothing. */
    post_callback(f, &r, "acknowledged=1");
    expect_reply(&r, 400, "receipt");
    http_reply_free(&r);
    post_callback(f, &r, "receipt=..%2F..%2Fx&acknowledged=1");
    expect_reply(&r, 400, "receipt");
    http_reply_free(&r);
    post_callback(f, &r, "receipt=rcptGuess1&acknowledged=1");
    expect_reply(&r, 200, "no open alert has this receipt");
    http_reply_free(&r);
    http_request(&r, "GET", url, NULL, NULL, 0, NULL);
    expect_reply(&r, 200, "klaxon_siren_on 1\n");
    http_reply_free(&r);

    /* Pushover's own, for one of the two receipts, with no token. */
    post_callback(f, &r, "receipt=rcpt1&acknowledged=1&acknowledged_at="
                  "1700000000&acknowledged_by=uAliceKey");
    expect_reply(&r, 200, "\"status\":\"acknowledged\"");
    http_reply_free(&r);
    http_request(&r, "GET", url, NULL, NULL, 0, NULL);
    expect_reply(&r, 200, "klaxon_siren_on 0\n");
    http_reply_free(&r);
    assert_int_equal(daemon_stop(&f->d), 0);
}

static void
test_full_disk_gives_503_then_recovers(void **state)
{
    struct fixture *f = *state;
    struct http_reply r;
    struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
    char *retry, url[256];
    int i, refused = 0;

    f->d.fsize_limit = 256 * 1024;
    daemon_start(&f->d);
    for (i = 0; i < 400 && !refused; i++) {
        char body[256];

        snprintf(body, sizeof body, "{\"title\":\"disk %d\",\"key\":\"k%d\","
                 "\"message\":\"%0100d\"}", i, i, 0);
        post_json(&r, hook(f, "generic", "generic-secret-1"), body, NULL);
        if (r.status == 503) {
            refused = 1;
            retry = http_reply_header(&r, "Retry-After");
            assert_non_null(retry);
            free(retry);
        } else {
            assert_int_equal(r.status, 202);
        }
        http_reply_free(&r);
    }
    assert_true(refused);
    snprintf(url, sizeof url, "%s/healthz", f->d.base);
    http_request(&r, "GET", url, NULL, NULL, 0, NULL);
    assert_int_equal(r.status, 503);
    http_reply_free(&r);

    /* While it is broken, events are refused at once. */
    post_json(&r, hook(f, "generic", "generic-secret-1"),
              "{\"title\":\"during\"}", NULL);
    expect_reply(&r, 503, "journal is not writable");
    http_reply_free(&r);

    /* Space comes back; within a second or two the journal says so. */
    assert_int_equal(prlimit(f->d.pid, RLIMIT_FSIZE, &rl, NULL), 0);
    for (i = 0; i < 100; i++) {
        http_request(&r, "GET", url, NULL, NULL, 0, NULL);
        refused = r.status != 200;
        http_reply_free(&r);
        if (!refused)
            break;
        usleep(50 * 1000);
    }
    assert_false(refused);
    post_json(&r, hook(f, "generic", "generic-secret-1"),
              "{\"title\":\"after\"}", NULL);
    expect_reply(&r, 202, "queued");
    http_reply_free(&r);
    /* Events stored before the failure are still known: the failed
       batches left no trace in dedup. */
    post_json(&r, hook(f, "generic", "generic-secret-1"),
              "{\"title\":\"disk 0\",\"key\":\"k0\",\"message\":\""
              "0000000000000000000000000000000000000000000000000000000000"
              "000000000000000000000000000000000000000000\"}", NULL);
    expect_reply(&r, 200, "duplicate");
    http_reply_free(&r);
    assert_int_equal(daemon_stop(&f->d), 0);
}

static void
test_reload_keeps_old_config_when_new_one_is_bad(void **state)
{
    struct fixture *f = *state;
    struct http_reply r;

    daemon_start(&f->d);
    daemon_write_config(&f->d, "server: { listen = [\"127.0.0.1:0\"]; };\n"
                        "no_such_key = 1;\n");
    daemon_signal(&f->d, SIGHUP);
    assert_int_equal(daemon_wait_log(&f->d, "reload rejected", 3000), 0);
    assert_int_equal(daemon_wait_log(&f->d, "unknown key 'no_such_key'", 0),
                     0);
    http_post_fixture(&r, hook(f, "pingdom", "pingdom-secret-1"),
                      "pingdom/down.json");
    expect_reply(&r, 202, "queued");
    http_reply_free(&r);

    /* A good one takes effect: pingdom's token changes. */
    daemon_write_config(&f->d,
        "server: { listen = [\"127.0.0.1:0\"]; };\n"
        "journal: { path = \"%s/klaxon.db\"; };\n"
        "sources: { pingdom = { token = \"pingdom-secret-2\"; }; };\n",
        f->d.dir);
    daemon_signal(&f->d, SIGHUP);
    assert_int_equal(daemon_wait_log(&f->d, "reloaded", 3000), 0);
    http_post_fixture(&r, hook(f, "pingdom", "pingdom-secret-1"),
                      "pingdom/up.json");
    assert_int_equal(r.status, 401);
    http_reply_free(&r);
    http_post_fixture(&r, hook(f, "pingdom", "pingdom-secret-2"),
                      "pingdom/up.json");
    expect_reply(&r, 202, "queued");
    http_reply_free(&r);
    assert_int_equal(daemon_stop(&f->d), 0);
}

/* The port of the listener the log names after "listening on <prefix>",
   or 0. */
static int
logged_port(struct fixture *f, const char *prefix)
{
    char *log = daemon_log_text(&f->d), needle[64], *at;
    int port = 0;

    snprintf(needle, sizeof needle, "listening on %s", prefix);
    if ((at = strstr(log, needle)))
        port = atoi(at + strlen(needle));
    free(log);
    return port;
}

/* Whether this machine has an IPv6 loopback (some containers do not). */
static bool
have_ipv6_loopback(void)
{
    struct sockaddr_in6 sa = { .sin6_family = AF_INET6 };
    int fd = socket(AF_INET6, SOCK_STREAM, 0), ok;

    sa.sin6_addr = in6addr_loopback;
    ok = fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

static void
test_listens_on_ipv6_and_dual_stack(void **state)
{
    struct fixture *f = *state;
    struct http_reply r;
    char url[128];
    int v6, any;

    if (!have_ipv6_loopback())
        skip();
    daemon_write_config(&f->d,
        "server: { listen = [\"127.0.0.1:0\", \"[::1]:0\", \"[::]:0\"]; };\n"
        "journal: { path = \"%s/klaxon.db\"; };\n", f->d.dir);
    daemon_start(&f->d);
    v6 = logged_port(f, "[::1]:");
    any = logged_port(f, "[::]:");
    assert_true(v6 > 0 && any > 0);
    snprintf(url, sizeof url, "http://[::1]:%d/healthz", v6);
    http_request(&r, "GET", url, NULL, NULL, 0, NULL);
    expect_reply(&r, 200, "ok");
    http_reply_free(&r);
    /* "[::]" takes IPv4 too. */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/healthz", any);
    http_request(&r, "GET", url, NULL, NULL, 0, NULL);
    expect_reply(&r, 200, "ok");
    http_reply_free(&r);
    assert_int_equal(daemon_stop(&f->d), 0);
}

static void
test_health_metrics_and_alert_list(void **state)
{
    struct fixture *f = *state;
    struct http_reply r;
    char url[256];

    daemon_start(&f->d);
    http_post_fixture(&r, hook(f, "newrelic", "newrelic-secret-1"),
                      "newrelic/workflow-activated.json");
    expect_reply(&r, 202, "queued");
    http_reply_free(&r);
    snprintf(url, sizeof url, "%s/healthz", f->d.base);
    http_request(&r, "GET", url, NULL, NULL, 0, NULL);
    expect_reply(&r, 200, "\"status\":\"ok\"");
    http_reply_free(&r);
    snprintf(url, sizeof url, "%s/metrics", f->d.base);
    http_request(&r, "GET", url, NULL, NULL, 0, NULL);
    expect_reply(&r, 200, "klaxon_events_total{source=\"newrelic\","
                 "outcome=\"queued\"} 1\n");
    http_reply_free(&r);
    snprintf(url, sizeof url, "%s/api/v1/alerts", f->d.base);
    http_request(&r, "GET", url, NULL, NULL, 0, NULL);
    expect_reply(&r, 200, "\"state\":\"firing\"");
    assert_non_null(strstr(r.body, "\"priority\":1"));
    http_reply_free(&r);
    snprintf(url, sizeof url, "%s/", f->d.base);
    http_request(&r, "GET", url, NULL, NULL, 0, NULL);
    expect_reply(&r, 200, "cpuPercent &gt; 95");
    http_reply_free(&r);
    assert_int_equal(daemon_stop(&f->d), 0);
}

static void
test_without_pushover_token_events_are_kept_undelivered(void **state)
{
    struct fixture *f = *state;
    struct http_reply r;
    char url[256];

    daemon_write_config(&f->d,
        "server: { listen = [\"127.0.0.1:0\"]; };\n"
        "journal: { path = \"%s/klaxon.db\"; };\n"
        "sources: { pingdom = { token = \"pingdom-secret-1\"; }; };\n"
        "people = ( { name = \"alice\"; pushover = \"uAliceKey\"; "
        "on_call = true; } );\n", f->d.dir);
    daemon_start(&f->d);
    assert_int_equal(daemon_wait_log(&f->d, "delivery is off", 0), 0);
    http_post_fixture(&r, hook(f, "pingdom", "pingdom-secret-1"),
                      "pingdom/down.json");
    expect_reply(&r, 202, "queued");
    http_reply_free(&r);
    snprintf(url, sizeof url, "%s/api/v1/alerts", f->d.base);
    http_request(&r, "GET", url, NULL, NULL, 0, NULL);
    expect_reply(&r, 200, "\"delivery\":false");
    assert_non_null(strstr(r.body, "DOWN: shop.example.org homepage"));
    http_reply_free(&r);
    assert_int_equal(daemon_stop(&f->d), 0);
    assert_int_equal(mock_http_count(f->mock.http), 0);
}

struct poster {
    struct fixture *f;
    int first;
};

static void *
post_many(void *arg)
{
    struct poster *p = arg;
    char url[256], body[128];
    struct http_reply r;
    int i;

    snprintf(url, sizeof url, "%s/hooks/generic?token=generic-secret-1",
             p->f->d.base);
    for (i = p->first; i < p->first + 15; i++) {
        snprintf(body, sizeof body, "{\"title\":\"burst %d\",\"key\":"
                 "\"burst-%d\",\"priority\":1}", i, i);
        post_json(&r, url, body, NULL);
        assert_int_equal(r.status, 202);
        http_reply_free(&r);
    }
    return NULL;
}

static void
test_a_burst_is_pushed_exactly_once_per_person(void **state)
{
    struct fixture *f = *state;
    struct poster posters[4];
    pthread_t threads[4];
    char seen[60][2];
    size_t i, n;
    int k;

    daemon_start(&f->d);
    for (k = 0; k < 4; k++) {
        posters[k].f = f;
        posters[k].first = k * 15;
        pthread_create(&threads[k], NULL, post_many, &posters[k]);
    }
    for (k = 0; k < 4; k++)
        pthread_join(threads[k], NULL);
    assert_int_equal(mock_http_wait(f->mock.http, 120, 10000), 0);
    /* Results are committed after the answers: give repeats a chance. */
    usleep(1500 * 1000);
    n = mock_http_count(f->mock.http);
    assert_int_equal(n, 120);
    memset(seen, 0, sizeof seen);
    for (i = 0; i < n; i++) {
        char *title = field(f, i, "title"), *user = field(f, i, "user");
        int who = strcmp(user, "uAliceKey") == 0 ? 0 : 1;

        k = atoi(title + strlen("burst "));
        assert_true(k >= 0 && k < 60);
        if (seen[k][who]++)
            fail_msg("%s pushed twice to %s", title, user);
        free(title);
        free(user);
    }
    assert_int_equal(daemon_stop(&f->d), 0);
}

static void
test_secrets_never_appear_in_the_log(void **state)
{
    struct fixture *f = *state;
    struct http_reply r;
    char *log;

    atomic_store(&f->mock.fail_status, 400);
    atomic_store(&f->mock.fail_next, 1);
    daemon_start(&f->d);
    http_post_fixture(&r, hook(f, "pingdom", "pingdom-secret-1"),
                      "pingdom/down.json");
    http_reply_free(&r);
    http_post_fixture(&r, hook(f, "pingdom", "wrong-guess-1"),
                      "pingdom/down.json");
    http_reply_free(&r);
    assert_int_equal(mock_http_wait(f->mock.http, 2, 5000), 0);
    assert_int_equal(daemon_stop(&f->d), 0);
    log = daemon_log_text(&f->d);
    assert_null(strstr(log, "pingdom-secret-1"));
    assert_null(strstr(log, "wrong-guess-1"));
    assert_null(strstr(log, "appTokenSecret"));
    assert_null(strstr(log, "uAliceKey"));
    assert_null(strstr(log, "uBobKey"));
    free(log);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_pingdom_down_reaches_on_call_people_at_priority_1),
        T(test_repeat_is_duplicate_and_pushes_nothing_more),
        T(test_up_resolves_with_one_notice_per_person),
        T(test_resolve_without_open_alert_is_ignored),
        T(test_sirportly_events_reach_the_assignee_only),
        T(test_tokens_are_checked),
        T(test_bad_requests_get_clear_4xx_and_the_daemon_keeps_serving),
        T(test_oversized_chunked_body_gets_413_and_bodies_only_where_due),
        T(test_huge_titles_are_stored_cut_to_what_a_phone_shows),
        T(test_stop_while_the_journal_is_stalled_still_exits_cleanly),
        T(test_signed_source_needs_the_right_signature),
        T(test_oversized_url_and_headers_are_refused),
        T(test_root_drops_to_the_service_user_after_binding),
        T(test_failed_push_is_retried_and_delivered_once),
        T(test_pushes_waiting_to_retry_go_as_soon_as_pushover_recovers),
        T(test_rejected_push_is_not_retried),
        T(test_accepted_event_survives_kill_9_and_is_delivered_once),
        T(test_emergency_push_is_cancelled_when_resolved),
        T(test_acknowledged_emergency_silences_its_siren),
        T(test_push_not_possible_within_give_up_after_is_abandoned),
        T(test_admin_token_guards_siren_off),
        T(test_full_disk_gives_503_then_recovers),
        T(test_reload_keeps_old_config_when_new_one_is_bad),
        T(test_listens_on_ipv6_and_dual_stack),
        T(test_health_metrics_and_alert_list),
        T(test_without_pushover_token_events_are_kept_undelivered),
        T(test_a_burst_is_pushed_exactly_once_per_person),
        T(test_secrets_never_appear_in_the_log),
#undef T
    };

    curl_global_init(CURL_GLOBAL_DEFAULT);
    return cmocka_run_group_tests_name("relay", tests, NULL, NULL);
}
