/*
 * What happens around the pipeline for every committed event, whether
 * it came over HTTP or from the built-in scanner.
 */
#include "server/relay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers/handler.h"
#include "notifiers/siren.h"
#include "server/clock.h"
#include "server/journal.h"
#include "server/live_config.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/pipeline.h"
#include "server/rules.h"

void
relay_event_committed(struct relay *relay, const struct journal_event *ev)
{
    char key[300];

    if (ev->outcome != JOURNAL_QUEUED || !relay->siren)
        return;
    snprintf(key, sizeof key, "%s:%s", source_name(ev->alert->source),
             ev->alert->key);
    if (ev->alert->state == ALERT_FIRING && ev->decision->siren)
        siren_raise(relay->siren, key);
    else if (ev->alert->state == ALERT_RESOLVED ||
             ev->alert->state == ALERT_ACKNOWLEDGED)
        siren_clear(relay->siren, key);
}

int
relay_prepare(const struct config *cfg, const json_t *payload,
              struct alert *alert, struct decision *d,
              struct journal_event *ev, char *reason, size_t reasonlen)
{
    int64_t now = clock_now_ms();
    enum handler_status hs;

    hs = handler_parse(alert->source, payload, alert, reason, reasonlen);
    if (hs != HANDLER_OK)
        return (int)hs;
    if (alert->time == 0)
        alert->time = (time_t)(now / 1000);
    if (alert_clip(alert) < 0 ||
        rules_decide(cfg, alert, (time_t)(now / 1000), d) < 0) {
        snprintf(reason, reasonlen, "out of memory");
        return -1;
    }
    ev->alert = alert;
    ev->decision = d;
    ev->received_ms = now;
    ev->deliver = cfg->pushover.token != NULL;
    return HANDLER_OK;
}

enum metric_outcome
relay_outcome_metric(enum journal_outcome outcome)
{
    switch (outcome) {
    case JOURNAL_QUEUED: return OUTCOME_QUEUED;
    case JOURNAL_DUPLICATE: return OUTCOME_DUPLICATE;
    case JOURNAL_IGNORED: return OUTCOME_IGNORED;
    default: return OUTCOME_UNAVAILABLE;
    }
}

/* A scanner event in flight: everything the journal needs until done. */
struct scan_event {
    struct relay *relay;
    const struct config *cfg;
    struct alert alert;
    struct decision decision;
    struct journal_event ev;
    char *body;
};

static void
scan_event_free(struct scan_event *se)
{
    alert_free(&se->alert);
    decision_free(&se->decision);
    live_config_release(se->cfg);
    free(se->body);
    free(se);
}

static void
scan_event_done(struct journal_event *ev)
{
    struct scan_event *se = ev->ctx;

    relay_event_committed(se->relay, ev);
    pipeline_log_event(ev);
    metrics_event(SOURCE_HASHGATE, relay_outcome_metric(ev->outcome));
    scan_event_free(se);
}

void
relay_feed_scan_report(struct relay *relay, json_t *report)
{
    struct scan_event *se = calloc(1, sizeof *se);
    char reason[160];
    int rc;

    if (!se || !(se->body = json_dumps(report, JSON_COMPACT))) {
        log_error("scanner", "report dropped: out of memory");
        free(se);
        return;
    }
    se->relay = relay;
    se->cfg = live_config_acquire();
    alert_init(&se->alert, SOURCE_HASHGATE);
    rc = relay_prepare(se->cfg, report, &se->alert, &se->decision, &se->ev,
                       reason, sizeof reason);
    if (rc != HANDLER_OK) {
        if (rc < 0)
            log_error("scanner", "report dropped: %s", reason);
        else
            log_info("scanner", "report not raised: %s", reason);
        scan_event_free(se);
        return;
    }
    se->ev.body = se->body;
    se->ev.body_len = strlen(se->body);
    se->ev.content_type = "application/json";
    se->ev.done = scan_event_done;
    se->ev.ctx = se;
    journal_submit(relay->journal, &se->ev);
}
