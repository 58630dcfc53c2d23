/*
 * Shared option parsing for the subcommands.
 */
#include "server/cmdline.h"

#include <getopt.h>

#include "server/commands.h"

int
cmdline_parse(int argc, char **argv, const char **config,
              void (*usage)(FILE *out))
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            *config = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return EXIT_TROUBLE;
        }
    }
    return -1;
}
