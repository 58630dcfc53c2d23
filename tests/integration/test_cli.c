/*
 * The command line: classify gives every sample payload the decision
 * the fixtures' README lists; check-config reports problems by line;
 * usage and exit codes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "tests/support/daemon.h"
#include "tests/support/testutil.h"

static const char people_config[] =
    "people = (\n"
    "  { name = \"alice\"; pushover = \"uAliceKey\"; on_call = true; },\n"
    "  { name = \"bob\"; pushover = \"uBobKey\"; on_call = true; },\n"
    "  { name = \"carol\"; pushover = \"uCarolKey\"; }\n"
    ");\n";

struct expectation {
    const char *source;
    const char *fixture;
    const char *state;          /* NULL: ignored by the handler */
    int priority;
    int siren;
    const char *recipients;     /* joined by ',' */
};

static const struct expectation table[] = {
    { "pingdom", "pingdom/down.json", "firing", 1, 1, "alice,bob" },
    { "pingdom", "pingdom/up.json", "resolved", 0, 0, "alice,bob" },
    { "pingdom", "pingdom/tcp-down-low.json", "firing", 0, 0, "alice,bob" },
    { "newrelic", "newrelic/legacy-open.json", "firing", 1, 1, "alice,bob" },
    { "newrelic", "newrelic/legacy-closed.json", "resolved", -1, 0,
      "alice,bob" },
    { "newrelic", "newrelic/workflow-activated.json", "firing", 1, 1,
      "alice,bob" },
    { "newrelic", "newrelic/workflow-high.json", "firing", 0, 0,
      "alice,bob" },
    { "newrelic", "newrelic/workflow-closed.json", "resolved", -1, 0,
      "alice,bob" },
    { "sirportly", "sirportly/assigned.form", "info", 0, 0, "alice" },
    { "sirportly", "sirportly/unassigned-twin.form", NULL, 0, 0, NULL },
    { "sirportly", "sirportly/customer-reply.json", "info", 0, 0, "alice" },
    { "sirportly", "sirportly/own-reply.json", NULL, 0, 0, NULL },
    { "hashgate", "hashgate/changes.json", "firing", 2, 1, "alice,bob" },
    { "generic", "generic/backup-failed.json", "firing", 1, 0,
      "alice,bob" },
    { "generic", "generic/backup-ok.json", "resolved", 0, 0, "alice,bob" },
};

static void
check_one(const char *config, const struct expectation *e)
{
    char *out, joined[128] = "";
    json_t *doc, *d, *who;
    json_error_t err;
    size_t i;
    int rc;

    rc = klaxon_run(&out, "classify", "-c", config, e->source,
                    test_fixture_path(e->fixture), NULL);
    if (rc != 0)
        fail_msg("%s: exit %d: %s", e->fixture, rc, out);
    if (!(doc = json_loads(out, 0, &err)))
        fail_msg("%s: output is not JSON: %s", e->fixture, out);
    if (!e->state) {
        assert_string_equal(json_string_value(json_object_get(doc,
                            "status")), "ignored");
        goto done;
    }
    assert_string_equal(json_string_value(json_object_get(
        json_object_get(doc, "alert"), "state")), e->state);
    d = json_object_get(doc, "decision");
    if (json_integer_value(json_object_get(d, "priority")) != e->priority ||
        json_is_true(json_object_get(d, "siren")) != e->siren)
        fail_msg("%s: decision %s", e->fixture, out);
    json_array_foreach(json_object_get(d, "recipients"), i, who)
        snprintf(joined + strlen(joined), sizeof joined - strlen(joined),
                 "%s%s", i ? "," : "", json_string_value(who));
    if (strcmp(joined, e->recipients) != 0)
        fail_msg("%s: recipients %s, want %s", e->fixture, joined,
                 e->recipients);
done:
    json_decref(doc);
    free(out);
}

static void
test_every_fixture_gets_its_documented_decision(void **state)
{
    struct daemon d;
    size_t i;

    (void)state;
    daemon_init(&d);
    daemon_write_config(&d, "%s", people_config);
    for (i = 0; i < sizeof table / sizeof *table; i++)
        check_one(d.config, &table[i]);
    daemon_cleanup(&d);
}

static void
test_rule_overrides_default_in_office_hours_only(void **state)
{
    struct daemon d;
    char *out;
    json_t *doc;

    (void)state;
    daemon_init(&d);
    /* Every day, all day: the rule always matches. */
    daemon_write_config(&d, "%srules = ( { source = \"pingdom\"; "
                        "tags = [\"wordpress\"]; days = \"sun-sat\"; "
                        "hours = \"00:00-24:00\"; priority = 2; "
                        "to = [\"carol\"]; } );\n", people_config);
    assert_int_equal(klaxon_run(&out, "classify", "-c", d.config, "pingdom",
                                test_fixture_path("pingdom/down.json"),
                                NULL), 0);
    doc = json_loads(out, 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(
        json_object_get(doc, "decision"), "priority")), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(
        json_object_get(doc, "decision"), "recipients"), 0)), "carol");
    /* The siren was left unset by the rule: the default stays. */
    assert_true(json_is_true(json_object_get(json_object_get(doc,
                                             "decision"), "siren")));
    json_decref(doc);
    free(out);
    daemon_cleanup(&d);
}

static void
test_check_config_reports_each_problem_with_its_line(void **state)
{
    struct daemon d;
    char *out;

    (void)state;
    daemon_init(&d);
    daemon_write_config(&d,
        "server: { listen = [\"127.0.0.1:99999\"]; colour = \"red\"; };\n"
        "pushover: { token = \"t\"; retry = 5; expire = 20000; };\n"
        "rules = ( { source = \"pingdom\"; to = [\"nobody\"]; } );\n");
    assert_int_equal(klaxon_run(&out, "check-config", "-c", d.config, NULL),
                     2);
    assert_non_null(strstr(out, "klaxon.conf:1: listen address "
                           "'127.0.0.1:99999': port must be"));
    assert_non_null(strstr(out, "klaxon.conf:1: unknown key 'colour'"));
    assert_non_null(strstr(out, "klaxon.conf:2: 'retry' must be from 30"));
    assert_non_null(strstr(out, "klaxon.conf:2: 'expire' must be from 30 "
                           "to 10800"));
    assert_non_null(strstr(out, "klaxon.conf:3: rule sends to 'nobody'"));
    free(out);
    daemon_cleanup(&d);
}

static void
test_check_config_accepts_the_example_and_reads_env_secrets(void **state)
{
    struct daemon d;
    char *out;

    (void)state;
    assert_int_equal(klaxon_run(&out, "check-config", "-c",
                                "conf/klaxon.conf", NULL), 0);
    assert_non_null(strstr(out, "conf/klaxon.conf: ok"));
    free(out);

    daemon_init(&d);
    daemon_write_config(&d, "pushover: { token = \"env:KLAXON_TEST_NOPE\"; "
                        "};\n");
    unsetenv("KLAXON_TEST_NOPE");
    assert_int_equal(klaxon_run(&out, "check-config", "-c", d.config, NULL),
                     2);
    assert_non_null(strstr(out, "environment variable is not set"));
    free(out);
    setenv("KLAXON_TEST_NOPE", "fromenvironment", 1);
    assert_int_equal(klaxon_run(&out, "check-config", "-c", d.config, NULL),
                     0);
    free(out);
    daemon_cleanup(&d);
}

static void
test_syntax_error_names_file_and_line(void **state)
{
    struct daemon d;
    char *out;

    (void)state;
    daemon_init(&d);
    daemon_write_config(&d, "server: {\n  max_body = ;\n};\n");
    assert_int_equal(klaxon_run(&out, "check-config", "-c", d.config, NULL),
                     2);
    assert_non_null(strstr(out, "klaxon.conf:2: syntax error"));
    free(out);
    assert_int_equal(klaxon_run(&out, "serve", "-c", d.config, NULL), 2);
    assert_non_null(strstr(out, "klaxon.conf:2"));
    free(out);
    daemon_cleanup(&d);
}

static void
test_usage_and_exit_codes(void **state)
{
    char *out;

    (void)state;
    assert_int_equal(klaxon_run(&out, "--version", NULL), 0);
    assert_non_null(strstr(out, "klaxon "));
    free(out);
    assert_int_equal(klaxon_run(&out, "serve", "--help", NULL), 0);
    assert_non_null(strstr(out, "usage: klaxon serve"));
    free(out);
    assert_int_equal(klaxon_run(&out, "classify", "--help", NULL), 0);
    free(out);
    assert_int_equal(klaxon_run(&out, "check-config", "--help", NULL), 0);
    free(out);
    assert_int_equal(klaxon_run(&out, "help", "scan", NULL), 0);
    assert_non_null(strstr(out, "usage: klaxon scan"));
    free(out);
    assert_int_equal(klaxon_run(&out, "frobnicate", NULL), 2);
    assert_non_null(strstr(out, "unknown command 'frobnicate'"));
    free(out);
    assert_int_equal(klaxon_run(&out, "classify", "nosuchsource", "-",
                                NULL), 2);
    free(out);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_fixture_gets_its_documented_decision),
        cmocka_unit_test(test_rule_overrides_default_in_office_hours_only),
        cmocka_unit_test(test_check_config_reports_each_problem_with_its_line),
        cmocka_unit_test(
            test_check_config_accepts_the_example_and_reads_env_secrets),
        cmocka_unit_test(test_syntax_error_names_file_and_line),
        cmocka_unit_test(test_usage_and_exit_codes),
    };

    return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
