/*
 * The normalized alert: what every source handler turns its payload into,
 * and what rules, the journal and the notifiers work on.
 */
#ifndef KLAXON_ALERT_H
#define KLAXON_ALERT_H

#include <jansson.h>
#include <stdbool.h>
#include <time.h>

enum source {
    SOURCE_PINGDOM,
    SOURCE_NEWRELIC,
    SOURCE_SIRPORTLY,
    SOURCE_HASHGATE,
    SOURCE_GENERIC,
    SOURCE_COUNT
};

enum alert_state {
    ALERT_FIRING,
    ALERT_RESOLVED,
    ALERT_INFO,
    ALERT_ACKNOWLEDGED,  /* seen by a person at the sender; not resolved */
    ALERT_STATE_COUNT
};

/* Severities, mildest last. Sources map their own scales onto these. */
enum severity {
    SEVERITY_CRITICAL,
    SEVERITY_HIGH,
    SEVERITY_WARNING,
    SEVERITY_MEDIUM,
    SEVERITY_LOW,
    SEVERITY_INFO,
    SEVERITY_COUNT
};

#define ALERT_NO_PRIORITY (-100)

/*
 * Every string is owned by the alert (malloc'd, NUL-terminated UTF-8) and
 * freed by alert_free(); NULL means absent. tags is an owned array of
 * strings, never NULL after alert_init().
 */
struct alert {
    enum source source;
    char *key;              /* dedup key, unique within the source */
    enum alert_state state;
    enum severity severity;
    char *title;
    char *message;
    char *url;
    char *url_title;
    json_t *tags;
    time_t time;            /* when it happened at the sender, UTC */
    int priority;           /* sender's own priority, or ALERT_NO_PRIORITY */
    char *assignee;         /* person the sender assigned it to (username) */
    char *kind;             /* source-specific event kind, e.g. "assigned" */
    char *revision;         /* what the alert says now: in the same state,
                               a new revision is news, the same one a
                               duplicate; NULL: the state alone counts */
    bool malicious;         /* scanner: VirusTotal flagged a file */
};

void alert_init(struct alert *a, enum source source);
void alert_free(struct alert *a);

/* Replace *field with a copy of value (NULL clears it). 0 or -1 (ENOMEM). */
int alert_set(char **field, const char *value);
/* Like alert_set but printf-formatted. */
int alert_setf(char **field, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Tags kept per alert; more are dropped (rules match a few). */
#define ALERT_MAX_TAGS 64

/* Append a copy of tag to a->tags, unless it already has ALERT_MAX_TAGS
   (then the tag is dropped and 0 returned). */
int alert_add_tag(struct alert *a, const char *tag);

/*
 * Cut title, message, url and url_title to what a phone shows (the
 * Pushover limits, in characters). Every sender's alert goes through
 * this before it is stored, so a huge payload cannot make the journal,
 * the board or the API large. The raw payload is kept in full.
 */
int alert_clip(struct alert *a);
bool alert_has_tag(const struct alert *a, const char *tag);

/* The alert as a JSON object (new reference), for classify and the API. */
json_t *alert_to_json(const struct alert *a);

const char *source_name(enum source s);
int source_from_name(const char *name);          /* -1 if unknown */
const char *alert_state_name(enum alert_state s);
int alert_state_from_name(const char *name);     /* -1 if unknown */
const char *severity_name(enum severity s);
int severity_from_name(const char *name);        /* -1 if unknown */

#endif
