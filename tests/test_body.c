/*
 * Request bodies: what each content type decodes to, which charsets are
 * accepted, and the exact status and reason a sender gets back for
 * every malformed, hostile or unsupported body.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/body.h"

#define JSON "application/json"
#define FORM "application/x-www-form-urlencoded"

struct decoded {
    json_t *doc;
    int status;
    char reason[256];
};

static void
decode(const char *type, const char *body, size_t len, struct decoded *d)
{
    d->status = 0;
    d->reason[0] = '\0';
    d->doc = body_decode(type, body, len, &d->status, d->reason,
                         sizeof d->reason);
}

static void
decode_str(const char *type, const char *body, struct decoded *d)
{
    decode(type, body, strlen(body), d);
}

/* The body decoded to exactly the JSON text expected. */
static void
assert_decodes_to(const char *type, const char *body, const char *expected)
{
    json_t *want = json_loads(expected, 0, NULL);
    struct decoded d;
    char *got;

    assert_non_null(want);
    decode_str(type, body, &d);
    if (!d.doc)
        fail_msg("refused with %d %s", d.status, d.reason);
    if (!json_equal(d.doc, want)) {
        got = json_dumps(d.doc, JSON_COMPACT);
        fail_msg("decoded to %s", got);
    }
    json_decref(d.doc);
    json_decref(want);
}

/* The body refused with exactly this status and reason. */
static void
assert_refused(const char *type, const char *body, size_t len, int status,
               const char *reason)
{
    struct decoded d;

    decode(type, body, len, &d);
    assert_null(d.doc);
    assert_int_equal(d.status, status);
    assert_string_equal(d.reason, reason);
}

#define REFUSED(type, lit, status, reason) \
    assert_refused((type), (lit), sizeof(lit) - 1, (status), (reason))

/* ---- JSON ---- */

static void
test_json_object_is_returned_as_sent(void **state)
{
    (void)state;
    assert_decodes_to(JSON, "{\"a\": [1, \"x\", null], \"b\": {\"c\": true}}",
                      "{\"a\": [1, \"x\", null], \"b\": {\"c\": true}}");
}

static void
test_json_suffix_types_are_json(void **state)
{
    (void)state;
    assert_decodes_to("application/vnd.pingdom.v3+json", "{\"a\": 1}",
                      "{\"a\": 1}");
}

static void
test_content_type_is_case_insensitive_with_parameters(void **state)
{
    (void)state;
    assert_decodes_to("Application/JSON ; Charset=\"UTF-8\"", "{}", "{}");
    assert_decodes_to("application/json;charset=us-ascii", "{}", "{}");
    assert_decodes_to("application/json; version=2", "{}", "{}");
    assert_decodes_to("application/json; a=\"b\" ; charset=utf-8;", "{}",
                      "{}");
}

static void
test_other_charsets_are_unsupported(void **state)
{
    (void)state;
    REFUSED("application/json; charset=iso-8859-1", "{}", 415,
            "unsupported charset iso-8859-1");
    REFUSED(FORM "; charset=\"utf-16\"", "a=b", 415,
            "unsupported charset utf-16");
}

static void
test_missing_content_type_is_json_when_it_looks_like_json(void **state)
{
    (void)state;
    assert_decodes_to(NULL, "\n  {\"a\": 1}", "{\"a\": 1}");
    assert_decodes_to("", "{\"a\": 1}", "{\"a\": 1}");
}

static void
test_missing_content_type_is_unsupported_otherwise(void **state)
{
    (void)state;
    REFUSED(NULL, "a=1", 415, "missing content type");
    REFUSED("  ", "[1]", 415, "missing content type");
}

static void
test_other_content_types_are_unsupported_by_name(void **state)
{
    (void)state;
    REFUSED("text/plain; charset=latin1", "{}", 415,
            "unsupported content type text/plain");
    REFUSED("multipart/form-data; boundary=xyz", "--xyz", 415,
            "unsupported content type multipart/form-data");
    REFUSED("application/jsonp", "{}", 415,
            "unsupported content type application/jsonp");
}

static void
test_hostile_content_type_is_quoted_short_and_printable(void **state)
{
    (void)state;
    REFUSED("text/\x01\xff" "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "{}", 415, "unsupported content type "
            "text/??AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA...");
}

static void
test_empty_body_is_refused(void **state)
{
    (void)state;
    REFUSED(JSON, "", 400, "empty body");
    REFUSED(FORM, " \r\n", 400, "empty body");
    REFUSED(NULL, "", 400, "empty body");
    assert_refused(JSON, NULL, 0, 400, "empty body");
}

static void
test_json_sent_as_a_form_is_read_as_json(void **state)
{
    (void)state;
    /* What curl -d sends: JSON labelled as a form. */
    assert_decodes_to(FORM, "  {\"check_id\": 5}", "{\"check_id\": 5}");
    REFUSED(FORM, "{\"check_id\": ", 400, "invalid JSON at line 1 "
            "column 13: unexpected token near end of file");
}

static void
test_json_that_is_not_an_object_is_refused(void **state)
{
    (void)state;
    REFUSED(JSON, "[{\"check_id\": 1}]", 400, "JSON body must be an object");
    REFUSED(JSON, "\"DOWN\"", 400, "invalid JSON at line 1 column 6: "
            "'[' or '{' expected near '\"DOWN\"'");
}

static void
test_malformed_json_names_line_and_column(void **state)
{
    (void)state;
    REFUSED(JSON, "{\n  \"a\": tru\n}", 400,
            "invalid JSON at line 2 column 10: invalid token near 'tru'");
    REFUSED(JSON, "{\"a\": 1} {}", 400,
            "invalid JSON at line 1 column 10: end of file expected "
            "near '{'");
}

static void
test_truncated_json_is_refused(void **state)
{
    (void)state;
    REFUSED(JSON, "{\"check_id\": 7341902, \"current_st", 400,
            "invalid JSON at line 1 column 33: premature end of input "
            "near '\"current_st'");
}

static void
test_duplicate_json_keys_are_refused(void **state)
{
    (void)state;
    REFUSED(JSON, "{\"user\": null, \"user\": {\"username\": \"alice\"}}",
            400, "invalid JSON at line 1 column 21: duplicate object key "
            "near '\"user\"'");
}

static void
test_non_utf8_json_is_refused(void **state)
{
    (void)state;
    REFUSED(JSON, "{\"title\": \"caf\xe9\"}", 400, "body is not valid UTF-8");
    REFUSED(JSON, "{\"title\": \"\xed\xa0\x80\"}", 400,
            "body is not valid UTF-8");
}

static void
test_json_with_nul_bytes_is_refused(void **state)
{
    (void)state;
    REFUSED(JSON, "{\"a\": \"x\\u0000y\"}", 400,
            "invalid JSON at line 1 column 16: \\u0000 is not allowed "
            "without JSON_ALLOW_NUL near '\"x\\u0000y...");
    REFUSED(JSON, "{\"a\": 1}\0", 400,
            "invalid JSON at line 1 column 9: end of file expected near "
            "end of file");
}

static void
test_absurd_nesting_is_refused(void **state)
{
    size_t depth = 100000, i;
    char *body = malloc(2 * depth + 8);
    struct decoded d;

    (void)state;
    assert_non_null(body);
    strcpy(body, "{\"a\":");
    for (i = 0; i < depth; i++)
        body[5 + i] = '[';
    decode(JSON, body, 5 + depth, &d);
    free(body);
    assert_null(d.doc);
    assert_int_equal(d.status, 400);
    assert_string_equal(d.reason, "invalid JSON at line 1 column 2053: "
                        "maximum parsing depth reached near '['");
}

static void
test_huge_json_string_is_kept_whole(void **state)
{
    size_t len = 1 << 20, i;
    char *body = malloc(len + 16);
    struct decoded d;

    (void)state;
    assert_non_null(body);
    strcpy(body, "{\"m\": \"");
    for (i = 0; i < len; i++)
        body[7 + i] = 'x';
    strcpy(body + 7 + len, "\"}");
    decode(JSON, body, len + 9, &d);
    free(body);
    assert_non_null(d.doc);
    assert_int_equal(json_string_length(json_object_get(d.doc, "m")), len);
    json_decref(d.doc);
}

/* ---- forms ---- */

static void
test_form_fields_become_strings(void **state)
{
    (void)state;
    assert_decodes_to(FORM, "a=1&b=two+words&c=%41%62%2b%25&d=&e",
                      "{\"a\": \"1\", \"b\": \"two words\", "
                      "\"c\": \"Ab+%\", \"d\": \"\", \"e\": \"\"}");
}

static void
test_form_names_are_decoded_too(void **state)
{
    (void)state;
    assert_decodes_to(FORM, "check+name=x&%74icket=y",
                      "{\"check name\": \"x\", \"ticket\": \"y\"}");
}

static void
test_form_utf8_values_are_kept(void **state)
{
    (void)state;
    assert_decodes_to(FORM, "m=%E2%80%94+caf%C3%A9",
                      "{\"m\": \"\\u2014 caf\\u00e9\"}");
}

static void
test_form_field_holding_json_is_parsed(void **state)
{
    (void)state;
    assert_decodes_to(FORM, "event=update&ticket=%7B%22reference%22%3A"
                      "+%22KX-1%22%2C+%22user%22%3A+null%7D"
                      "&tags=%5B%22a%22%2C%22b%22%5D",
                      "{\"event\": \"update\", \"tags\": [\"a\", \"b\"], "
                      "\"ticket\": {\"reference\": \"KX-1\", "
                      "\"user\": null}}");
}

static void
test_form_value_in_brackets_that_is_not_json_stays_text(void **state)
{
    (void)state;
    assert_decodes_to(FORM, "message=%5BWARN%5D+disk+full",
                      "{\"message\": \"[WARN] disk full\"}");
}

static void
test_form_field_with_broken_json_object_is_refused(void **state)
{
    (void)state;
    REFUSED(FORM, "message=%7B%22check_id%22%3A+7341902%2C", 400,
            "field message: invalid JSON at line 1 column 21: "
            "string or '}' expected near end of file");
}

static void
test_form_empty_pieces_and_trailing_newline_are_skipped(void **state)
{
    (void)state;
    assert_decodes_to(FORM, "&&a=1&&b=2&\r\n", "{\"a\": \"1\", \"b\": \"2\"}");
}

static void
test_repeated_form_field_is_refused(void **state)
{
    (void)state;
    REFUSED(FORM, "ticket=1&user=a&ticket=2", 400,
            "field ticket given twice");
    REFUSED(FORM, "a=1&%61=2", 400, "field a given twice");
}

static void
test_bad_escapes_are_refused(void **state)
{
    (void)state;
    REFUSED(FORM, "a=%zz", 400, "invalid %-escape in form field a");
    REFUSED(FORM, "a=1&b=%4", 400, "invalid %-escape in form field b");
    REFUSED(FORM, "a=50%", 400, "invalid %-escape in form field a");
    REFUSED(FORM, "a%g1=1", 400, "invalid %-escape in form field a%g1");
}

static void
test_non_utf8_form_values_and_names_are_refused(void **state)
{
    (void)state;
    REFUSED(FORM, "title=caf%E9", 400, "body is not valid UTF-8");
    REFUSED(FORM, "title=%C0%AF", 400, "body is not valid UTF-8");
    REFUSED(FORM, "ti%FFtle=x", 400, "body is not valid UTF-8");
    REFUSED(FORM, "title=caf\xe9", 400, "body is not valid UTF-8");
}

static void
test_nul_bytes_in_forms_are_refused(void **state)
{
    (void)state;
    REFUSED(FORM, "user=alice%00bob", 400,
            "form field user contains a NUL byte");
    REFUSED(FORM, "user=alice\0bob", 400,
            "form field user contains a NUL byte");
}

static void
test_form_field_without_name_is_refused(void **state)
{
    (void)state;
    REFUSED(FORM, "a=1&=2", 400, "form field with no name");
}

static void
test_long_field_names_are_cut_in_reasons(void **state)
{
    (void)state;
    REFUSED(FORM, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
            "=%ZZ", 400, "invalid %-escape in form field "
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...");
}

static void
test_too_many_form_fields_are_refused(void **state)
{
    size_t n = 1001, i, len = 0;
    char *body = malloc(n * 16);

    (void)state;
    assert_non_null(body);
    for (i = 0; i < n; i++)
        len += sprintf(body + len, "f%zu=1&", i);
    assert_refused(FORM, body, len, 400, "more than 1000 form fields");
    free(body);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_object_is_returned_as_sent),
        cmocka_unit_test(test_json_sent_as_a_form_is_read_as_json),
        cmocka_unit_test(test_json_suffix_types_are_json),
        cmocka_unit_test(test_content_type_is_case_insensitive_with_parameters),
        cmocka_unit_test(test_other_charsets_are_unsupported),
        cmocka_unit_test(
            test_missing_content_type_is_json_when_it_looks_like_json),
        cmocka_unit_test(test_missing_content_type_is_unsupported_otherwise),
        cmocka_unit_test(test_other_content_types_are_unsupported_by_name),
        cmocka_unit_test(
            test_hostile_content_type_is_quoted_short_and_printable),
        cmocka_unit_test(test_empty_body_is_refused),
        cmocka_unit_test(test_json_that_is_not_an_object_is_refused),
        cmocka_unit_test(test_malformed_json_names_line_and_column),
        cmocka_unit_test(test_truncated_json_is_refused),
        cmocka_unit_test(test_duplicate_json_keys_are_refused),
        cmocka_unit_test(test_non_utf8_json_is_refused),
        cmocka_unit_test(test_json_with_nul_bytes_is_refused),
        cmocka_unit_test(test_absurd_nesting_is_refused),
        cmocka_unit_test(test_huge_json_string_is_kept_whole),
        cmocka_unit_test(test_form_fields_become_strings),
        cmocka_unit_test(test_form_names_are_decoded_too),
        cmocka_unit_test(test_form_utf8_values_are_kept),
        cmocka_unit_test(test_form_field_holding_json_is_parsed),
        cmocka_unit_test(
            test_form_value_in_brackets_that_is_not_json_stays_text),
        cmocka_unit_test(test_form_field_with_broken_json_object_is_refused),
        cmocka_unit_test(
            test_form_empty_pieces_and_trailing_newline_are_skipped),
        cmocka_unit_test(test_repeated_form_field_is_refused),
        cmocka_unit_test(test_bad_escapes_are_refused),
        cmocka_unit_test(test_non_utf8_form_values_and_names_are_refused),
        cmocka_unit_test(test_nul_bytes_in_forms_are_refused),
        cmocka_unit_test(test_form_field_without_name_is_refused),
        cmocka_unit_test(test_long_field_names_are_cut_in_reasons),
        cmocka_unit_test(test_too_many_form_fields_are_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
