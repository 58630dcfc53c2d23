/*
 * Pingdom webhooks: every sample payload becomes the alert an on-call
 * engineer should see, form posts read the same as JSON, and hostile
 * payloads are refused with a reason that names the field.
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

static void
run(const json_t *doc, struct handler_result *r)
{
    handler_run(SOURCE_PINGDOM, doc, r);
}

static void
run_fixture(const char *name, struct handler_result *r)
{
    handler_run_fixture(SOURCE_PINGDOM, name, r);
}

/* down.json with member name replaced by value (NULL: removed). */
static void
run_changed(const char *name, json_t *value, struct handler_result *r)
{
    json_t *doc = test_fixture_json("pingdom/down.json");

    handler_vary(doc, name, value);
    run(doc, r);
    json_decref(doc);
}

static void
assert_invalid(struct handler_result *r, const char *reason)
{
    assert_int_equal(r->rc, HANDLER_INVALID);
    assert_string_equal(r->reason, reason);
    alert_free(&r->a);
}

static void
test_down_fires_critical_with_check_details(void **state)
{
    struct handler_result r;

    (void)state;
    run_fixture("pingdom/down.json", &r);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_string_equal(r.a.key, "7341902");
    assert_int_equal(r.a.state, ALERT_FIRING);
    assert_int_equal(r.a.severity, SEVERITY_CRITICAL);
    assert_string_equal(r.a.title, "DOWN: shop.example.org homepage");
    assert_string_equal(r.a.message,
                        "HTTP Error 503\n"
                        "HTTP Server Error 503 Service Unavailable\n"
                        "HTTP check of shop.example.org\n"
                        "Probes: Frankfurt, Germany; Amsterdam, Netherlands");
    assert_string_equal(r.a.url, "https://shop.example.org/");
    assert_null(r.a.url_title);
    assert_string_equal(r.a.kind, "check");
    handler_expect_tags(&r.a, "[\"customer-acme\",\"wordpress\"]");
    assert_int_equal(r.a.time, 1764841500);
    assert_int_equal(r.a.priority, ALERT_NO_PRIORITY);
    assert_null(r.a.assignee);
    alert_free(&r.a);
}

static void
test_up_resolves_the_same_key(void **state)
{
    struct handler_result r;

    (void)state;
    run_fixture("pingdom/up.json", &r);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_string_equal(r.a.key, "7341902");
    assert_int_equal(r.a.state, ALERT_RESOLVED);
    assert_string_equal(r.a.title, "UP: shop.example.org homepage");
    assert_string_equal(r.a.message, "OK\n"
                        "HTTP check of shop.example.org\n"
                        "Probes: Frankfurt, Germany");
    assert_int_equal(r.a.time, 1764842100);
    alert_free(&r.a);
}

static void
test_low_importance_smtp_check_is_a_warning_without_url(void **state)
{
    struct handler_result r;

    (void)state;
    run_fixture("pingdom/tcp-down-low.json", &r);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_string_equal(r.a.key, "55120");
    assert_int_equal(r.a.state, ALERT_FIRING);
    assert_int_equal(r.a.severity, SEVERITY_WARNING);
    assert_string_equal(r.a.title, "DOWN: mail relay smtp");
    assert_string_equal(r.a.message, "Timeout\nConnection timed out\n"
                        "SMTP check of mx1.example.net\n"
                        "Probes: London, UK; Paris, France");
    assert_null(r.a.url);
    handler_expect_tags(&r.a, "[]");
    assert_int_equal(r.a.time, 1764850000);
    alert_free(&r.a);
}

static void
test_failing_transaction_fires_with_kind_transaction(void **state)
{
    struct handler_result r;

    (void)state;
    run_fixture("pingdom/transaction-failing.json", &r);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_string_equal(r.a.key, "8812004");
    assert_int_equal(r.a.state, ALERT_FIRING);
    assert_string_equal(r.a.title, "FAILING: shop checkout flow");
    assert_string_equal(r.a.kind, "transaction");
    assert_string_equal(r.a.url, "https://shop.example.org/checkout");
    assert_string_equal(r.a.message, "Transaction failed\n"
                        "Step 4: element #pay-button not found\n"
                        "TRANSACTION check\n"
                        "Probes: Stockholm, Sweden");
    alert_free(&r.a);
}

static void
test_successful_transaction_resolves(void **state)
{
    struct handler_result r;
    json_t *doc = test_fixture_json("pingdom/transaction-failing.json");

    (void)state;
    json_object_set_new(doc, "current_state", json_string("SUCCESS"));
    run(doc, &r);
    json_decref(doc);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_int_equal(r.a.state, ALERT_RESOLVED);
    assert_string_equal(r.a.title, "SUCCESS: shop checkout flow");
    assert_string_equal(r.a.kind, "transaction");
    alert_free(&r.a);
}

static void
test_form_post_reads_like_json(void **state)
{
    struct handler_result form, json;
    json_t *a, *b;

    (void)state;
    run_fixture("pingdom/down.form", &form);
    run_fixture("pingdom/down.json", &json);
    assert_int_equal(form.rc, HANDLER_OK);
    a = alert_to_json(&form.a);
    b = alert_to_json(&json.a);
    assert_true(json_equal(a, b));
    json_decref(a);
    json_decref(b);
    alert_free(&form.a);
    alert_free(&json.a);
}

static void
test_form_message_that_is_not_json_is_refused(void **state)
{
    struct handler_result r;
    json_t *doc = json_pack("{s:s}", "message", "check is down");

    (void)state;
    run(doc, &r);
    json_decref(doc);
    assert_invalid(&r, "message must be a JSON object");
}

static void
test_check_id_as_string_from_a_form_is_accepted(void **state)
{
    struct handler_result r;

    (void)state;
    run_changed("check_id", json_string("0007341902"), &r);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_string_equal(r.a.key, "7341902");
    alert_free(&r.a);
}

static void
test_missing_check_id_is_named(void **state)
{
    struct handler_result r;

    (void)state;
    run_changed("check_id", NULL, &r);
    assert_invalid(&r, "missing field check_id");
    run_changed("check_id", json_null(), &r);
    assert_invalid(&r, "missing field check_id");
}

static void
test_check_id_out_of_range_or_garbled_is_invalid(void **state)
{
    json_t *bad[] = {
        json_real(1e300), json_integer(-1), json_integer(0),
        json_string("12abc"), json_string(""), json_string(" 12"),
        json_string("99999999999999999999"), json_true(), json_array(),
        json_object(), json_real(7341902.0),
    };
    struct handler_result r;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        run_changed("check_id", bad[i], &r);
        assert_invalid(&r, "check_id must be a positive integer");
    }
}

static void
test_missing_or_mistyped_current_state_is_named(void **state)
{
    struct handler_result r;

    (void)state;
    run_changed("current_state", NULL, &r);
    assert_invalid(&r, "missing field current_state");
    run_changed("current_state", json_integer(1), &r);
    assert_invalid(&r, "current_state must be a string");
    run_changed("current_state", json_pack("{s:s}", "a", "DOWN"), &r);
    assert_invalid(&r, "current_state must be a string");
}

static void
test_other_states_are_ignored_by_name(void **state)
{
    struct handler_result r;

    (void)state;
    run_changed("current_state", json_string("PAUSED"), &r);
    assert_int_equal(r.rc, HANDLER_IGNORE);
    assert_string_equal(r.reason, "ignored state PAUSED");
    alert_free(&r.a);
}

static void
test_ignored_state_reason_quotes_a_short_printable_excerpt(void **state)
{
    char huge[5000];
    struct handler_result r;

    (void)state;

    /* A control byte, then an e-acute straddling the 40-byte cut. */
    memset(huge, 'Q', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    memcpy(huge, "A\n", 2);
    memcpy(huge + 39, "\xc3\xa9", 2);
    run_changed("current_state", json_string(huge), &r);
    assert_int_equal(r.rc, HANDLER_IGNORE);
    assert_string_equal(r.reason, "ignored state A?"
                        "QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ...");
    alert_free(&r.a);
}

static void
test_state_names_are_case_insensitive(void **state)
{
    struct handler_result r;

    (void)state;
    run_changed("current_state", json_string("down"), &r);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_int_equal(r.a.state, ALERT_FIRING);
    assert_string_equal(r.a.title, "DOWN: shop.example.org homepage");
    alert_free(&r.a);
}

static void
test_missing_or_unknown_importance_is_critical(void **state)
{
    struct handler_result r;

    (void)state;
    run_changed("importance_level", NULL, &r);
    assert_int_equal(r.a.severity, SEVERITY_CRITICAL);
    alert_free(&r.a);
    run_changed("importance_level", json_string("MEDIUM"), &r);
    assert_int_equal(r.a.severity, SEVERITY_CRITICAL);
    alert_free(&r.a);
    run_changed("importance_level", json_integer(3), &r);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_int_equal(r.a.severity, SEVERITY_CRITICAL);
    alert_free(&r.a);
    run_changed("importance_level", json_string("low"), &r);
    assert_int_equal(r.a.severity, SEVERITY_WARNING);
    alert_free(&r.a);
}

static void
test_bare_payload_with_only_required_fields_works(void **state)
{
    json_t *doc = json_pack("{s:i,s:s,s:{},s:{},s:[]}", "check_id", 42,
                            "current_state", "DOWN", "first_probe",
                            "second_probe", "tags");
    struct handler_result r;

    (void)state;
    run(doc, &r);
    json_decref(doc);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_string_equal(r.a.key, "42");
    assert_string_equal(r.a.title, "DOWN: check 42");
    assert_null(r.a.message);
    assert_null(r.a.url);
    assert_int_equal(r.a.time, 0);
    assert_string_equal(r.a.kind, "check");
    alert_free(&r.a);
}

static void
test_time_falls_back_to_utc_time_text(void **state)
{
    struct handler_result r;

    (void)state;
    run_changed("state_changed_timestamp", json_string("soon"), &r);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_int_equal(r.a.time, 1764841500);
    alert_free(&r.a);
    run_changed("state_changed_timestamp", json_real(-5), &r);
    assert_int_equal(r.a.time, 1764841500);
    alert_free(&r.a);
}

static void
test_unusable_times_leave_time_zero(void **state)
{
    json_t *doc = test_fixture_json("pingdom/down.json");
    struct handler_result r;

    (void)state;
    json_object_set_new(doc, "state_changed_timestamp", json_real(1e300));
    json_object_set_new(doc, "state_changed_utc_time",
                        json_string("2025-12-04T09:45:00 garbage"));
    run(doc, &r);
    json_decref(doc);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_int_equal(r.a.time, 0);
    alert_free(&r.a);
}

static void
test_wrongly_typed_optional_fields_are_ignored(void **state)
{
    json_t *doc = test_fixture_json("pingdom/down.json");
    struct handler_result r;

    (void)state;
    json_object_set_new(doc, "check_name", json_integer(5));
    json_object_set_new(doc, "check_params", json_string("x"));
    json_object_set_new(doc, "tags", json_pack("[i,s,{s:s},[s],n]", 1,
                                               "ok", "a", "b", "c"));
    json_object_set_new(doc, "description", json_array());
    json_object_set_new(doc, "long_description", json_false());
    json_object_set_new(doc, "check_type", json_object());
    json_object_set_new(doc, "first_probe", json_string("Frankfurt"));
    json_object_set_new(doc, "second_probe", json_pack("{s:i}",
                                                       "location", 1));
    run(doc, &r);
    json_decref(doc);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_string_equal(r.a.title, "DOWN: check 7341902");
    assert_null(r.a.url);
    assert_null(r.a.message);
    handler_expect_tags(&r.a, "[\"ok\"]");
    alert_free(&r.a);
}

static void
test_deeply_nested_garbage_does_not_matter(void **state)
{
    json_t *doc = test_fixture_json("pingdom/down.json");
    json_t *nest = json_string("core");
    struct handler_result r;
    int i;

    (void)state;
    for (i = 0; i < 1000; i++)
        nest = json_pack("{s:o}", "location", nest);
    json_object_set_new(doc, "first_probe", nest);
    run(doc, &r);
    json_decref(doc);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_string_equal(r.a.message,
                        "HTTP Error 503\n"
                        "HTTP Server Error 503 Service Unavailable\n"
                        "HTTP check of shop.example.org\n"
                        "Probes: Amsterdam, Netherlands");
    alert_free(&r.a);
}

static void
test_huge_check_name_is_kept_whole(void **state)
{
    size_t len = 1 << 20;
    char *name = malloc(len + 1);
    struct handler_result r;

    (void)state;
    assert_non_null(name);
    memset(name, 'x', len);
    name[len] = '\0';
    run_changed("check_name", json_string(name), &r);
    free(name);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_int_equal(strlen(r.a.title), len + strlen("DOWN: "));
    alert_free(&r.a);
}

static void
test_empty_object_is_missing_check_id(void **state)
{
    json_t *doc = json_object();
    struct handler_result r;

    (void)state;
    run(doc, &r);
    json_decref(doc);
    assert_invalid(&r, "missing field check_id");
}

static void
test_truncated_json_is_refused_before_the_handler(void **state)
{
    char *text = test_read_file(test_fixture_path("pingdom/down.json"),
                                NULL);
    char reason[256];
    int status = 0;

    (void)state;
    assert_null(body_decode("application/json", text, 120, &status, reason,
                            sizeof reason));
    free(text);
    assert_int_equal(status, 400);
    assert_string_equal(reason, "invalid JSON at line 6 column 6: "
                        "premature end of input near '\"b'");
}

static void
test_non_utf8_in_a_form_message_is_refused(void **state)
{
    static const char body[] = "message=%7B%22check_id%22%3A1%2C"
                               "%22check_name%22%3A%22%FF%22%7D";

    (void)state;
    handler_expect_form_refused(body, sizeof body - 1,
                                "body is not valid UTF-8");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_down_fires_critical_with_check_details),
        cmocka_unit_test(test_up_resolves_the_same_key),
        cmocka_unit_test(
            test_low_importance_smtp_check_is_a_warning_without_url),
        cmocka_unit_test(test_failing_transaction_fires_with_kind_transaction),
        cmocka_unit_test(test_successful_transaction_resolves),
        cmocka_unit_test(test_form_post_reads_like_json),
        cmocka_unit_test(test_form_message_that_is_not_json_is_refused),
        cmocka_unit_test(test_check_id_as_string_from_a_form_is_accepted),
        cmocka_unit_test(test_missing_check_id_is_named),
        cmocka_unit_test(test_check_id_out_of_range_or_garbled_is_invalid),
        cmocka_unit_test(test_missing_or_mistyped_current_state_is_named),
        cmocka_unit_test(test_other_states_are_ignored_by_name),
        cmocka_unit_test(
            test_ignored_state_reason_quotes_a_short_printable_excerpt),
        cmocka_unit_test(test_state_names_are_case_insensitive),
        cmocka_unit_test(test_missing_or_unknown_importance_is_critical),
        cmocka_unit_test(test_bare_payload_with_only_required_fields_works),
        cmocka_unit_test(test_time_falls_back_to_utc_time_text),
        cmocka_unit_test(test_unusable_times_leave_time_zero),
        cmocka_unit_test(test_wrongly_typed_optional_fields_are_ignored),
        cmocka_unit_test(test_deeply_nested_garbage_does_not_matter),
        cmocka_unit_test(test_huge_check_name_is_kept_whole),
        cmocka_unit_test(test_empty_object_is_missing_check_id),
        cmocka_unit_test(test_truncated_json_is_refused_before_the_handler),
        cmocka_unit_test(test_non_utf8_in_a_form_message_is_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
