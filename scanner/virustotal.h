/*
 * VirusTotal lookups for files the scanner found added or modified
 * (always by their new hash). Lookups are queued in the baseline
 * database, so a queue left by a stopped process is picked up by the
 * next one; verdicts are cached there by hash. A token bucket keeps to
 * per_minute lookups and a daily counter to per_day, both stored with
 * the queue so back-to-back cron runs share them.
 */
#ifndef KLAXON_SCANNER_VIRUSTOTAL_H
#define KLAXON_SCANNER_VIRUSTOTAL_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "conf/config.h"
#include "scanner/baseline.h"

#define VT_DEFAULT_PER_MINUTE 4
#define VT_DEFAULT_PER_DAY 500

/*
 * After a check: put cached verdicts into the report's added and
 * modified files ("virustotal" object), queue lookups for the hashes
 * not known yet, and, when any were queued, keep the report so a later
 * verdict can update it. Returns the number of hashes queued, or -1.
 */
int vt_note_report(struct baseline *b, json_t *report);

enum vt_status {
    VT_IDLE,                /* nothing queued that is due */
    VT_WAIT,                /* rate limit, daily cap or back-off: wait */
    VT_LOOKED_UP,           /* one lookup done (or given up on) */
    VT_STOPPED,             /* key refused (401/403): no more lookups */
};

struct vt_client;

/* A client for conf (copied); NULL when out of memory. */
struct vt_client *vt_client_new(const struct virustotal_conf *conf);
void vt_client_free(struct vt_client *c);

/*
 * Do at most one lookup from b's queue. *wait_ms receives how long until
 * something more can be done (VT_IDLE with nothing queued: -1). When the
 * verdict changed a kept report, *updated receives that report (new
 * reference): at once for a malicious or suspicious verdict, otherwise
 * when the report's last lookup is done. cancel (may be NULL) aborts a
 * transfer in progress.
 */
enum vt_status vt_step(struct vt_client *c, struct baseline *b,
                       json_t **updated, int64_t *wait_ms,
                       const atomic_bool *cancel);

/* Number of hashes waiting in b's queue, or -1. */
int vt_queued(struct baseline *b);

#endif
