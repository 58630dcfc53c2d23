/*
 * Status board page. Plain HTML and CSS, no script: the page reloads
 * itself every 15 seconds. Red is firing, amber acknowledged, green
 * resolved, blue information; every text from a sender is escaped.
 */
#include "server/board.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char head[] =
    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    "<meta http-equiv=\"refresh\" content=\"15\">"
    "<meta name=\"viewport\" content=\"width=device-width\">"
    "<title>klaxon</title><style>"
    "body{margin:0;padding:1rem;background:#111;color:#eee;"
    "font:16px/1.35 system-ui,sans-serif}"
    "h1{font-size:1.3rem;margin:0 0 1rem}"
    ".note{color:#f5b942}"
    ".a{border-left:.5rem solid #666;background:#1d1d1d;margin:.5rem 0;"
    "padding:.5rem .8rem}"
    ".firing{border-color:#e5484d}.acknowledged{border-color:#f5b942}"
    ".resolved{border-color:#30a46c}.info{border-color:#3e63dd}"
    ".t{font-weight:600}.m{color:#bbb;white-space:pre-wrap}"
    ".s{color:#888;font-size:.85rem}a{color:#8ab4f8}"
    "</style></head><body>\n";

/* Append text to out with HTML's special characters escaped. */
static void
put_escaped(FILE *out, const char *text)
{
    for (; text && *text; text++) {
        switch (*text) {
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '&': fputs("&amp;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&#39;", out); break;
        default: fputc(*text, out);
        }
    }
}

static const char *
member(const json_t *o, const char *name)
{
    return json_string_value(json_object_get(o, name));
}

static void
put_alert(FILE *out, const json_t *a)
{
    const char *url = member(a, "url");
    json_int_t ms = json_integer_value(json_object_get(a, "updated_ms"));
    time_t when = (time_t)(ms / 1000);
    const json_t *d = json_object_get(a, "deliveries");
    char stamp[32];
    struct tm tm;

    gmtime_r(&when, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M UTC", &tm);
    fputs("<div class=\"a ", out);
    put_escaped(out, member(a, "state"));
    fputs("\"><div class=\"t\">", out);
    put_escaped(out, member(a, "title"));
    fputs("</div><div class=\"m\">", out);
    put_escaped(out, member(a, "message"));
    fputs("</div><div class=\"s\">", out);
    put_escaped(out, member(a, "source"));
    fputs(" &middot; ", out);
    put_escaped(out, member(a, "state"));
    fprintf(out, " &middot; priority %d &middot; %s &middot; pushes: "
            "%lld sent, %lld waiting, %lld failed",
            (int)json_integer_value(json_object_get(a, "priority")), stamp,
            (long long)json_integer_value(json_object_get(d, "sent")),
            (long long)json_integer_value(json_object_get(d, "pending")),
            (long long)json_integer_value(json_object_get(d, "failed")));
    if (url && (strncmp(url, "https://", 8) == 0 ||
                strncmp(url, "http://", 7) == 0)) {
        fputs(" &middot; <a href=\"", out);
        put_escaped(out, url);
        fputs("\">open</a>", out);
    }
    fputs("</div></div>\n", out);
}

char *
board_render(const json_t *alerts, bool delivery_on)
{
    char *page = NULL;
    size_t len = 0, i, open = 0;
    const json_t *a;
    FILE *out = open_memstream(&page, &len);

    if (!out)
        return NULL;
    json_array_foreach(alerts, i, a) {
        const char *st = member(a, "state");

        if (st && (!strcmp(st, "firing") || !strcmp(st, "acknowledged")))
            open++;
    }
    fputs(head, out);
    fprintf(out, "<h1>klaxon &middot; %zu open alert%s</h1>\n", open,
            open == 1 ? "" : "s");
    if (!delivery_on)
        fputs("<p class=\"note\">Delivery is off: no Pushover token is "
              "configured, alerts are stored but not pushed.</p>\n", out);
    json_array_foreach(alerts, i, a)
        put_alert(out, a);
    if (json_array_size(alerts) == 0)
        fputs("<p>No alerts in the last day.</p>\n", out);
    fputs("</body></html>\n", out);
    if (fclose(out) != 0) {
        free(page);
        return NULL;
    }
    return page;
}
