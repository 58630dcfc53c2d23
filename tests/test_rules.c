/*
 * Deciding priority, recipients and siren: built-in defaults, first
 * matching rule, office hours, and recipient resolution.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conf/hours.h"
#include "server/rules.h"
#include "tests/support/testutil.h"

/* 2025-12-05 was a Friday; 10:00 and 23:00 UTC. */
#define FRIDAY_10 ((time_t)1764928800)
#define FRIDAY_23 ((time_t)1764975600)
#define SATURDAY_03 ((time_t)1764990000)

static struct config *
config_from(const char *text)
{
    struct config *cfg = calloc(1, sizeof *cfg);
    struct config_errors errs = { 0 };
    char *dir = test_tempdir(), path[512];
    FILE *f;

    snprintf(path, sizeof path, "%s/k.conf", dir);
    f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    if (config_load(cfg, path, &errs) < 0)
        fail_msg("config: %s", errs.count ? errs.lines[0] : "?");
    config_errors_free(&errs);
    test_rmtree(dir);
    free(dir);
    return cfg;
}

static void
config_drop(struct config *cfg)
{
    config_free(cfg);
    free(cfg);
}

static const char people[] =
    "people = ( { name = \"alice\"; pushover = \"uA\"; on_call = true; },\n"
    "  { name = \"bob\"; pushover = \"uB\"; on_call = true; },\n"
    "  { name = \"carol\"; pushover = \"uC\"; sirportly = \"cjones\"; },\n"
    "  { name = \"dave\"; sirportly = \"dave\"; } );\n";

static void
alert_of(struct alert *a, enum source s, enum alert_state st,
         enum severity sev)
{
    alert_init(a, s);
    a->state = st;
    a->severity = sev;
    alert_set(&a->key, "k1");
    alert_set(&a->title, "DOWN: shop.example.org homepage");
}

static char *
joined(const struct decision *d)
{
    static char buf[256];
    size_t i;

    buf[0] = '\0';
    for (i = 0; d->recipients && d->recipients[i]; i++)
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%s",
                 i ? "," : "", d->recipients[i]);
    return buf;
}

static void
expect(const struct config *cfg, const struct alert *a, time_t now,
       int priority, bool siren, const char *who)
{
    struct decision d;

    assert_int_equal(rules_decide(cfg, a, now, &d), 0);
    if (d.priority != priority || d.siren != siren ||
        strcmp(joined(&d), who) != 0)
        fail_msg("decided priority %d siren %d to '%s'; want %d %d '%s'",
                 d.priority, d.siren, joined(&d), priority, siren, who);
    decision_free(&d);
}

static void
test_defaults_per_source(void **state)
{
    struct config *cfg = config_from(people);
    struct alert a;

    (void)state;
    alert_of(&a, SOURCE_PINGDOM, ALERT_FIRING, SEVERITY_CRITICAL);
    expect(cfg, &a, FRIDAY_10, 1, true, "alice,bob");
    a.severity = SEVERITY_WARNING;
    expect(cfg, &a, FRIDAY_10, 0, false, "alice,bob");
    a.state = ALERT_RESOLVED;
    a.severity = SEVERITY_CRITICAL;
    expect(cfg, &a, FRIDAY_10, 0, false, "alice,bob");
    alert_free(&a);

    alert_of(&a, SOURCE_NEWRELIC, ALERT_FIRING, SEVERITY_CRITICAL);
    expect(cfg, &a, FRIDAY_10, 1, true, "alice,bob");
    a.severity = SEVERITY_HIGH;
    expect(cfg, &a, FRIDAY_10, 0, false, "alice,bob");
    a.severity = SEVERITY_MEDIUM;
    expect(cfg, &a, FRIDAY_10, -1, false, "alice,bob");
    a.state = ALERT_ACKNOWLEDGED;
    expect(cfg, &a, FRIDAY_10, -1, false, "alice,bob");
    alert_free(&a);

    alert_of(&a, SOURCE_HASHGATE, ALERT_FIRING, SEVERITY_HIGH);
    expect(cfg, &a, FRIDAY_10, 1, false, "alice,bob");
    a.malicious = true;
    expect(cfg, &a, FRIDAY_10, 2, true, "alice,bob");
    a.state = ALERT_RESOLVED;
    expect(cfg, &a, FRIDAY_10, 0, false, "alice,bob");
    alert_free(&a);
    alert_of(&a, SOURCE_HASHGATE, ALERT_FIRING, SEVERITY_CRITICAL);
    a.kind = strdup("baseline");
    expect(cfg, &a, FRIDAY_10, 2, true, "alice,bob");
    alert_free(&a);

    alert_of(&a, SOURCE_GENERIC, ALERT_FIRING, SEVERITY_WARNING);
    expect(cfg, &a, FRIDAY_10, 0, false, "alice,bob");
    a.priority = -2;
    expect(cfg, &a, FRIDAY_10, -2, false, "alice,bob");
    alert_free(&a);
    config_drop(cfg);
}

static void
test_sirportly_goes_to_the_assignee_by_sirportly_name(void **state)
{
    struct config *cfg = config_from(people);
    struct decision d;
    struct alert a;

    (void)state;
    alert_of(&a, SOURCE_SIRPORTLY, ALERT_INFO, SEVERITY_INFO);
    alert_set(&a.kind, "customer_reply");
    alert_set(&a.assignee, "cjones");
    expect(cfg, &a, FRIDAY_10, 0, false, "carol");
    alert_set(&a.kind, "staff_reply");
    expect(cfg, &a, FRIDAY_10, -1, false, "carol");

    /* Known person without a Pushover key: left out, with a note. */
    alert_set(&a.assignee, "dave");
    assert_int_equal(rules_decide(cfg, &a, FRIDAY_10, &d), 0);
    assert_null(d.recipients);
    assert_string_equal(d.note, "\"dave\" has no pushover key");
    decision_free(&d);
    alert_set(&a.assignee, "zed");
    assert_int_equal(rules_decide(cfg, &a, FRIDAY_10, &d), 0);
    assert_string_equal(d.note, "assignee \"zed\" is not in people");
    decision_free(&d);
    /* A name from the sender cannot start a forged log line. */
    alert_set(&a.assignee, "zed\ninfo serve: forged");
    assert_int_equal(rules_decide(cfg, &a, FRIDAY_10, &d), 0);
    assert_string_equal(d.note, "assignee \"zed?info serve: forged\" is "
                        "not in people");
    decision_free(&d);
    alert_free(&a);
    config_drop(cfg);
}

static void
test_first_matching_rule_decides(void **state)
{
    char text[2048];
    struct config *cfg;
    struct decision d;
    struct alert a;

    (void)state;
    snprintf(text, sizeof text, "%srules = (\n"
             "  { source = \"newrelic\"; priority = -2; },\n"
             "  { tags = [\"vip\", \"shop\"]; priority = 2; to = "
             "[\"carol\"]; },\n"
             "  { name = \"down:*SHOP*\"; priority = 1; siren = false; },\n"
             "  { severity = \"warning\"; ignore = true; }\n);\n", people);
    cfg = config_from(text);
    alert_of(&a, SOURCE_PINGDOM, ALERT_FIRING, SEVERITY_CRITICAL);
    /* Tags must all be present. */
    alert_add_tag(&a, "vip");
    expect(cfg, &a, FRIDAY_10, 1, false, "alice,bob");
    alert_add_tag(&a, "shop");
    expect(cfg, &a, FRIDAY_10, 2, true, "carol");
    alert_free(&a);

    alert_of(&a, SOURCE_PINGDOM, ALERT_FIRING, SEVERITY_WARNING);
    alert_set(&a.title, "DOWN: mail relay");
    assert_int_equal(rules_decide(cfg, &a, FRIDAY_10, &d), 0);
    assert_true(d.ignore);
    assert_int_equal(d.rule->line, 9);
    decision_free(&d);
    alert_free(&a);
    config_drop(cfg);
}

static void
test_office_hours_follow_the_time_zone(void **state)
{
    char text[2048];
    struct config *cfg;
    struct alert a;

    (void)state;
    snprintf(text, sizeof text, "%srules = ( { days = \"mon-fri\"; "
             "hours = \"09:00-17:30\"; priority = 2; } );\n", people);
    cfg = config_from(text);
    alert_of(&a, SOURCE_GENERIC, ALERT_FIRING, SEVERITY_WARNING);
    rules_set_timezone(NULL);
    expect(cfg, &a, FRIDAY_10, 2, false, "alice,bob");
    expect(cfg, &a, FRIDAY_23, 0, false, "alice,bob");
    expect(cfg, &a, SATURDAY_03, 0, false, "alice,bob");
    /* 10:00 UTC is 19:00 in Tokyo: outside office hours there. */
    rules_set_timezone("Asia/Tokyo");
    expect(cfg, &a, FRIDAY_10, 0, false, "alice,bob");
    rules_set_timezone(NULL);
    alert_free(&a);
    config_drop(cfg);
}

static void
test_hours_wrap_past_midnight_on_the_starting_day(void **state)
{
    struct rule_hours h;
    struct tm tm = { 0 };

    (void)state;
    assert_int_equal(hours_parse_days("fri", &h.days), 0);
    assert_int_equal(hours_parse_range("22:00-07:00", &h.from_min,
                                       &h.to_min), 0);
    tm.tm_wday = 5;
    tm.tm_hour = 23;
    assert_true(hours_contain(&h, &tm));
    tm.tm_wday = 6;
    tm.tm_hour = 3;
    assert_true(hours_contain(&h, &tm));
    tm.tm_hour = 23;
    assert_false(hours_contain(&h, &tm));
    tm.tm_wday = 5;
    tm.tm_hour = 3;
    assert_false(hours_contain(&h, &tm));
    tm.tm_hour = 7;
    tm.tm_wday = 6;
    assert_false(hours_contain(&h, &tm));
}

static void
test_day_lists_and_ranges_parse(void **state)
{
    unsigned days;
    int from, to;

    (void)state;
    assert_int_equal(hours_parse_days("mon-fri", &days), 0);
    assert_int_equal(days, 0x3e);
    assert_int_equal(hours_parse_days("Sat,SUN", &days), 0);
    assert_int_equal(days, 0x41);
    assert_int_equal(hours_parse_days("fri-mon", &days), 0);
    assert_int_equal(days, 0x63);
    assert_int_equal(hours_parse_days("", &days), -1);
    assert_int_equal(hours_parse_days("mon-", &days), -1);
    assert_int_equal(hours_parse_days("monday", &days), -1);
    assert_int_equal(hours_parse_range("00:00-24:00", &from, &to), 0);
    assert_int_equal(to, 1440);
    assert_int_equal(hours_parse_range("9:00-17:00", &from, &to), -1);
    assert_int_equal(hours_parse_range("09:00-09:00", &from, &to), -1);
    assert_int_equal(hours_parse_range("25:00-26:00", &from, &to), -1);
    assert_int_equal(hours_parse_range("09:60-10:00", &from, &to), -1);
}

static void
test_decision_json_names_the_rule(void **state)
{
    char text[2048], *out;
    struct config *cfg;
    struct decision d;
    struct alert a;
    json_t *j;

    (void)state;
    snprintf(text, sizeof text, "%srules = ( { priority = -1; } );\n",
             people);
    cfg = config_from(text);
    alert_of(&a, SOURCE_GENERIC, ALERT_FIRING, SEVERITY_WARNING);
    rules_decide(cfg, &a, FRIDAY_10, &d);
    j = decision_to_json(&d);
    out = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    assert_non_null(strstr(out, "\"priority\":-1"));
    assert_non_null(strstr(out, "/k.conf:5\""));
    assert_non_null(strstr(out, "\"recipients\":[\"alice\",\"bob\"]"));
    free(out);
    json_decref(j);
    decision_free(&d);
    alert_free(&a);
    config_drop(cfg);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_per_source),
        cmocka_unit_test(test_sirportly_goes_to_the_assignee_by_sirportly_name),
        cmocka_unit_test(test_first_matching_rule_decides),
        cmocka_unit_test(test_office_hours_follow_the_time_zone),
        cmocka_unit_test(test_hours_wrap_past_midnight_on_the_starting_day),
        cmocka_unit_test(test_day_lists_and_ranges_parse),
        cmocka_unit_test(test_decision_json_names_the_rule),
    };

    return cmocka_run_group_tests_name("rules", tests, NULL, NULL);
}
