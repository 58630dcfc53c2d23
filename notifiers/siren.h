/*
 * The siren and police light: a controller thread that owns the
 * configured hardware driver and decides when it is on.
 *
 * Alerts raise and clear their want by key; the siren is on while any
 * alert wants it, for at most the configured duration from the last
 * raise, until silenced (someone acknowledged) or until every alert
 * that wanted it is cleared (resolved), whichever comes first. It is
 * switched off when opened and when closed, so it is never left on
 * after klaxon exits. In quiet hours only the light runs.
 */
#ifndef KLAXON_SIREN_H
#define KLAXON_SIREN_H

#include <stdbool.h>
#include <stddef.h>

#include "conf/config.h"

struct siren;
struct siren_driver;

/*
 * Open the driver conf names (switching it off) and start the
 * controller. Driver "none" gives a siren that only keeps state.
 * NULL with the reason (naming the device) in err.
 */
struct siren *siren_open(const struct siren_conf *conf, char *err,
                         size_t errlen);

/* Alert key wants the siren: on now (unless silenced), off after
   duration seconds. A key silenced earlier stays silent until it is
   cleared. Never blocks on the hardware. Safe from any thread; s NULL
   is a no-op. */
void siren_raise(struct siren *s, const char *key);

/* Alert key no longer wants it; off when no other alert does. */
void siren_clear(struct siren *s, const char *key);

/* Someone acknowledged: off now, and every current want is dropped. */
void siren_silence(struct siren *s);

bool siren_is_on(struct siren *s);

/* Switch off, stop the controller, release the device. NULL is fine. */
void siren_close(struct siren *s);

/*
 * siren_open() with a driver already open (see siren_driver.h), which
 * the siren owns from here on, also when NULL is returned.
 */
struct siren *siren_open_driver(const struct siren_conf *conf,
                                struct siren_driver *driver, char *err,
                                size_t errlen);

/*
 * Wait until the hardware has been sent everything asked so far, with
 * the duration and quiet hours judged at the clock's current time. For
 * tests, and for callers that must know the siren is off.
 */
void siren_sync(struct siren *s);

#endif
