/*
 * The GPIO driver against a fake libgpiod: the chip it opens, lines
 * requested as outputs starting low, 1 for on and 0 for off, and the
 * reasons it gives when the chip or a line cannot be had.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "notifiers/siren_driver.h"

/* ---- A fake chip with 32 lines ---- */

#define NLINES 32

struct fake_line {
    int requests;
    int default_val;
    char consumer[32];
    int values[8];              /* every value set, in order */
    int nvalues;
    bool busy;                  /* someone else holds it */
    bool broken;                /* setting it fails */
    bool released;
};

static struct {
    char looked_up[64];
    bool closed;
    struct fake_line lines[NLINES];
} chip;

static struct gpiod_chip *
fake_open_lookup(const char *descr)
{
    snprintf(chip.looked_up, sizeof chip.looked_up, "%s", descr);
    if (strcmp(descr, "gpiochip0") != 0 &&
        strcmp(descr, "/dev/gpiochip0") != 0) {
        errno = ENOENT;
        return NULL;
    }
    return (struct gpiod_chip *)&chip;
}

static void
fake_chip_close(struct gpiod_chip *c)
{
    assert_ptr_equal(c, &chip);
    chip.closed = true;
}

static struct gpiod_line *
fake_get_line(struct gpiod_chip *c, unsigned int offset)
{
    assert_ptr_equal(c, &chip);
    if (offset >= NLINES) {
        errno = EINVAL;
        return NULL;
    }
    return (struct gpiod_line *)&chip.lines[offset];
}

static int
fake_request_output(struct gpiod_line *line, const char *consumer,
                    int default_val)
{
    struct fake_line *l = (struct fake_line *)line;

    if (l->busy) {
        errno = EBUSY;
        return -1;
    }
    l->requests++;
    l->default_val = default_val;
    snprintf(l->consumer, sizeof l->consumer, "%s", consumer);
    return 0;
}

static int
fake_set_value(struct gpiod_line *line, int value)
{
    struct fake_line *l = (struct fake_line *)line;

    assert_int_equal(l->requests, 1);
    if (l->broken) {
        errno = EIO;
        return -1;
    }
    if (l->nvalues < 8)
        l->values[l->nvalues++] = value;
    return 0;
}

static void
fake_release(struct gpiod_line *line)
{
    ((struct fake_line *)line)->released = true;
}

static const struct siren_gpiod_api fake_api = {
    fake_open_lookup, fake_chip_close, fake_get_line, fake_request_output,
    fake_set_value, fake_release,
};

/* ---- Fixture ---- */

struct rig {
    struct siren_conf conf;
    struct siren_driver *d;
    char err[256];
};

static int
setup(void **state)
{
    struct rig *r = calloc(1, sizeof *r);

    assert_non_null(r);
    memset(&chip, 0, sizeof chip);
    siren_gpiod_api = fake_api;
    r->conf.driver = "gpio";
    r->conf.device = "gpiochip0";
    r->conf.channel = 17;
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

static int
on(struct rig *r, int line)
{
    return siren_driver_on(r->d, line, r->err, sizeof r->err);
}

static int
off(struct rig *r, int line)
{
    return siren_driver_off(r->d, line, r->err, sizeof r->err);
}

/* ---- The chip ---- */

static void
test_chip_is_looked_up_by_the_configured_name(void **state)
{
    struct rig *r = *state;

    r->conf.device = "/dev/gpiochip0";
    open_driver(r);
    assert_string_equal(chip.looked_up, "/dev/gpiochip0");
}

static void
test_missing_chip_names_it_and_why(void **state)
{
    struct rig *r = *state;

    r->conf.device = "gpiochip9";
    assert_null(siren_driver_open(&r->conf, r->err, sizeof r->err));
    assert_string_equal(r->err, "gpio gpiochip9: cannot open the chip: "
                        "No such file or directory");
}

static void
test_no_device_configured_is_an_error(void **state)
{
    struct rig *r = *state;

    r->conf.device = NULL;
    assert_null(siren_driver_open(&r->conf, r->err, sizeof r->err));
    assert_string_equal(r->err, "gpio: no 'device' (gpiochip) configured");
}

static void
test_opening_touches_no_line(void **state)
{
    struct rig *r = *state;
    int i;

    open_driver(r);
    for (i = 0; i < NLINES; i++)
        assert_int_equal(chip.lines[i].requests, 0);
}

/* ---- Lines ---- */

static void
test_on_requests_the_line_as_output_low_then_sets_1(void **state)
{
    struct rig *r = *state;
    struct fake_line *l = &chip.lines[17];

    open_driver(r);
    assert_int_equal(on(r, 17), 0);
    assert_int_equal(l->requests, 1);
    assert_int_equal(l->default_val, 0);
    assert_string_equal(l->consumer, "klaxon");
    assert_int_equal(l->nvalues, 1);
    assert_int_equal(l->values[0], 1);
}

static void
test_off_sets_0(void **state)
{
    struct rig *r = *state;
    struct fake_line *l = &chip.lines[17];

    open_driver(r);
    assert_int_equal(off(r, 17), 0);
    assert_int_equal(l->nvalues, 1);
    assert_int_equal(l->values[0], 0);
}

static void
test_line_is_requested_once_and_held(void **state)
{
    struct rig *r = *state;
    struct fake_line *l = &chip.lines[17];

    open_driver(r);
    assert_int_equal(on(r, 17), 0);
    assert_int_equal(off(r, 17), 0);
    assert_int_equal(on(r, 17), 0);
    assert_int_equal(l->requests, 1);
    assert_int_equal(l->nvalues, 3);
    assert_memory_equal(l->values, ((int[]){ 1, 0, 1 }), 3 * sizeof(int));
    assert_false(l->released);
}

static void
test_two_lines_are_switched_separately(void **state)
{
    struct rig *r = *state;

    open_driver(r);
    assert_int_equal(on(r, 17), 0);
    assert_int_equal(on(r, 0), 0);
    assert_int_equal(off(r, 17), 0);
    assert_int_equal(chip.lines[0].nvalues, 1);
    assert_int_equal(chip.lines[0].values[0], 1);
    assert_int_equal(chip.lines[17].nvalues, 2);
    assert_int_equal(chip.lines[17].values[1], 0);
}

static void
test_busy_line_says_so(void **state)
{
    struct rig *r = *state;

    chip.lines[5].busy = true;
    open_driver(r);
    assert_int_equal(on(r, 5), -1);
    assert_string_equal(r->err, "gpio gpiochip0 line 5: cannot use it as an "
                        "output: Device or resource busy");
}

static void
test_busy_line_freed_later_works(void **state)
{
    struct rig *r = *state;

    chip.lines[5].busy = true;
    open_driver(r);
    assert_int_equal(on(r, 5), -1);
    chip.lines[5].busy = false;
    assert_int_equal(on(r, 5), 0);
    assert_int_equal(chip.lines[5].values[0], 1);
}

static void
test_line_the_chip_lacks_says_so(void **state)
{
    struct rig *r = *state;

    open_driver(r);
    assert_int_equal(on(r, 40), -1);
    assert_string_equal(r->err, "gpio gpiochip0 line 40: no such line: "
                        "Invalid argument");
}

static void
test_out_of_range_line_is_refused_before_the_library(void **state)
{
    struct rig *r = *state;

    open_driver(r);
    assert_int_equal(on(r, -1), -1);
    assert_string_equal(r->err, "gpio gpiochip0 line -1: no such line");
    assert_int_equal(on(r, 100000), -1);
    assert_string_equal(r->err, "gpio gpiochip0 line 100000: no such line");
}

static void
test_failed_set_says_which_value(void **state)
{
    struct rig *r = *state;

    chip.lines[3].broken = true;
    open_driver(r);
    assert_int_equal(on(r, 3), -1);
    assert_string_equal(r->err, "gpio gpiochip0 line 3: cannot set it to 1: "
                        "Input/output error");
}

static void
test_close_releases_lines_and_chip(void **state)
{
    struct rig *r = *state;

    open_driver(r);
    assert_int_equal(on(r, 17), 0);
    assert_int_equal(on(r, 4), 0);
    siren_driver_close(r->d);
    r->d = NULL;
    assert_true(chip.lines[17].released);
    assert_true(chip.lines[4].released);
    assert_false(chip.lines[5].released);
    assert_true(chip.closed);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_chip_is_looked_up_by_the_configured_name),
        T(test_missing_chip_names_it_and_why),
        T(test_no_device_configured_is_an_error),
        T(test_opening_touches_no_line),
        T(test_on_requests_the_line_as_output_low_then_sets_1),
        T(test_off_sets_0),
        T(test_line_is_requested_once_and_held),
        T(test_two_lines_are_switched_separately),
        T(test_busy_line_says_so),
        T(test_busy_line_freed_later_works),
        T(test_line_the_chip_lacks_says_so),
        T(test_out_of_range_line_is_refused_before_the_library),
        T(test_failed_set_says_which_value),
        T(test_close_releases_lines_and_chip),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
