/*
 * Logging to stderr. Each line is formatted into one buffer and written
 * with a single write(2) so lines from different threads never mix.
 */
#include "server/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static enum log_level min_level = LOG_INFO;

static const char *const level_names[] = {
    [LOG_DEBUG] = "debug",
    [LOG_INFO] = "info",
    [LOG_WARN] = "warn",
    [LOG_ERROR] = "error",
};

void
log_set_level(enum log_level level)
{
    min_level = level;
}

int
log_enabled(enum log_level level)
{
    return level >= min_level;
}

void
log_msg(enum log_level level, const char *component, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    int n, m;

    if (level < min_level)
        return;
    n = snprintf(line, sizeof line, "%s %s: ", level_names[level],
                 component);
    va_start(ap, fmt);
    m = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    n += m;
    if (n > (int)sizeof line - 2)
        n = sizeof line - 2;
    line[n++] = '\n';
    if (write(STDERR_FILENO, line, n) < 0)
        return;
}

const char *
log_quote(char *buf, size_t len, const char *text)
{
    size_t i, o = 0;

    if (len < 6) {
        if (len)
            buf[0] = '\0';
        return buf;
    }
    if (!text)
        text = "";
    buf[o++] = '"';
    for (i = 0; text[i] && o < len - 5; i++) {
        unsigned char c = text[i];
        buf[o++] = (c < 0x20 || c == 0x7f || c == '"') ? '?' : c;
    }
    if (text[i]) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}
