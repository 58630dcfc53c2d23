/*
 * Helpers shared by the source handlers: typed access to the members of
 * a sender's payload, excerpts of untrusted text for reasons, tags, and
 * message text.
 *
 * Senders are loose about types: a form post turns every number into a
 * string, booleans arrive as "true" or "false", and times as seconds,
 * milliseconds or ISO 8601 text. These helpers accept a value in each
 * form a sender uses, and tell an absent member from one of the wrong
 * type so that a handler can name the field in its reason.
 */
#ifndef KLAXON_FIELD_H
#define KLAXON_FIELD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "server/alert.h"

enum field_result {
    FIELD_OK,
    FIELD_MISSING,      /* absent or JSON null */
    FIELD_BAD,          /* present, but not of the expected type or range */
};

/* Units of a numeric time. */
enum field_unit { FIELD_SECONDS = 1, FIELD_MILLISECONDS = 1000 };

/* Whether obj has a member name that is not JSON null. */
bool field_present(const json_t *obj, const char *name);

/*
 * Member name of obj as a string, an object or an array; NULL when obj
 * is not an object, the member is absent or of another type. The result
 * is borrowed from obj.
 */
const char *field_string(const json_t *obj, const char *name);
json_t *field_object(const json_t *obj, const char *name);
json_t *field_array(const json_t *obj, const char *name);

/* Like field_string(), but an empty string counts as absent. */
const char *field_text(const json_t *obj, const char *name);

/*
 * Member name as an integer: a JSON integer, or a string holding an
 * optional '-' and decimal digits only. Reals (1e300, 7.5) are FIELD_BAD.
 * *out is set only on FIELD_OK.
 */
enum field_result field_int(const json_t *obj, const char *name,
                            long long *out);

/* Member name as a boolean: true, false, or the string "true"/"false". */
enum field_result field_bool(const json_t *obj, const char *name,
                             bool *out);

/*
 * Member name as a time: a number (or a string of digits) counted in
 * unit since the epoch, or ISO 8601 text. *out is set only on FIELD_OK;
 * times before 1970 or after 9999 are FIELD_BAD.
 */
enum field_result field_time(const json_t *obj, const char *name,
                             enum field_unit unit, time_t *out);

/*
 * Parse "YYYY-MM-DDTHH:MM:SS" with optional fraction and zone ("Z",
 * "+hh:mm", "+hhmm", "+hh"); no zone means UTC. 0, or -1 when text is
 * not such a time.
 */
int field_parse_iso8601(const char *text, time_t *out);

/*
 * A printable excerpt of untrusted UTF-8 text for a reason: control
 * bytes become '?', and text longer than 40 bytes is cut on a character
 * boundary and ends in "...". Writes into buf (len >= 48) and returns it.
 */
#define FIELD_EXCERPT_LEN 48
const char *field_excerpt(char *buf, size_t len, const char *text);

/*
 * Add prefix + text to a->tags unless it is there already. 0, or -1 when
 * out of memory.
 */
int field_add_tag(struct alert *a, const char *prefix, const char *text);

/*
 * field_add_tag() for every string element of array (which may be NULL
 * or not an array); other elements are skipped. 0, or -1 when out of
 * memory.
 */
int field_add_tags(struct alert *a, const json_t *array, const char *prefix);

/*
 * Message text built line by line with fprintf() on f (an
 * open_memstream() stream).
 */
struct field_textbuf {
    FILE *f;
    char *data;
    size_t len;
};

/* Open tb's stream. 0, or -1 when out of memory. */
int field_text_open(struct field_textbuf *tb);

/*
 * Close tb's stream and move its text, without trailing newlines, into
 * *field (freeing the old value); empty text sets NULL. 0, or -1 when out
 * of memory, leaving *field unchanged. Either way tb is released.
 */
int field_text_close(struct field_textbuf *tb, char **field);

#endif
