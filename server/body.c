/*
 * Request bodies: JSON documents and URL-encoded forms turned into one
 * JSON object for the handlers.
 *
 * Everything here is untrusted, so reasons quote at most a short,
 * printable excerpt of what the sender posted.
 */
#include "server/body.h"

#include <ctype.h>
#include <curl/curl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Bytes of untrusted text a reason may quote: a name, or a parser's
   message (which ends in the offending token). */
#define BODY_EXCERPT 40
#define BODY_EXCERPT_ERROR 60

/* More fields than any sender uses; beyond this the body is an attack. */
#define BODY_MAX_FIELDS 1000

enum body_kind { BODY_JSON, BODY_FORM };

/* Where the reason goes. */
struct body_error {
    int *status;
    char *reason;
    size_t reason_len;
};

__attribute__((format(printf, 3, 4)))
static void
body_fail(const struct body_error *e, int status, const char *fmt, ...)
{
    va_list ap;

    *e->status = status;
    if (!e->reason_len)
        return;
    va_start(ap, fmt);
    vsnprintf(e->reason, e->reason_len, fmt, ap);
    va_end(ap);
}

/* A printable ASCII excerpt of n untrusted bytes into buf: anything
   else becomes '?', and more than len - 4 bytes are cut and end in
   "...". */
static const char *
body_excerpt(char *buf, size_t len, const char *s, size_t n)
{
    size_t i, keep = n > len - 4 ? len - 4 : n;

    for (i = 0; i < keep; i++)
        buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    strcpy(buf + i, keep < n ? "..." : "");
    return buf;
}

/* Report a Jansson parse error; prefix names where the document was. */
static void
body_json_error(const struct body_error *e, const char *prefix,
                const json_error_t *err)
{
    char text[BODY_EXCERPT_ERROR + 4];

    if (json_error_code(err) == json_error_invalid_utf8) {
        body_fail(e, 400, "body is not valid UTF-8");
        return;
    }
    body_fail(e, 400, "%sinvalid JSON at line %d column %d: %s", prefix,
              err->line, err->column,
              body_excerpt(text, sizeof text, err->text, strlen(err->text)));
}

static bool
body_is_blank(const char *s, size_t n)
{
    while (n > 0 && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    return n == 0;
}

static const char *
body_skip_space(const char *p, const char *end)
{
    while (p < end && isspace((unsigned char)*p))
        p++;
    return p;
}

/* [p, end) without surrounding whitespace and quotes. */
static void
body_trim(const char **p, const char **end)
{
    *p = body_skip_space(*p, *end);
    while (*end > *p && isspace((unsigned char)(*end)[-1]))
        (*end)--;
    if (*end - *p >= 2 && **p == '"' && (*end)[-1] == '"') {
        (*p)++;
        (*end)--;
    }
}

/* Only the charset parameter matters; it must be UTF-8 or its subset. */
static int
body_charset(const char *params, const struct body_error *e)
{
    const char *p = params, *next, *eq, *name, *name_end, *value, *value_end;
    char quoted[BODY_EXCERPT + 4];
    size_t n;

    for (; *p; p = *next ? next + 1 : next) {
        next = p + strcspn(p, ";");
        if (!(eq = memchr(p, '=', next - p)))
            continue;
        name = p;
        name_end = eq;
        body_trim(&name, &name_end);
        if (name_end - name != 7 || strncasecmp(name, "charset", 7) != 0)
            continue;
        value = eq + 1;
        value_end = next;
        body_trim(&value, &value_end);
        n = value_end - value;
        if ((n == 5 && strncasecmp(value, "utf-8", 5) == 0) ||
            (n == 8 && strncasecmp(value, "us-ascii", 8) == 0))
            continue;
        body_fail(e, 415, "unsupported charset %s",
                  body_excerpt(quoted, sizeof quoted, value, n));
        return -1;
    }
    return 0;
}

/* Which decoder the content type asks for, or -1 (415) when none. */
static int
body_kind_of(const char *content_type, const char *body, size_t len,
             const struct body_error *e)
{
    const char *p, *end;
    char quoted[BODY_EXCERPT + 4];
    int kind;
    size_t n;

    if (!content_type || body_is_blank(content_type, strlen(content_type))) {
        p = body_skip_space(body, body + len);
        if (p < body + len && *p == '{')
            return BODY_JSON;
        body_fail(e, 415, "missing content type");
        return -1;
    }
    p = content_type;
    end = p + strcspn(p, ";");
    body_trim(&p, &end);
    n = end - p;
    if ((n == 16 && strncasecmp(p, "application/json", n) == 0) ||
        (n > 17 && strncasecmp(p, "application/", 12) == 0 &&
         strncasecmp(end - 5, "+json", 5) == 0))
        kind = BODY_JSON;
    else if (n == 33 && strncasecmp(p, "application/x-www-form-urlencoded",
                                    n) == 0) {
        /* curl -d and many scripts label a JSON document as a form; a
           real form cannot start with '{' (its first field name would). */
        p = body_skip_space(body, body + len);
        kind = p < body + len && *p == '{' ? BODY_JSON : BODY_FORM;
    } else {
        body_fail(e, 415, "unsupported content type %s",
                  body_excerpt(quoted, sizeof quoted, p, n));
        return -1;
    }
    if (body_charset(content_type + strcspn(content_type, ";"), e) < 0)
        return -1;
    return kind;
}

static json_t *
body_json(const char *body, size_t len, const struct body_error *e)
{
    json_error_t err;
    json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);

    if (!doc) {
        body_json_error(e, "", &err);
        return NULL;
    }
    if (!json_is_object(doc)) {
        json_decref(doc);
        body_fail(e, 400, "JSON body must be an object");
        return NULL;
    }
    return doc;
}

/* Every '%' must start an escape of two hex digits. */
static bool
body_escapes_ok(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (s[i] != '%')
            continue;
        if (n - i < 3 || !isxdigit((unsigned char)s[i + 1]) ||
            !isxdigit((unsigned char)s[i + 2]))
            return false;
        i += 2;
    }
    return true;
}

/*
 * Decode n bytes of a form name or value: '+' is a space, then libcurl
 * undoes the %XX escapes. Returns the decoded bytes (NUL-terminated,
 * free with curl_free) and their count in *out, or NULL when out of
 * memory.
 */
static char *
body_unescape(const char *s, size_t n, size_t *out)
{
    char *copy, *decoded;
    size_t i;
    int len;

    if (n > INT_MAX || !(copy = malloc(n + 1)))
        return NULL;
    for (i = 0; i < n; i++)
        copy[i] = s[i] == '+' ? ' ' : s[i];
    copy[n] = '\0';

    /* A length of 0 would make libcurl use strlen(), also 0 here. */
    decoded = curl_easy_unescape(NULL, copy, (int)n, &len);
    free(copy);
    if (decoded)
        *out = (size_t)len;
    return decoded;
}

/*
 * A field's value: a JSON document when it looks like one (a sender's
 * payload inside a form field), else the text. A value starting with
 * '{' must parse; one starting with '[' may be plain text.
 */
static json_t *
body_form_value(const char *name, const char *value, size_t len,
                const struct body_error *e)
{
    const char *p = body_skip_space(value, value + len);
    char quoted[BODY_EXCERPT + 4], prefix[BODY_EXCERPT + 16];
    json_error_t err;
    json_t *v;

    if (p < value + len && (*p == '{' || *p == '[')) {
        v = json_loadb(value, len, JSON_REJECT_DUPLICATES, &err);
        if (v)
            return v;
        if (*p == '{') {
            snprintf(prefix, sizeof prefix, "field %s: ",
                     body_excerpt(quoted, sizeof quoted, name,
                                  strlen(name)));
            body_json_error(e, prefix, &err);
            return NULL;
        }
    }
    if (!(v = json_stringn(value, len)))
        body_fail(e, 400, "body is not valid UTF-8");
    return v;
}

/* Decode one "name=value" of n bytes at s into form. */
static int
body_form_field(json_t *form, const char *s, size_t n,
                const struct body_error *e)
{
    const char *eq = memchr(s, '=', n);
    const char *raw_value = eq ? eq + 1 : s + n;
    size_t raw_name_len = eq ? (size_t)(eq - s) : n, name_len, value_len;
    char *name = NULL, *value = NULL, quoted[BODY_EXCERPT + 4];
    int rc = -1;
    json_t *v;

    if (!body_escapes_ok(s, n)) {
        body_fail(e, 400, "invalid %%-escape in form field %s",
                  body_excerpt(quoted, sizeof quoted, s, raw_name_len));
        return -1;
    }
    if (!(name = body_unescape(s, raw_name_len, &name_len)) ||
        !(value = body_unescape(raw_value, s + n - raw_value, &value_len))) {
        body_fail(e, 500, "out of memory");
        goto done;
    }
    body_excerpt(quoted, sizeof quoted, name, name_len);
    if (name_len == 0) {
        body_fail(e, 400, "form field with no name");
        goto done;
    }
    if (memchr(name, '\0', name_len) || memchr(value, '\0', value_len)) {
        body_fail(e, 400, "form field %s contains a NUL byte", quoted);
        goto done;
    }
    if (json_object_getn(form, name, name_len)) {
        body_fail(e, 400, "field %s given twice", quoted);
        goto done;
    }
    if (!(v = body_form_value(name, value, value_len, e)))
        goto done;

    /* Jansson refuses a key that is not UTF-8. */
    if (json_object_setn_new(form, name, name_len, v) < 0) {
        body_fail(e, 400, "body is not valid UTF-8");
        goto done;
    }
    rc = 0;
done:
    curl_free(name);
    curl_free(value);
    return rc;
}

static json_t *
body_form(const char *body, size_t len, const struct body_error *e)
{
    const char *p = body, *end = body + len, *amp;
    json_t *form = json_object();
    size_t fields = 0;

    if (!form) {
        body_fail(e, 500, "out of memory");
        return NULL;
    }

    /* A trailing newline is an artefact of how the body was written. */
    while (end > p && isspace((unsigned char)end[-1]))
        end--;
    for (; p < end; p = amp + 1) {
        if (!(amp = memchr(p, '&', end - p)))
            amp = end;
        if (amp == p)
            continue;
        if (++fields > BODY_MAX_FIELDS) {
            body_fail(e, 400, "more than %d form fields", BODY_MAX_FIELDS);
            goto fail;
        }
        if (body_form_field(form, p, amp - p, e) < 0)
            goto fail;
    }
    return form;
fail:
    json_decref(form);
    return NULL;
}

json_t *
body_decode(const char *content_type, const char *body, size_t len,
            int *status, char *reason, size_t reason_len)
{
    struct body_error e = { status, reason, reason_len };
    int kind;

    if (!body || body_is_blank(body, len)) {
        body_fail(&e, 400, "empty body");
        return NULL;
    }
    if ((kind = body_kind_of(content_type, body, len, &e)) < 0)
        return NULL;
    return kind == BODY_JSON ? body_json(body, len, &e) :
           body_form(body, len, &e);
}
