/*
 * UTF-8 counting, checking and cutting: what a phone shows when alert
 * text is longer than Pushover allows, and what happens to text that is
 * not UTF-8 at all.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "notifiers/utf8.h"

#define EURO "\xe2\x82\xac"           /* 3 bytes */
#define E_ACUTE "\xc3\xa9"            /* 2 bytes */
#define GRIN "\xf0\x9f\x98\x80"       /* 4 bytes */

/* A heap copy of exactly len bytes and no terminator, so that ASan
   reports any read past the end. */
static char *
exact(const char *s, size_t len)
{
    char *p = malloc(len ? len : 1);

    assert_non_null(p);
    memcpy(p, s, len);
    return p;
}

static void
count_ascii_is_bytes(void **state)
{
    (void)state;
    assert_int_equal(utf8_count("hello", 5), 5);
}

static void
count_two_three_four_byte_characters_once_each(void **state)
{
    const char *s = E_ACUTE EURO GRIN;

    (void)state;
    assert_int_equal(strlen(s), 9);
    assert_int_equal(utf8_count(s, strlen(s)), 3);
}

static void
count_invalid_byte_counts_as_one(void **state)
{
    (void)state;
    assert_int_equal(utf8_count("a\xff" "b", 3), 3);
    assert_int_equal(utf8_count("\xe2\x82" "a", 3), 3);
}

static void
empty_text_is_valid_and_cuts_to_empty(void **state)
{
    bool cut = true;
    char *out;

    (void)state;
    assert_int_equal(utf8_count("", 0), 0);
    assert_true(utf8_valid("", 0));
    out = utf8_cut("", 0, 10, &cut);
    assert_string_equal(out, "");
    assert_false(cut);
    free(out);
}

static void
valid_accepts_every_sequence_length(void **state)
{
    const char *s = "a" E_ACUTE EURO GRIN "\xf4\x8f\xbf\xbf";

    (void)state;
    assert_true(utf8_valid(s, strlen(s)));
}

static void
valid_rejects_overlong_forms(void **state)
{
    (void)state;
    assert_false(utf8_valid("\xc0\xaf", 2));
    assert_false(utf8_valid("\xc1\xbf", 2));
    assert_false(utf8_valid("\xe0\x80\xaf", 3));
    assert_false(utf8_valid("\xf0\x80\x80\xaf", 4));
}

static void
valid_rejects_surrogates_and_values_above_10ffff(void **state)
{
    (void)state;
    assert_false(utf8_valid("\xed\xa0\x80", 3));
    assert_false(utf8_valid("\xed\xbf\xbf", 3));
    assert_false(utf8_valid("\xf4\x90\x80\x80", 4));
    assert_false(utf8_valid("\xf5\x80\x80\x80", 4));
    assert_false(utf8_valid("\xff", 1));
}

static void
valid_rejects_stray_continuation_byte(void **state)
{
    (void)state;
    assert_false(utf8_valid("a\x80z", 3));
}

static void
valid_rejects_sequence_cut_by_end_of_buffer(void **state)
{
    char *s = exact("ab" GRIN, 5);

    (void)state;
    assert_false(utf8_valid(s, 5));
    assert_int_equal(utf8_seq_len(s + 2, 3), 0);
    free(s);
}

static void
cut_under_limit_is_unchanged(void **state)
{
    bool cut = true;
    char *out = utf8_cut("abc", 3, 10, &cut);

    (void)state;
    assert_string_equal(out, "abc");
    assert_false(cut);
    free(out);
}

static void
cut_at_exact_limit_is_unchanged(void **state)
{
    const char *s = "ab" EURO GRIN "e";
    bool cut = true;
    char *out = utf8_cut(s, strlen(s), 5, &cut);

    (void)state;
    assert_string_equal(out, s);
    assert_false(cut);
    free(out);
}

static void
cut_one_over_limit_ends_with_ellipsis_at_limit(void **state)
{
    bool cut = false;
    char *out = utf8_cut("abcde", 5, 4, &cut);

    (void)state;
    assert_string_equal(out, "abc" UTF8_ELLIPSIS);
    assert_int_equal(utf8_count(out, strlen(out)), 4);
    assert_true(cut);
    free(out);
}

static void
cut_keeps_whole_three_byte_characters(void **state)
{
    const char *s = EURO EURO EURO EURO EURO;
    char *out = utf8_cut(s, strlen(s), 3, NULL);

    (void)state;
    assert_string_equal(out, EURO EURO UTF8_ELLIPSIS);
    free(out);
}

static void
cut_keeps_whole_four_byte_characters(void **state)
{
    const char *s = GRIN GRIN GRIN;
    char *out = utf8_cut(s, strlen(s), 2, NULL);

    (void)state;
    assert_string_equal(out, GRIN UTF8_ELLIPSIS);
    free(out);
}

static void
cut_keeps_whole_two_byte_characters(void **state)
{
    const char *s = "a" E_ACUTE E_ACUTE "b";
    char *out = utf8_cut(s, strlen(s), 3, NULL);

    (void)state;
    assert_string_equal(out, "a" E_ACUTE UTF8_ELLIPSIS);
    free(out);
}

static void
cut_to_one_character_is_only_the_ellipsis(void **state)
{
    char *out = utf8_cut("abc", 3, 1, NULL);

    (void)state;
    assert_string_equal(out, UTF8_ELLIPSIS);
    free(out);
}

static void
cut_to_zero_characters_is_empty(void **state)
{
    bool cut = false;
    char *out = utf8_cut("abc", 3, 0, &cut);

    (void)state;
    assert_string_equal(out, "");
    assert_true(cut);
    free(out);
}

static void
cut_replaces_invalid_bytes_with_u_fffd(void **state)
{
    char *out = utf8_cut("a\xff" "b\xc0\xaf", 5, 10, NULL);

    (void)state;
    assert_string_equal(out, "a" UTF8_REPLACEMENT "b" UTF8_REPLACEMENT
                        UTF8_REPLACEMENT);
    free(out);
}

static void
cut_replaces_sequence_cut_by_end_of_buffer(void **state)
{
    char *s = exact("ab\xe2\x82", 4);
    char *out = utf8_cut(s, 4, 10, NULL);

    (void)state;
    assert_string_equal(out, "ab" UTF8_REPLACEMENT UTF8_REPLACEMENT);
    free(out);
    free(s);
}

static void
cut_of_invalid_text_stays_within_limit(void **state)
{
    char *out = utf8_cut("\xff\xff\xff\xff", 4, 3, NULL);

    (void)state;
    assert_string_equal(out, UTF8_REPLACEMENT UTF8_REPLACEMENT
                        UTF8_ELLIPSIS);
    free(out);
}

/* Hostile input: random bytes at every limit always give valid text of
   at most the limit. */
static void
cut_of_random_bytes_is_always_valid_and_within_limit(void **state)
{
    uint32_t seed = 12345;
    size_t round, len, i, max;
    char *s, *out;

    (void)state;
    for (round = 0; round < 500; round++) {
        len = round % 40;
        s = malloc(len ? len : 1);
        assert_non_null(s);
        for (i = 0; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            s[i] = (char)(seed >> 16);
        }
        for (max = 0; max < 12; max++) {
            out = utf8_cut(s, len, max, NULL);
            assert_non_null(out);
            assert_true(utf8_valid(out, strlen(out)));
            assert_true(utf8_count(out, strlen(out)) <= max);
            free(out);
        }
        free(s);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(count_ascii_is_bytes),
        cmocka_unit_test(count_two_three_four_byte_characters_once_each),
        cmocka_unit_test(count_invalid_byte_counts_as_one),
        cmocka_unit_test(empty_text_is_valid_and_cuts_to_empty),
        cmocka_unit_test(valid_accepts_every_sequence_length),
        cmocka_unit_test(valid_rejects_overlong_forms),
        cmocka_unit_test(valid_rejects_surrogates_and_values_above_10ffff),
        cmocka_unit_test(valid_rejects_stray_continuation_byte),
        cmocka_unit_test(valid_rejects_sequence_cut_by_end_of_buffer),
        cmocka_unit_test(cut_under_limit_is_unchanged),
        cmocka_unit_test(cut_at_exact_limit_is_unchanged),
        cmocka_unit_test(cut_one_over_limit_ends_with_ellipsis_at_limit),
        cmocka_unit_test(cut_keeps_whole_three_byte_characters),
        cmocka_unit_test(cut_keeps_whole_four_byte_characters),
        cmocka_unit_test(cut_keeps_whole_two_byte_characters),
        cmocka_unit_test(cut_to_one_character_is_only_the_ellipsis),
        cmocka_unit_test(cut_to_zero_characters_is_empty),
        cmocka_unit_test(cut_replaces_invalid_bytes_with_u_fffd),
        cmocka_unit_test(cut_replaces_sequence_cut_by_end_of_buffer),
        cmocka_unit_test(cut_of_invalid_text_stays_within_limit),
        cmocka_unit_test(cut_of_random_bytes_is_always_valid_and_within_limit),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
