/*
 * Deciding what an alert deserves: priority, who hears of it, whether
 * the siren sounds. The first configured rule that matches decides;
 * what it leaves unset comes from the built-in defaults for the source.
 */
#ifndef KLAXON_RULES_H
#define KLAXON_RULES_H

#include <jansson.h>
#include <stdbool.h>
#include <time.h>

#include "conf/config.h"
#include "server/alert.h"

struct decision {
    bool ignore;            /* nothing to deliver */
    int priority;           /* -2..2, Pushover's scale */
    bool siren;
    bool repeat;            /* deliver even an unchanged state again */
    const struct rule *rule;  /* the rule that matched; NULL: defaults */
    strv recipients;        /* names of people to push to (owned) */
    char note[192];         /* why someone wanted was left out, or "" */
};

/*
 * Decide for alert a at time now (seconds, UTC; office hours use the
 * process's local time zone, see rules_set_timezone). d is filled and
 * must be released with decision_free. Returns 0, or -1 on ENOMEM.
 */
int rules_decide(const struct config *cfg, const struct alert *a,
                 time_t now, struct decision *d);

void decision_free(struct decision *d);

/* The decision as JSON (new reference), as classify prints it. */
json_t *decision_to_json(const struct decision *d);

/* Make office hours use zone (NULL: UTC). Call before threads start. */
void rules_set_timezone(const char *zone);

#endif
