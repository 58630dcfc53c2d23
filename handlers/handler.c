/*
 * Dispatch a decoded payload to the handler of the source that sent it.
 */
#include "handlers/handler.h"

#include <stdarg.h>
#include <stdio.h>

typedef enum handler_status (*handler_fn)(const json_t *, struct alert *,
                                          char *, size_t);

static const handler_fn handlers[SOURCE_COUNT] = {
    [SOURCE_PINGDOM] = pingdom_parse,
    [SOURCE_NEWRELIC] = newrelic_parse,
    [SOURCE_SIRPORTLY] = sirportly_parse,
    [SOURCE_HASHGATE] = hashgate_parse,
    [SOURCE_GENERIC] = generic_parse,
};

enum handler_status
handler_parse(enum source source, const json_t *payload, struct alert *out,
              char *reason, size_t reason_len)
{
    if ((unsigned)source >= SOURCE_COUNT)
        return handler_result(HANDLER_INVALID, reason, reason_len,
                              "unknown source");
    if (!json_is_object(payload))
        return handler_result(HANDLER_INVALID, reason, reason_len,
                              "payload must be a JSON object");
    return handlers[source](payload, out, reason, reason_len);
}

/* Length of the first n bytes of s without a trailing partial character. */
static size_t
utf8_whole(const char *s, size_t n)
{
    size_t lead = n, need;
    unsigned char c;

    while (lead > 0 && ((unsigned char)s[lead - 1] & 0xc0) == 0x80)
        lead--;
    if (lead == 0)
        return n;
    c = s[--lead];
    if (c < 0x80)
        return n;
    need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
    return n - lead >= need ? n : lead;
}

enum handler_status
handler_result(enum handler_status status, char *reason, size_t reason_len,
               const char *fmt, ...)
{
    va_list ap;
    int len;

    if (!reason_len)
        return status;
    va_start(ap, fmt);
    len = vsnprintf(reason, reason_len, fmt, ap);
    va_end(ap);

    /* A reason cut short must still be UTF-8: drop a partial character. */
    if (len >= 0 && (size_t)len >= reason_len)
        reason[utf8_whole(reason, reason_len - 1)] = '\0';
    return status;
}

enum handler_status
handler_nomem(char *reason, size_t reason_len)
{
    return handler_result(HANDLER_INVALID, reason, reason_len,
                          "out of memory");
}
