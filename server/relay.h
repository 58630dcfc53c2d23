/*
 * The running relay's parts, shared by the HTTP handlers.
 */
#ifndef KLAXON_RELAY_H
#define KLAXON_RELAY_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>

struct journal;
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

#endif
