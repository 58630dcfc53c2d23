/*
 * Scanner excludes: what a pattern matches and, as important, what it
 * does not (no substring matches, no blank pattern that hides every
 * file), and how an exclude file is read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "scanner/exclude.h"
#include "tests/support/testutil.h"

static struct exclude *
with(const char *pattern)
{
    struct exclude *ex = exclude_new();

    assert_non_null(ex);
    assert_int_equal(exclude_add(ex, pattern), 0);
    return ex;
}

static void
star_stays_within_one_segment(void **state)
{
    struct exclude *ex = with("wp-content/cache/*");

    (void)state;
    assert_true(exclude_match(ex, "wp-content/cache/page.html", false));
    assert_false(exclude_match(ex, "wp-content/cache/a/page.html", false));
    assert_false(exclude_match(ex, "wp-content/cache", true));
    exclude_free(ex);
}

static void
globstar_spans_segments(void **state)
{
    struct exclude *ex = with("**/cache/**");

    (void)state;
    assert_true(exclude_match(ex, "cache", true));
    assert_true(exclude_match(ex, "wp-content/cache/x/y.html", false));
    assert_true(exclude_match(ex, "a/b/c/cache/d", false));
    assert_false(exclude_match(ex, "a/mycache/d", false));
    exclude_free(ex);
}

static void
pattern_is_anchored_at_the_root(void **state)
{
    struct exclude *ex = with("var/session");

    (void)state;
    assert_true(exclude_match(ex, "var/session", true));
    assert_false(exclude_match(ex, "app/var/session", true));
    exclude_free(ex);
}

static void
pattern_never_matches_a_substring(void **state)
{
    struct exclude *ex = with("cache");

    (void)state;
    assert_true(exclude_match(ex, "cache", false));
    assert_false(exclude_match(ex, "wp-content/cache.php", false));
    assert_false(exclude_match(ex, "cache.php", false));
    assert_false(exclude_match(ex, "evil-cache", false));
    assert_false(exclude_match(ex, "uploads/cache/shell.php", false));
    exclude_free(ex);
}

static void
trailing_slash_matches_directories_only(void **state)
{
    struct exclude *ex = with("generated/");

    (void)state;
    assert_true(exclude_match(ex, "generated", true));
    assert_false(exclude_match(ex, "generated", false));
    exclude_free(ex);
}

static void
blank_and_slash_only_patterns_are_refused(void **state)
{
    struct exclude *ex = exclude_new();

    (void)state;
    assert_int_equal(exclude_add(ex, ""), -1);
    assert_int_equal(exclude_add(ex, "   "), -1);
    assert_int_equal(exclude_add(ex, "/"), -1);
    assert_int_equal(exclude_add(ex, "./"), -1);
    assert_int_equal(exclude_count(ex), 0);
    assert_false(exclude_match(ex, "index.php", false));
    exclude_free(ex);
}

static void
leading_slash_and_dot_segments_are_ignored(void **state)
{
    struct exclude *ex = with("/./var//cache/");

    (void)state;
    assert_true(exclude_match(ex, "var/cache", true));
    exclude_free(ex);
}

static void
character_classes_and_question_mark_work(void **state)
{
    struct exclude *ex = with("logs/access.log.[0-9]?");

    (void)state;
    assert_true(exclude_match(ex, "logs/access.log.1a", false));
    assert_false(exclude_match(ex, "logs/access.log.x1", false));
    exclude_free(ex);
}

static void
star_matches_dot_files(void **state)
{
    struct exclude *ex = with("tmp/*");

    (void)state;
    assert_true(exclude_match(ex, "tmp/.hidden", false));
    exclude_free(ex);
}

static void
tree_match_sees_an_excluded_parent(void **state)
{
    struct exclude *ex = with("var/cache/");

    (void)state;
    assert_false(exclude_match(ex, "var/cache/x.php", false));
    assert_true(exclude_match_tree(ex, "var/cache/x.php", false));
    assert_false(exclude_match_tree(ex, "var/cached/x.php", false));
    exclude_free(ex);
}

static void
overlong_segment_does_not_match(void **state)
{
    struct exclude *ex = with("*");
    char name[400];

    (void)state;
    memset(name, 'a', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    assert_false(exclude_match(ex, name, false));
    exclude_free(ex);
}

static void
non_utf8_names_match_bytewise(void **state)
{
    struct exclude *ex = with("up/\xff*");

    (void)state;
    assert_true(exclude_match(ex, "up/\xff\xfe.php", false));
    assert_false(exclude_match(ex, "up/\xfe.php", false));
    exclude_free(ex);
}

static char *
write_file(const char *dir, const char *text)
{
    char *path;
    FILE *f;

    assert_true(asprintf(&path, "%s/exclude.conf", dir) > 0);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void
file_skips_blank_lines_and_comments(void **state)
{
    char *dir = test_tempdir(), *path, err[256];
    struct exclude *ex = exclude_new();

    (void)state;
    path = write_file(dir, "# caches\n\n   \n  var/cache/  \n\t# x\n"
                      "generated/\n");
    assert_int_equal(exclude_add_file(ex, path, err, sizeof err), 0);
    assert_int_equal(exclude_count(ex), 2);
    assert_true(exclude_match(ex, "var/cache", true));
    assert_false(exclude_match(ex, "index.php", false));
    assert_false(exclude_match(ex, "# caches", false));
    exclude_free(ex);
    test_rmtree(dir);
    free(path);
    free(dir);
}

static void
file_with_slash_only_line_names_the_line(void **state)
{
    char *dir = test_tempdir(), *path, err[256], want[512];
    struct exclude *ex = exclude_new();

    (void)state;
    path = write_file(dir, "var/cache/\n/\n");
    assert_int_equal(exclude_add_file(ex, path, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s:2: pattern matches no path", path);
    assert_string_equal(err, want);
    exclude_free(ex);
    test_rmtree(dir);
    free(path);
    free(dir);
}

static void
missing_file_is_an_error(void **state)
{
    struct exclude *ex = exclude_new();
    char err[256];

    (void)state;
    assert_int_equal(exclude_add_file(ex, "/nonexistent/x", err,
                                      sizeof err), -1);
    assert_string_equal(err, "/nonexistent/x: No such file or directory");
    exclude_free(ex);
}

static void
shipped_examples_parse(void **state)
{
    struct exclude *ex = exclude_new();
    char err[256];

    (void)state;
    assert_int_equal(exclude_add_file(ex, "conf/exclude-examples.conf",
                                      err, sizeof err), 0);
    assert_true(exclude_match(ex, "wp-content/cache", true));
    assert_true(exclude_match(ex, "var/session", true));
    assert_true(exclude_match(ex, "generated", true));
    assert_false(exclude_match(ex, "wp-config.php", false));
    assert_false(exclude_match(ex, "wp-content/uploads/x.php", false));
    exclude_free(ex);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(star_stays_within_one_segment),
        cmocka_unit_test(globstar_spans_segments),
        cmocka_unit_test(pattern_is_anchored_at_the_root),
        cmocka_unit_test(pattern_never_matches_a_substring),
        cmocka_unit_test(trailing_slash_matches_directories_only),
        cmocka_unit_test(blank_and_slash_only_patterns_are_refused),
        cmocka_unit_test(leading_slash_and_dot_segments_are_ignored),
        cmocka_unit_test(character_classes_and_question_mark_work),
        cmocka_unit_test(star_matches_dot_files),
        cmocka_unit_test(tree_match_sees_an_excluded_parent),
        cmocka_unit_test(overlong_segment_does_not_match),
        cmocka_unit_test(non_utf8_names_match_bytewise),
        cmocka_unit_test(file_skips_blank_lines_and_comments),
        cmocka_unit_test(file_with_slash_only_line_names_the_line),
        cmocka_unit_test(missing_file_is_an_error),
        cmocka_unit_test(shipped_examples_parse),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
