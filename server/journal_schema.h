/*
 * The journal's tables and the connection settings that make a commit
 * durable.
 */
#ifndef KLAXON_JOURNAL_SCHEMA_H
#define KLAXON_JOURNAL_SCHEMA_H

#include <sqlite3.h>
#include <stddef.h>

/* Set WAL + full sync and create missing tables. 0, or -1 with err. */
int journal_schema_apply(sqlite3 *db, char *err, size_t errlen);

#endif
