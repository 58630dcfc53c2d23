/*
 * Hashing pool. One mutex guards two rings: the window (every item in
 * walk order) and the job queue (items waiting for a thread). Workers
 * open files beneath the root without following any symlink and check
 * that they opened the very inode the walk saw before reading a byte.
 */
#include "scanner/pool.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define HASH_BLOCK (128 * 1024)

struct pool {
    pthread_mutex_t mu;
    pthread_cond_t work;        /* a job was queued, or stop */
    pthread_cond_t done;        /* the window's first item finished */
    struct walk_item **ring;    /* window, in walk order */
    size_t cap, head, count;
    struct walk_item **jobs;    /* waiting for a thread */
    size_t jhead, jcount;
    pthread_t *threads;
    int nthreads;
    bool stop;
    walk_emit emit;
    void *arg;
    struct walk_stats *stats;
};

static atomic_bool no_openat2;

/* Open rel below dirfd for reading, refusing symlinks on the way. */
static int
open_beneath(int dirfd, const char *rel)
{
    struct open_how how;
    int fd, flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
                    O_CLOEXEC;

    if (!atomic_load(&no_openat2)) {
        memset(&how, 0, sizeof how);
        how.flags = flags;
        how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
                      RESOLVE_NO_MAGICLINKS;
        fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof how);
        if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
            return fd;
        /* Old kernels and some seccomp filters lack openat2; the
           inode check after opening still catches a swapped path. */
        atomic_store(&no_openat2, true);
    }
    return openat(dirfd, rel, flags);
}

static int
hash_fd(int fd, EVP_MD_CTX *ctx, unsigned char *buf, unsigned char *hash,
        uint64_t *bytes, struct walk_stats *stats)
{
    uint64_t total = 0;
    ssize_t n;

    if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        errno = ENOMEM;
        return -1;
    }
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    while ((n = read(fd, buf, HASH_BLOCK)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        EVP_DigestUpdate(ctx, buf, n);
        total += n;
        if (stats)
            atomic_fetch_add(&stats->hashed_bytes, (uint64_t)n);
    }
    if (EVP_DigestFinal_ex(ctx, hash, NULL) != 1) {
        errno = EIO;
        return -1;
    }
    *bytes = total;
    return 0;
}

static void
item_warn(struct walk_item *it, const char *why)
{
    free(it->warning);
    if (asprintf(&it->warning, "%s: %s", it->now.path, why) < 0)
        it->warning = NULL;
    it->keep = true;
}

static const char *
open_error(int err)
{
    switch (err) {
    case ENOENT:
        return "vanished during the scan";
    case ELOOP:
    case EXDEV:
        return "replaced by a symlink during the scan";
    default:
        return strerror(err);
    }
}

/* Hash one item's file, or turn it into a warning. */
static void
hash_item(struct walk_item *it, EVP_MD_CTX *ctx, unsigned char *buf,
          struct walk_stats *stats)
{
    struct entry fresh = { 0 };
    struct stat st;
    uint64_t bytes;
    int fd = open_beneath(it->dirfd, it->rel);

    if (fd < 0) {
        item_warn(it, open_error(errno));
        return;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
        st.st_ino != it->now.ino || st.st_dev != it->now.dev) {
        item_warn(it, "replaced during the scan");
        goto done;
    }
    if (hash_fd(fd, ctx, buf, it->now.sha256, &bytes, stats) < 0) {
        item_warn(it, strerror(errno));
        goto done;
    }
    /* Attributes as of the read, which is what the hash describes. */
    entry_from_stat(&fresh, &st);
    fresh.path = it->now.path;
    fresh.size = bytes;
    memcpy(fresh.sha256, it->now.sha256, ENTRY_HASH_LEN);
    fresh.hashed = true;
    it->now = fresh;

done:
    close(fd);
}

static void *
worker(void *arg)
{
    struct pool *p = arg;
    unsigned char *buf = malloc(HASH_BLOCK);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    struct walk_item *it;

    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->jcount == 0 && !p->stop)
            pthread_cond_wait(&p->work, &p->mu);
        if (p->stop)
            break;
        it = p->jobs[p->jhead];
        p->jhead = (p->jhead + 1) % p->cap;
        p->jcount--;
        pthread_mutex_unlock(&p->mu);

        if (buf && ctx)
            hash_item(it, ctx, buf, p->stats);
        else
            item_warn(it, "out of memory");

        pthread_mutex_lock(&p->mu);
        it->done = true;
        if (it == p->ring[p->head])
            pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    EVP_MD_CTX_free(ctx);
    free(buf);
    return NULL;
}

struct pool *
pool_new(int threads, size_t window, walk_emit emit, void *arg,
         struct walk_stats *stats)
{
    struct pool *p = calloc(1, sizeof *p);

    if (!p)
        return NULL;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->done, NULL);
    p->cap = window;
    p->emit = emit;
    p->arg = arg;
    p->stats = stats;
    p->ring = calloc(window, sizeof *p->ring);
    p->jobs = calloc(window, sizeof *p->jobs);
    p->threads = calloc(threads, sizeof *p->threads);
    if (!p->ring || !p->jobs || !p->threads)
        goto fail;
    for (p->nthreads = 0; p->nthreads < threads; p->nthreads++) {
        if (pthread_create(&p->threads[p->nthreads], NULL, worker, p) != 0)
            goto fail;
    }
    return p;

fail:
    pool_free(p);
    return NULL;
}

/*
 * Emit finished items from the head of the window; with wait set, wait
 * for the head until at most keep items remain. Called with mu held.
 */
static int
flush(struct pool *p, bool wait, size_t keep)
{
    struct walk_item *it;
    int rc = 0;

    while (p->count > keep) {
        it = p->ring[p->head];
        if (!it->done) {
            if (!wait)
                break;
            pthread_cond_wait(&p->done, &p->mu);
            continue;
        }
        p->head = (p->head + 1) % p->cap;
        p->count--;
        pthread_mutex_unlock(&p->mu);
        if (rc == 0)
            rc = p->emit(it, p->arg);
        walk_item_clear(it);
        free(it);
        pthread_mutex_lock(&p->mu);
    }
    return rc;
}

int
pool_push(struct pool *p, struct walk_item *it)
{
    int rc;

    pthread_mutex_lock(&p->mu);
    rc = flush(p, true, p->cap - 1);
    it->done = !it->need_hash;
    p->ring[(p->head + p->count) % p->cap] = it;
    p->count++;
    if (it->need_hash) {
        p->jobs[(p->jhead + p->jcount) % p->cap] = it;
        p->jcount++;
        pthread_cond_signal(&p->work);
    }
    if (rc == 0)
        rc = flush(p, false, 0);
    pthread_mutex_unlock(&p->mu);
    return rc;
}

int
pool_drain(struct pool *p)
{
    int rc;

    pthread_mutex_lock(&p->mu);
    rc = flush(p, true, 0);
    pthread_mutex_unlock(&p->mu);
    return rc;
}

void
pool_free(struct pool *p)
{
    int i;

    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    for (; p->count > 0; p->count--) {
        walk_item_clear(p->ring[p->head]);
        free(p->ring[p->head]);
        p->head = (p->head + 1) % p->cap;
    }
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->done);
    free(p->ring);
    free(p->jobs);
    free(p->threads);
    free(p);
}
