/*
 * Running a source handler in tests, on a document or on a fixture
 * decoded the way the server decodes what it was sent as.
 */
#ifndef KLAXON_HANDLER_RUN_H
#define KLAXON_HANDLER_RUN_H

#include <jansson.h>

#include "handlers/handler.h"

struct handler_result {
    enum handler_status rc;
    struct alert a;         /* the caller frees it with alert_free */
    char reason[256];
};

void handler_run(enum source source, const json_t *doc,
                 struct handler_result *r);

/* tests/fixtures/<name>: JSON, or for a ".form" file the decoded form
   (new reference); fails the test when it cannot be read. */
json_t *handler_fixture(const char *name);

void handler_run_fixture(enum source source, const char *name,
                         struct handler_result *r);

/* Assert that body[0..len), posted as a form, is refused with 400 and
   exactly reason. */
void handler_expect_form_refused(const char *body, size_t len,
                                 const char *reason);

/* Assert the alert's tags, as compact JSON ("[\"a\",\"b\"]"). */
void handler_expect_tags(const struct alert *a, const char *expected);

/* Set obj's member to value (stolen), or delete it when value is NULL:
   the hostile variants of a fixture. */
void handler_vary(json_t *obj, const char *member, json_t *value);

/* Assert the handler's verdict and reason, and free the alert. */
void handler_expect(struct handler_result *r, enum handler_status rc,
                    const char *reason);

#endif
