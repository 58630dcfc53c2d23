/*
 * Scanner walk. Directories are read whole and sorted, then visited
 * depth first, which yields walk order; the baseline cursor advances in
 * step, so an entry is matched with its old record as it is found and
 * everything the cursor passes over was deleted. Subtrees that are
 * excluded, on another file system or unreadable are skipped together
 * with their old records (dropped, or kept when unreadable).
 */
#include "scanner/walk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scanner/pool.h"

#define WALK_WINDOW 16384

struct walk {
    const struct walk_opts *opts;
    const struct walk_root *root;
    struct baseline *old;
    struct baseline_cursor *cursor;
    struct entry pending;       /* next old entry, when have_pending */
    bool have_pending;
    struct pool *pool;
    struct walk_stats *stats;
    dev_t root_dev;
    int root_fd;                /* what pool workers open files below */
    size_t root_len;            /* strlen of the root_fd's path */
    char *err;
    size_t errlen;
    int rc;
};

enum skip_mode { SKIP_DROP, SKIP_KEEP };

void
walk_item_clear(struct walk_item *it)
{
    entry_clear(&it->now);
    entry_clear(&it->old);
    free(it->warning);
    memset(it, 0, sizeof *it);
}

static int
fail(struct walk *w, const char *fmt, const char *arg)
{
    if (w->rc == 0)
        snprintf(w->err, w->errlen, fmt, arg);
    w->rc = -1;
    return -1;
}

static int
push(struct walk *w, struct walk_item *it)
{
    if (pool_push(w->pool, it) != 0)
        return fail(w, "%s", "scan stopped");
    return 0;
}

static int
next_old(struct walk *w)
{
    int rc;

    w->have_pending = false;
    if (!w->cursor)
        return 0;
    rc = baseline_cursor_next(w->cursor, &w->pending);
    if (rc < 0)
        return fail(w, "%s", "baseline: cannot read an entry");
    w->have_pending = rc == 1;
    return 0;
}

/* The part of path that excludes are matched against, or NULL. */
static const char *
rel_of(const struct walk *w, const char *path)
{
    size_t len = strlen(w->root->base);

    if (strcmp(w->root->base, "/") == 0)
        return path + 1;
    if (strncmp(path, w->root->base, len) != 0 || path[len] != '/')
        return NULL;
    return path + len + 1;
}

/* Emit the pending old entry on its own: deleted, kept or dropped. */
static int
emit_old(struct walk *w, bool keep)
{
    struct walk_item *it;
    const char *rel = rel_of(w, w->pending.path);

    if (rel && exclude_match_tree(w->opts->exclude, rel, false)) {
        entry_clear(&w->pending);
        return next_old(w);
    }
    if (!(it = calloc(1, sizeof *it)))
        return fail(w, "%s", "out of memory");
    it->old = w->pending;
    it->have_old = true;
    it->keep = keep;
    memset(&w->pending, 0, sizeof w->pending);
    if (push(w, it) < 0)
        return -1;
    return next_old(w);
}

/* Emit old entries that sort before path; they are gone from disk. */
static int
advance(struct walk *w, const char *path)
{
    size_t len = strlen(path);

    while (w->rc == 0 && w->have_pending &&
           entry_pathcmp(w->pending.path, strlen(w->pending.path), path,
                         len) < 0) {
        if (emit_old(w, false) < 0)
            return -1;
    }
    return w->rc;
}

/* Pass over the old entries at or below path. */
static int
skip(struct walk *w, const char *path, enum skip_mode mode)
{
    if (advance(w, path) < 0)
        return -1;
    while (w->have_pending && entry_under(w->pending.path, path)) {
        if (mode == SKIP_KEEP) {
            if (emit_old(w, true) < 0)
                return -1;
        } else {
            entry_clear(&w->pending);
            if (next_old(w) < 0)
                return -1;
        }
    }
    return 0;
}

static int
warn(struct walk *w, const char *path, const char *why)
{
    struct walk_item *it = calloc(1, sizeof *it);

    if (!it || asprintf(&it->warning, "%s: %s", path, why) < 0) {
        free(it);
        return fail(w, "%s", "out of memory");
    }
    it->keep = true;
    return push(w, it);
}

/* Whether the old entry of a file still describes it, so the hash can
   be reused. ctime cannot be set from user space, unlike mtime. */
static bool
unchanged(const struct entry *old, const struct entry *now)
{
    return old->type == ENTRY_FILE && old->hashed &&
           old->size == now->size && old->mtime_ns == now->mtime_ns &&
           old->ctime_ns == now->ctime_ns && old->ino == now->ino;
}

static int
read_link(struct walk_item *it, int dirfd, const char *name)
{
    char buf[4096];
    ssize_t n = readlinkat(dirfd, name, buf, sizeof buf - 1);

    if (n < 0)
        return -1;
    buf[n] = '\0';
    if (!(it->now.target = strdup(buf)))
        return -1;
    it->now.size = n;
    it->now.hashed = EVP_Digest(buf, n, it->now.sha256, NULL, EVP_sha256(),
                                NULL) == 1;
    return 0;
}

static int
visit_entry(struct walk *w, int dirfd, const char *name, const char *path,
            const struct stat *st)
{
    struct walk_item *it = calloc(1, sizeof *it);

    if (!it || !(it->now.path = strdup(path))) {
        free(it);
        return fail(w, "%s", "out of memory");
    }
    entry_from_stat(&it->now, st);
    it->have_now = true;
    if (advance(w, path) < 0)
        goto fail;
    if (w->have_pending && strcmp(w->pending.path, path) == 0) {
        it->old = w->pending;
        it->have_old = true;
        memset(&w->pending, 0, sizeof w->pending);
        if (next_old(w) < 0)
            goto fail;
    }
    atomic_fetch_add(&w->stats->entries, 1);
    if (it->now.type == ENTRY_FILE) {
        if (w->opts->trust_mtime && it->have_old &&
            unchanged(&it->old, &it->now)) {
            memcpy(it->now.sha256, it->old.sha256, ENTRY_HASH_LEN);
            it->now.hashed = true;
        } else {
            it->need_hash = true;
            it->dirfd = w->root_fd;
            it->rel = it->now.path + w->root_len + 1;
        }
    } else if (it->now.type == ENTRY_LINK && read_link(it, dirfd, name) < 0) {
        free(it->warning);
        if (asprintf(&it->warning, "%s: cannot read link: %s", path,
                     strerror(errno)) < 0)
            it->warning = NULL;
        it->keep = true;
    }
    if (w->opts->on_entry)
        w->opts->on_entry(path, w->opts->on_entry_arg);
    return push(w, it);

fail:
    walk_item_clear(it);
    free(it);
    return -1;
}

static int walk_dir(struct walk *w, int parent, const char *name,
                    const char *path);

static int
visit(struct walk *w, int dirfd, const char *name, const char *path)
{
    const char *rel = rel_of(w, path);
    struct stat st;
    bool is_dir;

    if (w->opts->cancel && atomic_load(w->opts->cancel))
        return fail(w, "%s", "scan cancelled");
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (warn(w, path, errno == ENOENT ? "vanished during the scan" :
                 strerror(errno)) < 0)
            return -1;
        return skip(w, path, SKIP_KEEP);
    }
    is_dir = S_ISDIR(st.st_mode);
    if (rel && exclude_match(w->opts->exclude, rel, is_dir))
        return skip(w, path, SKIP_DROP);
    if (!is_dir)
        return visit_entry(w, dirfd, name, path, &st);
    if (w->opts->one_filesystem && st.st_dev != w->root_dev)
        return skip(w, path, SKIP_DROP);
    return walk_dir(w, dirfd, name, path);
}

static int
compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in directory fd, sorted; NULL with errno on failure. */
static char **
list_dir(int fd, size_t *count)
{
    char **names = NULL, **grown;
    size_t n = 0, cap = 0;
    struct dirent *d;
    int dupfd = dup(fd), saved;
    DIR *dir;

    if (dupfd < 0 || !(dir = fdopendir(dupfd))) {
        if (dupfd >= 0)
            close(dupfd);
        return NULL;
    }
    errno = 0;
    while ((d = readdir(dir))) {
        if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
            continue;
        if (n + 1 >= cap) {
            cap = cap ? cap * 2 : 64;
            if (!(grown = realloc(names, cap * sizeof *names)))
                goto fail;
            names = grown;
        }
        if (!(names[n] = strdup(d->d_name)))
            goto fail;
        n++;
        errno = 0;
    }
    if (errno != 0)
        goto fail;
    closedir(dir);
    if (!names && !(names = calloc(1, sizeof *names)))
        return NULL;
    qsort(names, n, sizeof *names, compare_names);
    *count = n;
    return names;

fail:
    saved = errno ? errno : ENOMEM;
    while (n > 0)
        free(names[--n]);
    free(names);
    closedir(dir);
    errno = saved;
    return NULL;
}

/* Visit everything in the open directory fd, whose path is path. */
static int
walk_children(struct walk *w, int fd, const char *path)
{
    size_t i, n = 0;
    char **names = list_dir(fd, &n), *child;
    int rc = 0;

    if (!names) {
        if (warn(w, path, strerror(errno)) < 0)
            return -1;
        return skip(w, path, SKIP_KEEP);
    }
    for (i = 0; i < n; i++) {
        if (rc == 0 && asprintf(&child, "%s/%s",
                                strcmp(path, "/") ? path : "",
                                names[i]) < 0)
            rc = fail(w, "%s", "out of memory");
        else if (rc == 0) {
            rc = visit(w, fd, names[i], child);
            free(child);
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

static int
walk_dir(struct walk *w, int parent, const char *name, const char *path)
{
    int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
                    O_CLOEXEC), rc;

    if (fd < 0) {
        if (warn(w, path, errno == ENOENT ? "vanished during the scan" :
                 strerror(errno)) < 0)
            return -1;
        return skip(w, path, SKIP_KEEP);
    }
    rc = walk_children(w, fd, path);
    close(fd);
    return rc;
}

/* A root that names a file: open its directory, visit the one name. */
static int
walk_file_root(struct walk *w, const char *path)
{
    char *dir = strdup(path), *base = strdup(path);
    const char *rel = rel_of(w, path);
    int rc = -1;

    if (!dir || !base) {
        fail(w, "%s", "out of memory");
        goto done;
    }
    if (rel && exclude_match_tree(w->opts->exclude, rel, false)) {
        rc = skip(w, path, SKIP_DROP);
        goto done;
    }
    w->root_fd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (w->root_fd < 0) {
        rc = warn(w, path, strerror(errno)) < 0 ? -1 :
             skip(w, path, SKIP_KEEP);
        goto done;
    }
    w->root_len = strcmp(dir, "/") == 0 ? 0 : strlen(dir);
    rc = visit(w, w->root_fd, basename(base), path);

done:
    free(dir);
    free(base);
    return rc;
}

static int
walk_root(struct walk *w)
{
    const char *path = w->root->path;
    struct stat st;
    int fd;

    fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 && errno == ENOTDIR)
        return walk_file_root(w, path);
    /* A root the baseline knows nothing of and that cannot be read is
       a mistyped path, not a clean tree. */
    if (fd < 0 && !w->have_pending) {
        snprintf(w->err, w->errlen, "%s: %s", path,
                 errno == ENOENT ? "does not exist" : strerror(errno));
        w->rc = -1;
        return -1;
    }
    if (fd < 0 && errno == ENOENT)
        return warn(w, path, "does not exist");
    if (fd < 0 || fstat(fd, &st) < 0) {
        if (fd >= 0)
            close(fd);
        if (warn(w, path, strerror(errno)) < 0)
            return -1;
        return skip(w, path, SKIP_KEEP);
    }
    w->root_fd = fd;
    w->root_dev = st.st_dev;
    w->root_len = strcmp(path, "/") == 0 ? 0 : strlen(path);
    return walk_children(w, fd, path);
}

int
walk_run(const struct walk_root *roots, size_t n, struct baseline *old,
         const struct walk_opts *opts, walk_emit emit, void *arg,
         struct walk_stats *stats, char *err, size_t errlen)
{
    struct walk w = { .opts = opts, .old = old, .stats = stats,
                      .err = err, .errlen = errlen, .root_fd = -1 };
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int threads = opts->threads > 0 ? opts->threads :
                  cores > 0 ? (int)cores : 1;
    size_t i;

    if (!(w.pool = pool_new(threads, WALK_WINDOW, emit, arg, stats))) {
        snprintf(err, errlen, "scan: cannot start hashing threads");
        return -1;
    }
    for (i = 0; i < n && w.rc == 0; i++) {
        w.root = &roots[i];
        if (old && !(w.cursor = baseline_cursor_new(old, roots[i].path))) {
            fail(&w, "%s", "baseline: cannot read entries");
            break;
        }
        if (next_old(&w) == 0 && walk_root(&w) == 0) {
            /* Whatever the cursor still holds is gone from disk. */
            while (w.rc == 0 && w.have_pending)
                emit_old(&w, false);
        }
        if (pool_drain(w.pool) != 0)
            fail(&w, "%s", "scan stopped");
        if (w.have_pending)
            entry_clear(&w.pending);
        w.have_pending = false;
        baseline_cursor_free(w.cursor);
        w.cursor = NULL;
        if (w.root_fd >= 0)
            close(w.root_fd);
        w.root_fd = -1;
    }
    pool_free(w.pool);
    return w.rc;
}
