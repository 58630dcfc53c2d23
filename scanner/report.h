/*
 * The scanner's report: what changed since the baseline, in the format
 * the relay's hashgate source takes (tests/fixtures/hashgate/
 * changes.json), and the same as readable text for people.
 */
#ifndef KLAXON_SCANNER_REPORT_H
#define KLAXON_SCANNER_REPORT_H

#include <jansson.h>
#include <stdio.h>

#include "scanner/walk.h"

/*
 * A new report (new reference) for host and roots (n >= 1), with
 * scan_started set to now and no changes yet. NULL when out of memory.
 */
json_t *report_new(const char *host, const char *const *roots, size_t n);

/*
 * Add what it says to the report: a change when its entry was added,
 * deleted, modified or changed attributes, a warning when it has one.
 * Returns 1 when a change was added, 0 when not, -1 when out of memory.
 */
int report_add(json_t *report, const struct walk_item *it);

/* Set scan_finished to now, files_scanned and bytes_hashed (what was
   actually read: less than the total when trust_mtime skipped files). */
void report_finish(json_t *report, uint64_t files_scanned,
                   uint64_t bytes_hashed);

/* Number of changes in the report. */
size_t report_changes(const json_t *report);

/*
 * Print the report for people: a summary line, then the changes grouped
 * by kind, then warnings. Control bytes in paths are escaped.
 */
void report_print(FILE *out, const json_t *report);

/*
 * A JSON string for path (new reference): the path itself when it is
 * UTF-8, else with each stray byte written as \xNN so it still names the
 * file unambiguously for a person.
 */
json_t *report_path_string(const char *path);

#endif
