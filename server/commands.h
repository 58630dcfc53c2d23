/*
 * The subcommands of the klaxon binary. Each takes the arguments after
 * its own name (argv[0] is the subcommand) and returns the exit status:
 * 0 success, 1 found what it looks for, 2 usage or runtime error.
 */
#ifndef KLAXON_COMMANDS_H
#define KLAXON_COMMANDS_H

#define EXIT_FOUND 1
#define EXIT_TROUBLE 2

int serve_main(int argc, char **argv);
int check_config_main(int argc, char **argv);
int classify_main(int argc, char **argv);
int siren_main(int argc, char **argv);
int scan_main(int argc, char **argv);

#endif
