/*
 * Logging: one line per event on stderr, "level component: message".
 *
 * No timestamps: systemd and Docker add their own. Callers never pass
 * secrets or whole payloads; untrusted text goes through log_quote().
 */
#ifndef KLAXON_LOG_H
#define KLAXON_LOG_H

#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Lines below this level are dropped. Default LOG_INFO. */
void log_set_level(enum log_level level);

/* Whether lines of level are written (to skip building them). */
int log_enabled(enum log_level level);

void log_msg(enum log_level level, const char *component,
             const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define log_debug(c, ...) log_msg(LOG_DEBUG, (c), __VA_ARGS__)
#define log_info(c, ...)  log_msg(LOG_INFO, (c), __VA_ARGS__)
#define log_warn(c, ...)  log_msg(LOG_WARN, (c), __VA_ARGS__)
#define log_error(c, ...) log_msg(LOG_ERROR, (c), __VA_ARGS__)

/*
 * Copy untrusted text into buf as a printable, quoted and cut string:
 * control bytes become '?', at most len-3 bytes of text are kept and a
 * cut is marked with "...". Returns buf.
 */
const char *log_quote(char *buf, size_t len, const char *text);

#endif
