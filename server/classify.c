/*
 * klaxon classify SOURCE FILE|-: show the normalized alert and the
 * decision for a payload, sending nothing and storing nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/config.h"
#include "handlers/handler.h"
#include "server/body.h"
#include "server/clock.h"
#include "server/cmdline.h"
#include "server/commands.h"
#include "server/rules.h"

static void
usage(FILE *out)
{
    fprintf(out, "usage: klaxon classify [-c FILE] [--form] SOURCE "
            "FILE|-\n\n"
            "Parse FILE (or stdin) as a payload from SOURCE (pingdom, "
            "newrelic, sirportly,\nhashgate, generic) and print the "
            "normalized alert and the decision as JSON.\n"
            "The payload is read as JSON when it starts with '{', else as "
            "a form post.\n");
}

static char *
slurp(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n;

    *len = 0;
    if (!f)
        return NULL;
    do {
        if (*len + 65536 > cap) {
            char *grown = realloc(buf, cap = cap * 2 + 65536);

            if (!grown) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = grown;
        }
        n = fread(buf + *len, 1, cap - *len - 1, f);
        *len += n;
    } while (n > 0);
    if (buf)
        buf[*len] = '\0';
    if (f != stdin)
        fclose(f);
    return buf;
}

/* Decode, parse and decide; prints the result; returns exit status. */
static int
classify(const struct config *cfg, int source, const char *body,
         size_t len, const char *path)
{
    const char *p = body + strspn(body, " \t\r\n");
    struct decision d;
    struct alert a;
    char reason[160];
    int status = 0, rc = 0;
    json_t *payload, *out;

    payload = body_decode(*p == '{' ? "application/json" :
                          "application/x-www-form-urlencoded", body, len,
                          &status, reason, sizeof reason);
    if (!payload) {
        fprintf(stderr, "klaxon: classify: %s: %s\n", path, reason);
        return EXIT_TROUBLE;
    }
    alert_init(&a, source);
    switch (handler_parse(source, payload, &a, reason, sizeof reason)) {
    case HANDLER_INVALID:
        fprintf(stderr, "klaxon: classify: %s: %s\n", path, reason);
        rc = EXIT_TROUBLE;
        break;
    case HANDLER_IGNORE:
        out = json_pack("{ss ss}", "status", "ignored", "reason", reason);
        json_dumpf(out, stdout, JSON_INDENT(2));
        printf("\n");
        json_decref(out);
        break;
    case HANDLER_OK:
        if (a.time == 0)
            a.time = clock_now();
        rules_decide(cfg, &a, clock_now(), &d);
        out = json_pack("{so so}", "alert", alert_to_json(&a), "decision",
                        decision_to_json(&d));
        json_dumpf(out, stdout, JSON_INDENT(2));
        printf("\n");
        json_decref(out);
        decision_free(&d);
        break;
    }
    json_decref(payload);
    alert_free(&a);
    return rc;
}

int
classify_main(int argc, char **argv)
{
    const char *path = NULL;
    struct config cfg;
    size_t len;
    char *body;
    int source, rc;

    if ((rc = cmdline_parse(argc, argv, &path, usage)) >= 0)
        return rc;
    if (argc - optind != 2) {
        usage(stderr);
        return EXIT_TROUBLE;
    }
    if ((source = source_from_name(argv[optind])) < 0) {
        fprintf(stderr, "klaxon: classify: unknown source '%s' (known: "
                "pingdom, newrelic, sirportly, hashgate, generic)\n",
                argv[optind]);
        return EXIT_TROUBLE;
    }
    if (config_load_default(&cfg, path) < 0) {
        config_free(&cfg);
        return EXIT_TROUBLE;
    }
    rules_set_timezone(cfg.timezone);
    if (!(body = slurp(argv[optind + 1], &len))) {
        fprintf(stderr, "klaxon: classify: cannot read %s: %m\n",
                argv[optind + 1]);
        config_free(&cfg);
        return EXIT_TROUBLE;
    }
    rc = classify(&cfg, source, body, len, argv[optind + 1]);
    free(body);
    config_free(&cfg);
    return rc;
}
