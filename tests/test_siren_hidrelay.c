/*
 * The USB HID relay driver against a fake hidapi: which board it picks
 * for each way of naming one, the exact feature reports it sends, and
 * how it copes with a board that is missing or pulled out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include <cmocka.h>

#include "notifiers/siren_driver.h"

/* ---- Fake boards behind a fake hidapi ---- */

struct board {
    const char *path;
    const wchar_t *product;     /* NULL: the device has none */
    const wchar_t *serial;      /* USB serial string; NULL: none */
    const char *id;             /* id in feature report 0 (5 chars) */
    bool plugged;               /* enumerated and openable */
    bool fail_send;
    int opens, closes;
    unsigned char sent[8][16];  /* feature reports received */
    size_t sent_len[8];
    int nsent;
};

static struct board boards[4];
static int nboards;
static int enumerations;
static unsigned short asked_vendor, asked_product;

static struct hid_device_info *
fake_enumerate(unsigned short vendor, unsigned short product)
{
    struct hid_device_info *head = NULL, **tail = &head, *i;
    int b;

    enumerations++;
    asked_vendor = vendor;
    asked_product = product;
    for (b = 0; b < nboards; b++) {
        if (!boards[b].plugged)
            continue;
        i = calloc(1, sizeof *i);
        assert_non_null(i);
        i->path = strdup(boards[b].path);
        i->vendor_id = vendor;
        i->product_id = product;
        i->product_string = boards[b].product ?
                            wcsdup(boards[b].product) : NULL;
        i->serial_number = boards[b].serial ?
                           wcsdup(boards[b].serial) : NULL;
        *tail = i;
        tail = &i->next;
    }
    return head;
}

static void
fake_free_enumeration(struct hid_device_info *devs)
{
    struct hid_device_info *next;

    for (; devs; devs = next) {
        next = devs->next;
        free(devs->path);
        free(devs->product_string);
        free(devs->serial_number);
        free(devs);
    }
}

static hid_device *
fake_open_path(const char *path)
{
    int b;

    for (b = 0; b < nboards; b++) {
        if (boards[b].plugged && strcmp(boards[b].path, path) == 0) {
            boards[b].opens++;
            return (hid_device *)&boards[b];
        }
    }
    return NULL;
}

static int
fake_send(hid_device *dev, const unsigned char *data, size_t len)
{
    struct board *b = (struct board *)dev;

    if (b->fail_send || !b->plugged)
        return -1;
    assert_true(len <= sizeof b->sent[0]);
    memcpy(b->sent[b->nsent], data, len);
    b->sent_len[b->nsent++] = len;
    return (int)len;
}

static int
fake_get(hid_device *dev, unsigned char *data, size_t len)
{
    struct board *b = (struct board *)dev;
    size_t n = strlen(b->id);

    assert_true(len >= 9);
    memset(data, 0, len);
    memcpy(data + 1, b->id, n);
    return n ? 9 : 1;
}

static void
fake_close(hid_device *dev)
{
    ((struct board *)dev)->closes++;
}

static const struct siren_hid_api fake_api = {
    fake_enumerate, fake_free_enumeration, fake_open_path, fake_send,
    fake_get, fake_close,
};

/* ---- Fixture ---- */

struct rig {
    struct siren_conf conf;
    struct siren_driver *d;
    char err[256];
};

static void
add_board(const char *path, const wchar_t *product, const wchar_t *serial,
          const char *id)
{
    struct board *b = &boards[nboards++];

    memset(b, 0, sizeof *b);
    b->path = path;
    b->product = product;
    b->serial = serial;
    b->id = id;
    b->plugged = true;
}

static int
setup(void **state)
{
    struct rig *r = calloc(1, sizeof *r);

    assert_non_null(r);
    siren_hid_api = fake_api;
    nboards = 0;
    enumerations = 0;
    r->conf.driver = "hidrelay";
    r->conf.channel = 1;
    *state = r;
    return 0;
}

static int
teardown(void **state)
{
    struct rig *r = *state;

    siren_driver_close(r->d);
    free(r);
    return 0;
}

static void
open_driver(struct rig *r)
{
    r->d = siren_driver_open(&r->conf, r->err, sizeof r->err);
    assert_non_null(r->d);
}

static void
expect_report(const struct board *b, int i, unsigned char cmd,
              unsigned char channel)
{
    const unsigned char want[9] = { 0x00, cmd, channel, 0, 0, 0, 0, 0, 0 };

    assert_true(b->nsent > i);
    assert_int_equal(b->sent_len[i], 9);
    assert_memory_equal(b->sent[i], want, 9);
}

/* ---- Reports ---- */

static void
test_on_sends_ff_and_the_channel(void **state)
{
    struct rig *r = *state;

    add_board("/dev/hidraw0", L"USBRelay2", NULL, "QWERT");
    open_driver(r);
    assert_int_equal(siren_driver_on(r->d, 1, r->err, sizeof r->err), 0);
    assert_int_equal(boards[0].nsent, 1);
    expect_report(&boards[0], 0, 0xFF, 1);
}

static void
test_off_sends_fd_and_the_channel(void **state)
{
    struct rig *r = *state;

    add_board("/dev/hidraw0", L"USBRelay2", NULL, "QWERT");
    open_driver(r);
    assert_int_equal(siren_driver_off(r->d, 2, r->err, sizeof r->err), 0);
    expect_report(&boards[0], 0, 0xFD, 2);
}

static void
test_channel_0_is_refused_and_nothing_sent(void **state)
{
    struct rig *r = *state;

    add_board("/dev/hidraw0", L"USBRelay2", NULL, "QWERT");
    open_driver(r);
    assert_int_equal(siren_driver_on(r->d, 0, r->err, sizeof r->err), -1);
    assert_string_equal(r->err, "hidrelay (first board): relay channel 0 "
                        "does not exist (they count from 1)");
    assert_int_equal(boards[0].nsent, 0);
}

/* ---- Choosing the board ---- */

static void
test_looks_for_the_relay_usb_id(void **state)
{
    struct rig *r = *state;

    add_board("/dev/hidraw0", L"USBRelay1", NULL, "QWERT");
    open_driver(r);
    assert_int_equal(asked_vendor, 0x16c0);
    assert_int_equal(asked_product, 0x05df);
}

static void
test_other_device_sharing_the_id_is_skipped(void **state)
{
    struct rig *r = *state;

    add_board("/dev/hidraw0", L"LED Matrix", NULL, "");
    add_board("/dev/hidraw1", NULL, NULL, "");
    add_board("/dev/hidraw2", L"USBRelay8", NULL, "ZZZZZ");
    open_driver(r);
    assert_int_equal(siren_driver_on(r->d, 1, r->err, sizeof r->err), 0);
    assert_int_equal(boards[0].opens, 0);
    assert_int_equal(boards[1].opens, 0);
    assert_int_equal(boards[2].nsent, 1);
}

static void
test_hidraw_path_opens_that_board(void **state)
{
    struct rig *r = *state;

    add_board("/dev/hidraw0", L"USBRelay2", NULL, "AAAAA");
    add_board("/dev/hidraw5", L"USBRelay2", NULL, "BBBBB");
    r->conf.device = "/dev/hidraw5";
    open_driver(r);
    assert_int_equal(siren_driver_on(r->d, 1, r->err, sizeof r->err), 0);
    assert_int_equal(enumerations, 0);
    assert_int_equal(boards[0].nsent, 0);
    assert_int_equal(boards[1].nsent, 1);
}

static void
test_board_id_picks_that_board(void **state)
{
    struct rig *r = *state;

    add_board("/dev/hidraw0", L"USBRelay2", NULL, "AAAAA");
    add_board("/dev/hidraw1", L"USBRelay2", NULL, "BBBBB");
    r->conf.device = "BBBBB";
    open_driver(r);
    assert_int_equal(siren_driver_on(r->d, 1, r->err, sizeof r->err), 0);
    assert_int_equal(boards[0].nsent, 0);
    assert_int_equal(boards[0].opens, boards[0].closes);
    assert_int_equal(boards[1].nsent, 1);
}

static void
test_usb_serial_string_picks_that_board(void **state)
{
    struct rig *r = *state;

    add_board("/dev/hidraw0", L"USBRelay2", L"0001", "AAAAA");
    add_board("/dev/hidraw1", L"USBRelay2", L"0002", "AAAAA");
    r->conf.device = "0002";
    open_driver(r);
    assert_int_equal(siren_driver_on(r->d, 1, r->err, sizeof r->err), 0);
    assert_int_equal(boards[1].nsent, 1);
}

static void
test_unknown_serial_is_an_error_and_nothing_stays_open(void **state)
{
    struct rig *r = *state;

    add_board("/dev/hidraw0", L"USBRelay2", NULL, "AAAAA");
    add_board("/dev/hidraw1", L"USBRelay2", NULL, "");
    r->conf.device = "QQQQQ";
    assert_null(siren_driver_open(&r->conf, r->err, sizeof r->err));
    assert_string_equal(r->err, "hidrelay QQQQQ: no such USB relay board, "
                        "or no permission to open it");
    assert_int_equal(boards[0].opens, boards[0].closes);
    assert_int_equal(boards[1].opens, boards[1].closes);
}

static void
test_serial_longer_than_an_id_matches_nothing(void **state)
{
    struct rig *r = *state;
    char serial[300];

    memset(serial, 'A', sizeof serial - 1);
    serial[sizeof serial - 1] = '\0';
    add_board("/dev/hidraw0", L"USBRelay2", L"A", "AAAAA");
    r->conf.device = serial;
    assert_null(siren_driver_open(&r->conf, r->err, sizeof r->err));
}

static void
test_no_board_is_an_error_naming_the_id(void **state)
{
    struct rig *r = *state;

    assert_null(siren_driver_open(&r->conf, r->err, sizeof r->err));
    assert_string_equal(r->err, "hidrelay: no USB relay board (16c0:05df "
                        "USBRelayN) found, or no permission to open it");
}

/* ---- Losing the board ---- */

static void
test_refused_report_is_an_error_and_closes_the_board(void **state)
{
    struct rig *r = *state;

    add_board("/dev/hidraw0", L"USBRelay2", NULL, "AAAAA");
    open_driver(r);
    boards[0].fail_send = true;
    assert_int_equal(siren_driver_on(r->d, 1, r->err, sizeof r->err), -1);
    assert_string_equal(r->err, "hidrelay (first board): cannot switch "
                        "relay 1 on: the board did not take the report "
                        "(unplugged?)");
    assert_int_equal(boards[0].closes, 1);
}

static void
test_board_plugged_back_in_works_again(void **state)
{
    struct rig *r = *state;

    add_board("/dev/hidraw0", L"USBRelay2", NULL, "AAAAA");
    open_driver(r);
    boards[0].plugged = false;
    assert_int_equal(siren_driver_on(r->d, 1, r->err, sizeof r->err), -1);
    assert_int_equal(siren_driver_on(r->d, 1, r->err, sizeof r->err), -1);
    assert_string_equal(r->err, "hidrelay: no USB relay board (16c0:05df "
                        "USBRelayN) found, or no permission to open it");
    boards[0].path = "/dev/hidraw7";
    boards[0].plugged = true;
    assert_int_equal(siren_driver_on(r->d, 1, r->err, sizeof r->err), 0);
    expect_report(&boards[0], 0, 0xFF, 1);
}

static void
test_close_closes_the_board(void **state)
{
    struct rig *r = *state;

    add_board("/dev/hidraw0", L"USBRelay2", NULL, "AAAAA");
    open_driver(r);
    siren_driver_close(r->d);
    r->d = NULL;
    assert_int_equal(boards[0].opens, 1);
    assert_int_equal(boards[0].closes, 1);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_on_sends_ff_and_the_channel),
        T(test_off_sends_fd_and_the_channel),
        T(test_channel_0_is_refused_and_nothing_sent),
        T(test_looks_for_the_relay_usb_id),
        T(test_other_device_sharing_the_id_is_skipped),
        T(test_hidraw_path_opens_that_board),
        T(test_board_id_picks_that_board),
        T(test_usb_serial_string_picks_that_board),
        T(test_unknown_serial_is_an_error_and_nothing_stays_open),
        T(test_serial_longer_than_an_id_matches_nothing),
        T(test_no_board_is_an_error_naming_the_id),
        T(test_refused_report_is_an_error_and_closes_the_board),
        T(test_board_plugged_back_in_works_again),
        T(test_close_closes_the_board),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
