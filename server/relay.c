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
    metrics_event(SOURCE_HASHGATE, ev->outcome == JOURNAL_QUEUED ?
                  OUTCOME_QUEUED : ev->outcome == JOURNAL_DUPLICATE ?
                  OUTCOME_DUPLICATE : ev->outcome == JOURNAL_IGNORED ?
                  OUTCOME_IGNORED : OUTCOME_UNAVAILABLE);
    scan_event_free(se);
}

void
relay_feed_scan_report(struct relay *relay, json_t *report)
{
    struct scan_event *se = calloc(1, sizeof *se);
    int64_t now = clock_now_ms();
    char reason[160];

    if (!se || !(se->body = json_dumps(report, JSON_COMPACT))) {
        log_error("scanner", "report dropped: out of memory");
        free(se);
        return;
    }
    se->relay = relay;
    se->cfg = live_config_acquire();
    alert_init(&se->alert, SOURCE_HASHGATE);
    if (handler_parse(SOURCE_HASHGATE, report, &se->alert, reason,
                      sizeof reason) != HANDLER_OK) {
        log_info("scanner", "report not raised: %s", reason);
        scan_event_free(se);
        return;
    }
    if (se->alert.time == 0)
        se->alert.time = (time_t)(now / 1000);
    if (alert_clip(&se->alert) < 0 ||
        rules_decide(se->cfg, &se->alert, (time_t)(now / 1000),
                     &se->decision) < 0) {
        log_error("scanner", "report dropped: out of memory");
        scan_event_free(se);
        return;
    }
    se->ev.alert = &se->alert;
    se->ev.decision = &se->decision;
    se->ev.body = se->body;
    se->ev.body_len = strlen(se->body);
    se->ev.content_type = "application/json";
    se->ev.received_ms = now;
    se->ev.deliver = se->cfg->pushover.token != NULL;
    se->ev.done = scan_event_done;
    se->ev.ctx = se;
    journal_submit(relay->journal, &se->ev);
}
