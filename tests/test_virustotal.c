/*
 * VirusTotal lookups against a mock server on loopback, with the wall
 * clock frozen so the rate limiter, daily cap and back-off can be driven
 * exactly: verdicts land in the report, 404 is an answer, 429 backs off,
 * 401 stops, HTML and wrong-typed answers are retried, the queue lives
 * in the baseline across restarts, and forged rows are not believed.
 */
#include <curl/curl.h>
#include <fcntl.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "scanner/scanner.h"
#include "scanner/virustotal.h"
#include "server/clock.h"
#include "tests/support/mock_http.h"
#include "tests/support/testutil.h"

#define HELLO \
    "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
#define HELLO2 \
    "853ff93762a06ddbf722c4ebe9ddd66d8f63ddaea97f521c3ecc20da7c976020"
#define T0 1764842400000LL      /* 2025-12-04T10:00:00Z */

#define MALICIOUS "{\"data\": {\"attributes\": {\"last_analysis_stats\": " \
    "{\"malicious\": 41, \"suspicious\": 2, \"undetected\": 20, " \
    "\"harmless\": 0}}}}"
#define CLEAN "{\"data\": {\"attributes\": {\"last_analysis_stats\": " \
    "{\"malicious\": 0, \"suspicious\": 0, \"undetected\": 60, " \
    "\"harmless\": 5}}}}"

/* What the mock answers to request n; the last entry repeats. */
struct answer {
    int status;
    const char *type;
    const char *body;
    const char *headers;
};

struct fixture {
    char *dir;
    char www[512];
    char baseline[700];
    char api_url[128];
    char *paths[2];
    struct scanner_conf conf;
    struct mock_http *mock;
    struct answer answers[8];
    size_t nanswers;
    struct vt_client *vt;
    json_t *report;
    json_t *updated;
    int64_t wait;
    char err[1024];
};

static void
answer(const struct mock_request *req, size_t n, struct mock_response *resp,
       void *arg)
{
    struct fixture *f = arg;
    const struct answer *a;

    (void)req;
    if (f->nanswers == 0)
        return;
    a = &f->answers[n < f->nanswers ? n : f->nanswers - 1];
    resp->status = a->status;
    snprintf(resp->content_type, sizeof resp->content_type, "%s",
             a->type ? a->type : "application/json");
    snprintf(resp->body, sizeof resp->body, "%s", a->body ? a->body : "");
    snprintf(resp->headers, sizeof resp->headers, "%s",
             a->headers ? a->headers : "");
}

static void
will_answer(struct fixture *f, int status, const char *type,
            const char *body, const char *headers)
{
    f->answers[f->nanswers++] = (struct answer){ status, type, body,
                                                 headers };
}

static void
put(struct fixture *f, const char *name, const char *text)
{
    char path[1024];
    int fd;

    snprintf(path, sizeof path, "%s/%s", f->www, name);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static enum scan_result
scan(struct fixture *f, enum scan_mode mode)
{
    json_decref(f->report);
    f->report = NULL;
    return scanner_run(&f->conf, mode, NULL, &f->report, f->err,
                       sizeof f->err);
}

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    char sub[600];

    clock_set_fake_ms(T0);
    f->dir = test_tempdir();
    snprintf(f->www, sizeof f->www, "%s/www", f->dir);
    snprintf(sub, sizeof sub, "%s/state", f->dir);
    snprintf(f->baseline, sizeof f->baseline, "%s/baseline.db", sub);
    mkdir(f->www, 0755);
    mkdir(sub, 0700);
    f->mock = mock_http_start(answer, f);
    assert_non_null(f->mock);
    snprintf(f->api_url, sizeof f->api_url, "%s/api/v3",
             mock_http_url(f->mock));
    f->paths[0] = f->www;
    f->conf.paths = f->paths;
    f->conf.baseline = f->baseline;
    f->conf.key = (char *)"test key of the lookup tests";
    f->conf.host = (char *)"web-03";
    f->conf.threads = 1;
    f->conf.virustotal.api_key = (char *)"vt-test-key";
    f->conf.virustotal.api_url = f->api_url;
    f->conf.virustotal.per_minute = 4;
    f->conf.virustotal.per_day = 500;
    put(f, "index.php", "index\n");
    assert_int_equal(scan(f, SCAN_INIT), SCAN_CLEAN);
    f->vt = vt_client_new(&f->conf.virustotal);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    vt_client_free(f->vt);
    mock_http_stop(f->mock);
    json_decref(f->report);
    json_decref(f->updated);
    test_rmtree(f->dir);
    free(f->dir);
    free(f);
    clock_set_fake_ms(0);
    return 0;
}

static int
lookup(struct fixture *f)
{
    int st;

    json_decref(f->updated);
    st = scanner_lookup(&f->conf, f->vt, &f->updated, &f->wait, NULL,
                        f->err, sizeof f->err);
    if (st < 0)
        fail_msg("lookup failed: %s", f->err);
    return st;
}

static int
queued(struct fixture *f)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int n = -1;

    assert_int_equal(sqlite3_open(f->baseline, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM vt_queue",
                                        -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static const json_t *
vt_of(const json_t *report, size_t i)
{
    return json_object_get(json_array_get(json_object_get(report,
                                                          "changes"), i),
                           "virustotal");
}

static long long
count(const json_t *vt, const char *name)
{
    if (!json_is_integer(json_object_get(vt, name)))
        fail_msg("no %s in %s", name, json_dumps(vt, JSON_COMPACT));
    return json_integer_value(json_object_get(vt, name));
}

static void
check_queues_the_new_hash_without_waiting(void **state)
{
    struct fixture *f = *state;

    put(f, "shell.php", "hello\n");
    assert_int_equal(scan(f, SCAN_CHECK), SCAN_CHANGED);
    assert_null(vt_of(f->report, 0));
    assert_int_equal(queued(f), 1);
    assert_int_equal(mock_http_count(f->mock), 0);
}

static void
malicious_verdict_updates_the_report_at_once(void **state)
{
    struct fixture *f = *state;
    struct mock_request *req;
    const json_t *vt;

    put(f, "shell.php", "hello\n");
    put(f, "zz.php", "hello, world\n");
    assert_int_equal(scan(f, SCAN_CHECK), SCAN_CHANGED);
    will_answer(f, 200, NULL, MALICIOUS, NULL);
    assert_int_equal(lookup(f), VT_LOOKED_UP);
    req = mock_http_request(f->mock, 0);
    assert_string_equal(req->method, "GET");
    assert_true(strcmp(req->url, "/api/v3/files/" HELLO) == 0 ||
                strcmp(req->url, "/api/v3/files/" HELLO2) == 0);
    assert_non_null(strcasestr(req->headers, "x-apikey: vt-test-key\n"));
    /* One lookup still queued, but a malicious file cannot wait. */
    assert_non_null(f->updated);
    vt = strcmp(req->url, "/api/v3/files/" HELLO) == 0 ?
         vt_of(f->updated, 0) : vt_of(f->updated, 1);
    assert_int_equal(count(vt, "malicious"), 41);
    assert_int_equal(count(vt, "suspicious"), 2);
    assert_int_equal(count(vt, "undetected"), 20);
    assert_int_equal(queued(f), 1);
    mock_request_free(req);
}

static void
clean_verdicts_update_the_report_after_the_last_lookup(void **state)
{
    struct fixture *f = *state;

    put(f, "a.php", "hello\n");
    put(f, "b.php", "hello, world\n");
    assert_int_equal(scan(f, SCAN_CHECK), SCAN_CHANGED);
    will_answer(f, 200, NULL, CLEAN, NULL);
    assert_int_equal(lookup(f), VT_LOOKED_UP);
    assert_null(f->updated);
    assert_int_equal(lookup(f), VT_LOOKED_UP);
    assert_non_null(f->updated);
    assert_int_equal(count(vt_of(f->updated, 0), "undetected"), 60);
    assert_int_equal(count(vt_of(f->updated, 1), "harmless"), 5);
    assert_int_equal(lookup(f), VT_IDLE);
    assert_int_equal(f->wait, -1);
}

static void
modified_file_is_looked_up_by_its_new_hash(void **state)
{
    struct fixture *f = *state;
    struct mock_request *req;

    put(f, "index.php", "hello, world\n");
    assert_int_equal(scan(f, SCAN_CHECK), SCAN_CHANGED);
    will_answer(f, 404, NULL, "{\"error\": {\"code\": \"NotFoundError\"}}",
                NULL);
    assert_int_equal(lookup(f), VT_LOOKED_UP);
    req = mock_http_request(f->mock, 0);
    assert_string_equal(req->url, "/api/v3/files/" HELLO2);
    mock_request_free(req);
}

static void
unknown_file_is_an_answer_and_is_cached(void **state)
{
    struct fixture *f = *state;

    put(f, "shell.php", "hello\n");
    assert_int_equal(scan(f, SCAN_CHECK), SCAN_CHANGED);
    will_answer(f, 404, NULL, "{\"error\": {\"code\": \"NotFoundError\"}}",
                NULL);
    assert_int_equal(lookup(f), VT_LOOKED_UP);
    assert_true(json_is_false(json_object_get(vt_of(f->updated, 0),
                                              "found")));
    assert_int_equal(queued(f), 0);
    /* The next check takes the verdict from the cache. */
    assert_int_equal(scan(f, SCAN_CHECK), SCAN_CHANGED);
    assert_true(json_is_false(json_object_get(vt_of(f->report, 0),
                                              "found")));
    assert_int_equal(queued(f), 0);
    assert_int_equal(mock_http_count(f->mock), 1);
}

static void
cached_verdict_fills_the_next_report(void **state)
{
    struct fixture *f = *state;

    put(f, "shell.php", "hello\n");
    assert_int_equal(scan(f, SCAN_CHECK), SCAN_CHANGED);
    will_answer(f, 200, NULL, MALICIOUS, NULL);
    assert_int_equal(lookup(f), VT_LOOKED_UP);
    clock_set_fake_ms(T0 + 3600 * 1000);
    assert_int_equal(scan(f, SCAN_CHECK), SCAN_CHANGED);
    assert_int_equal(count(vt_of(f->report, 0), "malicious"), 41);
    assert_int_equal(mock_http_count(f->mock), 1);
}

static void
rate_limited_429_backs_off_for_retry_after(void **state)
{
    struct fixture *f = *state;

    put(f, "shell.php", "hello\n");
    assert_int_equal(scan(f, SCAN_CHECK), SCAN_CHANGED);
    will_answer(f, 429, NULL, "{\"error\": {\"code\": \"QuotaExceeded\"}}",
                "Retry-After: 30\n");
    will_answer(f, 200, NULL, MALICIOUS, NULL);
    assert_int_equal(lookup(f), VT_LOOKED_UP);
    assert_null(f->updated);
    assert_int_equal(queued(f), 1);
    assert_int_equal(lookup(f), VT_WAIT);
    assert_int_equal(f->wait, 30000);
    clock_set_fake_ms(T0 + 30000);
    assert_int_equal(lookup(f), VT_LOOKED_UP);
    assert_int_equal(count(vt_of(f->updated, 0), "malicious"), 41);
    assert_int_equal(mock_http_count(f->mock), 2);
}

static void
html_answer_is_retried_later(void **state)
{
    struct fixture *f = *state;

    put(f, "shell.php", "hello\n");
    assert_int_equal(scan(f, SCAN_CHECK), SCAN_CHANGED);
    will_answer(f, 200, "text/html", "<html><body>Bad gateway</body></html>",
                NULL);
    will_answer(f, 200, NULL, CLEAN, NULL);
    assert_int_equal(lookup(f), VT_LOOKED_UP);
    assert_null(f->updated);
    assert_int_equal(queued(f), 1);
    assert_int_equal(lookup(f), VT_IDLE);
    assert_int_equal(f->wait, 120000);
    clock_set_fake_ms(T0 + 120000);
    assert_int_equal(lookup(f), VT_LOOKED_UP);
    assert_int_equal(count(vt_of(f->updated, 0), "malicious"), 0);
}

static void
wrong_typed_and_truncated_answers_are_retried(void **state)
{
    struct fixture *f = *state;

    put(f, "shell.php", "hello\n");
    assert_int_equal(scan(f, SCAN_CHECK), SCAN_CHANGED);
    will_answer(f, 200, NULL, "{\"data\": {\"attributes\": "
                "{\"last_analysis_stats\": {\"malicious\": \"41\", "
                "\"suspicious\": 0, \"undetected\": 1}}}}", NULL);
    will_answer(f, 200, NULL, "{\"data\": {\"attri", NULL);
    assert_int_equal(lookup(f), VT_LOOKED_UP);
    clock_set_fake_ms(T0 + 120000);
    assert_int_equal(lookup(f), VT_LOOKED_UP);
    assert_null(f->updated);
    assert_int_equal(queued(f), 1);
    assert_int_equal(mock_http_count(f->mock), 2);
}

static void
refused_key_stops_lookups_and_keeps_the_queue(void **state)
{
    struct fixture *f = *state;

    put(f, "shell.php", "hello\n");
    assert_int_equal(scan(f, SCAN_CHECK), SCAN_CHANGED);
    will_answer(f, 401, NULL, "{\"error\": {\"code\": "
                "\"WrongCredentialsError\"}}", NULL);
    will_answer(f, 200, NULL, MALICIOUS, NULL);
    assert_int_equal(lookup(f), VT_STOPPED);
    assert_int_equal(lookup(f), VT_STOPPED);
    assert_int_equal(mock_http_count(f->mock), 1);
    assert_int_equal(queued(f), 1);
    /* A restarted process (fixed key) resumes the queue. */
    vt_client_free(f->vt);
    f->vt = vt_client_new(&f->conf.virustotal);
    clock_set_fake_ms(T0 + 60000);
    assert_int_equal(lookup(f), VT_LOOKED_UP);
    assert_int_equal(count(vt_of(f->updated, 0), "malicious"), 41);
    assert_int_equal(queued(f), 0);
}

static void
rate_limiter_keeps_to_per_minute(void **state)
{
    struct fixture *f = *state;
    char name[32], text[32];
    int i;

    for (i = 0; i < 6; i++) {
        snprintf(name, sizeof name, "f%d.php", i);
        snprintf(text, sizeof text, "file %d\n", i);
        put(f, name, text);
    }
    assert_int_equal(scan(f, SCAN_CHECK), SCAN_CHANGED);
    will_answer(f, 200, NULL, CLEAN, NULL);
    for (i = 0; i < 4; i++)
        assert_int_equal(lookup(f), VT_LOOKED_UP);
    assert_int_equal(lookup(f), VT_WAIT);
    assert_int_equal(f->wait, 15000);
    clock_set_fake_ms(T0 + 14999);
    assert_int_equal(lookup(f), VT_WAIT);
    assert_int_equal(f->wait, 1);
    clock_set_fake_ms(T0 + 15000);
    assert_int_equal(lookup(f), VT_LOOKED_UP);
    assert_int_equal(lookup(f), VT_WAIT);
    assert_int_equal(mock_http_count(f->mock), 5);
}

static void
daily_cap_waits_for_the_next_day(void **state)
{
    struct fixture *f = *state;

    f->conf.virustotal.per_day = 2;
    vt_client_free(f->vt);
    f->vt = vt_client_new(&f->conf.virustotal);
    put(f, "a.php", "a\n");
    put(f, "b.php", "b\n");
    put(f, "c.php", "c\n");
    assert_int_equal(scan(f, SCAN_CHECK), SCAN_CHANGED);
    will_answer(f, 200, NULL, CLEAN, NULL);
    assert_int_equal(lookup(f), VT_LOOKED_UP);
    assert_int_equal(lookup(f), VT_LOOKED_UP);
    assert_int_equal(lookup(f), VT_WAIT);
    assert_int_equal(f->wait, 14LL * 3600 * 1000);
    clock_set_fake_ms(T0 + 14LL * 3600 * 1000);
    assert_int_equal(lookup(f), VT_LOOKED_UP);
    assert_int_equal(mock_http_count(f->mock), 3);
}

static void
forged_clean_verdict_is_not_believed(void **state)
{
    struct fixture *f = *state;
    sqlite3 *db;

    assert_int_equal(sqlite3_open(f->baseline, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "INSERT INTO vt_verdict VALUES ('"
                                  HELLO "', 1, 0, 0, 70, 0, 1764842400000, "
                                  "zeroblob(32))", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    put(f, "shell.php", "hello\n");
    assert_int_equal(scan(f, SCAN_CHECK), SCAN_CHANGED);
    assert_null(vt_of(f->report, 0));
    assert_int_equal(queued(f), 1);
}

static void
empty_and_special_files_are_not_looked_up(void **state)
{
    struct fixture *f = *state;
    char path[1024];

    put(f, "empty.php", "");
    snprintf(path, sizeof path, "%s/link", f->www);
    assert_int_equal(symlink("/etc/passwd", path), 0);
    assert_int_equal(scan(f, SCAN_CHECK), SCAN_CHANGED);
    assert_int_equal(queued(f), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(check_queues_the_new_hash_without_waiting),
        T(malicious_verdict_updates_the_report_at_once),
        T(clean_verdicts_update_the_report_after_the_last_lookup),
        T(modified_file_is_looked_up_by_its_new_hash),
        T(unknown_file_is_an_answer_and_is_cached),
        T(cached_verdict_fills_the_next_report),
        T(rate_limited_429_backs_off_for_retry_after),
        T(html_answer_is_retried_later),
        T(wrong_typed_and_truncated_answers_are_retried),
        T(refused_key_stops_lookups_and_keeps_the_queue),
        T(rate_limiter_keeps_to_per_minute),
        T(daily_cap_waits_for_the_next_day),
        T(forged_clean_verdict_is_not_believed),
        T(empty_and_special_files_are_not_looked_up),
#undef T
    };
    int rc;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
