/*
 * Payload field access for the source handlers: lenient about the types
 * senders use for numbers, booleans and times, strict about what a
 * value must mean.
 */
#include "handlers/field.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* 9999-12-31T23:59:59Z: later times are garbage, not events. */
#define FIELD_MAX_TIME 253402300799LL

/* How much untrusted text a reason may quote. */
#define FIELD_EXCERPT_TEXT 40

bool
field_present(const json_t *obj, const char *name)
{
    json_t *v = json_object_get(obj, name);

    return v && !json_is_null(v);
}

const char *
field_string(const json_t *obj, const char *name)
{
    json_t *v = json_object_get(obj, name);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

const char *
field_text(const json_t *obj, const char *name)
{
    const char *s = field_string(obj, name);

    return s && *s ? s : NULL;
}

json_t *
field_object(const json_t *obj, const char *name)
{
    json_t *v = json_object_get(obj, name);

    return json_is_object(v) ? v : NULL;
}

json_t *
field_array(const json_t *obj, const char *name)
{
    json_t *v = json_object_get(obj, name);

    return json_is_array(v) ? v : NULL;
}

/* Decimal digits with an optional '-', nothing else; strtoll does the
   conversion and the overflow check. */
static int
parse_int_string(const json_t *v, long long *out)
{
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    char *end;
    long long n;

    if (len == 0 || !(isdigit((unsigned char)s[0]) ||
                      (s[0] == '-' && isdigit((unsigned char)s[1]))))
        return -1;
    errno = 0;
    n = strtoll(s, &end, 10);
    if (errno || end != s + len)
        return -1;
    *out = n;
    return 0;
}

enum field_result
field_int(const json_t *obj, const char *name, long long *out)
{
    json_t *v = json_object_get(obj, name);

    if (!v || json_is_null(v))
        return FIELD_MISSING;
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return FIELD_OK;
    }
    if (json_is_string(v) && parse_int_string(v, out) == 0)
        return FIELD_OK;
    return FIELD_BAD;
}

enum field_result
field_bool(const json_t *obj, const char *name, bool *out)
{
    json_t *v = json_object_get(obj, name);
    const char *s;

    if (!v || json_is_null(v))
        return FIELD_MISSING;
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
        return FIELD_OK;
    }
    if (!(s = json_string_value(v)))
        return FIELD_BAD;
    if (strcasecmp(s, "true") == 0)
        *out = true;
    else if (strcasecmp(s, "false") == 0)
        *out = false;
    else
        return FIELD_BAD;
    return FIELD_OK;
}

int
field_parse_iso8601(const char *text, time_t *out)
{
    struct tm tm, zone;
    const char *p;
    time_t t;

    memset(&tm, 0, sizeof tm);
    memset(&zone, 0, sizeof zone);
    p = strptime(text, "%Y-%m-%d", &tm);
    if (!p || (*p != 'T' && *p != 't' && *p != ' '))
        return -1;
    if (!(p = strptime(p + 1, "%H:%M:%S", &tm)))
        return -1;

    /* A fraction of a second changes nothing we keep. */
    if (*p == '.' || *p == ',') {
        if (!isdigit((unsigned char)*++p))
            return -1;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (*p && (!(p = strptime(p, "%z", &zone)) || *p))
        return -1;
    if ((t = timegm(&tm)) == (time_t)-1)
        return -1;
    *out = t - zone.tm_gmtoff;
    return 0;
}

/* A count of unit since the epoch as seconds, when it is a usable time. */
static enum field_result
from_number(double n, enum field_unit unit, time_t *out)
{
    n /= unit;
    if (!isfinite(n) || n <= 0 || n > FIELD_MAX_TIME)
        return FIELD_BAD;
    *out = (time_t)n;
    return FIELD_OK;
}

enum field_result
field_time(const json_t *obj, const char *name, enum field_unit unit,
           time_t *out)
{
    json_t *v = json_object_get(obj, name);
    long long n;
    time_t t;

    if (!v || json_is_null(v))
        return FIELD_MISSING;
    if (json_is_integer(v))
        return from_number((double)json_integer_value(v), unit, out);
    if (json_is_real(v))
        return from_number(json_real_value(v), unit, out);
    if (!json_is_string(v))
        return FIELD_BAD;
    if (parse_int_string(v, &n) == 0)
        return from_number((double)n, unit, out);
    if (field_parse_iso8601(json_string_value(v), &t) < 0 || t <= 0 ||
        t > FIELD_MAX_TIME)
        return FIELD_BAD;
    *out = t;
    return FIELD_OK;
}

const char *
field_excerpt(char *buf, size_t len, const char *text)
{
    size_t n = strlen(text), i;
    bool cut = false;

    if (len < FIELD_EXCERPT_LEN) {
        if (len)
            buf[0] = '\0';
        return buf;
    }
    if (n > FIELD_EXCERPT_TEXT) {
        /* Back up over continuation bytes to a character boundary. */
        n = FIELD_EXCERPT_TEXT;
        while (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
            n--;
        cut = true;
    }
    for (i = 0; i < n; i++) {
        unsigned char c = text[i];
        buf[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    strcpy(buf + i, cut ? "..." : "");
    return buf;
}

int
field_add_tag(struct alert *a, const char *prefix, const char *text)
{
    char *tag;
    int rc;

    if (asprintf(&tag, "%s%s", prefix, text) < 0)
        return -1;
    rc = alert_has_tag(a, tag) ? 0 : alert_add_tag(a, tag);
    free(tag);
    return rc;
}

int
field_add_tags(struct alert *a, const json_t *array, const char *prefix)
{
    size_t i;
    json_t *v;

    json_array_foreach(array, i, v) {
        if (json_is_string(v) &&
            field_add_tag(a, prefix, json_string_value(v)) < 0)
            return -1;
    }
    return 0;
}

int
field_text_open(struct field_textbuf *tb)
{
    tb->data = NULL;
    tb->len = 0;
    tb->f = open_memstream(&tb->data, &tb->len);
    return tb->f ? 0 : -1;
}

int
field_text_close(struct field_textbuf *tb, char **field)
{
    bool failed = ferror(tb->f) != 0;

    if (fclose(tb->f) != 0 || failed || !tb->data) {
        free(tb->data);
        return -1;
    }
    while (tb->len > 0 && tb->data[tb->len - 1] == '\n')
        tb->data[--tb->len] = '\0';
    free(*field);
    *field = tb->len ? tb->data : NULL;
    if (!tb->len)
        free(tb->data);
    return 0;
}
