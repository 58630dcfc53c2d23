/*
 * Listen addresses as written in the config: "HOST:PORT", "[V6]:PORT"
 * or "*:PORT". "[::]" and "*" accept both IPv4 and IPv6.
 */
#ifndef KLAXON_LISTEN_H
#define KLAXON_LISTEN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct listen_addr {
    struct sockaddr_storage sa;
    socklen_t len;
    bool dual_stack;        /* an IPv6 socket that takes IPv4 too */
};

/* Parse spec; on error returns -1 with a lowercase reason in err. */
int listen_parse(const char *spec, struct listen_addr *out, char *err,
                 size_t errlen);

/*
 * Create, bind and listen on a non-blocking TCP socket for a. Returns
 * the descriptor, or -1 with the reason in err.
 */
int listen_open(const struct listen_addr *a, char *err, size_t errlen);

/* "127.0.0.1:8080" or "[::1]:8080" for the socket's bound address. */
void listen_describe(int fd, char *buf, size_t len);

#endif
