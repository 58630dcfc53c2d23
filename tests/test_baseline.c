/*
 * The scanner's baseline: its authentication catches every edit made
 * without the key, a baseline that fails it is reported (naming the
 * file) and never replaced, keys must come from a private file or the
 * environment, and a new baseline is put in place atomically.
 */
#include <dirent.h>
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

#include "scanner/baseline.h"
#include "scanner/scanner.h"
#include "tests/support/testutil.h"

struct fixture {
    char *dir;
    char www[512];
    char state[512];
    char baseline[600];
    char key_file[600];
    char *paths[2];
    struct scanner_conf conf;
    json_t *report;
    char err[1024];
};

static void
put(const char *dir, const char *name, const char *text, mode_t mode)
{
    char path[1024];
    int fd;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    chmod(path, mode);
}

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);

    f->dir = test_tempdir();
    snprintf(f->www, sizeof f->www, "%s/www", f->dir);
    snprintf(f->state, sizeof f->state, "%s/state", f->dir);
    snprintf(f->baseline, sizeof f->baseline, "%s/baseline.db", f->state);
    snprintf(f->key_file, sizeof f->key_file, "%s/baseline.key", f->state);
    mkdir(f->www, 0755);
    mkdir(f->state, 0700);
    put(f->www, "index.php", "hello\n", 0644);
    put(f->www, "wp-config.php", "secret\n", 0640);
    f->paths[0] = f->www;
    f->conf.paths = f->paths;
    f->conf.baseline = f->baseline;
    f->conf.key_file = f->key_file;
    f->conf.host = (char *)"web-03";
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    json_decref(f->report);
    test_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static enum scan_result
scan(struct fixture *f, enum scan_mode mode)
{
    json_decref(f->report);
    f->report = NULL;
    f->err[0] = '\0';
    return scanner_run(&f->conf, mode, NULL, &f->report, f->err,
                       sizeof f->err);
}

static void
init(struct fixture *f)
{
    if (scan(f, SCAN_INIT) != SCAN_CLEAN)
        fail_msg("init failed: %s", f->err);
}

static int
same_order(void *arg, int alen, const void *a, int blen, const void *b)
{
    (void)arg;
    return entry_pathcmp(a, alen, b, blen);
}

/*
 * Run SQL on the baseline directly, as someone without the key would
 * (with the path order the baseline's index uses, as a careful attacker
 * would set up).
 */
static void
tamper(struct fixture *f, const char *sql)
{
    sqlite3 *db;

    assert_int_equal(sqlite3_open(f->baseline, &db), SQLITE_OK);
    sqlite3_create_collation(db, "pathcmp", SQLITE_UTF8, NULL, same_order);
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    sqlite3_close(db);
}

static void
assert_tampered(struct fixture *f, const char *why)
{
    char want[1200];
    const json_t *e;

    assert_int_equal(scan(f, SCAN_CHECK), SCAN_TAMPERED);
    snprintf(want, sizeof want, "baseline %s: fails its authentication "
             "(%s)", f->baseline, why);
    assert_string_equal(f->err, want);
    e = json_object_get(f->report, "error");
    assert_string_equal(json_string_value(json_object_get(e, "type")),
                        "baseline_auth");
    assert_string_equal(json_string_value(json_object_get(e, "baseline")),
                        f->baseline);
    assert_string_equal(json_string_value(json_object_get(f->report,
                                                          "host")),
                        "web-03");
}

#define EDITED "modified, or signed with another key"

static void
edited_hash_is_detected(void **state)
{
    struct fixture *f = *state;

    init(f);
    tamper(f, "UPDATE files SET sha256 = zeroblob(32) WHERE path LIKE "
              "'%index.php'");
    assert_tampered(f, EDITED);
}

static void
edited_mode_is_detected(void **state)
{
    struct fixture *f = *state;

    init(f);
    tamper(f, "UPDATE files SET mode = 438");
    assert_tampered(f, EDITED);
}

static void
deleted_row_is_detected(void **state)
{
    struct fixture *f = *state;

    init(f);
    tamper(f, "DELETE FROM files WHERE path LIKE '%index.php'");
    assert_tampered(f, EDITED);
}

static void
edited_signature_is_detected(void **state)
{
    struct fixture *f = *state;

    init(f);
    tamper(f, "UPDATE meta SET value = '00' WHERE name = 'mac'");
    assert_tampered(f, EDITED);
}

static void
other_key_is_detected(void **state)
{
    struct fixture *f = *state;

    init(f);
    put(f->state, "baseline.key", "another key of enough length\n", 0600);
    assert_tampered(f, EDITED);
}

static void
missing_signature_is_detected(void **state)
{
    struct fixture *f = *state;

    init(f);
    tamper(f, "DELETE FROM meta WHERE name = 'mac'");
    assert_tampered(f, "unreadable or incomplete");
}

static void
tampered_baseline_is_never_replaced(void **state)
{
    struct fixture *f = *state;
    char *before, *after;
    size_t n1, n2;

    init(f);
    tamper(f, "UPDATE files SET size = 1");
    before = test_read_file(f->baseline, &n1);
    assert_int_equal(scan(f, SCAN_UPDATE), SCAN_TAMPERED);
    after = test_read_file(f->baseline, &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(before, after, n1);
    free(before);
    free(after);
}

static void
file_that_is_no_baseline_is_an_error(void **state)
{
    struct fixture *f = *state;
    char want[1200];

    put(f->state, "baseline.db", "not sqlite at all, just text\n", 0600);
    f->conf.key_file = NULL;
    f->conf.key = (char *)"a key of enough length";
    assert_int_equal(scan(f, SCAN_CHECK), SCAN_FAILED);
    snprintf(want, sizeof want, "baseline %s: not a klaxon baseline",
             f->baseline);
    assert_string_equal(f->err, want);
}

static void
init_creates_a_private_key_file(void **state)
{
    struct fixture *f = *state;
    struct stat st;
    char *key;
    size_t len;

    init(f);
    assert_int_equal(stat(f->key_file, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    key = test_read_file(f->key_file, &len);
    assert_int_equal(len, 65);
    free(key);
    assert_int_equal(stat(f->baseline, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
}

static void
key_file_readable_by_others_is_refused(void **state)
{
    struct fixture *f = *state;
    char want[1200];

    put(f->state, "baseline.key", "a key that others can read\n", 0644);
    assert_int_equal(scan(f, SCAN_INIT), SCAN_FAILED);
    snprintf(want, sizeof want, "%s: key file must be ours and mode 0600 "
             "(it is 0644)", f->key_file);
    assert_string_equal(f->err, want);
}

static void
short_key_is_refused(void **state)
{
    struct fixture *f = *state;
    char want[1200];

    put(f->state, "baseline.key", "short\n", 0600);
    assert_int_equal(scan(f, SCAN_INIT), SCAN_FAILED);
    snprintf(want, sizeof want, "%s: key is shorter than 16 bytes",
             f->key_file);
    assert_string_equal(f->err, want);
}

static void
key_from_the_environment_works(void **state)
{
    struct fixture *f = *state;

    setenv("KLAXON_TEST_SCAN_KEY", "a key from the environment", 1);
    f->conf.key_file = NULL;
    f->conf.key = (char *)"env:KLAXON_TEST_SCAN_KEY";
    init(f);
    assert_int_equal(scan(f, SCAN_CHECK), SCAN_CLEAN);
    setenv("KLAXON_TEST_SCAN_KEY", "another key from the environment", 1);
    assert_int_equal(scan(f, SCAN_CHECK), SCAN_TAMPERED);
    unsetenv("KLAXON_TEST_SCAN_KEY");
    assert_int_equal(scan(f, SCAN_CHECK), SCAN_FAILED);
    assert_string_equal(f->err, "scanner key: environment variable "
                        "KLAXON_TEST_SCAN_KEY is not set");
}

static void
without_a_key_the_key_file_sits_beside_the_baseline(void **state)
{
    struct fixture *f = *state;
    char path[1100];
    struct stat st;

    f->conf.key_file = NULL;
    assert_int_equal(scan(f, SCAN_INIT), SCAN_CLEAN);
    snprintf(path, sizeof path, "%s.key", f->baseline);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(scan(f, SCAN_CHECK), SCAN_CLEAN);
    /* Without it the baseline cannot be checked: no silent new key. */
    unlink(path);
    assert_int_equal(scan(f, SCAN_CHECK), SCAN_FAILED);
    assert_non_null(strstr(f->err, ".key"));
}

static size_t
entries_in(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;

    assert_non_null(d);
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static void
update_leaves_no_temporary_file(void **state)
{
    struct fixture *f = *state;

    init(f);
    put(f->www, "index.php", "changed\n", 0644);
    assert_int_equal(scan(f, SCAN_UPDATE), SCAN_CLEAN);
    /* baseline.db, baseline.db.lock and baseline.key */
    assert_int_equal(entries_in(f->state), 3);
    assert_int_equal(scan(f, SCAN_CHECK), SCAN_CLEAN);
}

static void
second_scan_at_once_is_refused(void **state)
{
    struct fixture *f = *state;
    char want[1200];
    int lock;

    init(f);
    lock = baseline_lock(f->baseline, f->err, sizeof f->err);
    assert_true(lock >= 0);
    assert_int_equal(scan(f, SCAN_CHECK), SCAN_FAILED);
    snprintf(want, sizeof want, "baseline %s: in use by another scan",
             f->baseline);
    assert_string_equal(f->err, want);
    close(lock);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(edited_hash_is_detected),
        T(edited_mode_is_detected),
        T(deleted_row_is_detected),
        T(edited_signature_is_detected),
        T(other_key_is_detected),
        T(missing_signature_is_detected),
        T(tampered_baseline_is_never_replaced),
        T(file_that_is_no_baseline_is_an_error),
        T(init_creates_a_private_key_file),
        T(key_file_readable_by_others_is_refused),
        T(short_key_is_refused),
        T(key_from_the_environment_works),
        T(without_a_key_the_key_file_sits_beside_the_baseline),
        T(update_leaves_no_temporary_file),
        T(second_scan_at_once_is_refused),
#undef T
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
