/*
 * The options every subcommand shares: -c FILE and --help.
 */
#ifndef KLAXON_CMDLINE_H
#define KLAXON_CMDLINE_H

#include <stdio.h>

/*
 * Parse -c/--config FILE into *config (left alone when absent) and
 * -h/--help. Returns -1 when the command may go on, with optind at its
 * first operand; else the exit status: 0 after printing usage for
 * --help, 2 (after usage on stderr) for an unknown option.
 */
int cmdline_parse(int argc, char **argv, const char **config,
                  void (*usage)(FILE *out));

#endif
