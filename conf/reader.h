/*
 * Typed access to libconfig settings that records every problem with its
 * file and line instead of stopping at the first one.
 */
#ifndef KLAXON_READER_H
#define KLAXON_READER_H

#include <libconfig.h>
#include <stdbool.h>

#include "conf/config.h"

struct reader {
    struct config_errors *errs;
    const char *file;       /* the top-level file, for settings without one */
};

enum {
    READ_SECRET = 1,        /* "env:NAME" reads the environment variable */
    READ_NONEMPTY = 2,      /* "" is an error */
};

void reader_error(struct reader *r, const config_setting_t *s,
                  const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Report every member of group whose name is not in allowed (NULL-
   terminated). Also reports a group that is not a group. */
void reader_keys(struct reader *r, const config_setting_t *group,
                 const char *const *allowed);

/*
 * Each getter leaves *out untouched when the member is absent, and
 * reports a wrong type or value. They return 1 when a value was stored,
 * 0 when absent, -1 on error.
 */
int reader_string(struct reader *r, const config_setting_t *group,
                  const char *name, char **out, int flags);
int reader_int(struct reader *r, const config_setting_t *group,
               const char *name, int *out, long long min, long long max);
int reader_size(struct reader *r, const config_setting_t *group,
                const char *name, size_t *out, long long min,
                long long max);
int reader_bool(struct reader *r, const config_setting_t *group,
                const char *name, bool *out);
/* A string or a list/array of strings. */
int reader_strv(struct reader *r, const config_setting_t *group,
                const char *name, strv *out, int flags);

/* Expand "env:NAME" (a copy either way). NULL with *why set on error. */
char *reader_secret(const char *value, const char **why);

#endif
