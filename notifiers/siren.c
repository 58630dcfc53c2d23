/*
 * The siren controller. Alerts raise and clear their want by key (the
 * journal writer calls in, so those calls only change a small table
 * under a short lock); one thread owns the driver and switches the
 * hardware to match, so a slow or unplugged device never holds up the
 * relay.
 *
 * Each want lasts the configured duration from its alert's last raise.
 * The siren is on while any unsilenced want lasts. Silencing marks the
 * current wants silenced: they keep nothing on, and raising the same
 * key again does not restart the siren until that alert is cleared.
 *
 * Two channels: the light (`channel`) and, optionally, the sound
 * (`sound_channel`), which is kept off during quiet hours. When both
 * name the same relay, that relay counts as the sound.
 *
 * A driver failure is logged once, when it happens; the controller
 * keeps its state and tries the hardware again at the next raise,
 * clear or silence, never in a loop of its own.
 */
#include "notifiers/siren.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "conf/hours.h"
#include "notifiers/siren_driver.h"
#include "server/clock.h"
#include "server/log.h"
#include "server/metrics.h"

#define SIREN_MAX_WANTS 1024
#define SIREN_TICK_MS   1000
#define SIREN_ERRLEN    256

struct want {
    char *key;
    int64_t until_ms;
    bool silenced;
};

enum { LIGHT, SOUND, NCHANNELS };

struct siren {
    struct siren_driver *driver;
    int channel[NCHANNELS];     /* relay channel or GPIO line; -1: none */
    int64_t duration_ms;
    bool has_quiet;
    struct rule_hours quiet;

    pthread_mutex_t lock;       /* guards everything down to the wants */
    pthread_cond_t wake;        /* controller: something changed */
    pthread_cond_t served_cond; /* siren_sync: the controller caught up */
    pthread_t thread;
    bool stopping;
    bool on;                    /* as last decided, for logs and metrics */
    uint64_t asked;             /* changes and syncs so far */
    uint64_t served;            /* of those, how many the hardware saw */
    uint64_t changes;           /* raises, clears and silences so far */
    struct want *wants;
    size_t nwants;

    /* Controller thread only. */
    bool applied[NCHANNELS];    /* last state sent, whether or not it
                                   worked */
    bool failed[NCHANNELS];     /* ... and it did not work */
    uint64_t changes_seen;
    bool quiet_logged;
};

/* ---- Choosing a driver ---- */

struct siren_driver *
siren_driver_open(const struct siren_conf *conf, char *err, size_t errlen)
{
    static const struct {
        const char *name;
        siren_driver_open_fn open;
    } drivers[] = {
        { "none", siren_none_open },
        { "command", siren_command_open },
        { "serial", siren_serial_open },
        { "hidrelay", siren_hidrelay_open },
        { "gpio", siren_gpio_open },
    };
    const char *name = conf->driver ? conf->driver : "none";
    size_t i;

    for (i = 0; i < sizeof drivers / sizeof drivers[0]; i++) {
        if (strcmp(name, drivers[i].name) == 0)
            return drivers[i].open(conf, err, errlen);
    }
    snprintf(err, errlen, "siren: unknown driver '%s'", name);
    return NULL;
}

/* ---- The table of wants (callers hold the lock) ---- */

static ssize_t
want_find(const struct siren *s, const char *key)
{
    size_t i;

    for (i = 0; i < s->nwants; i++) {
        if (strcmp(s->wants[i].key, key) == 0)
            return (ssize_t)i;
    }
    return -1;
}

static void
want_remove(struct siren *s, size_t i)
{
    free(s->wants[i].key);
    s->wants[i] = s->wants[--s->nwants];
}

/* Whether any want keeps the siren on at now. */
static bool
want_active(const struct siren *s, int64_t now)
{
    size_t i;

    for (i = 0; i < s->nwants; i++) {
        if (!s->wants[i].silenced && s->wants[i].until_ms > now)
            return true;
    }
    return false;
}

/* Expired wants are forgotten; silenced ones wait for their clear. */
static void
want_prune(struct siren *s, int64_t now)
{
    size_t i = 0;

    while (i < s->nwants) {
        if (!s->wants[i].silenced && s->wants[i].until_ms <= now)
            want_remove(s, i);
        else
            i++;
    }
}

/* Make room by dropping the want that ends first. Only reached with
   over SIREN_MAX_WANTS alerts at once. */
static void
want_evict(struct siren *s)
{
    size_t i, oldest = 0;

    for (i = 1; i < s->nwants; i++) {
        if (s->wants[i].until_ms < s->wants[oldest].until_ms)
            oldest = i;
    }
    want_remove(s, oldest);
}

static int
want_add(struct siren *s, const char *key, int64_t until)
{
    char *copy;

    if (!s->wants && !(s->wants = calloc(SIREN_MAX_WANTS,
                                         sizeof *s->wants)))
        return -1;
    if (!(copy = strdup(key)))
        return -1;
    if (s->nwants == SIREN_MAX_WANTS)
        want_evict(s);
    s->wants[s->nwants].key = copy;
    s->wants[s->nwants].until_ms = until;
    s->wants[s->nwants].silenced = false;
    s->nwants++;
    return 0;
}

/* After a change to the wants: note the new state and wake the
   controller. Returns whether the state flipped. */
static bool
siren_changed(struct siren *s, int64_t now)
{
    bool on = want_active(s, now), flipped = on != s->on;

    if (flipped) {
        s->on = on;
        metrics_set_siren(on);
    }
    s->asked++;
    s->changes++;
    pthread_cond_signal(&s->wake);
    return flipped;
}

/* ---- Calls from the relay ---- */

void
siren_raise(struct siren *s, const char *key)
{
    char quoted[96];
    int64_t now;
    ssize_t i;
    bool flipped, oom = false;

    if (!s || !key)
        return;
    pthread_mutex_lock(&s->lock);
    now = clock_now_ms();
    if ((i = want_find(s, key)) < 0)
        oom = want_add(s, key, now + s->duration_ms) < 0;
    else if (!s->wants[i].silenced)
        s->wants[i].until_ms = now + s->duration_ms;
    flipped = siren_changed(s, now);

    /* Logged under the lock so it precedes any driver failure. */
    log_quote(quoted, sizeof quoted, key);
    if (oom)
        log_error("siren", "alert %s: out of memory, not sounding it",
                  quoted);
    else if (flipped)
        log_info("siren", "on: alert %s raised it", quoted);
    pthread_mutex_unlock(&s->lock);
}

void
siren_clear(struct siren *s, const char *key)
{
    char quoted[96];
    ssize_t i;
    bool flipped;

    if (!s || !key)
        return;
    pthread_mutex_lock(&s->lock);
    if ((i = want_find(s, key)) >= 0)
        want_remove(s, (size_t)i);
    flipped = siren_changed(s, clock_now_ms());
    if (flipped)
        log_info("siren", "off: alert %s cleared and no other alert "
                 "wants it", log_quote(quoted, sizeof quoted, key));
    pthread_mutex_unlock(&s->lock);
}

void
siren_silence(struct siren *s)
{
    size_t i;

    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    for (i = 0; i < s->nwants; i++)
        s->wants[i].silenced = true;
    siren_changed(s, clock_now_ms());
    pthread_mutex_unlock(&s->lock);
}

bool
siren_is_on(struct siren *s)
{
    bool on;

    if (!s)
        return false;
    pthread_mutex_lock(&s->lock);
    on = want_active(s, clock_now_ms());
    pthread_mutex_unlock(&s->lock);
    return on;
}

/* ---- The controller thread ---- */

static bool
siren_quiet_now(const struct siren *s, int64_t now)
{
    time_t t = (time_t)(now / 1000);
    struct tm tm;

    return s->has_quiet && localtime_r(&t, &tm) &&
           hours_contain(&s->quiet, &tm);
}

/* Send one channel its state if it changed, or if sending it failed
   last time and retry is set. */
static void
siren_switch(struct siren *s, int ch, bool want, bool retry)
{
    char err[SIREN_ERRLEN];
    int rc;

    if (s->channel[ch] < 0 ||
        (s->applied[ch] == want && !(retry && s->failed[ch])))
        return;
    s->applied[ch] = want;
    rc = want ? siren_driver_on(s->driver, s->channel[ch], err, sizeof err)
              : siren_driver_off(s->driver, s->channel[ch], err,
                                 sizeof err);
    if ((s->failed[ch] = rc < 0))
        log_warn("siren", "%s", err);
}

/* Bring the hardware in line with on, outside the lock; retry: there
   was a raise, clear or silence since the last time. */
static void
siren_apply(struct siren *s, bool on, int64_t now, bool retry)
{
    bool quiet = on && siren_quiet_now(s, now);

    if (quiet && !s->quiet_logged && s->channel[SOUND] >= 0)
        log_info("siren", "quiet hours: light only, sound channel %d "
                 "stays off", s->channel[SOUND]);
    s->quiet_logged = quiet;

    /* The light goes on before the sound and off after it. */
    if (on) {
        siren_switch(s, LIGHT, true, retry);
        siren_switch(s, SOUND, !quiet, retry);
    } else {
        siren_switch(s, SOUND, false, retry);
        siren_switch(s, LIGHT, false, retry);
    }
}

/* Sleep until the next change; while on, wake every tick to end the
   duration and follow quiet hours. */
static void
siren_wait(struct siren *s, bool on)
{
    struct timespec until;

    if (!on) {
        pthread_cond_wait(&s->wake, &s->lock);
        return;
    }
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += SIREN_TICK_MS / 1000;
    pthread_cond_timedwait(&s->wake, &s->lock, &until);
}

static void *
siren_run(void *arg)
{
    struct siren *s = arg;
    uint64_t gen;
    int64_t now;
    bool on, expired, retry;

    pthread_mutex_lock(&s->lock);
    while (!s->stopping) {
        gen = s->asked;
        now = clock_now_ms();
        want_prune(s, now);
        on = want_active(s, now);
        if ((expired = s->on && !on)) {
            s->on = false;
            metrics_set_siren(0);
        }
        if (expired)
            log_info("siren", "off: on for %lld s, the configured "
                     "duration", (long long)(s->duration_ms / 1000));
        retry = s->changes != s->changes_seen;
        s->changes_seen = s->changes;
        pthread_mutex_unlock(&s->lock);

        siren_apply(s, on, now, retry);

        pthread_mutex_lock(&s->lock);
        s->served = gen;
        pthread_cond_broadcast(&s->served_cond);
        if (s->asked == gen && !s->stopping)
            siren_wait(s, on);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

void
siren_sync(struct siren *s)
{
    uint64_t mine;

    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    mine = ++s->asked;
    pthread_cond_signal(&s->wake);
    while (s->served < mine && !s->stopping)
        pthread_cond_wait(&s->served_cond, &s->lock);
    pthread_mutex_unlock(&s->lock);
}

/* ---- Opening and closing ---- */

/* Every wired channel off, sound first. 0, or -1 with the first
   failure in err. */
static int
siren_all_off(struct siren *s, char *err, size_t errlen)
{
    char mine[SIREN_ERRLEN];
    int ch, rc = 0;

    for (ch = NCHANNELS - 1; ch >= 0; ch--) {
        if (s->channel[ch] < 0)
            continue;
        if (siren_driver_off(s->driver, s->channel[ch], mine,
                             sizeof mine) < 0 && rc == 0) {
            snprintf(err, errlen, "%s", mine);
            rc = -1;
        }
        s->applied[ch] = false;
        s->failed[ch] = false;
    }
    return rc;
}

static void
siren_setup(struct siren *s, const struct siren_conf *conf,
            struct siren_driver *driver)
{
    s->driver = driver;
    s->channel[LIGHT] = conf->channel;
    s->channel[SOUND] = conf->sound_channel > 0 ? conf->sound_channel : -1;
    if (s->channel[SOUND] == s->channel[LIGHT])
        s->channel[LIGHT] = -1;
    s->duration_ms = (int64_t)(conf->duration > 0 ? conf->duration : 60) *
                     1000;
    s->has_quiet = conf->has_quiet_hours;
    s->quiet = conf->quiet_hours;
    if (s->has_quiet && s->channel[SOUND] < 0)
        log_warn("siren", "quiet hours are set but no sound_channel: "
                 "they change nothing");
}

static int
siren_start(struct siren *s, char *err, size_t errlen)
{
    pthread_condattr_t ca;
    int rc;

    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->wake, &ca);
    pthread_cond_init(&s->served_cond, NULL);
    pthread_condattr_destroy(&ca);
    if ((rc = pthread_create(&s->thread, NULL, siren_run, s)) != 0) {
        snprintf(err, errlen, "siren: cannot start its thread: %s",
                 strerror(rc));
        pthread_cond_destroy(&s->served_cond);
        pthread_cond_destroy(&s->wake);
        pthread_mutex_destroy(&s->lock);
        return -1;
    }
    return 0;
}

struct siren *
siren_open_driver(const struct siren_conf *conf,
                  struct siren_driver *driver, char *err, size_t errlen)
{
    struct siren *s;

    if (!(s = calloc(1, sizeof *s))) {
        snprintf(err, errlen, "siren: out of memory");
        siren_driver_close(driver);
        return NULL;
    }
    siren_setup(s, conf, driver);
    if (siren_all_off(s, err, errlen) < 0 ||
        siren_start(s, err, errlen) < 0) {
        siren_driver_close(driver);
        free(s);
        return NULL;
    }
    metrics_set_siren(0);
    return s;
}

struct siren *
siren_open(const struct siren_conf *conf, char *err, size_t errlen)
{
    struct siren_driver *driver;

    if (!(driver = siren_driver_open(conf, err, errlen)))
        return NULL;
    return siren_open_driver(conf, driver, err, errlen);
}

void
siren_close(struct siren *s)
{
    char err[SIREN_ERRLEN];
    size_t i;

    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    pthread_cond_signal(&s->wake);
    pthread_cond_broadcast(&s->served_cond);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);

    /* Off whatever the controller believes: the hardware may have been
       switched behind its back. */
    if (siren_all_off(s, err, sizeof err) < 0)
        log_error("siren", "%s", err);
    if (s->on)
        log_info("siren", "off: klaxon is stopping");
    metrics_set_siren(0);

    siren_driver_close(s->driver);
    for (i = 0; i < s->nwants; i++)
        free(s->wants[i].key);
    free(s->wants);
    pthread_cond_destroy(&s->served_cond);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
