/*
 * The scan service as "klaxon serve" runs it: reports with changes reach
 * the callback, a missing baseline is created quietly, a tampered one is
 * reported, a scan is never started while one runs, and a VirusTotal
 * verdict arrives as a second, updated report.
 */
#include <curl/curl.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "scanner/scanner.h"
#include "scanner/service.h"
#include "tests/support/mock_http.h"
#include "tests/support/testutil.h"

#define WAIT_MS 20000   /* generous: only a hang takes this long */

struct fixture {
    char *dir;
    char www[512];
    char baseline[700];
    char api_url[128];
    char *paths[2];
    struct scanner_conf conf;
    struct mock_http *mock;

    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct scan_service *service;
    json_t *reports[8];
    size_t nreports;
    int run_now_while_busy;     /* what run_now answered in the callback */
    bool busy_in_callback;
};

static void
on_report(json_t *report, void *user)
{
    struct fixture *f = user;

    pthread_mutex_lock(&f->mu);
    while (!f->service)
        pthread_cond_wait(&f->cv, &f->mu);
    f->run_now_while_busy = scan_service_run_now(f->service);
    f->busy_in_callback = scan_service_busy(f->service);
    if (f->nreports < 8)
        f->reports[f->nreports++] = json_incref(report);
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

static void
start(struct fixture *f)
{
    struct scan_service *s = scan_service_start(&f->conf, on_report, f);

    assert_non_null(s);
    pthread_mutex_lock(&f->mu);
    f->service = s;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

/* Wait until n reports arrived; fails the test after WAIT_MS. */
static void
wait_reports(struct fixture *f, size_t n)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += WAIT_MS / 1000;
    pthread_mutex_lock(&f->mu);
    while (f->nreports < n) {
        if (pthread_cond_timedwait(&f->cv, &f->mu, &ts) != 0)
            break;
    }
    pthread_mutex_unlock(&f->mu);
    if (f->nreports < n)
        fail_msg("%zu reports after %d ms, wanted %zu", f->nreports,
                 WAIT_MS, n);
}

static void
wait_scans(struct fixture *f, unsigned long n)
{
    int i;

    for (i = 0; i < WAIT_MS / 10 && scan_service_scans(f->service) < n; i++)
        usleep(10000);
    assert_true(scan_service_scans(f->service) >= n);
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

static void
init(struct fixture *f)
{
    json_t *report = NULL;
    char err[512];

    if (scanner_run(&f->conf, SCAN_INIT, NULL, &report, err, sizeof err) !=
        SCAN_CLEAN)
        fail_msg("init: %s", err);
    json_decref(report);
}

static void
malicious(const struct mock_request *req, size_t n,
          struct mock_response *resp, void *arg)
{
    (void)req, (void)n, (void)arg;
    snprintf(resp->body, sizeof resp->body, "{\"data\": {\"attributes\": "
             "{\"last_analysis_stats\": {\"malicious\": 41, \"suspicious\": "
             "2, \"undetected\": 20, \"harmless\": 0}}}}");
}

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    char sub[600];

    f->dir = test_tempdir();
    snprintf(f->www, sizeof f->www, "%s/www", f->dir);
    snprintf(sub, sizeof sub, "%s/state", f->dir);
    snprintf(f->baseline, sizeof f->baseline, "%s/baseline.db", sub);
    mkdir(f->www, 0755);
    mkdir(sub, 0700);
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    f->paths[0] = f->www;
    f->conf.paths = f->paths;
    f->conf.baseline = f->baseline;
    f->conf.key = (char *)"test key of the service tests";
    f->conf.host = (char *)"web-03";
    f->conf.threads = 1;
    /* The first scan runs at start; the next would be an hour later. */
    f->conf.interval = 3600;
    put(f, "index.php", "index\n");
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    size_t i;

    scan_service_stop(f->service);
    mock_http_stop(f->mock);
    for (i = 0; i < f->nreports; i++)
        json_decref(f->reports[i]);
    test_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static const char *
path_of_change(const json_t *report, size_t i)
{
    return json_string_value(json_object_get(json_array_get(
        json_object_get(report, "changes"), i), "path"));
}

static void
changes_reach_the_callback(void **state)
{
    struct fixture *f = *state;
    char want[1024];

    init(f);
    put(f, "shell.php", "hello\n");
    start(f);
    wait_reports(f, 1);
    snprintf(want, sizeof want, "%s/shell.php", f->www);
    assert_string_equal(path_of_change(f->reports[0], 0), want);
}

static void
scan_is_never_started_while_one_runs(void **state)
{
    struct fixture *f = *state;

    init(f);
    put(f, "shell.php", "hello\n");
    start(f);
    wait_reports(f, 1);
    /* The callback runs inside the scan: asking for another is refused. */
    assert_true(f->busy_in_callback);
    assert_int_equal(f->run_now_while_busy, -1);
    wait_scans(f, 1);
    assert_int_equal(scan_service_run_now(f->service), 0);
    wait_reports(f, 2);
    assert_int_equal(scan_service_scans(f->service) >= 1, 1);
}

static void
interval_zero_scans_only_when_asked(void **state)
{
    struct fixture *f = *state;

    f->conf.interval = 0;
    init(f);
    put(f, "shell.php", "hello\n");
    start(f);
    usleep(300 * 1000);
    assert_int_equal(scan_service_scans(f->service), 0);
    assert_int_equal(f->nreports, 0);
    assert_int_equal(scan_service_run_now(f->service), 0);
    wait_reports(f, 1);
}

static void
missing_baseline_is_created_without_a_report(void **state)
{
    struct fixture *f = *state;

    start(f);
    wait_scans(f, 1);
    assert_int_equal(f->nreports, 0);
    assert_int_equal(access(f->baseline, F_OK), 0);
    put(f, "shell.php", "hello\n");
    assert_int_equal(scan_service_run_now(f->service), 0);
    wait_reports(f, 1);
}

static void
tampered_baseline_is_reported(void **state)
{
    struct fixture *f = *state;
    const json_t *e;
    sqlite3 *db;

    init(f);
    assert_int_equal(sqlite3_open(f->baseline, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "UPDATE meta SET value = 'x' WHERE "
                                  "name = 'created'", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    start(f);
    wait_reports(f, 1);
    e = json_object_get(f->reports[0], "error");
    assert_string_equal(json_string_value(json_object_get(e, "type")),
                        "baseline_auth");
    assert_string_equal(json_string_value(json_object_get(e, "baseline")),
                        f->baseline);
}

static void
verdict_arrives_as_an_updated_report(void **state)
{
    struct fixture *f = *state;
    const json_t *vt;

    f->mock = mock_http_start(malicious, NULL);
    assert_non_null(f->mock);
    snprintf(f->api_url, sizeof f->api_url, "%s/api/v3",
             mock_http_url(f->mock));
    f->conf.virustotal.api_key = (char *)"vt-test-key";
    f->conf.virustotal.api_url = f->api_url;
    f->conf.virustotal.per_minute = 4;
    f->conf.virustotal.per_day = 500;
    init(f);
    put(f, "shell.php", "hello\n");
    start(f);
    wait_reports(f, 2);
    assert_null(json_object_get(json_array_get(json_object_get(
        f->reports[0], "changes"), 0), "virustotal"));
    vt = json_object_get(json_array_get(json_object_get(f->reports[1],
                                                        "changes"), 0),
                         "virustotal");
    assert_int_equal(json_integer_value(json_object_get(vt, "malicious")),
                     41);
    assert_int_equal(mock_http_count(f->mock), 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(changes_reach_the_callback),
        T(scan_is_never_started_while_one_runs),
        T(interval_zero_scans_only_when_asked),
        T(missing_baseline_is_created_without_a_report),
        T(tampered_baseline_is_reported),
        T(verdict_arrives_as_an_updated_report),
#undef T
    };
    int rc;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
