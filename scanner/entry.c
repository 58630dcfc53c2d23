/*
 * Scanner entries: conversions between stat(2) results, names and the
 * order the walker and the baseline share.
 */
#include "scanner/entry.h"

#include <stdlib.h>
#include <string.h>

static const char *const type_names[ENTRY_TYPE_COUNT] = {
    "file", "symlink", "fifo", "socket", "chardev", "blockdev",
};

void
entry_clear(struct entry *e)
{
    free(e->path);
    free(e->target);
    memset(e, 0, sizeof *e);
}

int
entry_from_stat(struct entry *e, const struct stat *st)
{
    switch (st->st_mode & S_IFMT) {
    case S_IFREG:
        e->type = ENTRY_FILE;
        break;
    case S_IFLNK:
        e->type = ENTRY_LINK;
        break;
    case S_IFIFO:
        e->type = ENTRY_FIFO;
        break;
    case S_IFSOCK:
        e->type = ENTRY_SOCKET;
        break;
    case S_IFCHR:
        e->type = ENTRY_CHAR;
        break;
    case S_IFBLK:
        e->type = ENTRY_BLOCK;
        break;
    default:
        return -1;
    }
    e->size = e->type == ENTRY_FILE || e->type == ENTRY_LINK ?
              (uint64_t)st->st_size : 0;
    e->mode = st->st_mode & 07777;
    e->uid = st->st_uid;
    e->gid = st->st_gid;
    e->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 +
                  st->st_mtim.tv_nsec;
    e->ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000 +
                  st->st_ctim.tv_nsec;
    e->ino = st->st_ino;
    e->dev = st->st_dev;
    return 0;
}

const char *
entry_type_name(enum entry_type t)
{
    return (unsigned)t < ENTRY_TYPE_COUNT ? type_names[t] : "unknown";
}

void
entry_hex(const unsigned char *hash, char *out)
{
    static const char digits[] = "0123456789abcdef";
    int i;

    for (i = 0; i < ENTRY_HASH_LEN; i++) {
        out[2 * i] = digits[hash[i] >> 4];
        out[2 * i + 1] = digits[hash[i] & 15];
    }
    out[2 * ENTRY_HASH_LEN] = '\0';
}

/* '/' sorts before every other byte, the end of a path before '/'. */
static int
path_rank(unsigned char c)
{
    return c == '/' ? 0 : c + 1;
}

int
entry_pathcmp(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t i, n = alen < blen ? alen : blen;

    for (i = 0; i < n; i++) {
        if (a[i] != b[i])
            return path_rank(a[i]) - path_rank(b[i]);
    }
    return alen < blen ? -1 : alen > blen;
}

bool
entry_under(const char *path, const char *root)
{
    size_t len = strlen(root);

    if (strcmp(root, "/") == 0)
        return path[0] == '/';
    return strncmp(path, root, len) == 0 &&
           (path[len] == '\0' || path[len] == '/');
}
