/*
 * The "none" siren driver: no hardware at all. The controller still
 * keeps its state, so the metrics and the status board show when a
 * siren would have sounded.
 */
#include <stdio.h>
#include <stdlib.h>

#include "notifiers/siren_driver.h"

static int
none_switch(struct siren_driver *d, int channel, char *err, size_t errlen)
{
    (void)d;
    (void)channel;
    (void)err;
    (void)errlen;
    return 0;
}

static void
none_close(struct siren_driver *d)
{
    free(d);
}

static const struct siren_driver_ops none_ops = {
    "none", none_switch, none_switch, none_close,
};

struct siren_driver *
siren_none_open(const struct siren_conf *conf, char *err, size_t errlen)
{
    struct siren_driver *d;

    (void)conf;
    if (!(d = calloc(1, sizeof *d))) {
        snprintf(err, errlen, "none: out of memory");
        return NULL;
    }
    d->ops = &none_ops;
    snprintf(d->what, sizeof d->what, "none");
    return d;
}
