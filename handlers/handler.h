/*
 * Source handlers: each turns one sender's payload into a normalized
 * alert. They are pure functions of the decoded payload: no I/O, no
 * clock except as a fallback for a missing event time, no global state.
 */
#ifndef KLAXON_HANDLER_H
#define KLAXON_HANDLER_H

#include <jansson.h>
#include <stddef.h>

#include "server/alert.h"

enum handler_status {
    HANDLER_OK,        /* *out is a complete alert */
    HANDLER_IGNORE,    /* valid, nothing to do; reason says why */
    HANDLER_INVALID,   /* unusable; reason names the field and problem */
};

/*
 * Parse payload as sent by source into out, which the caller has set up
 * with alert_init() and frees with alert_free() whatever the result.
 * reason receives a short lowercase phrase for IGNORE and INVALID, e.g.
 * "missing field check_id" or "current_state must be a string".
 */
enum handler_status handler_parse(enum source source, const json_t *payload,
                                  struct alert *out, char *reason,
                                  size_t reason_len);

/* One per source, same contract as handler_parse(). */
enum handler_status pingdom_parse(const json_t *payload, struct alert *out,
                                  char *reason, size_t reason_len);
enum handler_status newrelic_parse(const json_t *payload, struct alert *out,
                                   char *reason, size_t reason_len);
enum handler_status sirportly_parse(const json_t *payload, struct alert *out,
                                    char *reason, size_t reason_len);
enum handler_status hashgate_parse(const json_t *payload, struct alert *out,
                                   char *reason, size_t reason_len);
enum handler_status generic_parse(const json_t *payload, struct alert *out,
                                  char *reason, size_t reason_len);

/*
 * For the handlers: write the printf-formatted reason into reason and
 * return status. Running out of memory is reported as HANDLER_INVALID
 * with the reason "out of memory".
 */
enum handler_status handler_result(enum handler_status status, char *reason,
                                   size_t reason_len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
enum handler_status handler_nomem(char *reason, size_t reason_len);

#endif
