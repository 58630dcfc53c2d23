/*
 * slow_clients: hold many connections open to a klaxon on 127.0.0.1
 * that say nothing, or say a request one byte a second, for the chaos
 * script's check that such clients cannot starve /healthz.
 *
 *   slow_clients --port P --connections N --seconds S
 *                [--mode idle|trickle] [--ready-file FILE]
 *
 * idle connects and sends nothing; trickle sends the start of a POST
 * and then header bytes without end, one byte a second on each
 * connection. A connection the server closes is opened again a second
 * later, so the pressure stays at N for the whole S seconds. Once all N
 * are connected the first time, "ready" goes to stdout and, when given,
 * to FILE. At the end one line of name=value words: connections, open
 * (still open at the end), closed_by_server, connect_failures,
 * bytes_sent.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "server/clock.h"

enum slow_state { SLOW_DOWN, SLOW_CONNECTING, SLOW_OPEN };

struct slow_conn {
    int fd;
    enum slow_state state;
    long sent;              /* bytes of the endless request sent */
    int64_t retry_ms;       /* when a closed connection opens again */
};

struct slow {
    int port;
    long n;
    long seconds;
    bool trickle;
    const char *ready_file;
    struct slow_conn *conns;
    struct pollfd *pfds;
    long *pidx;             /* pfds[i] belongs to conns[pidx[i]] */
    long closed, failures, bytes;
    bool ready;
};

/* What a trickling client sends: a request line and headers that never
   end. */
static const char slow_head[] =
    "POST /hooks/generic HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    "Content-Type: application/json\r\n";
static const char slow_pad[] = "X-Slow: 1\r\n";

static char
slow_byte(long i)
{
    long head = (long)sizeof slow_head - 1;

    if (i < head)
        return slow_head[i];
    return slow_pad[(i - head) % ((long)sizeof slow_pad - 1)];
}

static void
slow_open(struct slow *s, struct slow_conn *c)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    int fd;

    sa.sin_port = htons((uint16_t)s->port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    c->sent = 0;
    c->state = SLOW_DOWN;
    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        s->failures++;
        c->retry_ms = clock_mono_ms() + 1000;
        return;
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 &&
        errno != EINPROGRESS) {
        close(fd);
        s->failures++;
        c->retry_ms = clock_mono_ms() + 1000;
        return;
    }
    c->fd = fd;
    c->state = SLOW_CONNECTING;
}

/* The server closed c, or the connect failed: try again in a second. */
static void
slow_lost(struct slow *s, struct slow_conn *c)
{
    if (c->state == SLOW_OPEN)
        s->closed++;
    else
        s->failures++;
    close(c->fd);
    c->fd = -1;
    c->state = SLOW_DOWN;
    c->retry_ms = clock_mono_ms() + 1000;
}

static void
slow_event(struct slow *s, struct slow_conn *c, short revents)
{
    char buf[512];
    socklen_t len = sizeof(int);
    int err = 0;
    ssize_t n;

    if (c->state == SLOW_CONNECTING) {
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err)
            slow_lost(s, c);
        else
            c->state = SLOW_OPEN;
        return;
    }
    if (!(revents & (POLLIN | POLLHUP | POLLERR)))
        return;
    /* Whatever the server says (a timeout page, say), it ends with a
       close; only the close matters here. */
    while ((n = read(c->fd, buf, sizeof buf)) > 0)
        ;
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
        slow_lost(s, c);
}

/* Once a second: reopen what is down, trickle one byte on what is up. */
static void
slow_tick(struct slow *s)
{
    int64_t now = clock_mono_ms();
    long i;
    char b;

    for (i = 0; i < s->n; i++) {
        struct slow_conn *c = &s->conns[i];

        if (c->state == SLOW_DOWN && now >= c->retry_ms) {
            slow_open(s, c);
        } else if (c->state == SLOW_OPEN && s->trickle) {
            b = slow_byte(c->sent);
            if (send(c->fd, &b, 1, MSG_NOSIGNAL) == 1) {
                c->sent++;
                s->bytes++;
            } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
                slow_lost(s, c);
            }
        }
    }
}

/* Say "ready" once every connection has been open at the same time. */
static void
slow_check_ready(struct slow *s)
{
    FILE *f;
    long i;

    if (s->ready)
        return;
    for (i = 0; i < s->n; i++) {
        if (s->conns[i].state != SLOW_OPEN)
            return;
    }
    s->ready = true;
    printf("ready connections=%ld\n", s->n);
    fflush(stdout);
    if (s->ready_file && (f = fopen(s->ready_file, "w"))) {
        fprintf(f, "ready\n");
        fclose(f);
    }
}

/* Wait up to ms for the sockets, and handle what they report. */
static void
slow_poll(struct slow *s, int ms)
{
    long i, np = 0;

    for (i = 0; i < s->n; i++) {
        struct slow_conn *c = &s->conns[i];

        if (c->state == SLOW_DOWN)
            continue;
        s->pfds[np].fd = c->fd;
        s->pfds[np].events = c->state == SLOW_CONNECTING ? POLLOUT : POLLIN;
        s->pfds[np].revents = 0;
        s->pidx[np++] = i;
    }
    if (poll(s->pfds, (nfds_t)np, ms) <= 0)
        return;
    for (i = 0; i < np; i++) {
        if (s->pfds[i].revents)
            slow_event(s, &s->conns[s->pidx[i]], s->pfds[i].revents);
    }
}

static int
slow_run(struct slow *s)
{
    int64_t end = clock_mono_ms() + s->seconds * 1000, next = 0, now;
    long i, open = 0;

    for (i = 0; i < s->n; i++)
        s->conns[i].fd = -1;
    while ((now = clock_mono_ms()) < end) {
        if (now >= next) {
            slow_tick(s);
            next = now + 1000;
        }
        slow_poll(s, (int)(next - now));
        slow_check_ready(s);
    }
    for (i = 0; i < s->n; i++) {
        open += s->conns[i].state == SLOW_OPEN;
        if (s->conns[i].fd >= 0)
            close(s->conns[i].fd);
    }
    printf("connections=%ld open=%ld closed_by_server=%ld "
           "connect_failures=%ld bytes_sent=%ld\n", s->n, open, s->closed,
           s->failures, s->bytes);
    return 0;
}

static long
slow_number(const char *opt, const char *text, long max)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(text, &end, 10);
    if (errno || end == text || *end || v <= 0 || v > max) {
        fprintf(stderr, "slow_clients: %s: not a number from 1 to %ld: "
                "%s\n", opt, max, text);
        return -1;
    }
    return v;
}

static int
slow_args(int argc, char **argv, struct slow *s)
{
    const char *opt, *val;
    int i;

    for (i = 1; i < argc; i += 2) {
        opt = argv[i];
        if (!(val = i + 1 < argc ? argv[i + 1] : NULL)) {
            fprintf(stderr, "slow_clients: %s: needs a value\n", opt);
            return -1;
        }
        if (strcmp(opt, "--port") == 0)
            s->port = (int)slow_number(opt, val, 65535);
        else if (strcmp(opt, "--connections") == 0)
            s->n = slow_number(opt, val, 100000);
        else if (strcmp(opt, "--seconds") == 0)
            s->seconds = slow_number(opt, val, 86400);
        else if (strcmp(opt, "--ready-file") == 0)
            s->ready_file = val;
        else if (strcmp(opt, "--mode") == 0 && strcmp(val, "idle") == 0)
            s->trickle = false;
        else if (strcmp(opt, "--mode") == 0 && strcmp(val, "trickle") == 0)
            s->trickle = true;
        else {
            fprintf(stderr, "slow_clients: unknown option %s %s\n", opt,
                    val);
            return -1;
        }
    }
    if (s->port <= 0 || s->n <= 0 || s->seconds <= 0) {
        fprintf(stderr, "usage: slow_clients --port P --connections N "
                "--seconds S [--mode idle|trickle] [--ready-file FILE]\n");
        return -1;
    }
    return 0;
}

/* Room for n sockets besides stdio: raise the soft limit to the hard. */
static int
slow_fd_room(long n)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return -1;
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 ||
        (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)n + 16)) {
        fprintf(stderr, "slow_clients: the open file limit is below %ld\n",
                n + 16);
        return -1;
    }
    return 0;
}

int
main(int argc, char **argv)
{
    struct slow s = { .port = 0 };
    int rc = 2;

    if (slow_args(argc, argv, &s) < 0 || slow_fd_room(s.n) < 0)
        return 2;
    signal(SIGPIPE, SIG_IGN);
    s.conns = calloc(s.n, sizeof *s.conns);
    s.pfds = calloc(s.n, sizeof *s.pfds);
    s.pidx = calloc(s.n, sizeof *s.pidx);
    if (!s.conns || !s.pfds || !s.pidx)
        fprintf(stderr, "slow_clients: out of memory\n");
    else
        rc = slow_run(&s);
    free(s.conns);
    free(s.pfds);
    free(s.pidx);
    return rc;
}
