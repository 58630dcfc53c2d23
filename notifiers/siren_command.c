/*
 * The "command" siren driver: switching is running a program, the
 * configured `on` or `off` argv (to play a siren sound, or to drive
 * hardware klaxon has no driver for).
 *
 * The argv is run as given, never through a shell, so nothing in it is
 * interpreted. The program learns the channel from KLAXON_SIREN_CHANNEL.
 * It runs in its own process group with default signal handling and
 * stdin from /dev/null; if it is still running after the timeout, the
 * whole group is killed, so a hung program cannot hold up the siren.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "notifiers/siren_driver.h"
#include "server/clock.h"

#define CHANNEL_VAR "KLAXON_SIREN_CHANNEL="

extern char **environ;

struct command_driver {
    struct siren_driver base;
    strv on;
    strv off;
    int timeout_ms;
};

/* The environment of this process with the channel put in. */
static char **
child_environ(int channel, char *var, size_t varlen)
{
    size_t i, n = 0;
    char **env;

    while (environ && environ[n])
        n++;
    if (!(env = calloc(n + 2, sizeof *env)))
        return NULL;
    snprintf(var, varlen, CHANNEL_VAR "%d", channel);
    env[0] = var;
    for (i = 0, n = 1; environ && environ[i]; i++) {
        if (strncmp(environ[i], CHANNEL_VAR, strlen(CHANNEL_VAR)) != 0)
            env[n++] = environ[i];
    }
    return env;
}

/* Fresh process group, no blocked signals, default dispositions (the
   daemon blocks and ignores some), stdin from /dev/null and no
   inherited descriptors beyond stderr and stdout. */
static int
spawn_setup(posix_spawnattr_t *attr, posix_spawn_file_actions_t *fa)
{
    static const int reset[] = {
        SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD, SIGALRM,
        SIGUSR1, SIGUSR2,
    };
    sigset_t none, dfl;
    size_t i;

    sigemptyset(&none);
    sigemptyset(&dfl);
    for (i = 0; i < sizeof reset / sizeof reset[0]; i++)
        sigaddset(&dfl, reset[i]);
    if (posix_spawnattr_init(attr) != 0)
        return -1;
    if (posix_spawn_file_actions_init(fa) != 0) {
        posix_spawnattr_destroy(attr);
        return -1;
    }
    if (posix_spawnattr_setflags(attr, POSIX_SPAWN_SETPGROUP |
                                 POSIX_SPAWN_SETSIGMASK |
                                 POSIX_SPAWN_SETSIGDEF) != 0 ||
        posix_spawnattr_setpgroup(attr, 0) != 0 ||
        posix_spawnattr_setsigmask(attr, &none) != 0 ||
        posix_spawnattr_setsigdefault(attr, &dfl) != 0 ||
        posix_spawn_file_actions_addopen(fa, STDIN_FILENO, "/dev/null",
                                         O_RDONLY, 0) != 0 ||
        posix_spawn_file_actions_addclosefrom_np(fa, 3) != 0) {
        posix_spawn_file_actions_destroy(fa);
        posix_spawnattr_destroy(attr);
        return -1;
    }
    return 0;
}

/* Wait for pid at most timeout_ms: 0 with its status, 1 if it is still
   running, -1 if it cannot be waited for. */
static int
wait_child(pid_t pid, int timeout_ms, int *status)
{
    int64_t deadline = clock_mono_ms() + timeout_ms;
    struct timespec pause = { 0, 1000000 };
    pid_t r;

    for (;;) {
        r = waitpid(pid, status, WNOHANG);
        if (r == pid)
            return 0;
        if (r < 0 && errno != EINTR)
            return -1;
        if (clock_mono_ms() >= deadline)
            return 1;
        nanosleep(&pause, NULL);
        if (pause.tv_nsec < 32000000)
            pause.tv_nsec *= 2;
    }
}

static int
describe_status(const char *prog, int status, char *err, size_t errlen)
{
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (WIFEXITED(status))
        snprintf(err, errlen, "command %s: exited with status %d", prog,
                 WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(err, errlen, "command %s: killed by signal %d (%s)", prog,
                 WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        snprintf(err, errlen, "command %s: ended with wait status %#x",
                 prog, (unsigned)status);
    return -1;
}

static int
run(struct command_driver *c, strv argv, int channel, char *err,
    size_t errlen)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    char var[64], **env;
    int rc, status = 0;
    pid_t pid;

    if (!(env = child_environ(channel, var, sizeof var))) {
        snprintf(err, errlen, "command %s: out of memory", argv[0]);
        return -1;
    }
    if (spawn_setup(&attr, &fa) < 0) {
        snprintf(err, errlen, "command %s: cannot set up the process",
                 argv[0]);
        free(env);
        return -1;
    }
    rc = posix_spawn(&pid, argv[0], &fa, &attr, argv, env);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    free(env);
    if (rc != 0) {
        snprintf(err, errlen, "command %s: cannot run: %s", argv[0],
                 strerror(rc));
        return -1;
    }
    rc = wait_child(pid, c->timeout_ms, &status);
    if (rc > 0) {
        kill(-pid, SIGKILL);
        waitpid(pid, &status, 0);
        snprintf(err, errlen, "command %s: still running after %d ms, "
                 "killed", argv[0], c->timeout_ms);
        return -1;
    }
    if (rc < 0) {
        snprintf(err, errlen, "command %s: cannot wait for it: %s",
                 argv[0], strerror(errno));
        return -1;
    }
    return describe_status(argv[0], status, err, errlen);
}

static int
command_on(struct siren_driver *d, int channel, char *err, size_t errlen)
{
    struct command_driver *c = (struct command_driver *)d;

    return run(c, c->on, channel, err, errlen);
}

static int
command_off(struct siren_driver *d, int channel, char *err, size_t errlen)
{
    struct command_driver *c = (struct command_driver *)d;

    return run(c, c->off, channel, err, errlen);
}

static void
command_close(struct siren_driver *d)
{
    struct command_driver *c = (struct command_driver *)d;

    strv_free(c->on);
    strv_free(c->off);
    free(c);
}

static const struct siren_driver_ops command_ops = {
    "command", command_on, command_off, command_close,
};

struct siren_driver *
siren_command_open(const struct siren_conf *conf, char *err, size_t errlen)
{
    struct command_driver *c;

    if (strv_len(conf->on) == 0 || strv_len(conf->off) == 0) {
        snprintf(err, errlen, "command: 'on' and 'off' programs are "
                 "not both configured");
        return NULL;
    }
    if (!(c = calloc(1, sizeof *c)) || !(c->on = strv_copy(conf->on)) ||
        !(c->off = strv_copy(conf->off))) {
        snprintf(err, errlen, "command %s: out of memory", conf->on[0]);
        if (c)
            command_close(&c->base);
        return NULL;
    }
    c->base.ops = &command_ops;
    c->timeout_ms = SIREN_COMMAND_TIMEOUT_MS;
    snprintf(c->base.what, sizeof c->base.what, "command %s", c->on[0]);
    return &c->base;
}

void
siren_command_set_timeout(struct siren_driver *d, int ms)
{
    if (d->ops == &command_ops)
        ((struct command_driver *)d)->timeout_ms = ms;
}
