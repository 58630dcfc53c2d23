/*
 * The one clock of the program. Backoff, office hours, rate limits and
 * siren durations all read it, so tests can set the time.
 */
#ifndef KLAXON_CLOCK_H
#define KLAXON_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Wall-clock time in milliseconds since the epoch (UTC). */
int64_t clock_now_ms(void);

/* Wall-clock time in seconds since the epoch (UTC). */
time_t clock_now(void);

/* Monotonic milliseconds, for measuring durations. Not settable. */
int64_t clock_mono_ms(void);

/* Tests: freeze the wall clock at ms (0 returns to the real clock). */
void clock_set_fake_ms(int64_t ms);

#endif
