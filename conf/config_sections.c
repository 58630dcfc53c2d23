/*
 * Reading each top-level section of the config file except the rules.
 */
#include "conf/config_sections.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conf/hours.h"
#include "server/listen.h"

void
config_load_server(struct reader *r, config_setting_t *s, struct config *cfg)
{
    static const char *const keys[] = {
        "listen", "max_body", "max_connections", "timeout", "admin_token",
        "user", NULL,
    };
    struct listen_addr addr;
    char why[128];
    size_t i;

    reader_keys(r, s, keys);
    if (reader_strv(r, s, "listen", &cfg->server.listen, READ_NONEMPTY) > 0) {
        if (!cfg->server.listen[0])
            reader_error(r, config_setting_get_member(s, "listen"),
                         "'listen' needs at least one address");
        for (i = 0; cfg->server.listen[i]; i++) {
            if (listen_parse(cfg->server.listen[i], &addr, why,
                             sizeof why) < 0)
                reader_error(r, config_setting_get_member(s, "listen"),
                             "listen address '%s': %s",
                             cfg->server.listen[i], why);
        }
    }
    reader_size(r, s, "max_body", &cfg->server.max_body, 1, 1LL << 30);
    reader_int(r, s, "max_connections", &cfg->server.max_connections, 1,
               65536);
    reader_int(r, s, "timeout", &cfg->server.timeout, 1, 3600);
    reader_string(r, s, "admin_token", &cfg->server.admin_token,
                  READ_SECRET | READ_NONEMPTY);
    reader_string(r, s, "user", &cfg->server.user, READ_NONEMPTY);
}

void
config_load_journal(struct reader *r, config_setting_t *s,
                    struct config *cfg)
{
    static const char *const keys[] = { "path", "retain_days", NULL };

    reader_keys(r, s, keys);
    reader_string(r, s, "path", &cfg->journal.path, READ_NONEMPTY);
    reader_int(r, s, "retain_days", &cfg->journal.retain_days, 1, 36500);
}

void
config_disable_sources(struct config *cfg)
{
    int i;

    for (i = 0; i < SOURCE_COUNT; i++)
        cfg->sources[i].random_token = false;
}

/* token = "random" asks for a fresh token each run; "" disables. */
static void
load_source(struct reader *r, config_setting_t *s, struct source_conf *src)
{
    static const char *const keys[] = {
        "token", "hmac_key", "hmac_header", NULL,
    };
    size_t i, n;

    reader_keys(r, s, keys);
    if (reader_strv(r, s, "token", &src->tokens, READ_SECRET) > 0) {
        n = strv_len(src->tokens);
        if (n == 1 && strcmp(src->tokens[0], "random") == 0) {
            src->random_token = true;
            free(src->tokens[0]);
            src->tokens[0] = NULL;
        } else if (n == 1 && !src->tokens[0][0]) {
            free(src->tokens[0]);
            src->tokens[0] = NULL;
        }
        for (i = 0; i < n && src->tokens[i]; i++) {
            if (strlen(src->tokens[i]) < 8)
                reader_error(r, config_setting_get_member(s, "token"),
                             "%s token must be at least 8 characters "
                             "long", config_setting_name(s));
        }
    }
    reader_string(r, s, "hmac_key", &src->hmac_key,
                  READ_SECRET | READ_NONEMPTY);
    reader_string(r, s, "hmac_header", &src->hmac_header, READ_NONEMPTY);
    if (src->hmac_key && !src->hmac_header)
        src->hmac_header = strdup("X-Signature");
}

void
config_load_sources(struct reader *r, config_setting_t *s,
                    struct config *cfg)
{
    config_setting_t *m;
    int i, id;

    config_disable_sources(cfg);
    if (!config_setting_is_group(s)) {
        reader_error(r, s, "'sources' must be a group { ... }");
        return;
    }
    for (i = 0; (m = config_setting_get_elem(s, i)); i++) {
        id = source_from_name(config_setting_name(m));
        if (id < 0) {
            reader_error(r, m, "unknown source '%s' (known: pingdom, "
                         "newrelic, sirportly, hashgate, generic)",
                         config_setting_name(m));
            continue;
        }
        if (!config_setting_is_group(m)) {
            reader_error(r, m, "source '%s' must be a group { token = "
                         "\"...\"; }", config_setting_name(m));
            continue;
        }
        load_source(r, m, &cfg->sources[id]);
    }
}

static void
load_person(struct reader *r, config_setting_t *s, struct person *p)
{
    static const char *const keys[] = {
        "name", "pushover", "sirportly", "on_call", NULL,
    };

    reader_keys(r, s, keys);
    if (reader_string(r, s, "name", &p->name, READ_NONEMPTY) == 0)
        reader_error(r, s, "person needs a 'name'");
    else if (p->name && (p->name[0] == '@' || strchr(p->name, ',')))
        reader_error(r, s, "person name '%s' must not start with '@' or "
                     "contain ','", p->name);
    reader_string(r, s, "pushover", &p->pushover,
                  READ_SECRET | READ_NONEMPTY);
    reader_string(r, s, "sirportly", &p->sirportly, READ_NONEMPTY);
    reader_bool(r, s, "on_call", &p->on_call);
}

void
config_load_people(struct reader *r, config_setting_t *s, struct config *cfg)
{
    config_setting_t *m;
    int i, n;
    size_t j;

    if (!config_setting_is_list(s) && !config_setting_is_array(s)) {
        reader_error(r, s, "'people' must be a list ( { name = ...; }, ... )");
        return;
    }
    n = config_setting_length(s);
    if (!(cfg->people = calloc(n ? n : 1, sizeof *cfg->people)))
        return;
    for (i = 0; i < n; i++) {
        m = config_setting_get_elem(s, i);
        if (!config_setting_is_group(m)) {
            reader_error(r, m, "each person must be a group { name = ...; }");
            continue;
        }
        load_person(r, m, &cfg->people[cfg->npeople]);
        if (!cfg->people[cfg->npeople].name) {
            /* Reported already; drop what was read of it. */
            free(cfg->people[cfg->npeople].pushover);
            free(cfg->people[cfg->npeople].sirportly);
            memset(&cfg->people[cfg->npeople], 0, sizeof *cfg->people);
            continue;
        }
        for (j = 0; j < cfg->npeople; j++) {
            if (strcmp(cfg->people[j].name,
                       cfg->people[cfg->npeople].name) == 0)
                reader_error(r, m, "person '%s' is listed twice",
                             cfg->people[j].name);
        }
        cfg->npeople++;
    }
}

void
config_load_pushover(struct reader *r, config_setting_t *s,
                     struct config *cfg)
{
    static const char *const keys[] = {
        "token", "api_url", "retry", "expire", "callback_url",
        "give_up_after", "timeout", NULL,
    };
    struct pushover_conf *p = &cfg->pushover;

    reader_keys(r, s, keys);
    reader_string(r, s, "token", &p->token, READ_SECRET);
    if (p->token && !*p->token) {
        free(p->token);
        p->token = NULL;
    }
    reader_string(r, s, "api_url", &p->api_url, READ_NONEMPTY);
    if (p->api_url && strncmp(p->api_url, "https://", 8) != 0 &&
        strncmp(p->api_url, "http://", 7) != 0)
        reader_error(r, config_setting_get_member(s, "api_url"),
                     "'api_url' must start with https:// or http://");
    /* Pushover's own limits for emergency priority. */
    reader_int(r, s, "retry", &p->retry, 30, 10800);
    reader_int(r, s, "expire", &p->expire, 30, 10800);
    reader_string(r, s, "callback_url", &p->callback_url, READ_NONEMPTY);
    reader_int(r, s, "give_up_after", &p->give_up_after, 60, 30 * 86400);
    reader_int(r, s, "timeout", &p->timeout, 1, 300);
}

static void
load_quiet_hours(struct reader *r, config_setting_t *s, struct config *cfg)
{
    struct siren_conf *sc = &cfg->siren;
    char *range = NULL, *days = NULL;

    if (reader_string(r, s, "quiet_hours", &range, READ_NONEMPTY) > 0) {
        if (hours_parse_range(range, &sc->quiet_hours.from_min,
                              &sc->quiet_hours.to_min) < 0)
            reader_error(r, config_setting_get_member(s, "quiet_hours"),
                         "'quiet_hours' must look like \"22:00-07:00\"");
        else
            sc->has_quiet_hours = true;
    }
    if (reader_string(r, s, "quiet_days", &days, READ_NONEMPTY) > 0 &&
        hours_parse_days(days, &sc->quiet_hours.days) < 0)
        reader_error(r, config_setting_get_member(s, "quiet_days"),
                     "'quiet_days' must look like \"mon-fri\" or "
                     "\"sat,sun\"");
    free(range);
    free(days);
}

void
config_load_siren(struct reader *r, config_setting_t *s, struct config *cfg)
{
    static const char *const keys[] = {
        "driver", "on", "off", "duration", "device", "channel",
        "quiet_hours", "quiet_days", "sound_channel", NULL,
    };
    static const char *const drivers[] = {
        "none", "command", "serial", "hidrelay", "gpio", NULL,
    };
    struct siren_conf *sc = &cfg->siren;
    const char *const *d;

    reader_keys(r, s, keys);
    reader_string(r, s, "driver", &sc->driver, READ_NONEMPTY);
    for (d = drivers; *d && strcmp(*d, sc->driver); d++)
        ;
    if (!*d)
        reader_error(r, config_setting_get_member(s, "driver"),
                     "unknown siren driver '%s' (known: none, command, "
                     "serial, hidrelay, gpio)", sc->driver);
    reader_strv(r, s, "on", &sc->on, READ_NONEMPTY);
    reader_strv(r, s, "off", &sc->off, READ_NONEMPTY);
    reader_int(r, s, "duration", &sc->duration, 1, 86400);
    reader_string(r, s, "device", &sc->device, READ_NONEMPTY);
    reader_int(r, s, "channel", &sc->channel, 0, 255);
    reader_int(r, s, "sound_channel", &sc->sound_channel, 0, 255);
    load_quiet_hours(r, s, cfg);

    if (strcmp(sc->driver, "command") == 0 && (!sc->on || !sc->off))
        reader_error(r, s, "siren driver 'command' needs 'on' and 'off' "
                     "commands");
    if ((strcmp(sc->driver, "serial") == 0 ||
         strcmp(sc->driver, "gpio") == 0) && !sc->device)
        reader_error(r, s, "siren driver '%s' needs a 'device'",
                     sc->driver);
}

static void
load_virustotal(struct reader *r, config_setting_t *s,
                struct virustotal_conf *vt)
{
    static const char *const keys[] = {
        "api_key", "api_url", "per_minute", "per_day", NULL,
    };

    reader_keys(r, s, keys);
    reader_string(r, s, "api_key", &vt->api_key, READ_SECRET);
    if (vt->api_key && !*vt->api_key) {
        free(vt->api_key);
        vt->api_key = NULL;
    }
    reader_string(r, s, "api_url", &vt->api_url, READ_NONEMPTY);
    reader_int(r, s, "per_minute", &vt->per_minute, 1, 100000);
    reader_int(r, s, "per_day", &vt->per_day, 1, 10000000);
}

/* The baseline's HMAC key: long enough, and a key file only its owner
   can read (the scanner creates a missing one with mode 0600). */
static void
check_scanner_key(struct reader *r, config_setting_t *s,
                  const struct scanner_conf *sc)
{
    struct stat st;

    if (sc->key && strlen(sc->key) < 16)
        reader_error(r, config_setting_get_member(s, "key"),
                     "scanner 'key' must be at least 16 characters");
    if (sc->key_file && stat(sc->key_file, &st) == 0 &&
        (st.st_mode & 077) != 0)
        reader_error(r, config_setting_get_member(s, "key_file"),
                     "key file '%s' must not be readable by others "
                     "(mode %04o; chmod 600 it)", sc->key_file,
                     (unsigned)(st.st_mode & 07777));
}

void
config_load_scanner(struct reader *r, config_setting_t *s,
                    struct config *cfg)
{
    static const char *const keys[] = {
        "paths", "exclude", "exclude_file", "baseline", "key", "key_file",
        "interval", "trust_mtime", "one_filesystem", "threads", "host",
        "virustotal", NULL,
    };
    struct scanner_conf *sc = &cfg->scanner;
    config_setting_t *vt;

    reader_keys(r, s, keys);
    reader_strv(r, s, "paths", &sc->paths, READ_NONEMPTY);
    reader_strv(r, s, "exclude", &sc->exclude, 0);
    reader_string(r, s, "exclude_file", &sc->exclude_file, READ_NONEMPTY);
    reader_string(r, s, "baseline", &sc->baseline, READ_NONEMPTY);
    reader_string(r, s, "key", &sc->key, READ_SECRET | READ_NONEMPTY);
    reader_string(r, s, "key_file", &sc->key_file, READ_NONEMPTY);
    reader_int(r, s, "interval", &sc->interval, 0, 30 * 86400);
    reader_bool(r, s, "trust_mtime", &sc->trust_mtime);
    reader_bool(r, s, "one_filesystem", &sc->one_filesystem);
    reader_int(r, s, "threads", &sc->threads, 0, 256);
    reader_string(r, s, "host", &sc->host, READ_NONEMPTY);
    if ((vt = config_setting_get_member(s, "virustotal")))
        load_virustotal(r, vt, &sc->virustotal);
    if (sc->key && sc->key_file)
        reader_error(r, s, "give the scanner 'key' or 'key_file', not both");
    check_scanner_key(r, s, sc);
}
