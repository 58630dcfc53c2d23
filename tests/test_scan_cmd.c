/*
 * "klaxon scan" from the command line, as cron runs it: exit codes,
 * the readable and JSON reports, posting to a relay with a bearer token
 * (and failing loudly when the relay refuses), and the one-line errors.
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

#include "server/commands.h"
#include "tests/support/mock_http.h"
#include "tests/support/testutil.h"

struct fixture {
    char *dir;
    char www[512];
    char conf[600];
    char baseline[600];
    char *out;              /* what the last run printed */
    char *err;
    struct mock_http *mock;
    int status;             /* what the mock answers */
};

static void
put(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static void
put_www(struct fixture *f, const char *name, const char *text)
{
    char path[1024];

    snprintf(path, sizeof path, "%s/%s", f->www, name);
    put(path, text);
}

static void
answer(const struct mock_request *req, size_t n, struct mock_response *resp,
       void *arg)
{
    struct fixture *f = arg;

    (void)req, (void)n;
    resp->status = f->status;
    snprintf(resp->body, sizeof resp->body, "{\"id\": \"1\", \"status\": "
             "\"queued\"}");
}

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    char text[2048];

    f->dir = test_tempdir();
    snprintf(f->www, sizeof f->www, "%s/www", f->dir);
    snprintf(f->conf, sizeof f->conf, "%s/klaxon.conf", f->dir);
    snprintf(f->baseline, sizeof f->baseline, "%s/state/b.db", f->dir);
    mkdir(f->www, 0755);
    snprintf(text, sizeof text, "%s/state", f->dir);
    mkdir(text, 0700);
    snprintf(text, sizeof text,
             "scanner: {\n  paths = [\"%s\"];\n  baseline = \"%s\";\n"
             "  key = \"a key for the command tests\";\n"
             "  host = \"web-03\";\n};\n", f->www, f->baseline);
    put(f->conf, text);
    put_www(f, "index.php", "index\n");
    f->status = 202;
    f->mock = mock_http_start(answer, f);
    assert_non_null(f->mock);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    mock_http_stop(f->mock);
    test_rmtree(f->dir);
    free(f->out);
    free(f->err);
    free(f->dir);
    free(f);
    return 0;
}

/* Run "klaxon scan -c CONF args..." capturing stdout and stderr. */
static int
run(struct fixture *f, ...)
{
    char *argv[16], out[700], err[700];
    int n = 0, rc, saved_out, saved_err, fd_out, fd_err;
    va_list ap;

    argv[n++] = (char *)"scan";
    argv[n++] = (char *)"-c";
    argv[n++] = f->conf;
    va_start(ap, f);
    while (n < 15 && (argv[n] = va_arg(ap, char *)))
        n++;
    va_end(ap);
    argv[n] = NULL;
    snprintf(out, sizeof out, "%s/stdout", f->dir);
    snprintf(err, sizeof err, "%s/stderr", f->dir);
    fflush(stdout);
    fflush(stderr);
    saved_out = dup(1);
    saved_err = dup(2);
    fd_out = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    fd_err = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd_out, 1);
    dup2(fd_err, 2);
    rc = scan_main(n, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    close(fd_out);
    close(fd_err);
    free(f->out);
    free(f->err);
    f->out = test_read_file(out, NULL);
    f->err = test_read_file(err, NULL);
    return rc;
}

static void
init(struct fixture *f)
{
    if (run(f, "init", NULL) != 0)
        fail_msg("init: %s", f->err);
}

static void
clean_check_exits_0(void **state)
{
    struct fixture *f = *state;

    init(f);
    assert_int_equal(run(f, "check", NULL), 0);
    assert_non_null(strstr(f->out, "web-03: 0 changes in 1 entry"));
}

static void
changes_exit_1_with_a_grouped_report(void **state)
{
    struct fixture *f = *state;
    char want[1024];

    init(f);
    put_www(f, "shell.php", "hello\n");
    put_www(f, "index.php", "changed\n");
    assert_int_equal(run(f, "check", NULL), 1);
    snprintf(want, sizeof want, "\nadded:\n  %s/shell.php\n", f->www);
    assert_non_null(strstr(f->out, want));
    snprintf(want, sizeof want, "\nmodified:\n  %s/index.php\n", f->www);
    assert_non_null(strstr(f->out, want));
    assert_true(strstr(f->out, "added:") < strstr(f->out, "modified:"));
}

static void
json_prints_the_report_format(void **state)
{
    struct fixture *f = *state;
    json_t *doc, *c;

    init(f);
    put_www(f, "shell.php", "hello\n");
    assert_int_equal(run(f, "check", "--json", NULL), 1);
    doc = json_loads(f->out, 0, NULL);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "host")),
                        "web-03");
    assert_string_equal(json_string_value(json_object_get(doc, "root")),
                        f->www);
    assert_int_equal(json_integer_value(json_object_get(doc,
                                                        "files_scanned")),
                     2);
    c = json_array_get(json_object_get(doc, "changes"), 0);
    assert_string_equal(json_string_value(json_object_get(c, "change")),
                        "added");
    json_decref(doc);
}

static void
post_sends_the_report_with_the_token(void **state)
{
    struct fixture *f = *state;
    struct mock_request *req;
    char url[128];
    json_t *doc;

    init(f);
    put_www(f, "shell.php", "hello\n");
    snprintf(url, sizeof url, "%s/hooks/hashgate", mock_http_url(f->mock));
    assert_int_equal(run(f, "check", "--post", url, "--token", "s3cret",
                         NULL), 1);
    assert_int_equal(mock_http_count(f->mock), 1);
    req = mock_http_request(f->mock, 0);
    assert_string_equal(req->method, "POST");
    assert_string_equal(req->url, "/hooks/hashgate");
    assert_non_null(strcasestr(req->headers, "authorization: Bearer "
                               "s3cret\n"));
    assert_non_null(strcasestr(req->headers, "content-type: "
                               "application/json\n"));
    doc = json_loads(req->body, 0, NULL);
    assert_int_equal(json_array_size(json_object_get(doc, "changes")), 1);
    json_decref(doc);
    mock_request_free(req);
}

/* A clean report resolves what an earlier one raised at the relay. */
static void
post_without_changes_sends_the_clean_report(void **state)
{
    struct fixture *f = *state;
    struct mock_request *req;
    char url[128];
    json_t *doc;

    init(f);
    snprintf(url, sizeof url, "%s/hooks/hashgate", mock_http_url(f->mock));
    assert_int_equal(run(f, "check", "--post", url, "--token", "t", NULL),
                     0);
    assert_int_equal(mock_http_count(f->mock), 1);
    req = mock_http_request(f->mock, 0);
    doc = json_loads(req->body, 0, NULL);
    assert_true(json_is_array(json_object_get(doc, "changes")));
    assert_int_equal(json_array_size(json_object_get(doc, "changes")), 0);
    json_decref(doc);
    mock_request_free(req);
}

static void
relay_refusing_the_post_exits_2(void **state)
{
    struct fixture *f = *state;
    char url[128], want[300];

    init(f);
    put_www(f, "shell.php", "hello\n");
    f->status = 401;
    snprintf(url, sizeof url, "%s/hooks/hashgate", mock_http_url(f->mock));
    assert_int_equal(run(f, "check", "--post", url, "--token", "wrong",
                         NULL), 2);
    snprintf(want, sizeof want, "klaxon scan: post to %s failed: relay "
             "answered HTTP 401\n", url);
    assert_string_equal(f->err, want);
}

static void
tampered_baseline_exits_2_naming_it(void **state)
{
    struct fixture *f = *state;
    char want[1024];
    sqlite3 *db;

    init(f);
    assert_int_equal(sqlite3_open(f->baseline, &db), SQLITE_OK);
    sqlite3_exec(db, "DELETE FROM meta WHERE name = 'mac'", NULL, NULL,
                 NULL);
    sqlite3_close(db);
    assert_int_equal(run(f, "check", NULL), 2);
    snprintf(want, sizeof want, "klaxon scan: baseline %s: fails its "
             "authentication (unreadable or incomplete)\n", f->baseline);
    assert_string_equal(f->err, want);
}

static void
update_of_a_path_argument_accepts_it(void **state)
{
    struct fixture *f = *state;
    char path[1024];

    init(f);
    put_www(f, "shell.php", "hello\n");
    put_www(f, "index.php", "changed\n");
    snprintf(path, sizeof path, "%s/index.php", f->www);
    assert_int_equal(run(f, "update", path, NULL), 0);
    assert_non_null(strstr(f->out, "1 change accepted"));
    assert_int_equal(run(f, "check", "--json", NULL), 1);
    assert_null(strstr(f->out, "index.php"));
}

static void
unknown_mode_exits_2(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(run(f, "verify", NULL), 2);
    assert_string_equal(f->err, "klaxon scan: expected init, check or "
                        "update (try klaxon scan --help)\n");
}

static void
unknown_option_exits_2(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(run(f, "check", "--fast", NULL), 2);
    assert_non_null(strstr(f->err, "--fast"));
}

static void
help_exits_0_with_usage(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(run(f, "--help", NULL), 0);
    assert_true(strncmp(f->out, "usage: klaxon scan", 18) == 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(clean_check_exits_0),
        T(changes_exit_1_with_a_grouped_report),
        T(json_prints_the_report_format),
        T(post_sends_the_report_with_the_token),
        T(post_without_changes_sends_the_clean_report),
        T(relay_refusing_the_post_exits_2),
        T(tampered_baseline_exits_2_naming_it),
        T(update_of_a_path_argument_accepts_it),
        T(unknown_mode_exits_2),
        T(unknown_option_exits_2),
        T(help_exits_0_with_usage),
#undef T
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
