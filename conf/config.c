/*
 * Configuration loading: defaults, then the libconfig file section by
 * section, then checks across sections. Every problem is collected with
 * its file and line so an operator sees all of them in one run.
 */
#include "conf/config.h"

#include <errno.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/config_sections.h"
#include "conf/reader.h"

size_t
strv_len(strv v)
{
    size_t n = 0;

    while (v && v[n])
        n++;
    return n;
}

void
strv_free(strv v)
{
    size_t i;

    for (i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

strv
strv_copy(const strv v)
{
    size_t i, n = strv_len(v);
    strv copy;

    if (!(copy = calloc(n + 1, sizeof *copy)))
        return NULL;
    for (i = 0; i < n; i++) {
        if (!(copy[i] = strdup(v[i]))) {
            strv_free(copy);
            return NULL;
        }
    }
    return copy;
}

/* A strv holding a copy of one string. */
static strv
strv_of(const char *first)
{
    strv v = calloc(2, sizeof *v);

    if (v && !(v[0] = strdup(first))) {
        free(v);
        return NULL;
    }
    return v;
}

void
config_errors_add(struct config_errors *e, const char *fmt, ...)
{
    char **grown, *line;
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vasprintf(&line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (!(grown = realloc(e->lines, (e->count + 1) * sizeof *grown))) {
        free(line);
        return;
    }
    e->lines = grown;
    e->lines[e->count++] = line;
}

void
config_errors_free(struct config_errors *e)
{
    size_t i;

    for (i = 0; i < e->count; i++)
        free(e->lines[i]);
    free(e->lines);
    e->lines = NULL;
    e->count = 0;
}

int
config_defaults(struct config *cfg)
{
    int s;

    memset(cfg, 0, sizeof *cfg);
    cfg->server.listen = strv_of("127.0.0.1:8080");
    cfg->server.max_body = 1048576;
    cfg->server.max_connections = 4096;
    cfg->server.timeout = 30;
    cfg->journal.path = strdup("klaxon.db");
    cfg->journal.retain_days = 30;
    for (s = 0; s < SOURCE_COUNT; s++)
        cfg->sources[s].random_token = true;
    cfg->pushover.api_url = strdup("https://api.pushover.net/1/messages.json");
    cfg->pushover.retry = 60;
    cfg->pushover.expire = 3600;
    cfg->pushover.give_up_after = 86400;
    cfg->pushover.timeout = 15;
    cfg->siren.driver = strdup("none");
    cfg->siren.duration = 60;
    cfg->siren.channel = 1;
    cfg->scanner.baseline = strdup("baseline.db");
    cfg->scanner.interval = 3600;
    cfg->scanner.virustotal.api_url =
        strdup("https://www.virustotal.com/api/v3");
    cfg->scanner.virustotal.per_minute = 4;
    cfg->scanner.virustotal.per_day = 500;
    if (!cfg->server.listen || !cfg->journal.path || !cfg->pushover.api_url ||
        !cfg->siren.driver || !cfg->scanner.baseline ||
        !cfg->scanner.virustotal.api_url)
        return -1;
    return 0;
}

static const char *const top_keys[] = {
    "server", "journal", "sources", "people", "pushover", "siren",
    "scanner", "rules", "timezone", "log_level", NULL,
};

static void
load_top(struct reader *r, config_t *lc, struct config *cfg)
{
    config_setting_t *root = config_root_setting(lc), *s;

    reader_keys(r, root, top_keys);
    reader_string(r, root, "timezone", &cfg->timezone, READ_NONEMPTY);
    reader_string(r, root, "log_level", &cfg->log_level, READ_NONEMPTY);
    if (cfg->log_level && strcmp(cfg->log_level, "debug") != 0 &&
        strcmp(cfg->log_level, "info") != 0 &&
        strcmp(cfg->log_level, "warn") != 0 &&
        strcmp(cfg->log_level, "error") != 0)
        reader_error(r, config_setting_get_member(root, "log_level"),
                     "'log_level' must be debug, info, warn or error");
    if (cfg->timezone) {
        char path[512];

        snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", cfg->timezone);
        if (strstr(cfg->timezone, "..") || access(path, R_OK) != 0)
            reader_error(r, config_setting_get_member(root, "timezone"),
                         "unknown time zone '%s'", cfg->timezone);
    }

    if ((s = config_setting_get_member(root, "server")))
        config_load_server(r, s, cfg);
    if ((s = config_setting_get_member(root, "journal")))
        config_load_journal(r, s, cfg);
    /* A config file that names its sources enables only those. */
    if ((s = config_setting_get_member(root, "sources")))
        config_load_sources(r, s, cfg);
    else
        config_disable_sources(cfg);
    if ((s = config_setting_get_member(root, "people")))
        config_load_people(r, s, cfg);
    if ((s = config_setting_get_member(root, "pushover")))
        config_load_pushover(r, s, cfg);
    if ((s = config_setting_get_member(root, "siren")))
        config_load_siren(r, s, cfg);
    if ((s = config_setting_get_member(root, "scanner")))
        config_load_scanner(r, s, cfg);
    if ((s = config_setting_get_member(root, "rules")))
        config_load_rules(r, s, cfg);
}

int
config_load(struct config *cfg, const char *path, struct config_errors *errs)
{
    struct reader r = { errs, path };
    size_t before = errs->count;
    config_t lc;

    if (config_defaults(cfg) < 0)
        return -1;
    if (!(cfg->file = strdup(path)))
        return -1;
    config_init(&lc);
    errno = 0;
    if (config_read_file(&lc, path) != CONFIG_TRUE) {
        if (config_error_type(&lc) == CONFIG_ERR_FILE_IO)
            config_errors_add(errs, "%s: cannot read the file: %s", path,
                              strerror(errno ? errno : EIO));
        else
            config_errors_add(errs, "%s:%d: %s", config_error_file(&lc) ?
                              config_error_file(&lc) : path,
                              config_error_line(&lc),
                              config_error_text(&lc));
        config_destroy(&lc);
        return -1;
    }
    load_top(&r, &lc, cfg);
    config_check(&r, cfg);
    config_destroy(&lc);
    return errs->count > before ? -1 : 0;
}

static void
print_errors(const struct config_errors *errs)
{
    size_t i;

    for (i = 0; i < errs->count; i++)
        fprintf(stderr, "%s\n", errs->lines[i]);
}

int
config_load_default(struct config *cfg, const char *explicit_path)
{
    static const char *const candidates[] = {
        "klaxon.conf", "/etc/klaxon/klaxon.conf",
    };
    struct config_errors errs = { 0 };
    const char *path = explicit_path;
    size_t i;
    int rc;

    for (i = 0; !path && i < 2; i++) {
        if (access(candidates[i], F_OK) == 0)
            path = candidates[i];
    }
    if (!path) {
        fprintf(stderr, "info config: no config file (looked for "
                "./klaxon.conf and /etc/klaxon/klaxon.conf): using the "
                "built-in defaults\n");
        return config_defaults(cfg);
    }
    rc = config_load(cfg, path, &errs);
    if (rc < 0 && errs.count == 0)
        fprintf(stderr, "%s: out of memory while loading\n", path);
    print_errors(&errs);
    config_errors_free(&errs);
    return rc;
}

static void
rules_free(struct rule *rules, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        free(rules[i].file);
        strv_free(rules[i].tags);
        free(rules[i].name);
        strv_free(rules[i].to);
    }
    free(rules);
}

void
config_free(struct config *cfg)
{
    size_t i;
    int s;

    free(cfg->file);
    strv_free(cfg->server.listen);
    free(cfg->server.admin_token);
    free(cfg->server.user);
    free(cfg->journal.path);
    free(cfg->timezone);
    free(cfg->log_level);
    for (s = 0; s < SOURCE_COUNT; s++) {
        strv_free(cfg->sources[s].tokens);
        free(cfg->sources[s].hmac_key);
        free(cfg->sources[s].hmac_header);
    }
    for (i = 0; i < cfg->npeople; i++) {
        free(cfg->people[i].name);
        free(cfg->people[i].pushover);
        free(cfg->people[i].sirportly);
    }
    free(cfg->people);
    rules_free(cfg->rules, cfg->nrules);
    free(cfg->pushover.token);
    free(cfg->pushover.api_url);
    free(cfg->pushover.callback_url);
    free(cfg->siren.driver);
    strv_free(cfg->siren.on);
    strv_free(cfg->siren.off);
    free(cfg->siren.device);
    strv_free(cfg->scanner.paths);
    strv_free(cfg->scanner.exclude);
    free(cfg->scanner.exclude_file);
    free(cfg->scanner.baseline);
    free(cfg->scanner.key);
    free(cfg->scanner.key_file);
    free(cfg->scanner.host);
    free(cfg->scanner.virustotal.api_key);
    free(cfg->scanner.virustotal.api_url);
    memset(cfg, 0, sizeof *cfg);
}

int
config_make_tokens(struct config *cfg)
{
    unsigned char raw[18];
    char hex[sizeof raw * 2 + 1];
    size_t i;
    int s;

    for (s = 0; s < SOURCE_COUNT; s++) {
        struct source_conf *src = &cfg->sources[s];

        if (!src->random_token || strv_len(src->tokens) > 0)
            continue;
        if (getentropy(raw, sizeof raw) < 0)
            return -1;
        for (i = 0; i < sizeof raw; i++)
            sprintf(hex + 2 * i, "%02x", raw[i]);
        strv_free(src->tokens);
        if (!(src->tokens = calloc(2, sizeof *src->tokens)) ||
            !(src->tokens[0] = strdup(hex)))
            return -1;
    }
    return 0;
}

const struct person *
config_person(const struct config *cfg, const char *name)
{
    size_t i;

    for (i = 0; i < cfg->npeople; i++) {
        if (strcmp(cfg->people[i].name, name) == 0)
            return &cfg->people[i];
    }
    return NULL;
}

const struct person *
config_person_by_sirportly(const struct config *cfg, const char *username)
{
    size_t i;
    const char *u;

    for (i = 0; i < cfg->npeople; i++) {
        u = cfg->people[i].sirportly ? cfg->people[i].sirportly :
            cfg->people[i].name;
        if (strcmp(u, username) == 0)
            return &cfg->people[i];
    }
    return NULL;
}
