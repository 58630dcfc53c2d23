/*
 * Request bodies: decode what a sender posted into one JSON document,
 * whatever the content type it used.
 */
#ifndef KLAXON_BODY_H
#define KLAXON_BODY_H

#include <jansson.h>
#include <stddef.h>

/*
 * Decode body (len bytes, not NUL-terminated) sent with content_type
 * (the raw header value, may be NULL):
 *
 *  - application/json (or +json, or no content type with a body starting
 *    with '{'): the JSON document, which must be an object;
 *  - application/x-www-form-urlencoded: an object with one member per
 *    field; a field whose value is itself a JSON object or array (as
 *    Pingdom's "message=", New Relic's "alert=" and Sirportly's "ticket="
 *    posts carry) holds the parsed document, other fields hold strings.
 *
 * Returns a new reference, or NULL with *status set to 400 (malformed,
 * not UTF-8, wrong shape) or 415 (unsupported content type) and reason
 * set to a short lowercase phrase naming the problem.
 */
json_t *body_decode(const char *content_type, const char *body, size_t len,
                    int *status, char *reason, size_t reason_len);

#endif
