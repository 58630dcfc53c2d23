/*
 * The journal writer's in-memory index from (source, dedup key) to the
 * alert's row id.
 *
 * Dedup needs this lookup for every inbound event. Kept in SQLite, a
 * unique index on random keys costs a page write per event per commit;
 * kept here it costs 8 bytes per alert and no I/O. Entries hold a
 * 32-bit fingerprint of the key's hash and the row id; a fingerprint
 * match is only a candidate, which the caller verifies against the row
 * (so a collision can never merge two alerts). Hashes are keyed with a
 * random seed per process, so a sender cannot aim keys at one slot.
 * Single-threaded: the writer owns it.
 */
#ifndef KLAXON_ALERT_INDEX_H
#define KLAXON_ALERT_INDEX_H

#include <stdbool.h>
#include <stdint.h>

struct alert_index;

struct alert_index *alert_index_new(void);
void alert_index_free(struct alert_index *ix);

/* Forget everything (before a rebuild). */
void alert_index_clear(struct alert_index *ix);

/* The hash of (source, key) that the functions below take. */
uint64_t alert_index_hash(const struct alert_index *ix, int source,
                          const char *key);

/* Record row id under hash. 0, or -1 on ENOMEM or an id beyond 2^32. */
int alert_index_put(struct alert_index *ix, uint64_t hash, int64_t id);

/*
 * The row id stored under hash for which verify(id, arg) is true, or 0
 * when there is none. verify is called once per candidate.
 */
int64_t alert_index_find(const struct alert_index *ix, uint64_t hash,
                         bool (*verify)(int64_t id, void *arg), void *arg);

/* Number of entries. */
uint64_t alert_index_count(const struct alert_index *ix);

#endif
