/*
 * Listen addresses: parsing, binding, and naming the bound socket.
 */
#include "server/listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Split "host:port" / "[v6]:port" into its parts. */
static int
split_spec(const char *spec, char *host, size_t hostlen, const char **port)
{
    const char *colon;
    size_t n;

    if (spec[0] == '[') {
        const char *close = strchr(spec, ']');

        if (!close || close[1] != ':')
            return -1;
        n = close - spec - 1;
        *port = close + 2;
        spec++;
    } else {
        if (!(colon = strrchr(spec, ':')) || memchr(spec, ':', colon - spec))
            return -1;
        n = colon - spec;
        *port = colon + 1;
    }
    if (n == 0 || n >= hostlen)
        return -1;
    memcpy(host, spec, n);
    host[n] = '\0';
    return 0;
}

int
listen_parse(const char *spec, struct listen_addr *out, char *err,
             size_t errlen)
{
    struct addrinfo hints = { 0 }, *res = NULL;
    char host[256];
    const char *port, *end;
    long portnum;
    int rc;

    memset(out, 0, sizeof *out);
    if (split_spec(spec, host, sizeof host, &port) < 0) {
        snprintf(err, errlen, "listen address must be HOST:PORT, "
                 "[V6]:PORT or *:PORT");
        return -1;
    }
    portnum = strtol(port, (char **)&end, 10);
    if (!*port || *end || portnum < 0 || portnum > 65535) {
        snprintf(err, errlen, "port must be a number from 0 to 65535");
        return -1;
    }
    if (strcmp(host, "*") == 0)
        strcpy(host, "::");
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
        snprintf(err, errlen, "cannot resolve host: %s", gai_strerror(rc));
        return -1;
    }
    memcpy(&out->sa, res->ai_addr, res->ai_addrlen);
    out->len = res->ai_addrlen;
    if (res->ai_family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out->sa;

        out->dual_stack = IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr);
    }
    freeaddrinfo(res);
    return 0;
}

int
listen_open(const struct listen_addr *a, char *err, size_t errlen)
{
    int fd, on = 1, v6only = !a->dual_stack;

    fd = socket(a->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (a->sa.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
    if (bind(fd, (const struct sockaddr *)&a->sa, a->len) < 0 ||
        listen(fd, 1024) < 0) {
        snprintf(err, errlen, "%s", strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

void
listen_describe(int fd, char *buf, size_t len)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;

    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET) {
            struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

            inet_ntop(AF_INET, &s4->sin_addr, host, sizeof host);
            port = ntohs(s4->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

            inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof host);
            port = ntohs(s6->sin6_port);
            snprintf(buf, len, "[%s]:%d", host, port);
            return;
        }
    }
    snprintf(buf, len, "%s:%d", host, port);
}
