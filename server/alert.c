/*
 * Normalized alert: construction, destruction, names and JSON form.
 */
#include "server/alert.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "notifiers/pushover.h"
#include "notifiers/utf8.h"

static const char *const source_names[SOURCE_COUNT] = {
    "pingdom", "newrelic", "sirportly", "hashgate", "generic",
};

static const char *const state_names[ALERT_STATE_COUNT] = {
    "firing", "resolved", "info", "acknowledged",
};

static const char *const severity_names[SEVERITY_COUNT] = {
    "critical", "high", "warning", "medium", "low", "info",
};

void
alert_init(struct alert *a, enum source source)
{
    memset(a, 0, sizeof *a);
    a->source = source;
    a->state = ALERT_FIRING;
    a->severity = SEVERITY_CRITICAL;
    a->priority = ALERT_NO_PRIORITY;
    a->tags = json_array();
}

void
alert_free(struct alert *a)
{
    free(a->key);
    free(a->title);
    free(a->message);
    free(a->url);
    free(a->url_title);
    free(a->assignee);
    free(a->kind);
    free(a->revision);
    json_decref(a->tags);
    memset(a, 0, sizeof *a);
}

int
alert_set(char **field, const char *value)
{
    char *copy = NULL;

    if (value && !(copy = strdup(value)))
        return -1;
    free(*field);
    *field = copy;
    return 0;
}

int
alert_setf(char **field, const char *fmt, ...)
{
    va_list ap;
    char *s;
    int n;

    va_start(ap, fmt);
    n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    free(*field);
    *field = s;
    return 0;
}

int
alert_add_tag(struct alert *a, const char *tag)
{
    if (!a->tags && !(a->tags = json_array()))
        return -1;
    if (json_array_size(a->tags) >= ALERT_MAX_TAGS)
        return 0;
    return json_array_append_new(a->tags, json_string(tag));
}

static int
clip(char **field, size_t max)
{
    char *cut;

    if (!*field || utf8_count(*field, strlen(*field)) <= max)
        return 0;
    if (!(cut = utf8_cut(*field, strlen(*field), max, NULL)))
        return -1;
    free(*field);
    *field = cut;
    return 0;
}

int
alert_clip(struct alert *a)
{
    /* A URL cut short points somewhere else: drop it instead. */
    if (a->url && strlen(a->url) > PUSHOVER_URL_MAX) {
        free(a->url);
        a->url = NULL;
    }
    if (clip(&a->title, PUSHOVER_TITLE_MAX) < 0 ||
        clip(&a->message, PUSHOVER_MESSAGE_MAX) < 0 ||
        clip(&a->url_title, PUSHOVER_URL_TITLE_MAX) < 0)
        return -1;
    return 0;
}

bool
alert_has_tag(const struct alert *a, const char *tag)
{
    size_t i;
    json_t *t;

    json_array_foreach(a->tags, i, t) {
        if (json_is_string(t) && strcmp(json_string_value(t), tag) == 0)
            return true;
    }
    return false;
}

static void
put_string(json_t *o, const char *name, const char *value)
{
    json_object_set_new(o, name, value ? json_string(value) : json_null());
}

json_t *
alert_to_json(const struct alert *a)
{
    json_t *o = json_object();
    char when[32];
    struct tm tm;

    if (!o)
        return NULL;
    gmtime_r(&a->time, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    put_string(o, "source", source_name(a->source));
    put_string(o, "key", a->key);
    put_string(o, "state", alert_state_name(a->state));
    put_string(o, "severity", severity_name(a->severity));
    put_string(o, "title", a->title);
    put_string(o, "message", a->message);
    put_string(o, "url", a->url);
    put_string(o, "url_title", a->url_title);
    json_object_set(o, "tags", a->tags ? a->tags : json_array());
    put_string(o, "time", when);
    if (a->priority != ALERT_NO_PRIORITY)
        json_object_set_new(o, "priority", json_integer(a->priority));
    if (a->assignee)
        put_string(o, "assignee", a->assignee);
    if (a->kind)
        put_string(o, "kind", a->kind);
    if (a->revision)
        put_string(o, "revision", a->revision);
    if (a->source == SOURCE_HASHGATE)
        json_object_set_new(o, "malicious", json_boolean(a->malicious));
    return o;
}

static int
name_index(const char *const *names, int count, const char *name)
{
    int i;

    if (!name)
        return -1;
    for (i = 0; i < count; i++) {
        if (strcasecmp(names[i], name) == 0)
            return i;
    }
    return -1;
}

const char *
source_name(enum source s)
{
    return (unsigned)s < SOURCE_COUNT ? source_names[s] : "unknown";
}

int
source_from_name(const char *name)
{
    return name_index(source_names, SOURCE_COUNT, name);
}

const char *
alert_state_name(enum alert_state s)
{
    return (unsigned)s < ALERT_STATE_COUNT ? state_names[s] : "unknown";
}

int
alert_state_from_name(const char *name)
{
    return name_index(state_names, ALERT_STATE_COUNT, name);
}

const char *
severity_name(enum severity s)
{
    return (unsigned)s < SEVERITY_COUNT ? severity_names[s] : "unknown";
}

int
severity_from_name(const char *name)
{
    return name_index(severity_names, SEVERITY_COUNT, name);
}
