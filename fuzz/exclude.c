/*
 * libFuzzer target: the scanner's exclude patterns. The input is
 * patterns, one per line, then an empty line, then paths to match.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scanner/exclude.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = strndup((const char *)data, size), *line, *save = NULL;
    struct exclude *ex = exclude_new();
    int paths = 0;

    if (!text || !ex)
        goto done;
    for (line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        if (strcmp(line, "--") == 0) {
            paths = 1;
            continue;
        }
        if (!paths)
            exclude_add(ex, line);
        else if (exclude_match(ex, line, line[0] == 'd') &&
                 !exclude_match_tree(ex, line, line[0] == 'd'))
            __builtin_trap();   /* a match is also a match of its tree */
    }
done:
    exclude_free(ex);
    free(text);
    return 0;
}
