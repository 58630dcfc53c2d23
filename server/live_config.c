/*
 * Reference-counted configuration snapshots. A request acquires the
 * snapshot in force when it starts and releases it when it ends; a
 * reload swaps the pointer and the old snapshot is freed by whoever
 * releases it last.
 */
#include "server/live_config.h"

#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>

struct config_ref {
    struct config cfg;      /* first member: a config pointer is a ref */
    int refs;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct config_ref *current;

static struct config_ref *
ref_of(const struct config *cfg)
{
    return (struct config_ref *)((char *)cfg -
                                 offsetof(struct config_ref, cfg));
}

static void
drop(struct config_ref *r)
{
    if (--r->refs == 0) {
        config_free(&r->cfg);
        free(r);
    }
}

int
live_config_replace(struct config *cfg)
{
    struct config_ref *r = calloc(1, sizeof *r), *old;

    if (!r)
        return -1;
    r->cfg = *cfg;
    r->refs = 1;
    pthread_mutex_lock(&lock);
    old = current;
    current = r;
    if (old)
        drop(old);
    pthread_mutex_unlock(&lock);
    return 0;
}

int
live_config_init(struct config *cfg)
{
    return live_config_replace(cfg);
}

const struct config *
live_config_acquire(void)
{
    struct config_ref *r;

    pthread_mutex_lock(&lock);
    r = current;
    r->refs++;
    pthread_mutex_unlock(&lock);
    return &r->cfg;
}

void
live_config_release(const struct config *cfg)
{
    if (!cfg)
        return;
    pthread_mutex_lock(&lock);
    drop(ref_of(cfg));
    pthread_mutex_unlock(&lock);
}

void
live_config_shutdown(void)
{
    pthread_mutex_lock(&lock);
    if (current)
        drop(current);
    current = NULL;
    pthread_mutex_unlock(&lock);
}
