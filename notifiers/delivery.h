/*
 * The delivery loop: one thread that sends what the journal says is due
 * to Pushover, over one kept-alive connection, and writes each outcome
 * back through the journal. A restart resumes from the journal.
 */
#ifndef KLAXON_DELIVERY_H
#define KLAXON_DELIVERY_H

#include <stddef.h>

#include "server/journal.h"

struct delivery;

/* Start the loop on journal j. NULL with the reason in err. */
struct delivery *delivery_start(struct journal *j, char *err,
                                size_t errlen);

/* New deliveries were committed: look now rather than at the next
   timer. Safe from any thread. */
void delivery_wake(void *d);

/*
 * Stop after the transfers in flight finish or time out; their results
 * are queued to the journal. Safe with NULL.
 */
void delivery_stop(struct delivery *d);

/* Release d. Call after journal_close, which completes the results the
   loop queued. Safe with NULL. */
void delivery_free(struct delivery *d);

#endif
