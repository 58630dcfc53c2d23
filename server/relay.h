/*
 * The running relay's parts, shared by the HTTP handlers.
 */
#ifndef KLAXON_RELAY_H
#define KLAXON_RELAY_H

#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>

#include "server/journal.h"
#include "server/metrics.h"

struct alert;
struct config;
struct decision;
struct journal;
struct journal_event;
struct delivery;
struct siren;

struct relay {
    struct journal *journal;
    struct delivery *delivery;  /* NULL when delivery is off */
    struct siren *siren;        /* NULL when no siren is configured */
    sqlite3 *reader;            /* for the API's reads, under reader_lock */
    pthread_mutex_t reader_lock;
    int64_t started_ms;
};

/*
 * An inbound event was committed (or refused): the siren follows the
 * alert's new state. Runs on the journal writer, so it stays short.
 */
void relay_event_committed(struct relay *relay,
                           const struct journal_event *ev);

/*
 * Parse payload as alert->source (alert freshly initialised), cut it to
 * what a phone shows, give it a time when it has none and decide it by
 * cfg's rules into d; ev then points at both, with the arrival time and
 * whether to deliver. The caller adds the raw body and done/ctx.
 * Returns HANDLER_OK; HANDLER_IGNORE or HANDLER_INVALID with reason
 * set; or -1, out of memory.
 */
int relay_prepare(const struct config *cfg, const json_t *payload,
                  struct alert *alert, struct decision *d,
                  struct journal_event *ev, char *reason, size_t reasonlen);

/* The metric an event's journal outcome counts under. */
enum metric_outcome relay_outcome_metric(enum journal_outcome outcome);

/*
 * Feed a report of the built-in scanner into the pipeline as a hashgate
 * event, as if it had been posted to /hooks/hashgate. report is
 * borrowed. Returns at once; the event is stored by the journal writer.
 */
void relay_feed_scan_report(struct relay *relay, json_t *report);

#endif
