/*
 * libFuzzer target: the config loader on arbitrary file contents.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "conf/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    struct config_errors errs = { 0 };
    struct config cfg;
    FILE *f;

    if (!path[0])
        snprintf(path, sizeof path, "/tmp/klaxon-fuzz-config-%d.conf",
                 (int)getpid());
    if (!(f = fopen(path, "w")))
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    if (config_load(&cfg, path, &errs) < 0 && errs.count == 0)
        __builtin_trap();   /* a refused file always says why */
    config_free(&cfg);
    config_errors_free(&errs);
    return 0;
}
