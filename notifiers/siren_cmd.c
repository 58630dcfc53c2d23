/*
 * klaxon siren: drive the configured siren directly, to wire it up and
 * to check it works, without the relay:
 *
 *     klaxon siren [-c FILE] on|off|test [SECONDS]
 *
 * "test" switches on for SECONDS (default 5) and off again, and also
 * switches off when interrupted, so a test never leaves it sounding.
 * Quiet hours do not apply: the sound channel is switched too.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf/config.h"
#include "notifiers/siren_driver.h"
#include "server/cmdline.h"
#include "server/commands.h"

#define TEST_SECONDS 5
#define ERRLEN 256

static volatile sig_atomic_t interrupted;

static void
usage(FILE *out)
{
    fprintf(out, "usage: klaxon siren [-c FILE] on|off|test [SECONDS]\n\n"
            "Switch the configured siren on or off, or on for SECONDS "
            "(default %d) and\noff again. Switches the light channel and "
            "the sound channel, quiet hours\nor not. Exit status: 0 ok, "
            "2 the siren could not be switched.\n", TEST_SECONDS);
}

static void
on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* The channels the controller uses: light, then sound. -1: none. */
static void
channels(const struct siren_conf *conf, int ch[2])
{
    ch[0] = conf->channel;
    ch[1] = conf->sound_channel > 0 ? conf->sound_channel : -1;
    if (ch[1] == ch[0])
        ch[0] = -1;
}

/* Every channel on (light first) or off (sound first); the first
   failure goes to stderr. */
static int
switch_all(struct siren_driver *d, const struct siren_conf *conf, bool on)
{
    char err[ERRLEN];
    int ch[2], i, c, rc = 0;

    channels(conf, ch);
    for (i = 0; i < 2; i++) {
        if ((c = ch[on ? i : 1 - i]) < 0)
            continue;
        if ((on ? siren_driver_on(d, c, err, sizeof err)
                : siren_driver_off(d, c, err, sizeof err)) < 0) {
            if (rc == 0)
                fprintf(stderr, "klaxon siren: %s\n", err);
            rc = -1;
        }
    }
    if (rc == 0)
        printf("%s: %s\n", d->what, on ? "on" : "off");
    return rc;
}

static void
catch_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

static int
run_test(struct siren_driver *d, const struct siren_conf *conf,
         long seconds)
{
    struct timespec left = { seconds, 0 };
    int rc;

    catch_signals();
    rc = switch_all(d, conf, true);
    while (rc == 0 && !interrupted && nanosleep(&left, &left) < 0 &&
           errno == EINTR)
        ;
    if (switch_all(d, conf, false) < 0)
        return -1;
    if (interrupted) {
        fprintf(stderr, "klaxon siren: test interrupted, switched off\n");
        return -1;
    }
    return rc;
}

/* Parse the operands: 0, or -1 after printing why. */
static int
parse_args(int argc, char **argv, const char **action, long *seconds)
{
    char *end;

    if (argc < 1 || argc > 2)
        goto bad;
    *action = argv[0];
    if (strcmp(*action, "on") != 0 && strcmp(*action, "off") != 0 &&
        strcmp(*action, "test") != 0)
        goto bad;
    if (argc == 2) {
        if (strcmp(*action, "test") != 0)
            goto bad;
        errno = 0;
        *seconds = strtol(argv[1], &end, 10);
        if (errno || end == argv[1] || *end || *seconds < 1 ||
            *seconds > 3600) {
            fprintf(stderr, "klaxon siren: test: SECONDS must be a whole "
                    "number from 1 to 3600, not '%s'\n", argv[1]);
            return -1;
        }
    }
    return 0;

bad:
    usage(stderr);
    return -1;
}

int
siren_main(int argc, char **argv)
{
    const char *path = NULL, *action = NULL;
    struct siren_driver *d = NULL;
    long seconds = TEST_SECONDS;
    char err[ERRLEN];
    struct config cfg;
    int rc;

    if ((rc = cmdline_parse(argc, argv, &path, usage)) >= 0)
        return rc;
    if (parse_args(argc - optind, argv + optind, &action, &seconds) < 0)
        return EXIT_TROUBLE;
    if (config_load_default(&cfg, path) < 0) {
        config_free(&cfg);
        return EXIT_TROUBLE;
    }
    if (!(d = siren_driver_open(&cfg.siren, err, sizeof err))) {
        fprintf(stderr, "klaxon siren: %s\n", err);
        config_free(&cfg);
        return EXIT_TROUBLE;
    }
    if (strcmp(action, "test") == 0)
        rc = run_test(d, &cfg.siren, seconds);
    else
        rc = switch_all(d, &cfg.siren, strcmp(action, "on") == 0);
    siren_driver_close(d);
    config_free(&cfg);
    return rc < 0 ? EXIT_TROUBLE : 0;
}
