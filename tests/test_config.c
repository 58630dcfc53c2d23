/*
 * Config loading: defaults, every section, and errors reported with the
 * file and line.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conf/config.h"
#include "tests/support/testutil.h"

struct loaded {
    char *dir;
    char path[512];
    struct config cfg;
    struct config_errors errs;
    int rc;
};

static void
load_text(struct loaded *l, const char *text)
{
    FILE *f;

    memset(l, 0, sizeof *l);
    l->dir = test_tempdir();
    snprintf(l->path, sizeof l->path, "%s/k.conf", l->dir);
    f = fopen(l->path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    l->rc = config_load(&l->cfg, l->path, &l->errs);
}

static void
unload(struct loaded *l)
{
    config_free(&l->cfg);
    config_errors_free(&l->errs);
    test_rmtree(l->dir);
    free(l->dir);
}

/* Whether some error line ends with ":LINE: text...". */
static bool
has_error(const struct loaded *l, int line, const char *text)
{
    char want[256];
    size_t i;

    snprintf(want, sizeof want, "k.conf:%d: %s", line, text);
    for (i = 0; i < l->errs.count; i++) {
        if (strstr(l->errs.lines[i], want))
            return true;
    }
    return false;
}

static void
print_errors(const struct loaded *l)
{
    size_t i;

    for (i = 0; i < l->errs.count; i++)
        print_message("%s\n", l->errs.lines[i]);
}

static void
test_defaults_work_on_a_laptop(void **state)
{
    struct config cfg;
    int s;

    (void)state;
    assert_int_equal(config_defaults(&cfg), 0);
    assert_string_equal(cfg.server.listen[0], "127.0.0.1:8080");
    assert_null(cfg.server.listen[1]);
    assert_int_equal(cfg.server.max_body, 1048576);
    assert_string_equal(cfg.journal.path, "klaxon.db");
    assert_string_equal(cfg.siren.driver, "none");
    assert_int_equal(cfg.pushover.retry, 60);
    assert_int_equal(cfg.pushover.expire, 3600);
    assert_int_equal(cfg.scanner.virustotal.per_minute, 4);
    assert_null(cfg.pushover.token);
    /* Without a file every source gets a token made up for the run. */
    assert_int_equal(config_make_tokens(&cfg), 0);
    for (s = 0; s < SOURCE_COUNT; s++) {
        assert_true(cfg.sources[s].random_token);
        assert_int_equal(strlen(cfg.sources[s].tokens[0]), 36);
    }
    assert_string_not_equal(cfg.sources[0].tokens[0],
                            cfg.sources[1].tokens[0]);
    config_free(&cfg);
}

static void
test_example_config_is_valid(void **state)
{
    struct config_errors errs = { 0 };
    struct config cfg;

    (void)state;
    assert_int_equal(config_load(&cfg, "conf/klaxon.conf", &errs), 0);
    assert_int_equal(errs.count, 0);
    assert_true(cfg.sources[SOURCE_PINGDOM].random_token);
    assert_int_equal(cfg.npeople, 1);
    assert_true(cfg.people[0].on_call);
    config_free(&cfg);
    config_errors_free(&errs);
}

static void
test_every_section_is_read(void **state)
{
    struct loaded l;

    (void)state;
    setenv("KLAXON_TEST_TOKEN", "from-the-environment", 1);
    load_text(&l,
        "server: { listen = [\"[::1]:9000\", \"*:9001\"]; max_body = 4096; "
        "admin_token = \"admin-secret\"; };\n"
        "journal: { path = \"/tmp/x.db\"; retain_days = 7; };\n"
        "timezone = \"Europe/London\";\n"
        "sources: { pingdom = { token = \"env:KLAXON_TEST_TOKEN\"; };\n"
        "  generic = { token = [\"new-token-1\", \"old-token-1\"]; "
        "hmac_key = \"k\"; }; };\n"
        "people = ( { name = \"alice\"; pushover = \"uA\"; sirportly = "
        "\"ali\"; on_call = true; }, { name = \"bob\"; } );\n"
        "pushover: { token = \"app\"; api_url = \"http://127.0.0.1:1/1/"
        "messages.json\"; retry = 30; expire = 10800; };\n"
        "siren: { driver = \"command\"; on = [\"/bin/true\"]; "
        "off = [\"/bin/false\", \"x\"]; duration = 5; "
        "quiet_hours = \"22:00-07:00\"; sound_channel = 2; };\n"
        "scanner: { paths = [\"/srv\"]; exclude = [\"cache/**\"]; "
        "virustotal = { api_key = \"vt\"; per_minute = 2; }; };\n");
    print_errors(&l);
    assert_int_equal(l.rc, 0);
    assert_string_equal(l.cfg.server.listen[1], "*:9001");
    assert_int_equal(l.cfg.server.max_body, 4096);
    assert_string_equal(l.cfg.sources[SOURCE_PINGDOM].tokens[0],
                        "from-the-environment");
    assert_string_equal(l.cfg.sources[SOURCE_GENERIC].tokens[1],
                        "old-token-1");
    assert_string_equal(l.cfg.sources[SOURCE_GENERIC].hmac_header,
                        "X-Signature");
    /* A file that names its sources disables the others. */
    assert_int_equal(strv_len(l.cfg.sources[SOURCE_NEWRELIC].tokens), 0);
    assert_false(l.cfg.sources[SOURCE_NEWRELIC].random_token);
    assert_string_equal(config_person_by_sirportly(&l.cfg, "ali")->name,
                        "alice");
    assert_string_equal(config_person_by_sirportly(&l.cfg, "bob")->name,
                        "bob");
    assert_null(config_person(&l.cfg, "bob")->pushover);
    assert_int_equal(l.cfg.pushover.expire, 10800);
    assert_string_equal(l.cfg.siren.off[1], "x");
    assert_true(l.cfg.siren.has_quiet_hours);
    assert_int_equal(l.cfg.siren.quiet_hours.from_min, 22 * 60);
    assert_string_equal(l.cfg.scanner.exclude[0], "cache/**");
    assert_int_equal(l.cfg.scanner.virustotal.per_minute, 2);
    unload(&l);
}

static void
test_unknown_keys_are_errors_with_their_line(void **state)
{
    struct loaded l;

    (void)state;
    load_text(&l, "server: {\n  listen = [\"127.0.0.1:1\"];\n"
              "  lisen = 3;\n};\nfoo = 1;\n"
              "sources: { pingdum = { token = \"abcdefgh\"; }; };\n");
    assert_int_equal(l.rc, -1);
    assert_true(has_error(&l, 3, "unknown key 'lisen'"));
    assert_true(has_error(&l, 5, "unknown key 'foo'"));
    assert_true(has_error(&l, 6, "unknown source 'pingdum'"));
    unload(&l);
}

static void
test_wrong_types_and_ranges_are_reported(void **state)
{
    struct loaded l;

    (void)state;
    load_text(&l, "server: { max_body = \"big\"; timeout = 0; };\n"
              "pushover: { retry = 29; expire = 10801; api_url = "
              "\"ftp://x\"; };\n"
              "people = ( { pushover = \"k\"; }, { name = \"@x\"; } );\n"
              "siren: { driver = \"klaxon\"; };\n");
    assert_int_equal(l.rc, -1);
    assert_true(has_error(&l, 1, "'max_body' must be an integer"));
    assert_true(has_error(&l, 1, "'timeout' must be from 1 to 3600"));
    assert_true(has_error(&l, 2, "'retry' must be from 30 to 10800"));
    assert_true(has_error(&l, 2, "'expire' must be from 30 to 10800"));
    assert_true(has_error(&l, 2, "'api_url' must start with https://"));
    assert_true(has_error(&l, 3, "person needs a 'name'"));
    assert_true(has_error(&l, 3, "person name '@x' must not start"));
    assert_true(has_error(&l, 4, "unknown siren driver 'klaxon'"));
    unload(&l);
}

/* Found by fuzzing: a nameless person's fields leaked, or were taken
   over by the next person in the list. */
static void
test_a_person_without_name_leaves_nothing_behind(void **state)
{
    struct loaded l;

    (void)state;
    load_text(&l, "people = ( { pushover = \"uNameless\"; sirportly = "
              "\"x\"; }, { name = \"bob\"; } );\n");
    assert_int_equal(l.rc, -1);
    assert_true(has_error(&l, 1, "person needs a 'name'"));
    assert_int_equal(l.cfg.npeople, 1);
    assert_string_equal(l.cfg.people[0].name, "bob");
    assert_null(l.cfg.people[0].pushover);
    assert_null(l.cfg.people[0].sirportly);
    unload(&l);
}

static void
test_bad_listen_addresses_are_rejected(void **state)
{
    static const char *const bad[] = {
        "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "::1:80",
        "[::1]80", "127.0.0.1:http", ":80",
    };
    char text[128];
    struct loaded l;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(text, sizeof text, "server: { listen = [\"%s\"]; };\n",
                 bad[i]);
        load_text(&l, text);
        if (l.rc != -1)
            fail_msg("listen address '%s' was accepted", bad[i]);
        assert_true(has_error(&l, 1, "listen address"));
        unload(&l);
    }
}

static void
test_missing_environment_secret_is_an_error(void **state)
{
    struct loaded l;

    (void)state;
    unsetenv("KLAXON_TEST_ABSENT");
    load_text(&l, "pushover: { token = \"env:KLAXON_TEST_ABSENT\"; };\n");
    assert_int_equal(l.rc, -1);
    assert_true(has_error(&l, 1, "'token': environment variable is not "
                          "set ('env:KLAXON_TEST_ABSENT')"));
    unload(&l);
}

static void
test_tokens_random_empty_and_short(void **state)
{
    struct loaded l;

    (void)state;
    load_text(&l, "sources: { pingdom = { token = \"random\"; };\n"
              "  newrelic = { token = \"\"; };\n"
              "  generic = { token = \"short\"; }; };\n");
    assert_int_equal(l.rc, -1);
    assert_true(has_error(&l, 3,
                          "generic token must be at least 8 characters"));
    assert_true(l.cfg.sources[SOURCE_PINGDOM].random_token);
    assert_int_equal(strv_len(l.cfg.sources[SOURCE_NEWRELIC].tokens), 0);
    unload(&l);
}

static void
test_rules_are_read_in_order(void **state)
{
    struct loaded l;

    (void)state;
    load_text(&l,
        "people = ( { name = \"alice\"; pushover = \"k\"; } );\n"
        "rules = (\n"
        "  { source = \"pingdom\"; state = \"firing\"; severity = "
        "[\"critical\", \"high\"]; tags = [\"vip\"]; name = \"*shop*\";\n"
        "    days = \"mon-fri\"; hours = \"09:00-17:30\"; priority = 2; "
        "to = [\"alice\", \"@on_call\"]; siren = false; repeat = true; },\n"
        "  { ignore = true; }\n);\n");
    print_errors(&l);
    assert_int_equal(l.rc, 0);
    assert_int_equal(l.cfg.nrules, 2);
    assert_int_equal(l.cfg.rules[0].line, 3);
    assert_int_equal(l.cfg.rules[0].source, SOURCE_PINGDOM);
    assert_int_equal(l.cfg.rules[0].state, ALERT_FIRING);
    assert_int_equal(l.cfg.rules[0].severities,
                     (1u << SEVERITY_CRITICAL) | (1u << SEVERITY_HIGH));
    assert_int_equal(l.cfg.rules[0].hours.days, 0x3e);
    assert_int_equal(l.cfg.rules[0].hours.from_min, 9 * 60);
    assert_int_equal(l.cfg.rules[0].hours.to_min, 17 * 60 + 30);
    assert_int_equal(l.cfg.rules[0].siren, 0);
    assert_true(l.cfg.rules[0].repeat);
    assert_true(l.cfg.rules[1].ignore);
    assert_int_equal(l.cfg.rules[1].siren, -1);
    unload(&l);
}

static void
test_bad_rules_are_reported(void **state)
{
    struct loaded l;

    (void)state;
    load_text(&l,
        "rules = (\n"
        "  { source = \"nagios\"; },\n"
        "  { state = \"burning\"; severity = \"dire\"; },\n"
        "  { days = \"mon-fry\"; hours = \"9-5\"; },\n"
        "  { priority = 3; to = [\"nobody\"]; },\n"
        "  { ignore = true; priority = 1; }\n);\n");
    assert_int_equal(l.rc, -1);
    assert_true(has_error(&l, 2, "unknown source 'nagios'"));
    assert_true(has_error(&l, 3, "unknown state 'burning'"));
    assert_true(has_error(&l, 3, "unknown severity 'dire'"));
    assert_true(has_error(&l, 4, "'days' must look like"));
    assert_true(has_error(&l, 4, "'hours' must look like"));
    assert_true(has_error(&l, 5, "'priority' must be from -2 to 2"));
    assert_true(has_error(&l, 5, "rule sends to 'nobody'"));
    assert_true(has_error(&l, 6, "an 'ignore' rule takes no priority"));
    unload(&l);
}

static void
test_syntax_error_and_missing_file(void **state)
{
    struct config_errors errs = { 0 };
    struct config cfg;
    struct loaded l;

    (void)state;
    load_text(&l, "server: {\n  max_body = ;\n};\n");
    assert_int_equal(l.rc, -1);
    assert_true(has_error(&l, 2, "syntax error"));
    unload(&l);

    assert_int_equal(config_load(&cfg, "/nonexistent/k.conf", &errs), -1);
    assert_int_equal(errs.count, 1);
    assert_string_equal(errs.lines[0],
                        "/nonexistent/k.conf: cannot read the file: "
                        "No such file or directory");
    config_free(&cfg);
    config_errors_free(&errs);
}

static void
test_siren_drivers_need_their_settings(void **state)
{
    struct loaded l;

    (void)state;
    load_text(&l, "siren: { driver = \"command\"; on = [\"/bin/true\"]; };\n");
    assert_int_equal(l.rc, -1);
    assert_true(has_error(&l, 1, "siren driver 'command' needs 'on' and "
                          "'off'"));
    unload(&l);
    load_text(&l, "siren: { driver = \"serial\"; };\n");
    assert_true(has_error(&l, 1, "siren driver 'serial' needs a 'device'"));
    unload(&l);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_work_on_a_laptop),
        cmocka_unit_test(test_example_config_is_valid),
        cmocka_unit_test(test_every_section_is_read),
        cmocka_unit_test(test_unknown_keys_are_errors_with_their_line),
        cmocka_unit_test(test_wrong_types_and_ranges_are_reported),
        cmocka_unit_test(test_a_person_without_name_leaves_nothing_behind),
        cmocka_unit_test(test_bad_listen_addresses_are_rejected),
        cmocka_unit_test(test_missing_environment_secret_is_an_error),
        cmocka_unit_test(test_tokens_random_empty_and_short),
        cmocka_unit_test(test_rules_are_read_in_order),
        cmocka_unit_test(test_bad_rules_are_reported),
        cmocka_unit_test(test_syntax_error_and_missing_file),
        cmocka_unit_test(test_siren_drivers_need_their_settings),
    };

    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
