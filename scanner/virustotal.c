/*
 * VirusTotal v3 lookups. Every row the lookups keep (queue, verdicts,
 * limiter state, reports waiting for verdicts) is signed with the
 * baseline key; a row that fails its signature is ignored, so nobody
 * can plant a clean verdict for a malicious hash. The limiter state is
 * saved before each request, so a crash never spends a lookup twice.
 */
#include "scanner/virustotal.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/clock.h"
#include "server/log.h"

#define VT_BODY_MAX (2 * 1024 * 1024)
#define VT_MAX_ATTEMPTS 5
#define VT_RETRY_MS (60 * 1000)
#define VT_BACKOFF_MS (60 * 1000)
#define VT_FOUND_TTL_MS (7LL * 86400 * 1000)
#define VT_UNKNOWN_TTL_MS (86400LL * 1000)
#define DAY_MS (86400LL * 1000)

struct vt_client {
    struct virustotal_conf conf;
    CURL *curl;
    bool stopped;
};

struct verdict {
    bool found;
    int64_t malicious, suspicious, undetected, harmless;
    int64_t checked_at;
};

struct limiter {
    int64_t tat;            /* see limiter_load() */
    int64_t day;
    int64_t day_count;
    int64_t backoff_until;
};

/* --- signed rows ----------------------------------------------------- */

static bool
row_ok(struct baseline *b, const char *msg, sqlite3_stmt *st, int col)
{
    return baseline_verify(b, msg, strlen(msg), sqlite3_column_blob(st, col),
                           sqlite3_column_bytes(st, col));
}

static int
run_stmt(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);

    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static void
state_msg(char *buf, size_t len, const char *name, int64_t value)
{
    snprintf(buf, len, "vt_state|%s|%lld", name, (long long)value);
}

static int64_t
state_get(struct baseline *b, const char *name, int64_t dflt)
{
    sqlite3_stmt *st;
    char msg[128];
    int64_t v = dflt;

    if (sqlite3_prepare_v2(baseline_db(b), "SELECT value, mac FROM vt_state"
                           " WHERE name = ?1", -1, &st, NULL) != SQLITE_OK)
        return dflt;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        state_msg(msg, sizeof msg, name, sqlite3_column_int64(st, 0));
        if (row_ok(b, msg, st, 1))
            v = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return v;
}

static int
state_set(struct baseline *b, const char *name, int64_t value)
{
    unsigned char mac[BASELINE_MAC_LEN];
    sqlite3_stmt *st;
    char msg[128];

    state_msg(msg, sizeof msg, name, value);
    baseline_sign(b, msg, strlen(msg), mac);
    if (sqlite3_prepare_v2(baseline_db(b), "INSERT OR REPLACE INTO vt_state"
                           " VALUES (?1, ?2, ?3)", -1, &st, NULL) !=
        SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, value);
    sqlite3_bind_blob(st, 3, mac, sizeof mac, SQLITE_STATIC);
    return run_stmt(st);
}

static void
verdict_msg(char *buf, size_t len, const char *hash, const struct verdict *v)
{
    snprintf(buf, len, "vt_verdict|%s|%d|%lld|%lld|%lld|%lld|%lld", hash,
             v->found, (long long)v->malicious, (long long)v->suspicious,
             (long long)v->undetected, (long long)v->harmless,
             (long long)v->checked_at);
}

/* The cached verdict for hash, if it is signed and still fresh. */
static bool
verdict_get(struct baseline *b, const char *hash, struct verdict *v)
{
    sqlite3_stmt *st;
    char msg[256];
    bool ok = false;

    if (sqlite3_prepare_v2(baseline_db(b), "SELECT found, malicious, "
                           "suspicious, undetected, harmless, checked_at, "
                           "mac FROM vt_verdict WHERE sha256 = ?1", -1, &st,
                           NULL) != SQLITE_OK)
        return false;
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        v->found = sqlite3_column_int(st, 0) != 0;
        v->malicious = sqlite3_column_int64(st, 1);
        v->suspicious = sqlite3_column_int64(st, 2);
        v->undetected = sqlite3_column_int64(st, 3);
        v->harmless = sqlite3_column_int64(st, 4);
        v->checked_at = sqlite3_column_int64(st, 5);
        verdict_msg(msg, sizeof msg, hash, v);
        ok = row_ok(b, msg, st, 6) && clock_now_ms() - v->checked_at <
             (v->found ? VT_FOUND_TTL_MS : VT_UNKNOWN_TTL_MS);
    }
    sqlite3_finalize(st);
    return ok;
}

static int
verdict_put(struct baseline *b, const char *hash, const struct verdict *v)
{
    unsigned char mac[BASELINE_MAC_LEN];
    sqlite3_stmt *st;
    char msg[256];

    verdict_msg(msg, sizeof msg, hash, v);
    baseline_sign(b, msg, strlen(msg), mac);
    if (sqlite3_prepare_v2(baseline_db(b), "INSERT OR REPLACE INTO "
                           "vt_verdict VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
                           "?8)", -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, v->found);
    sqlite3_bind_int64(st, 3, v->malicious);
    sqlite3_bind_int64(st, 4, v->suspicious);
    sqlite3_bind_int64(st, 5, v->undetected);
    sqlite3_bind_int64(st, 6, v->harmless);
    sqlite3_bind_int64(st, 7, v->checked_at);
    sqlite3_bind_blob(st, 8, mac, sizeof mac, SQLITE_STATIC);
    return run_stmt(st);
}

static void
queue_msg(char *buf, size_t len, const char *hash, int64_t enqueued,
          int64_t attempts, int64_t next_try)
{
    snprintf(buf, len, "vt_queue|%s|%lld|%lld|%lld", hash,
             (long long)enqueued, (long long)attempts, (long long)next_try);
}

static int
queue_put(struct baseline *b, const char *hash, int64_t enqueued,
          int64_t attempts, int64_t next_try, bool replace)
{
    unsigned char mac[BASELINE_MAC_LEN];
    sqlite3_stmt *st;
    char msg[256];

    queue_msg(msg, sizeof msg, hash, enqueued, attempts, next_try);
    baseline_sign(b, msg, strlen(msg), mac);
    if (sqlite3_prepare_v2(baseline_db(b), replace ?
                           "INSERT OR REPLACE INTO vt_queue VALUES "
                           "(?1, ?2, ?3, ?4, ?5)" :
                           "INSERT OR IGNORE INTO vt_queue VALUES "
                           "(?1, ?2, ?3, ?4, ?5)", -1, &st, NULL) !=
        SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, enqueued);
    sqlite3_bind_int64(st, 3, attempts);
    sqlite3_bind_int64(st, 4, next_try);
    sqlite3_bind_blob(st, 5, mac, sizeof mac, SQLITE_STATIC);
    return run_stmt(st);
}

static int
queue_drop(struct baseline *b, const char *hash)
{
    sqlite3_stmt *st;

    if (sqlite3_prepare_v2(baseline_db(b), "DELETE FROM vt_queue WHERE "
                           "sha256 = ?1", -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    return run_stmt(st);
}

static bool
queue_has(struct baseline *b, const char *hash)
{
    sqlite3_stmt *st;
    bool found;

    if (sqlite3_prepare_v2(baseline_db(b), "SELECT 1 FROM vt_queue WHERE "
                           "sha256 = ?1", -1, &st, NULL) != SQLITE_OK)
        return false;
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return found;
}

int
vt_queued(struct baseline *b)
{
    sqlite3_stmt *st;
    int n = -1;

    if (sqlite3_prepare_v2(baseline_db(b), "SELECT count(*) FROM vt_queue",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* --- reports waiting for verdicts ------------------------------------ */

static char *
report_msg(const char *roots, const char *json)
{
    char *msg;

    return asprintf(&msg, "vt_report|%s|%s", roots, json) < 0 ? NULL : msg;
}

static int
report_save(struct baseline *b, const char *roots, const json_t *report)
{
    unsigned char mac[BASELINE_MAC_LEN];
    char *json = json_dumps(report, JSON_COMPACT), *msg = NULL;
    sqlite3_stmt *st = NULL;
    int rc = -1;

    if (!json || !(msg = report_msg(roots, json)))
        goto done;
    baseline_sign(b, msg, strlen(msg), mac);
    if (sqlite3_prepare_v2(baseline_db(b), "INSERT OR REPLACE INTO "
                           "vt_report VALUES (?1, ?2, ?3)", -1, &st, NULL) !=
        SQLITE_OK)
        goto done;
    sqlite3_bind_text(st, 1, roots, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, json, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, mac, sizeof mac, SQLITE_STATIC);
    rc = run_stmt(st);

done:
    free(json);
    free(msg);
    return rc;
}

static int
report_drop(struct baseline *b, const char *roots)
{
    sqlite3_stmt *st;

    if (sqlite3_prepare_v2(baseline_db(b), "DELETE FROM vt_report WHERE "
                           "roots = ?1", -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, roots, -1, SQLITE_STATIC);
    return run_stmt(st);
}

/* Whether change c is a regular file whose new hash is worth a lookup. */
static const char *
lookup_hash(const json_t *c)
{
    const char *kind = json_string_value(json_object_get(c, "change"));

    if (!kind || (strcmp(kind, "added") && strcmp(kind, "modified")) ||
        json_object_get(c, "type") ||
        json_integer_value(json_object_get(c, "size")) <= 0)
        return NULL;
    return json_string_value(json_object_get(c, "sha256"));
}

static json_t *
verdict_json(const struct verdict *v)
{
    if (!v->found)
        return json_pack("{s:b}", "found", 0);
    return json_pack("{s:I, s:I, s:I, s:I, s:b}",
                     "malicious", (json_int_t)v->malicious,
                     "suspicious", (json_int_t)v->suspicious,
                     "undetected", (json_int_t)v->undetected,
                     "harmless", (json_int_t)v->harmless, "found", 1);
}

int
vt_note_report(struct baseline *b, json_t *report)
{
    struct verdict v;
    const char *hash;
    char *roots;
    int64_t now = clock_now_ms();
    size_t i;
    json_t *c;
    int queued = 0;

    json_array_foreach(json_object_get(report, "changes"), i, c) {
        if (!(hash = lookup_hash(c)))
            continue;
        if (verdict_get(b, hash, &v)) {
            json_object_set_new(c, "virustotal", verdict_json(&v));
            continue;
        }
        if (queue_put(b, hash, now, 0, now, false) < 0)
            return -1;
        queued++;
    }
    if (queued == 0)
        return 0;
    if (!(roots = json_dumps(json_object_get(report, "roots"),
                             JSON_COMPACT)))
        return -1;
    if (report_save(b, roots, report) < 0)
        queued = -1;
    free(roots);
    return queued;
}

/* Whether any lookup-worthy change of report is still queued. */
static bool
report_waiting(struct baseline *b, const json_t *report)
{
    const char *hash;
    size_t i;
    json_t *c;

    json_array_foreach(json_object_get(report, "changes"), i, c) {
        if ((hash = lookup_hash(c)) && !json_object_get(c, "virustotal") &&
            queue_has(b, hash))
            return true;
    }
    return false;
}

/* Put the verdict for hash into report; true when anything changed. */
static bool
report_apply(json_t *report, const char *hash, const struct verdict *v)
{
    const char *h;
    bool changed = false;
    size_t i;
    json_t *c;

    json_array_foreach(json_object_get(report, "changes"), i, c) {
        if ((h = lookup_hash(c)) && strcmp(h, hash) == 0) {
            json_object_set_new(c, "virustotal", verdict_json(v));
            changed = true;
        }
    }
    return changed;
}

/*
 * Apply a new verdict to the kept reports; *updated gets a report that
 * should be sent again.
 */
static void
reports_update(struct baseline *b, const char *hash, const struct verdict *v,
               json_t **updated)
{
    json_t *kept = json_object(), *report;
    const char *roots, *json;
    sqlite3_stmt *st;
    char *msg;

    if (!kept || sqlite3_prepare_v2(baseline_db(b), "SELECT roots, json, "
                                    "mac FROM vt_report", -1, &st, NULL) !=
        SQLITE_OK) {
        json_decref(kept);
        return;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        roots = (const char *)sqlite3_column_text(st, 0);
        json = (const char *)sqlite3_column_text(st, 1);
        if (!roots || !json || !(msg = report_msg(roots, json)))
            continue;
        if (row_ok(b, msg, st, 2) && (report = json_loads(json, 0, NULL)))
            json_object_set_new(kept, roots, report);
        free(msg);
    }
    sqlite3_finalize(st);
    json_object_foreach(kept, roots, report) {
        if (!report_apply(report, hash, v))
            continue;
        if (!report_waiting(b, report))
            report_drop(b, roots);
        else
            report_save(b, roots, report);
        if (!*updated && (v->malicious > 0 || v->suspicious > 0 ||
                          !report_waiting(b, report)))
            *updated = json_incref(report);
    }
    json_decref(kept);
}

/* --- the client ------------------------------------------------------ */

struct vt_client *
vt_client_new(const struct virustotal_conf *conf)
{
    struct vt_client *c = calloc(1, sizeof *c);

    if (!c)
        return NULL;
    c->conf = *conf;
    c->conf.api_key = conf->api_key ? strdup(conf->api_key) : NULL;
    c->conf.api_url = strdup(conf->api_url ? conf->api_url :
                             "https://www.virustotal.com/api/v3");
    if (c->conf.per_minute <= 0)
        c->conf.per_minute = VT_DEFAULT_PER_MINUTE;
    if (c->conf.per_day <= 0)
        c->conf.per_day = VT_DEFAULT_PER_DAY;
    c->curl = curl_easy_init();
    if (!c->conf.api_url || !c->curl ||
        (conf->api_key && !c->conf.api_key)) {
        vt_client_free(c);
        return NULL;
    }
    return c;
}

void
vt_client_free(struct vt_client *c)
{
    if (!c)
        return;
    curl_easy_cleanup(c->curl);
    free(c->conf.api_key);
    free(c->conf.api_url);
    free(c);
}

struct answer {
    char *body;
    size_t len;
    long retry_after;       /* seconds; 0: none given */
    const atomic_bool *cancel;
};

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
    struct answer *a = arg;
    size_t len = size * n;
    char *grown;

    if (a->len + len > VT_BODY_MAX ||
        !(grown = realloc(a->body, a->len + len + 1)))
        return 0;
    a->body = grown;
    memcpy(a->body + a->len, data, len);
    a->len += len;
    a->body[a->len] = '\0';
    return len;
}

static size_t
on_header(char *data, size_t size, size_t n, void *arg)
{
    struct answer *a = arg;
    size_t len = size * n;

    if (len > 12 && strncasecmp(data, "retry-after:", 12) == 0)
        a->retry_after = strtol(data + 12, NULL, 10);
    return len;
}

static int
on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut,
            curl_off_t un)
{
    struct answer *a = arg;

    (void)dt, (void)dn, (void)ut, (void)un;
    return a->cancel && atomic_load(a->cancel);
}

/* GET the file report for hash: the HTTP status, or -1 (no answer). */
static long
fetch(struct vt_client *c, const char *hash, struct answer *a)
{
    struct curl_slist *headers = NULL;
    char url[1024], key[512];
    long status = -1;
    CURL *h = c->curl;

    snprintf(url, sizeof url, "%s/files/%s", c->conf.api_url, hash);
    snprintf(key, sizeof key, "x-apikey: %s", c->conf.api_key);
    headers = curl_slist_append(headers, key);
    headers = curl_slist_append(headers, "Accept: application/json");
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, a);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, a);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    explicit_bzero(key, sizeof key);
    return status;
}

static bool
get_count(const json_t *stats, const char *name, int64_t *out)
{
    const json_t *v = json_object_get(stats, name);

    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return false;
    *out = json_integer_value(v);
    return true;
}

/* The verdict in a 200 answer; false when it is not a file report. */
static bool
parse_verdict(const struct answer *a, struct verdict *v)
{
    json_t *doc = a->body ? json_loadb(a->body, a->len, 0, NULL) : NULL;
    const json_t *stats;
    bool ok;

    stats = json_object_get(json_object_get(json_object_get(doc, "data"),
                                            "attributes"),
                            "last_analysis_stats");
    ok = get_count(stats, "malicious", &v->malicious) &&
         get_count(stats, "suspicious", &v->suspicious) &&
         get_count(stats, "undetected", &v->undetected);
    if (ok && !get_count(stats, "harmless", &v->harmless))
        v->harmless = 0;
    v->found = true;
    json_decref(doc);
    return ok;
}

/*
 * The limiter is a token bucket written as a theoretical arrival time
 * (GCRA): tat counts in units of ms * per_minute, so one lookup costs
 * exactly 60000 units whatever the rate and no rounding creeps in.
 */
#define LOOKUP_COST 60000

static void
limiter_load(struct baseline *b, struct limiter *l, int per_minute,
             int64_t now)
{
    int64_t now_u = now * per_minute;

    l->tat = state_get(b, "tat", now_u);
    l->day = state_get(b, "day", now / DAY_MS);
    l->day_count = state_get(b, "day_count", 0);
    l->backoff_until = state_get(b, "backoff_until", 0);
    /* A rate lowered since, or a row from the future: at most a full
       bucket's wait. */
    if (l->tat > now_u + (int64_t)per_minute * LOOKUP_COST)
        l->tat = now_u + (int64_t)per_minute * LOOKUP_COST;
    if (l->day != now / DAY_MS) {
        l->day = now / DAY_MS;
        l->day_count = 0;
    }
}

static int
limiter_save(struct baseline *b, const struct limiter *l)
{
    return state_set(b, "tat", l->tat) |
           state_set(b, "day", l->day) |
           state_set(b, "day_count", l->day_count) |
           state_set(b, "backoff_until", l->backoff_until);
}

/* How long until a lookup is allowed; 0: now. */
static int64_t
limiter_wait(const struct limiter *l, const struct virustotal_conf *conf,
             int64_t now)
{
    int64_t burst = (int64_t)(conf->per_minute - 1) * LOOKUP_COST;
    int64_t early = l->tat - burst - now * conf->per_minute;

    if (l->backoff_until > now)
        return l->backoff_until - now;
    if (l->day_count >= conf->per_day)
        return (l->day + 1) * DAY_MS - now;
    if (early > 0)
        return (early + conf->per_minute - 1) / conf->per_minute;
    return 0;
}

/* Spend one lookup at now. */
static void
limiter_take(struct limiter *l, int per_minute, int64_t now)
{
    int64_t now_u = now * per_minute;

    l->tat = (l->tat > now_u ? l->tat : now_u) + LOOKUP_COST;
    l->day_count++;
}

/* Spend the whole bucket: after a 429 nothing is left. */
static void
limiter_empty(struct limiter *l, int per_minute, int64_t now)
{
    l->tat = (now * per_minute) + (int64_t)per_minute * LOOKUP_COST;
}

/*
 * The first queued hash due by now, in hash (65 bytes); 1 found, 0 none
 * due (*wait_ms: until the next one, -1 for an empty queue). Forged rows
 * are dropped.
 */
static int
queue_next(struct baseline *b, int64_t now, char *hash, int64_t *attempts,
           int64_t *enqueued, int64_t *wait_ms)
{
    sqlite3_stmt *st;
    char msg[256], bad[65] = "";
    int found = 0;

    *wait_ms = -1;
    if (sqlite3_prepare_v2(baseline_db(b), "SELECT sha256, enqueued_at, "
                           "attempts, next_try, mac FROM vt_queue ORDER BY "
                           "next_try, enqueued_at", -1, &st, NULL) !=
        SQLITE_OK)
        return 0;
    while (!found && sqlite3_step(st) == SQLITE_ROW) {
        snprintf(hash, 65, "%s", (const char *)sqlite3_column_text(st, 0));
        queue_msg(msg, sizeof msg, hash, sqlite3_column_int64(st, 1),
                  sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3));
        if (!row_ok(b, msg, st, 4)) {
            snprintf(bad, sizeof bad, "%s", hash);
            continue;
        }
        if (sqlite3_column_int64(st, 3) > now) {
            *wait_ms = sqlite3_column_int64(st, 3) - now;
            break;
        }
        *enqueued = sqlite3_column_int64(st, 1);
        *attempts = sqlite3_column_int64(st, 2);
        found = 1;
    }
    sqlite3_finalize(st);
    if (*bad) {
        log_warn("virustotal", "queue entry %.16s: bad signature, dropped",
                 bad);
        queue_drop(b, bad);
    }
    return found;
}

/* A lookup that failed for now: try again later, or give up. */
static void
retry_later(struct baseline *b, const char *hash, int64_t enqueued,
            int64_t attempts, const char *why)
{
    int64_t now = clock_now_ms(), delay = VT_RETRY_MS;

    if (++attempts >= VT_MAX_ATTEMPTS) {
        log_warn("virustotal", "lookup of %s: %s; giving up after %d "
                 "attempts", hash, why, VT_MAX_ATTEMPTS);
        queue_drop(b, hash);
        return;
    }
    delay <<= attempts;
    log_warn("virustotal", "lookup of %s: %s; retrying in %lld s", hash, why,
             (long long)(delay / 1000));
    queue_put(b, hash, enqueued, attempts, now + delay, true);
}

static void
record(struct baseline *b, const char *hash, struct verdict *v,
       json_t **updated)
{
    v->checked_at = clock_now_ms();
    verdict_put(b, hash, v);
    queue_drop(b, hash);
    reports_update(b, hash, v, updated);
}

/* Act on the answer to one lookup. */
static enum vt_status
handle(struct vt_client *c, struct baseline *b, const char *hash,
       int64_t enqueued, int64_t attempts, long status,
       const struct answer *a, struct limiter *l, json_t **updated)
{
    struct verdict v = { 0 };
    char why[64];

    if (status == 200 && parse_verdict(a, &v)) {
        log_info("virustotal", "file %s: %lld malicious, %lld suspicious",
                 hash, (long long)v.malicious, (long long)v.suspicious);
        record(b, hash, &v, updated);
    } else if (status == 404) {
        log_info("virustotal", "file %s: unknown to virustotal", hash);
        record(b, hash, &v, updated);
    } else if (status == 429) {
        l->backoff_until = clock_now_ms() +
            (a->retry_after > 0 ? a->retry_after * 1000 : VT_BACKOFF_MS);
        limiter_empty(l, c->conf.per_minute, clock_now_ms());
        limiter_save(b, l);
        log_warn("virustotal", "rate limited (429): pausing lookups for "
                 "%lld s", (long long)((l->backoff_until - clock_now_ms()) /
                                      1000));
    } else if (status == 401 || status == 403) {
        log_error("virustotal", "api key refused (HTTP %ld): lookups "
                  "stopped; %d hashes stay queued", status, vt_queued(b));
        c->stopped = true;
        return VT_STOPPED;
    } else {
        if (status == 200)
            snprintf(why, sizeof why, "answer is not a file report");
        else if (status < 0)
            snprintf(why, sizeof why, "no answer");
        else
            snprintf(why, sizeof why, "HTTP %ld", status);
        retry_later(b, hash, enqueued, attempts, why);
    }
    return VT_LOOKED_UP;
}

enum vt_status
vt_step(struct vt_client *c, struct baseline *b, json_t **updated,
        int64_t *wait_ms, const atomic_bool *cancel)
{
    struct answer a = { .cancel = cancel };
    int64_t now = clock_now_ms(), attempts = 0, enqueued = 0, wait;
    struct limiter l;
    char hash[65];
    enum vt_status rc;
    long status;

    *updated = NULL;
    *wait_ms = -1;
    if (c->stopped || !c->conf.api_key)
        return VT_STOPPED;
    if (!queue_next(b, now, hash, &attempts, &enqueued, wait_ms))
        return VT_IDLE;
    limiter_load(b, &l, c->conf.per_minute, now);
    if ((wait = limiter_wait(&l, &c->conf, now)) > 0) {
        *wait_ms = wait;
        return VT_WAIT;
    }
    limiter_take(&l, c->conf.per_minute, now);
    if (limiter_save(b, &l) < 0)
        return VT_WAIT;
    status = fetch(c, hash, &a);
    if (cancel && atomic_load(cancel)) {
        free(a.body);
        return VT_IDLE;
    }
    rc = handle(c, b, hash, enqueued, attempts, status, &a, &l, updated);
    free(a.body);
    *wait_ms = 0;
    return rc;
}
