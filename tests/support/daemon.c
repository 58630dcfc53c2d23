/*
 * Test support: the real daemon in a child process, and an HTTP client.
 */
#include "tests/support/daemon.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/support/testutil.h"

static const char *
klaxon_bin(void)
{
    const char *bin = getenv("KLAXON_BIN");

    return bin && *bin ? bin : "./klaxon";
}

static void
sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    nanosleep(&ts, NULL);
}

void
daemon_init(struct daemon *d)
{
    memset(d, 0, sizeof *d);
    d->dir = test_tempdir();
    snprintf(d->config, sizeof d->config, "%s/klaxon.conf", d->dir);
    snprintf(d->log, sizeof d->log, "%s/klaxon.log", d->dir);
}

void
daemon_write_config(struct daemon *d, const char *fmt, ...)
{
    FILE *f = fopen(d->config, "w");
    va_list ap;

    assert_non_null(f);
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fclose(f);
}

static void
exec_child(struct daemon *d)
{
    int fd = open(d->log, O_WRONLY | O_CREAT | O_APPEND, 0600);

    if (fd < 0)
        _exit(127);
    dup2(fd, STDERR_FILENO);
    dup2(fd, STDOUT_FILENO);
    close(fd);
    if (d->fsize_limit) {
        struct rlimit rl = { d->fsize_limit, RLIM_INFINITY };

        setrlimit(RLIMIT_FSIZE, &rl);
    }
    execl(klaxon_bin(), "klaxon", "serve", "-c", d->config, (char *)NULL);
    _exit(127);
}

/* The port from the daemon's "listening on 127.0.0.1:PORT" line. */
static int
find_port(struct daemon *d)
{
    char *log = daemon_log_text(d), *at;
    int port = 0;

    at = strstr(log, "listening on 127.0.0.1:");
    if (at)
        port = atoi(at + strlen("listening on 127.0.0.1:"));
    free(log);
    return port;
}

void
daemon_start(struct daemon *d)
{
    int port = 0, waited, status;

    truncate(d->log, 0);
    d->pid = fork();
    assert_true(d->pid >= 0);
    if (d->pid == 0)
        exec_child(d);
    for (waited = 0; waited < 10000 && !port; waited += 20) {
        if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
            char *log = daemon_log_text(d);

            d->pid = 0;
            fail_msg("klaxon serve exited at start:\n%s", log);
        }
        sleep_ms(20);
        port = find_port(d);
    }
    if (!port)
        fail_msg("klaxon serve did not start listening in 10 s");
    snprintf(d->base, sizeof d->base, "http://127.0.0.1:%d", port);
}

int
daemon_stop(struct daemon *d)
{
    int status;

    if (d->pid <= 0)
        return -1;
    kill(d->pid, SIGTERM);
    if (waitpid(d->pid, &status, 0) != d->pid)
        return -1;
    d->pid = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void
daemon_kill(struct daemon *d)
{
    if (d->pid <= 0)
        return;
    kill(d->pid, SIGKILL);
    waitpid(d->pid, NULL, 0);
    d->pid = 0;
}

void
daemon_signal(struct daemon *d, int sig)
{
    if (d->pid > 0)
        kill(d->pid, sig);
}

char *
daemon_log_text(struct daemon *d)
{
    return test_read_file(d->log, NULL);
}

int
daemon_wait_log(struct daemon *d, const char *needle, int timeout_ms)
{
    int waited;

    for (waited = 0; waited <= timeout_ms; waited += 20) {
        char *log = daemon_log_text(d);
        int found = strstr(log, needle) != NULL;

        free(log);
        if (found)
            return 0;
        sleep_ms(20);
    }
    return -1;
}

void
daemon_cleanup(struct daemon *d)
{
    if (d->pid > 0)
        daemon_kill(d);
    if (d->dir) {
        test_rmtree(d->dir);
        free(d->dir);
        d->dir = NULL;
    }
}

void
daemon_cleanup_keep_log(struct daemon *d, char **log)
{
    if (d->pid > 0)
        daemon_kill(d);
    *log = d->dir && access(d->log, R_OK) == 0 ? daemon_log_text(d) : NULL;
}

int
klaxon_run(char **output, const char *arg, ...)
{
    const char *argv[16];
    int pipefd[2], status, n = 0;
    char *buf = NULL;
    size_t len = 0;
    FILE *mem;
    va_list ap;
    pid_t pid;

    argv[n++] = "klaxon";
    va_start(ap, arg);
    for (; arg && n < 15; arg = va_arg(ap, const char *))
        argv[n++] = arg;
    va_end(ap);
    argv[n] = NULL;
    assert_int_equal(pipe(pipefd), 0);
    if ((pid = fork()) == 0) {
        dup2(pipefd[1], STDOUT_FILENO);
        dup2(pipefd[1], STDERR_FILENO);
        close(pipefd[0]);
        execv(klaxon_bin(), (char **)argv);
        _exit(127);
    }
    close(pipefd[1]);
    mem = open_memstream(&buf, &len);
    for (;;) {
        char chunk[4096];
        ssize_t got = read(pipefd[0], chunk, sizeof chunk);

        if (got <= 0)
            break;
        fwrite(chunk, 1, got, mem);
    }
    fclose(mem);
    close(pipefd[0]);
    waitpid(pid, &status, 0);
    *output = buf;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static size_t
collect(char *data, size_t size, size_t n, void *arg)
{
    fwrite(data, size, n, arg);
    return size * n;
}

void
http_request(struct http_reply *r, const char *method, const char *url,
             const char *content_type, const char *body, size_t len,
             const char *extra_header)
{
    struct curl_slist *headers = NULL;
    size_t blen = 0, hlen = 0;
    char ctype[160];
    FILE *b, *h;
    CURL *c = curl_easy_init();
    CURLcode rc;

    memset(r, 0, sizeof *r);
    b = open_memstream(&r->body, &blen);
    h = open_memstream(&r->headers, &hlen);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
    }
    snprintf(ctype, sizeof ctype, "Content-Type: %s",
             content_type ? content_type : "");
    headers = curl_slist_append(headers, content_type ? ctype :
                                "Content-Type:");
    headers = curl_slist_append(headers, "Expect:");
    if (extra_header)
        headers = curl_slist_append(headers, extra_header);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
    fclose(b);
    fclose(h);
    if (rc != CURLE_OK)
        fail_msg("%s %s: %s", method, url, curl_easy_strerror(rc));
}

void
http_post_fixture(struct http_reply *r, const char *url, const char *fixture)
{
    size_t len;
    char *body = test_read_file(test_fixture_path(fixture), &len);
    const char *ext = strrchr(fixture, '.');

    http_request(r, "POST", url, ext && strcmp(ext, ".form") == 0 ?
                 "application/x-www-form-urlencoded" : "application/json",
                 body, len, NULL);
    free(body);
}

char *
http_reply_header(const struct http_reply *r, const char *name)
{
    size_t n = strlen(name);
    const char *line = r->headers;

    while (line && *line) {
        const char *end = strchr(line, '\n');

        if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            size_t len;

            while (*v == ' ')
                v++;
            len = (end ? (size_t)(end - v) : strlen(v));
            while (len && (v[len - 1] == '\r' || v[len - 1] == '\n'))
                len--;
            return strndup(v, len);
        }
        line = end ? end + 1 : NULL;
    }
    return NULL;
}

void
http_reply_free(struct http_reply *r)
{
    free(r->body);
    free(r->headers);
    memset(r, 0, sizeof *r);
}
