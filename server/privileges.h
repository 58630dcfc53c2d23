/*
 * Dropping root after the listen sockets are bound.
 */
#ifndef KLAXON_PRIVILEGES_H
#define KLAXON_PRIVILEGES_H

#include <stddef.h>

/*
 * When running as root and user is set, become that user (its groups
 * too) for good. Not root, or no user: nothing to do. 0, or -1 with err.
 */
int privileges_drop(const char *user, char *err, size_t errlen);

#endif
