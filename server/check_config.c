/*
 * klaxon check-config: validate the configuration, report every problem
 * with its file and line, and say what the config will do.
 */
#include <stdio.h>
#include <unistd.h>

#include "conf/config.h"
#include "server/cmdline.h"
#include "server/commands.h"

static void
usage(FILE *out)
{
    fprintf(out, "usage: klaxon check-config [-c FILE]\n\n"
            "Validate the config file; print each problem as FILE:LINE: "
            "message.\nExit status: 0 valid, 2 invalid or unreadable.\n");
}

/* Things that are valid but probably not what the operator wants. */
static void
warn(const struct config *cfg)
{
    size_t i, on_call = 0;
    int s, enabled = 0;

    for (s = 0; s < SOURCE_COUNT; s++)
        enabled += strv_len(cfg->sources[s].tokens) > 0 ||
                   cfg->sources[s].random_token;
    for (i = 0; i < cfg->npeople; i++)
        on_call += cfg->people[i].on_call;
    if (!enabled)
        printf("%s: warning: no source has a token; every hook answers "
               "404\n", cfg->file);
    if (!cfg->pushover.token)
        printf("%s: warning: no pushover token; delivery is off\n",
               cfg->file);
    if (cfg->npeople && !on_call)
        printf("%s: warning: nobody is on call; alerts for @on_call reach "
               "no one\n", cfg->file);
}

int
check_config_main(int argc, char **argv)
{
    struct config_errors errs = { 0 };
    const char *path = NULL;
    struct config cfg;
    size_t i;
    int status = 0;

    if ((status = cmdline_parse(argc, argv, &path, usage)) >= 0)
        return status;
    status = 0;
    if (optind != argc) {
        usage(stderr);
        return EXIT_TROUBLE;
    }
    if (!path)
        path = access("klaxon.conf", F_OK) == 0 ? "klaxon.conf" :
               access("/etc/klaxon/klaxon.conf", F_OK) == 0 ?
               "/etc/klaxon/klaxon.conf" : NULL;
    if (!path) {
        fprintf(stderr, "klaxon: check-config: no config file (looked for "
                "./klaxon.conf and /etc/klaxon/klaxon.conf)\n");
        return EXIT_TROUBLE;
    }
    if (config_load(&cfg, path, &errs) < 0) {
        for (i = 0; i < errs.count; i++)
            fprintf(stderr, "%s\n", errs.lines[i]);
        status = EXIT_TROUBLE;
    } else {
        warn(&cfg);
        printf("%s: ok\n", path);
    }
    config_errors_free(&errs);
    config_free(&cfg);
    return status;
}
