/*
 * The command siren driver running real programs: what they receive
 * (argv as given, the channel, nothing else of ours), how failures are
 * reported, and that a hung program is killed with what it started.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
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

#include "notifiers/siren_driver.h"
#include "tests/support/testutil.h"

struct rig {
    char *dir;
    char out[512];              /* dir/out, where the programs write */
    char script_on[1024];
    char script_off[1024];
    char *on[8];
    char *off[8];
    struct siren_conf conf;
    struct siren_driver *d;
    char err[256];
};

static int
setup(void **state)
{
    struct rig *r = calloc(1, sizeof *r);

    assert_non_null(r);
    r->dir = test_tempdir();
    snprintf(r->out, sizeof r->out, "%s/out", r->dir);
    snprintf(r->script_on, sizeof r->script_on, "echo on >> '%s'", r->out);
    snprintf(r->script_off, sizeof r->script_off, "echo off >> '%s'",
             r->out);
    r->on[0] = "/bin/sh";
    r->on[1] = "-c";
    r->on[2] = r->script_on;
    r->off[0] = "/bin/sh";
    r->off[1] = "-c";
    r->off[2] = r->script_off;
    r->conf.driver = "command";
    r->conf.on = r->on;
    r->conf.off = r->off;
    r->conf.channel = 1;
    *state = r;
    return 0;
}

static int
teardown(void **state)
{
    struct rig *r = *state;

    siren_driver_close(r->d);
    test_rmtree(r->dir);
    free(r->dir);
    free(r);
    return 0;
}

static void
open_driver(struct rig *r)
{
    r->d = siren_driver_open(&r->conf, r->err, sizeof r->err);
    assert_non_null(r->d);
}

/* Run `sh -c script` as the on command. */
static void
on_script(struct rig *r, const char *fmt)
{
    snprintf(r->script_on, sizeof r->script_on, fmt, r->out);
}

static void
expect_out(struct rig *r, const char *want)
{
    char *text = test_read_file(r->out, NULL);

    assert_string_equal(text, want);
    free(text);
}

static void
test_on_runs_the_on_program(void **state)
{
    struct rig *r = *state;

    open_driver(r);
    assert_int_equal(siren_driver_on(r->d, 1, r->err, sizeof r->err), 0);
    expect_out(r, "on\n");
}

static void
test_off_runs_the_off_program(void **state)
{
    struct rig *r = *state;

    open_driver(r);
    assert_int_equal(siren_driver_off(r->d, 1, r->err, sizeof r->err), 0);
    expect_out(r, "off\n");
}

static void
test_program_learns_the_channel(void **state)
{
    struct rig *r = *state;

    on_script(r, "echo \"$KLAXON_SIREN_CHANNEL\" >> '%s'");
    assert_int_equal(setenv("KLAXON_SIREN_CHANNEL", "99", 1), 0);
    open_driver(r);
    assert_int_equal(siren_driver_on(r->d, 7, r->err, sizeof r->err), 0);
    unsetenv("KLAXON_SIREN_CHANNEL");
    expect_out(r, "7\n");
}

static void
test_argv_reaches_the_program_uninterpreted(void **state)
{
    struct rig *r = *state;
    char path[1024];
    struct stat st;

    snprintf(path, sizeof path, "%s/a b;c $(touch x)*", r->dir);
    r->on[0] = "/usr/bin/touch";
    r->on[1] = path;
    r->on[2] = NULL;
    open_driver(r);
    assert_int_equal(siren_driver_on(r->d, 1, r->err, sizeof r->err), 0);
    assert_int_equal(stat(path, &st), 0);
}

static void
test_program_is_not_looked_up_in_path(void **state)
{
    struct rig *r = *state;

    r->on[0] = "true";
    r->on[1] = NULL;
    open_driver(r);
    assert_int_equal(siren_driver_on(r->d, 1, r->err, sizeof r->err), -1);
    assert_string_equal(r->err, "command true: cannot run: No such file or "
                        "directory");
}

static void
test_missing_program_is_named(void **state)
{
    struct rig *r = *state;

    r->on[0] = "/nonexistent/siren-on";
    r->on[1] = NULL;
    open_driver(r);
    assert_int_equal(siren_driver_on(r->d, 1, r->err, sizeof r->err), -1);
    assert_string_equal(r->err, "command /nonexistent/siren-on: cannot run: "
                        "No such file or directory");
}

static void
test_failing_program_reports_its_exit_status(void **state)
{
    struct rig *r = *state;

    on_script(r, "exit 3");
    open_driver(r);
    assert_int_equal(siren_driver_on(r->d, 1, r->err, sizeof r->err), -1);
    assert_string_equal(r->err, "command /bin/sh: exited with status 3");
}

static void
test_program_killed_by_a_signal_says_which(void **state)
{
    struct rig *r = *state;

    on_script(r, "kill -KILL $$");
    open_driver(r);
    assert_int_equal(siren_driver_on(r->d, 1, r->err, sizeof r->err), -1);
    assert_string_equal(r->err, "command /bin/sh: killed by signal 9 "
                        "(Killed)");
}

/* The daemon blocks SIGTERM in every thread and ignores SIGPIPE; the
   program must get the defaults back. */
static void
test_program_gets_default_signal_handling(void **state)
{
    struct rig *r = *state;
    sigset_t block, old;

    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, &old);
    signal(SIGPIPE, SIG_IGN);
    on_script(r, "kill -TERM $$; exit 0");
    open_driver(r);
    assert_int_equal(siren_driver_on(r->d, 1, r->err, sizeof r->err), -1);
    sigprocmask(SIG_SETMASK, &old, NULL);
    signal(SIGPIPE, SIG_DFL);
    assert_string_equal(r->err, "command /bin/sh: killed by signal 15 "
                        "(Terminated)");
}

static void
test_program_reads_empty_stdin(void **state)
{
    struct rig *r = *state;

    on_script(r, "cat > '%s'");
    open_driver(r);
    siren_command_set_timeout(r->d, 5000);
    assert_int_equal(siren_driver_on(r->d, 1, r->err, sizeof r->err), 0);
    expect_out(r, "");
}

static void
test_program_inherits_no_other_descriptors(void **state)
{
    struct rig *r = *state;
    int fd = open("/dev/null", O_RDONLY);

    assert_true(fd >= 0);
    assert_int_equal(dup2(fd, 200), 200);
    close(fd);
    on_script(r, "if [ -e /proc/$$/fd/200 ]; then echo leaked; "
              "else echo clean; fi > '%s'");
    open_driver(r);
    assert_int_equal(siren_driver_on(r->d, 1, r->err, sizeof r->err), 0);
    close(200);
    expect_out(r, "clean\n");
}

/* Whether pid has finished (gone, or a zombie nobody reaped). */
static bool
finished(long pid)
{
    char path[64], text[512];
    const char *paren;
    FILE *f;
    size_t n;

    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    if (!(f = fopen(path, "r")))
        return true;
    n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    paren = strrchr(text, ')');
    return paren && paren[1] == ' ' && paren[2] == 'Z';
}

static void
test_hung_program_is_killed_with_its_children(void **state)
{
    struct rig *r = *state;
    char pidfile[600], *text;
    struct timespec pause = { 0, 10000000 };
    long child;
    int i;

    snprintf(pidfile, sizeof pidfile, "%s/pid", r->dir);
    snprintf(r->script_on, sizeof r->script_on,
             "sleep 60 & echo $! > '%s'; wait", pidfile);
    open_driver(r);
    siren_command_set_timeout(r->d, 300);
    assert_int_equal(siren_driver_on(r->d, 1, r->err, sizeof r->err), -1);
    assert_string_equal(r->err, "command /bin/sh: still running after "
                        "300 ms, killed");

    text = test_read_file(pidfile, NULL);
    child = strtol(text, NULL, 10);
    free(text);
    assert_true(child > 1);
    for (i = 0; i < 500 && !finished(child); i++)
        nanosleep(&pause, NULL);
    assert_true(finished(child));
}

static void
test_driver_without_both_programs_is_refused(void **state)
{
    struct rig *r = *state;

    r->conf.off = NULL;
    assert_null(siren_driver_open(&r->conf, r->err, sizeof r->err));
    assert_string_equal(r->err, "command: 'on' and 'off' programs are not "
                        "both configured");
}

static void
test_driver_keeps_its_own_copy_of_argv(void **state)
{
    struct rig *r = *state;

    open_driver(r);
    r->on[0] = "/nonexistent";
    r->script_on[0] = '\0';
    assert_int_equal(siren_driver_off(r->d, 1, r->err, sizeof r->err), 0);
    expect_out(r, "off\n");
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_on_runs_the_on_program),
        T(test_off_runs_the_off_program),
        T(test_program_learns_the_channel),
        T(test_argv_reaches_the_program_uninterpreted),
        T(test_program_is_not_looked_up_in_path),
        T(test_missing_program_is_named),
        T(test_failing_program_reports_its_exit_status),
        T(test_program_killed_by_a_signal_says_which),
        T(test_program_gets_default_signal_handling),
        T(test_program_reads_empty_stdin),
        T(test_program_inherits_no_other_descriptors),
        T(test_hung_program_is_killed_with_its_children),
        T(test_driver_without_both_programs_is_refused),
        T(test_driver_keeps_its_own_copy_of_argv),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
