/*
 * Typed, error-collecting access to libconfig settings.
 */
#include "conf/reader.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
reader_error(struct reader *r, const config_setting_t *s, const char *fmt,
             ...)
{
    const char *file = s ? config_setting_source_file(s) : NULL;
    int line = s ? (int)config_setting_source_line(s) : 0;
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    config_errors_add(r->errs, "%s:%d: %s", file ? file : r->file, line,
                      msg);
}

void
reader_keys(struct reader *r, const config_setting_t *group,
            const char *const *allowed)
{
    const char *const *a;
    config_setting_t *m;
    int i;

    if (!config_setting_is_group(group)) {
        reader_error(r, group, "'%s' must be a group { ... }",
                     config_setting_name(group) ?
                     config_setting_name(group) : "setting");
        return;
    }
    for (i = 0; (m = config_setting_get_elem(group, i)); i++) {
        for (a = allowed; *a; a++) {
            if (strcmp(*a, config_setting_name(m)) == 0)
                break;
        }
        if (!*a)
            reader_error(r, m, "unknown key '%s'", config_setting_name(m));
    }
}

char *
reader_secret(const char *value, const char **why)
{
    const char *env;

    if (strncmp(value, "env:", 4) != 0)
        return strdup(value);
    if (!value[4]) {
        *why = "env: needs a variable name";
        return NULL;
    }
    if (!(env = getenv(value + 4)) || !*env) {
        *why = "environment variable is not set";
        return NULL;
    }
    return strdup(env);
}

static char *
read_one_string(struct reader *r, const config_setting_t *s,
                const char *name, int flags)
{
    const char *v = config_setting_get_string(s);
    const char *why = NULL;
    char *copy;

    if (!v) {
        reader_error(r, s, "'%s' must be a string", name);
        return NULL;
    }
    if ((flags & READ_NONEMPTY) && !*v) {
        reader_error(r, s, "'%s' must not be empty", name);
        return NULL;
    }
    copy = (flags & READ_SECRET) ? reader_secret(v, &why) : strdup(v);
    if (!copy && why)
        reader_error(r, s, "'%s': %s ('%s')", name, why, v);
    return copy;
}

int
reader_string(struct reader *r, const config_setting_t *group,
              const char *name, char **out, int flags)
{
    config_setting_t *s = config_setting_get_member(group, name);
    char *v;

    if (!s)
        return 0;
    if (!(v = read_one_string(r, s, name, flags)))
        return -1;
    free(*out);
    *out = v;
    return 1;
}

static int
read_integer(struct reader *r, const config_setting_t *group,
             const char *name, long long *out, long long min, long long max)
{
    config_setting_t *s = config_setting_get_member(group, name);
    int type;

    if (!s)
        return 0;
    type = config_setting_type(s);
    if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64) {
        reader_error(r, s, "'%s' must be an integer", name);
        return -1;
    }
    *out = config_setting_get_int64(s);
    if (*out < min || *out > max) {
        reader_error(r, s, "'%s' must be from %lld to %lld (got %lld)",
                     name, min, max, *out);
        return -1;
    }
    return 1;
}

int
reader_int(struct reader *r, const config_setting_t *group, const char *name,
           int *out, long long min, long long max)
{
    long long v;
    int rc = read_integer(r, group, name, &v, min, max);

    if (rc == 1)
        *out = (int)v;
    return rc;
}

int
reader_size(struct reader *r, const config_setting_t *group,
            const char *name, size_t *out, long long min, long long max)
{
    long long v;
    int rc = read_integer(r, group, name, &v, min, max);

    if (rc == 1)
        *out = (size_t)v;
    return rc;
}

int
reader_bool(struct reader *r, const config_setting_t *group,
            const char *name, bool *out)
{
    config_setting_t *s = config_setting_get_member(group, name);

    if (!s)
        return 0;
    if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
        reader_error(r, s, "'%s' must be true or false", name);
        return -1;
    }
    *out = config_setting_get_bool(s);
    return 1;
}

int
reader_strv(struct reader *r, const config_setting_t *group,
            const char *name, strv *out, int flags)
{
    config_setting_t *s = config_setting_get_member(group, name), *e;
    int i, n, bad = 0;
    strv v;

    if (!s)
        return 0;
    if (config_setting_type(s) == CONFIG_TYPE_STRING) {
        n = 1;
    } else if (config_setting_is_aggregate(s) && !config_setting_is_group(s)) {
        n = config_setting_length(s);
    } else {
        reader_error(r, s, "'%s' must be a string or a list of strings",
                     name);
        return -1;
    }
    if (!(v = calloc(n + 1, sizeof *v)))
        return -1;
    for (i = 0; i < n; i++) {
        e = config_setting_type(s) == CONFIG_TYPE_STRING ? s :
            config_setting_get_elem(s, i);
        if (!(v[i] = read_one_string(r, e, name, flags)))
            bad = 1;
    }
    if (bad) {
        for (i = 0; i < n; i++)
            free(v[i]);
        free(v);
        return -1;
    }
    strv_free(*out);
    *out = v;
    return 1;
}
