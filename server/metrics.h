/*
 * Counters and gauges for GET /metrics (Prometheus text format). All
 * updates are lock-free atomics, cheap enough for every request.
 */
#ifndef KLAXON_METRICS_H
#define KLAXON_METRICS_H

#include <stdint.h>
#include <stdio.h>

#include "server/alert.h"

enum metric_outcome {
    OUTCOME_QUEUED,
    OUTCOME_DUPLICATE,
    OUTCOME_IGNORED,
    OUTCOME_INVALID,        /* 400, 413, 415 */
    OUTCOME_UNAUTHORIZED,
    OUTCOME_UNAVAILABLE,
    OUTCOME_COUNT
};

enum metric_delivery {
    DELIVERY_OUTCOME_SENT,
    DELIVERY_OUTCOME_RETRIED,
    DELIVERY_OUTCOME_FAILED,
    DELIVERY_OUTCOME_COUNT
};

void metrics_event(enum source source, enum metric_outcome outcome);
/* latency_ms: from the event's arrival to the provider's acceptance. */
void metrics_delivery(enum metric_delivery outcome, int64_t latency_ms);
void metrics_set_queue_depth(int64_t pending);
void metrics_set_siren(int on);
/* A finished scan: when (unix seconds), files, changes, 0 ok / -1 error. */
void metrics_scan(int64_t when, int64_t files, int64_t changes, int status);

/* Write every metric in Prometheus text format. */
void metrics_write(FILE *out);

#endif
