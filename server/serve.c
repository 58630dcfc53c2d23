/* Placeholder until the command is written. */
#include <stdio.h>

#include "server/commands.h"

int
serve_main(int argc, char **argv)
{
    (void)argc;
    fprintf(stderr, "klaxon: %s: not built yet\n", argv[0]);
    return EXIT_TROUBLE;
}
