/*
 * When to try a failed delivery again: exponential backoff with random
 * jitter, so that a burst of alerts that all failed at the same moment
 * (Pushover down, the network blipping) does not come back as a burst,
 * and never earlier than the server asked for.
 *
 * The numbers: the ceiling is RETRY_BASE_MS (5 s) for the first retry
 * and doubles with each attempt (5, 10, 20, 40, 80, 160, 320 s) up to
 * RETRY_CAP_MS (10 min) from the eighth attempt on; the delay is a
 * uniform draw between RETRY_MIN_MS (1 s, so a retry is never
 * immediate) and that ceiling ("full jitter"). The average wait at the
 * cap is 5 minutes: about 18 tries in the first hour of an outage, then
 * about 12 an hour.
 *
 * The random source is passed in so that tests are deterministic.
 */
#ifndef KLAXON_RETRY_H
#define KLAXON_RETRY_H

#include <stdint.h>

#define RETRY_MIN_MS  1000
#define RETRY_BASE_MS 5000
#define RETRY_CAP_MS  600000

/* Uniformly distributed 32 random bits. */
typedef uint32_t (*retry_random_fn)(void *arg);

/* A retry_random_fn backed by the system's CSPRNG; arg is unused. */
uint32_t retry_random(void *arg);

/*
 * Ceiling of the delay before retry number attempt (1 for the first
 * retry after the first failure): RETRY_BASE_MS * 2^(attempt - 1),
 * at most RETRY_CAP_MS. attempt 0 is taken as 1.
 */
int64_t retry_ceiling_ms(unsigned attempt);

/* The delay in milliseconds before retry number attempt; rnd is called
   once. */
int64_t retry_delay_ms(unsigned attempt, retry_random_fn rnd, void *arg);

/*
 * The wall-clock time (ms since the epoch) of the next try: now_ms plus
 * retry_delay_ms(), but never earlier than not_before_ms, the earliest
 * time the server gave (Retry-After, rate-limit reset; 0 for none).
 * The server's time is obeyed however far ahead it is; whether to wait
 * that long or give up is the caller's decision.
 */
int64_t retry_at_ms(unsigned attempt, int64_t now_ms,
                    int64_t not_before_ms, retry_random_fn rnd, void *arg);

#endif
