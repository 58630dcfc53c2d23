/*
 * Small helpers shared by the tests.
 */
#ifndef KLAXON_TESTUTIL_H
#define KLAXON_TESTUTIL_H

#include <jansson.h>
#include <stddef.h>

/* Contents of path, NUL-terminated (caller frees); fails the test if
   it cannot be read. len may be NULL. */
char *test_read_file(const char *path, size_t *len);

/* tests/fixtures/<name> parsed as JSON (new reference); fails the test
   on error. */
json_t *test_fixture_json(const char *name);

/* Path of tests/fixtures/<name> in a static buffer. */
const char *test_fixture_path(const char *name);

/* A fresh empty directory under $TMPDIR (caller frees the string and
   removes the tree with test_rmtree). */
char *test_tempdir(void);
void test_rmtree(const char *path);

#endif
