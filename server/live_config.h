/*
 * The configuration in force, replaceable at run time (SIGHUP) while
 * requests that started under the old one finish with it.
 */
#ifndef KLAXON_LIVE_CONFIG_H
#define KLAXON_LIVE_CONFIG_H

#include "conf/config.h"

struct config_ref;

/* Take ownership of cfg (moved from) as the configuration in force. */
int live_config_init(struct config *cfg);

/* The configuration in force, held until live_config_release. */
const struct config *live_config_acquire(void);
void live_config_release(const struct config *cfg);

/* Replace the configuration in force with cfg (moved from). */
int live_config_replace(struct config *cfg);

/* Release the last reference at shutdown. */
void live_config_shutdown(void);

#endif
