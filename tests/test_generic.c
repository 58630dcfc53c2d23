/*
 * The generic hook: a script's JSON or form post becomes the alert it
 * describes, and values that decide who is woken (state, priority,
 * severity) are refused when they cannot be used.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "handlers/handler.h"
#include "server/body.h"
#include "tests/support/handler_run.h"
#include "tests/support/testutil.h"

#define FORM "application/x-www-form-urlencoded"
#define FAILED "generic/backup-failed.json"

static void
run(const json_t *doc, struct handler_result *r)
{
    handler_run(SOURCE_GENERIC, doc, r);
}

static void
run_fixture(const char *name, struct handler_result *r)
{
    handler_run_fixture(SOURCE_GENERIC, name, r);
}

/* A form body, decoded the way the server decodes it. */
static void
run_form(const char *body, size_t len, struct handler_result *r)
{
    char reason[256];
    json_t *doc;
    int status;

    doc = body_decode(FORM, body, len, &status, reason, sizeof reason);
    if (!doc)
        fail_msg("%d %s", status, reason);
    run(doc, r);
    json_decref(doc);
}

/* backup-failed.json with member replaced by value (NULL: removed). */
static void
run_changed(const char *member, json_t *value, struct handler_result *r)
{
    json_t *doc = test_fixture_json(FAILED);

    handler_vary(doc, member, value);
    run(doc, r);
    json_decref(doc);
}

static void
test_failed_backup_fires_with_its_own_priority(void **state)
{
    struct handler_result r;

    (void)state;
    run_fixture(FAILED, &r);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_string_equal(r.a.key, "backup-db-01");
    assert_int_equal(r.a.state, ALERT_FIRING);
    assert_int_equal(r.a.priority, 1);
    assert_int_equal(r.a.severity, SEVERITY_HIGH);
    assert_string_equal(r.a.title, "Nightly backup failed on db-01");
    assert_string_equal(r.a.message, "pg_dump exited with status 1");
    assert_string_equal(r.a.url, "https://backup.example.org/runs/8812");
    assert_null(r.a.url_title);
    handler_expect_tags(&r.a, "[]");
    assert_int_equal(r.a.time, 0);
    alert_free(&r.a);
}

static void
test_ok_backup_resolves_the_same_key(void **state)
{
    struct handler_result r;

    (void)state;
    run_fixture("generic/backup-ok.json", &r);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_string_equal(r.a.key, "backup-db-01");
    assert_int_equal(r.a.state, ALERT_RESOLVED);
    assert_int_equal(r.a.priority, ALERT_NO_PRIORITY);
    assert_int_equal(r.a.severity, SEVERITY_WARNING);
    assert_string_equal(r.a.message, "done in 4m");
    assert_null(r.a.url);
    alert_free(&r.a);
}

static void
test_form_post_carries_every_field(void **state)
{
    char *text;
    size_t len;
    struct handler_result r;

    (void)state;
    text = test_read_file(test_fixture_path("generic/disk.form"), &len);
    run_form(text, len, &r);
    free(text);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_string_equal(r.a.key, "disk-db-01");
    assert_string_equal(r.a.title, "Disk 91% full on db-01");
    assert_string_equal(r.a.message, "df: /var/lib/postgresql at 91%");
    assert_int_equal(r.a.priority, 2);
    assert_int_equal(r.a.severity, SEVERITY_CRITICAL);
    assert_string_equal(r.a.url,
                        "https://grafana.example.org/d/disk?var-host=db-01");
    assert_string_equal(r.a.url_title, "Disk dashboard");
    handler_expect_tags(&r.a, "[\"db\",\"disk\"]");
    alert_free(&r.a);
}

static void
test_title_alone_is_enough_and_keys_the_alert(void **state)
{
    static const char body[] = "title=cron+job+late";
    struct handler_result r;

    (void)state;
    run_form(body, sizeof body - 1, &r);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_string_equal(r.a.key, "cron job late");
    assert_int_equal(r.a.state, ALERT_FIRING);
    assert_int_equal(r.a.priority, ALERT_NO_PRIORITY);
    assert_int_equal(r.a.severity, SEVERITY_WARNING);
    assert_null(r.a.message);
    alert_free(&r.a);
}

static void
test_missing_or_mistyped_title_is_named(void **state)
{
    struct handler_result r;

    (void)state;
    run_changed("title", NULL, &r);
    handler_expect(&r, HANDLER_INVALID, "missing field title");
    run_changed("title", json_integer(1), &r);
    handler_expect(&r, HANDLER_INVALID, "title must be a non-empty string");
    run_changed("title", json_string(""), &r);
    handler_expect(&r, HANDLER_INVALID, "title must be a non-empty string");
}

static void
test_states_are_firing_resolved_or_info(void **state)
{
    static const struct {
        const char *name;
        enum alert_state state;
    } cases[] = {
        { "firing", ALERT_FIRING }, { "RESOLVED", ALERT_RESOLVED },
        { "info", ALERT_INFO },
    };
    struct handler_result r;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_changed("state", json_string(cases[i].name), &r);
        assert_int_equal(r.rc, HANDLER_OK);
        assert_int_equal(r.a.state, cases[i].state);
        alert_free(&r.a);
    }
}

static void
test_other_states_are_invalid(void **state)
{
    json_t *bad[] = {
        json_string("acknowledged"), json_string("down"), json_string(""),
        json_integer(1), json_true(),
    };
    struct handler_result r;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        run_changed("state", bad[i], &r);
        handler_expect(&r, HANDLER_INVALID,
                      "state must be one of firing, resolved, info");
    }
}

static void
test_priority_string_from_a_form_is_accepted(void **state)
{
    static const char body[] = "title=x&priority=-2";
    struct handler_result r;

    (void)state;
    run_form(body, sizeof body - 1, &r);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_int_equal(r.a.priority, -2);
    assert_int_equal(r.a.severity, SEVERITY_INFO);
    alert_free(&r.a);
}

static void
test_priority_out_of_range_or_garbled_is_invalid(void **state)
{
    json_t *bad[] = {
        json_integer(3), json_integer(-3), json_real(1e300), json_real(1.0),
        json_string("12abc"), json_string("high"), json_string(""),
        json_integer(INT64_MAX), json_array(),
    };
    struct handler_result r;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        run_changed("priority", bad[i], &r);
        handler_expect(&r, HANDLER_INVALID,
                      "priority must be an integer from -2 to 2");
    }
}

static void
test_severity_name_overrides_the_priority(void **state)
{
    struct handler_result r;

    (void)state;
    run_changed("severity", json_string("Medium"), &r);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_int_equal(r.a.priority, 1);
    assert_int_equal(r.a.severity, SEVERITY_MEDIUM);
    alert_free(&r.a);
}

static void
test_unknown_severity_is_invalid(void **state)
{
    struct handler_result r;

    (void)state;
    run_changed("severity", json_string("sev1"), &r);
    handler_expect(&r, HANDLER_INVALID, "severity must be one of critical, "
                  "high, warning, medium, low, info");
    run_changed("severity", json_integer(0), &r);
    handler_expect(&r, HANDLER_INVALID, "severity must be one of critical, "
                  "high, warning, medium, low, info");
}

static void
test_integer_key_is_used_in_decimal(void **state)
{
    struct handler_result r;

    (void)state;
    run_changed("key", json_integer(8812), &r);
    assert_string_equal(r.a.key, "8812");
    alert_free(&r.a);
}

static void
test_garbage_in_optional_fields_is_ignored(void **state)
{
    json_t *doc = test_fixture_json(FAILED);
    struct handler_result r;

    (void)state;
    json_object_set_new(doc, "key", json_pack("{s:{s:[]}}", "a", "b"));
    json_object_set_new(doc, "message", json_integer(5));
    json_object_set_new(doc, "url", json_array());
    json_object_set_new(doc, "url_title", json_false());
    json_object_set_new(doc, "tags", json_pack("[s,i,[s],s]", "db", 3,
                                               "x", "db"));
    run(doc, &r);
    json_decref(doc);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_string_equal(r.a.key, "Nightly backup failed on db-01");
    assert_null(r.a.message);
    assert_null(r.a.url);
    assert_null(r.a.url_title);
    handler_expect_tags(&r.a, "[\"db\"]");
    alert_free(&r.a);
}

static void
test_huge_title_is_kept_whole(void **state)
{
    size_t len = 1 << 20;
    char *title = malloc(len + 1);
    struct handler_result r;

    (void)state;
    assert_non_null(title);
    memset(title, 't', len);
    title[len] = '\0';
    run_changed("title", json_string(title), &r);
    free(title);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_int_equal(strlen(r.a.title), len);
    assert_string_equal(r.a.key, "backup-db-01");
    alert_free(&r.a);
}

static void
test_empty_object_is_missing_title(void **state)
{
    json_t *doc = json_object();
    struct handler_result r;

    (void)state;
    run(doc, &r);
    json_decref(doc);
    handler_expect(&r, HANDLER_INVALID, "missing field title");
}

static void
test_non_object_payload_is_refused(void **state)
{
    json_t *doc = json_pack("[s]", "title");
    struct handler_result r;

    (void)state;
    run(doc, &r);
    json_decref(doc);
    handler_expect(&r, HANDLER_INVALID, "payload must be a JSON object");
}

static void
test_non_utf8_form_title_is_refused(void **state)
{
    static const char body[] = "title=caf%E9+down";

    (void)state;
    handler_expect_form_refused(body, sizeof body - 1,
                                "body is not valid UTF-8");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failed_backup_fires_with_its_own_priority),
        cmocka_unit_test(test_ok_backup_resolves_the_same_key),
        cmocka_unit_test(test_form_post_carries_every_field),
        cmocka_unit_test(test_title_alone_is_enough_and_keys_the_alert),
        cmocka_unit_test(test_missing_or_mistyped_title_is_named),
        cmocka_unit_test(test_states_are_firing_resolved_or_info),
        cmocka_unit_test(test_other_states_are_invalid),
        cmocka_unit_test(test_priority_string_from_a_form_is_accepted),
        cmocka_unit_test(test_priority_out_of_range_or_garbled_is_invalid),
        cmocka_unit_test(test_severity_name_overrides_the_priority),
        cmocka_unit_test(test_unknown_severity_is_invalid),
        cmocka_unit_test(test_integer_key_is_used_in_decimal),
        cmocka_unit_test(test_garbage_in_optional_fields_is_ignored),
        cmocka_unit_test(test_huge_title_is_kept_whole),
        cmocka_unit_test(test_empty_object_is_missing_title),
        cmocka_unit_test(test_non_object_payload_is_refused),
        cmocka_unit_test(test_non_utf8_form_title_is_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
