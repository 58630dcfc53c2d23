/*
 * The "gpio" siren driver: a relay (or a transistor) on a GPIO line of
 * a single-board computer, driven through the kernel's GPIO character
 * device with libgpiod (v1 API). `device` names the chip as libgpiod
 * looks it up ("gpiochip0", "/dev/gpiochip0", a label or a number);
 * the channel is the line offset. Each line is requested as an output,
 * starting low, the first time it is switched, and held until close:
 * 1 is on, 0 is off.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notifiers/siren_driver.h"

#define CONSUMER  "klaxon"
#define MAX_LINES 256

struct siren_gpiod_api siren_gpiod_api = {
    gpiod_chip_open_lookup, gpiod_chip_close, gpiod_chip_get_line,
    gpiod_line_request_output, gpiod_line_set_value, gpiod_line_release,
};

/* libgpiod reports through errno, not always. */
static const char *
why(void)
{
    return errno ? strerror(errno) : "unknown reason";
}

struct gpio_driver {
    struct siren_driver base;
    struct gpiod_chip *chip;
    struct gpiod_line *lines[MAX_LINES];    /* requested, by offset */
};

static struct gpiod_line *
gpio_line(struct gpio_driver *g, int offset, char *err, size_t errlen)
{
    struct gpiod_line *line;

    if (offset < 0 || offset >= MAX_LINES) {
        snprintf(err, errlen, "%s line %d: no such line", g->base.what,
                 offset);
        return NULL;
    }
    if (g->lines[offset])
        return g->lines[offset];
    errno = 0;
    if (!(line = siren_gpiod_api.chip_get_line(g->chip,
                                               (unsigned)offset))) {
        snprintf(err, errlen, "%s line %d: no such line: %s", g->base.what,
                 offset, why());
        return NULL;
    }
    errno = 0;
    if (siren_gpiod_api.line_request_output(line, CONSUMER, 0) < 0) {
        snprintf(err, errlen, "%s line %d: cannot use it as an output: %s",
                 g->base.what, offset, why());
        return NULL;
    }
    g->lines[offset] = line;
    return line;
}

static int
gpio_set(struct gpio_driver *g, int offset, int value, char *err,
         size_t errlen)
{
    struct gpiod_line *line;

    if (!(line = gpio_line(g, offset, err, errlen)))
        return -1;
    errno = 0;
    if (siren_gpiod_api.line_set_value(line, value) == 0)
        return 0;
    snprintf(err, errlen, "%s line %d: cannot set it to %d: %s",
             g->base.what, offset, value, why());
    return -1;
}

static int
gpio_on(struct siren_driver *d, int channel, char *err, size_t errlen)
{
    return gpio_set((struct gpio_driver *)d, channel, 1, err, errlen);
}

static int
gpio_off(struct siren_driver *d, int channel, char *err, size_t errlen)
{
    return gpio_set((struct gpio_driver *)d, channel, 0, err, errlen);
}

static void
gpio_close(struct siren_driver *d)
{
    struct gpio_driver *g = (struct gpio_driver *)d;
    size_t i;

    for (i = 0; i < MAX_LINES; i++) {
        if (g->lines[i])
            siren_gpiod_api.line_release(g->lines[i]);
    }
    if (g->chip)
        siren_gpiod_api.chip_close(g->chip);
    free(g);
}

static const struct siren_driver_ops gpio_ops = {
    "gpio", gpio_on, gpio_off, gpio_close,
};

struct siren_driver *
siren_gpio_open(const struct siren_conf *conf, char *err, size_t errlen)
{
    struct gpio_driver *g;

    if (!conf->device) {
        snprintf(err, errlen, "gpio: no 'device' (gpiochip) configured");
        return NULL;
    }
    if (!(g = calloc(1, sizeof *g))) {
        snprintf(err, errlen, "gpio %s: out of memory", conf->device);
        return NULL;
    }
    g->base.ops = &gpio_ops;
    snprintf(g->base.what, sizeof g->base.what, "gpio %s", conf->device);
    errno = 0;
    if (!(g->chip = siren_gpiod_api.chip_open_lookup(conf->device))) {
        snprintf(err, errlen, "gpio %s: cannot open the chip: %s",
                 conf->device, why());
        gpio_close(&g->base);
        return NULL;
    }
    return &g->base;
}
