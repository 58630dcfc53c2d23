/*
 * UTF-8 text for notifiers: Pushover counts its limits in characters,
 * not bytes, and rejects text that is not valid UTF-8, while alert text
 * comes from senders who may send anything. These functions count,
 * check and cut such text without ever reading past the given length
 * and without ever producing an invalid sequence.
 *
 * A "character" is a Unicode code point. Invalid input (stray
 * continuation bytes, overlong forms, surrogates, values above
 * U+10FFFF, sequences cut short by the end of the buffer) is taken one
 * byte at a time, and each such byte counts as one character that is
 * written out as U+FFFD.
 */
#ifndef KLAXON_UTF8_H
#define KLAXON_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* The replacement for bytes that are not UTF-8, and the cut mark. */
#define UTF8_REPLACEMENT "\xef\xbf\xbd"
#define UTF8_ELLIPSIS "\xe2\x80\xa6"

/*
 * Length in bytes (1 to 4) of the well-formed sequence at the start of
 * s[0..len), or 0 when s starts with an invalid byte or len is 0.
 */
size_t utf8_seq_len(const char *s, size_t len);

/* True when s[0..len) is entirely well-formed UTF-8 (NUL bytes are). */
bool utf8_valid(const char *s, size_t len);

/* Number of characters in s[0..len), an invalid byte counting as one. */
size_t utf8_count(const char *s, size_t len);

/*
 * A new NUL-terminated copy of s[0..len) holding at most max characters.
 * When s has more than max characters, the copy keeps the first max - 1
 * and ends with U+2026 (so it is exactly max characters long); max 0
 * gives "". Invalid bytes become U+FFFD, so the copy is always valid
 * UTF-8. *cut (may be NULL) tells whether text was dropped. The caller
 * frees the copy; NULL when out of memory.
 */
char *utf8_cut(const char *s, size_t len, size_t max, bool *cut);

#endif
