/*
 * Test helpers: fixtures, files and temporary directories.
 */
#define _XOPEN_SOURCE 700
#include "tests/support/testutil.h"

#include <ftw.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

char *
test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long size;

    if (!f)
        fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    rewind(f);
    buf = malloc(size + 1);
    assert_non_null(buf);
    if (fread(buf, 1, size, f) != (size_t)size)
        fail_msg("cannot read %s", path);
    fclose(f);
    buf[size] = '\0';
    if (len)
        *len = size;
    return buf;
}

const char *
test_fixture_path(const char *name)
{
    static char path[512];

    snprintf(path, sizeof path, "tests/fixtures/%s", name);
    return path;
}

json_t *
test_fixture_json(const char *name)
{
    json_error_t err;
    json_t *doc = json_load_file(test_fixture_path(name), 0, &err);

    if (!doc)
        fail_msg("fixture %s: %s (line %d)", name, err.text, err.line);
    return doc;
}

char *
test_tempdir(void)
{
    const char *base = getenv("TMPDIR");
    char *path;

    if (asprintf(&path, "%s/klaxon-test-XXXXXX", base ? base : "/tmp") < 0)
        fail_msg("out of memory");
    if (!mkdtemp(path))
        fail_msg("mkdtemp %s failed", path);
    return path;
}

static int
remove_entry(const char *path, const struct stat *st, int type,
             struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    return remove(path);
}

void
test_rmtree(const char *path)
{
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}
