/*
 * libFuzzer target: one source handler, fed through the body decoder
 * as the relay does. The first byte picks how the body is labelled
 * (JSON, form, none); the rest is the body. Built once per source with
 * -DFUZZ_SOURCE=SOURCE_<NAME>.
 */
#include <stddef.h>
#include <stdint.h>

#include "handlers/handler.h"
#include "server/body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const content_types[] = {
    "application/json", "application/x-www-form-urlencoded", NULL,
    "application/json; charset=utf-8",
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char reason[160];
    struct alert a;
    json_t *payload;
    int status = 0;

    if (size < 1)
        return 0;
    payload = body_decode(content_types[data[0] % 4], (const char *)data + 1,
                          size - 1, &status, reason, sizeof reason);
    if (!payload)
        return 0;
    alert_init(&a, FUZZ_SOURCE);
    if (handler_parse(FUZZ_SOURCE, payload, &a, reason, sizeof reason) ==
        HANDLER_OK) {
        /* Whatever is accepted must be complete. */
        if (!a.key || !a.title)
            __builtin_trap();
        json_decref(alert_to_json(&a));
    }
    alert_free(&a);
    json_decref(payload);
    return 0;
}
