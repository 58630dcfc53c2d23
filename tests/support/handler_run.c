/*
 * Test support: handler runs.
 */
#include "tests/support/handler_run.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/body.h"
#include "tests/support/testutil.h"

void
handler_run(enum source source, const json_t *doc, struct handler_result *r)
{
    alert_init(&r->a, source);
    r->reason[0] = '\0';
    r->rc = handler_parse(source, doc, &r->a, r->reason, sizeof r->reason);
}

json_t *
handler_fixture(const char *name)
{
    char reason[256];
    size_t len;
    char *text;
    json_t *doc;
    int status;

    if (!strstr(name, ".form"))
        return test_fixture_json(name);
    text = test_read_file(test_fixture_path(name), &len);
    doc = body_decode("application/x-www-form-urlencoded", text, len,
                      &status, reason, sizeof reason);
    free(text);
    if (!doc)
        fail_msg("%s: %d %s", name, status, reason);
    return doc;
}

void
handler_run_fixture(enum source source, const char *name,
                    struct handler_result *r)
{
    json_t *doc = handler_fixture(name);

    handler_run(source, doc, r);
    json_decref(doc);
}

void
handler_expect(struct handler_result *r, enum handler_status rc,
               const char *reason)
{
    assert_int_equal(r->rc, rc);
    assert_string_equal(r->reason, reason);
    alert_free(&r->a);
}

void
handler_expect_tags(const struct alert *a, const char *expected)
{
    char *tags = json_dumps(a->tags, JSON_COMPACT);

    assert_string_equal(tags, expected);
    free(tags);
}

void
handler_vary(json_t *obj, const char *member, json_t *value)
{
    if (value)
        json_object_set_new(obj, member, value);
    else
        json_object_del(obj, member);
}

void
handler_expect_form_refused(const char *body, size_t len,
                            const char *reason)
{
    char got[256];
    int status = 0;

    assert_null(body_decode("application/x-www-form-urlencoded", body, len,
                            &status, got, sizeof got));
    assert_int_equal(status, 400);
    assert_string_equal(got, reason);
}
