/*
 * klaxon serve: run the relay in the foreground.
 *
 * Start-up order matters: bind the sockets (may need root), drop
 * privileges, open the journal (so its files belong to the service
 * user), start delivery, then accept requests. Signals are handled by
 * the main thread alone, with sigwait: SIGHUP reloads, SIGTERM/SIGINT
 * stop accepting, finish what is in flight and exit 0.
 */
#include <curl/curl.h>
#include <unistd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "conf/config.h"
#include "notifiers/delivery.h"
#include "notifiers/siren.h"
#include "scanner/service.h"
#include "server/clock.h"
#include "server/cmdline.h"
#include "server/commands.h"
#include "server/http.h"
#include "server/journal.h"
#include "server/live_config.h"
#include "server/log.h"
#include "server/privileges.h"
#include "server/relay.h"
#include "server/rules.h"

#define PRUNE_EVERY_S 3600
#define DRAIN_GRACE_MS 10000

static void
usage(FILE *out)
{
    fprintf(out, "usage: klaxon serve [-c FILE]\n\n"
            "Run the relay in the foreground, logging to stderr.\n"
            "  -c FILE   config file (default ./klaxon.conf, then "
            "/etc/klaxon/klaxon.conf,\n"
            "            else built-in defaults: 127.0.0.1:8080, "
            "./klaxon.db)\n"
            "SIGHUP reloads the config; SIGTERM or SIGINT stops after "
            "finishing requests.\n");
}

static void
set_log_level(const struct config *cfg)
{
    const char *l = cfg->log_level ? cfg->log_level : "info";

    log_set_level(!strcmp(l, "debug") ? LOG_DEBUG :
                  !strcmp(l, "warn") ? LOG_WARN :
                  !strcmp(l, "error") ? LOG_ERROR : LOG_INFO);
}

/* Allow as many connections as configured, within the hard limit. */
static void
raise_fd_limit(const struct config *cfg)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)cfg->server.max_connections + 256;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < want) {
        rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* Say where the hooks are, so there is something to curl. */
static void
announce(const struct http_server *h, const struct config *cfg)
{
    const char *where = http_listener_name(h, 0);
    int s;

    for (size_t i = 0; i < http_listener_count(h); i++)
        log_info("http", "listening on %s", http_listener_name(h, i));
    for (s = 0; s < SOURCE_COUNT; s++) {
        const struct source_conf *src = &cfg->sources[s];

        if (strv_len(src->tokens) == 0)
            log_info("hooks", "%s: disabled (no token)", source_name(s));
        else if (src->random_token)
            log_info("hooks", "%s: http://%s/hooks/%s?token=%s (token made "
                     "up for this run)", source_name(s), where,
                     source_name(s), src->tokens[0]);
        else
            log_info("hooks", "%s: http://%s/hooks/%s?token=<configured>",
                     source_name(s), where, source_name(s));
    }
    if (!cfg->pushover.token)
        log_warn("pushover", "delivery is off: no pushover token "
                 "configured; events are stored and shown at "
                 "/api/v1/alerts");
    else if (cfg->npeople == 0)
        log_warn("pushover", "no people configured: nobody will be "
                 "notified");
}

/* Keep the random tokens of the running config across a reload. */
static void
keep_random_tokens(struct config *next, const struct config *cur)
{
    int s;

    for (s = 0; s < SOURCE_COUNT; s++) {
        if (!next->sources[s].random_token || !cur->sources[s].random_token ||
            strv_len(cur->sources[s].tokens) == 0)
            continue;
        strv_free(next->sources[s].tokens);
        next->sources[s].tokens = calloc(2, sizeof(char *));
        if (next->sources[s].tokens)
            next->sources[s].tokens[0] = strdup(cur->sources[s].tokens[0]);
    }
}

static void
reload(const char *path)
{
    const struct config *cur = live_config_acquire();
    struct config_errors errs = { 0 };
    struct config next;
    size_t i;

    if (!path) {
        log_warn("serve", "reload: running on built-in defaults, nothing "
                 "to reload");
    } else if (config_load(&next, path, &errs) < 0) {
        for (i = 0; i < errs.count; i++)
            log_error("serve", "reload rejected: %s", errs.lines[i]);
        config_free(&next);
    } else {
        keep_random_tokens(&next, cur);
        if (config_make_tokens(&next) < 0) {
            log_error("serve", "reload rejected: cannot make tokens");
            config_free(&next);
        } else {
            set_log_level(&next);
            log_info("serve", "reloaded %s: sources, people, rules, "
                     "pushover and log_level now in force; server, journal, "
                     "siren, scanner and timezone apply at the next start",
                     path);
            live_config_replace(&next);
        }
    }
    config_errors_free(&errs);
    live_config_release(cur);
}

/* Wait for signals; prune the journal every hour meanwhile. */
static void
wait_for_stop(struct journal *j, const char *path)
{
    struct timespec tick = { PRUNE_EVERY_S, 0 };
    const struct config *cfg;
    sigset_t set;
    int sig;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    for (;;) {
        sig = sigtimedwait(&set, NULL, &tick);
        if (sig == SIGHUP) {
            reload(path);
        } else if (sig == SIGTERM || sig == SIGINT) {
            log_info("serve", "%s: stopping", strsignal(sig));
            return;
        } else if (sig < 0) {
            cfg = live_config_acquire();
            journal_prune(j, cfg->journal.retain_days);
            live_config_release(cfg);
        }
    }
}

static void
on_scan_report(json_t *report, void *relay)
{
    relay_feed_scan_report(relay, report);
}

/* Everything after the config is loaded; returns the exit status. */
static int
run(struct config *cfg_in)
{
    struct relay relay = { .started_ms = clock_now_ms() };
    struct http_server *http = NULL;
    struct scan_service *scans = NULL;
    const struct config *cfg;
    char err[256];
    int status = EXIT_TROUBLE;

    pthread_mutex_init(&relay.reader_lock, NULL);
    if (!(http = http_bind(cfg_in, err, sizeof err)) ||
        privileges_drop(cfg_in->server.user, err, sizeof err) < 0) {
        log_error("serve", "%s", err);
        http_stop(http, 0);
        config_free(cfg_in);
        return EXIT_TROUBLE;
    }
    if (!(relay.journal = journal_open(cfg_in->journal.path, err,
                                       sizeof err))) {
        log_error("serve", "journal %s: %s", cfg_in->journal.path, err);
        http_stop(http, 0);
        config_free(cfg_in);
        return EXIT_TROUBLE;
    }
    live_config_init(cfg_in);
    cfg = live_config_acquire();
    if (!(relay.reader = journal_reader(relay.journal, err, sizeof err)) ||
        !(relay.delivery = delivery_start(relay.journal, err, sizeof err))) {
        log_error("serve", "journal %s: %s", cfg->journal.path, err);
        goto done;
    }
    journal_on_scheduled(relay.journal, delivery_wake, relay.delivery);
    /* Pushes matter more than the siren: a siren that cannot be opened
       is reported and the relay runs without it. */
    if (!(relay.siren = siren_open(&cfg->siren, err, sizeof err)))
        log_error("siren", "%s: running without the siren", err);
    if (http_start(http, &relay, cfg, err, sizeof err) < 0) {
        log_error("serve", "%s", err);
        goto done;
    }
    if (strv_len(cfg->scanner.paths) > 0 &&
        !(scans = scan_service_start(&cfg->scanner, on_scan_report,
                                     &relay)))
        goto done;
    announce(http, cfg);
    wait_for_stop(relay.journal, cfg->file);
    status = 0;

done:
    scan_service_stop(scans);
    http_stop(http, DRAIN_GRACE_MS);
    delivery_stop(relay.delivery);
    siren_close(relay.siren);
    journal_close(relay.journal);
    delivery_free(relay.delivery);
    sqlite3_close(relay.reader);
    live_config_release(cfg);
    live_config_shutdown();
    pthread_mutex_destroy(&relay.reader_lock);
    if (status == 0)
        log_info("serve", "stopped");
    return status;
}

int
serve_main(int argc, char **argv)
{
    const char *path = NULL;
    struct config cfg;
    sigset_t set;
    int rc;

    if ((rc = cmdline_parse(argc, argv, &path, usage)) >= 0)
        return rc;
    if (optind != argc) {
        usage(stderr);
        return EXIT_TROUBLE;
    }
    if (config_load_default(&cfg, path) < 0) {
        config_free(&cfg);
        return EXIT_TROUBLE;
    }
    if (config_make_tokens(&cfg) < 0) {
        log_error("serve", "cannot make random tokens");
        config_free(&cfg);
        return EXIT_TROUBLE;
    }
    set_log_level(&cfg);
    rules_set_timezone(cfg.timezone);
    raise_fd_limit(&cfg);

    /* Only the main thread takes signals; threads inherit this mask. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* A file size limit shows up as a write error (a full disk), which
       the journal handles, rather than as a fatal signal. */
    signal(SIGXFSZ, SIG_IGN);
    /* libcurl sets itself up at its first use, so the TLS state it brings
       is not paid for until a push or lookup needs it; that is safe only
       where its global set-up is thread-safe. */
    if (!(curl_version_info(CURLVERSION_NOW)->features &
          CURL_VERSION_THREADSAFE))
        curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = run(&cfg);
    curl_global_cleanup();
    return rc;
}
