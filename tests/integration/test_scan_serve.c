/*
 * The scanner inside "klaxon serve": findings go through the pipeline
 * like a posted hashgate report, an unchanged finding is not pushed
 * again, and a tampered baseline is an emergency.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <sqlite3.h>

#include "tests/support/daemon.h"
#include "tests/support/mock_http.h"
#include "tests/support/testutil.h"

struct fixture {
    struct daemon d;
    struct mock_http *mock;
    char tree[600];
    char baseline[600];
};

static void
write_file(const char *dir, const char *name, const char *text)
{
    char path[800];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);

    f->mock = mock_http_start(NULL, NULL);
    daemon_init(&f->d);
    snprintf(f->tree, sizeof f->tree, "%s/www", f->d.dir);
    snprintf(f->baseline, sizeof f->baseline, "%s/baseline.db", f->d.dir);
    mkdir(f->tree, 0755);
    write_file(f->tree, "index.php", "<?php echo 'shop';\n");
    daemon_write_config(&f->d,
        "server: { listen = [\"127.0.0.1:0\"]; };\n"
        "journal: { path = \"%s/klaxon.db\"; };\n"
        "sources: { hashgate = { token = \"hashgate-secret-1\"; }; };\n"
        "people = ( { name = \"alice\"; pushover = \"uAliceKey\"; "
        "on_call = true; } );\n"
        "pushover: { token = \"appTokenSecret\"; "
        "api_url = \"%s/1/messages.json\"; timeout = 2; };\n"
        "scanner: { paths = [\"%s\"]; baseline = \"%s\"; "
        "key = \"scanner-key-123456\"; interval = 1; host = \"web-test\"; "
        "};\n",
        f->d.dir, mock_http_url(f->mock), f->tree, f->baseline);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    daemon_cleanup(&f->d);
    mock_http_stop(f->mock);
    free(f);
    return 0;
}

static char *
field(struct fixture *f, size_t i, const char *name)
{
    struct mock_request *req = mock_http_request(f->mock, i);
    char *v = req ? mock_form_field(req->body, name) : NULL;

    mock_request_free(req);
    return v;
}

static void
test_a_new_file_is_pushed_once_at_priority_1(void **state)
{
    struct fixture *f = *state;
    char *title, *priority;

    daemon_start(&f->d);
    assert_int_equal(daemon_wait_log(&f->d, "baseline created", 10000), 0);
    write_file(f->tree, "cache.php", "<?php eval($_POST['x']);\n");
    assert_int_equal(mock_http_wait(f->mock, 1, 10000), 0);
    title = field(f, 0, "title");
    priority = field(f, 0, "priority");
    assert_non_null(strstr(title, "web-test"));
    assert_string_equal(priority, "1");
    free(title);
    free(priority);

    /* Later scans find the same change: a duplicate, not a new push. */
    assert_int_equal(daemon_wait_log(&f->d, "duplicate of event", 10000),
                     0);
    assert_int_equal(mock_http_count(f->mock), 1);
    assert_int_equal(daemon_stop(&f->d), 0);
}

static void
test_accepting_the_change_resolves_the_alert(void **state)
{
    struct fixture *f = *state;
    char *out, *title, want[700];

    daemon_start(&f->d);
    assert_int_equal(daemon_wait_log(&f->d, "baseline created", 10000), 0);
    write_file(f->tree, "cache.php", "<?php eval($_POST['x']);\n");
    assert_int_equal(mock_http_wait(f->mock, 1, 10000), 0);
    assert_int_equal(daemon_stop(&f->d), 0);

    /* The operator looked, and accepts the file. */
    assert_int_equal(klaxon_run(&out, "scan", "update", "-c", f->d.config,
                                NULL), 0);
    free(out);
    daemon_start(&f->d);
    assert_int_equal(mock_http_wait(f->mock, 2, 10000), 0);
    title = field(f, 1, "title");
    snprintf(want, sizeof want, "web-test: no changes under %s", f->tree);
    assert_string_equal(title, want);
    free(title);
    assert_int_equal(daemon_stop(&f->d), 0);
}

/* Same order as the scanner's path collation for the rows we touch. */
static int
bytewise(void *arg, int la, const void *a, int lb, const void *b)
{
    int c = memcmp(a, b, la < lb ? la : lb);

    (void)arg;
    return c ? c : la - lb;
}

static void
tamper(const char *baseline)
{
    sqlite3 *db;

    assert_int_equal(sqlite3_open(baseline, &db), SQLITE_OK);
    sqlite3_create_collation(db, "pathcmp", SQLITE_UTF8, NULL, bytewise);
    assert_int_equal(sqlite3_exec(db, "UPDATE files SET size = size + 1",
                                  NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_changes(db) > 0, 1);
    sqlite3_close(db);
}

static void
test_a_tampered_baseline_is_an_emergency(void **state)
{
    struct fixture *f = *state;
    char *priority, *title;

    daemon_start(&f->d);
    assert_int_equal(daemon_wait_log(&f->d, "baseline created", 10000), 0);
    assert_int_equal(daemon_stop(&f->d), 0);

    /* An intruder rewrites the recorded size of a file. */
    tamper(f->baseline);

    daemon_start(&f->d);
    assert_int_equal(mock_http_wait(f->mock, 1, 10000), 0);
    priority = field(f, 0, "priority");
    title = field(f, 0, "title");
    assert_string_equal(priority, "2");
    assert_non_null(strstr(title, "cannot be trusted"));
    free(priority);
    free(title);
    assert_int_equal(daemon_stop(&f->d), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_a_new_file_is_pushed_once_at_priority_1, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_accepting_the_change_resolves_the_alert, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_a_tampered_baseline_is_an_emergency, setup, teardown),
    };

    curl_global_init(CURL_GLOBAL_DEFAULT);
    return cmocka_run_group_tests_name("scan in serve", tests, NULL, NULL);
}
