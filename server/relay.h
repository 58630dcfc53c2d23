/*
 * The running relay's parts, shared by the HTTP handlers.
 */
#ifndef KLAXON_RELAY_H
#define KLAXON_RELAY_H

#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>

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
 * Feed a report of the built-in scanner into the pipeline as a hashgate
 * event, as if it had been posted to /hooks/hashgate. report is
 * borrowed. Returns at once; the event is stored by the journal writer.
 */
void relay_feed_scan_report(struct relay *relay, json_t *report);

#endif
