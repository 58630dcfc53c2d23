/*
 * Wall and monotonic clocks, with a settable wall clock for tests.
 */
#include "server/clock.h"

#include <stdatomic.h>

static _Atomic int64_t fake_ms;

int64_t
clock_now_ms(void)
{
    struct timespec ts;
    int64_t fake = atomic_load(&fake_ms);

    if (fake)
        return fake;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

time_t
clock_now(void)
{
    return (time_t)(clock_now_ms() / 1000);
}

int64_t
clock_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
clock_set_fake_ms(int64_t ms)
{
    atomic_store(&fake_ms, ms);
}
