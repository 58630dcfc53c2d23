/*
 * mock_pushover: a stand-in for the Pushover API on 127.0.0.1, for
 * scripts and the daemon-level tests.
 *
 *   mock_pushover --port-file FILE [--log FILE] [--mode MODE]
 *                 [--mode-file FILE]
 *
 * It listens on an ephemeral loopback port, writes the port number to
 * --port-file (atomically, so a script polling for the file never reads
 * half of it) and to stdout, and runs until SIGTERM or SIGINT.
 *
 * POST /1/messages.json is answered by the mode:
 *   ok           200 {"status":1,"request":"<id>"}, plus "receipt" for
 *                priority 2; like Pushover, a message without token,
 *                user or text, or an emergency without retry and
 *                expire, gets 400 with Pushover's kind of errors
 *   400          400, the user key is invalid
 *   429          429 with X-Limit-App-Reset two seconds ahead
 *   500          500 with a plain-text body
 *   html         502 with an HTML body, as from a proxy
 *   hang         no answer until the mock stops
 *   fail-first=N the first N message requests get 500, then as ok
 * --mode-file, when given, is read before each request; a valid mode
 * word in it overrides --mode, so a script can switch modes by writing
 * the file. The fail-first count runs over the life of the process.
 *
 * POST /1/receipts/<receipt>/cancel.json always answers 200
 * {"status":1}. Other paths get 404.
 *
 * --log gets one JSON object per request, one per line, written before
 * the answer: time_ms, kind ("message", "cancel", "other"), method,
 * path (the request target), mode, status (0 when it hangs), has_token,
 * then the message fields that were present (user, title, message,
 * priority, url, url_title, timestamp, retry, expire, callback; numbers
 * as numbers when they parse), and the request id and receipt it
 * answered with (for a cancel, the receipt in the path). The token is
 * never logged.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/clock.h"
#include "tests/support/mock_http.h"

enum mode_kind { MODE_OK, MODE_400, MODE_429, MODE_500, MODE_HTML,
                 MODE_HANG, MODE_FAIL_FIRST };

struct mode {
    enum mode_kind kind;
    long n;                 /* fail-first: how many */
    char name[32];
};

struct mock_pushover {
    struct mode mode;       /* from --mode */
    const char *mode_file;
    int log_fd;             /* -1: no log */
    pthread_mutex_t log_lock;
    atomic_long messages;   /* message requests so far */
};

/* What one request was answered with, for the log. */
struct answer_note {
    const char *kind;
    char request[40];
    char receipt[32];
};

static const char *const mode_words[] = {
    [MODE_OK] = "ok", [MODE_400] = "400", [MODE_429] = "429",
    [MODE_500] = "500", [MODE_HTML] = "html", [MODE_HANG] = "hang",
};

static int
mode_parse(const char *word, struct mode *out)
{
    char *end;
    size_t i;

    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", word);
    for (i = 0; i < sizeof mode_words / sizeof mode_words[0]; i++) {
        if (mode_words[i] && strcmp(word, mode_words[i]) == 0) {
            out->kind = (enum mode_kind)i;
            return 0;
        }
    }
    if (strncmp(word, "fail-first=", 11) == 0) {
        errno = 0;
        out->n = strtol(word + 11, &end, 10);
        if (word[11] && !*end && !errno && out->n >= 0) {
            out->kind = MODE_FAIL_FIRST;
            return 0;
        }
    }
    return -1;
}

/* The mode for this request: the mode file's word when it holds a valid
   one, the --mode otherwise. */
static struct mode
mode_now(const struct mock_pushover *mp)
{
    char word[64] = "";
    struct mode m;
    size_t n;
    FILE *f;

    if (!mp->mode_file || !(f = fopen(mp->mode_file, "r")))
        return mp->mode;
    n = fread(word, 1, sizeof word - 1, f);
    fclose(f);
    word[n] = '\0';
    word[strcspn(word, " \t\r\n")] = '\0';
    if (word[0] && mode_parse(word, &m) == 0)
        return m;
    if (word[0])
        fprintf(stderr, "mock_pushover: mode file: unknown mode \"%s\"\n",
                word);
    return mp->mode;
}

/* len random characters from set into buf (NUL-terminated). */
static void
random_chars(char *buf, size_t len, const char *set)
{
    size_t i, n = strlen(set);

    for (i = 0; i < len; i++)
        buf[i] = set[arc4random_uniform((uint32_t)n)];
    buf[len] = '\0';
}

static void
make_request_id(char *buf)
{
    char hex[33];

    random_chars(hex, 32, "0123456789abcdef");
    sprintf(buf, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12,
            hex + 16, hex + 20);
}

static bool
field_present(const char *body, const char *name)
{
    char *v = mock_form_field(body, name);
    bool present = v && *v;

    free(v);
    return present;
}

/* What Pushover itself would refuse, or NULL. */
static const char *
message_problem(const char *body)
{
    char *priority;
    bool emergency;

    if (!field_present(body, "token"))
        return "application token is invalid";
    if (!field_present(body, "user"))
        return "user identifier is invalid";
    if (!field_present(body, "message"))
        return "message cannot be blank";
    priority = mock_form_field(body, "priority");
    emergency = priority && strcmp(priority, "2") == 0;
    free(priority);
    if (emergency && (!field_present(body, "retry") ||
                      !field_present(body, "expire")))
        return "retry and expire are required for priority 2";
    return NULL;
}

static void
answer_json(struct mock_response *resp, int status, json_t *doc)
{
    char *text = json_dumps(doc, JSON_COMPACT);

    resp->status = status;
    snprintf(resp->body, sizeof resp->body, "%s", text ? text : "{}");
    free(text);
    json_decref(doc);
}

static void
answer_error(struct mock_response *resp, int status, const char *error,
             struct answer_note *note)
{
    answer_json(resp, status, json_pack("{s:i,s:[s],s:s}", "status", 0,
                                        "errors", error, "request",
                                        note->request));
}

static void
answer_ok(const struct mock_request *req, struct mock_response *resp,
          struct answer_note *note)
{
    const char *problem = message_problem(req->body);
    char *priority = mock_form_field(req->body, "priority");
    json_t *doc;

    if (problem) {
        answer_error(resp, 400, problem, note);
    } else {
        doc = json_pack("{s:i,s:s}", "status", 1, "request",
                        note->request);
        if (priority && strcmp(priority, "2") == 0) {
            random_chars(note->receipt, 30, "abcdefghijklmnopqrstuvwxyz"
                         "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
            json_object_set_new(doc, "receipt",
                                json_string(note->receipt));
        }
        answer_json(resp, 200, doc);
        /* Pushover reports the monthly allowance on every answer. */
        snprintf(resp->headers, sizeof resp->headers,
                 "X-Limit-App-Limit: 10000\nX-Limit-App-Remaining: 9999\n"
                 "X-Limit-App-Reset: %lld\n",
                 (long long)clock_now() + 30 * 86400);
    }
    free(priority);
}

static void
answer_500(struct mock_response *resp)
{
    resp->status = 500;
    snprintf(resp->content_type, sizeof resp->content_type, "text/plain");
    snprintf(resp->body, sizeof resp->body, "internal server error\n");
}

static void
answer_message(struct mock_pushover *mp, const struct mode *mode,
               const struct mock_request *req, struct mock_response *resp,
               struct answer_note *note)
{
    long k = atomic_fetch_add(&mp->messages, 1) + 1;

    switch (mode->kind) {
    case MODE_FAIL_FIRST:
        if (k > mode->n)
            answer_ok(req, resp, note);
        else
            answer_500(resp);
        break;
    case MODE_500:
        answer_500(resp);
        break;
    case MODE_OK:
        answer_ok(req, resp, note);
        break;
    case MODE_400:
        answer_error(resp, 400, "user identifier is invalid", note);
        break;
    case MODE_429:
        answer_error(resp, 429, "application is over its message limit",
                     note);
        snprintf(resp->headers, sizeof resp->headers,
                 "X-Limit-App-Limit: 10000\nX-Limit-App-Remaining: 0\n"
                 "X-Limit-App-Reset: %lld\n", (long long)clock_now() + 2);
        break;
    case MODE_HTML:
        resp->status = 502;
        snprintf(resp->content_type, sizeof resp->content_type,
                 "text/html");
        snprintf(resp->body, sizeof resp->body, "<html><head><title>502 "
                 "Bad Gateway</title></head><body><h1>502 Bad Gateway</h1>"
                 "</body></html>\n");
        break;
    case MODE_HANG:
        resp->hang = true;
        break;
    }
}

/* The receipt in "/1/receipts/<r>/cancel.json" into buf; false when
   path is not a cancel request. */
static bool
cancel_receipt(const char *path, char *buf, size_t size)
{
    static const char pre[] = "/1/receipts/", post[] = "/cancel.json";
    size_t len = strlen(path), rlen;

    if (len <= sizeof pre - 1 + sizeof post - 1 ||
        strncmp(path, pre, sizeof pre - 1) != 0 ||
        strcmp(path + len - (sizeof post - 1), post) != 0)
        return false;
    rlen = len - (sizeof pre - 1) - (sizeof post - 1);
    snprintf(buf, size, "%.*s", (int)rlen, path + sizeof pre - 1);
    return !strchr(buf, '/');
}

/* Add name from the form body: a number when it is one, else a string. */
static void
log_field(json_t *o, const char *body, const char *name, bool number)
{
    char *v = mock_form_field(body, name), *end;
    long long n;

    if (!v)
        return;
    errno = 0;
    n = strtoll(v, &end, 10);
    if (number && *v && !*end && !errno)
        json_object_set_new(o, name, json_integer(n));
    else
        json_object_set_new(o, name, json_string(v));
    free(v);
}

static void
log_request(struct mock_pushover *mp, const struct mock_request *req,
            const char *path, const struct mode *mode,
            const struct mock_response *resp,
            const struct answer_note *note)
{
    static const char *const text[] = { "user", "title", "message", "url",
                                        "url_title", "callback" };
    static const char *const num[] = { "priority", "timestamp", "retry",
                                       "expire" };
    json_t *o;
    char *line;
    size_t i;

    if (mp->log_fd < 0)
        return;
    o = json_pack("{s:I,s:s,s:s,s:s,s:s,s:i,s:b}", "time_ms",
                  (json_int_t)clock_now_ms(), "kind", note->kind, "method",
                  req->method, "path", path, "mode", mode->name, "status",
                  resp->hang ? 0 : resp->status, "has_token",
                  field_present(req->body, "token"));
    for (i = 0; i < sizeof text / sizeof text[0]; i++)
        log_field(o, req->body, text[i], false);
    for (i = 0; i < sizeof num / sizeof num[0]; i++)
        log_field(o, req->body, num[i], true);
    if (note->request[0])
        json_object_set_new(o, "request", json_string(note->request));
    if (note->receipt[0])
        json_object_set_new(o, "receipt", json_string(note->receipt));

    /* One write per line, so lines never interleave. */
    if ((line = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII))) {
        pthread_mutex_lock(&mp->log_lock);
        if (dprintf(mp->log_fd, "%s\n", line) < 0)
            perror("mock_pushover: log");
        pthread_mutex_unlock(&mp->log_lock);
        free(line);
    }
    json_decref(o);
}

static void
handle(const struct mock_request *req, size_t n, struct mock_response *resp,
       void *arg)
{
    struct mock_pushover *mp = arg;
    struct answer_note note = { .kind = "other" };
    struct mode mode = mode_now(mp);
    char *path = strndup(req->url, strcspn(req->url, "?"));

    (void)n;
    make_request_id(note.request);
    if (!path) {
        resp->status = 500;
        return;
    }
    if (strcmp(path, "/1/messages.json") == 0 &&
        strcmp(req->method, "POST") == 0) {
        note.kind = "message";
        answer_message(mp, &mode, req, resp, &note);
    } else if (cancel_receipt(path, note.receipt, sizeof note.receipt) &&
               strcmp(req->method, "POST") == 0) {
        note.kind = "cancel";
        answer_json(resp, 200, json_pack("{s:i,s:s}", "status", 1,
                                          "request", note.request));
    } else {
        answer_error(resp, 404, "not found", &note);
    }
    log_request(mp, req, path, &mode, resp, &note);
    free(path);
}

/* Write the port to path through a temporary file and rename(2). */
static int
write_port_file(const char *path, int port)
{
    char tmp[4096];
    FILE *f;

    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (!(f = fopen(tmp, "w")))
        goto fail;
    fprintf(f, "%d\n", port);
    if (fclose(f) != 0 || rename(tmp, path) != 0)
        goto fail;
    return 0;
fail:
    fprintf(stderr, "mock_pushover: %s: %s\n", path, strerror(errno));
    unlink(tmp);
    return -1;
}

static void
usage(FILE *out)
{
    fprintf(out, "usage: mock_pushover --port-file FILE [--log FILE] "
            "[--mode MODE] [--mode-file FILE]\n"
            "modes: ok 400 429 500 html hang fail-first=N\n");
}

/* Parse argv into mp and *port_file; 0, 1 for --help, or -1. */
static int
parse_args(int argc, char **argv, struct mock_pushover *mp,
           const char **port_file, const char **log_file)
{
    int i;

    for (i = 1; i < argc; i++) {
        const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(opt, "--help") == 0 || strcmp(opt, "-h") == 0)
            return 1;
        if (!val) {
            fprintf(stderr, "mock_pushover: %s: needs a value\n", opt);
            return -1;
        }
        i++;
        if (strcmp(opt, "--port-file") == 0) {
            *port_file = val;
        } else if (strcmp(opt, "--log") == 0) {
            *log_file = val;
        } else if (strcmp(opt, "--mode-file") == 0) {
            mp->mode_file = val;
        } else if (strcmp(opt, "--mode") == 0) {
            if (mode_parse(val, &mp->mode) < 0) {
                fprintf(stderr, "mock_pushover: unknown mode \"%s\"\n",
                        val);
                return -1;
            }
        } else {
            fprintf(stderr, "mock_pushover: unknown option %s\n", opt);
            return -1;
        }
    }
    return 0;
}

int
main(int argc, char **argv)
{
    struct mock_pushover mp = { .log_fd = -1 };
    const char *port_file = NULL, *log_file = NULL;
    struct mock_http *m;
    sigset_t stop;
    int rc, sig;

    mode_parse("ok", &mp.mode);
    if ((rc = parse_args(argc, argv, &mp, &port_file, &log_file)) != 0) {
        usage(rc > 0 ? stdout : stderr);
        return rc > 0 ? 0 : 2;
    }
    if (log_file && (mp.log_fd = open(log_file, O_WRONLY | O_CREAT |
                                      O_APPEND | O_CLOEXEC, 0644)) < 0) {
        fprintf(stderr, "mock_pushover: %s: %s\n", log_file,
                strerror(errno));
        return 2;
    }
    pthread_mutex_init(&mp.log_lock, NULL);

    /* Block the stop signals before any thread starts, so that only
       sigwait() below receives them. */
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (!(m = mock_http_start(handle, &mp))) {
        fprintf(stderr, "mock_pushover: cannot listen on 127.0.0.1\n");
        return 2;
    }
    if (port_file && write_port_file(port_file, mock_http_port(m)) < 0) {
        mock_http_stop(m);
        return 2;
    }
    printf("%d\n", mock_http_port(m));
    fflush(stdout);

    sigwait(&stop, &sig);
    mock_http_stop(m);
    if (mp.log_fd >= 0)
        close(mp.log_fd);
    pthread_mutex_destroy(&mp.log_lock);
    return 0;
}
