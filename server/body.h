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
 *    A value starting with '{' must be valid JSON; one starting with '['
 *    that does not parse stays a string.
 *
 * Content types are matched case-insensitively; of their parameters only
 * charset counts, and it must be utf-8 or us-ascii. Duplicate JSON keys
 * and repeated form fields are rejected, since senders never send them
 * and parsers disagree about which one wins.
 *
 * Returns a new reference, or NULL with *status set to 400 (malformed,
 * not UTF-8, wrong shape), 415 (unsupported content type or charset) or
 * 500 (out of memory) and reason set to a short lowercase phrase naming
 * the problem, quoting at most ~40 bytes of the sender's text.
 */
json_t *body_decode(const char *content_type, const char *body, size_t len,
                    int *status, char *reason, size_t reason_len);

#endif
