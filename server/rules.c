/*
 * Rule matching and the built-in defaults of each source.
 */
#include "server/rules.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/hours.h"
#include "server/log.h"

/* What each source gets when no rule says otherwise. */
static void
default_decision(const struct alert *a, struct decision *d)
{
    d->priority = 0;
    d->siren = false;
    switch (a->source) {
    case SOURCE_PINGDOM:
        if (a->state == ALERT_FIRING && a->severity == SEVERITY_CRITICAL) {
            d->priority = 1;
            d->siren = true;
        }
        break;
    case SOURCE_NEWRELIC:
        if (a->state != ALERT_FIRING)
            d->priority = -1;
        else if (a->severity == SEVERITY_CRITICAL) {
            d->priority = 1;
            d->siren = true;
        } else if (a->severity == SEVERITY_MEDIUM ||
                   a->severity == SEVERITY_LOW ||
                   a->severity == SEVERITY_INFO)
            d->priority = -1;
        break;
    case SOURCE_SIRPORTLY:
        if (a->kind && (strcmp(a->kind, "staff_reply") == 0 ||
                        strcmp(a->kind, "status") == 0))
            d->priority = -1;
        break;
    case SOURCE_HASHGATE:
        if (a->state != ALERT_FIRING)
            break;              /* a clean check: the all-clear, at 0 */
        /* A flagged file or a forged baseline means a break-in. */
        d->siren = a->malicious ||
                   (a->kind && strcmp(a->kind, "baseline") == 0);
        d->priority = d->siren ? 2 : 1;
        break;
    case SOURCE_GENERIC:
    default:
        if (a->priority != ALERT_NO_PRIORITY)
            d->priority = a->priority;
        break;
    }
}

static bool
tags_match(const struct rule *r, const struct alert *a)
{
    size_t i;

    for (i = 0; r->tags && r->tags[i]; i++) {
        if (!alert_has_tag(a, r->tags[i]))
            return false;
    }
    return true;
}

static bool
rule_matches(const struct rule *r, const struct alert *a, time_t now)
{
    struct tm tm;

    if (r->source >= 0 && r->source != (int)a->source)
        return false;
    if (r->state >= 0 && r->state != (int)a->state)
        return false;
    if (r->severities && !(r->severities & (1u << a->severity)))
        return false;
    if (!tags_match(r, a))
        return false;
    if (r->name && fnmatch(r->name, a->title ? a->title : "",
                           FNM_CASEFOLD) != 0)
        return false;
    if (r->has_hours) {
        localtime_r(&now, &tm);
        if (!hours_contain(&r->hours, &tm))
            return false;
    }
    return true;
}

static int
add_recipient(struct decision *d, const char *name)
{
    size_t n = strv_len(d->recipients), i;
    strv grown;

    for (i = 0; i < n; i++) {
        if (strcmp(d->recipients[i], name) == 0)
            return 0;
    }
    if (!(grown = realloc(d->recipients, (n + 2) * sizeof *grown)))
        return -1;
    d->recipients = grown;
    if (!(grown[n] = strdup(name)))
        return -1;
    grown[n + 1] = NULL;
    return 0;
}

/* Add to the note, with name quoted and cut: it may come from a
   sender and the note ends up in the log. */
static void
add_note(struct decision *d, const char *fmt, const char *name)
{
    size_t used = strlen(d->note);
    char quoted[48];

    if (used && used < sizeof d->note - 2) {
        d->note[used++] = ';';
        d->note[used++] = ' ';
    }
    snprintf(d->note + used, sizeof d->note - used, fmt,
             log_quote(quoted, sizeof quoted, name));
}

/* Expand one "to" entry into people who can be pushed to. */
static int
resolve_target(const struct config *cfg, const struct alert *a,
               const char *target, struct decision *d)
{
    const struct person *p;
    size_t i;

    if (strcmp(target, "@on_call") == 0) {
        for (i = 0; i < cfg->npeople; i++) {
            if (cfg->people[i].on_call &&
                resolve_target(cfg, a, cfg->people[i].name, d) < 0)
                return -1;
        }
        return 0;
    }
    if (strcmp(target, "@assignee") == 0) {
        if (!a->assignee)
            return 0;
        if (!(p = config_person_by_sirportly(cfg, a->assignee))) {
            add_note(d, "assignee %s is not in people", a->assignee);
            return 0;
        }
        target = p->name;
    }
    if (!(p = config_person(cfg, target))) {
        add_note(d, "%s is not in people", target);
        return 0;
    }
    if (!p->pushover) {
        add_note(d, "%s has no pushover key", p->name);
        return 0;
    }
    return add_recipient(d, p->name);
}

int
rules_decide(const struct config *cfg, const struct alert *a, time_t now,
             struct decision *d)
{
    static const char *const on_call[] = { "@on_call", NULL };
    static const char *const assignee[] = { "@assignee", NULL };
    const char *const *to;
    size_t i;

    memset(d, 0, sizeof *d);
    default_decision(a, d);
    to = a->source == SOURCE_SIRPORTLY ? assignee : on_call;
    for (i = 0; i < cfg->nrules; i++) {
        if (rule_matches(&cfg->rules[i], a, now)) {
            d->rule = &cfg->rules[i];
            break;
        }
    }
    if (d->rule) {
        d->ignore = d->rule->ignore;
        if (d->rule->has_priority)
            d->priority = d->rule->priority;
        if (d->rule->siren >= 0)
            d->siren = d->rule->siren;
        if (d->rule->to)
            to = (const char *const *)d->rule->to;
        d->repeat = d->rule->repeat;
    }
    if (a->state != ALERT_FIRING)
        d->siren = false;
    if (d->ignore)
        return 0;
    for (; *to; to++) {
        if (resolve_target(cfg, a, *to, d) < 0)
            return -1;
    }
    return 0;
}

void
decision_free(struct decision *d)
{
    strv_free(d->recipients);
    d->recipients = NULL;
}

json_t *
decision_to_json(const struct decision *d)
{
    json_t *o = json_object(), *to = json_array();
    char where[300];
    size_t i;

    for (i = 0; d->recipients && d->recipients[i]; i++)
        json_array_append_new(to, json_string(d->recipients[i]));
    if (d->rule)
        snprintf(where, sizeof where, "%s:%d", d->rule->file, d->rule->line);
    json_object_set_new(o, "ignore", json_boolean(d->ignore));
    json_object_set_new(o, "priority", json_integer(d->priority));
    json_object_set_new(o, "siren", json_boolean(d->siren));
    json_object_set_new(o, "recipients", to);
    json_object_set_new(o, "repeat", json_boolean(d->repeat));
    json_object_set_new(o, "rule", d->rule ? json_string(where) :
                        json_string("default"));
    if (d->note[0])
        json_object_set_new(o, "note", json_string(d->note));
    return o;
}

void
rules_set_timezone(const char *zone)
{
    setenv("TZ", zone ? zone : "UTC", 1);
    tzset();
}
