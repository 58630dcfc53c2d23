/*
 * Backoff between delivery attempts: how long a failed push waits, how
 * far the wait grows, how jitter spreads it, and that a time the server
 * asked for is always honoured.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "notifiers/retry.h"

/* A random source that always gives *arg. */
static uint32_t
fixed(void *arg)
{
    return *(uint32_t *)arg;
}

/* A small deterministic generator for sweeping the whole range. */
static uint32_t
lcg(void *arg)
{
    uint32_t *s = arg;

    *s = *s * 1664525u + 1013904223u;
    return *s;
}

static void
ceiling_starts_at_five_seconds_and_doubles(void **state)
{
    (void)state;
    assert_int_equal(retry_ceiling_ms(1), 5000);
    assert_int_equal(retry_ceiling_ms(2), 10000);
    assert_int_equal(retry_ceiling_ms(3), 20000);
    assert_int_equal(retry_ceiling_ms(7), 320000);
}

static void
ceiling_stops_at_ten_minutes(void **state)
{
    (void)state;
    assert_int_equal(retry_ceiling_ms(8), 600000);
    assert_int_equal(retry_ceiling_ms(9), 600000);
    assert_int_equal(retry_ceiling_ms(1000), 600000);
    assert_int_equal(retry_ceiling_ms(UINT32_MAX), 600000);
}

static void
attempt_zero_counts_as_first(void **state)
{
    (void)state;
    assert_int_equal(retry_ceiling_ms(0), 5000);
}

static void
full_jitter_lowest_draw_waits_one_second(void **state)
{
    uint32_t r = 0;

    (void)state;
    assert_int_equal(retry_delay_ms(1, fixed, &r), 1000);
    assert_int_equal(retry_delay_ms(9, fixed, &r), 1000);
}

static void
full_jitter_highest_draw_waits_the_ceiling(void **state)
{
    uint32_t r = UINT32_MAX;

    (void)state;
    assert_int_equal(retry_delay_ms(1, fixed, &r), 5000);
    assert_int_equal(retry_delay_ms(4, fixed, &r), 40000);
    assert_int_equal(retry_delay_ms(20, fixed, &r), 600000);
}

static void
full_jitter_middle_draw_waits_half_way(void **state)
{
    uint32_t r = 0x80000000u;

    (void)state;
    /* [1000, 5000] holds 4001 values; half of them lie below 3000. */
    assert_int_equal(retry_delay_ms(1, fixed, &r), 3000);
}

static void
full_jitter_stays_within_bounds_for_every_attempt(void **state)
{
    uint32_t seed = 7;
    int64_t d;
    unsigned attempt;
    int i;

    (void)state;
    for (attempt = 1; attempt <= 20; attempt++) {
        for (i = 0; i < 1000; i++) {
            d = retry_delay_ms(attempt, lcg, &seed);
            assert_true(d >= RETRY_MIN_MS);
            assert_true(d <= retry_ceiling_ms(attempt));
        }
    }
}

static void
next_try_is_now_plus_delay_without_server_time(void **state)
{
    uint32_t hi = UINT32_MAX;

    (void)state;
    assert_int_equal(retry_at_ms(2, 1700000000000, 0, fixed,
                                 &hi), 1700000010000);
}

static void
next_try_waits_for_later_server_time(void **state)
{
    uint32_t hi = UINT32_MAX;

    (void)state;
    /* A 429 whose limit resets in an hour beats a 10 s backoff. */
    assert_int_equal(retry_at_ms(2, 1700000000000,
                                 1700003600000, fixed, &hi), 1700003600000);
}

static void
next_try_ignores_server_time_already_reached(void **state)
{
    uint32_t lo = 0;

    (void)state;
    assert_int_equal(retry_at_ms(1, 1700000000000,
                                 1700000000500, fixed, &lo), 1700000001000);
}

static void
system_random_source_varies(void **state)
{
    uint32_t first = retry_random(NULL);
    int i, same = 0;

    (void)state;
    for (i = 0; i < 8; i++)
        same += retry_random(NULL) == first;
    assert_true(same < 8);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ceiling_starts_at_five_seconds_and_doubles),
        cmocka_unit_test(ceiling_stops_at_ten_minutes),
        cmocka_unit_test(attempt_zero_counts_as_first),
        cmocka_unit_test(full_jitter_lowest_draw_waits_one_second),
        cmocka_unit_test(full_jitter_highest_draw_waits_the_ceiling),
        cmocka_unit_test(full_jitter_middle_draw_waits_half_way),
        cmocka_unit_test(full_jitter_stays_within_bounds_for_every_attempt),
        cmocka_unit_test(next_try_is_now_plus_delay_without_server_time),
        cmocka_unit_test(next_try_waits_for_later_server_time),
        cmocka_unit_test(next_try_ignores_server_time_already_reached),
        cmocka_unit_test(system_random_source_varies),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
