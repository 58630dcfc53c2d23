/*
 * The scanner's report: findings become one alert per host whose key
 * stays the same while the findings do, flagged files lead the message,
 * and malformed reports are refused with a reason naming the element.
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

#define REPORT "hashgate/changes.json"
/* Checked against an independent SHA-256 of the sorted change lines. */
#define REVISION "c792eefc7e992bf72ef6974f285c25d6"
#define KEY "web-03:/var/www/shop"

static void
run(const json_t *doc, struct handler_result *r)
{
    handler_run(SOURCE_HASHGATE, doc, r);
}

static void
run_fixture(const char *name, struct handler_result *r)
{
    handler_run_fixture(SOURCE_HASHGATE, name, r);
}

/* The report with member of changes[index] (index < 0: of the report)
   replaced by value (NULL: removed). */
static void
run_changed(int index, const char *member, json_t *value,
            struct handler_result *r)
{
    json_t *doc = test_fixture_json(REPORT);
    json_t *obj = index < 0 ? doc :
                  json_array_get(json_object_get(doc, "changes"), index);

    handler_vary(obj, member, value);
    run(doc, r);
    json_decref(doc);
}

static void
test_flagged_report_is_critical_and_malicious(void **state)
{
    struct handler_result r;

    (void)state;
    run_fixture(REPORT, &r);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_string_equal(r.a.key, KEY);
    assert_string_equal(r.a.revision, REVISION ":malicious");
    assert_int_equal(r.a.state, ALERT_FIRING);
    assert_int_equal(r.a.severity, SEVERITY_CRITICAL);
    assert_true(r.a.malicious);
    assert_string_equal(r.a.title, "web-03: 4 files changed under "
                        "/var/www/shop, 1 flagged by VirusTotal");
    handler_expect_tags(&r.a, "[\"host:web-03\",\"malicious\"]");
    assert_int_equal(r.a.time, 1764842407);
    assert_null(r.a.url);
    alert_free(&r.a);
}

static void
test_message_lists_flagged_files_first_then_by_type(void **state)
{
    struct handler_result r;

    (void)state;
    run_fixture(REPORT, &r);
    assert_string_equal(r.a.message,
                        "added wp-content/uploads/2025/12/cache.php "
                        "(VirusTotal: 41 malicious)\n"
                        "modified wp-includes/version.php\n"
                        "deleted readme.html\n"
                        "attributes changed wp-config.php "
                        "(mode 0640 -> 0666)");
    alert_free(&r.a);
}

static void
test_clean_report_is_high_and_keeps_outside_paths_whole(void **state)
{
    struct handler_result r;

    (void)state;
    run_fixture("hashgate/clean.json", &r);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_string_equal(r.a.revision, "7a1a0f9edf3cbfc5832b9a66b3a4d941");
    assert_int_equal(r.a.severity, SEVERITY_HIGH);
    assert_false(r.a.malicious);
    assert_string_equal(r.a.title,
                        "web-07: 2 files changed under /var/www/blog/");
    assert_string_equal(r.a.message, "added /etc/cron.d/blog-backup\n"
                        "modified wp-content/themes/blog/style.css");
    handler_expect_tags(&r.a, "[\"host:web-07\"]");

    /* scan_finished carries a +01:00 offset. */
    assert_int_equal(r.a.time, 1764842402);
    alert_free(&r.a);
}

static void
test_same_findings_in_another_order_have_the_same_key(void **state)
{
    json_t *doc = test_fixture_json(REPORT);
    json_t *changes = json_object_get(doc, "changes");
    struct handler_result r;

    (void)state;
    json_array_append(changes, json_array_get(changes, 0));
    json_array_remove(changes, 0);
    json_array_append(changes, json_array_get(changes, 1));
    json_array_remove(changes, 1);
    run(doc, &r);
    json_decref(doc);
    assert_string_equal(r.a.revision, REVISION ":malicious");
    alert_free(&r.a);
}

static void
test_a_later_malicious_verdict_changes_the_revision_suffix(void **state)
{
    struct handler_result r;

    (void)state;
    run_changed(0, "virustotal", NULL, &r);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_string_equal(r.a.key, KEY);
    assert_string_equal(r.a.revision, REVISION);
    assert_false(r.a.malicious);
    assert_int_equal(r.a.severity, SEVERITY_HIGH);
    assert_string_equal(r.a.title, "web-03: 4 files changed under "
                        "/var/www/shop");
    handler_expect_tags(&r.a, "[\"host:web-03\"]");
    alert_free(&r.a);
}

static void
test_a_different_new_hash_is_a_different_revision(void **state)
{
    struct handler_result r;

    (void)state;
    run_changed(1, "sha256", json_string("00"), &r);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_string_equal(r.a.key, KEY);
    assert_string_not_equal(r.a.revision, REVISION ":malicious");
    assert_int_equal(strlen(r.a.revision), strlen(REVISION ":malicious"));
    alert_free(&r.a);
}

static void
test_malicious_count_may_be_a_string(void **state)
{
    static const char flagged[] =
        "added wp-content/uploads/2025/12/cache.php "
        "(VirusTotal: 41 malicious)\n"
        "modified wp-includes/version.php (VirusTotal: 3 malicious)\n";
    struct handler_result r;

    (void)state;
    run_changed(1, "virustotal", json_pack("{s:s}", "malicious", "3"), &r);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_string_equal(r.a.title, "web-03: 4 files changed under "
                        "/var/www/shop, 2 flagged by VirusTotal");
    assert_true(strncmp(r.a.message, flagged, strlen(flagged)) == 0);
    alert_free(&r.a);
}

static void
test_unusable_virustotal_counts_flag_nothing(void **state)
{
    json_t *bad[] = {
        json_pack("{s:i}", "malicious", -2),
        json_pack("{s:f}", "malicious", 1e300),
        json_pack("{s:s}", "malicious", "many"),
        json_pack("{s:[[{}]]}", "malicious"),
        json_string("41"),
    };
    struct handler_result r;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        run_changed(0, "virustotal", bad[i], &r);
        assert_int_equal(r.rc, HANDLER_OK);
        assert_false(r.a.malicious);
        assert_string_equal(r.a.revision, REVISION);
        alert_free(&r.a);
    }
}

static void
test_one_change_reads_in_the_singular(void **state)
{
    json_t *doc = test_fixture_json(REPORT);
    struct handler_result r;

    (void)state;
    json_array_remove(json_object_get(doc, "changes"), 0);
    json_array_remove(json_object_get(doc, "changes"), 0);
    json_array_remove(json_object_get(doc, "changes"), 0);
    json_object_del(doc, "root");
    run(doc, &r);
    json_decref(doc);
    assert_string_equal(r.a.title, "web-03: 1 file changed");
    assert_string_equal(r.a.message, "deleted /var/www/shop/readme.html");
    alert_free(&r.a);
}

static void
test_no_changes_resolves_the_root(void **state)
{
    struct handler_result r;

    (void)state;
    run_changed(-1, "changes", json_array(), &r);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_int_equal(r.a.state, ALERT_RESOLVED);
    assert_string_equal(r.a.key, KEY);
    assert_null(r.a.revision);
    assert_string_equal(r.a.title, "web-03: no changes under /var/www/shop");
    assert_string_equal(r.a.message, "18342 files match the baseline");
    alert_free(&r.a);
}

static void
test_missing_or_mistyped_host_is_named(void **state)
{
    struct handler_result r;

    (void)state;
    run_changed(-1, "host", NULL, &r);
    handler_expect(&r, HANDLER_INVALID, "missing field host");
    run_changed(-1, "host", json_integer(3), &r);
    handler_expect(&r, HANDLER_INVALID, "host must be a non-empty string");
    run_changed(-1, "host", json_string(""), &r);
    handler_expect(&r, HANDLER_INVALID, "host must be a non-empty string");
}

static void
test_missing_or_mistyped_changes_is_named(void **state)
{
    struct handler_result r;

    (void)state;
    run_changed(-1, "changes", NULL, &r);
    handler_expect(&r, HANDLER_INVALID, "missing field changes");
    run_changed(-1, "changes", json_object(), &r);
    handler_expect(&r, HANDLER_INVALID, "changes must be an array");
    run_changed(-1, "changes", json_string("[]"), &r);
    handler_expect(&r, HANDLER_INVALID, "changes must be an array");
}

static void
test_change_that_is_not_an_object_is_named(void **state)
{
    json_t *doc = test_fixture_json(REPORT);
    struct handler_result r;

    (void)state;
    json_array_set_new(json_object_get(doc, "changes"), 1,
                       json_pack("[[[s]]]", "added"));
    run(doc, &r);
    json_decref(doc);
    handler_expect(&r, HANDLER_INVALID, "changes[1] must be an object");
}

static void
test_change_without_path_is_named(void **state)
{
    struct handler_result r;

    (void)state;
    run_changed(3, "path", NULL, &r);
    handler_expect(&r, HANDLER_INVALID, "missing field changes[3].path");
    run_changed(3, "path", json_integer(7), &r);
    handler_expect(&r, HANDLER_INVALID,
                  "changes[3].path must be a non-empty string");
}

static void
test_unknown_kind_of_change_is_named(void **state)
{
    struct handler_result r;

    (void)state;
    run_changed(2, "change", json_string("renamed"), &r);
    handler_expect(&r, HANDLER_INVALID, "changes[2].change must be one of "
                  "added, modified, deleted, attributes");
    run_changed(2, "change", json_string("ADDED"), &r);
    handler_expect(&r, HANDLER_INVALID, "changes[2].change must be one of "
                  "added, modified, deleted, attributes");
    run_changed(2, "change", NULL, &r);
    handler_expect(&r, HANDLER_INVALID, "missing field changes[2].change");
}

static void
test_unusable_scan_time_leaves_time_zero(void **state)
{
    struct handler_result r;

    (void)state;
    run_changed(-1, "scan_finished", json_string("2025-12-04"), &r);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_int_equal(r.a.time, 0);
    alert_free(&r.a);
}

static void
test_thousands_of_changes_are_all_listed(void **state)
{
    json_t *doc = json_pack("{s:s,s:s,s:[]}", "host", "web-09", "root",
                            "/srv", "changes");
    json_t *changes = json_object_get(doc, "changes");
    char path[64];
    struct handler_result r;
    int i;

    (void)state;
    for (i = 0; i < 20000; i++) {
        snprintf(path, sizeof path, "/srv/cache/%05d.php", i);
        json_array_append_new(changes, json_pack("{s:s,s:s}", "path", path,
                                                 "change", "added"));
    }
    run(doc, &r);
    json_decref(doc);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_string_equal(r.a.title, "web-09: 20000 files changed under /srv");
    assert_int_equal(strlen(r.a.message),
                     20000 * strlen("added cache/00000.php\n") - 1);
    alert_free(&r.a);
}

static void
test_a_second_permission_change_is_a_different_revision(void **state)
{
    struct handler_result r;
    char *first;

    (void)state;
    run_fixture(REPORT, &r);
    first = strdup(r.a.revision);
    alert_free(&r.a);
    run_changed(2, "mode", json_string("0777"), &r);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_string_not_equal(r.a.revision, first);
    free(first);
    alert_free(&r.a);
}

static void
test_a_forged_baseline_is_its_own_alert(void **state)
{
    struct handler_result r;

    (void)state;
    run_fixture("hashgate/baseline-tampered.json", &r);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_int_equal(r.a.state, ALERT_FIRING);
    assert_int_equal(r.a.severity, SEVERITY_CRITICAL);
    assert_string_equal(r.a.kind, "baseline");
    assert_string_equal(r.a.key, "web-03:baseline:baseline_auth:"
                        "/var/lib/klaxon/baseline.db");
    assert_string_equal(r.a.title, "web-03: integrity baseline "
                        "/var/lib/klaxon/baseline.db cannot be trusted");
    alert_free(&r.a);
    run_changed(-1, "error", json_pack("{ss}", "type", "x"), &r);
    assert_int_equal(r.rc, HANDLER_INVALID);
    assert_string_equal(r.reason, "error needs type and baseline strings");
    alert_free(&r.a);
}

static void
test_truncated_report_is_refused_before_the_handler(void **state)
{
    char *text = test_read_file(test_fixture_path(REPORT), NULL);
    char reason[256];
    int status = 0;

    (void)state;
    assert_null(body_decode("application/json", text, 300, &status, reason,
                            sizeof reason));
    free(text);
    assert_int_equal(status, 400);
    assert_string_equal(reason, "invalid JSON at line 11 column 26: "
                        "premature end of input near '\"2c8f4a0e9'");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flagged_report_is_critical_and_malicious),
        cmocka_unit_test(test_message_lists_flagged_files_first_then_by_type),
        cmocka_unit_test(
            test_clean_report_is_high_and_keeps_outside_paths_whole),
        cmocka_unit_test(
            test_same_findings_in_another_order_have_the_same_key),
        cmocka_unit_test(
            test_a_later_malicious_verdict_changes_the_revision_suffix),
        cmocka_unit_test(test_a_different_new_hash_is_a_different_revision),
        cmocka_unit_test(
            test_a_second_permission_change_is_a_different_revision),
        cmocka_unit_test(test_a_forged_baseline_is_its_own_alert),
        cmocka_unit_test(test_malicious_count_may_be_a_string),
        cmocka_unit_test(test_unusable_virustotal_counts_flag_nothing),
        cmocka_unit_test(test_one_change_reads_in_the_singular),
        cmocka_unit_test(test_no_changes_resolves_the_root),
        cmocka_unit_test(test_missing_or_mistyped_host_is_named),
        cmocka_unit_test(test_missing_or_mistyped_changes_is_named),
        cmocka_unit_test(test_change_that_is_not_an_object_is_named),
        cmocka_unit_test(test_change_without_path_is_named),
        cmocka_unit_test(test_unknown_kind_of_change_is_named),
        cmocka_unit_test(test_unusable_scan_time_leaves_time_zero),
        cmocka_unit_test(test_thousands_of_changes_are_all_listed),
        cmocka_unit_test(test_truncated_report_is_refused_before_the_handler),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
