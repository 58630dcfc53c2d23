/*
 * The scanner's walk: every entry below the roots, visited in walk
 * order (see entry_pathcmp) and merged with the baseline's entries in
 * the same order, so neither side is ever held in memory whole. Regular
 * files are hashed by a pool of threads; results still come out in
 * order. The walk never follows a symlink, never opens anything but
 * regular files and directories, and turns a file that vanishes or
 * denies access into a warning instead of stopping.
 */
#ifndef KLAXON_SCANNER_WALK_H
#define KLAXON_SCANNER_WALK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "scanner/baseline.h"
#include "scanner/entry.h"
#include "scanner/exclude.h"

/*
 * One path as the walk saw it: now (on disk), old (in the baseline), or
 * both. keep means its state on disk is unknown (it could not be read):
 * report nothing about it and keep the old entry. warning, when set,
 * says why something was skipped.
 */
struct walk_item {
    struct entry now;
    struct entry old;
    bool have_now;
    bool have_old;
    bool keep;
    char *warning;          /* owned; "path: reason" */

    /* For the hashing pool. */
    int dirfd;              /* the root's directory */
    const char *rel;        /* path below dirfd, points into now.path */
    bool need_hash;
    bool done;
};

struct walk_root {
    const char *path;       /* absolute, normalized; file or directory */
    const char *base;       /* excludes are relative to this; may equal
                               path, or be a directory above it */
};

struct walk_stats {
    _Atomic uint64_t entries;       /* entries seen on disk */
    _Atomic uint64_t hashed_bytes;  /* bytes read and hashed so far */
};

/* Called for each item in walk order; borrows it. Non-zero stops. */
typedef int (*walk_emit)(struct walk_item *it, void *arg);

struct walk_opts {
    const struct exclude *exclude;
    bool one_filesystem;
    bool trust_mtime;       /* unchanged size/mtime/ctime/inode: no read */
    int threads;            /* hashing threads; 0: one per core */
    /* Called with each path before its content is read (progress). */
    void (*on_entry)(const char *path, void *arg);
    void *on_entry_arg;
    const atomic_bool *cancel;  /* set to stop early; may be NULL */
};

/*
 * Walk roots (n of them, none below another, in walk order) against old
 * (NULL: everything is new) and emit every item. Returns 0, or -1 with
 * err set when the walk could not run or was stopped (emit's refusal,
 * cancel, out of memory).
 */
int walk_run(const struct walk_root *roots, size_t n, struct baseline *old,
             const struct walk_opts *opts, walk_emit emit, void *arg,
             struct walk_stats *stats, char *err, size_t errlen);

/* Free the contents of it (not it). */
void walk_item_clear(struct walk_item *it);

#endif
