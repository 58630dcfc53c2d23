/*
 * Read-side endpoints: health, metrics, the alert list and the board.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/board.h"
#include "server/clock.h"
#include "server/journal.h"
#include "server/metrics.h"
#include "server/request.h"

enum MHD_Result
api_healthz(struct request *r)
{
    if (!journal_writable(r->relay->journal))
        return request_respond_json(r, MHD_HTTP_SERVICE_UNAVAILABLE,
                                    json_pack("{ss ss}", "status", "failing",
                                              "reason", "journal is not "
                                              "writable"));
    return request_respond_json(r, MHD_HTTP_OK,
                                json_pack("{ss}", "status", "ok"));
}

enum MHD_Result
api_metrics(struct request *r)
{
    enum MHD_Result ret;
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);

    if (!out)
        return request_respond_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR,
                                     "out of memory");
    metrics_write(out);
    fclose(out);
    ret = request_respond(r, MHD_HTTP_OK,
                          "text/plain; version=0.0.4; charset=utf-8", text,
                          len);
    free(text);
    return ret;
}

/* Open alerts, then the last day's others, newest first. */
static const char alerts_sql[] =
    "SELECT a.id, a.source, a.dedup_key, a.state, a.severity, a.priority,"
    " a.siren, a.title, a.message, a.url, a.recipients, a.updated_ms,"
    " (SELECT count(*) FROM deliveries d WHERE d.alert_id = a.id"
    "  AND d.status = 'pending'),"
    " (SELECT count(*) FROM deliveries d WHERE d.alert_id = a.id"
    "  AND d.status = 'sent'),"
    " (SELECT count(*) FROM deliveries d WHERE d.alert_id = a.id"
    "  AND d.status = 'failed')"
    " FROM alerts a WHERE a.state IN ('firing', 'acknowledged')"
    " OR a.updated_ms >= ?1"
    " ORDER BY a.state NOT IN ('firing', 'acknowledged'), a.updated_ms DESC"
    " LIMIT 500";

static json_t *
text_or_null(sqlite3_stmt *s, int col)
{
    const char *t = (const char *)sqlite3_column_text(s, col);

    return t ? json_string(t) : json_null();
}

static json_t *
alert_row(sqlite3_stmt *s)
{
    const char *list = (const char *)sqlite3_column_text(s, 10);
    json_t *recipients = list ? json_loads(list, 0, NULL) : NULL;

    return json_pack("{sI so so so so si sb so so so so sI s{sI sI sI}}",
        "id", (json_int_t)sqlite3_column_int64(s, 0),
        "source", text_or_null(s, 1),
        "key", text_or_null(s, 2),
        "state", text_or_null(s, 3),
        "severity", text_or_null(s, 4),
        "priority", sqlite3_column_int(s, 5),
        "siren", sqlite3_column_int(s, 6),
        "title", text_or_null(s, 7),
        "message", text_or_null(s, 8),
        "url", text_or_null(s, 9),
        "recipients", recipients ? recipients : json_array(),
        "updated_ms", (json_int_t)sqlite3_column_int64(s, 11),
        "deliveries",
        "pending", (json_int_t)sqlite3_column_int64(s, 12),
        "sent", (json_int_t)sqlite3_column_int64(s, 13),
        "failed", (json_int_t)sqlite3_column_int64(s, 14));
}

json_t *
api_alert_list(struct relay *relay, char *err, size_t errlen)
{
    json_t *list = json_array(), *row;
    sqlite3_stmt *s = NULL;
    int rc;

    pthread_mutex_lock(&relay->reader_lock);
    rc = sqlite3_prepare_v2(relay->reader, alerts_sql, -1, &s, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(s, 1, clock_now_ms() - 86400 * 1000LL);
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
            if ((row = alert_row(s)))
                json_array_append_new(list, row);
        }
    }
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(relay->reader));
        json_decref(list);
        list = NULL;
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&relay->reader_lock);
    return list;
}

enum MHD_Result
api_alerts(struct request *r)
{
    char err[160];
    json_t *list = api_alert_list(r->relay, err, sizeof err);

    if (!list)
        return request_respond_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
                                     "journal cannot be read: %s", err);
    return request_respond_json(r, MHD_HTTP_OK,
                                json_pack("{so sb}", "alerts", list,
                                          "delivery",
                                          r->cfg->pushover.token != NULL));
}

enum MHD_Result
api_board(struct request *r)
{
    char err[160], *html;
    json_t *list = api_alert_list(r->relay, err, sizeof err);
    enum MHD_Result ret;

    if (!list)
        return request_respond_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
                                     "journal cannot be read: %s", err);
    html = board_render(list, r->cfg->pushover.token != NULL);
    json_decref(list);
    if (!html)
        return request_respond_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR,
                                     "out of memory");
    ret = request_respond(r, MHD_HTTP_OK, "text/html; charset=utf-8", html,
                          strlen(html));
    free(html);
    return ret;
}
