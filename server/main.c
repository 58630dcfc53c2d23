/*
 * klaxon: entry point. Picks the subcommand and hands over to it.
 */
#include <stdio.h>
#include <string.h>

#include "server/commands.h"

static const struct {
    const char *name;
    int (*run)(int, char **);
    const char *summary;
} commands[] = {
    { "serve", serve_main, "run the relay in the foreground" },
    { "check-config", check_config_main, "validate the configuration" },
    { "classify", classify_main,
      "show how a payload would be decided, sending nothing" },
    { "siren", siren_main, "switch the siren on or off, or test it" },
    { "scan", scan_main, "file integrity scanner (init, check, update)" },
};

static void
usage(FILE *out)
{
    size_t i;

    fprintf(out, "usage: klaxon COMMAND [-c FILE] [ARGS...]\n"
                 "       klaxon --version\n\ncommands:\n");
    for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-13s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nEvery command takes -c FILE (default ./klaxon.conf, then "
                 "/etc/klaxon/klaxon.conf)\nand --help (also: klaxon help "
                 "COMMAND). Exit status: 0 ok, 1 found changes\nor a "
                 "failed check, 2 error.\n");
}

int
main(int argc, char **argv)
{
    size_t i;

    if (argc < 2) {
        usage(stderr);
        return EXIT_TROUBLE;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        printf("klaxon %s\n", KLAXON_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "help") == 0 && argc > 2) {
        /* "klaxon help scan" is "klaxon scan --help". */
        char *help[] = { argv[2], (char *)"--help", NULL };

        for (i = 0; i < sizeof commands / sizeof commands[0]; i++) {
            if (strcmp(argv[2], commands[i].name) == 0)
                return commands[i].run(2, help);
        }
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    for (i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    }
    fprintf(stderr, "klaxon: unknown command '%s' (try klaxon --help)\n",
            argv[1]);
    return EXIT_TROUBLE;
}
