/*
 * Reading the ordered rule list, and the checks that span sections.
 *
 *   rules = ( { source = "pingdom"; state = "firing"; tags = ["vip"];
 *               days = "mon-fri"; hours = "09:00-17:30";
 *               priority = 2; to = ["@on_call"]; siren = true; } );
 */
#include "conf/config_sections.h"

#include <stdlib.h>
#include <string.h>

#include "conf/hours.h"

static void
load_severities(struct reader *r, config_setting_t *s, struct rule *rule)
{
    strv names = NULL;
    size_t i;
    int sev;

    if (reader_strv(r, s, "severity", &names, READ_NONEMPTY) <= 0)
        return;
    for (i = 0; names[i]; i++) {
        if ((sev = severity_from_name(names[i])) < 0)
            reader_error(r, config_setting_get_member(s, "severity"),
                         "unknown severity '%s' (known: critical, high, "
                         "warning, medium, low, info)", names[i]);
        else
            rule->severities |= 1u << sev;
    }
    strv_free(names);
}

static void
load_match(struct reader *r, config_setting_t *s, struct rule *rule)
{
    char *text = NULL;

    if (reader_string(r, s, "source", &text, READ_NONEMPTY) > 0 &&
        (rule->source = source_from_name(text)) < 0)
        reader_error(r, config_setting_get_member(s, "source"),
                     "unknown source '%s'", text);
    free(text);
    text = NULL;
    if (reader_string(r, s, "state", &text, READ_NONEMPTY) > 0 &&
        (rule->state = alert_state_from_name(text)) < 0)
        reader_error(r, config_setting_get_member(s, "state"),
                     "unknown state '%s' (known: firing, resolved, info, "
                     "acknowledged)", text);
    free(text);
    text = NULL;
    load_severities(r, s, rule);
    reader_strv(r, s, "tags", &rule->tags, READ_NONEMPTY);
    reader_string(r, s, "name", &rule->name, READ_NONEMPTY);

    rule->hours.from_min = 0;
    rule->hours.to_min = 24 * 60;
    if (reader_string(r, s, "days", &text, READ_NONEMPTY) > 0) {
        rule->has_hours = true;
        if (hours_parse_days(text, &rule->hours.days) < 0)
            reader_error(r, config_setting_get_member(s, "days"),
                         "'days' must look like \"mon-fri\" or "
                         "\"sat,sun\"");
    }
    free(text);
    text = NULL;
    if (reader_string(r, s, "hours", &text, READ_NONEMPTY) > 0) {
        rule->has_hours = true;
        if (hours_parse_range(text, &rule->hours.from_min,
                              &rule->hours.to_min) < 0)
            reader_error(r, config_setting_get_member(s, "hours"),
                         "'hours' must look like \"09:00-17:30\"");
    }
    free(text);
}

static void
load_rule(struct reader *r, config_setting_t *s, struct rule *rule)
{
    static const char *const keys[] = {
        "source", "state", "severity", "tags", "name", "days", "hours",
        "ignore", "priority", "to", "siren", "repeat", NULL,
    };
    bool siren;

    rule->source = -1;
    rule->state = -1;
    rule->siren = -1;
    rule->line = config_setting_source_line(s);
    rule->file = strdup(config_setting_source_file(s) ?
                        config_setting_source_file(s) : r->file);
    reader_keys(r, s, keys);
    load_match(r, s, rule);

    reader_bool(r, s, "ignore", &rule->ignore);
    if (reader_int(r, s, "priority", &rule->priority, -2, 2) > 0)
        rule->has_priority = true;
    reader_strv(r, s, "to", &rule->to, READ_NONEMPTY);
    if (reader_bool(r, s, "siren", &siren) > 0)
        rule->siren = siren;
    reader_bool(r, s, "repeat", &rule->repeat);
    if (rule->ignore && (rule->has_priority || rule->to || rule->siren >= 0))
        reader_error(r, s, "an 'ignore' rule takes no priority, to or "
                     "siren");
}

void
config_load_rules(struct reader *r, config_setting_t *s, struct config *cfg)
{
    config_setting_t *m;
    int i, n;

    if (!config_setting_is_list(s)) {
        reader_error(r, s, "'rules' must be a list ( { ... }, ... )");
        return;
    }
    n = config_setting_length(s);
    if (!(cfg->rules = calloc(n ? n : 1, sizeof *cfg->rules)))
        return;
    for (i = 0; i < n; i++) {
        m = config_setting_get_elem(s, i);
        if (!config_setting_is_group(m)) {
            reader_error(r, m, "each rule must be a group { ... }");
            continue;
        }
        load_rule(r, m, &cfg->rules[cfg->nrules++]);
    }
}

/* Recipients must be "@on_call", "@assignee" or a listed person. */
static void
check_recipients(struct reader *r, const struct config *cfg,
                 const struct rule *rule)
{
    size_t i;

    for (i = 0; rule->to && rule->to[i]; i++) {
        if (strcmp(rule->to[i], "@on_call") == 0 ||
            strcmp(rule->to[i], "@assignee") == 0)
            continue;
        if (!config_person(cfg, rule->to[i]))
            config_errors_add(r->errs, "%s:%d: rule sends to '%s', who is "
                              "not in 'people'", rule->file, rule->line,
                              rule->to[i]);
    }
}

void
config_check(struct reader *r, struct config *cfg)
{
    size_t i;

    for (i = 0; i < cfg->nrules; i++)
        check_recipients(r, cfg, &cfg->rules[i]);
}
