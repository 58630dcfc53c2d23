/*
 * The "serial" siren driver: CH340-style USB relay boards ("LCUS-1",
 * "LCUS-2", ...) that show up as a tty and take 4-byte commands at
 * 9600 baud, 8N1, no flow control:
 *
 *     0xA0, channel, state (1 on, 0 off), checksum
 *
 * where the checksum is the sum of the first three bytes mod 256, so
 * A0 01 01 A2 switches relay 1 on and A0 01 00 A1 switches it off.
 *
 * The tty is opened without becoming our controlling terminal and
 * without waiting for modem lines (O_NONBLOCK, cleared once open), then
 * put in raw mode. A failed write (the board was unplugged) closes it;
 * the next command opens it again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "notifiers/siren_driver.h"

struct serial_driver {
    struct siren_driver base;
    char *device;
    int fd;                     /* -1 until opened */
};

static int
configure(int fd)
{
    struct termios t;

    if (tcgetattr(fd, &t) < 0)
        return -1;
    cfmakeraw(&t);
    t.c_cflag &= ~(CSIZE | PARENB | CSTOPB | CRTSCTS);
    t.c_cflag |= CS8 | CLOCAL | CREAD;
    t.c_iflag &= ~(IXON | IXOFF | IXANY);
    t.c_cc[VMIN] = 0;
    t.c_cc[VTIME] = 0;
    if (cfsetispeed(&t, B9600) < 0 || cfsetospeed(&t, B9600) < 0)
        return -1;
    return tcsetattr(fd, TCSANOW, &t);
}

static int
serial_attach(struct serial_driver *s, char *err, size_t errlen)
{
    int fd, flags;

    if (s->fd >= 0)
        return 0;
    fd = open(s->device, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "serial %s: cannot open: %s", s->device,
                 strerror(errno));
        return -1;
    }
    if (!isatty(fd)) {
        snprintf(err, errlen, "serial %s: not a tty", s->device);
        goto fail;
    }
    if ((flags = fcntl(fd, F_GETFL)) < 0 ||
        fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0 || configure(fd) < 0) {
        snprintf(err, errlen, "serial %s: cannot set 9600 8N1 raw: %s",
                 s->device, strerror(errno));
        goto fail;
    }
    s->fd = fd;
    return 0;

fail:
    close(fd);
    return -1;
}

static int
serial_send(struct serial_driver *s, int channel, int state, char *err,
            size_t errlen)
{
    unsigned char cmd[4];
    ssize_t n;

    if (channel < 1 || channel > 255) {
        snprintf(err, errlen, "serial %s: relay channel %d does not exist "
                 "(they count from 1)", s->device, channel);
        return -1;
    }
    if (serial_attach(s, err, errlen) < 0)
        return -1;
    cmd[0] = 0xA0;
    cmd[1] = (unsigned char)channel;
    cmd[2] = (unsigned char)state;
    cmd[3] = (unsigned char)(cmd[0] + cmd[1] + cmd[2]);
    do {
        n = write(s->fd, cmd, sizeof cmd);
    } while (n < 0 && errno == EINTR);
    if (n == (ssize_t)sizeof cmd && tcdrain(s->fd) == 0)
        return 0;
    snprintf(err, errlen, "serial %s: cannot switch relay %d %s: %s",
             s->device, channel, state ? "on" : "off",
             n < 0 || n == (ssize_t)sizeof cmd ? strerror(errno) :
             "short write");
    close(s->fd);
    s->fd = -1;
    return -1;
}

static int
serial_on(struct siren_driver *d, int channel, char *err, size_t errlen)
{
    return serial_send((struct serial_driver *)d, channel, 1, err, errlen);
}

static int
serial_off(struct siren_driver *d, int channel, char *err, size_t errlen)
{
    return serial_send((struct serial_driver *)d, channel, 0, err, errlen);
}

static void
serial_close(struct siren_driver *d)
{
    struct serial_driver *s = (struct serial_driver *)d;

    if (s->fd >= 0)
        close(s->fd);
    free(s->device);
    free(s);
}

static const struct siren_driver_ops serial_ops = {
    "serial", serial_on, serial_off, serial_close,
};

struct siren_driver *
siren_serial_open(const struct siren_conf *conf, char *err, size_t errlen)
{
    struct serial_driver *s;

    if (!conf->device) {
        snprintf(err, errlen, "serial: no 'device' configured");
        return NULL;
    }
    if (!(s = calloc(1, sizeof *s)) || !(s->device = strdup(conf->device))) {
        snprintf(err, errlen, "serial %s: out of memory", conf->device);
        free(s);
        return NULL;
    }
    s->base.ops = &serial_ops;
    s->fd = -1;
    snprintf(s->base.what, sizeof s->base.what, "serial %s", s->device);
    if (serial_attach(s, err, errlen) < 0) {
        serial_close(&s->base);
        return NULL;
    }
    return &s->base;
}
