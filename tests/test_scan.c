/*
 * The integrity scanner on small trees built in a temporary directory:
 * each kind of change with its exact report fields, symlinks, FIFOs and
 * device nodes, files vanishing or unreadable during a scan, excludes,
 * update of everything or one path, and trust_mtime.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "scanner/scanner.h"
#include "tests/support/testutil.h"

/* sha256 of "hello\n", "hello, world\n" and "/etc/passwd" */
#define HELLO \
    "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
#define HELLO2 \
    "853ff93762a06ddbf722c4ebe9ddd66d8f63ddaea97f521c3ecc20da7c976020"
#define PASSWD_LINK \
    "74acf31844532670be412c65b8251ee55d072549080b1cffdbea6b1a192230a0"

struct fixture {
    char *dir;              /* temp dir: www/ is scanned, state/ holds
                               the baseline */
    char www[512];
    char baseline[512];
    char *paths[4];
    char *exclude[4];
    struct scanner_conf conf;
    json_t *report;
    char err[1024];
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    char sub[600];

    f->dir = test_tempdir();
    snprintf(f->www, sizeof f->www, "%s/www", f->dir);
    snprintf(f->baseline, sizeof f->baseline, "%s/state/baseline.db",
             f->dir);
    mkdir(f->www, 0755);
    snprintf(sub, sizeof sub, "%s/state", f->dir);
    mkdir(sub, 0700);
    f->paths[0] = f->www;
    f->conf.paths = f->paths;
    f->conf.exclude = f->exclude;
    f->conf.baseline = f->baseline;
    f->conf.key = (char *)"test key of the scanner tests";
    f->conf.host = (char *)"web-03";
    f->conf.threads = 2;
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    json_decref(f->report);
    chmod(f->dir, 0700);
    test_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* Write text to www/rel (directories made as needed), mode 0644. */
static void
put(struct fixture *f, const char *rel, const char *text)
{
    char path[1024], *slash;
    int fd;

    snprintf(path, sizeof path, "%s/%s", f->www, rel);
    for (slash = strchr(path + strlen(f->www) + 1, '/'); slash;
         slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        mkdir(path, 0755);
        *slash = '/';
    }
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    chmod(path, 0644);
}

static const char *
at(struct fixture *f, const char *rel)
{
    static char path[1024];

    snprintf(path, sizeof path, "%s/%s", f->www, rel);
    return path;
}

static enum scan_result
scan(struct fixture *f, enum scan_mode mode, const struct scan_opts *opts)
{
    json_decref(f->report);
    f->report = NULL;
    f->err[0] = '\0';
    return scanner_run(&f->conf, mode, opts, &f->report, f->err,
                       sizeof f->err);
}

static void
init(struct fixture *f)
{
    if (scan(f, SCAN_INIT, NULL) != SCAN_CLEAN)
        fail_msg("init failed: %s", f->err);
}

static json_t *
changes(struct fixture *f)
{
    return json_object_get(f->report, "changes");
}

/* The only change of the report, which must have exactly one. */
static json_t *
only_change(struct fixture *f)
{
    if (json_array_size(changes(f)) != 1)
        fail_msg("%zu changes: %s", json_array_size(changes(f)),
                 json_dumps(changes(f), JSON_COMPACT));
    return json_array_get(changes(f), 0);
}

static const char *
str(const json_t *o, const char *name)
{
    const char *s = json_string_value(json_object_get(o, name));

    if (!s)
        fail_msg("no string %s in %s", name, json_dumps(o, JSON_COMPACT));
    return s;
}

static long long
num(const json_t *o, const char *name)
{
    const json_t *v = json_object_get(o, name);

    if (!json_is_integer(v))
        fail_msg("no integer %s in %s", name, json_dumps(o, JSON_COMPACT));
    return json_integer_value(v);
}

static const char *
warning(struct fixture *f, size_t i)
{
    return json_string_value(json_array_get(
        json_object_get(f->report, "warnings"), i));
}

/* --- each kind of change --------------------------------------------- */

static void
unchanged_tree_checks_clean(void **state)
{
    struct fixture *f = *state;

    put(f, "index.php", "hello\n");
    put(f, "wp-includes/version.php", "hello, world\n");
    init(f);
    assert_int_equal(scan(f, SCAN_CHECK, NULL), SCAN_CLEAN);
    assert_int_equal(json_array_size(changes(f)), 0);
    assert_int_equal(num(f->report, "files_scanned"), 2);
    assert_string_equal(str(f->report, "host"), "web-03");
    assert_string_equal(str(f->report, "root"), f->www);
}

static void
added_file_is_reported_with_hash_and_attributes(void **state)
{
    struct fixture *f = *state;
    struct stat st;
    json_t *c;

    put(f, "index.php", "hello, world\n");
    init(f);
    put(f, "wp-content/uploads/cache.php", "hello\n");
    stat(at(f, "wp-content/uploads/cache.php"), &st);
    assert_int_equal(scan(f, SCAN_CHECK, NULL), SCAN_CHANGED);
    c = only_change(f);
    assert_string_equal(str(c, "path"), at(f, "wp-content/uploads/cache.php"));
    assert_string_equal(str(c, "change"), "added");
    assert_string_equal(str(c, "sha256"), HELLO);
    assert_int_equal(num(c, "size"), 6);
    assert_string_equal(str(c, "mode"), "0644");
    assert_int_equal(num(c, "uid"), st.st_uid);
    assert_int_equal(num(c, "gid"), st.st_gid);
    assert_int_equal(num(c, "mtime"), st.st_mtim.tv_sec);
    assert_null(json_object_get(c, "old_sha256"));
}

static void
modified_file_reports_old_and_new_hash(void **state)
{
    struct fixture *f = *state;
    json_t *c;

    put(f, "wp-includes/version.php", "hello\n");
    init(f);
    put(f, "wp-includes/version.php", "hello, world\n");
    assert_int_equal(scan(f, SCAN_CHECK, NULL), SCAN_CHANGED);
    c = only_change(f);
    assert_string_equal(str(c, "change"), "modified");
    assert_string_equal(str(c, "old_sha256"), HELLO);
    assert_string_equal(str(c, "sha256"), HELLO2);
    assert_int_equal(num(c, "old_size"), 6);
    assert_int_equal(num(c, "size"), 13);
}

static void
same_size_rewrite_is_modified(void **state)
{
    struct fixture *f = *state;

    put(f, "a.php", "hello\n");
    init(f);
    put(f, "a.php", "jello\n");
    assert_int_equal(scan(f, SCAN_CHECK, NULL), SCAN_CHANGED);
    assert_string_equal(str(only_change(f), "change"), "modified");
}

static void
deleted_file_reports_old_hash(void **state)
{
    struct fixture *f = *state;
    json_t *c;

    put(f, "readme.html", "hello\n");
    put(f, "index.php", "hello, world\n");
    init(f);
    unlink(at(f, "readme.html"));
    assert_int_equal(scan(f, SCAN_CHECK, NULL), SCAN_CHANGED);
    c = only_change(f);
    assert_string_equal(str(c, "path"), at(f, "readme.html"));
    assert_string_equal(str(c, "change"), "deleted");
    assert_string_equal(str(c, "old_sha256"), HELLO);
    assert_null(json_object_get(c, "sha256"));
}

static void
chmod_is_an_attributes_change(void **state)
{
    struct fixture *f = *state;
    json_t *c;

    put(f, "wp-config.php", "hello\n");
    chmod(at(f, "wp-config.php"), 0640);
    init(f);
    chmod(at(f, "wp-config.php"), 0666);
    assert_int_equal(scan(f, SCAN_CHECK, NULL), SCAN_CHANGED);
    c = only_change(f);
    assert_string_equal(str(c, "change"), "attributes");
    assert_string_equal(str(c, "old_mode"), "0640");
    assert_string_equal(str(c, "mode"), "0666");
    assert_string_equal(str(c, "sha256"), HELLO);
}

static void
chown_is_an_attributes_change(void **state)
{
    struct fixture *f = *state;
    json_t *c;

    if (geteuid() != 0)
        skip();
    put(f, "wp-config.php", "hello\n");
    init(f);
    assert_int_equal(chown(at(f, "wp-config.php"), 65534, 65534), 0);
    assert_int_equal(scan(f, SCAN_CHECK, NULL), SCAN_CHANGED);
    c = only_change(f);
    assert_string_equal(str(c, "change"), "attributes");
    assert_int_equal(num(c, "old_uid"), 0);
    assert_int_equal(num(c, "uid"), 65534);
    assert_int_equal(num(c, "gid"), 65534);
}

static void
touch_alone_is_not_a_change(void **state)
{
    struct fixture *f = *state;
    struct timeval tv[2] = { { 1000000, 0 }, { 1000000, 0 } };

    put(f, "index.php", "hello\n");
    init(f);
    assert_int_equal(utimes(at(f, "index.php"), tv), 0);
    assert_int_equal(scan(f, SCAN_CHECK, NULL), SCAN_CLEAN);
}

static void
names_sharing_prefixes_merge_in_order(void **state)
{
    struct fixture *f = *state;
    static const char *const names[] = {
        "a", "a.b", "a-b", "ab", "b/a", "b.c/x", "b/a.b/c", "b-/x", "c",
    };
    size_t i;

    for (i = 0; i < sizeof names / sizeof names[0]; i++)
        put(f, names[i], names[i]);
    init(f);
    assert_int_equal(scan(f, SCAN_CHECK, NULL), SCAN_CLEAN);
    assert_int_equal(num(f->report, "files_scanned"), 9);
    unlink(at(f, "b/a.b/c"));
    put(f, "b/a.b/d", "x");
    assert_int_equal(scan(f, SCAN_CHECK, NULL), SCAN_CHANGED);
    assert_int_equal(json_array_size(changes(f)), 2);
    assert_string_equal(str(json_array_get(changes(f), 0), "change"),
                        "deleted");
    assert_string_equal(str(json_array_get(changes(f), 1), "path"),
                        at(f, "b/a.b/d"));
}

static void
file_replaced_by_directory_is_deleted_plus_added(void **state)
{
    struct fixture *f = *state;

    put(f, "x", "hello\n");
    init(f);
    unlink(at(f, "x"));
    put(f, "x/y", "hello\n");
    assert_int_equal(scan(f, SCAN_CHECK, NULL), SCAN_CHANGED);
    assert_int_equal(json_array_size(changes(f)), 2);
    assert_string_equal(str(json_array_get(changes(f), 0), "change"),
                        "deleted");
    assert_string_equal(str(json_array_get(changes(f), 1), "change"),
                        "added");
}

/* --- what the walk must not open or follow --------------------------- */

static void
symlink_out_of_the_tree_is_recorded_not_followed(void **state)
{
    struct fixture *f = *state;
    char outside[600], file[700];
    json_t *c;

    snprintf(outside, sizeof outside, "%s/outside", f->dir);
    mkdir(outside, 0755);
    snprintf(file, sizeof file, "%s/secret.txt", outside);
    close(open(file, O_WRONLY | O_CREAT, 0600));
    put(f, "index.php", "hello\n");
    init(f);
    assert_int_equal(symlink("/etc/passwd", at(f, "passwd")), 0);
    assert_int_equal(symlink(outside, at(f, "dir")), 0);
    assert_int_equal(scan(f, SCAN_CHECK, NULL), SCAN_CHANGED);
    assert_int_equal(json_array_size(changes(f)), 2);
    c = json_array_get(changes(f), 0);
    assert_string_equal(str(c, "path"), at(f, "dir"));
    assert_string_equal(str(c, "type"), "symlink");
    assert_string_equal(str(c, "target"), outside);
    c = json_array_get(changes(f), 1);
    assert_string_equal(str(c, "path"), at(f, "passwd"));
    assert_string_equal(str(c, "target"), "/etc/passwd");
    assert_string_equal(str(c, "sha256"), PASSWD_LINK);
    assert_int_equal(num(f->report, "files_scanned"), 3);
}

static void
retargeted_symlink_is_modified(void **state)
{
    struct fixture *f = *state;
    json_t *c;

    assert_int_equal(symlink("index.php", at(f, "link")), 0);
    init(f);
    unlink(at(f, "link"));
    assert_int_equal(symlink("/etc/passwd", at(f, "link")), 0);
    assert_int_equal(scan(f, SCAN_CHECK, NULL), SCAN_CHANGED);
    c = only_change(f);
    assert_string_equal(str(c, "change"), "modified");
    assert_string_equal(str(c, "old_target"), "index.php");
    assert_string_equal(str(c, "target"), "/etc/passwd");
}

static void
fifo_is_recorded_without_opening_it(void **state)
{
    struct fixture *f = *state;
    json_t *c;

    init(f);
    assert_int_equal(mkfifo(at(f, "pipe"), 0644), 0);
    /* Opening it for reading would block this test forever. */
    assert_int_equal(scan(f, SCAN_CHECK, NULL), SCAN_CHANGED);
    c = only_change(f);
    assert_string_equal(str(c, "type"), "fifo");
    assert_string_equal(str(c, "change"), "added");
    assert_null(json_object_get(c, "sha256"));
}

static void
device_node_is_recorded_without_opening_it(void **state)
{
    struct fixture *f = *state;

    init(f);
    if (mknod(at(f, "zero"), S_IFCHR | 0644, makedev(1, 5)) < 0)
        skip();
    /* /dev/zero's twin: reading it would never end. */
    assert_int_equal(scan(f, SCAN_CHECK, NULL), SCAN_CHANGED);
    assert_string_equal(str(only_change(f), "type"), "chardev");
    assert_int_equal(num(only_change(f), "size"), 0);
}

/* --- surviving trouble ----------------------------------------------- */

struct vanish {
    struct fixture *f;
    char path[1024];
};

static void
delete_when_reached(const struct scan_progress *p, void *arg)
{
    struct vanish *v = arg;

    if (strcmp(p->path, v->path) == 0)
        unlink(v->path);
}

static void
file_deleted_during_the_scan_is_a_warning(void **state)
{
    struct fixture *f = *state;
    struct vanish v = { .f = f };
    struct scan_opts opts = { .progress = delete_when_reached,
                              .progress_arg = &v };
    char want[1100];

    put(f, "a.php", "hello\n");
    put(f, "b.php", "hello\n");
    put(f, "c.php", "hello\n");
    init(f);
    put(f, "c.php", "hello, world\n");
    snprintf(v.path, sizeof v.path, "%s", at(f, "b.php"));
    assert_int_equal(scan(f, SCAN_CHECK, &opts), SCAN_CHANGED);
    assert_string_equal(str(only_change(f), "path"), at(f, "c.php"));
    snprintf(want, sizeof want, "%s: vanished during the scan", v.path);
    assert_string_equal(warning(f, 0), want);
    /* Seen missing by the next scan, it is a deletion. */
    assert_int_equal(scan(f, SCAN_CHECK, NULL), SCAN_CHANGED);
    assert_int_equal(json_array_size(changes(f)), 2);
}

/* Check f as user nobody when we are root (root reads everything). */
static enum scan_result
scan_unprivileged(struct fixture *f, char *warn, size_t len)
{
    int fds[2], status;
    char buf[1100] = "";
    enum scan_result res;
    ssize_t n;
    pid_t pid;

    if (geteuid() != 0) {
        res = scan(f, SCAN_CHECK, NULL);
        snprintf(warn, len, "%s", warning(f, 0) ? warning(f, 0) : "");
        return res;
    }
    chmod(f->dir, 0755);
    snprintf(buf, sizeof buf, "%s/state", f->dir);
    chmod(buf, 0777);
    assert_int_equal(chown(f->baseline, 65534, 65534), 0);
    snprintf(buf, sizeof buf, "%s.lock", f->baseline);
    assert_int_equal(chown(buf, 65534, 65534), 0);
    assert_int_equal(pipe(fds), 0);
    if ((pid = fork()) == 0) {
        close(fds[0]);
        if (setgid(65534) < 0 || setuid(65534) < 0)
            _exit(99);
        res = scan(f, SCAN_CHECK, NULL);
        n = snprintf(buf, sizeof buf, "%s", warning(f, 0) ? warning(f, 0) :
                     f->err);
        if (write(fds[1], buf, n) != n)
            _exit(98);
        _exit(res);
    }
    close(fds[1]);
    n = read(fds[0], buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = '\0';
    close(fds[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    snprintf(warn, len, "%s", buf);
    return WEXITSTATUS(status);
}

static void
unreadable_file_is_a_warning_and_the_scan_goes_on(void **state)
{
    struct fixture *f = *state;
    char warn[1100], want[1100];

    put(f, "secret.php", "hello\n");
    put(f, "z.php", "hello\n");
    init(f);
    put(f, "z.php", "hello, world\n");
    chmod(at(f, "secret.php"), 0);
    snprintf(want, sizeof want, "%s: Permission denied",
             at(f, "secret.php"));
    assert_int_equal(scan_unprivileged(f, warn, sizeof warn), SCAN_CHANGED);
    assert_string_equal(warn, want);
}

static void
unreadable_directory_is_a_warning_and_keeps_its_files(void **state)
{
    struct fixture *f = *state;
    char warn[1100], want[1100];

    put(f, "private/a.php", "hello\n");
    put(f, "z.php", "hello\n");
    init(f);
    chmod(at(f, "private"), 0);
    snprintf(want, sizeof want, "%s: Permission denied", at(f, "private"));
    /* Its files are not reported deleted: their state is unknown. */
    assert_int_equal(scan_unprivileged(f, warn, sizeof warn), SCAN_CLEAN);
    assert_string_equal(warn, want);
    chmod(at(f, "private"), 0755);
}

/* --- excludes -------------------------------------------------------- */

static void
excluded_directory_is_not_reported(void **state)
{
    struct fixture *f = *state;

    f->exclude[0] = (char *)"wp-content/cache/";
    put(f, "index.php", "hello\n");
    init(f);
    put(f, "wp-content/cache/page.html", "hello\n");
    put(f, "wp-content/cache.php", "hello\n");
    assert_int_equal(scan(f, SCAN_CHECK, NULL), SCAN_CHANGED);
    assert_string_equal(str(only_change(f), "path"),
                        at(f, "wp-content/cache.php"));
}

static void
newly_excluded_file_is_not_reported_deleted(void **state)
{
    struct fixture *f = *state;

    put(f, "var/session/sess_1", "hello\n");
    put(f, "index.php", "hello\n");
    init(f);
    unlink(at(f, "var/session/sess_1"));
    f->exclude[0] = (char *)"var/session/";
    assert_int_equal(scan(f, SCAN_CHECK, NULL), SCAN_CLEAN);
}

static void
blank_exclude_pattern_is_refused(void **state)
{
    struct fixture *f = *state;

    f->exclude[0] = (char *)"";
    assert_int_equal(scan(f, SCAN_INIT, NULL), SCAN_FAILED);
    assert_string_equal(f->err, "scanner: exclude pattern '' matches no "
                        "path");
}

/* --- update ---------------------------------------------------------- */

static void
update_accepts_the_current_state(void **state)
{
    struct fixture *f = *state;

    put(f, "a.php", "hello\n");
    put(f, "b.php", "hello\n");
    init(f);
    put(f, "a.php", "hello, world\n");
    unlink(at(f, "b.php"));
    put(f, "c.php", "hello\n");
    assert_int_equal(scan(f, SCAN_UPDATE, NULL), SCAN_CLEAN);
    assert_int_equal(json_array_size(changes(f)), 3);
    assert_int_equal(scan(f, SCAN_CHECK, NULL), SCAN_CLEAN);
}

static void
update_of_one_path_accepts_only_that_file(void **state)
{
    struct fixture *f = *state;
    const char *one[1];
    struct scan_opts opts = { .paths = one, .npaths = 1 };
    char path[1024];

    put(f, "a.php", "hello\n");
    put(f, "sub/b.php", "hello\n");
    init(f);
    put(f, "a.php", "hello, world\n");
    put(f, "sub/b.php", "hello, world\n");
    snprintf(path, sizeof path, "%s", at(f, "sub/b.php"));
    one[0] = path;
    assert_int_equal(scan(f, SCAN_UPDATE, &opts), SCAN_CLEAN);
    assert_string_equal(str(only_change(f), "path"), path);
    assert_int_equal(scan(f, SCAN_CHECK, NULL), SCAN_CHANGED);
    assert_string_equal(str(only_change(f), "path"), at(f, "a.php"));
}

static void
update_of_a_deleted_path_forgets_it(void **state)
{
    struct fixture *f = *state;
    const char *one[1];
    struct scan_opts opts = { .paths = one, .npaths = 1 };
    char path[1024];

    put(f, "a.php", "hello\n");
    put(f, "old.php", "hello\n");
    init(f);
    unlink(at(f, "old.php"));
    snprintf(path, sizeof path, "%s", at(f, "old.php"));
    one[0] = path;
    assert_int_equal(scan(f, SCAN_UPDATE, &opts), SCAN_CLEAN);
    assert_int_equal(scan(f, SCAN_CHECK, NULL), SCAN_CLEAN);
}

static void
missing_root_unknown_to_the_baseline_is_an_error(void **state)
{
    struct fixture *f = *state;
    char nope[600], want[700];

    snprintf(nope, sizeof nope, "%s/wwww", f->dir);
    f->paths[0] = nope;
    assert_int_equal(scan(f, SCAN_INIT, NULL), SCAN_FAILED);
    snprintf(want, sizeof want, "%s: does not exist", nope);
    assert_string_equal(f->err, want);

    f->paths[0] = f->www;
    put(f, "a.php", "hello\n");
    init(f);
    f->paths[1] = nope;
    assert_int_equal(scan(f, SCAN_CHECK, NULL), SCAN_FAILED);
    assert_string_equal(f->err, want);
}

static void
update_of_a_path_never_seen_is_an_error(void **state)
{
    struct fixture *f = *state;
    const char *one[1];
    struct scan_opts opts = { .paths = one, .npaths = 1 };

    put(f, "a.php", "hello\n");
    init(f);
    one[0] = at(f, "typo.php");
    assert_int_equal(scan(f, SCAN_UPDATE, &opts), SCAN_FAILED);
    assert_non_null(strstr(f->err, "typo.php: does not exist"));
}

static void
removed_root_reports_every_file_deleted(void **state)
{
    struct fixture *f = *state;

    put(f, "a.php", "hello\n");
    put(f, "sub/b.php", "hello\n");
    init(f);
    test_rmtree(f->www);
    assert_int_equal(scan(f, SCAN_CHECK, NULL), SCAN_CHANGED);
    assert_int_equal(json_array_size(changes(f)), 2);
    assert_string_equal(str(json_array_get(changes(f), 0), "change"),
                        "deleted");
    assert_string_equal(str(json_array_get(changes(f), 1), "path"),
                        at(f, "sub/b.php"));
    assert_string_equal(str(json_array_get(changes(f), 1), "change"),
                        "deleted");
}

/* --- trust_mtime ----------------------------------------------------- */

static void
trust_mtime_reads_no_unchanged_file(void **state)
{
    struct fixture *f = *state;

    put(f, "a.php", "hello\n");
    put(f, "b.php", "hello, world\n");
    init(f);
    assert_int_equal(scan(f, SCAN_CHECK, NULL), SCAN_CLEAN);
    assert_int_equal(num(f->report, "bytes_hashed"), 19);
    f->conf.trust_mtime = true;
    assert_int_equal(scan(f, SCAN_CHECK, NULL), SCAN_CLEAN);
    assert_int_equal(num(f->report, "bytes_hashed"), 0);
}

static void
trust_mtime_still_catches_a_forged_mtime(void **state)
{
    struct fixture *f = *state;
    struct stat st;
    struct timespec ts[2];

    put(f, "a.php", "hello\n");
    init(f);
    stat(at(f, "a.php"), &st);
    put(f, "a.php", "jello\n");
    ts[0] = st.st_atim;
    ts[1] = st.st_mtim;
    assert_int_equal(utimensat(AT_FDCWD, at(f, "a.php"), ts, 0), 0);
    f->conf.trust_mtime = true;
    /* Same size and mtime, but the ctime moved on: read again. */
    assert_int_equal(scan(f, SCAN_CHECK, NULL), SCAN_CHANGED);
    assert_string_equal(str(only_change(f), "change"), "modified");
}

/* --- refusals -------------------------------------------------------- */

static void
baseline_inside_the_tree_is_refused(void **state)
{
    struct fixture *f = *state;
    char inside[1024];

    snprintf(inside, sizeof inside, "%s/baseline.db", f->www);
    f->conf.baseline = inside;
    assert_int_equal(scan(f, SCAN_INIT, NULL), SCAN_FAILED);
    assert_non_null(strstr(f->err, "lies inside the watched tree"));
    assert_int_equal(access(inside, F_OK), -1);
}

static void
overlapping_paths_are_refused(void **state)
{
    struct fixture *f = *state;
    char sub[1024];

    put(f, "sub/a", "x");
    snprintf(sub, sizeof sub, "%s/./sub/", f->www);
    f->paths[1] = sub;
    assert_int_equal(scan(f, SCAN_INIT, NULL), SCAN_FAILED);
    snprintf(sub, sizeof sub, "scanner: %s/sub lies inside another scanned "
             "path", f->www);
    assert_string_equal(f->err, sub);
}

static void
check_without_baseline_names_it(void **state)
{
    struct fixture *f = *state;
    char want[1100];

    assert_int_equal(scan(f, SCAN_CHECK, NULL), SCAN_FAILED);
    snprintf(want, sizeof want, "baseline %s: does not exist (run klaxon "
             "scan init)", f->baseline);
    assert_string_equal(f->err, want);
}

static void
init_refuses_to_overwrite_a_baseline(void **state)
{
    struct fixture *f = *state;

    init(f);
    assert_int_equal(scan(f, SCAN_INIT, NULL), SCAN_FAILED);
    assert_non_null(strstr(f->err, "already exists"));
}

static void
non_utf8_name_is_reported_escaped(void **state)
{
    struct fixture *f = *state;

    init(f);
    put(f, "shell\xff.php", "hello\n");
    assert_int_equal(scan(f, SCAN_CHECK, NULL), SCAN_CHANGED);
    assert_true(json_is_string(json_object_get(only_change(f), "path")));
    assert_non_null(strstr(str(only_change(f), "path"), "/shell\\xff.php"));
}

static void
root_that_is_a_file_is_scanned(void **state)
{
    struct fixture *f = *state;
    char file[1024];

    put(f, "wp-config.php", "hello\n");
    snprintf(file, sizeof file, "%s", at(f, "wp-config.php"));
    f->paths[0] = file;
    init(f);
    put(f, "wp-config.php", "hello, world\n");
    assert_int_equal(scan(f, SCAN_CHECK, NULL), SCAN_CHANGED);
    assert_string_equal(str(only_change(f), "path"), file);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(unchanged_tree_checks_clean),
        T(added_file_is_reported_with_hash_and_attributes),
        T(modified_file_reports_old_and_new_hash),
        T(same_size_rewrite_is_modified),
        T(deleted_file_reports_old_hash),
        T(chmod_is_an_attributes_change),
        T(chown_is_an_attributes_change),
        T(touch_alone_is_not_a_change),
        T(names_sharing_prefixes_merge_in_order),
        T(file_replaced_by_directory_is_deleted_plus_added),
        T(symlink_out_of_the_tree_is_recorded_not_followed),
        T(retargeted_symlink_is_modified),
        T(fifo_is_recorded_without_opening_it),
        T(device_node_is_recorded_without_opening_it),
        T(file_deleted_during_the_scan_is_a_warning),
        T(unreadable_file_is_a_warning_and_the_scan_goes_on),
        T(unreadable_directory_is_a_warning_and_keeps_its_files),
        T(excluded_directory_is_not_reported),
        T(newly_excluded_file_is_not_reported_deleted),
        T(blank_exclude_pattern_is_refused),
        T(update_accepts_the_current_state),
        T(update_of_one_path_accepts_only_that_file),
        T(update_of_a_deleted_path_forgets_it),
        T(missing_root_unknown_to_the_baseline_is_an_error),
        T(update_of_a_path_never_seen_is_an_error),
        T(removed_root_reports_every_file_deleted),
        T(trust_mtime_reads_no_unchanged_file),
        T(trust_mtime_still_catches_a_forged_mtime),
        T(baseline_inside_the_tree_is_refused),
        T(overlapping_paths_are_refused),
        T(check_without_baseline_names_it),
        T(init_refuses_to_overwrite_a_baseline),
        T(non_utf8_name_is_reported_escaped),
        T(root_that_is_a_file_is_scanned),
#undef T
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
