/*
 * libFuzzer target: the request body decoder on its own, with the
 * content type taken from the input (up to the first newline).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *nl = memchr(data, '\n', size);
    char reason[160], *type;
    json_t *payload;
    int status = 0;

    if (!nl)
        return 0;
    type = strndup((const char *)data, nl - (const char *)data);
    payload = body_decode(type, nl + 1, size - (nl + 1 - (const char *)data),
                          &status, reason, sizeof reason);
    if (!payload && (status < 400 || status > 500 || !reason[0]))
        __builtin_trap();
    json_decref(payload);
    free(type);
    return 0;
}
