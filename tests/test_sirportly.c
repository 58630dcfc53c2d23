/*
 * Sirportly ticket events: the assignee hears about assignments, new
 * tickets and replies from others; unassigned twins and the assignee's
 * own replies are ignored; form posts read like JSON; hostile payloads
 * are refused with a reason that names the field.
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

#define FORM "application/x-www-form-urlencoded"
#define REPLY "sirportly/customer-reply.json"

static void
run(const json_t *doc, struct handler_result *r)
{
    handler_run(SOURCE_SIRPORTLY, doc, r);
}

static void
run_fixture(const char *name, struct handler_result *r)
{
    handler_run_fixture(SOURCE_SIRPORTLY, name, r);
}

/* customer-reply.json with a member of what (the payload, its ticket or
   its update) replaced by value (NULL: removed). */
static void
run_changed(const char *what, const char *member, json_t *value,
            struct handler_result *r)
{
    json_t *doc = test_fixture_json(REPLY);
    json_t *obj = *what ? json_object_get(doc, what) : doc;

    handler_vary(obj, member, value);
    run(doc, r);
    json_decref(doc);
}

static void
test_assigned_form_tells_the_assignee(void **state)
{
    struct handler_result r;

    (void)state;
    run_fixture("sirportly/assigned.form", &r);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_string_equal(r.a.key,
                        "KX-482113:assigned:alice:2025-12-04T09:58:40Z");
    assert_int_equal(r.a.state, ALERT_INFO);
    assert_int_equal(r.a.severity, SEVERITY_INFO);
    assert_string_equal(r.a.assignee, "alice");
    assert_string_equal(r.a.kind, "assigned");
    assert_string_equal(r.a.title, "KX-482113 assigned to you: Checkout "
                        "page shows 502 after plugin update");
    assert_string_equal(r.a.message,
                        "Checkout page shows 502 after plugin update\n"
                        "Customer: Acme Shop Ltd\n"
                        "Priority: High\n"
                        "Status: Waiting for staff");
    assert_null(r.a.url);
    handler_expect_tags(&r.a, "[\"department:Support\",\"priority:High\","
                "\"team:Ops\"]");
    assert_int_equal(r.a.time, 1764842320);
    alert_free(&r.a);
}

static void
test_unassigned_twin_is_ignored(void **state)
{
    struct handler_result r;

    (void)state;
    run_fixture("sirportly/unassigned-twin.form", &r);
    handler_expect(&r, HANDLER_IGNORE, "ticket KX-482113 has no assignee");
}

static void
test_ticket_without_user_is_ignored(void **state)
{
    json_t *doc = handler_fixture("sirportly/assigned.form");
    struct handler_result r;

    (void)state;
    json_object_del(json_object_get(doc, "ticket"), "user");
    run(doc, &r);
    json_decref(doc);
    handler_expect(&r, HANDLER_IGNORE, "ticket KX-482113 has no assignee");
}

static void
test_customer_reply_tells_the_assignee_what_was_said(void **state)
{
    struct handler_result r;

    (void)state;
    run_fixture(REPLY, &r);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_string_equal(r.a.key, "KX-482113:customer_reply:1733201");
    assert_int_equal(r.a.state, ALERT_INFO);
    assert_string_equal(r.a.assignee, "alice");
    assert_string_equal(r.a.kind, "customer_reply");
    assert_string_equal(r.a.title, "KX-482113: customer replied: Checkout "
                        "page shows 502 after plugin update");
    assert_string_equal(r.a.message, "Sam Carter wrote:\nStill broken "
                        "here \xe2\x80\x94 customers can't pay. "
                        "Screenshot attached.");
    assert_int_equal(r.a.time, 1764843243);
    alert_free(&r.a);
}

static void
test_own_reply_is_ignored(void **state)
{
    struct handler_result r;

    (void)state;
    run_fixture("sirportly/own-reply.json", &r);
    handler_expect(&r, HANDLER_IGNORE, "update by the assignee");
}

static void
test_staff_reply_form_tells_the_assignee(void **state)
{
    struct handler_result r;

    (void)state;
    run_fixture("sirportly/staff-reply.form", &r);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_string_equal(r.a.key, "KX-482113:staff_reply:1733300");
    assert_string_equal(r.a.assignee, "alice");
    assert_string_equal(r.a.kind, "staff_reply");
    assert_string_equal(r.a.title, "KX-482113: Bob Reyes replied: Checkout "
                        "page shows 502 after plugin update");
    assert_string_equal(r.a.message, "Bob Reyes wrote:\nChecked the logs: "
                        "the payment plugin times out talking to the "
                        "gateway.");
    assert_int_equal(r.a.time, 1764844260);
    alert_free(&r.a);
}

static void
test_new_ticket_is_kind_new(void **state)
{
    struct handler_result r;

    (void)state;
    run_fixture("sirportly/new-ticket.json", &r);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_string_equal(r.a.key, "KX-482113:new:alice:2025-12-04T09:50:12Z");
    assert_string_equal(r.a.kind, "new");
    assert_string_equal(r.a.title, "KX-482113: new ticket: Checkout page "
                        "shows 502 after plugin update");
    assert_string_equal(r.a.message,
                        "Checkout page shows 502 after plugin update\n"
                        "Customer: Acme Shop Ltd\n"
                        "Priority: High\n"
                        "Status: New");
    alert_free(&r.a);
}

static void
test_event_names_choose_the_kind(void **state)
{
    static const char *const cases[][2] = {
        { "ticket_created", "new" }, { "status", "status" },
        { "status_change", "status" }, { "assign", "assigned" },
    };
    json_t *doc;
    struct handler_result r;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        doc = test_fixture_json("sirportly/new-ticket.json");
        json_object_set_new(doc, "event", json_string(cases[i][0]));
        run(doc, &r);
        json_decref(doc);
        assert_int_equal(r.rc, HANDLER_OK);
        assert_string_equal(r.a.kind, cases[i][1]);
        alert_free(&r.a);
    }
}

static void
test_status_change_title_names_the_status(void **state)
{
    json_t *doc = test_fixture_json("sirportly/new-ticket.json");
    struct handler_result r;

    (void)state;
    json_object_set_new(doc, "event", json_string("status_change"));
    run(doc, &r);
    json_decref(doc);
    assert_string_equal(r.a.key,
                        "KX-482113:status:alice:2025-12-04T09:50:12Z");
    assert_string_equal(r.a.title, "KX-482113: status New: Checkout page "
                        "shows 502 after plugin update");
    alert_free(&r.a);
}

static void
test_reassignment_gets_a_new_key(void **state)
{
    json_t *doc = handler_fixture("sirportly/assigned.form");
    json_t *ticket = json_object_get(doc, "ticket");
    struct handler_result r;

    (void)state;
    json_object_set_new(json_object_get(ticket, "user"), "username",
                        json_string("bob"));
    json_object_set_new(ticket, "updated_at",
                        json_string("2025-12-04T10:30:00Z"));
    run(doc, &r);
    json_decref(doc);
    assert_string_equal(r.a.key,
                        "KX-482113:assigned:bob:2025-12-04T10:30:00Z");
    assert_string_equal(r.a.assignee, "bob");
    alert_free(&r.a);
}

static void
test_missing_ticket_is_named(void **state)
{
    struct handler_result r;

    (void)state;
    run_changed("", "ticket", NULL, &r);
    handler_expect(&r, HANDLER_INVALID, "missing field ticket");
}

static void
test_ticket_of_wrong_type_is_named(void **state)
{
    json_t *bad[] = { json_string("KX-1"), json_integer(1), json_array() };
    struct handler_result r;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        run_changed("", "ticket", bad[i], &r);
        handler_expect(&r, HANDLER_INVALID, "ticket must be an object");
    }
}

static void
test_missing_reference_is_named(void **state)
{
    struct handler_result r;

    (void)state;
    run_changed("ticket", "reference", NULL, &r);
    handler_expect(&r, HANDLER_INVALID, "missing field ticket.reference");
}

static void
test_reference_of_wrong_type_is_named(void **state)
{
    json_t *bad[] = { json_integer(482113), json_string(""), json_object() };
    struct handler_result r;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        run_changed("ticket", "reference", bad[i], &r);
        handler_expect(&r, HANDLER_INVALID,
                      "ticket.reference must be a non-empty string");
    }
}

static void
test_update_without_id_is_refused(void **state)
{
    struct handler_result r;

    (void)state;
    run_changed("update", "id", NULL, &r);
    handler_expect(&r, HANDLER_INVALID, "missing field update.id");
    run_changed("update", "id", json_real(1.5), &r);
    handler_expect(&r, HANDLER_INVALID,
                  "update.id must be an integer or a string");
}

static void
test_update_id_as_string_is_used(void **state)
{
    struct handler_result r;

    (void)state;
    run_changed("update", "id", json_string("u-9"), &r);
    assert_string_equal(r.a.key, "KX-482113:customer_reply:u-9");
    alert_free(&r.a);
}

static void
test_update_that_is_not_an_object_is_no_update(void **state)
{
    struct handler_result r;

    (void)state;
    run_changed("", "update", json_string("garbage"), &r);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_string_equal(r.a.kind, "assigned");
    alert_free(&r.a);
}

static void
test_reply_without_author_names_the_customer(void **state)
{
    struct handler_result r;

    (void)state;
    run_changed("update", "author", json_integer(3), &r);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_string_equal(r.a.kind, "staff_reply");
    assert_string_equal(r.a.title, "KX-482113: staff replied: Checkout "
                        "page shows 502 after plugin update");
    assert_true(strncmp(r.a.message, "Acme Shop Ltd wrote:\n", 21) == 0);
    alert_free(&r.a);
}

static void
test_assignee_username_of_wrong_type_means_no_assignee(void **state)
{
    json_t *doc = test_fixture_json(REPLY);
    struct handler_result r;

    (void)state;
    json_object_set_new(json_object_get(json_object_get(doc, "ticket"),
                                        "user"),
                        "username", json_integer(12));
    run(doc, &r);
    json_decref(doc);
    handler_expect(&r, HANDLER_IGNORE, "ticket KX-482113 has no assignee");
}

static void
test_garbage_in_optional_fields_is_ignored(void **state)
{
    json_t *doc = test_fixture_json("sirportly/new-ticket.json");
    json_t *ticket = json_object_get(doc, "ticket");
    struct handler_result r;

    (void)state;
    json_object_set_new(ticket, "subject", json_array());
    json_object_set_new(ticket, "status", json_string("open"));
    json_object_set_new(ticket, "priority", json_pack("{s:i}", "name", 2));
    json_object_set_new(ticket, "department", json_null());
    json_object_set_new(ticket, "team", json_pack("[{}]"));
    json_object_set_new(ticket, "customer", json_pack("{s:[[[]]]}", "x"));
    json_object_set_new(ticket, "updated_at", json_integer(-4));
    json_object_set_new(doc, "event", json_integer(5));
    run(doc, &r);
    json_decref(doc);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_string_equal(r.a.title,
                        "KX-482113 assigned to you: (no subject)");
    assert_null(r.a.message);
    handler_expect_tags(&r.a, "[]");
    assert_int_equal(r.a.time, 0);
    alert_free(&r.a);
}

static void
test_huge_message_is_kept_whole(void **state)
{
    size_t len = 512 * 1024;
    char *text = malloc(len + 1);
    struct handler_result r;

    (void)state;
    assert_non_null(text);
    memset(text, 'm', len);
    text[len] = '\0';
    run_changed("update", "message", json_string(text), &r);
    free(text);
    assert_int_equal(r.rc, HANDLER_OK);
    assert_int_equal(strlen(r.a.message), len + strlen("Sam Carter wrote:\n"));
    alert_free(&r.a);
}

static void
test_empty_object_is_missing_ticket(void **state)
{
    json_t *doc = json_object();
    struct handler_result r;

    (void)state;
    run(doc, &r);
    json_decref(doc);
    handler_expect(&r, HANDLER_INVALID, "missing field ticket");
}

static void
test_non_utf8_in_a_form_ticket_is_refused(void **state)
{
    static const char body[] = "event=assigned&ticket=%7B%22reference%22"
                               "%3A%22KX%C0%AF1%22%7D";

    (void)state;
    handler_expect_form_refused(body, sizeof body - 1,
                                "body is not valid UTF-8");
}

static void
test_truncated_form_ticket_is_refused(void **state)
{
    char *text = test_read_file(test_fixture_path("sirportly/assigned.form"),
                                NULL);

    (void)state;
    handler_expect_form_refused(text, 200,
                                "field ticket: invalid JSON at line 1 "
                                "column 137: premature end of input near "
                                "'\"st'");
    free(text);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_assigned_form_tells_the_assignee),
        cmocka_unit_test(test_unassigned_twin_is_ignored),
        cmocka_unit_test(test_ticket_without_user_is_ignored),
        cmocka_unit_test(test_customer_reply_tells_the_assignee_what_was_said),
        cmocka_unit_test(test_own_reply_is_ignored),
        cmocka_unit_test(test_staff_reply_form_tells_the_assignee),
        cmocka_unit_test(test_new_ticket_is_kind_new),
        cmocka_unit_test(test_event_names_choose_the_kind),
        cmocka_unit_test(test_status_change_title_names_the_status),
        cmocka_unit_test(test_reassignment_gets_a_new_key),
        cmocka_unit_test(test_missing_ticket_is_named),
        cmocka_unit_test(test_ticket_of_wrong_type_is_named),
        cmocka_unit_test(test_missing_reference_is_named),
        cmocka_unit_test(test_reference_of_wrong_type_is_named),
        cmocka_unit_test(test_update_without_id_is_refused),
        cmocka_unit_test(test_update_id_as_string_is_used),
        cmocka_unit_test(test_update_that_is_not_an_object_is_no_update),
        cmocka_unit_test(test_reply_without_author_names_the_customer),
        cmocka_unit_test(
            test_assignee_username_of_wrong_type_means_no_assignee),
        cmocka_unit_test(test_garbage_in_optional_fields_is_ignored),
        cmocka_unit_test(test_huge_message_is_kept_whole),
        cmocka_unit_test(test_empty_object_is_missing_ticket),
        cmocka_unit_test(test_non_utf8_in_a_form_ticket_is_refused),
        cmocka_unit_test(test_truncated_form_ticket_is_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
