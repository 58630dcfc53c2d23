/*
 * The scan service: scans in a background thread of "klaxon serve"
 * every interval seconds, never two at once, and does the VirusTotal
 * lookups in between. The first scan runs at start; a missing baseline
 * is created by it (and reported by no alert), a baseline that fails its
 * authentication is reported, never replaced.
 */
#ifndef KLAXON_SCANNER_SERVICE_H
#define KLAXON_SCANNER_SERVICE_H

#include <jansson.h>
#include <stdbool.h>

#include "conf/config.h"

/*
 * Receives each check's report (borrowed: json_incref to keep it): one
 * that found changes, or a clean one (no changes, which resolves what
 * an earlier report raised); the same report again when a later
 * VirusTotal verdict changed it (its "virustotal" counts filled in);
 * and an error report (field "error") when the baseline fails its
 * authentication. Called on the service's thread; it must not block for
 * long, since lookups and the next scan wait for it.
 */
typedef void (*scan_service_cb)(json_t *report, void *user);

struct scan_service;

/*
 * Start the service for conf (copied; the caller may free it) with
 * interval conf->interval seconds: the first scan at once, the next
 * that long after each one ends (0: only when scan_service_run_now()
 * asks). libcurl's global set-up must be done or, where it is
 * thread-safe, left to its first use. NULL on failure (logged).
 */
struct scan_service *scan_service_start(const struct scanner_conf *conf,
                                        scan_service_cb cb, void *user);

/*
 * Ask for a scan now. Returns 0 when one was scheduled, -1 when a scan
 * is already running or scheduled (nothing is started twice).
 */
int scan_service_run_now(struct scan_service *s);

/* Whether a scan is running at this moment. */
bool scan_service_busy(struct scan_service *s);

/* Number of scans finished so far (whatever their result). */
unsigned long scan_service_scans(struct scan_service *s);

/*
 * Stop: a running scan or lookup is cancelled, the thread joined, s
 * freed. Queued lookups stay in the baseline for next time. NULL is ok.
 */
void scan_service_stop(struct scan_service *s);

#endif
