/*
 * burst: post generic events to klaxon over a few kept-alive
 * connections, for the chaos and soak scripts.
 *
 *   burst --url URL --events N [--connections C] [--pairs | --cycle K]
 *         [--rate R] [--prefix P] [--out FILE] [--timeout S]
 *
 * URL is klaxon's generic hook with its token. Every event has a key of
 * its own, "P-<i>" (P defaults to "burst"), and the title "P-<i> firing".
 * With --pairs each key gets a firing event and, once that is answered,
 * a resolved one titled "P-<i> resolved"; N counts both. With --cycle
 * the events go round K keys instead, as alerts that come and go: event
 * i is for key "P-<i mod K>", firing in even rounds and resolved in odd
 * ones, and is named "P-<i mod K>.<round>" in its title, so that every
 * event still has a name of its own; K must be at least C. C connections
 * (default 16) post at once, as fast as klaxon answers, or at R events
 * a second in all when --rate is given. A request without an answer
 * after S seconds (default 10) counts as failed.
 *
 * --out gets one line per event as it is answered, written out at
 * once: "name state status latency_ms" (status 0: no answer at all),
 * where the name is the title without the state.
 * The last line on stdout sums the run up as name=value words: sent,
 * accepted (2xx), other (any other status), failed (no answer),
 * seconds, rate (events a second), and p50_ms, p99_ms, max_ms over the
 * answered events.
 */
#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/clock.h"

struct burst_opts {
    const char *url;
    const char *prefix;
    const char *out;
    long events;
    long connections;
    double rate;            /* events a second; 0: no limit */
    long timeout_s;
    long cycle;             /* keys to go round; 0: a key per event */
    bool pairs;
};

/* One connection: its easy handle and the event it is posting. */
struct burst_slot {
    CURL *h;
    long item;              /* the key's number, or with --cycle the
                               event's */
    bool resolved;          /* posting the resolved half of a pair */
    bool busy;
    bool owes_resolved;     /* firing answered, resolved still to post */
    double t0;              /* monotonic ms when the post started */
    const char *state;      /* of the event being posted */
    char name[96];          /* the event's title without the state */
    char body[320];
};

struct burst {
    struct burst_opts o;
    CURLM *multi;
    struct curl_slist *headers;
    struct burst_slot *slots;
    FILE *out;
    long items;             /* keys, or with --cycle events, to post */
    long next_item;
    long started;           /* posts started, for the rate */
    long accepted, other, failed;
    double *lat;            /* latencies of answered posts */
    long nlat;
    double start;
};

static double
burst_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static size_t
burst_discard(char *data, size_t size, size_t n, void *arg)
{
    (void)data;
    (void)arg;
    return size * n;
}

/* Start posting the slot's event: one half of a pair, or the next. */
static int
burst_post(struct burst *b, struct burst_slot *s)
{
    long key = s->item, round = 0;
    bool resolved = s->resolved;

    if (b->o.cycle > 0) {
        key = s->item % b->o.cycle;
        round = s->item / b->o.cycle;
        resolved = round % 2 == 1;
        snprintf(s->name, sizeof s->name, "%s-%ld.%ld", b->o.prefix, key,
                 round);
    } else {
        snprintf(s->name, sizeof s->name, "%s-%ld", b->o.prefix, key);
    }
    s->state = resolved ? "resolved" : "firing";
    snprintf(s->body, sizeof s->body, "{\"title\":\"%s %s\","
             "\"key\":\"%s-%ld\",\"state\":\"%s\","
             "\"message\":\"load from burst\"}", s->name, s->state,
             b->o.prefix, key, s->state);
    curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, s->body);
    curl_easy_setopt(s->h, CURLOPT_POSTFIELDSIZE, (long)strlen(s->body));
    s->t0 = burst_now();
    s->busy = true;
    b->started++;
    if (curl_multi_add_handle(b->multi, s->h) != CURLM_OK) {
        fprintf(stderr, "burst: cannot start a request\n");
        return -1;
    }
    return 0;
}

/* Give every idle slot its next post while the rate allows; the ms to
   wait before the rate allows another, or 100. */
static int
burst_fill(struct burst *b)
{
    double allowed;
    long i;

    for (i = 0; i < b->o.connections; i++) {
        struct burst_slot *s = &b->slots[i];

        if (s->busy || (!s->owes_resolved && b->next_item >= b->items))
            continue;
        if (b->o.rate > 0) {
            allowed = (burst_now() - b->start) * b->o.rate / 1000.0 + 1;
            if (b->started >= (long)allowed)
                return (int)ceil((b->started + 1 - allowed) * 1000.0 /
                                 b->o.rate);
        }
        if (s->owes_resolved) {
            s->owes_resolved = false;
            s->resolved = true;
        } else {
            s->item = b->next_item++;
            s->resolved = false;
        }
        if (burst_post(b, s) < 0)
            return -1;
    }
    return 100;
}

static void
burst_record(struct burst *b, struct burst_slot *s, CURLcode rc)
{
    double ms = burst_now() - s->t0;
    long status = 0;

    if (rc == CURLE_OK)
        curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status < 300)
        b->accepted++;
    else if (status > 0)
        b->other++;
    else
        b->failed++;
    if (status > 0)
        b->lat[b->nlat++] = ms;
    if (b->out)
        fprintf(b->out, "%s %s %ld %.3f\n", s->name, s->state, status,
                ms);
    s->busy = false;
    s->owes_resolved = b->o.pairs && !s->resolved;
}

/* Record every finished post; how many finished. */
static long
burst_collect(struct burst *b)
{
    struct burst_slot *s;
    CURLMsg *msg;
    long finished = 0;
    int left;

    while ((msg = curl_multi_info_read(b->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
        curl_multi_remove_handle(b->multi, s->h);
        burst_record(b, s, msg->data.result);
        finished++;
    }
    return finished;
}

static bool
burst_done(const struct burst *b)
{
    long i;

    if (b->next_item < b->items)
        return false;
    for (i = 0; i < b->o.connections; i++) {
        if (b->slots[i].busy || b->slots[i].owes_resolved)
            return false;
    }
    return true;
}

static int
burst_run(struct burst *b)
{
    int wait, still;

    b->start = burst_now();
    for (;;) {
        if ((wait = burst_fill(b)) < 0)
            return -1;
        if (curl_multi_perform(b->multi, &still) != CURLM_OK)
            return -1;
        /* Slots just freed get their next post at once: waiting on
           sockets with nothing left running would only sleep. */
        if (burst_collect(b) > 0)
            continue;
        if (burst_done(b))
            return 0;
        curl_multi_poll(b->multi, NULL, 0, wait > 100 ? 100 : wait, NULL);
    }
}

static int
burst_cmp(const void *x, const void *y)
{
    double a = *(const double *)x, c = *(const double *)y;

    return a < c ? -1 : a > c;
}

/* The q-quantile (0..1) of the sorted latencies, nearest rank. */
static double
burst_quantile(const struct burst *b, double q)
{
    long rank;

    if (b->nlat == 0)
        return 0;
    rank = (long)ceil(q * b->nlat);
    return b->lat[rank > 0 ? rank - 1 : 0];
}

static void
burst_report(struct burst *b)
{
    double secs = (burst_now() - b->start) / 1000.0;
    long sent = b->accepted + b->other + b->failed;

    qsort(b->lat, b->nlat, sizeof b->lat[0], burst_cmp);
    printf("sent=%ld accepted=%ld other=%ld failed=%ld seconds=%.3f "
           "rate=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f\n", sent,
           b->accepted, b->other, b->failed, secs,
           secs > 0 ? sent / secs : 0.0, burst_quantile(b, 0.50),
           burst_quantile(b, 0.99), burst_quantile(b, 1.0));
}

static void
burst_usage(FILE *f)
{
    fprintf(f, "usage: burst --url URL --events N [--connections C] "
            "[--pairs | --cycle K]\n"
            "             [--rate R] [--prefix P] [--out FILE] "
            "[--timeout S]\n");
}

/* A positive number from text, or -1. */
static double
burst_number(const char *opt, const char *text)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(text, &end);
    if (errno || end == text || *end || !(v > 0) || v > 1e9) {
        fprintf(stderr, "burst: %s: not a positive number: %s\n", opt,
                text);
        return -1;
    }
    return v;
}

/* The prefix goes into JSON and the key unescaped: keep it plain. */
static bool
burst_plain(const char *s)
{
    return *s && strlen(s) <= 64 &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                  "0123456789_.-") == strlen(s);
}

static int
burst_option(struct burst_opts *o, const char *opt, const char *val)
{
    double v = 1;

    if (strcmp(opt, "--url") == 0)
        o->url = val;
    else if (strcmp(opt, "--prefix") == 0)
        o->prefix = val;
    else if (strcmp(opt, "--out") == 0)
        o->out = val;
    else if (strcmp(opt, "--events") == 0)
        o->events = (long)(v = burst_number(opt, val));
    else if (strcmp(opt, "--connections") == 0)
        o->connections = (long)(v = burst_number(opt, val));
    else if (strcmp(opt, "--rate") == 0)
        o->rate = v = burst_number(opt, val);
    else if (strcmp(opt, "--timeout") == 0)
        o->timeout_s = (long)(v = burst_number(opt, val));
    else if (strcmp(opt, "--cycle") == 0)
        o->cycle = (long)(v = burst_number(opt, val));
    else {
        fprintf(stderr, "burst: unknown option %s\n", opt);
        return -1;
    }
    return v < 0 ? -1 : 0;
}

/* 0, 1 for --help, or -1. */
static int
burst_args(int argc, char **argv, struct burst_opts *o)
{
    int i;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
        if (strcmp(argv[i], "--pairs") == 0) {
            o->pairs = true;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "burst: %s: needs a value\n", argv[i]);
            return -1;
        }
        if (burst_option(o, argv[i], argv[i + 1]) < 0)
            return -1;
        i++;
    }
    if (!o->url || o->events <= 0 || !burst_plain(o->prefix) ||
        o->connections > 4096 || (o->pairs && o->cycle) ||
        (o->cycle && o->cycle < o->connections)) {
        /* Fewer keys than connections would post one key's firing and
           resolved events at once, in no set order. */
        fprintf(stderr, "burst: needs --url, --events, a plain --prefix, "
                "at most 4096 connections, and not both --pairs and "
                "--cycle; --cycle at least the connections\n");
        return -1;
    }
    return 0;
}

static int
burst_setup(struct burst *b)
{
    long i;

    b->items = b->o.pairs ? b->o.events / 2 : b->o.events;
    b->multi = curl_multi_init();
    b->slots = calloc(b->o.connections, sizeof *b->slots);
    b->lat = calloc(b->o.events + 1, sizeof *b->lat);
    b->headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (!b->multi || !b->slots || !b->lat || !b->headers)
        return -1;
    curl_multi_setopt(b->multi, CURLMOPT_MAXCONNECTS, b->o.connections);
    for (i = 0; i < b->o.connections; i++) {
        CURL *h = b->slots[i].h = curl_easy_init();

        if (!h)
            return -1;
        curl_easy_setopt(h, CURLOPT_URL, b->o.url);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, b->headers);
        curl_easy_setopt(h, CURLOPT_TIMEOUT, b->o.timeout_s);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, burst_discard);
        curl_easy_setopt(h, CURLOPT_PRIVATE, &b->slots[i]);
    }
    if (b->o.out && !(b->out = fopen(b->o.out, "w"))) {
        fprintf(stderr, "burst: %s: %s\n", b->o.out, strerror(errno));
        return -1;
    }
    /* Whole lines as they happen: a script may watch the file grow to
       pick its moment. */
    if (b->out)
        setvbuf(b->out, NULL, _IOLBF, 0);
    return 0;
}

static void
burst_free(struct burst *b)
{
    long i;

    for (i = 0; b->slots && i < b->o.connections; i++) {
        if (b->slots[i].busy)
            curl_multi_remove_handle(b->multi, b->slots[i].h);
        curl_easy_cleanup(b->slots[i].h);
    }
    curl_multi_cleanup(b->multi);
    curl_slist_free_all(b->headers);
    free(b->slots);
    free(b->lat);
}

int
main(int argc, char **argv)
{
    struct burst b = { .o = { .prefix = "burst", .connections = 16,
                              .timeout_s = 10 } };
    int rc;

    if ((rc = burst_args(argc, argv, &b.o)) != 0) {
        burst_usage(rc > 0 ? stdout : stderr);
        return rc > 0 ? 0 : 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = 2;
    if (burst_setup(&b) < 0) {
        fprintf(stderr, "burst: cannot set up: out of memory or bad "
                "output file\n");
    } else if (burst_run(&b) == 0) {
        burst_report(&b);
        rc = 0;
    }
    if (b.out && fclose(b.out) != 0) {
        fprintf(stderr, "burst: %s: %s\n", b.o.out, strerror(errno));
        rc = 2;
    }
    burst_free(&b);
    curl_global_cleanup();
    return rc;
}
