/*
 * The HTTP server: libmicrohttpd on every configured listen address.
 */
#ifndef KLAXON_HTTP_H
#define KLAXON_HTTP_H

#include <stddef.h>

#include "conf/config.h"
#include "server/relay.h"

struct http_server;

/*
 * Bind every address of cfg->server.listen (before privileges are
 * dropped). Returns NULL with the reason, naming the address, in err.
 */
struct http_server *http_bind(const struct config *cfg, char *err,
                              size_t errlen);

/* Start serving on the bound sockets. 0, or -1 with err. */
int http_start(struct http_server *h, struct relay *relay,
               const struct config *cfg, char *err, size_t errlen);

/* How many listeners, and the bound address of listener i
   ("127.0.0.1:8080"). */
size_t http_listener_count(const struct http_server *h);
const char *http_listener_name(const struct http_server *h, size_t i);

/*
 * Stop accepting connections, let requests in progress finish (up to
 * grace_ms), then stop. Safe with NULL.
 */
void http_stop(struct http_server *h, int grace_ms);

#endif
