/*
 * Process-wide metrics.
 */
#include "server/metrics.h"

#include <stdatomic.h>

static const char *const outcome_names[OUTCOME_COUNT] = {
    "queued", "duplicate", "ignored", "invalid", "unauthorized",
    "unavailable",
};

static const char *const delivery_names[DELIVERY_OUTCOME_COUNT] = {
    "sent", "retried", "failed",
};

/* Upper bounds of the delivery latency buckets, in milliseconds. */
static const int64_t latency_bounds[] = {
    50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000,
};
#define NBUCKETS (sizeof latency_bounds / sizeof *latency_bounds)

static _Atomic int64_t events[SOURCE_COUNT][OUTCOME_COUNT];
static _Atomic int64_t deliveries[DELIVERY_OUTCOME_COUNT];
static _Atomic int64_t latency_buckets[NBUCKETS + 1];
static _Atomic int64_t latency_sum_ms, latency_count;
static _Atomic int64_t queue_depth, siren_on;
static _Atomic int64_t scan_time, scan_files, scan_changes, scan_ok = 1;

void
metrics_event(enum source source, enum metric_outcome outcome)
{
    if ((unsigned)source < SOURCE_COUNT && (unsigned)outcome < OUTCOME_COUNT)
        atomic_fetch_add(&events[source][outcome], 1);
}

void
metrics_delivery(enum metric_delivery outcome, int64_t latency_ms)
{
    size_t b;

    atomic_fetch_add(&deliveries[outcome], 1);
    if (outcome != DELIVERY_OUTCOME_SENT)
        return;
    for (b = 0; b < NBUCKETS && latency_ms > latency_bounds[b]; b++)
        ;
    atomic_fetch_add(&latency_buckets[b], 1);
    atomic_fetch_add(&latency_sum_ms, latency_ms);
    atomic_fetch_add(&latency_count, 1);
}

void
metrics_set_queue_depth(int64_t pending)
{
    atomic_store(&queue_depth, pending);
}

void
metrics_set_siren(int on)
{
    atomic_store(&siren_on, on);
}

void
metrics_scan(int64_t when, int64_t files, int64_t changes, int status)
{
    atomic_store(&scan_time, when);
    atomic_store(&scan_files, files);
    atomic_store(&scan_changes, changes);
    atomic_store(&scan_ok, status == 0);
}

static void
write_latency(FILE *out)
{
    int64_t cumulative = 0;
    size_t b;

    fprintf(out, "# HELP klaxon_delivery_latency_seconds Time from an "
            "event's arrival to the provider accepting its push.\n"
            "# TYPE klaxon_delivery_latency_seconds histogram\n");
    for (b = 0; b < NBUCKETS; b++) {
        cumulative += atomic_load(&latency_buckets[b]);
        fprintf(out, "klaxon_delivery_latency_seconds_bucket{le=\"%g\"} "
                "%lld\n", latency_bounds[b] / 1000.0, (long long)cumulative);
    }
    cumulative += atomic_load(&latency_buckets[NBUCKETS]);
    fprintf(out, "klaxon_delivery_latency_seconds_bucket{le=\"+Inf\"} %lld\n"
            "klaxon_delivery_latency_seconds_sum %g\n"
            "klaxon_delivery_latency_seconds_count %lld\n",
            (long long)cumulative, atomic_load(&latency_sum_ms) / 1000.0,
            (long long)atomic_load(&latency_count));
}

void
metrics_write(FILE *out)
{
    int s, o;

    fprintf(out, "# HELP klaxon_events_total Inbound events by source and "
            "outcome.\n# TYPE klaxon_events_total counter\n");
    for (s = 0; s < SOURCE_COUNT; s++) {
        for (o = 0; o < OUTCOME_COUNT; o++)
            fprintf(out, "klaxon_events_total{source=\"%s\",outcome=\"%s\"}"
                    " %lld\n", source_name(s), outcome_names[o],
                    (long long)atomic_load(&events[s][o]));
    }
    fprintf(out, "# HELP klaxon_deliveries_total Delivery attempts by "
            "notifier and outcome.\n# TYPE klaxon_deliveries_total "
            "counter\n");
    for (o = 0; o < DELIVERY_OUTCOME_COUNT; o++)
        fprintf(out, "klaxon_deliveries_total{notifier=\"pushover\","
                "outcome=\"%s\"} %lld\n", delivery_names[o],
                (long long)atomic_load(&deliveries[o]));
    write_latency(out);
    fprintf(out, "# HELP klaxon_delivery_queue_depth Deliveries waiting to "
            "be sent.\n# TYPE klaxon_delivery_queue_depth gauge\n"
            "klaxon_delivery_queue_depth %lld\n"
            "# HELP klaxon_siren_on Whether the siren is on.\n"
            "# TYPE klaxon_siren_on gauge\nklaxon_siren_on %lld\n",
            (long long)atomic_load(&queue_depth),
            (long long)atomic_load(&siren_on));
    fprintf(out, "# HELP klaxon_scan_last_time_seconds When the last "
            "integrity scan finished.\n"
            "# TYPE klaxon_scan_last_time_seconds gauge\n"
            "klaxon_scan_last_time_seconds %lld\n"
            "# TYPE klaxon_scan_last_files gauge\n"
            "klaxon_scan_last_files %lld\n"
            "# TYPE klaxon_scan_last_changes gauge\n"
            "klaxon_scan_last_changes %lld\n"
            "# HELP klaxon_scan_last_ok Whether the last scan completed.\n"
            "# TYPE klaxon_scan_last_ok gauge\nklaxon_scan_last_ok %lld\n",
            (long long)atomic_load(&scan_time),
            (long long)atomic_load(&scan_files),
            (long long)atomic_load(&scan_changes),
            (long long)atomic_load(&scan_ok));
}
