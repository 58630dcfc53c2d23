/*
 * The walk's hashing pool: threads that SHA-256 regular files in large
 * blocks, and a bounded window that hands items back in the order they
 * went in. The window bounds memory: the walk waits when it is full.
 */
#ifndef KLAXON_SCANNER_POOL_H
#define KLAXON_SCANNER_POOL_H

#include "scanner/walk.h"

struct pool;

/*
 * Start threads (>= 1) hashing threads with room for window items.
 * Completed items go to emit, called only from pool_push() and
 * pool_drain(), i.e. on the caller's thread. NULL when out of resources.
 */
struct pool *pool_new(int threads, size_t window, walk_emit emit, void *arg,
                      struct walk_stats *stats);

/*
 * Hand it over (the pool frees it after emitting). Items that need no
 * hashing are emitted in turn too. Returns 0, or the first non-zero
 * value emit returned (the item is then still taken).
 */
int pool_push(struct pool *p, struct walk_item *it);

/* Wait for every item handed over and emit it. Same return as push. */
int pool_drain(struct pool *p);

/* Stop the threads and free whatever was not emitted. */
void pool_free(struct pool *p);

#endif
