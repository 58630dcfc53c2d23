/*
 * Configuration: the libconfig file turned into plain structs, checked
 * completely before anything uses it. Unknown keys are errors, every
 * problem is reported with its file and line, and secrets may be given
 * as "env:NAME".
 */
#ifndef KLAXON_CONFIG_H
#define KLAXON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "server/alert.h"

/* A NULL-terminated, owned array of owned strings. */
typedef char **strv;

size_t strv_len(strv v);
void strv_free(strv v);
/* A deep copy (an empty one for NULL), or NULL when out of memory. */
strv strv_copy(const strv v);

struct source_conf {
    strv tokens;            /* accepted tokens; empty or NULL: disabled */
    bool random_token;      /* token = "random": made up for this run */
    char *hmac_key;         /* when set, bodies must carry its signature */
    char *hmac_header;      /* header holding the hex HMAC-SHA256 */
};

struct person {
    char *name;
    char *pushover;         /* user key; NULL: cannot be pushed to */
    char *sirportly;        /* Sirportly username; NULL: same as name */
    bool on_call;
};

/* Minutes of the day and weekdays a rule applies to. */
struct rule_hours {
    unsigned days;          /* bit 0 = Sunday .. bit 6 = Saturday */
    int from_min;           /* inclusive */
    int to_min;             /* exclusive; < from_min wraps past midnight */
};

struct rule {
    char *file;             /* where it was defined, for messages */
    int line;

    /* Match: an unset criterion matches everything. */
    int source;             /* enum source, or -1 */
    int state;              /* enum alert_state, or -1 */
    unsigned severities;    /* bit per enum severity; 0 = any */
    strv tags;              /* all must be present */
    char *name;             /* fnmatch glob on the title */
    bool has_hours;
    struct rule_hours hours;

    /* Decision. */
    bool ignore;
    bool has_priority;
    int priority;           /* -2..2 */
    strv to;                /* person names, "@on_call", "@assignee" */
    int siren;              /* -1 unset, 0 no, 1 yes */
    bool repeat;            /* push again even when the state is unchanged */
};

struct pushover_conf {
    char *token;            /* application token; NULL: delivery is off */
    char *api_url;          /* .../1/messages.json */
    int retry;              /* emergency: seconds between repeats (>= 30) */
    int expire;             /* emergency: seconds until it stops (<= 10800) */
    char *callback_url;     /* emergency acknowledgements come back here */
    int give_up_after;      /* seconds after which a push is abandoned */
    int timeout;            /* seconds for one request */
};

struct siren_conf {
    char *driver;           /* none, command, serial, hidrelay, gpio */
    strv on;                /* command driver: argv to switch on */
    strv off;               /* command driver: argv to switch off */
    int duration;           /* seconds it stays on at most */
    char *device;           /* serial tty, hidraw path, or gpiochip */
    int channel;            /* relay channel or GPIO line */
    bool has_quiet_hours;
    struct rule_hours quiet_hours;  /* light only, no sound */
    int sound_channel;      /* channel switched off in quiet hours; 0: none */
};

struct virustotal_conf {
    char *api_key;          /* NULL: lookups are off */
    char *api_url;          /* .../api/v3 */
    int per_minute;
    int per_day;
};

struct scanner_conf {
    strv paths;
    strv exclude;
    char *exclude_file;
    char *baseline;
    char *key;              /* HMAC key for the baseline */
    char *key_file;         /* ... or a 0600 file holding it */
    int interval;           /* seconds between scans in serve; 0: off */
    bool trust_mtime;
    bool one_filesystem;
    int threads;            /* 0: one per core */
    char *host;             /* name in reports; NULL: gethostname() */
    struct virustotal_conf virustotal;
};

struct config {
    char *file;             /* path it was read from; NULL: defaults */

    struct {
        strv listen;        /* "HOST:PORT", "[V6]:PORT", "*:PORT" */
        size_t max_body;
        int max_connections;
        int timeout;        /* idle connection timeout, seconds */
        char *admin_token;
        char *user;         /* drop to this user after binding */
    } server;

    struct {
        char *path;
        int retain_days;    /* events and finished deliveries older: pruned */
    } journal;

    char *timezone;         /* for office hours; NULL: UTC */
    char *log_level;

    struct source_conf sources[SOURCE_COUNT];
    struct person *people;
    size_t npeople;
    struct rule *rules;
    size_t nrules;
    struct pushover_conf pushover;
    struct siren_conf siren;
    struct scanner_conf scanner;
};

/*
 * Problems found while loading: one line each, "FILE:LINE: message".
 */
struct config_errors {
    char **lines;
    size_t count;
};

void config_errors_add(struct config_errors *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void config_errors_free(struct config_errors *e);

/* Fill cfg with the built-in defaults (loopback, ./klaxon.db). */
int config_defaults(struct config *cfg);

/*
 * Load path into cfg (which is initialised here). Returns 0 when the file
 * is valid; -1 when it is not, with every problem appended to errs and
 * cfg left safe to config_free().
 */
int config_load(struct config *cfg, const char *path,
                struct config_errors *errs);

/*
 * Find the config file for -c (NULL: ./klaxon.conf, then
 * /etc/klaxon/klaxon.conf) and load it, or the defaults when no -c was
 * given and neither exists. Errors are printed to stderr. 0 or -1.
 */
int config_load_default(struct config *cfg, const char *explicit_path);

void config_free(struct config *cfg);

/* Fill the random tokens of sources configured with token = "random". */
int config_make_tokens(struct config *cfg);

const struct person *config_person(const struct config *cfg,
                                   const char *name);
/* The person whose Sirportly username is username, or NULL. */
const struct person *config_person_by_sirportly(const struct config *cfg,
                                                const char *username);

#endif
