/*
 * Office hours: weekday sets and time-of-day ranges as written in the
 * config ("mon-fri", "09:00-17:30"), and whether a moment falls in them.
 */
#ifndef KLAXON_HOURS_H
#define KLAXON_HOURS_H

#include <stdbool.h>
#include <time.h>

#include "conf/config.h"

/* "mon-fri", "sat,sun", "mon-wed,fri" (case-insensitive) -> bit mask
   (bit 0 = Sunday). 0 on success, -1 on a malformed list. */
int hours_parse_days(const char *text, unsigned *days);

/* "09:00-17:30" -> minutes of the day; "22:00-07:00" wraps past
   midnight. 0 on success, -1 when malformed. */
int hours_parse_range(const char *text, int *from_min, int *to_min);

/*
 * Whether local time tm (already converted to the configured zone) lies
 * in h. A range that wraps past midnight belongs to the day it starts
 * on: "fri 22:00-07:00" includes Saturday 03:00.
 */
bool hours_contain(const struct rule_hours *h, const struct tm *tm);

#endif
