/*
 * Journal schema.
 *
 * events      every accepted payload: the audit trail
 * alerts      one row per (source, dedup key): current state
 * deliveries  one row per (state change, recipient, notifier): attempts,
 *             next attempt, outcome and the provider's answer
 *
 * WAL with synchronous=FULL makes each COMMIT fsync the log, which is
 * what lets a 2xx promise durability. The writer does not checkpoint on
 * commit (that would stall a batch); journal_open's caller runs
 * checkpoints from another connection. Tables carry only the indexes
 * that inbound events need: each index costs a page write per commit.
 * Alerts are found by (source, key) through the writer's in-memory
 * index (server/alert_index.c), not an SQLite one.
 */
#include "server/journal_schema.h"

#include <stdio.h>

static const char schema[] =
    "PRAGMA journal_mode = WAL;"
    "PRAGMA synchronous = FULL;"
    "PRAGMA journal_size_limit = 67108864;"
    "PRAGMA foreign_keys = OFF;"
    "CREATE TABLE IF NOT EXISTS meta ("
    "  name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    "INSERT OR IGNORE INTO meta VALUES ('schema', 1), ('probe', 0);"
    "CREATE TABLE IF NOT EXISTS events ("
    "  id INTEGER PRIMARY KEY,"
    "  received_ms INTEGER NOT NULL,"
    "  source TEXT NOT NULL,"
    "  dedup_key TEXT NOT NULL,"
    "  state TEXT NOT NULL,"
    "  outcome TEXT NOT NULL,"
    "  content_type TEXT,"
    "  body BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS alerts ("
    "  id INTEGER PRIMARY KEY,"
    "  source TEXT NOT NULL,"
    "  dedup_key TEXT NOT NULL,"
    "  state TEXT NOT NULL,"
    "  severity TEXT NOT NULL,"
    "  priority INTEGER NOT NULL,"
    "  siren INTEGER NOT NULL,"
    "  title TEXT, message TEXT, url TEXT,"
    "  recipients TEXT,"
    "  revision TEXT,"
    "  first_ms INTEGER NOT NULL,"
    "  updated_ms INTEGER NOT NULL,"
    "  last_event INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS deliveries ("
    "  id INTEGER PRIMARY KEY,"
    "  alert_id INTEGER NOT NULL,"
    "  event_id INTEGER NOT NULL,"
    "  person TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"              /* message, cancel */
    "  priority INTEGER NOT NULL,"
    "  title TEXT, message TEXT, url TEXT, url_title TEXT,"
    "  timestamp INTEGER,"
    "  receipt TEXT,"
    "  status TEXT NOT NULL,"            /* pending, sent, failed */
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_ms INTEGER NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  done_ms INTEGER,"
    "  answer TEXT);"
    "CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries(next_ms)"
    "  WHERE status = 'pending';"
    "CREATE INDEX IF NOT EXISTS deliveries_alert"
    "  ON deliveries(alert_id, person, id);";

int
journal_schema_apply(sqlite3 *db, char *err, size_t errlen)
{
    char *msg = NULL;

    sqlite3_busy_timeout(db, 5000);
    if (sqlite3_exec(db, schema, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -1;
    }
    /* Journals made before alerts had revisions. */
    if (sqlite3_exec(db, "SELECT revision FROM alerts LIMIT 0", NULL, NULL,
                     NULL) != SQLITE_OK &&
        sqlite3_exec(db, "ALTER TABLE alerts ADD COLUMN revision TEXT",
                     NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -1;
    }
    /* Checkpoints run outside the writer (see journal.c). */
    sqlite3_wal_autocheckpoint(db, 0);
    return 0;
}
