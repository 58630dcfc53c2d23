/*
 * Office hours: parsing weekday lists and time ranges, and matching.
 */
#include "conf/hours.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const day_names[7] = {
    "sun", "mon", "tue", "wed", "thu", "fri", "sat",
};

static int
day_index(const char *s, size_t len)
{
    int i;

    if (len != 3)
        return -1;
    for (i = 0; i < 7; i++) {
        if (strncasecmp(s, day_names[i], 3) == 0)
            return i;
    }
    return -1;
}

/* One item of a day list: "mon" or "mon-fri" (may wrap: "fri-mon"). */
static int
parse_day_item(const char *s, size_t len, unsigned *days)
{
    const char *dash = memchr(s, '-', len);
    int from, to, d;

    if (!dash) {
        if ((from = day_index(s, len)) < 0)
            return -1;
        *days |= 1u << from;
        return 0;
    }
    from = day_index(s, dash - s);
    to = day_index(dash + 1, len - (dash - s) - 1);
    if (from < 0 || to < 0)
        return -1;
    for (d = from;; d = (d + 1) % 7) {
        *days |= 1u << d;
        if (d == to)
            break;
    }
    return 0;
}

int
hours_parse_days(const char *text, unsigned *days)
{
    const char *p = text, *end;

    *days = 0;
    if (!*text)
        return -1;
    for (;;) {
        end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        while (*p == ' ')
            p++;
        if (parse_day_item(p, end - p, days) < 0)
            return -1;
        if (!*end)
            return 0;
        p = end + 1;
    }
}

static int
parse_clock(const char *s, int *minutes)
{
    int h, m, n = 0;

    if (sscanf(s, "%2d:%2d%n", &h, &m, &n) != 2 || n != 5)
        return -1;
    if (h < 0 || h > 24 || m < 0 || m > 59 || (h == 24 && m != 0))
        return -1;
    *minutes = h * 60 + m;
    return 0;
}

int
hours_parse_range(const char *text, int *from_min, int *to_min)
{
    if (strlen(text) != 11 || text[5] != '-')
        return -1;
    if (parse_clock(text, from_min) < 0 || parse_clock(text + 6, to_min) < 0)
        return -1;
    return *from_min == *to_min ? -1 : 0;
}

bool
hours_contain(const struct rule_hours *h, const struct tm *tm)
{
    int now = tm->tm_hour * 60 + tm->tm_min;
    int yesterday = (tm->tm_wday + 6) % 7;
    unsigned days = h->days ? h->days : 0x7f;

    if (h->from_min < h->to_min)
        return (days & (1u << tm->tm_wday)) &&
               now >= h->from_min && now < h->to_min;

    /* Wrapping range: the evening part belongs to today, the early
       morning part to the day before. */
    if (now >= h->from_min)
        return days & (1u << tm->tm_wday);
    if (now < h->to_min)
        return days & (1u << yesterday);
    return false;
}
