/*
 * Scan service. One thread does everything (scans, then lookups while
 * the next scan is not due), so two scans can never overlap and the
 * baseline is only ever used by one party of this process at a time.
 * The HTTP threads of the server never wait for it.
 */
#include "scanner/service.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "scanner/scanner.h"
#include "scanner/virustotal.h"
#include "server/clock.h"
#include "server/log.h"
#include "server/metrics.h"

#define LOOKUP_RETRY_MS (60 * 1000)

struct scan_service {
    struct scanner_conf conf;
    scan_service_cb cb;
    void *user;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_bool stop;
    bool busy;
    bool requested;
    unsigned long scans;
    struct vt_client *vt;
    int64_t next_scan;          /* monotonic ms */
    int64_t next_lookup;        /* monotonic ms; -1: nothing to look up */
};

static int
copy_string(char **dst, const char *src)
{
    *dst = src ? strdup(src) : NULL;
    return src && !*dst ? -1 : 0;
}

static void
conf_free(struct scanner_conf *c)
{
    strv_free(c->paths);
    strv_free(c->exclude);
    free(c->exclude_file);
    free(c->baseline);
    if (c->key)
        explicit_bzero(c->key, strlen(c->key));
    free(c->key);
    free(c->key_file);
    free(c->host);
    free(c->virustotal.api_key);
    free(c->virustotal.api_url);
    memset(c, 0, sizeof *c);
}

static int
conf_copy(struct scanner_conf *dst, const struct scanner_conf *src)
{
    *dst = *src;
    dst->paths = strv_copy(src->paths);
    dst->exclude = strv_copy(src->exclude);
    if (!dst->paths || !dst->exclude ||
        copy_string(&dst->exclude_file, src->exclude_file) < 0 ||
        copy_string(&dst->baseline, src->baseline) < 0 ||
        copy_string(&dst->key, src->key) < 0 ||
        copy_string(&dst->key_file, src->key_file) < 0 ||
        copy_string(&dst->host, src->host) < 0 ||
        copy_string(&dst->virustotal.api_key, src->virustotal.api_key) < 0 ||
        copy_string(&dst->virustotal.api_url, src->virustotal.api_url) < 0)
        return -1;
    return 0;
}

static void
deliver(struct scan_service *s, json_t *report)
{
    if (report && s->cb)
        s->cb(report, s->user);
}

static void
scan_once(struct scan_service *s)
{
    const char *path = s->conf.baseline ? s->conf.baseline : "baseline.db";
    struct scan_opts opts = { .cancel = &s->stop };
    enum scan_mode mode = access(path, F_OK) == 0 ? SCAN_CHECK : SCAN_INIT;
    enum scan_result res;
    json_t *report = NULL;
    const char *root;
    long long entries;
    size_t changes;
    char err[1024];

    res = scanner_run(&s->conf, mode, &opts, &report, err, sizeof err);
    changes = json_array_size(json_object_get(report, "changes"));
    entries = json_integer_value(json_object_get(report, "files_scanned"));
    root = json_string_value(json_object_get(report, "root"));
    metrics_scan(clock_now(), entries, changes,
                 res == SCAN_FAILED || res == SCAN_TAMPERED ? -1 : 0);
    switch (res) {
    case SCAN_CHANGED:
        log_info("scanner", "%s: %zu change%s in %lld entr%s", root,
                 changes, changes == 1 ? "" : "s", entries,
                 entries == 1 ? "y" : "ies");
        deliver(s, report);
        break;
    case SCAN_CLEAN:
        log_info("scanner", "%s: %s: %lld entr%s, no changes", root,
                 mode == SCAN_INIT ? "baseline created" : "checked",
                 entries, entries == 1 ? "y" : "ies");
        /* A clean check resolves an alert raised for this root before
           the changes were accepted; the relay drops repeats. */
        if (mode == SCAN_CHECK)
            deliver(s, report);
        break;
    case SCAN_TAMPERED:
        log_error("scanner", "%s", err);
        deliver(s, report);
        break;
    case SCAN_FAILED:
        if (!atomic_load(&s->stop))
            log_error("scanner", "%s", err);
        break;
    }
    json_decref(report);
}

/* One lookup; returns when the next one is due (monotonic), or -1. */
static int64_t
lookup_once(struct scan_service *s)
{
    int64_t wait = -1, now;
    json_t *updated = NULL;
    char err[1024];
    int st;

    st = scanner_lookup(&s->conf, s->vt, &updated, &wait, &s->stop, err,
                        sizeof err);
    deliver(s, updated);
    json_decref(updated);
    now = clock_mono_ms();
    switch (st) {
    case VT_LOOKED_UP:
        return now;
    case VT_WAIT:
        return now + (wait > 0 ? wait : 1000);
    case VT_IDLE:
        return wait >= 0 ? now + wait : -1;
    case VT_STOPPED:
        return -1;
    default:
        log_warn("scanner", "virustotal lookups: %s", err);
        return now + LOOKUP_RETRY_MS;
    }
}

/* Sleep on cv until the monotonic time until (ms), or a signal. */
static void
wait_until(struct scan_service *s, int64_t until)
{
    struct timespec ts;

    if (until < 0) {
        pthread_cond_wait(&s->cv, &s->mu);
        return;
    }
    ts.tv_sec = until / 1000;
    ts.tv_nsec = (until % 1000) * 1000000;
    pthread_cond_timedwait(&s->cv, &s->mu, &ts);
}

static int64_t
earliest(int64_t a, int64_t b)
{
    if (a < 0)
        return b;
    if (b < 0)
        return a;
    return a < b ? a : b;
}

static void *
service_main(void *arg)
{
    struct scan_service *s = arg;
    int64_t now, next;

    pthread_mutex_lock(&s->mu);
    while (!atomic_load(&s->stop)) {
        now = clock_mono_ms();
        if (s->requested || (s->next_scan >= 0 && now >= s->next_scan)) {
            s->requested = false;
            s->busy = true;
            pthread_mutex_unlock(&s->mu);
            scan_once(s);
            pthread_mutex_lock(&s->mu);
            s->busy = false;
            s->scans++;
            s->next_scan = s->conf.interval > 0 ?
                           clock_mono_ms() + s->conf.interval * 1000LL : -1;
            s->next_lookup = s->vt ? clock_mono_ms() : -1;
            pthread_cond_broadcast(&s->cv);
            continue;
        }
        if (s->vt && s->next_lookup >= 0 && now >= s->next_lookup) {
            pthread_mutex_unlock(&s->mu);
            next = lookup_once(s);
            pthread_mutex_lock(&s->mu);
            s->next_lookup = next;
            continue;
        }
        wait_until(s, earliest(s->next_scan, s->next_lookup));
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

struct scan_service *
scan_service_start(const struct scanner_conf *conf, scan_service_cb cb,
                   void *user)
{
    struct scan_service *s = calloc(1, sizeof *s);
    pthread_condattr_t attr;

    if (!s || conf_copy(&s->conf, conf) < 0)
        goto fail;
    s->cb = cb;
    s->user = user;
    s->next_scan = s->conf.interval > 0 ? clock_mono_ms() : -1;
    s->next_lookup = -1;
    if (s->conf.virustotal.api_key &&
        !(s->vt = vt_client_new(&s->conf.virustotal)))
        goto fail;
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &attr);
    pthread_condattr_destroy(&attr);
    if (pthread_create(&s->thread, NULL, service_main, s) != 0) {
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->cv);
        goto fail;
    }
    return s;

fail:
    log_error("scanner", "cannot start the scan service: %s",
              s ? "out of memory or threads" : "out of memory");
    if (s) {
        vt_client_free(s->vt);
        conf_free(&s->conf);
        free(s);
    }
    return NULL;
}

int
scan_service_run_now(struct scan_service *s)
{
    int rc = -1;

    pthread_mutex_lock(&s->mu);
    if (!s->busy && !s->requested) {
        s->requested = true;
        pthread_cond_broadcast(&s->cv);
        rc = 0;
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

bool
scan_service_busy(struct scan_service *s)
{
    bool busy;

    pthread_mutex_lock(&s->mu);
    busy = s->busy;
    pthread_mutex_unlock(&s->mu);
    return busy;
}

unsigned long
scan_service_scans(struct scan_service *s)
{
    unsigned long n;

    pthread_mutex_lock(&s->mu);
    n = s->scans;
    pthread_mutex_unlock(&s->mu);
    return n;
}

void
scan_service_stop(struct scan_service *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    atomic_store(&s->stop, true);
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    vt_client_free(s->vt);
    conf_free(&s->conf);
    free(s);
}
