/*
 * Pushover messages: building them from alerts within Pushover's limits,
 * encoding the form bodies, and reading the answers.
 */
#include "notifiers/pushover.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notifiers/utf8.h"

/* curl_easy_escape(NULL, ...), curl_easy_header() and
   CURLOPT_PROTOCOLS_STR. */
#if LIBCURL_VERSION_NUM < 0x075500
#error "klaxon needs libcurl 7.85 or later"
#endif

#ifndef KLAXON_VERSION
#define KLAXON_VERSION "0"
#endif

#define PUSHOVER_RETRY_DEFAULT   60
#define PUSHOVER_EXPIRE_DEFAULT  3600
#define PUSHOVER_TIMEOUT_DEFAULT 15
#define PUSHOVER_CONNECT_MAX     10

/* Bound on numbers read from headers, so that milliseconds never
   overflow: far beyond any real wait (about 35,000 years). */
#define PUSHOVER_SECONDS_MAX     (INT64_C(1) << 40)

/* A copy of text cut to max characters, or NULL for absent or empty
   text. */
static int
set_text(char **field, const char *text, size_t max)
{
    *field = NULL;
    if (!text || !*text)
        return 0;
    *field = utf8_cut(text, strlen(text), max, NULL);
    return *field ? 0 : -1;
}

/*
 * The link and its label. A URL that is too long is dropped, not cut: a
 * cut URL would open some other page, which is worse than none. A label
 * without its link means nothing to Pushover, so it goes too.
 */
static int
set_link(struct pushover_message *m, const struct alert *a)
{
    size_t len;

    if (!a->url || !*a->url)
        return 0;
    len = strlen(a->url);
    if (!utf8_valid(a->url, len) || utf8_count(a->url, len) >
        PUSHOVER_URL_MAX)
        return 0;
    if (!(m->url = strdup(a->url)))
        return -1;
    return set_text(&m->url_title, a->url_title, PUSHOVER_URL_TITLE_MAX);
}

/* Pushover rejects a message without text, so fall back on the title,
   then on where the alert came from. */
static int
set_message(struct pushover_message *m, const struct alert *a)
{
    char *fallback;
    int rc;

    if (a->message && *a->message)
        return set_text(&m->message, a->message, PUSHOVER_MESSAGE_MAX);
    if (a->title && *a->title)
        return set_text(&m->message, a->title, PUSHOVER_MESSAGE_MAX);
    if (a->key && *a->key)
        rc = asprintf(&fallback, "%s alert %s", source_name(a->source),
                      a->key);
    else
        rc = asprintf(&fallback, "%s alert", source_name(a->source));
    if (rc < 0)
        return -1;
    rc = set_text(&m->message, fallback, PUSHOVER_MESSAGE_MAX);
    free(fallback);
    return rc;
}

/* Emergency settings, kept within Pushover's bounds so that a config
   mistake delays nothing: Pushover would refuse the whole message. */
static int
set_emergency(struct pushover_message *m, const struct pushover_conf *conf)
{
    m->retry = PUSHOVER_RETRY_DEFAULT;
    m->expire = PUSHOVER_EXPIRE_DEFAULT;
    if (!conf)
        return 0;
    if (conf->retry > 0)
        m->retry = conf->retry;
    if (m->retry < PUSHOVER_RETRY_MIN)
        m->retry = PUSHOVER_RETRY_MIN;
    if (conf->expire > 0)
        m->expire = conf->expire;
    if (m->expire > PUSHOVER_EXPIRE_MAX)
        m->expire = PUSHOVER_EXPIRE_MAX;
    if (conf->callback_url && *conf->callback_url &&
        !(m->callback = strdup(conf->callback_url)))
        return -1;
    return 0;
}

int
pushover_message_init(struct pushover_message *m, const struct alert *a,
                      const char *user, int priority,
                      const struct pushover_conf *conf)
{
    memset(m, 0, sizeof *m);
    if (!user || !*user || !(m->user = strdup(user)))
        return -1;
    if (set_text(&m->title, a->title, PUSHOVER_TITLE_MAX) < 0 ||
        set_message(m, a) < 0 || set_link(m, a) < 0)
        return -1;
    m->priority = priority < -2 ? -2 : priority > 2 ? 2 : priority;
    m->timestamp = a->time > 0 ? a->time : 0;
    if (m->priority == 2 && set_emergency(m, conf) < 0)
        return -1;
    return 0;
}

void
pushover_message_free(struct pushover_message *m)
{
    free(m->user);
    free(m->title);
    free(m->message);
    free(m->url);
    free(m->url_title);
    free(m->callback);
    memset(m, 0, sizeof *m);
}

/* Append "&name=value" (no "&" first) to f; empty values are left out
   because Pushover treats "url=" and the like as errors. */
static void
put_field(FILE *f, const char *name, const char *value, int *err)
{
    char *esc;

    if (!value || !*value)
        return;
    if (!(esc = curl_easy_escape(NULL, value, 0))) {
        *err = -1;
        return;
    }
    fprintf(f, "%s%s=%s", ftell(f) > 0 ? "&" : "", name, esc);
    curl_free(esc);
}

static void
put_int(FILE *f, const char *name, long long value, int *err)
{
    char num[32];

    snprintf(num, sizeof num, "%lld", value);
    put_field(f, name, num, err);
}

/* Close memstream f holding *buf; NULL (and *buf freed) on any error. */
static char *
memstream_done(FILE *f, char **buf, int err)
{
    if (ferror(f))
        err = -1;
    if (fclose(f) != 0)
        err = -1;
    if (err < 0) {
        free(*buf);
        return NULL;
    }
    return *buf;
}

char *
pushover_encode(const struct pushover_message *m, const char *token)
{
    char *buf = NULL;
    size_t size;
    FILE *f;
    int err = 0;

    if (!token || !*token || !(f = open_memstream(&buf, &size)))
        return NULL;
    put_field(f, "token", token, &err);
    put_field(f, "user", m->user, &err);
    put_field(f, "title", m->title, &err);
    put_field(f, "message", m->message, &err);
    put_int(f, "priority", m->priority, &err);
    if (m->timestamp > 0)
        put_int(f, "timestamp", (long long)m->timestamp, &err);
    put_field(f, "url", m->url, &err);
    put_field(f, "url_title", m->url_title, &err);
    if (m->priority == 2) {
        put_int(f, "retry", m->retry, &err);
        put_int(f, "expire", m->expire, &err);
        put_field(f, "callback", m->callback, &err);
    }
    return memstream_done(f, &buf, err);
}

bool
pushover_receipt_ok(const char *receipt)
{
    static const char alnum[] = "0123456789abcdefghijklmnopqrstuvwxyz"
                                "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    size_t len;

    if (!receipt || !(len = strlen(receipt)) || len > 63)
        return false;
    return strspn(receipt, alnum) == len;
}

char *
pushover_cancel_url(const char *api_url, const char *receipt)
{
    static const char suffix[] = "/messages.json";
    size_t len, prefix;
    char *url;

    if (!api_url || !pushover_receipt_ok(receipt))
        return NULL;
    len = strlen(api_url);
    if (len < sizeof suffix - 1 ||
        strcmp(api_url + len - (sizeof suffix - 1), suffix) != 0)
        return NULL;
    prefix = len - (sizeof suffix - 1);
    if (asprintf(&url, "%.*s/receipts/%s/cancel.json", (int)prefix,
                 api_url, receipt) < 0)
        return NULL;
    return url;
}

char *
pushover_cancel_body(const char *token)
{
    char *buf = NULL;
    size_t size;
    FILE *f;
    int err = 0;

    if (!token || !*token || !(f = open_memstream(&buf, &size)))
        return NULL;
    put_field(f, "token", token, &err);
    return memstream_done(f, &buf, err);
}

void
pushover_answer_free(struct pushover_answer *ans)
{
    size_t i;

    free(ans->body);
    ans->body = NULL;
    ans->body_len = 0;
    for (i = 0; i < sizeof ans->secrets / sizeof ans->secrets[0]; i++) {
        if (ans->secrets[i]) {
            explicit_bzero(ans->secrets[i], strlen(ans->secrets[i]));
            free(ans->secrets[i]);
            ans->secrets[i] = NULL;
        }
    }
}

/* Replace every occurrence of secret in text with up to three '*',
   never more than the secret's own length, so the text only shrinks. */
static void
redact(char *text, const char *secret)
{
    size_t slen, rlen;
    char *p = text;

    if (!secret || !(slen = strlen(secret)))
        return;
    rlen = slen < 3 ? slen : 3;
    while ((p = strstr(p, secret))) {
        memmove(p + rlen, p + slen, strlen(p + slen) + 1);
        memset(p, '*', rlen);
        p += rlen;
    }
}

/*
 * Set res->error from a printf format: control characters and bytes
 * that are not UTF-8 become '?', the secrets of ans are removed, and the
 * text is cut to fit on a character boundary. The text is composed in a
 * larger buffer first so that no secret can be half cut and half kept.
 */
static void __attribute__((format(printf, 3, 4)))
set_error(struct pushover_result *res, const struct pushover_answer *ans,
          const char *fmt, ...)
{
    char text[4096];
    size_t i, n, len, end = 0;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    for (i = 0; i < sizeof ans->secrets / sizeof ans->secrets[0]; i++)
        redact(text, ans->secrets[i]);

    n = strlen(text);
    while (end < n) {
        if ((len = utf8_seq_len(text + end, n - end)) == 0) {
            text[end] = '?';
            len = 1;
        } else if (len == 1 && ((unsigned char)text[end] < 0x20 ||
                                text[end] == 0x7f)) {
            text[end] = '?';
        }
        if (end + len > sizeof res->error - 1)
            break;
        end += len;
    }
    memcpy(res->error, text, end);
    res->error[end] = '\0';
}

/* Pushover's "errors" array joined with "; " into buf. */
static void
join_errors(json_t *doc, char *buf, size_t size)
{
    json_t *errors = json_object_get(doc, "errors"), *e;
    size_t i, o = 0;
    int n;

    buf[0] = '\0';
    json_array_foreach(errors, i, e) {
        if (!json_is_string(e) || o + 1 >= size)
            continue;
        n = snprintf(buf + o, size - o, "%s%s", o ? "; " : "",
                     json_string_value(e));
        if (n < 0)
            break;
        o += (size_t)n < size - o ? (size_t)n : size - o - 1;
    }
}

/* An id from the answer (request, receipt): printable ASCII only, since
   it is logged and stored. "" when absent or not a string. */
static void
copy_id(char *dst, size_t size, json_t *v)
{
    const char *s = json_string_value(v);
    size_t i;

    for (i = 0; s && s[i] && i < size - 1; i++)
        dst[i] = (s[i] > 0x20 && s[i] < 0x7f) ? s[i] : '?';
    dst[i] = '\0';
}

/* The decimal number s (digits only), at most max; -1 if not a number. */
static int64_t
parse_number(const char *s, int64_t max)
{
    int64_t v = 0;

    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        if (v <= max)
            v = v * 10 + (*s - '0');
    }
    return v < max ? v : max;
}

/*
 * The earliest retry the server asked for. Retry-After is seconds from
 * now or an HTTP date; X-Limit-App-Reset, the unix time when the
 * application's monthly allowance starts again, counts only on a 429
 * because Pushover sends it with every answer. The later one wins;
 * a time already past is no constraint.
 */
static int64_t
server_retry_ms(const struct pushover_answer *ans, int64_t now_ms)
{
    int64_t at = 0, secs, reset;
    time_t t;

    secs = parse_number(ans->retry_after, PUSHOVER_SECONDS_MAX);
    if (secs >= 0)
        at = now_ms + secs * 1000;
    else if (ans->retry_after[0] &&
             (t = curl_getdate(ans->retry_after, NULL)) > 0)
        at = (int64_t)t * 1000;
    reset = parse_number(ans->limit_reset, PUSHOVER_SECONDS_MAX);
    if (ans->status == 429 && reset >= 0 && reset * 1000 > at)
        at = reset * 1000;
    return at > now_ms ? at : 0;
}

static void
classify_http(const struct pushover_answer *ans, json_t *doc,
              int64_t now_ms, struct pushover_result *res)
{
    char errors[1024] = "";
    long st = ans->status;

    if (doc)
        join_errors(doc, errors, sizeof errors);

    if (st >= 200 && st < 300) {
        if (!doc) {
            res->verdict = PUSHOVER_RETRY;
            set_error(res, ans, "http %ld: answer is not json", st);
        } else if (json_integer_value(json_object_get(doc, "status")) != 1) {
            res->verdict = PUSHOVER_RETRY;
            set_error(res, ans, "http %ld: status is not 1%s%s", st,
                      *errors ? ": " : "", errors);
        } else {
            res->verdict = PUSHOVER_SENT;
        }
    } else if (st == 408 || st == 429 || st >= 500) {
        res->verdict = PUSHOVER_RETRY;
        res->retry_at_ms = server_retry_ms(ans, now_ms);
        set_error(res, ans, "http %ld%s%s", st, *errors ? ": " : "",
                  errors);
    } else if (st >= 400) {
        res->verdict = PUSHOVER_REJECTED;
        set_error(res, ans, "http %ld%s%s", st, *errors ? ": " : "",
                  errors);
    } else {
        res->verdict = PUSHOVER_RETRY;
        set_error(res, ans, "unexpected http %ld", st);
    }
}

void
pushover_classify(const struct pushover_answer *ans, int64_t now_ms,
                  struct pushover_result *res)
{
    json_t *doc = NULL;

    memset(res, 0, sizeof *res);
    if (ans->curl_code == CURLE_OPERATION_TIMEDOUT) {
        /* curl's detail names whatever step the clock ran out in, often
           a request still queued behind a stalled one ("failed to
           resolve host ... after 0 ms"), which misleads more than it
           tells. */
        res->verdict = PUSHOVER_RETRY;
        set_error(res, ans, "no answer from Pushover within the timeout");
        return;
    }
    if (ans->curl_code != CURLE_OK) {
        res->verdict = PUSHOVER_RETRY;
        set_error(res, ans, "%s%s%s", curl_easy_strerror(ans->curl_code),
                  ans->curl_error[0] ? ": " : "", ans->curl_error);
        return;
    }
    if (ans->body && ans->body_len &&
        (doc = json_loadb(ans->body, ans->body_len, 0, NULL)) &&
        !json_is_object(doc)) {
        json_decref(doc);
        doc = NULL;
    }
    classify_http(ans, doc, now_ms, res);
    copy_id(res->request, sizeof res->request,
            json_object_get(doc, "request"));
    copy_id(res->receipt, sizeof res->receipt,
            json_object_get(doc, "receipt"));
    json_decref(doc);
}

/* Keep the answer body, up to PUSHOVER_ANSWER_MAX bytes; the rest is
   read and dropped, as the status alone still decides. */
static size_t
answer_write(char *data, size_t size, size_t nmemb, void *arg)
{
    struct pushover_answer *ans = arg;
    size_t len = size * nmemb, take;
    char *grown;

    take = PUSHOVER_ANSWER_MAX - ans->body_len;
    if (len < take)
        take = len;
    if (take == 0)
        return len;
    if (!(grown = realloc(ans->body, ans->body_len + take + 1)))
        return 0;
    ans->body = grown;
    memcpy(ans->body + ans->body_len, data, take);
    ans->body_len += take;
    ans->body[ans->body_len] = '\0';
    return len;
}

static int
remember_secrets(struct pushover_answer *ans, const char *token,
                 const char *user)
{
    if (token && *token && !(ans->secrets[0] = strdup(token)))
        return -1;
    if (user && *user && !(ans->secrets[1] = strdup(user)))
        return -1;
    return 0;
}

int
pushover_easy_setup(CURL *h, const char *url, const char *body,
                    const char *token, const char *user,
                    const struct pushover_conf *conf,
                    struct pushover_answer *ans)
{
    long total = PUSHOVER_TIMEOUT_DEFAULT, connect;
    CURLcode rc = CURLE_OK;

    memset(ans, 0, sizeof *ans);
    if (remember_secrets(ans, token, user) < 0)
        return -1;
    if (conf && conf->timeout > 0)
        total = conf->timeout;
    connect = total < PUSHOVER_CONNECT_MAX ? total : PUSHOVER_CONNECT_MAX;

#define SET(opt, val) if (rc == CURLE_OK) rc = curl_easy_setopt(h, opt, val)
    SET(CURLOPT_URL, url);
    SET(CURLOPT_COPYPOSTFIELDS, body);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_CONNECTTIMEOUT_MS, connect * 1000);
    SET(CURLOPT_TIMEOUT_MS, total * 1000);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_USERAGENT, "klaxon/" KLAXON_VERSION);
    SET(CURLOPT_WRITEFUNCTION, answer_write);
    SET(CURLOPT_WRITEDATA, ans);
    SET(CURLOPT_ERRORBUFFER, ans->curl_error);
#undef SET
    return rc == CURLE_OK ? 0 : -1;
}

/* Copy the value of header name in the last answer of h into buf. */
static void
copy_header(CURL *h, const char *name, char *buf, size_t size)
{
    struct curl_header *hd;

    buf[0] = '\0';
    if (curl_easy_header(h, name, 0, CURLH_HEADER, -1, &hd) == CURLHE_OK)
        snprintf(buf, size, "%s", hd->value);
}

void
pushover_answer_done(CURL *h, CURLcode code, struct pushover_answer *ans)
{
    ans->curl_code = code;
    if (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &ans->status) !=
        CURLE_OK)
        ans->status = 0;
    copy_header(h, "Retry-After", ans->retry_after,
                sizeof ans->retry_after);
    copy_header(h, "X-Limit-App-Reset", ans->limit_reset,
                sizeof ans->limit_reset);
}
