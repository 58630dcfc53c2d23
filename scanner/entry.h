/*
 * What the scanner records about one file system entry: type, content
 * hash, size, permissions, owner, times and inode. The walker fills it
 * from the disk, the baseline stores it, the report compares two.
 */
#ifndef KLAXON_SCANNER_ENTRY_H
#define KLAXON_SCANNER_ENTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#define ENTRY_HASH_LEN 32

enum entry_type {
    ENTRY_FILE,
    ENTRY_LINK,             /* sha256 is the hash of the target text */
    ENTRY_FIFO,             /* special files are recorded, never opened */
    ENTRY_SOCKET,
    ENTRY_CHAR,
    ENTRY_BLOCK,
    ENTRY_TYPE_COUNT
};

struct entry {
    char *path;             /* absolute; owned */
    enum entry_type type;
    uint64_t size;
    uint32_t mode;          /* permission bits (st_mode & 07777) */
    uint32_t uid;
    uint32_t gid;
    int64_t mtime_ns;
    int64_t ctime_ns;
    uint64_t ino;
    uint64_t dev;
    bool hashed;            /* sha256 is set */
    unsigned char sha256[ENTRY_HASH_LEN];
    char *target;           /* symlink target; owned, NULL otherwise */
};

/* Free the strings of e and zero it. */
void entry_clear(struct entry *e);

/*
 * Fill the attributes of e from st (path, hash and target untouched).
 * Returns -1 for a directory or an unknown type, which are not entries.
 */
int entry_from_stat(struct entry *e, const struct stat *st);

/* "file", "symlink", "fifo", ...; "unknown" when out of range. */
const char *entry_type_name(enum entry_type t);

/* Lowercase hex of a hash into out (65 bytes with the NUL). */
void entry_hex(const unsigned char *hash, char *out);

/*
 * Order of paths as the walker visits them: segment by segment, each
 * compared bytewise, so a directory's contents follow it directly
 * ("a", "a/z", "a.b"). <0, 0 or >0 like strcmp().
 */
int entry_pathcmp(const char *a, size_t alen, const char *b, size_t blen);

/* Whether path is root itself or lies below it. */
bool entry_under(const char *path, const char *root);

#endif
