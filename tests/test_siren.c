/*
 * The siren controller against a recording driver and the settable
 * clock: when the hardware is switched on and off, which channel stays
 * off in quiet hours, and that a failing device is neither hammered nor
 * allowed to stop anything.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "notifiers/siren.h"
#include "notifiers/siren_driver.h"
#include "server/clock.h"
#include "server/metrics.h"
#include "tests/support/testutil.h"

/* Tuesday 14 November 2023, 22:13:20 UTC. */
#define T0 INT64_C(1700000000000)
/* Wednesday 15 November 2023, 00:00 UTC. */
#define MIDNIGHT INT64_C(1700006400000)
#define MINUTE INT64_C(60000)
#define HOUR (60 * MINUTE)

/* ---- A driver that records what it is told ---- */

/* What the fake driver did and will do; outlives the driver. */
struct record {
    char log[64][16];           /* "on 1", "off 2", ... */
    int n;
    int seen;                   /* entries already returned by switched() */
    bool fail_on;               /* switching on fails */
    bool fail_off;              /* switching off fails */
    bool closed;
};

struct fake {
    struct siren_driver base;
    struct record *rec;
};

static int
fake_record(struct siren_driver *d, const char *what, int channel,
            bool fail, char *err, size_t errlen)
{
    struct record *rec = ((struct fake *)d)->rec;

    if (rec->n < 64)
        snprintf(rec->log[rec->n++], sizeof rec->log[0], "%s %d", what,
                 channel);
    if (fail) {
        snprintf(err, errlen, "fake: relay %d: unplugged", channel);
        return -1;
    }
    return 0;
}

static int
fake_on(struct siren_driver *d, int channel, char *err, size_t errlen)
{
    return fake_record(d, "on", channel, ((struct fake *)d)->rec->fail_on,
                       err, errlen);
}

static int
fake_off(struct siren_driver *d, int channel, char *err, size_t errlen)
{
    return fake_record(d, "off", channel,
                       ((struct fake *)d)->rec->fail_off, err, errlen);
}

static void
fake_close(struct siren_driver *d)
{
    ((struct fake *)d)->rec->closed = true;
    free(d);
}

static const struct siren_driver_ops fake_ops = {
    "fake", fake_on, fake_off, fake_close,
};

static struct siren_driver *
fake_new(struct record *rec)
{
    struct fake *f = calloc(1, sizeof *f);

    assert_non_null(f);
    f->base.ops = &fake_ops;
    f->rec = rec;
    snprintf(f->base.what, sizeof f->base.what, "fake");
    return &f->base;
}

/* ---- Fixture ---- */

struct rig {
    struct siren_conf conf;
    struct record rec;
    struct siren *s;
};

static void
rig_open(struct rig *r)
{
    char err[256] = "";

    r->s = siren_open_driver(&r->conf, fake_new(&r->rec), err, sizeof err);
    assert_non_null(r->s);
    assert_string_equal(err, "");
}

static int
setup(void **state)
{
    struct rig *r = calloc(1, sizeof *r);

    assert_non_null(r);
    r->conf.driver = "fake";
    r->conf.duration = 60;
    r->conf.channel = 1;
    clock_set_fake_ms(T0);
    *state = r;
    return 0;
}

static int
teardown(void **state)
{
    struct rig *r = *state;

    siren_close(r->s);
    clock_set_fake_ms(0);
    free(r);
    return 0;
}

/* The switches made since the last call, comma-separated, once the
   controller has caught up (s may be closed already: NULL). */
static const char *
switched(struct rig *r)
{
    static char out[512];
    size_t len = 0;

    siren_sync(r->s);
    out[0] = '\0';
    for (; r->rec.seen < r->rec.n; r->rec.seen++)
        len += snprintf(out + len, sizeof out - len, "%s%s",
                        len ? ", " : "", r->rec.log[r->rec.seen]);
    return out;
}

/* ---- Opening and closing ---- */

static void
test_open_switches_every_channel_off_sound_first(void **state)
{
    struct rig *r = *state;

    r->conf.sound_channel = 2;
    rig_open(r);
    assert_string_equal(switched(r), "off 2, off 1");
    assert_false(siren_is_on(r->s));
}

static void
test_open_fails_when_the_first_off_fails(void **state)
{
    struct rig *r = *state;
    char err[256] = "";

    r->rec.fail_off = true;
    assert_null(siren_open_driver(&r->conf, fake_new(&r->rec), err,
                                  sizeof err));
    assert_string_equal(err, "fake: relay 1: unplugged");
    assert_true(r->rec.closed);
}

static void
test_open_none_driver_keeps_state_only(void **state)
{
    struct rig *r = *state;
    char err[256] = "";

    r->conf.driver = "none";
    r->s = siren_open(&r->conf, err, sizeof err);
    assert_non_null(r->s);
    siren_raise(r->s, "pingdom:1");
    assert_true(siren_is_on(r->s));
}

static void
test_open_unknown_driver_names_it(void **state)
{
    struct rig *r = *state;
    char err[256] = "";

    r->conf.driver = "klaxophone";
    assert_null(siren_open(&r->conf, err, sizeof err));
    assert_string_equal(err, "siren: unknown driver 'klaxophone'");
}

static void
test_open_serial_without_device_names_the_device(void **state)
{
    struct rig *r = *state;
    char err[256] = "";

    r->conf.driver = "serial";
    r->conf.device = "/nonexistent/ttyUSB0";
    assert_null(siren_open(&r->conf, err, sizeof err));
    assert_string_equal(err, "serial /nonexistent/ttyUSB0: cannot open: "
                        "No such file or directory");
}

static void
test_close_switches_off_what_is_on(void **state)
{
    struct rig *r = *state;

    r->conf.sound_channel = 2;
    rig_open(r);
    siren_raise(r->s, "pingdom:1");
    assert_string_equal(switched(r), "off 2, off 1, on 1, on 2");
    siren_close(r->s);
    r->s = NULL;
    assert_string_equal(switched(r), "off 2, off 1");
    assert_true(r->rec.closed);
}

static void
test_close_switches_off_even_when_believed_off(void **state)
{
    struct rig *r = *state;

    rig_open(r);
    switched(r);
    siren_close(r->s);
    r->s = NULL;
    assert_string_equal(switched(r), "off 1");
}

static void
test_null_siren_is_harmless(void **state)
{
    (void)state;
    siren_raise(NULL, "pingdom:1");
    siren_clear(NULL, "pingdom:1");
    siren_silence(NULL);
    siren_sync(NULL);
    assert_false(siren_is_on(NULL));
    siren_close(NULL);
}

/* ---- Raise, duration, clear ---- */

static void
test_raise_switches_on(void **state)
{
    struct rig *r = *state;

    rig_open(r);
    switched(r);
    siren_raise(r->s, "pingdom:1");
    assert_true(siren_is_on(r->s));
    assert_string_equal(switched(r), "on 1");
}

static void
test_second_raise_switches_nothing_again(void **state)
{
    struct rig *r = *state;

    rig_open(r);
    switched(r);
    siren_raise(r->s, "pingdom:1");
    siren_raise(r->s, "newrelic:9");
    siren_raise(r->s, "pingdom:1");
    assert_string_equal(switched(r), "on 1");
}

static void
test_duration_passed_switches_off(void **state)
{
    struct rig *r = *state;

    rig_open(r);
    switched(r);
    siren_raise(r->s, "pingdom:1");
    clock_set_fake_ms(T0 + 60000 - 1);
    assert_string_equal(switched(r), "on 1");
    assert_true(siren_is_on(r->s));
    clock_set_fake_ms(T0 + 60000);
    assert_string_equal(switched(r), "off 1");
    assert_false(siren_is_on(r->s));
}

static void
test_raise_again_counts_duration_from_then(void **state)
{
    struct rig *r = *state;

    rig_open(r);
    switched(r);
    siren_raise(r->s, "pingdom:1");
    clock_set_fake_ms(T0 + 30000);
    siren_raise(r->s, "pingdom:1");
    clock_set_fake_ms(T0 + 60000);
    assert_string_equal(switched(r), "on 1");
    clock_set_fake_ms(T0 + 90000);
    assert_string_equal(switched(r), "off 1");
}

static void
test_raise_after_duration_sounds_again(void **state)
{
    struct rig *r = *state;

    rig_open(r);
    switched(r);
    siren_raise(r->s, "pingdom:1");
    assert_string_equal(switched(r), "on 1");
    clock_set_fake_ms(T0 + 61000);
    assert_string_equal(switched(r), "off 1");
    siren_raise(r->s, "pingdom:1");
    assert_string_equal(switched(r), "on 1");
}

static void
test_clear_of_last_key_switches_off(void **state)
{
    struct rig *r = *state;

    rig_open(r);
    switched(r);
    siren_raise(r->s, "pingdom:1");
    switched(r);
    siren_clear(r->s, "pingdom:1");
    assert_false(siren_is_on(r->s));
    assert_string_equal(switched(r), "off 1");
}

static void
test_clear_of_one_of_two_keys_stays_on(void **state)
{
    struct rig *r = *state;

    rig_open(r);
    switched(r);
    siren_raise(r->s, "pingdom:1");
    siren_raise(r->s, "newrelic:9");
    switched(r);
    siren_clear(r->s, "pingdom:1");
    assert_true(siren_is_on(r->s));
    assert_string_equal(switched(r), "");
}

static void
test_clear_leaves_other_key_to_its_own_duration(void **state)
{
    struct rig *r = *state;

    rig_open(r);
    switched(r);
    siren_raise(r->s, "pingdom:1");
    clock_set_fake_ms(T0 + 30000);
    siren_raise(r->s, "newrelic:9");
    assert_string_equal(switched(r), "on 1");
    clock_set_fake_ms(T0 + 70000);
    siren_clear(r->s, "newrelic:9");
    assert_false(siren_is_on(r->s));
    assert_string_equal(switched(r), "off 1");
}

static void
test_clear_of_unknown_key_changes_nothing(void **state)
{
    struct rig *r = *state;

    rig_open(r);
    switched(r);
    siren_raise(r->s, "pingdom:1");
    siren_clear(r->s, "pingdom:2");
    siren_clear(r->s, "");
    assert_true(siren_is_on(r->s));
    assert_string_equal(switched(r), "on 1");
}

/* ---- Silence ---- */

static void
test_silence_switches_off_with_two_alerts_on(void **state)
{
    struct rig *r = *state;

    rig_open(r);
    switched(r);
    siren_raise(r->s, "pingdom:1");
    siren_raise(r->s, "newrelic:9");
    switched(r);
    siren_silence(r->s);
    assert_false(siren_is_on(r->s));
    assert_string_equal(switched(r), "off 1");
}

static void
test_silenced_alert_raised_again_stays_silent(void **state)
{
    struct rig *r = *state;

    rig_open(r);
    siren_raise(r->s, "pingdom:1");
    siren_silence(r->s);
    switched(r);
    clock_set_fake_ms(T0 + 5000);
    siren_raise(r->s, "pingdom:1");
    assert_false(siren_is_on(r->s));
    assert_string_equal(switched(r), "");
}

static void
test_new_alert_after_silence_sounds(void **state)
{
    struct rig *r = *state;

    rig_open(r);
    siren_raise(r->s, "pingdom:1");
    siren_silence(r->s);
    switched(r);
    siren_raise(r->s, "pingdom:2");
    assert_true(siren_is_on(r->s));
    assert_string_equal(switched(r), "on 1");
}

static void
test_silenced_alert_cleared_then_raised_sounds(void **state)
{
    struct rig *r = *state;

    rig_open(r);
    siren_raise(r->s, "pingdom:1");
    siren_silence(r->s);
    siren_clear(r->s, "pingdom:1");
    switched(r);
    siren_raise(r->s, "pingdom:1");
    assert_string_equal(switched(r), "on 1");
}

static void
test_silence_when_off_switches_nothing(void **state)
{
    struct rig *r = *state;

    rig_open(r);
    switched(r);
    siren_silence(r->s);
    assert_string_equal(switched(r), "");
}

/* ---- Quiet hours ---- */

static void
quiet_rig(struct rig *r)
{
    assert_int_equal(setenv("TZ", "UTC", 1), 0);
    tzset();
    r->conf.sound_channel = 2;
    r->conf.duration = 3 * 3600;
    r->conf.has_quiet_hours = true;
    r->conf.quiet_hours.from_min = 22 * 60;
    r->conf.quiet_hours.to_min = 7 * 60;
    rig_open(r);
    switched(r);
}

static void
test_quiet_hours_keep_sound_off_light_on(void **state)
{
    struct rig *r = *state;

    clock_set_fake_ms(MIDNIGHT + 3 * HOUR);
    quiet_rig(r);
    siren_raise(r->s, "pingdom:1");
    assert_true(siren_is_on(r->s));
    assert_string_equal(switched(r), "on 1");
}

static void
test_outside_quiet_hours_sound_and_light_on(void **state)
{
    struct rig *r = *state;

    clock_set_fake_ms(MIDNIGHT + 7 * HOUR);
    quiet_rig(r);
    siren_raise(r->s, "pingdom:1");
    assert_string_equal(switched(r), "on 1, on 2");
}

static void
test_quiet_hours_ending_switches_sound_on(void **state)
{
    struct rig *r = *state;

    clock_set_fake_ms(MIDNIGHT + 7 * HOUR - MINUTE);
    quiet_rig(r);
    siren_raise(r->s, "pingdom:1");
    assert_string_equal(switched(r), "on 1");
    clock_set_fake_ms(MIDNIGHT + 7 * HOUR);
    assert_string_equal(switched(r), "on 2");
}

static void
test_quiet_hours_starting_switches_sound_off(void **state)
{
    struct rig *r = *state;

    clock_set_fake_ms(MIDNIGHT - 2 * HOUR - MINUTE);
    quiet_rig(r);
    siren_raise(r->s, "pingdom:1");
    assert_string_equal(switched(r), "on 1, on 2");
    clock_set_fake_ms(MIDNIGHT - 2 * HOUR);
    assert_string_equal(switched(r), "off 2");
    assert_true(siren_is_on(r->s));
}

static void
test_quiet_days_limit_quiet_hours(void **state)
{
    struct rig *r = *state;

    /* Tuesday 23:00 with quiet nights starting on weekends only. */
    clock_set_fake_ms(MIDNIGHT - HOUR);
    r->conf.quiet_hours.days = (1u << 0) | (1u << 6);
    quiet_rig(r);
    siren_raise(r->s, "pingdom:1");
    assert_string_equal(switched(r), "on 1, on 2");
}

static void
test_sound_on_light_channel_means_silence_in_quiet_hours(void **state)
{
    struct rig *r = *state;

    clock_set_fake_ms(MIDNIGHT + HOUR);
    assert_int_equal(setenv("TZ", "UTC", 1), 0);
    tzset();
    r->conf.sound_channel = 1;
    r->conf.has_quiet_hours = true;
    r->conf.quiet_hours.from_min = 22 * 60;
    r->conf.quiet_hours.to_min = 7 * 60;
    rig_open(r);
    assert_string_equal(switched(r), "off 1");
    siren_raise(r->s, "pingdom:1");
    assert_true(siren_is_on(r->s));
    assert_string_equal(switched(r), "");
}

/* ---- Failing hardware ---- */

/* Run fn with stderr going to a file; returns what was written. */
static char *
capture_stderr(void (*fn)(struct rig *), struct rig *r)
{
    char *dir = test_tempdir(), path[512], *text;
    int saved = dup(STDERR_FILENO);
    FILE *f;

    snprintf(path, sizeof path, "%s/stderr", dir);
    assert_non_null(f = fopen(path, "w"));
    dup2(fileno(f), STDERR_FILENO);
    fn(r);
    dup2(saved, STDERR_FILENO);
    close(saved);
    fclose(f);
    text = test_read_file(path, NULL);
    test_rmtree(dir);
    free(dir);
    return text;
}

static void
fail_while_on(struct rig *r)
{
    int i;

    siren_raise(r->s, "pingdom:1");
    for (i = 1; i <= 5; i++) {
        clock_set_fake_ms(T0 + i * 1000);
        switched(r);
    }
}

static void
test_failed_on_is_logged_once_and_not_retried(void **state)
{
    struct rig *r = *state;
    char *text;

    rig_open(r);
    switched(r);
    r->rec.fail_on = true;
    text = capture_stderr(fail_while_on, r);
    assert_string_equal(text, "info siren: on: alert \"pingdom:1\" raised "
                        "it\nwarn siren: fake: relay 1: unplugged\n");
    assert_int_equal(r->rec.n, 2);
    assert_true(siren_is_on(r->s));
    free(text);
}

static void
test_failed_on_is_tried_again_at_next_raise(void **state)
{
    struct rig *r = *state;

    rig_open(r);
    switched(r);
    r->rec.fail_on = true;
    free(capture_stderr(fail_while_on, r));
    r->rec.fail_on = false;
    siren_raise(r->s, "pingdom:2");
    assert_string_equal(switched(r), "on 1");
}

static void
test_failed_on_then_clear_switches_off(void **state)
{
    struct rig *r = *state;

    rig_open(r);
    switched(r);
    r->rec.fail_on = true;
    free(capture_stderr(fail_while_on, r));
    siren_clear(r->s, "pingdom:1");
    assert_false(siren_is_on(r->s));
    assert_string_equal(switched(r), "off 1");
}

/* ---- What else a user sees ---- */

static char *
metrics_text(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    assert_non_null(f);
    metrics_write(f);
    fclose(f);
    return text;
}

static void
test_metrics_follow_the_siren(void **state)
{
    struct rig *r = *state;
    char *text;

    rig_open(r);
    siren_raise(r->s, "pingdom:1");
    text = metrics_text();
    assert_non_null(strstr(text, "\nklaxon_siren_on 1\n"));
    free(text);
    clock_set_fake_ms(T0 + 60000);
    switched(r);
    text = metrics_text();
    assert_non_null(strstr(text, "\nklaxon_siren_on 0\n"));
    free(text);
}

static void
raise_hostile(struct rig *r)
{
    siren_raise(r->s, "pingdom:\x1b[2J\n\"\xff\xfe");
}

static void
test_hostile_key_is_quoted_in_the_log(void **state)
{
    struct rig *r = *state;
    char *text;

    rig_open(r);
    text = capture_stderr(raise_hostile, r);
    assert_string_equal(text, "info siren: on: alert \"pingdom:?[2J??"
                        "\xff\xfe\" raised it\n");
    free(text);
    siren_clear(r->s, "pingdom:\x1b[2J\n\"\xff\xfe");
    assert_false(siren_is_on(r->s));
}

static void
test_huge_key_raises_and_clears(void **state)
{
    struct rig *r = *state;
    char *key = malloc(100001);

    assert_non_null(key);
    memset(key, 'k', 100000);
    key[100000] = '\0';
    rig_open(r);
    switched(r);
    siren_raise(r->s, key);
    key[99999] = 'j';
    siren_clear(r->s, key);
    assert_true(siren_is_on(r->s));
    key[99999] = 'k';
    siren_clear(r->s, key);
    assert_false(siren_is_on(r->s));
    free(key);
}

static void
test_keys_differing_in_case_are_different_alerts(void **state)
{
    struct rig *r = *state;

    rig_open(r);
    siren_raise(r->s, "generic:Web");
    siren_clear(r->s, "generic:web");
    assert_true(siren_is_on(r->s));
}

static void
test_thousands_of_alerts_clear_to_off(void **state)
{
    struct rig *r = *state;
    char key[32];
    int i;

    rig_open(r);
    switched(r);
    for (i = 0; i < 3000; i++) {
        snprintf(key, sizeof key, "generic:%d", i);
        siren_raise(r->s, key);
    }
    assert_true(siren_is_on(r->s));
    assert_string_equal(switched(r), "on 1");
    for (i = 0; i < 2999; i++) {
        snprintf(key, sizeof key, "generic:%d", i);
        siren_clear(r->s, key);
    }
    assert_true(siren_is_on(r->s));
    assert_string_equal(switched(r), "");
    siren_clear(r->s, "generic:2999");
    assert_false(siren_is_on(r->s));
    assert_string_equal(switched(r), "off 1");
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_open_switches_every_channel_off_sound_first),
        T(test_open_fails_when_the_first_off_fails),
        T(test_open_none_driver_keeps_state_only),
        T(test_open_unknown_driver_names_it),
        T(test_open_serial_without_device_names_the_device),
        T(test_close_switches_off_what_is_on),
        T(test_close_switches_off_even_when_believed_off),
        T(test_null_siren_is_harmless),
        T(test_raise_switches_on),
        T(test_second_raise_switches_nothing_again),
        T(test_duration_passed_switches_off),
        T(test_raise_again_counts_duration_from_then),
        T(test_raise_after_duration_sounds_again),
        T(test_clear_of_last_key_switches_off),
        T(test_clear_of_one_of_two_keys_stays_on),
        T(test_clear_leaves_other_key_to_its_own_duration),
        T(test_clear_of_unknown_key_changes_nothing),
        T(test_silence_switches_off_with_two_alerts_on),
        T(test_silenced_alert_raised_again_stays_silent),
        T(test_new_alert_after_silence_sounds),
        T(test_silenced_alert_cleared_then_raised_sounds),
        T(test_silence_when_off_switches_nothing),
        T(test_quiet_hours_keep_sound_off_light_on),
        T(test_outside_quiet_hours_sound_and_light_on),
        T(test_quiet_hours_ending_switches_sound_on),
        T(test_quiet_hours_starting_switches_sound_off),
        T(test_quiet_days_limit_quiet_hours),
        T(test_sound_on_light_channel_means_silence_in_quiet_hours),
        T(test_failed_on_is_logged_once_and_not_retried),
        T(test_failed_on_is_tried_again_at_next_raise),
        T(test_failed_on_then_clear_switches_off),
        T(test_metrics_follow_the_siren),
        T(test_hostile_key_is_quoted_in_the_log),
        T(test_huge_key_raises_and_clears),
        T(test_keys_differing_in_case_are_different_alerts),
        T(test_thousands_of_alerts_clear_to_off),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
