/*
 * One scan: resolve the roots, take the baseline's lock, check its
 * authentication, walk, and turn the walk's items into a report and, for
 * init and update, into a new baseline.
 */
#include "scanner/scanner.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scanner/baseline.h"
#include "scanner/exclude.h"
#include "scanner/report.h"
#include "scanner/virustotal.h"
#include "scanner/walk.h"

struct run {
    const struct scanner_conf *conf;
    enum scan_mode mode;
    const struct scan_opts *opts;
    char **roots;               /* normalized, sorted, owned */
    size_t nroots;
    char **bases;               /* configured root each root lies in */
    struct walk_root *walk_roots;
    char *baseline_path;
    struct baseline_key key;
    struct baseline *old;
    struct baseline_writer *writer;
    struct exclude *exclude;
    struct walk_stats stats;
    uint64_t expected_bytes;
    json_t *report;
    size_t changes;
    char *err;
    size_t errlen;
};

const char *
scanner_host(const struct scanner_conf *conf, char *buf, size_t len)
{
    if (conf->host && *conf->host)
        snprintf(buf, len, "%s", conf->host);
    else if (gethostname(buf, len) < 0 || len == 0)
        snprintf(buf, len, "localhost");
    if (len > 0)
        buf[len - 1] = '\0';
    return buf;
}

/*
 * path made absolute and lexically clean ("." and empty segments gone,
 * ".." taken back), without resolving symlinks: the baseline records
 * paths as the operator names them. NULL when out of memory.
 */
static char *
normalize(const char *path)
{
    char cwd[PATH_MAX], *full, *out, *seg, *save = NULL, *end;
    size_t len = 0;

    if (path[0] == '/')
        full = strdup(path);
    else if (!getcwd(cwd, sizeof cwd) ||
             asprintf(&full, "%s/%s", cwd, path) < 0)
        full = NULL;
    if (!full || !(out = calloc(1, strlen(full) + 2))) {
        free(full);
        return NULL;
    }
    for (seg = strtok_r(full, "/", &save); seg;
         seg = strtok_r(NULL, "/", &save)) {
        if (strcmp(seg, ".") == 0)
            continue;
        if (strcmp(seg, "..") == 0) {
            end = strrchr(out, '/');
            len = end ? (size_t)(end - out) : 0;
            out[len] = '\0';
            continue;
        }
        len += sprintf(out + len, "/%s", seg);
    }
    if (len == 0)
        strcpy(out, "/");
    free(full);
    return out;
}

static int
compare_roots(const void *a, const void *b)
{
    const char *x = *(char *const *)a, *y = *(char *const *)b;

    return entry_pathcmp(x, strlen(x), y, strlen(y));
}

static int
run_fail(struct run *r, const char *fmt, const char *arg)
{
    snprintf(r->err, r->errlen, fmt, arg);
    return -1;
}

static size_t
count_paths(char *const *v)
{
    size_t n = 0;

    while (v && v[n])
        n++;
    return n;
}

/* The configured path that root lies in (its exclude base), or root. */
static char *
base_of(const struct run *r, const char *root)
{
    size_t i, n = count_paths(r->conf->paths);
    char *p, *best = NULL;

    for (i = 0; i < n; i++) {
        if (!(p = normalize(r->conf->paths[i])))
            continue;
        if (entry_under(root, p) && (!best || strlen(p) > strlen(best))) {
            free(best);
            best = p;
        } else {
            free(p);
        }
    }
    return best ? best : strdup(root);
}

static int
setup_roots(struct run *r)
{
    const struct scan_opts *o = r->opts;
    const char *const *src = o && o->paths ? o->paths :
                             (const char *const *)r->conf->paths;
    size_t i, j, n = o && o->paths ? o->npaths :
                     count_paths(r->conf->paths);

    if (n == 0)
        return run_fail(r, "%s", "scanner: no paths to scan (set "
                        "scanner.paths or give PATH arguments)");
    r->roots = calloc(n, sizeof *r->roots);
    r->bases = calloc(n, sizeof *r->bases);
    r->walk_roots = calloc(n, sizeof *r->walk_roots);
    if (!r->roots || !r->bases || !r->walk_roots)
        return run_fail(r, "%s", "scanner: out of memory");
    for (i = 0; i < n; i++) {
        if (!(r->roots[i] = normalize(src[i])))
            return run_fail(r, "%s", "scanner: out of memory");
    }
    r->nroots = n;
    qsort(r->roots, n, sizeof *r->roots, compare_roots);
    for (i = j = 1; i < n; i++) {
        if (strcmp(r->roots[i], r->roots[j - 1]) == 0) {
            free(r->roots[i]);
            continue;
        }
        if (entry_under(r->roots[i], r->roots[j - 1]))
            return run_fail(r, "scanner: %s lies inside another scanned "
                            "path", r->roots[i]);
        r->roots[j++] = r->roots[i];
    }
    r->nroots = j;
    for (i = 0; i < r->nroots; i++) {
        if (!(r->bases[i] = base_of(r, r->roots[i])))
            return run_fail(r, "%s", "scanner: out of memory");
        r->walk_roots[i].path = r->roots[i];
        r->walk_roots[i].base = r->bases[i];
    }
    return 0;
}

/* Whether path, or where its symlinks lead, lies in a watched tree. */
static bool
inside_tree(const struct run *r, const char *path)
{
    char real[PATH_MAX], rroot[PATH_MAX], *dir, *slash;
    size_t i;

    for (i = 0; i < r->nroots; i++) {
        if (entry_under(path, r->roots[i]) || entry_under(path, r->bases[i]))
            return true;
    }
    if (!(dir = strdup(path)))
        return false;
    slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    if (realpath(*dir ? dir : "/", real)) {
        for (i = 0; i < r->nroots; i++) {
            if (realpath(r->bases[i], rroot) && entry_under(real, rroot))
                break;
        }
    } else {
        i = r->nroots;
    }
    free(dir);
    return i < r->nroots;
}

static int
setup(struct run *r)
{
    const struct scanner_conf *c = r->conf;
    size_t i, n = count_paths(c->exclude);
    char why[512];

    if (setup_roots(r) < 0)
        return -1;
    if (!(r->baseline_path = normalize(c->baseline && *c->baseline ?
                                       c->baseline : "baseline.db")))
        return run_fail(r, "%s", "scanner: out of memory");
    if (inside_tree(r, r->baseline_path))
        return run_fail(r, "scanner: baseline %s lies inside the watched "
                        "tree; keep it outside", r->baseline_path);
    if (c->key_file && *c->key_file && inside_tree(r, c->key_file))
        return run_fail(r, "scanner: key file %s lies inside the watched "
                        "tree; keep it outside", c->key_file);
    if (!(r->exclude = exclude_new()))
        return run_fail(r, "%s", "scanner: out of memory");
    for (i = 0; i < n; i++) {
        if (exclude_add(r->exclude, c->exclude[i]) < 0)
            return run_fail(r, "scanner: exclude pattern '%s' matches no "
                            "path", c->exclude[i]);
    }
    if (c->exclude_file && *c->exclude_file &&
        exclude_add_file(r->exclude, c->exclude_file, why, sizeof why) < 0)
        return run_fail(r, "scanner: exclude file %s", why);
    return 0;
}

static int
on_item(struct walk_item *it, void *arg)
{
    struct run *r = arg;
    struct walk_item warning_only = { .warning = it->warning, .keep = true };
    int rc;

    rc = report_add(r->report, r->mode == SCAN_INIT ? &warning_only : it);
    if (rc < 0) {
        run_fail(r, "%s", "scanner: out of memory");
        return -1;
    }
    r->changes += rc;
    if (!r->writer)
        return 0;
    if (it->have_now && !it->keep)
        rc = baseline_writer_put(r->writer, &it->now);
    else if (it->have_old && it->keep)
        rc = baseline_writer_put(r->writer, &it->old);
    if (rc < 0)
        run_fail(r, "%s", "scanner: cannot write the new baseline");
    return rc < 0 ? -1 : 0;
}

static void
on_entry(const char *path, void *arg)
{
    struct run *r = arg;
    struct scan_progress p = {
        .path = path,
        .entries = atomic_load(&r->stats.entries),
        .bytes = atomic_load(&r->stats.hashed_bytes),
        .expected_bytes = r->expected_bytes,
    };

    r->opts->progress(&p, r->opts->progress_arg);
}

static json_t *
error_report(const struct run *r, const char *type)
{
    char host[256];
    json_t *report, *e;

    scanner_host(r->conf, host, sizeof host);
    if (!(report = report_new(host, (const char *const *)r->roots,
                              r->nroots)))
        return NULL;
    report_finish(report, 0, 0);
    e = json_pack("{s:s, s:o, s:s}", "type", type, "baseline",
                  report_path_string(r->baseline_path), "message", r->err);
    json_object_set_new(report, "error", e);
    return report;
}

/* Open the old baseline (check, update) or make sure there is none. */
static enum scan_result
open_old(struct run *r)
{
    enum baseline_status st;

    if (r->mode == SCAN_INIT) {
        if (access(r->baseline_path, F_OK) == 0) {
            run_fail(r, "scanner: baseline %s already exists; use klaxon "
                     "scan update to accept changes", r->baseline_path);
            return SCAN_FAILED;
        }
        return SCAN_CLEAN;
    }
    st = baseline_open(&r->old, r->baseline_path, &r->key, r->err,
                       r->errlen);
    if (st == BASELINE_TAMPERED)
        return SCAN_TAMPERED;
    if (st != BASELINE_OK)
        return SCAN_FAILED;
    baseline_totals(r->old, &(uint64_t){ 0 }, &r->expected_bytes);
    return SCAN_CLEAN;
}

/* Walk and write; the report is complete afterwards. */
static int
scan(struct run *r)
{
    struct walk_opts wo = {
        .exclude = r->exclude,
        .one_filesystem = r->conf->one_filesystem,
        .trust_mtime = r->conf->trust_mtime && r->mode == SCAN_CHECK,
        .threads = r->conf->threads,
        .cancel = r->opts ? r->opts->cancel : NULL,
    };
    char host[256];

    if (r->opts && r->opts->progress) {
        wo.on_entry = on_entry;
        wo.on_entry_arg = r;
    }
    if (r->mode != SCAN_CHECK &&
        !(r->writer = baseline_writer_new(r->baseline_path, &r->key, r->old,
                                          r->err, r->errlen)))
        return -1;
    if (r->mode == SCAN_UPDATE && r->opts && r->opts->paths &&
        baseline_writer_keep_others(r->writer, r->old,
                                    (const char *const *)r->roots,
                                    r->nroots) < 0)
        return run_fail(r, "%s", "scanner: cannot copy the baseline");
    scanner_host(r->conf, host, sizeof host);
    if (!(r->report = report_new(host, (const char *const *)r->roots,
                                 r->nroots)))
        return run_fail(r, "%s", "scanner: out of memory");
    if (walk_run(r->walk_roots, r->nroots, r->old, &wo, on_item, r,
                 &r->stats, r->err, r->errlen) < 0)
        return -1;
    report_finish(r->report, atomic_load(&r->stats.entries),
                  atomic_load(&r->stats.hashed_bytes));
    if (r->writer) {
        if (baseline_writer_commit(r->writer, r->err, r->errlen) < 0) {
            r->writer = NULL;
            return -1;
        }
        r->writer = NULL;
    }
    return 0;
}

static void
run_free(struct run *r)
{
    size_t i;

    baseline_writer_abort(r->writer);
    baseline_close(r->old);
    baseline_key_free(&r->key);
    exclude_free(r->exclude);
    json_decref(r->report);
    for (i = 0; i < r->nroots; i++) {
        free(r->roots[i]);
        free(r->bases[i]);
    }
    free(r->roots);
    free(r->bases);
    free(r->walk_roots);
    free(r->baseline_path);
}

enum scan_result
scanner_run(const struct scanner_conf *conf, enum scan_mode mode,
            const struct scan_opts *opts, json_t **report, char *err,
            size_t errlen)
{
    struct run r = { .conf = conf, .mode = mode, .opts = opts, .err = err,
                     .errlen = errlen };
    enum scan_result res = SCAN_FAILED;
    int lock = -1;

    *report = NULL;
    if (setup(&r) < 0 ||
        (lock = baseline_lock(r.baseline_path, err, errlen)) < 0 ||
        baseline_key_load(conf, mode == SCAN_INIT, &r.key, err,
                          errlen) < 0)
        goto done;
    res = open_old(&r);
    if (res == SCAN_TAMPERED)
        *report = error_report(&r, "baseline_auth");
    if (res != SCAN_CLEAN)
        goto done;
    res = SCAN_FAILED;
    if (scan(&r) < 0)
        goto done;
    if (mode == SCAN_CHECK && conf->virustotal.api_key &&
        *conf->virustotal.api_key)
        vt_note_report(r.old, r.report);
    res = mode == SCAN_CHECK && r.changes > 0 ? SCAN_CHANGED : SCAN_CLEAN;
    *report = r.report;
    r.report = NULL;

done:
    run_free(&r);
    if (lock >= 0)
        close(lock);
    return res;
}

int
scanner_lookup(const struct scanner_conf *conf, struct vt_client *c,
               json_t **updated, int64_t *wait_ms, const atomic_bool *cancel,
               char *err, size_t errlen)
{
    struct baseline_key key = { 0 };
    struct baseline *b = NULL;
    char *path = normalize(conf->baseline && *conf->baseline ?
                           conf->baseline : "baseline.db");
    int lock = -1, rc = -1;

    *updated = NULL;
    *wait_ms = -1;
    if (!path) {
        snprintf(err, errlen, "scanner: out of memory");
        return -1;
    }
    if ((lock = baseline_lock(path, err, errlen)) >= 0 &&
        baseline_key_load(conf, false, &key, err, errlen) == 0 &&
        baseline_open(&b, path, &key, err, errlen) == BASELINE_OK)
        rc = vt_step(c, b, updated, wait_ms, cancel);
    baseline_close(b);
    baseline_key_free(&key);
    if (lock >= 0)
        close(lock);
    free(path);
    return rc;
}
