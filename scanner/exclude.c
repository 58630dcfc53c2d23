/*
 * Scanner excludes: patterns are split into segments once, then matched
 * segment by segment with fnmatch(3); a "**" segment is tried against
 * every number of path segments. Nothing is ever matched as a substring,
 * which is how the old scanner's whitelist excluded far more than meant.
 */
#include "scanner/exclude.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pattern {
    char **seg;             /* segments, "**" marks a globstar */
    size_t nseg;
    bool dir_only;          /* written with a trailing "/" */
};

struct exclude {
    struct pattern *pat;
    size_t count;
};

struct exclude *
exclude_new(void)
{
    return calloc(1, sizeof(struct exclude));
}

static void
pattern_free(struct pattern *p)
{
    size_t i;

    for (i = 0; i < p->nseg; i++)
        free(p->seg[i]);
    free(p->seg);
}

void
exclude_free(struct exclude *ex)
{
    size_t i;

    if (!ex)
        return;
    for (i = 0; i < ex->count; i++)
        pattern_free(&ex->pat[i]);
    free(ex->pat);
    free(ex);
}

size_t
exclude_count(const struct exclude *ex)
{
    return ex ? ex->count : 0;
}

/* Split pattern at "/" into p, dropping empty and "." segments. */
static int
pattern_parse(struct pattern *p, const char *pattern)
{
    const char *s = pattern, *end;
    size_t len = strlen(pattern);
    char **seg;

    memset(p, 0, sizeof *p);
    p->dir_only = len > 0 && pattern[len - 1] == '/';
    while (*s) {
        end = strchrnul(s, '/');
        if (end - s == 0 || (end - s == 1 && *s == '.')) {
            s = *end ? end + 1 : end;
            continue;
        }
        seg = realloc(p->seg, (p->nseg + 1) * sizeof *seg);
        if (!seg)
            goto fail;
        p->seg = seg;
        if (!(p->seg[p->nseg] = strndup(s, end - s)))
            goto fail;
        p->nseg++;
        s = *end ? end + 1 : end;
    }
    return 0;

fail:
    pattern_free(p);
    return -1;
}

static bool
blank_pattern(const char *pattern)
{
    for (; *pattern; pattern++) {
        if (*pattern != '/' && *pattern != '.' &&
            !isspace((unsigned char)*pattern))
            return false;
    }
    return true;
}

int
exclude_add(struct exclude *ex, const char *pattern)
{
    struct pattern p, *pat;

    if (!pattern || blank_pattern(pattern))
        return -1;
    if (pattern_parse(&p, pattern) < 0)
        return -1;
    pat = realloc(ex->pat, (ex->count + 1) * sizeof *pat);
    if (!pat) {
        pattern_free(&p);
        return -1;
    }
    ex->pat = pat;
    ex->pat[ex->count++] = p;
    return 0;
}

/* Trim blanks on both ends of line in place; returns the start. */
static char *
trim(char *line)
{
    char *end;

    while (isspace((unsigned char)*line))
        line++;
    end = line + strlen(line);
    while (end > line && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return line;
}

int
exclude_add_file(struct exclude *ex, const char *path, char *err,
                 size_t errlen)
{
    FILE *f = fopen(path, "re");
    char *line = NULL, *pat;
    size_t cap = 0;
    int lineno = 0, rc = 0;

    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    while (getline(&line, &cap, f) >= 0) {
        lineno++;
        pat = trim(line);
        if (*pat == '\0' || *pat == '#')
            continue;
        if (exclude_add(ex, pat) < 0) {
            snprintf(err, errlen, "%s:%d: pattern matches no path", path,
                     lineno);
            rc = -1;
            break;
        }
    }
    if (rc == 0 && ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        rc = -1;
    }
    free(line);
    fclose(f);
    return rc;
}

/* Match segments i.. of p against rel, which starts at a segment. */
static bool
match_from(const struct pattern *p, size_t i, const char *rel)
{
    char name[256];
    const char *end;
    size_t len;

    if (i == p->nseg)
        return *rel == '\0';
    if (strcmp(p->seg[i], "**") == 0) {
        for (;;) {
            if (match_from(p, i + 1, rel))
                return true;
            if (*rel == '\0')
                return false;
            end = strchrnul(rel, '/');
            rel = *end ? end + 1 : end;
        }
    }
    if (*rel == '\0')
        return false;
    end = strchrnul(rel, '/');
    len = end - rel;
    if (len >= sizeof name)
        return false;
    memcpy(name, rel, len);
    name[len] = '\0';
    if (fnmatch(p->seg[i], name, 0) != 0)
        return false;
    return match_from(p, i + 1, *end ? end + 1 : end);
}

bool
exclude_match(const struct exclude *ex, const char *rel, bool is_dir)
{
    size_t i;

    if (!ex)
        return false;
    for (i = 0; i < ex->count; i++) {
        if (ex->pat[i].dir_only && !is_dir)
            continue;
        if (match_from(&ex->pat[i], 0, rel))
            return true;
    }
    return false;
}

bool
exclude_match_tree(const struct exclude *ex, const char *rel, bool is_dir)
{
    char *copy, *slash;
    bool hit = false;

    if (exclude_count(ex) == 0)
        return false;
    if (!(copy = strdup(rel)))
        return exclude_match(ex, rel, is_dir);
    for (slash = strchr(copy, '/'); slash && !hit;
         slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        hit = exclude_match(ex, copy, true);
        *slash = '/';
    }
    free(copy);
    return hit || exclude_match(ex, rel, is_dir);
}
