/*
 * UTF-8 counting, checking and cutting on character boundaries, after
 * RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF.
 */
#include "notifiers/utf8.h"

#include <stdlib.h>
#include <string.h>

size_t
utf8_seq_len(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    unsigned char lo = 0x80, hi = 0xbf;
    size_t n, i;

    if (len == 0)
        return 0;
    if (s[0] < 0x80)
        return 1;

    /* The lead byte fixes the length and, for E0, ED, F0 and F4, a
       narrower range for the second byte: that is what rules out
       overlong forms, surrogates and values above U+10FFFF. */
    if (s[0] < 0xc2) {
        return 0;
    } else if (s[0] < 0xe0) {
        n = 2;
    } else if (s[0] < 0xf0) {
        n = 3;
        if (s[0] == 0xe0)
            lo = 0xa0;
        else if (s[0] == 0xed)
            hi = 0x9f;
    } else if (s[0] < 0xf5) {
        n = 4;
        if (s[0] == 0xf0)
            lo = 0x90;
        else if (s[0] == 0xf4)
            hi = 0x8f;
    } else {
        return 0;
    }

    if (len < n || s[1] < lo || s[1] > hi)
        return 0;
    for (i = 2; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    }
    return n;
}

bool
utf8_valid(const char *s, size_t len)
{
    size_t i = 0, n;

    while (i < len) {
        if ((n = utf8_seq_len(s + i, len - i)) == 0)
            return false;
        i += n;
    }
    return true;
}

size_t
utf8_count(const char *s, size_t len)
{
    size_t i = 0, count = 0, n;

    while (i < len) {
        n = utf8_seq_len(s + i, len - i);
        i += n ? n : 1;
        count++;
    }
    return count;
}

char *
utf8_cut(const char *s, size_t len, size_t max, bool *cut)
{
    size_t total = utf8_count(s, len), keep, i = 0, o = 0, n, size;
    bool cutting = total > max;
    char *out;

    keep = cutting ? (max ? max - 1 : 0) : total;

    /* An invalid byte grows to three; a valid character never grows. */
    size = (len < keep * 4 ? len * 3 : keep * 4) + 3 + 1;
    if (!(out = malloc(size)))
        return NULL;
    while (keep-- > 0) {
        if ((n = utf8_seq_len(s + i, len - i)) == 0) {
            memcpy(out + o, UTF8_REPLACEMENT, 3);
            o += 3;
            i++;
        } else {
            memcpy(out + o, s + i, n);
            o += n;
            i += n;
        }
    }
    if (cutting && max) {
        memcpy(out + o, UTF8_ELLIPSIS, 3);
        o += 3;
    }
    out[o] = '\0';
    if (cut)
        *cut = cutting;
    return out;
}
