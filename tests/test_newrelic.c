/*
 * New Relic webhooks, both families: legacy alert-channel incidents and
 * workflow issues. Each sample payload becomes the expected alert, a
 * form post reads like JSON, sparse templates still work, and hostile
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
#include "tests/support/handler_run.h"
#include "tests/support/testutil.h"

static void
run(const json_t *doc, struct handler_result *r)
{
    handler_run(SOURCE_NEWRELIC, doc, r);
}

static void
run_fixture(const char *name, struct handler_result *r)
{
    handler_run_fixture(SOURCE_NEWRELIC, name, r);
}

/* Fixture name with member replaced by value (NULL: removed). */
static void
run_changed(const char *name, const char *member, json_t *value,
            struct handler_result *r)
{
    json_t *doc = test_fixture_json(name);

    handler_vary(doc, member, value);
    run(doc, r);
    json_decref(doc);
}

#define LEGACY_OPEN "newrelic/legacy-open.json"
#define WORKFLOW "newrelic/workflow-activated.json"

/* ---- legacy alert channel ---- */

static void
test_legacy_open_fires_critical_on_the_target(void **state)
{
    struct handler_result r;

    (void)state;
    run_fixture(LEGACY_OPEN, &r);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_string_equal(r.a.key, "410772211");
    assert_int_equal(r.a.state, ALERT_FIRING);
    assert_int_equal(r.a.severity, SEVERITY_CRITICAL);
    assert_string_equal(r.a.title, "CRITICAL: Disk used > 90% on web-03");
    assert_string_equal(r.a.message,
                        "Fullest Disk % > 90.0 for at least 5 minutes on "
                        "'web-03'\n"
                        "Policy: Customer servers\n"
                        "Runbook: https://wiki.example.org/runbooks/"
                        "disk-full");
    assert_string_equal(r.a.url, "https://alerts.newrelic.com/accounts/"
                        "1160042/incidents/410772211");
    handler_expect_tags(&r.a,
                        "[\"policy:Customer servers\",\"customer:acme\"]");
    assert_int_equal(r.a.time, 1764841620);
    assert_null(r.a.kind);
    alert_free(&r.a);
}

static void
test_legacy_closed_resolves_the_same_incident(void **state)
{
    struct handler_result r;

    (void)state;
    run_fixture("newrelic/legacy-closed.json", &r);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_string_equal(r.a.key, "410772211");
    assert_int_equal(r.a.state, ALERT_RESOLVED);
    assert_string_equal(r.a.title, "RESOLVED: Disk used > 90% on web-03");
    assert_int_equal(r.a.time, 1764842880);
    alert_free(&r.a);
}

static void
test_legacy_acknowledged_names_who(void **state)
{
    json_t *doc = test_fixture_json(LEGACY_OPEN);
    struct handler_result r;

    (void)state;
    json_object_set_new(doc, "current_state", json_string("Acknowledged"));
    json_object_set_new(doc, "owner", json_string("Alice Ng"));
    run(doc, &r);
    json_decref(doc);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_int_equal(r.a.state, ALERT_ACKNOWLEDGED);
    assert_string_equal(r.a.title,
                        "ACKNOWLEDGED: Disk used > 90% on web-03");
    assert_non_null(strstr(r.a.message, "\nAcknowledged by Alice Ng\n"));
    alert_free(&r.a);
}

static void
test_legacy_form_post_reads_like_json(void **state)
{
    struct handler_result form, json;
    json_t *a, *b;

    (void)state;
    run_fixture("newrelic/legacy-open.form", &form);
    run_fixture(LEGACY_OPEN, &json);
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
test_legacy_form_alert_that_is_not_json_is_refused(void **state)
{
    json_t *doc = json_pack("{s:s}", "alert", "disk full");
    struct handler_result r;

    (void)state;
    run(doc, &r);
    json_decref(doc);
    handler_expect(&r, HANDLER_INVALID, "alert must be a JSON object");
}

static void
test_legacy_test_notification_is_info_of_kind_test(void **state)
{
    struct handler_result r;

    (void)state;
    run_fixture("newrelic/legacy-test.json", &r);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_int_equal(r.a.state, ALERT_INFO);
    assert_int_equal(r.a.severity, SEVERITY_INFO);
    assert_string_equal(r.a.kind, "test");
    assert_string_equal(r.a.key, "test:1764846000000");
    assert_string_equal(r.a.title, "TEST: Test Condition on Test Target");
    alert_free(&r.a);
}

static void
test_legacy_notification_event_type_marks_a_test(void **state)
{
    json_t *doc = test_fixture_json(LEGACY_OPEN);
    struct handler_result r;

    (void)state;
    json_object_set_new(doc, "event_type", json_string("NOTIFICATION"));
    run(doc, &r);
    json_decref(doc);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_int_equal(r.a.state, ALERT_INFO);
    assert_string_equal(r.a.kind, "test");
    alert_free(&r.a);
}

static void
test_legacy_details_saying_test_mark_a_test(void **state)
{
    struct handler_result r;

    (void)state;
    run_changed(LEGACY_OPEN, "details",
                json_string("This is a Test Notification"), &r);
    assert_int_equal(r.a.state, ALERT_INFO);
    assert_string_equal(r.a.kind, "test");
    alert_free(&r.a);
}

static void
test_legacy_severity_names_map_case_insensitively(void **state)
{
    static const struct {
        const char *name;
        enum severity severity;
    } cases[] = {
        { "critical", SEVERITY_CRITICAL }, { "WARNING", SEVERITY_WARNING },
        { "Warn", SEVERITY_WARNING }, { "INFO", SEVERITY_INFO },
        { "BOGUS", SEVERITY_WARNING },
    };
    struct handler_result r;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_changed(LEGACY_OPEN, "severity", json_string(cases[i].name), &r);
        assert_int_equal(r.rc, HANDLER_OK);
        assert_int_equal(r.a.severity, cases[i].severity);
        alert_free(&r.a);
    }
}

static void
test_legacy_without_severity_is_a_warning(void **state)
{
    struct handler_result r;

    (void)state;
    run_changed(LEGACY_OPEN, "severity", NULL, &r);
    assert_int_equal(r.a.severity, SEVERITY_WARNING);
    assert_string_equal(r.a.title, "WARNING: Disk used > 90% on web-03");
    alert_free(&r.a);
    run_changed(LEGACY_OPEN, "severity", json_integer(2), &r);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_int_equal(r.a.severity, SEVERITY_WARNING);
    alert_free(&r.a);
}

static void
test_legacy_incident_id_may_be_a_string(void **state)
{
    struct handler_result r;

    (void)state;
    run_changed(LEGACY_OPEN, "incident_id", json_string("INC-77"), &r);
    assert_string_equal(r.a.key, "INC-77");
    alert_free(&r.a);
}

static void
test_legacy_without_incident_id_keys_on_condition_and_target(void **state)
{
    struct handler_result r;

    (void)state;
    run_changed(LEGACY_OPEN, "incident_id", NULL, &r);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_string_equal(r.a.key, "condition:900311:web-03");
    alert_free(&r.a);
}

static void
test_legacy_without_any_id_is_missing_incident_id(void **state)
{
    json_t *doc = test_fixture_json(LEGACY_OPEN);
    struct handler_result r;

    (void)state;
    json_object_del(doc, "incident_id");
    json_object_set_new(doc, "condition_id", json_array());
    run(doc, &r);
    json_decref(doc);
    handler_expect(&r, HANDLER_INVALID, "missing field incident_id");
}

static void
test_legacy_incident_id_of_wrong_type_is_named(void **state)
{
    json_t *bad[] = { json_real(1e300), json_object(), json_true() };
    struct handler_result r;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        run_changed(LEGACY_OPEN, "incident_id", bad[i], &r);
        handler_expect(&r, HANDLER_INVALID,
                      "incident_id must be an integer or a string");
    }
}

static void
test_legacy_current_state_of_wrong_type_is_named(void **state)
{
    struct handler_result r;

    (void)state;
    run_changed(LEGACY_OPEN, "current_state", json_integer(1), &r);
    handler_expect(&r, HANDLER_INVALID, "current_state must be a string");
}

static void
test_legacy_unknown_state_is_ignored_by_name(void **state)
{
    struct handler_result r;

    (void)state;
    run_changed(LEGACY_OPEN, "current_state", json_string("muted"), &r);
    handler_expect(&r, HANDLER_IGNORE, "ignored state muted");
}

static void
test_legacy_several_targets_are_counted_in_the_title(void **state)
{
    json_t *doc = test_fixture_json(LEGACY_OPEN);
    json_t *targets = json_object_get(doc, "targets");
    struct handler_result r;

    (void)state;
    json_array_append_new(targets, json_pack("{s:s,s:{s:s,s:i}}", "name",
                                             "web-04", "labels", "customer",
                                             "acme", "rack", 7));
    json_array_append_new(targets, json_pack("{s:s,s:{s:s}}", "name",
                                             "web-05", "labels", "role",
                                             "web"));
    run(doc, &r);
    json_decref(doc);
    assert_string_equal(r.a.title,
                        "CRITICAL: Disk used > 90% on web-03 and 2 more");
    handler_expect_tags(&r.a, "[\"policy:Customer servers\",\"customer:acme\","
                "\"role:web\"]");
    alert_free(&r.a);
}

static void
test_legacy_garbage_in_optional_fields_is_ignored(void **state)
{
    json_t *doc = test_fixture_json(LEGACY_OPEN);
    struct handler_result r;

    (void)state;
    json_object_set_new(doc, "targets", json_pack("[s,i,[],{s:[]}]", "x", 1,
                                                  "labels"));
    json_object_set_new(doc, "condition_name", json_object());
    json_object_set_new(doc, "details", json_integer(4));
    json_object_set_new(doc, "policy_name", json_null());
    json_object_set_new(doc, "incident_url", json_false());
    json_object_set_new(doc, "timestamp", json_string("yesterday"));
    run(doc, &r);
    json_decref(doc);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_string_equal(r.a.title, "CRITICAL: incident 410772211");
    assert_string_equal(r.a.message, "Runbook: https://wiki.example.org/"
                        "runbooks/disk-full");
    assert_null(r.a.url);
    assert_int_equal(r.a.time, 0);
    handler_expect_tags(&r.a, "[]");
    alert_free(&r.a);
}

/* ---- workflow notifications ---- */

static void
test_workflow_activated_fires_critical(void **state)
{
    struct handler_result r;

    (void)state;
    run_fixture(WORKFLOW, &r);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_string_equal(r.a.key, "6a2f0d8e-31c4-4b5e-9d57-0c2f8a41e7b3");
    assert_int_equal(r.a.state, ALERT_FIRING);
    assert_int_equal(r.a.severity, SEVERITY_CRITICAL);
    assert_string_equal(r.a.title,
                        "cpuPercent > 95 for 5 minutes on 'db-01'");
    assert_string_equal(r.a.message, "Priority CRITICAL, state ACTIVATED\n"
                        "Conditions: High CPU\n"
                        "Policies: Customer servers\n"
                        "Entities: db-01");
    assert_string_equal(r.a.url, "https://radar-api.service.newrelic.com/"
                        "accounts/1160042/issues/"
                        "6a2f0d8e-31c4-4b5e-9d57-0c2f8a41e7b3"
                        "?notifier=WEBHOOK");
    handler_expect_tags(&r.a, "[\"policy:Customer servers\","
                        "\"condition:High CPU\",\"entity:db-01\"]");
    assert_int_equal(r.a.time, 1764843000);
    alert_free(&r.a);
}

static void
test_workflow_high_is_high(void **state)
{
    struct handler_result r;

    (void)state;
    run_fixture("newrelic/workflow-high.json", &r);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_string_equal(r.a.key, "b1c7aa02-0f11-4d07-8f63-5a9d2c1e9f40");
    assert_int_equal(r.a.state, ALERT_FIRING);
    assert_int_equal(r.a.severity, SEVERITY_HIGH);
    assert_string_equal(r.a.title, "Response time > 2 s on 'shop-api'");
    alert_free(&r.a);
}

static void
test_workflow_closed_resolves_at_updated_at(void **state)
{
    struct handler_result r;

    (void)state;
    run_fixture("newrelic/workflow-closed.json", &r);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_string_equal(r.a.key, "6a2f0d8e-31c4-4b5e-9d57-0c2f8a41e7b3");
    assert_int_equal(r.a.state, ALERT_RESOLVED);
    assert_int_equal(r.a.time, 1764843600);
    alert_free(&r.a);
}

static void
test_workflow_sparse_template_still_alerts(void **state)
{
    struct handler_result r;

    (void)state;
    run_fixture("newrelic/workflow-sparse.json", &r);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_string_equal(r.a.key, "https://radar-api.service.newrelic.com/"
                        "accounts/1160042/issues/"
                        "0d41c3aa-77e2-4a55-b3c1-92f0e8d6a111"
                        "?notifier=WEBHOOK");
    assert_int_equal(r.a.state, ALERT_ACKNOWLEDGED);
    assert_int_equal(r.a.severity, SEVERITY_HIGH);
    assert_string_equal(r.a.title, "Memory used > 95% on cache-02");
    assert_string_equal(r.a.message, "state acknowledged\n"
                        "Conditions: Memory used > 95%\n"
                        "Entities: cache-02\n"
                        "Correlated with other issues");
    handler_expect_tags(&r.a, "[\"condition:Memory used > 95%\","
                "\"entity:cache-02\"]");
    assert_int_equal(r.a.time, 1764846300);
    alert_free(&r.a);
}

static void
test_workflow_iso_created_at_is_used_without_updated_at(void **state)
{
    json_t *doc = test_fixture_json("newrelic/workflow-sparse.json");
    struct handler_result r;

    (void)state;
    json_object_del(doc, "updatedAt");
    run(doc, &r);
    json_decref(doc);
    assert_int_equal(r.a.time, 1764846000);
    alert_free(&r.a);
}

static void
test_workflow_iso_time_with_offset_is_converted_to_utc(void **state)
{
    struct handler_result r;

    (void)state;
    run_changed(WORKFLOW, "updatedAt",
                json_string("2025-12-04T12:10:00+02:00"), &r);
    assert_int_equal(r.a.time, 1764843000);
    alert_free(&r.a);
}

static void
test_workflow_state_names_map_case_insensitively(void **state)
{
    static const struct {
        const char *name;
        enum alert_state state;
    } cases[] = {
        { "activated", ALERT_FIRING }, { "Created", ALERT_FIRING },
        { "ACKNOWLEDGED", ALERT_ACKNOWLEDGED }, { "closed", ALERT_RESOLVED },
    };
    struct handler_result r;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_changed(WORKFLOW, "state", json_string(cases[i].name), &r);
        assert_int_equal(r.rc, HANDLER_OK);
        assert_int_equal(r.a.state, cases[i].state);
        alert_free(&r.a);
    }
}

static void
test_workflow_unknown_state_is_ignored_by_name(void **state)
{
    struct handler_result r;

    (void)state;
    run_changed(WORKFLOW, "state", json_string("SNOOZED"), &r);
    handler_expect(&r, HANDLER_IGNORE, "ignored state SNOOZED");
}

static void
test_workflow_without_state_fires(void **state)
{
    struct handler_result r;

    (void)state;
    run_changed(WORKFLOW, "state", NULL, &r);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_int_equal(r.a.state, ALERT_FIRING);
    alert_free(&r.a);
}

static void
test_workflow_priorities_map_case_insensitively(void **state)
{
    static const struct {
        const char *name;
        enum severity severity;
    } cases[] = {
        { "critical", SEVERITY_CRITICAL }, { "High", SEVERITY_HIGH },
        { "MEDIUM", SEVERITY_MEDIUM }, { "low", SEVERITY_LOW },
        { "urgent", SEVERITY_HIGH },
    };
    struct handler_result r;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_changed(WORKFLOW, "priority", json_string(cases[i].name), &r);
        assert_int_equal(r.rc, HANDLER_OK);
        assert_int_equal(r.a.severity, cases[i].severity);
        alert_free(&r.a);
    }
}

static void
test_workflow_without_priority_is_high(void **state)
{
    struct handler_result r;

    (void)state;
    run_changed(WORKFLOW, "priority", NULL, &r);
    assert_int_equal(r.a.severity, SEVERITY_HIGH);
    alert_free(&r.a);
}

static void
test_workflow_without_title_builds_one(void **state)
{
    struct handler_result r;

    (void)state;
    run_changed(WORKFLOW, "title", json_integer(9), &r);
    assert_string_equal(r.a.title, "High CPU on db-01");
    alert_free(&r.a);
}

static void
test_workflow_without_id_or_url_is_missing_id(void **state)
{
    json_t *doc = test_fixture_json(WORKFLOW);
    struct handler_result r;

    (void)state;
    json_object_set_new(doc, "id", json_object());
    json_object_del(doc, "issueUrl");
    run(doc, &r);
    json_decref(doc);
    handler_expect(&r, HANDLER_INVALID, "missing field id");
}

static void
test_workflow_numeric_id_is_used_in_decimal(void **state)
{
    struct handler_result r;

    (void)state;
    run_changed(WORKFLOW, "id", json_integer(88), &r);
    assert_string_equal(r.a.key, "88");
    alert_free(&r.a);
}

static void
test_workflow_string_booleans_and_bad_times_are_tolerated(void **state)
{
    json_t *doc = test_fixture_json(WORKFLOW);
    struct handler_result r;

    (void)state;
    json_object_set_new(doc, "isCorrelated", json_string("false"));
    json_object_set_new(doc, "updatedAt", json_real(1e300));
    json_object_set_new(doc, "createdAt", json_string("12abc"));
    json_object_set_new(doc, "alertPolicyNames", json_string("x"));
    json_object_set_new(doc, "impactedEntities", json_pack("[{s:s}]", "a",
                                                           "b"));
    run(doc, &r);
    json_decref(doc);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_int_equal(r.a.time, 0);
    handler_expect_tags(&r.a, "[\"condition:High CPU\"]");
    assert_string_equal(r.a.message, "Priority CRITICAL, state ACTIVATED\n"
                        "Conditions: High CPU");
    alert_free(&r.a);
}

/* ---- neither family ---- */

static void
test_payload_of_neither_family_is_refused(void **state)
{
    json_t *doc = json_pack("{s:s,s:i}", "title", "x", "priority", 1);
    struct handler_result r;

    (void)state;
    run(doc, &r);
    json_decref(doc);
    handler_expect(&r, HANDLER_INVALID,
                  "missing field current_state or state");
}

static void
test_empty_object_is_refused(void **state)
{
    json_t *doc = json_object();
    struct handler_result r;

    (void)state;
    run(doc, &r);
    json_decref(doc);
    handler_expect(&r, HANDLER_INVALID,
                  "missing field current_state or state");
}

static void
test_non_utf8_in_a_form_alert_is_refused(void **state)
{
    static const char body[] = "alert=%7B%22current_state%22%3A%22op"
                               "%E9n%22%7D";

    (void)state;
    handler_expect_form_refused(body, sizeof body - 1,
                                "body is not valid UTF-8");
}

static void
test_truncated_form_alert_is_refused(void **state)
{
    static const char body[] = "alert=%7B%22current_state%22%3A%22open";

    (void)state;
    handler_expect_form_refused(body, sizeof body - 1,
                                "field alert: invalid JSON at line 1 "
                                "column 22: premature end of input near "
                                "'\"open'");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_legacy_open_fires_critical_on_the_target),
        cmocka_unit_test(test_legacy_closed_resolves_the_same_incident),
        cmocka_unit_test(test_legacy_acknowledged_names_who),
        cmocka_unit_test(test_legacy_form_post_reads_like_json),
        cmocka_unit_test(test_legacy_form_alert_that_is_not_json_is_refused),
        cmocka_unit_test(test_legacy_test_notification_is_info_of_kind_test),
        cmocka_unit_test(test_legacy_notification_event_type_marks_a_test),
        cmocka_unit_test(test_legacy_details_saying_test_mark_a_test),
        cmocka_unit_test(test_legacy_severity_names_map_case_insensitively),
        cmocka_unit_test(test_legacy_without_severity_is_a_warning),
        cmocka_unit_test(test_legacy_incident_id_may_be_a_string),
        cmocka_unit_test(
            test_legacy_without_incident_id_keys_on_condition_and_target),
        cmocka_unit_test(test_legacy_without_any_id_is_missing_incident_id),
        cmocka_unit_test(test_legacy_incident_id_of_wrong_type_is_named),
        cmocka_unit_test(test_legacy_current_state_of_wrong_type_is_named),
        cmocka_unit_test(test_legacy_unknown_state_is_ignored_by_name),
        cmocka_unit_test(
            test_legacy_several_targets_are_counted_in_the_title),
        cmocka_unit_test(test_legacy_garbage_in_optional_fields_is_ignored),
        cmocka_unit_test(test_workflow_activated_fires_critical),
        cmocka_unit_test(test_workflow_high_is_high),
        cmocka_unit_test(test_workflow_closed_resolves_at_updated_at),
        cmocka_unit_test(test_workflow_sparse_template_still_alerts),
        cmocka_unit_test(
            test_workflow_iso_created_at_is_used_without_updated_at),
        cmocka_unit_test(
            test_workflow_iso_time_with_offset_is_converted_to_utc),
        cmocka_unit_test(test_workflow_state_names_map_case_insensitively),
        cmocka_unit_test(test_workflow_unknown_state_is_ignored_by_name),
        cmocka_unit_test(test_workflow_without_state_fires),
        cmocka_unit_test(test_workflow_priorities_map_case_insensitively),
        cmocka_unit_test(test_workflow_without_priority_is_high),
        cmocka_unit_test(test_workflow_without_title_builds_one),
        cmocka_unit_test(test_workflow_without_id_or_url_is_missing_id),
        cmocka_unit_test(test_workflow_numeric_id_is_used_in_decimal),
        cmocka_unit_test(
            test_workflow_string_booleans_and_bad_times_are_tolerated),
        cmocka_unit_test(test_payload_of_neither_family_is_refused),
        cmocka_unit_test(test_empty_object_is_refused),
        cmocka_unit_test(test_non_utf8_in_a_form_alert_is_refused),
        cmocka_unit_test(test_truncated_form_alert_is_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
