/*
 * The "hidrelay" siren driver: the common USB HID relay boards sold as
 * "USBRelay1", "USBRelay2", ... ("www.dcttech.com"), which need no
 * kernel driver. They share the V-USB id 16c0:05df with other hobby
 * devices, so a board is only taken when its product name starts with
 * "USBRelay".
 *
 * A relay is switched with a 9-byte feature report: report id 0, then
 * 0xFF (on) or 0xFD (off), then the channel (from 1), then zeros.
 * Reading feature report 0 gives the board's 5-character id in bytes
 * 1-5, which is what "serial" means for these boards (their USB serial
 * string is usually empty).
 *
 * `device` picks the board: a hidraw path ("/dev/hidraw3"), a serial
 * (the board id or the USB serial string), or nothing for the first
 * board found. After a failed write the board is closed and looked up
 * again on the next command, so it may be plugged back in elsewhere.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "notifiers/siren_driver.h"

#define REPORT_LEN 9
#define CMD_ON     0xFF
#define CMD_OFF    0xFD

struct siren_hid_api siren_hid_api = {
    hid_enumerate, hid_free_enumeration, hid_open_path,
    hid_send_feature_report, hid_get_feature_report, hid_close,
};

struct hidrelay_driver {
    struct siren_driver base;
    char *device;               /* NULL: the first board */
    hid_device *dev;            /* NULL until found */
};

static bool
is_relay_board(const struct hid_device_info *i)
{
    return i->product_string &&
           wcsncmp(i->product_string, L"USBRelay", 8) == 0;
}

/* Whether the board i (opened as dev) answers to serial. */
static bool
serial_matches(const struct hid_device_info *i, hid_device *dev,
               const char *serial)
{
    unsigned char report[REPORT_LEN] = { 0 };
    char id[6];
    wchar_t wide[64];

    if (i->serial_number &&
        mbstowcs(wide, serial, 64) < 64 &&
        wcscmp(i->serial_number, wide) == 0)
        return true;
    if (siren_hid_api.get_feature_report(dev, report, sizeof report) < 6)
        return false;
    memcpy(id, report + 1, 5);
    id[5] = '\0';
    return strcmp(id, serial) == 0;
}

/* Open the board the config names. */
static hid_device *
find_board(const char *device)
{
    struct hid_device_info *all, *i;
    hid_device *dev = NULL;

    if (device && device[0] == '/')
        return siren_hid_api.open_path(device);
    all = siren_hid_api.enumerate(SIREN_HID_VENDOR, SIREN_HID_PRODUCT);
    for (i = all; i && !dev; i = i->next) {
        if (!is_relay_board(i) || !(dev = siren_hid_api.open_path(i->path)))
            continue;
        if (device && !serial_matches(i, dev, device)) {
            siren_hid_api.close(dev);
            dev = NULL;
        }
    }
    siren_hid_api.free_enumeration(all);
    return dev;
}

static int
hidrelay_attach(struct hidrelay_driver *h, char *err, size_t errlen)
{
    if (h->dev)
        return 0;
    if ((h->dev = find_board(h->device)))
        return 0;
    if (h->device)
        snprintf(err, errlen, "hidrelay %s: no such USB relay board, or "
                 "no permission to open it", h->device);
    else
        snprintf(err, errlen, "hidrelay: no USB relay board (%04x:%04x "
                 "USBRelayN) found, or no permission to open it",
                 SIREN_HID_VENDOR, SIREN_HID_PRODUCT);
    return -1;
}

static int
hidrelay_send(struct hidrelay_driver *h, int channel, bool on, char *err,
              size_t errlen)
{
    unsigned char report[REPORT_LEN] = { 0 };

    if (channel < 1 || channel > 255) {
        snprintf(err, errlen, "%s: relay channel %d does not exist (they "
                 "count from 1)", h->base.what, channel);
        return -1;
    }
    if (hidrelay_attach(h, err, errlen) < 0)
        return -1;
    report[1] = on ? CMD_ON : CMD_OFF;
    report[2] = (unsigned char)channel;
    if (siren_hid_api.send_feature_report(h->dev, report,
                                          sizeof report) >= 0)
        return 0;
    snprintf(err, errlen, "%s: cannot switch relay %d %s: the board did "
             "not take the report (unplugged?)", h->base.what, channel,
             on ? "on" : "off");
    siren_hid_api.close(h->dev);
    h->dev = NULL;
    return -1;
}

static int
hidrelay_on(struct siren_driver *d, int channel, char *err, size_t errlen)
{
    return hidrelay_send((struct hidrelay_driver *)d, channel, true, err,
                         errlen);
}

static int
hidrelay_off(struct siren_driver *d, int channel, char *err, size_t errlen)
{
    return hidrelay_send((struct hidrelay_driver *)d, channel, false, err,
                         errlen);
}

static void
hidrelay_close(struct siren_driver *d)
{
    struct hidrelay_driver *h = (struct hidrelay_driver *)d;

    if (h->dev)
        siren_hid_api.close(h->dev);
    free(h->device);
    free(h);
}

static const struct siren_driver_ops hidrelay_ops = {
    "hidrelay", hidrelay_on, hidrelay_off, hidrelay_close,
};

struct siren_driver *
siren_hidrelay_open(const struct siren_conf *conf, char *err,
                    size_t errlen)
{
    struct hidrelay_driver *h;

    if (!(h = calloc(1, sizeof *h)) ||
        (conf->device && !(h->device = strdup(conf->device)))) {
        snprintf(err, errlen, "hidrelay: out of memory");
        free(h);
        return NULL;
    }
    h->base.ops = &hidrelay_ops;
    snprintf(h->base.what, sizeof h->base.what, "hidrelay %s",
             h->device ? h->device : "(first board)");
    if (hidrelay_attach(h, err, errlen) < 0) {
        hidrelay_close(&h->base);
        return NULL;
    }
    return &h->base;
}
