/*
 * klaxon scan: the integrity scanner from the command line, made for
 * cron. Exit 0 when nothing changed, 1 when check found changes, 2 on
 * any error, including a baseline that fails its authentication.
 */
#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf/config.h"
#include "scanner/report.h"
#include "scanner/scanner.h"
#include "scanner/virustotal.h"
#include "server/clock.h"
#include "server/commands.h"
#include "server/log.h"

struct cmd {
    const char *config;
    bool json;
    const char *post_url;
    const char *token;
    bool progress;
    int lookup_wait;        /* seconds to keep looking up; 0: no waiting */
    int64_t last_progress;
    int64_t started;
};

static void
usage(FILE *out)
{
    fprintf(out,
        "usage: klaxon scan [-c FILE] init|check|update [OPTIONS] [PATH...]\n"
        "\n"
        "  init      record the baseline of scanner.paths (or PATHs)\n"
        "  check     compare with the baseline; exit 1 when anything "
        "changed\n"
        "  update    accept what is on disk now (only PATHs, when given)\n"
        "\n"
        "  --json               print the report as JSON\n"
        "  --post URL           send the report to a relay's "
        "/hooks/hashgate\n"
        "  --token TOKEN        bearer token for --post\n"
        "  --baseline FILE      baseline database (scanner.baseline)\n"
        "  --key-file FILE      baseline key file (scanner.key_file)\n"
        "  --exclude PATTERN    skip paths matching PATTERN (repeatable)\n"
        "  --exclude-file FILE  skip paths matching the patterns in FILE\n"
        "  --trust-mtime        skip reading files whose size, mtime, "
        "ctime\n"
        "                       and inode are unchanged\n"
        "  --one-file-system    stay on the file system of each path\n"
        "  --threads N          hashing threads (default: one per core)\n"
        "  --lookup-wait SECS   keep doing VirusTotal lookups for up to "
        "SECS\n"
        "  --no-progress        no progress line on a terminal\n"
        "\n"
        "Exit status: 0 no changes, 1 changes found, 2 error.\n");
}

static int
set_string(char **field, const char *value)
{
    char *copy = strdup(value);

    if (!copy)
        return -1;
    free(*field);
    *field = copy;
    return 0;
}

static int
add_pattern(strv *v, const char *pattern)
{
    size_t n = strv_len(*v);
    char **grown = realloc(*v, (n + 2) * sizeof *grown);

    if (!grown)
        return -1;
    *v = grown;
    if (!(grown[n] = strdup(pattern)))
        return -1;
    grown[n + 1] = NULL;
    return 0;
}

static void
progress(const struct scan_progress *p, void *arg)
{
    struct cmd *c = arg;
    int64_t now = clock_mono_ms(), ms = now - c->started;
    double rate;

    if (now - c->last_progress < 250)
        return;
    c->last_progress = now;
    rate = ms > 0 ? (double)p->bytes / ms * 1000.0 : 0;
    fprintf(stderr, "\rscan: %llu files, %.1f MB/s",
            (unsigned long long)p->entries, rate / 1e6);
    if (p->expected_bytes > p->bytes && rate > 0)
        fprintf(stderr, ", ETA %.0f s",
                (p->expected_bytes - p->bytes) / rate);
    fputs("\033[K", stderr);
}

static size_t
discard(char *data, size_t size, size_t n, void *arg)
{
    (void)data;
    (void)arg;
    return size * n;
}

/* POST report to url; 0 on a 2xx answer, -1 after printing why not. */
static int
post(const char *url, const char *token, const json_t *report)
{
    struct curl_slist *headers = NULL;
    char *body = json_dumps(report, JSON_COMPACT), *auth = NULL;
    CURL *h = curl_easy_init();
    long status = 0;
    CURLcode rc = CURLE_OUT_OF_MEMORY;

    headers = curl_slist_append(headers, "Content-Type: application/json");
    if (token && asprintf(&auth, "Authorization: Bearer %s", token) >= 0)
        headers = curl_slist_append(headers, auth);
    if (h && body && headers) {
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
        curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
        rc = curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    }
    curl_easy_cleanup(h);
    curl_slist_free_all(headers);
    if (auth)
        explicit_bzero(auth, strlen(auth));
    free(auth);
    free(body);
    if (rc != CURLE_OK) {
        fprintf(stderr, "klaxon scan: post to %s failed: %s\n", url,
                curl_easy_strerror(rc));
        return -1;
    }
    if (status < 200 || status > 299) {
        fprintf(stderr, "klaxon scan: post to %s failed: relay answered "
                "HTTP %ld\n", url, status);
        return -1;
    }
    return 0;
}

/* Show or send a report; 0, or -1 when sending failed. */
static int
emit(const struct cmd *c, const json_t *report, bool human)
{
    if (c->post_url && post(c->post_url, c->token, report) < 0)
        return -1;
    if (c->json) {
        json_dumpf(report, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
    } else if (human) {
        report_print(stdout, report);
    }
    fflush(stdout);
    return 0;
}

/*
 * Do the VirusTotal lookups the rate limit allows now, or within
 * lookup_wait seconds; send a report again when a verdict changed it.
 * -1 only when sending that report failed.
 */
static int
lookups(const struct cmd *c, const struct scanner_conf *conf)
{
    struct vt_client *vt = vt_client_new(&conf->virustotal);
    int64_t deadline = clock_mono_ms() + c->lookup_wait * 1000LL, wait;
    json_t *updated;
    char err[512];
    int st, rc = 0;

    if (!vt)
        return -1;
    for (;;) {
        st = scanner_lookup(conf, vt, &updated, &wait, NULL, err,
                            sizeof err);
        if (st < 0) {
            /* The scan's verdict stands; the queue waits for next time. */
            fprintf(stderr, "klaxon scan: virustotal lookups: %s\n", err);
            break;
        }
        if (updated && emit(c, updated, true) < 0)
            rc = -1;
        json_decref(updated);
        if (st == VT_LOOKED_UP)
            continue;
        if (st != VT_WAIT || wait < 0 || clock_mono_ms() + wait > deadline)
            break;
        usleep((useconds_t)(wait > 1000000 ? 1000000 : wait) * 1000);
    }
    vt_client_free(vt);
    return rc;
}

static void
summary(enum scan_mode mode, const struct scanner_conf *conf,
        const json_t *report)
{
    long long n = json_integer_value(json_object_get(report,
                                                     "files_scanned"));
    size_t i;
    json_t *w;

    if (mode == SCAN_INIT)
        printf("baseline %s recorded: %lld entr%s\n", conf->baseline, n,
               n == 1 ? "y" : "ies");
    else
        printf("baseline %s updated: %zu change%s accepted, %lld "
               "entr%s\n", conf->baseline, report_changes(report),
               report_changes(report) == 1 ? "" : "s", n,
               n == 1 ? "y" : "ies");
    json_array_foreach(json_object_get(report, "warnings"), i, w)
        fprintf(stderr, "klaxon scan: warning: %s\n", json_string_value(w));
}

enum {
    OPT_JSON = 256, OPT_POST, OPT_TOKEN, OPT_BASELINE, OPT_KEY_FILE,
    OPT_EXCLUDE, OPT_EXCLUDE_FILE, OPT_TRUST_MTIME, OPT_ONE_FS, OPT_THREADS,
    OPT_LOOKUP_WAIT, OPT_NO_PROGRESS,
};

static const struct option options[] = {
    { "config", required_argument, NULL, 'c' },
    { "help", no_argument, NULL, 'h' },
    { "json", no_argument, NULL, OPT_JSON },
    { "post", required_argument, NULL, OPT_POST },
    { "token", required_argument, NULL, OPT_TOKEN },
    { "baseline", required_argument, NULL, OPT_BASELINE },
    { "key-file", required_argument, NULL, OPT_KEY_FILE },
    { "exclude", required_argument, NULL, OPT_EXCLUDE },
    { "exclude-file", required_argument, NULL, OPT_EXCLUDE_FILE },
    { "trust-mtime", no_argument, NULL, OPT_TRUST_MTIME },
    { "one-file-system", no_argument, NULL, OPT_ONE_FS },
    { "threads", required_argument, NULL, OPT_THREADS },
    { "lookup-wait", required_argument, NULL, OPT_LOOKUP_WAIT },
    { "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
    { NULL, 0, NULL, 0 },
};

/* Apply one option to c or sc; 0, 1 for --help, -1 on a bad one. */
static int
option(int opt, struct cmd *c, struct scanner_conf *sc)
{
    char *end;
    long n;

    switch (opt) {
    case 'c': c->config = optarg; return 0;
    case 'h': return 1;
    case OPT_JSON: c->json = true; return 0;
    case OPT_POST: c->post_url = optarg; return 0;
    case OPT_TOKEN: c->token = optarg; return 0;
    case OPT_BASELINE: return set_string(&sc->baseline, optarg);
    case OPT_KEY_FILE:
        free(sc->key);
        sc->key = NULL;
        return set_string(&sc->key_file, optarg);
    case OPT_EXCLUDE: return add_pattern(&sc->exclude, optarg);
    case OPT_EXCLUDE_FILE: return set_string(&sc->exclude_file, optarg);
    case OPT_TRUST_MTIME: sc->trust_mtime = true; return 0;
    case OPT_ONE_FS: sc->one_filesystem = true; return 0;
    case OPT_NO_PROGRESS: c->progress = false; return 0;
    case OPT_THREADS:
    case OPT_LOOKUP_WAIT:
        n = strtol(optarg, &end, 10);
        if (*end || n < 0 || n > (opt == OPT_THREADS ? 256 : 86400)) {
            fprintf(stderr, "klaxon scan: %s: not a valid number\n", optarg);
            return -1;
        }
        if (opt == OPT_THREADS)
            sc->threads = (int)n;
        else
            c->lookup_wait = (int)n;
        return 0;
    default:
        return -1;
    }
}

/*
 * Apply the options of argv to c and cfg (loaded from -c first, since
 * options override it). 0, 1 for --help, -1 on an error already
 * printed. Afterwards argv[optind..] are the mode and the paths.
 */
static int
parse(int argc, char **argv, struct cmd *c, struct config *cfg)
{
    int opt, rc = 0;

    opterr = 0;
    optind = 0;
    while ((opt = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
        if (opt == 'c')
            c->config = optarg;
        else if (opt == 'h')
            return 1;
    }
    if (config_load_default(cfg, c->config) < 0)
        return -1;
    opterr = 1;
    optind = 0;
    while (rc == 0 &&
           (opt = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
        if (opt == '?') {
            fprintf(stderr, "klaxon scan: try klaxon scan --help\n");
            return -1;
        }
        rc = option(opt, c, &cfg->scanner);
    }
    if (rc < 0)
        fprintf(stderr, "klaxon scan: cannot apply the options\n");
    return rc;
}

static int
mode_of(const char *name, enum scan_mode *mode)
{
    if (strcmp(name, "init") == 0)
        *mode = SCAN_INIT;
    else if (strcmp(name, "check") == 0)
        *mode = SCAN_CHECK;
    else if (strcmp(name, "update") == 0)
        *mode = SCAN_UPDATE;
    else
        return -1;
    return 0;
}

/* Run the scan and show its outcome; the exit status. */
static int
run(struct cmd *c, const struct scanner_conf *conf, enum scan_mode mode,
    const struct scan_opts *opts)
{
    enum scan_result res;
    json_t *report = NULL;
    char err[1024];
    int status;

    c->started = clock_mono_ms();
    c->last_progress = c->started;
    res = scanner_run(conf, mode, opts, &report, err, sizeof err);
    if (opts->progress)
        fputs("\r\033[K", stderr);
    if (res == SCAN_FAILED || res == SCAN_TAMPERED) {
        fprintf(stderr, "klaxon scan: %s\n", err);
        if (res == SCAN_TAMPERED && report && c->post_url)
            post(c->post_url, c->token, report);
        json_decref(report);
        return EXIT_TROUBLE;
    }
    status = res == SCAN_CHANGED ? EXIT_FOUND : 0;
    if (mode != SCAN_CHECK) {
        /* What init or update accepted is not news for the relay. */
        if (c->json) {
            json_dumpf(report, stdout, JSON_INDENT(2));
            fputc('\n', stdout);
        } else {
            summary(mode, conf, report);
        }
    } else if (emit(c, report, res == SCAN_CHANGED || !c->post_url) < 0) {
        /* A clean report is posted too: it resolves the relay's alert
           for this root once the changes were accepted. From cron it
           prints nothing. */
        status = EXIT_TROUBLE;
    }
    json_decref(report);
    if (mode == SCAN_CHECK && conf->virustotal.api_key &&
        lookups(c, conf) < 0)
        status = EXIT_TROUBLE;
    return status;
}

int
scan_main(int argc, char **argv)
{
    struct cmd c = { .progress = true };
    struct scan_opts opts = { 0 };
    struct config cfg = { 0 };
    enum scan_mode mode;
    int rc;

    rc = parse(argc, argv, &c, &cfg);
    if (rc != 0) {
        if (rc > 0)
            usage(stdout);
        config_free(&cfg);
        return rc > 0 ? 0 : EXIT_TROUBLE;
    }
    if (optind >= argc || mode_of(argv[optind], &mode) < 0) {
        fprintf(stderr, "klaxon scan: expected init, check or update "
                "(try klaxon scan --help)\n");
        config_free(&cfg);
        return EXIT_TROUBLE;
    }
    if (optind + 1 < argc) {
        opts.paths = (const char *const *)argv + optind + 1;
        opts.npaths = argc - optind - 1;
    }
    if (c.progress && isatty(STDERR_FILENO)) {
        opts.progress = progress;
        opts.progress_arg = &c;
    }
    if (c.token && !c.post_url)
        fprintf(stderr, "klaxon scan: --token without --post is unused\n");
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = run(&c, &cfg.scanner, mode, &opts);
    curl_global_cleanup();
    config_free(&cfg);
    return rc;
}
