/*
 * The Pushover codec: the exact form body a phone's notification comes
 * from, how Pushover's answers are read (sent, retry later, give up),
 * and real HTTP through the curl helper against the mock server.
 */
#include <curl/curl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "notifiers/pushover.h"
#include "notifiers/utf8.h"
#include "tests/support/mock_http.h"

#define TOKEN "aTokenForTestsOnly000000000001"
#define USER  "uUserKeyForTestsOnly0000000001"
#define CALLBACK "https://relay.example/pushover/callback"
#define NOW_MS INT64_C(1700000000000)
#define ELLIPSIS "\xe2\x80\xa6"

static struct pushover_conf conf = {
    .token = (char *)TOKEN,
    .api_url = (char *)"https://api.pushover.net/1/messages.json",
    .retry = 60,
    .expire = 3600,
    .callback_url = (char *)CALLBACK,
    .timeout = 5,
};

/* An alert with the given text; NULL leaves a field unset. */
static void
make_alert(struct alert *a, const char *title, const char *message,
           const char *url, const char *url_title)
{
    alert_init(a, SOURCE_PINGDOM);
    assert_int_equal(alert_set(&a->key, "1234"), 0);
    assert_int_equal(alert_set(&a->title, title), 0);
    assert_int_equal(alert_set(&a->message, message), 0);
    assert_int_equal(alert_set(&a->url, url), 0);
    assert_int_equal(alert_set(&a->url_title, url_title), 0);
    a->time = 1700000000;
}

/* The body for a at priority, via the message built for USER. */
static char *
encode_alert(const struct alert *a, int priority)
{
    struct pushover_message m;
    char *body;

    assert_int_equal(pushover_message_init(&m, a, USER, priority, &conf),
                     0);
    body = pushover_encode(&m, TOKEN);
    assert_non_null(body);
    pushover_message_free(&m);
    return body;
}

static void
assert_field(const char *body, const char *name, const char *expect)
{
    char *v = mock_form_field(body, name);

    if (!expect) {
        if (v)
            fail_msg("field %s should be absent, is \"%s\"", name, v);
        return;
    }
    if (!v)
        fail_msg("field %s is missing", name);
    assert_string_equal(v, expect);
    free(v);
}

static char *
repeat(const char *unit, size_t n)
{
    size_t len = strlen(unit), i;
    char *s = malloc(len * n + 1);

    assert_non_null(s);
    for (i = 0; i < n; i++)
        memcpy(s + i * len, unit, len);
    s[len * n] = '\0';
    return s;
}

/* --- the message and its form body --- */

static void
normal_message_body_is_exact(void **state)
{
    struct alert a;
    char *body;

    (void)state;
    make_alert(&a, "Site down: example.com",
               "HTTP 503 from https://example.com/", "https://example.com/",
               "Pingdom check");
    body = encode_alert(&a, 1);
    assert_string_equal(body,
        "token=" TOKEN "&user=" USER
        "&title=Site%20down%3A%20example.com"
        "&message=HTTP%20503%20from%20https%3A%2F%2Fexample.com%2F"
        "&priority=1&timestamp=1700000000"
        "&url=https%3A%2F%2Fexample.com%2F&url_title=Pingdom%20check");
    free(body);
    alert_free(&a);
}

static void
emergency_body_adds_retry_expire_and_callback(void **state)
{
    struct alert a;
    char *body;

    (void)state;
    make_alert(&a, "Malware found", "wp-login.php flagged", NULL, NULL);
    body = encode_alert(&a, 2);
    assert_string_equal(body,
        "token=" TOKEN "&user=" USER "&title=Malware%20found"
        "&message=wp-login.php%20flagged&priority=2&timestamp=1700000000"
        "&retry=60&expire=3600"
        "&callback=https%3A%2F%2Frelay.example%2Fpushover%2Fcallback");
    free(body);
    alert_free(&a);
}

static void
emergency_retry_and_expire_kept_within_pushover_bounds(void **state)
{
    struct pushover_conf bad = conf;
    struct pushover_message m;
    struct alert a;
    char *body;

    (void)state;
    bad.retry = 5;
    bad.expire = 999999;
    bad.callback_url = NULL;
    make_alert(&a, "t", "m", NULL, NULL);
    assert_int_equal(pushover_message_init(&m, &a, USER, 2, &bad), 0);
    body = pushover_encode(&m, TOKEN);
    assert_field(body, "retry", "30");
    assert_field(body, "expire", "10800");
    assert_field(body, "callback", NULL);
    free(body);
    pushover_message_free(&m);
    alert_free(&a);
}

static void
non_emergency_body_has_no_retry_expire_or_callback(void **state)
{
    struct alert a;
    char *body;

    (void)state;
    make_alert(&a, "t", "m", NULL, NULL);
    body = encode_alert(&a, 1);
    assert_field(body, "retry", NULL);
    assert_field(body, "expire", NULL);
    assert_field(body, "callback", NULL);
    free(body);
    alert_free(&a);
}

static void
long_title_is_cut_to_250_characters_with_ellipsis(void **state)
{
    char *title = repeat("T", 300), *expect = repeat("T", 249), *body;
    char want[300];
    struct alert a;

    (void)state;
    snprintf(want, sizeof want, "%s" ELLIPSIS, expect);
    make_alert(&a, title, "m", NULL, NULL);
    body = encode_alert(&a, 0);
    assert_field(body, "title", want);
    free(body);
    free(title);
    free(expect);
    alert_free(&a);
}

static void
long_message_is_cut_to_1024_characters_on_a_boundary(void **state)
{
    char *message = repeat("\xc3\xa9", 1100), *expect, *body, *got;
    struct alert a;

    (void)state;
    expect = repeat("\xc3\xa9", 1023);
    expect = realloc(expect, strlen(expect) + sizeof ELLIPSIS);
    strcat(expect, ELLIPSIS);
    make_alert(&a, "t", message, NULL, NULL);
    body = encode_alert(&a, 0);
    got = mock_form_field(body, "message");
    assert_string_equal(got, expect);
    assert_int_equal(utf8_count(got, strlen(got)), 1024);
    free(got);
    free(body);
    free(message);
    free(expect);
    alert_free(&a);
}

static void
message_at_exactly_1024_characters_is_not_cut(void **state)
{
    char *message = repeat("m", 1024), *body;
    struct alert a;

    (void)state;
    make_alert(&a, "t", message, NULL, NULL);
    body = encode_alert(&a, 0);
    assert_field(body, "message", message);
    free(body);
    free(message);
    alert_free(&a);
}

static void
url_over_512_characters_is_dropped_with_its_title(void **state)
{
    char *path = repeat("p", 513 - strlen("https://x.example/")), *url;
    struct alert a;
    char *body;

    (void)state;
    assert_true(asprintf(&url, "https://x.example/%s", path) > 0);
    assert_int_equal(strlen(url), 513);
    make_alert(&a, "t", "m", url, "Open the check");
    body = encode_alert(&a, 0);
    assert_field(body, "url", NULL);
    assert_field(body, "url_title", NULL);
    free(body);
    free(url);
    free(path);
    alert_free(&a);
}

static void
url_of_exactly_512_characters_is_kept(void **state)
{
    char *path = repeat("p", 512 - strlen("https://x.example/")), *url;
    struct alert a;
    char *body;

    (void)state;
    assert_true(asprintf(&url, "https://x.example/%s", path) > 0);
    make_alert(&a, "t", "m", url, "Open");
    body = encode_alert(&a, 0);
    assert_field(body, "url", url);
    assert_field(body, "url_title", "Open");
    free(body);
    free(url);
    free(path);
    alert_free(&a);
}

static void
long_url_title_is_cut_to_100_characters(void **state)
{
    char *label = repeat("L", 150), *keep = repeat("L", 99), *body;
    char want[128];
    struct alert a;

    (void)state;
    snprintf(want, sizeof want, "%s" ELLIPSIS, keep);
    make_alert(&a, "t", "m", "https://x.example/", label);
    body = encode_alert(&a, 0);
    assert_field(body, "url_title", want);
    free(body);
    free(label);
    free(keep);
    alert_free(&a);
}

static void
alert_without_message_uses_its_title_as_message(void **state)
{
    struct alert a;
    char *body;

    (void)state;
    make_alert(&a, "Backup failed on db1", NULL, NULL, NULL);
    body = encode_alert(&a, 0);
    assert_field(body, "title", "Backup failed on db1");
    assert_field(body, "message", "Backup failed on db1");
    free(body);
    alert_free(&a);
}

static void
alert_without_any_text_says_where_it_came_from(void **state)
{
    struct alert a;
    char *body;

    (void)state;
    make_alert(&a, "", "", NULL, NULL);
    body = encode_alert(&a, 0);
    assert_field(body, "title", NULL);
    assert_field(body, "message", "pingdom alert 1234");
    free(body);
    alert_free(&a);
}

static void
empty_fields_are_left_out(void **state)
{
    struct alert a;
    char *body;

    (void)state;
    make_alert(&a, "", "m", "", "label without a link");
    a.time = 0;
    body = encode_alert(&a, 0);
    assert_string_equal(body, "token=" TOKEN "&user=" USER
                        "&message=m&priority=0");
    free(body);
    alert_free(&a);
}

static void
reserved_characters_newlines_and_emoji_are_escaped(void **state)
{
    const char *title = "R&D = 100% + more";
    const char *message = "line one\nline two \xf0\x9f\x98\x80";
    struct alert a;
    char *body;

    (void)state;
    make_alert(&a, title, message, NULL, NULL);
    body = encode_alert(&a, 0);
    assert_non_null(strstr(body,
        "&title=R%26D%20%3D%20100%25%20%2B%20more"
        "&message=line%20one%0Aline%20two%20%F0%9F%98%80&"));
    assert_field(body, "title", title);
    assert_field(body, "message", message);
    free(body);
    alert_free(&a);
}

static void
text_that_is_not_utf8_is_repaired(void **state)
{
    struct alert a;
    char *body;

    (void)state;
    make_alert(&a, "disk \xff full", "bad \xc0\xaf bytes", NULL, NULL);
    body = encode_alert(&a, 0);
    assert_field(body, "title", "disk " UTF8_REPLACEMENT " full");
    assert_field(body, "message", "bad " UTF8_REPLACEMENT UTF8_REPLACEMENT
                 " bytes");
    free(body);
    alert_free(&a);
}

static void
url_that_is_not_utf8_is_dropped(void **state)
{
    struct alert a;
    char *body;

    (void)state;
    make_alert(&a, "t", "m", "https://x.example/\xff", "Open");
    body = encode_alert(&a, 0);
    assert_field(body, "url", NULL);
    assert_field(body, "url_title", NULL);
    free(body);
    alert_free(&a);
}

static void
priority_outside_pushover_scale_is_clamped(void **state)
{
    struct alert a;
    char *body;

    (void)state;
    make_alert(&a, "t", "m", NULL, NULL);
    body = encode_alert(&a, -7);
    assert_field(body, "priority", "-2");
    free(body);
    body = encode_alert(&a, 9);
    assert_field(body, "priority", "2");
    assert_field(body, "retry", "60");
    free(body);
    alert_free(&a);
}

static void
missing_user_or_token_builds_nothing(void **state)
{
    struct pushover_message m;
    struct alert a;

    (void)state;
    make_alert(&a, "t", "m", NULL, NULL);
    assert_int_equal(pushover_message_init(&m, &a, "", 0, &conf), -1);
    pushover_message_free(&m);
    assert_int_equal(pushover_message_init(&m, &a, NULL, 0, &conf), -1);
    pushover_message_free(&m);
    assert_int_equal(pushover_message_init(&m, &a, USER, 0, &conf), 0);
    assert_null(pushover_encode(&m, ""));
    assert_null(pushover_encode(&m, NULL));
    pushover_message_free(&m);
    alert_free(&a);
}

/* --- emergency cancel --- */

static void
cancel_url_replaces_messages_json_with_the_receipt(void **state)
{
    char *url = pushover_cancel_url(
        "https://api.pushover.net/1/messages.json", "rAbC123");

    (void)state;
    assert_string_equal(url,
        "https://api.pushover.net/1/receipts/rAbC123/cancel.json");
    free(url);
}

static void
cancel_url_refuses_an_api_url_of_another_shape(void **state)
{
    (void)state;
    assert_null(pushover_cancel_url("https://api.pushover.net/1/x",
                                    "r1"));
    assert_null(pushover_cancel_url("messages.json", "r1"));
    assert_null(pushover_cancel_url(NULL, "r1"));
}

static void
cancel_url_refuses_receipts_that_are_not_plain_ids(void **state)
{
    const char *api = "https://api.pushover.net/1/messages.json";
    char *long_id = repeat("r", 64);

    (void)state;
    assert_null(pushover_cancel_url(api, "../../admin"));
    assert_null(pushover_cancel_url(api, "a/b"));
    assert_null(pushover_cancel_url(api, "a?b=c"));
    assert_null(pushover_cancel_url(api, "a b"));
    assert_null(pushover_cancel_url(api, ""));
    assert_null(pushover_cancel_url(api, NULL));
    assert_null(pushover_cancel_url(api, long_id));
    free(long_id);
}

static void
cancel_body_carries_only_the_token(void **state)
{
    char *body = pushover_cancel_body("a+b&c");

    (void)state;
    assert_string_equal(body, "token=a%2Bb%26c");
    free(body);
    assert_null(pushover_cancel_body(""));
}

/* --- reading answers --- */

static void
classify(long status, const char *body, const char *retry_after,
         const char *reset, struct pushover_result *res)
{
    struct pushover_answer ans;

    memset(&ans, 0, sizeof ans);
    ans.status = status;
    if (body) {
        ans.body = strdup(body);
        ans.body_len = strlen(body);
    }
    snprintf(ans.retry_after, sizeof ans.retry_after, "%s",
             retry_after ? retry_after : "");
    snprintf(ans.limit_reset, sizeof ans.limit_reset, "%s",
             reset ? reset : "");
    ans.secrets[0] = strdup(TOKEN);
    ans.secrets[1] = strdup(USER);
    pushover_classify(&ans, NOW_MS, res);
    pushover_answer_free(&ans);
}

static void
answer_200_status_1_is_sent_with_request_id(void **state)
{
    struct pushover_result res;

    (void)state;
    classify(200, "{\"status\":1,\"request\":\"647d2300-702c-4b38\"}",
             NULL, NULL, &res);
    assert_int_equal(res.verdict, PUSHOVER_SENT);
    assert_string_equal(res.request, "647d2300-702c-4b38");
    assert_string_equal(res.receipt, "");
    assert_string_equal(res.error, "");
    assert_int_equal(res.retry_at_ms, 0);
}

static void
answer_200_with_receipt_keeps_the_receipt(void **state)
{
    struct pushover_result res;

    (void)state;
    classify(200, "{\"status\":1,\"request\":\"req1\","
             "\"receipt\":\"rcpt7Qz2\"}", NULL, NULL, &res);
    assert_int_equal(res.verdict, PUSHOVER_SENT);
    assert_string_equal(res.request, "req1");
    assert_string_equal(res.receipt, "rcpt7Qz2");
}

static void
answer_200_with_rate_headers_needs_no_wait(void **state)
{
    struct pushover_result res;

    (void)state;
    classify(200, "{\"status\":1,\"request\":\"r\"}", NULL, "1702000000",
             &res);
    assert_int_equal(res.verdict, PUSHOVER_SENT);
    assert_int_equal(res.retry_at_ms, 0);
}

static void
answer_200_html_is_retried(void **state)
{
    struct pushover_result res;

    (void)state;
    classify(200, "<html><body>Service Unavailable</body></html>", NULL,
             NULL, &res);
    assert_int_equal(res.verdict, PUSHOVER_RETRY);
    assert_string_equal(res.error, "http 200: answer is not json");
}

static void
answer_200_with_status_0_is_retried(void **state)
{
    struct pushover_result res;

    (void)state;
    classify(200, "{\"status\":0,\"errors\":[\"try later\"]}", NULL, NULL,
             &res);
    assert_int_equal(res.verdict, PUSHOVER_RETRY);
    assert_string_equal(res.error, "http 200: status is not 1: try later");
}

static void
answer_200_with_wrong_types_or_cut_json_is_retried(void **state)
{
    static const char *const bodies[] = {
        "{\"status\":\"1\"}", "[1]", "1", "{\"status\":1,", "", "{}",
        "{\"status\":true}", "\xff\xfe{}",
    };
    struct pushover_result res;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        classify(200, bodies[i], NULL, NULL, &res);
        assert_int_equal(res.verdict, PUSHOVER_RETRY);
    }
}

static void
answer_400_invalid_user_is_rejected_with_pushover_text(void **state)
{
    struct pushover_result res;

    (void)state;
    classify(400, "{\"user\":\"invalid\",\"errors\":[\"user identifier is "
             "invalid\"],\"status\":0,\"request\":\"5042853c-402d\"}",
             NULL, NULL, &res);
    assert_int_equal(res.verdict, PUSHOVER_REJECTED);
    assert_string_equal(res.error, "http 400: user identifier is invalid");
    assert_string_equal(res.request, "5042853c-402d");
}

static void
answer_400_joins_every_error(void **state)
{
    struct pushover_result res;

    (void)state;
    classify(400, "{\"errors\":[\"message cannot be blank\",7,"
             "\"title is too long\"],\"status\":0}", NULL, NULL, &res);
    assert_int_equal(res.verdict, PUSHOVER_REJECTED);
    assert_string_equal(res.error, "http 400: message cannot be blank; "
                        "title is too long");
}

static void
answer_4xx_without_json_is_rejected_with_its_status(void **state)
{
    struct pushover_result res;

    (void)state;
    classify(404, "<h1>Not Found</h1>", NULL, NULL, &res);
    assert_int_equal(res.verdict, PUSHOVER_REJECTED);
    assert_string_equal(res.error, "http 404");
    classify(401, "{\"errors\":\"not an array\"}", NULL, NULL, &res);
    assert_int_equal(res.verdict, PUSHOVER_REJECTED);
    assert_string_equal(res.error, "http 401");
}

static void
answer_408_request_timeout_is_retried(void **state)
{
    struct pushover_result res;

    (void)state;
    classify(408, NULL, NULL, NULL, &res);
    assert_int_equal(res.verdict, PUSHOVER_RETRY);
}

static void
answer_429_waits_for_the_limit_reset(void **state)
{
    struct pushover_result res;

    (void)state;
    classify(429, "{\"status\":0,\"errors\":[\"over the limit\"]}", NULL,
             "1700000002", &res);
    assert_int_equal(res.verdict, PUSHOVER_RETRY);
    assert_int_equal(res.retry_at_ms, INT64_C(1700000002000));
    assert_string_equal(res.error, "http 429: over the limit");
}

static void
answer_429_takes_the_later_of_retry_after_and_reset(void **state)
{
    struct pushover_result res;

    (void)state;
    classify(429, NULL, "60", "1700000002", &res);
    assert_int_equal(res.retry_at_ms, NOW_MS + 60000);
}

static void
answer_500_waits_retry_after_seconds(void **state)
{
    struct pushover_result res;

    (void)state;
    classify(500, "{\"status\":0}", "30", NULL, &res);
    assert_int_equal(res.verdict, PUSHOVER_RETRY);
    assert_int_equal(res.retry_at_ms, NOW_MS + 30000);
    assert_string_equal(res.error, "http 500");
}

static void
answer_503_waits_until_retry_after_date(void **state)
{
    struct pushover_result res;

    (void)state;
    classify(503, NULL, "Tue, 14 Nov 2023 22:15:00 GMT", NULL, &res);
    assert_int_equal(res.verdict, PUSHOVER_RETRY);
    assert_int_equal(res.retry_at_ms, INT64_C(1700000100000));
}

static void
answer_503_html_is_retried(void **state)
{
    struct pushover_result res;

    (void)state;
    classify(503, "<html><h1>503 Service Temporarily Unavailable</h1>",
             NULL, NULL, &res);
    assert_int_equal(res.verdict, PUSHOVER_RETRY);
    assert_int_equal(res.retry_at_ms, 0);
    assert_string_equal(res.error, "http 503");
}

static void
retry_after_in_the_past_or_garbled_sets_no_time(void **state)
{
    struct pushover_result res;

    (void)state;
    classify(503, NULL, "Mon, 01 Jan 2001 00:00:00 GMT", NULL, &res);
    assert_int_equal(res.retry_at_ms, 0);
    classify(503, NULL, "soon", NULL, &res);
    assert_int_equal(res.retry_at_ms, 0);
    classify(503, NULL, "-5", NULL, &res);
    assert_int_equal(res.retry_at_ms, 0);
    classify(429, NULL, NULL, "12abc", &res);
    assert_int_equal(res.retry_at_ms, 0);
}

static void
network_error_is_retried_with_curl_reason(void **state)
{
    struct pushover_answer ans;
    struct pushover_result res;

    (void)state;
    memset(&ans, 0, sizeof ans);
    ans.curl_code = CURLE_COULDNT_CONNECT;
    snprintf(ans.curl_error, sizeof ans.curl_error,
             "Failed to connect to 127.0.0.1 port 9");
    pushover_classify(&ans, NOW_MS, &res);
    assert_int_equal(res.verdict, PUSHOVER_RETRY);
    assert_string_equal(res.error, "Couldn't connect to server: Failed to "
                        "connect to 127.0.0.1 port 9");
}

static void
error_text_never_contains_token_or_user_key(void **state)
{
    struct pushover_result res;

    (void)state;
    classify(400, "{\"errors\":[\"token " TOKEN " and user " USER
             " are bad\"],\"status\":0}", NULL, NULL, &res);
    assert_int_equal(res.verdict, PUSHOVER_REJECTED);
    assert_null(strstr(res.error, TOKEN));
    assert_null(strstr(res.error, USER));
    assert_string_equal(res.error, "http 400: token *** and user *** are "
                        "bad");
}

static void
error_text_has_no_control_characters(void **state)
{
    struct pushover_result res;

    (void)state;
    classify(400, "{\"errors\":[\"bad\\nline\\u001b[31m\"]}", NULL, NULL,
             &res);
    assert_string_equal(res.error, "http 400: bad?line?[31m");
}

static void
oversized_error_text_is_cut_on_a_character_boundary(void **state)
{
    char *word = repeat("\xe2\x82\xac", 2000), *body;
    struct pushover_result res;

    (void)state;
    assert_true(asprintf(&body, "{\"errors\":[\"%s\"]}", word) > 0);
    classify(400, body, NULL, NULL, &res);
    assert_int_equal(res.verdict, PUSHOVER_REJECTED);
    assert_true(strlen(res.error) < sizeof res.error);
    assert_true(strlen(res.error) > sizeof res.error - 4);
    assert_true(utf8_valid(res.error, strlen(res.error)));
    free(body);
    free(word);
}

static void
answer_ids_are_kept_printable(void **state)
{
    struct pushover_result res;

    (void)state;
    classify(200, "{\"status\":1,\"request\":\"a\\nb c\",\"receipt\":7}",
             NULL, NULL, &res);
    assert_int_equal(res.verdict, PUSHOVER_SENT);
    assert_string_equal(res.request, "a?b?c");
    assert_string_equal(res.receipt, "");
}

/* --- real HTTP through the curl helper, against the mock --- */

/* POST body to url with a handle from pushover_easy_setup(). */
static void
post(const char *url, const char *body, const struct pushover_conf *c,
     struct pushover_result *res, CURLcode *code)
{
    struct pushover_answer ans;
    CURL *h = curl_easy_init();
    CURLcode rc;

    assert_non_null(h);
    assert_int_equal(pushover_easy_setup(h, url, body, TOKEN, USER, c,
                                         &ans), 0);
    rc = curl_easy_perform(h);
    pushover_answer_done(h, rc, &ans);
    pushover_classify(&ans, NOW_MS, res);
    if (code)
        *code = rc;
    pushover_answer_free(&ans);
    curl_easy_cleanup(h);
}

static char *
messages_url(struct mock_http *m)
{
    char *url;

    assert_true(asprintf(&url, "%s/1/messages.json", mock_http_url(m)) > 0);
    return url;
}

static char *
normal_body(void)
{
    struct alert a;
    char *body;

    make_alert(&a, "Site down: example.com", "HTTP 503 & more",
               "https://example.com/", "Pingdom check");
    body = encode_alert(&a, 1);
    alert_free(&a);
    return body;
}

static void
answer_429(const struct mock_request *req, size_t n,
           struct mock_response *resp, void *arg)
{
    (void)req;
    (void)n;
    (void)arg;
    resp->status = 429;
    snprintf(resp->headers, sizeof resp->headers,
             "X-Limit-App-Limit: 10000\nX-Limit-App-Remaining: 0\n"
             "X-Limit-App-Reset: 1700000002\n");
    snprintf(resp->body, sizeof resp->body, "{\"status\":0,\"errors\":"
             "[\"application over limit\"],\"request\":\"r429\"}");
}

static void
answer_503_html(const struct mock_request *req, size_t n,
                struct mock_response *resp, void *arg)
{
    (void)req;
    (void)n;
    (void)arg;
    resp->status = 503;
    snprintf(resp->content_type, sizeof resp->content_type, "text/html");
    snprintf(resp->headers, sizeof resp->headers, "Retry-After: 120\n");
    snprintf(resp->body, sizeof resp->body,
             "<html><body><h1>503 Service Unavailable</h1></body></html>");
}

static void
answer_hang(const struct mock_request *req, size_t n,
            struct mock_response *resp, void *arg)
{
    (void)req;
    (void)n;
    (void)arg;
    resp->hang = true;
}

/* 400 quoting the whole request back, as a careless proxy might. */
static void
answer_400_echo(const struct mock_request *req, size_t n,
                struct mock_response *resp, void *arg)
{
    json_t *doc = json_pack("{s:[s],s:i}", "errors", req->body, "status",
                            0);
    size_t len;

    (void)n;
    (void)arg;
    resp->status = 400;
    len = json_dumpb(doc, resp->body, sizeof resp->body - 1, 0);
    resp->body[len < sizeof resp->body ? len : 0] = '\0';
    json_decref(doc);
}

/* 400 for the user key "uBad...", the default answer otherwise. */
static void
answer_by_user(const struct mock_request *req, size_t n,
               struct mock_response *resp, void *arg)
{
    char *user = mock_form_field(req->body, "user");

    (void)n;
    (void)arg;
    if (user && strncmp(user, "uBad", 4) == 0) {
        resp->status = 400;
        snprintf(resp->body, sizeof resp->body, "{\"user\":\"invalid\","
                 "\"errors\":[\"user identifier is invalid\"],"
                 "\"status\":0,\"request\":\"r400\"}");
    }
    free(user);
}

static void
http_post_delivers_exact_form_fields(void **state)
{
    struct mock_http *m = mock_http_start(NULL, NULL);
    char *url = messages_url(m), *body = normal_body(), *v;
    struct pushover_result res;
    struct mock_request *req;

    (void)state;
    post(url, body, &conf, &res, NULL);
    assert_int_equal(res.verdict, PUSHOVER_SENT);
    assert_string_equal(res.request, "mock");
    req = mock_http_request(m, 0);
    assert_non_null(req);
    assert_string_equal(req->method, "POST");
    assert_string_equal(req->url, "/1/messages.json");
    assert_string_equal(req->body, body);
    assert_field(req->body, "token", TOKEN);
    assert_field(req->body, "user", USER);
    assert_field(req->body, "title", "Site down: example.com");
    assert_field(req->body, "message", "HTTP 503 & more");
    assert_field(req->body, "priority", "1");
    assert_field(req->body, "timestamp", "1700000000");
    assert_field(req->body, "url", "https://example.com/");
    assert_field(req->body, "url_title", "Pingdom check");
    assert_field(req->body, "retry", NULL);
    v = mock_request_header(req, "Content-Type");
    assert_string_equal(v, "application/x-www-form-urlencoded");
    free(v);
    mock_request_free(req);
    free(body);
    free(url);
    mock_http_stop(m);
}

static void
http_token_and_user_never_in_the_url(void **state)
{
    struct mock_http *m = mock_http_start(NULL, NULL);
    char *url = messages_url(m), *body = normal_body();
    struct pushover_result res;
    struct mock_request *req;

    (void)state;
    post(url, body, &conf, &res, NULL);
    req = mock_http_request(m, 0);
    assert_null(strstr(req->url, TOKEN));
    assert_null(strstr(req->url, USER));
    assert_null(strchr(req->url, '?'));
    mock_request_free(req);
    free(body);
    free(url);
    mock_http_stop(m);
}

static void
http_429_reads_the_limit_reset_header(void **state)
{
    struct mock_http *m = mock_http_start(answer_429, NULL);
    char *url = messages_url(m), *body = normal_body();
    struct pushover_result res;

    (void)state;
    post(url, body, &conf, &res, NULL);
    assert_int_equal(res.verdict, PUSHOVER_RETRY);
    assert_int_equal(res.retry_at_ms, INT64_C(1700000002000));
    assert_string_equal(res.error, "http 429: application over limit");
    free(body);
    free(url);
    mock_http_stop(m);
}

static void
http_503_html_reads_retry_after(void **state)
{
    struct mock_http *m = mock_http_start(answer_503_html, NULL);
    char *url = messages_url(m), *body = normal_body();
    struct pushover_result res;

    (void)state;
    post(url, body, &conf, &res, NULL);
    assert_int_equal(res.verdict, PUSHOVER_RETRY);
    assert_int_equal(res.retry_at_ms, NOW_MS + 120000);
    assert_string_equal(res.error, "http 503");
    free(body);
    free(url);
    mock_http_stop(m);
}

static void
http_echoed_secrets_stay_out_of_the_error(void **state)
{
    struct mock_http *m = mock_http_start(answer_400_echo, NULL);
    char *url = messages_url(m), *body = normal_body();
    struct pushover_result res;

    (void)state;
    post(url, body, &conf, &res, NULL);
    assert_int_equal(res.verdict, PUSHOVER_REJECTED);
    assert_non_null(strstr(res.error, "http 400: token=***&user=***&"));
    assert_null(strstr(res.error, TOKEN));
    assert_null(strstr(res.error, USER));
    free(body);
    free(url);
    mock_http_stop(m);
}

static void
http_hanging_server_times_out_as_retry(void **state)
{
    struct mock_http *m = mock_http_start(answer_hang, NULL);
    struct pushover_conf quick = conf;
    char *url = messages_url(m), *body = normal_body();
    struct pushover_result res;
    CURLcode code;

    (void)state;
    quick.timeout = 1;
    post(url, body, &quick, &res, &code);
    /* curl's own total timeout fired, set from conf.timeout. */
    assert_int_equal(code, CURLE_OPERATION_TIMEDOUT);
    assert_int_equal(res.verdict, PUSHOVER_RETRY);
    assert_string_equal(res.error,
                        "no answer from Pushover within the timeout");
    assert_int_equal(mock_http_count(m), 1);
    free(body);
    free(url);
    mock_http_stop(m);
}

static void
http_refused_connection_is_retry(void **state)
{
    struct mock_http *m = mock_http_start(NULL, NULL);
    char *url = messages_url(m), *body = normal_body();
    struct pushover_result res;
    CURLcode code;

    (void)state;
    mock_http_stop(m);
    post(url, body, &conf, &res, &code);
    assert_int_equal(code, CURLE_COULDNT_CONNECT);
    assert_int_equal(res.verdict, PUSHOVER_RETRY);
    free(body);
    free(url);
}

static void
http_reused_handle_keeps_the_connection(void **state)
{
    struct mock_http *m = mock_http_start(NULL, NULL);
    char *url = messages_url(m), *body = normal_body();
    struct pushover_answer ans;
    CURL *h = curl_easy_init();
    long connects = -1;
    int i;

    (void)state;
    for (i = 0; i < 2; i++) {
        assert_int_equal(pushover_easy_setup(h, url, body, TOKEN, USER,
                                             &conf, &ans), 0);
        pushover_answer_done(h, curl_easy_perform(h), &ans);
        assert_int_equal(ans.status, 200);
        pushover_answer_free(&ans);
    }
    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects);
    assert_int_equal(connects, 0);
    assert_int_equal(mock_http_count(m), 2);
    curl_easy_cleanup(h);
    free(body);
    free(url);
    mock_http_stop(m);
}

/* Run every transfer added to mh to the end, as the delivery loop
   does, recording each answer through CURLINFO_PRIVATE. */
static void
run_multi(CURLM *mh)
{
    struct pushover_answer *ans;
    int running = 1, left;
    CURLMsg *msg;

    while (running) {
        assert_int_equal(curl_multi_perform(mh, &running), CURLM_OK);
        if (running)
            assert_int_equal(curl_multi_poll(mh, NULL, 0, 1000, NULL),
                             CURLM_OK);
    }
    while ((msg = curl_multi_info_read(mh, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &ans);
        pushover_answer_done(msg->easy_handle, msg->data.result, ans);
    }
}

static void
http_multi_handle_runs_deliveries_side_by_side(void **state)
{
    struct mock_http *m = mock_http_start(answer_by_user, NULL);
    const char *users[2] = { USER, "uBadUserKey000000000000000000x" };
    char *url = messages_url(m), *body[2];
    struct pushover_answer ans[2];
    struct pushover_result res;
    struct pushover_message msg;
    CURLM *mh = curl_multi_init();
    CURL *h[2];
    struct alert a;
    int i;

    (void)state;
    make_alert(&a, "t", "m", NULL, NULL);
    for (i = 0; i < 2; i++) {
        assert_int_equal(pushover_message_init(&msg, &a, users[i], 0,
                                               &conf), 0);
        body[i] = pushover_encode(&msg, TOKEN);
        pushover_message_free(&msg);
        h[i] = curl_easy_init();
        assert_int_equal(pushover_easy_setup(h[i], url, body[i], TOKEN,
                                             users[i], &conf, &ans[i]), 0);
        curl_easy_setopt(h[i], CURLOPT_PRIVATE, &ans[i]);
        curl_multi_add_handle(mh, h[i]);
    }
    run_multi(mh);

    pushover_classify(&ans[0], NOW_MS, &res);
    assert_int_equal(res.verdict, PUSHOVER_SENT);
    pushover_classify(&ans[1], NOW_MS, &res);
    assert_int_equal(res.verdict, PUSHOVER_REJECTED);
    assert_string_equal(res.error, "http 400: user identifier is invalid");
    for (i = 0; i < 2; i++) {
        curl_multi_remove_handle(mh, h[i]);
        curl_easy_cleanup(h[i]);
        pushover_answer_free(&ans[i]);
        free(body[i]);
    }
    curl_multi_cleanup(mh);
    alert_free(&a);
    free(url);
    mock_http_stop(m);
}

static void
http_cancel_posts_the_token_to_the_receipt_url(void **state)
{
    struct mock_http *m = mock_http_start(NULL, NULL);
    char *api = messages_url(m), *url, *body;
    struct pushover_result res;
    struct mock_request *req;

    (void)state;
    url = pushover_cancel_url(api, "rcpt7Qz2");
    body = pushover_cancel_body(TOKEN);
    post(url, body, &conf, &res, NULL);
    assert_int_equal(res.verdict, PUSHOVER_SENT);
    req = mock_http_request(m, 0);
    assert_string_equal(req->url, "/1/receipts/rcpt7Qz2/cancel.json");
    assert_string_equal(req->body, "token=" TOKEN);
    mock_request_free(req);
    free(body);
    free(url);
    free(api);
    mock_http_stop(m);
}

static int
setup_curl(void **state)
{
    (void)state;
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static int
teardown_curl(void **state)
{
    (void)state;
    curl_global_cleanup();
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(normal_message_body_is_exact),
        cmocka_unit_test(emergency_body_adds_retry_expire_and_callback),
        cmocka_unit_test(
            emergency_retry_and_expire_kept_within_pushover_bounds),
        cmocka_unit_test(non_emergency_body_has_no_retry_expire_or_callback),
        cmocka_unit_test(long_title_is_cut_to_250_characters_with_ellipsis),
        cmocka_unit_test(
            long_message_is_cut_to_1024_characters_on_a_boundary),
        cmocka_unit_test(message_at_exactly_1024_characters_is_not_cut),
        cmocka_unit_test(url_over_512_characters_is_dropped_with_its_title),
        cmocka_unit_test(url_of_exactly_512_characters_is_kept),
        cmocka_unit_test(long_url_title_is_cut_to_100_characters),
        cmocka_unit_test(alert_without_message_uses_its_title_as_message),
        cmocka_unit_test(alert_without_any_text_says_where_it_came_from),
        cmocka_unit_test(empty_fields_are_left_out),
        cmocka_unit_test(reserved_characters_newlines_and_emoji_are_escaped),
        cmocka_unit_test(text_that_is_not_utf8_is_repaired),
        cmocka_unit_test(url_that_is_not_utf8_is_dropped),
        cmocka_unit_test(priority_outside_pushover_scale_is_clamped),
        cmocka_unit_test(missing_user_or_token_builds_nothing),
        cmocka_unit_test(cancel_url_replaces_messages_json_with_the_receipt),
        cmocka_unit_test(cancel_url_refuses_an_api_url_of_another_shape),
        cmocka_unit_test(cancel_url_refuses_receipts_that_are_not_plain_ids),
        cmocka_unit_test(cancel_body_carries_only_the_token),
        cmocka_unit_test(answer_200_status_1_is_sent_with_request_id),
        cmocka_unit_test(answer_200_with_receipt_keeps_the_receipt),
        cmocka_unit_test(answer_200_with_rate_headers_needs_no_wait),
        cmocka_unit_test(answer_200_html_is_retried),
        cmocka_unit_test(answer_200_with_status_0_is_retried),
        cmocka_unit_test(answer_200_with_wrong_types_or_cut_json_is_retried),
        cmocka_unit_test(
            answer_400_invalid_user_is_rejected_with_pushover_text),
        cmocka_unit_test(answer_400_joins_every_error),
        cmocka_unit_test(answer_4xx_without_json_is_rejected_with_its_status),
        cmocka_unit_test(answer_408_request_timeout_is_retried),
        cmocka_unit_test(answer_429_waits_for_the_limit_reset),
        cmocka_unit_test(answer_429_takes_the_later_of_retry_after_and_reset),
        cmocka_unit_test(answer_500_waits_retry_after_seconds),
        cmocka_unit_test(answer_503_waits_until_retry_after_date),
        cmocka_unit_test(answer_503_html_is_retried),
        cmocka_unit_test(retry_after_in_the_past_or_garbled_sets_no_time),
        cmocka_unit_test(network_error_is_retried_with_curl_reason),
        cmocka_unit_test(error_text_never_contains_token_or_user_key),
        cmocka_unit_test(error_text_has_no_control_characters),
        cmocka_unit_test(oversized_error_text_is_cut_on_a_character_boundary),
        cmocka_unit_test(answer_ids_are_kept_printable),
        cmocka_unit_test(http_post_delivers_exact_form_fields),
        cmocka_unit_test(http_token_and_user_never_in_the_url),
        cmocka_unit_test(http_429_reads_the_limit_reset_header),
        cmocka_unit_test(http_503_html_reads_retry_after),
        cmocka_unit_test(http_echoed_secrets_stay_out_of_the_error),
        cmocka_unit_test(http_hanging_server_times_out_as_retry),
        cmocka_unit_test(http_refused_connection_is_retry),
        cmocka_unit_test(http_reused_handle_keeps_the_connection),
        cmocka_unit_test(http_multi_handle_runs_deliveries_side_by_side),
        cmocka_unit_test(http_cancel_posts_the_token_to_the_receipt_url),
    };

    return cmocka_run_group_tests(tests, setup_curl, teardown_curl);
}
