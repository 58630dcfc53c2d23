/*
 * Running the real klaxon binary in tests: write a config, start
 * "klaxon serve" on an ephemeral loopback port, talk HTTP to it, stop or
 * kill it, read what it logged.
 */
#ifndef KLAXON_DAEMON_H
#define KLAXON_DAEMON_H

#include <stddef.h>
#include <sys/types.h>

struct daemon {
    pid_t pid;
    char *dir;              /* private temp dir: config, journal, log */
    char config[512];
    char log[512];
    char base[64];          /* "http://127.0.0.1:PORT" */
    long fsize_limit;       /* RLIMIT_FSIZE soft limit in bytes; 0: none */
};

/* A fresh temp dir for d (removed by daemon_cleanup). */
void daemon_init(struct daemon *d);

/* Write text (a printf format) as d's config file. */
void daemon_write_config(struct daemon *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Start serve on d's config, wait until it listens (fails the test
   after 10 s). The binary is $KLAXON_BIN (default ./klaxon). */
void daemon_start(struct daemon *d);

/* SIGTERM and wait; returns the exit status (-1 on a signal death). */
int daemon_stop(struct daemon *d);

/* SIGKILL and reap. */
void daemon_kill(struct daemon *d);

/* Send a signal (SIGHUP for a reload). */
void daemon_signal(struct daemon *d, int sig);

/* The log so far (caller frees). */
char *daemon_log_text(struct daemon *d);

/* Wait until the log contains needle; 0, or -1 after timeout_ms. */
int daemon_wait_log(struct daemon *d, const char *needle, int timeout_ms);

/* Stop if running, remove the temp dir. */
void daemon_cleanup(struct daemon *d);

/* Stop if running and hand over the log (caller frees; NULL if none),
   before daemon_cleanup removes it. */
void daemon_cleanup_keep_log(struct daemon *d, char **log);

/* Run the klaxon binary with args (NULL-terminated), capturing stdout
   and stderr together into *output (caller frees). Returns the exit
   status. */
int klaxon_run(char **output, const char *arg, ...);

struct http_reply {
    long status;
    char *body;             /* NUL-terminated */
    char *headers;          /* raw response headers */
};

/*
 * One request with libcurl. method "GET"/"POST"/...; content_type and
 * body may be NULL; extra_header is one "Name: value" or NULL. Fails the
 * test when no answer comes within 10 s.
 */
void http_request(struct http_reply *r, const char *method, const char *url,
                  const char *content_type, const char *body, size_t len,
                  const char *extra_header);

/* POST a fixture file (content type from its extension). */
void http_post_fixture(struct http_reply *r, const char *url,
                       const char *fixture);

/* The value of header name in r (caller frees), or NULL. */
char *http_reply_header(const struct http_reply *r, const char *name);

void http_reply_free(struct http_reply *r);

#endif
