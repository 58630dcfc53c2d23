/*
 * The serial relay driver on a real tty: a pseudo-terminal stands in for
 * the CH340 board, so the exact bytes the board would receive and the
 * line settings it needs are checked with the kernel's own tty code.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <cmocka.h>

#include "notifiers/siren_driver.h"

struct pty {
    int master;
    char path[128];             /* the tty the driver opens */
    struct siren_conf conf;
    struct siren_driver *d;
    char err[256];
};

static int
setup(void **state)
{
    struct pty *p = calloc(1, sizeof *p);

    assert_non_null(p);
    p->master = posix_openpt(O_RDWR | O_NOCTTY);
    assert_true(p->master >= 0);
    assert_int_equal(grantpt(p->master), 0);
    assert_int_equal(unlockpt(p->master), 0);
    assert_int_equal(ptsname_r(p->master, p->path, sizeof p->path), 0);
    p->conf.driver = "serial";
    p->conf.device = p->path;
    p->conf.channel = 1;
    *state = p;
    return 0;
}

static int
teardown(void **state)
{
    struct pty *p = *state;

    siren_driver_close(p->d);
    if (p->master >= 0)
        close(p->master);
    free(p);
    return 0;
}

static void
open_driver(struct pty *p)
{
    p->d = siren_driver_open(&p->conf, p->err, sizeof p->err);
    assert_non_null(p->d);
}

/* The next len bytes the board received. */
static void
expect_bytes(struct pty *p, const unsigned char *want, size_t len)
{
    unsigned char got[16];
    struct pollfd pfd = { p->master, POLLIN, 0 };
    size_t have = 0;
    ssize_t n;

    while (have < len) {
        assert_int_equal(poll(&pfd, 1, 5000), 1);
        n = read(p->master, got + have, sizeof got - have);
        assert_true(n > 0);
        have += (size_t)n;
    }
    assert_int_equal(have, len);
    assert_memory_equal(got, want, len);
}

/* Nothing at all reached the board. */
static void
expect_nothing(struct pty *p)
{
    struct pollfd pfd = { p->master, POLLIN, 0 };

    assert_int_equal(poll(&pfd, 1, 0), 0);
}

static void
test_relay_1_on_sends_a0_01_01_a2(void **state)
{
    static const unsigned char cmd[] = { 0xA0, 0x01, 0x01, 0xA2 };
    struct pty *p = *state;

    open_driver(p);
    assert_int_equal(siren_driver_on(p->d, 1, p->err, sizeof p->err), 0);
    expect_bytes(p, cmd, sizeof cmd);
}

static void
test_relay_1_off_sends_a0_01_00_a1(void **state)
{
    static const unsigned char cmd[] = { 0xA0, 0x01, 0x00, 0xA1 };
    struct pty *p = *state;

    open_driver(p);
    assert_int_equal(siren_driver_off(p->d, 1, p->err, sizeof p->err), 0);
    expect_bytes(p, cmd, sizeof cmd);
}

static void
test_relay_2_on_then_off_sends_two_commands(void **state)
{
    static const unsigned char cmds[] = {
        0xA0, 0x02, 0x01, 0xA3, 0xA0, 0x02, 0x00, 0xA2,
    };
    struct pty *p = *state;

    open_driver(p);
    assert_int_equal(siren_driver_on(p->d, 2, p->err, sizeof p->err), 0);
    assert_int_equal(siren_driver_off(p->d, 2, p->err, sizeof p->err), 0);
    expect_bytes(p, cmds, sizeof cmds);
}

/* 0x0A would become CR LF on a tty left in cooked mode. */
static void
test_relay_10_byte_is_not_translated(void **state)
{
    static const unsigned char cmd[] = { 0xA0, 0x0A, 0x01, 0xAB };
    struct pty *p = *state;

    open_driver(p);
    assert_int_equal(siren_driver_on(p->d, 10, p->err, sizeof p->err), 0);
    expect_bytes(p, cmd, sizeof cmd);
}

static void
test_checksum_wraps_mod_256(void **state)
{
    static const unsigned char cmd[] = { 0xA0, 0xFF, 0x01, 0xA0 };
    struct pty *p = *state;

    open_driver(p);
    assert_int_equal(siren_driver_on(p->d, 255, p->err, sizeof p->err),
                     0);
    expect_bytes(p, cmd, sizeof cmd);
}

static void
test_channel_0_is_refused_and_nothing_sent(void **state)
{
    struct pty *p = *state;
    char want[256];

    open_driver(p);
    assert_int_equal(siren_driver_on(p->d, 0, p->err, sizeof p->err), -1);
    snprintf(want, sizeof want, "serial %s: relay channel 0 does not exist "
             "(they count from 1)", p->path);
    assert_string_equal(p->err, want);
    expect_nothing(p);
}

static void
test_channel_256_is_refused(void **state)
{
    struct pty *p = *state;

    open_driver(p);
    assert_int_equal(siren_driver_on(p->d, 256, p->err, sizeof p->err),
                     -1);
    expect_nothing(p);
}

static void
test_tty_is_raw_9600_8n1_without_flow_control(void **state)
{
    struct pty *p = *state;
    struct termios t;
    int fd;

    open_driver(p);
    fd = open(p->path, O_RDWR | O_NOCTTY);
    assert_true(fd >= 0);
    assert_int_equal(tcgetattr(fd, &t), 0);
    close(fd);
    assert_int_equal(cfgetospeed(&t), B9600);
    assert_int_equal(cfgetispeed(&t), B9600);
    assert_int_equal(t.c_cflag & CSIZE, CS8);
    assert_int_equal(t.c_cflag & (PARENB | CSTOPB | CRTSCTS), 0);
    assert_int_equal(t.c_cflag & (CLOCAL | CREAD), CLOCAL | CREAD);
    assert_int_equal(t.c_iflag & (IXON | IXOFF | IXANY | ICRNL), 0);
    assert_int_equal(t.c_oflag & OPOST, 0);
    assert_int_equal(t.c_lflag & (ICANON | ECHO | ISIG), 0);
}

static void
test_tty_is_left_blocking(void **state)
{
    struct pty *p = *state;
    char fdpath[64], link[256];
    int fd, flags = -1;
    ssize_t n;

    open_driver(p);
    /* Find the driver's descriptor: the one open on our tty. */
    for (fd = 3; fd < 1024 && flags < 0; fd++) {
        snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", fd);
        n = readlink(fdpath, link, sizeof link - 1);
        if (n <= 0)
            continue;
        link[n] = '\0';
        if (strcmp(link, p->path) == 0)
            flags = fcntl(fd, F_GETFL);
    }
    assert_true(flags >= 0);
    assert_int_equal(flags & O_NONBLOCK, 0);
}

static void
test_missing_device_names_it_and_why(void **state)
{
    struct pty *p = *state;

    p->conf.device = "/nonexistent/ttyUSB0";
    assert_null(siren_driver_open(&p->conf, p->err, sizeof p->err));
    assert_string_equal(p->err, "serial /nonexistent/ttyUSB0: cannot open: "
                        "No such file or directory");
}

static void
test_device_that_is_not_a_tty_is_refused(void **state)
{
    struct pty *p = *state;

    p->conf.device = "/dev/null";
    assert_null(siren_driver_open(&p->conf, p->err, sizeof p->err));
    assert_string_equal(p->err, "serial /dev/null: not a tty");
}

static void
test_overlong_device_path_gives_an_error(void **state)
{
    struct pty *p = *state;
    char *path = malloc(8192);

    assert_non_null(path);
    memset(path, 'x', 8191);
    path[0] = '/';
    path[8191] = '\0';
    p->conf.device = path;
    assert_null(siren_driver_open(&p->conf, p->err, sizeof p->err));
    assert_int_equal(strncmp(p->err, "serial /xxx", 11), 0);
    assert_true(strlen(p->err) < sizeof p->err);
    free(path);
}

static void
test_no_device_configured_is_an_error(void **state)
{
    struct pty *p = *state;

    p->conf.device = NULL;
    assert_null(siren_driver_open(&p->conf, p->err, sizeof p->err));
    assert_string_equal(p->err, "serial: no 'device' configured");
}

static void
test_board_gone_gives_a_write_error(void **state)
{
    struct pty *p = *state;
    char want[256];

    open_driver(p);
    close(p->master);
    p->master = -1;
    assert_int_equal(siren_driver_on(p->d, 1, p->err, sizeof p->err), -1);
    snprintf(want, sizeof want, "serial %s: cannot switch relay 1 on: ",
             p->path);
    assert_int_equal(strncmp(p->err, want, strlen(want)), 0);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_relay_1_on_sends_a0_01_01_a2),
        T(test_relay_1_off_sends_a0_01_00_a1),
        T(test_relay_2_on_then_off_sends_two_commands),
        T(test_relay_10_byte_is_not_translated),
        T(test_checksum_wraps_mod_256),
        T(test_channel_0_is_refused_and_nothing_sent),
        T(test_channel_256_is_refused),
        T(test_tty_is_raw_9600_8n1_without_flow_control),
        T(test_tty_is_left_blocking),
        T(test_missing_device_names_it_and_why),
        T(test_device_that_is_not_a_tty_is_refused),
        T(test_overlong_device_path_gives_an_error),
        T(test_no_device_configured_is_an_error),
        T(test_board_gone_gives_a_write_error),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
