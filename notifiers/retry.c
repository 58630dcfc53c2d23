/*
 * Backoff with jitter for deliveries that failed for a passing reason.
 */
#include "notifiers/retry.h"

#include <stdlib.h>

uint32_t
retry_random(void *arg)
{
    (void)arg;
    return arc4random();
}

int64_t
retry_ceiling_ms(unsigned attempt)
{
    int64_t ceiling = RETRY_BASE_MS;

    if (attempt == 0)
        attempt = 1;
    while (--attempt > 0 && ceiling < RETRY_CAP_MS)
        ceiling *= 2;
    return ceiling < RETRY_CAP_MS ? ceiling : RETRY_CAP_MS;
}

/* A uniform draw in [lo, hi] from 32 random bits. */
static int64_t
uniform(int64_t lo, int64_t hi, retry_random_fn rnd, void *arg)
{
    uint64_t span = (uint64_t)(hi - lo) + 1;

    if (hi <= lo)
        return lo;
    /* span stays far below 2^32, so the product cannot overflow and the
       bias of scaling is below one part in a thousand. */
    return lo + (int64_t)(((uint64_t)rnd(arg) * span) >> 32);
}

int64_t
retry_delay_ms(unsigned attempt, retry_random_fn rnd, void *arg)
{
    return uniform(RETRY_MIN_MS, retry_ceiling_ms(attempt), rnd, arg);
}

int64_t
retry_at_ms(unsigned attempt, int64_t now_ms, int64_t not_before_ms,
            retry_random_fn rnd, void *arg)
{
    int64_t at = now_ms + retry_delay_ms(attempt, rnd, arg);

    return at > not_before_ms ? at : not_before_ms;
}
