/*
 * Siren hardware drivers: one small interface (switch a channel on, off,
 * close) over the ways an office siren or police light is wired up. The
 * controller in siren.c and `klaxon siren` choose one by the name in the
 * config and never touch the hardware otherwise.
 *
 * Drivers do not log. A failure is described in the caller's buffer as
 * "<driver> <device>: <what failed>: <why>" so the caller reports it
 * once, in its own words. A driver that loses its device (a USB board
 * unplugged) drops its handle and opens it again on the next call, so a
 * board plugged back in works from the next switch on.
 *
 * The library calls of the hidrelay and gpio drivers go through the
 * function tables at the end, which tests replace with fakes.
 */
#ifndef KLAXON_SIREN_DRIVER_H
#define KLAXON_SIREN_DRIVER_H

#include <stdbool.h>
#include <stddef.h>

#include <gpiod.h>
#include <hidapi.h>

#include "conf/config.h"

struct siren_driver;

struct siren_driver_ops {
    const char *name;           /* as in the config: "serial", ... */
    /* 0, or -1 with the reason in err. */
    int (*on)(struct siren_driver *d, int channel, char *err,
              size_t errlen);
    int (*off)(struct siren_driver *d, int channel, char *err,
               size_t errlen);
    /* Release the device and free d. Does not switch anything off. */
    void (*close)(struct siren_driver *d);
};

/* Every driver's own state starts with this. */
struct siren_driver {
    const struct siren_driver_ops *ops;
    char what[160];             /* "serial /dev/ttyUSB0", for messages */
};

/* A driver's constructor: NULL with the reason in err. */
typedef struct siren_driver *(*siren_driver_open_fn)(
    const struct siren_conf *conf, char *err, size_t errlen);

/*
 * Open the driver conf->driver names, without switching anything: the
 * caller decides the first state. NULL with the reason (naming the
 * device) in err. Close with siren_driver_close().
 */
struct siren_driver *siren_driver_open(const struct siren_conf *conf,
                                       char *err, size_t errlen);

struct siren_driver *siren_none_open(const struct siren_conf *conf,
                                     char *err, size_t errlen);
struct siren_driver *siren_command_open(const struct siren_conf *conf,
                                        char *err, size_t errlen);
struct siren_driver *siren_serial_open(const struct siren_conf *conf,
                                       char *err, size_t errlen);
struct siren_driver *siren_hidrelay_open(const struct siren_conf *conf,
                                         char *err, size_t errlen);
struct siren_driver *siren_gpio_open(const struct siren_conf *conf,
                                     char *err, size_t errlen);

static inline int
siren_driver_on(struct siren_driver *d, int channel, char *err,
                size_t errlen)
{
    return d->ops->on(d, channel, err, errlen);
}

static inline int
siren_driver_off(struct siren_driver *d, int channel, char *err,
                 size_t errlen)
{
    return d->ops->off(d, channel, err, errlen);
}

/* NULL is fine. */
static inline void
siren_driver_close(struct siren_driver *d)
{
    if (d)
        d->ops->close(d);
}

/*
 * Command driver: the longest a switching program may run before it is
 * killed (with everything it started), so a hung program cannot hold up
 * the controller. SIREN_COMMAND_TIMEOUT_MS unless changed; d must come
 * from siren_command_open().
 */
#define SIREN_COMMAND_TIMEOUT_MS 10000
void siren_command_set_timeout(struct siren_driver *d, int ms);

/* USB HID relay boards ("USBRelay2" and kin) share this V-USB id. */
#define SIREN_HID_VENDOR  0x16c0
#define SIREN_HID_PRODUCT 0x05df

/* The hidapi calls the hidrelay driver makes; real hidapi by default. */
struct siren_hid_api {
    struct hid_device_info *(*enumerate)(unsigned short vendor,
                                         unsigned short product);
    void (*free_enumeration)(struct hid_device_info *devs);
    hid_device *(*open_path)(const char *path);
    int (*send_feature_report)(hid_device *dev, const unsigned char *data,
                               size_t len);
    int (*get_feature_report)(hid_device *dev, unsigned char *data,
                              size_t len);
    void (*close)(hid_device *dev);
};
extern struct siren_hid_api siren_hid_api;

/* The libgpiod (v1) calls the gpio driver makes; real ones by default. */
struct siren_gpiod_api {
    struct gpiod_chip *(*chip_open_lookup)(const char *descr);
    void (*chip_close)(struct gpiod_chip *chip);
    struct gpiod_line *(*chip_get_line)(struct gpiod_chip *chip,
                                        unsigned int offset);
    int (*line_request_output)(struct gpiod_line *line,
                               const char *consumer, int default_val);
    int (*line_set_value)(struct gpiod_line *line, int value);
    void (*line_release)(struct gpiod_line *line);
};
extern struct siren_gpiod_api siren_gpiod_api;

#endif
