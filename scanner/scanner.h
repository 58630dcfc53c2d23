/*
 * The file integrity scanner, one run at a time: init records the
 * baseline, check compares the disk with it, update accepts what is on
 * disk now (all of it, or only the paths given). "klaxon scan" and the
 * scan service in "klaxon serve" both run scans through here.
 */
#ifndef KLAXON_SCANNER_H
#define KLAXON_SCANNER_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdint.h>

#include "conf/config.h"

enum scan_mode { SCAN_INIT, SCAN_CHECK, SCAN_UPDATE };

enum scan_result {
    SCAN_CLEAN,             /* nothing changed (init, update: done) */
    SCAN_CHANGED,           /* check found changes */
    SCAN_FAILED,            /* could not scan; err says why */
    SCAN_TAMPERED,          /* the baseline fails its authentication */
};

struct scan_progress {
    const char *path;       /* entry about to be read */
    uint64_t entries;       /* entries seen so far */
    uint64_t bytes;         /* bytes hashed so far */
    uint64_t expected_bytes;    /* baseline's total; 0: unknown */
};

struct scan_opts {
    const char *const *paths;   /* override conf->paths; NULL: use them */
    size_t npaths;
    /* Called on the walking thread before each entry is read. */
    void (*progress)(const struct scan_progress *p, void *arg);
    void *progress_arg;
    const atomic_bool *cancel;  /* set to stop the scan; may be NULL */
};

/*
 * Run one scan of the given mode with conf. *report receives the report
 * (new reference) on SCAN_CLEAN and SCAN_CHANGED: for check the changes
 * found, for update the changes accepted, for init no changes. On
 * SCAN_TAMPERED *report is an error report that names the baseline
 * (field "error", see scanner/README.md) so it can be raised as an
 * alert. On SCAN_FAILED *report is NULL. err always gets a one-line
 * reason on failure. opts may be NULL.
 */
enum scan_result scanner_run(const struct scanner_conf *conf,
                             enum scan_mode mode,
                             const struct scan_opts *opts, json_t **report,
                             char *err, size_t errlen);

/*
 * Do at most one VirusTotal lookup from the baseline's queue with client
 * c (see vt_step for status, *updated and *wait_ms). Takes the baseline's
 * lock and checks its authentication first, like a scan. Returns an
 * enum vt_status, or -1 with err set when the baseline cannot be used.
 */
struct vt_client;
int scanner_lookup(const struct scanner_conf *conf, struct vt_client *c,
                   json_t **updated, int64_t *wait_ms,
                   const atomic_bool *cancel, char *err, size_t errlen);

/*
 * The host name reports carry: conf->host, else gethostname(). Written
 * into buf; returns buf.
 */
const char *scanner_host(const struct scanner_conf *conf, char *buf,
                         size_t len);

#endif
