/*
 * The scanner's baseline: an SQLite database kept outside the watched
 * tree. Its file list is authenticated as a whole with HMAC-SHA256 and
 * only ever replaced by writing a new file and renaming it into place,
 * so a crash leaves the old or the new baseline, and an edit by anyone
 * without the key is detected. The same file holds the VirusTotal
 * state (verdict cache, lookup queue), each row signed on its own.
 */
#ifndef KLAXON_SCANNER_BASELINE_H
#define KLAXON_SCANNER_BASELINE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

#include "conf/config.h"
#include "scanner/entry.h"

#define BASELINE_MAC_LEN 32

enum baseline_status {
    BASELINE_OK,
    BASELINE_MISSING,       /* no file: run "klaxon scan init" */
    BASELINE_TAMPERED,      /* fails its authentication */
    BASELINE_ERROR,         /* cannot be read or is not a baseline */
};

struct baseline;
struct baseline_writer;
struct baseline_cursor;

/* The HMAC key, owned by whoever loaded it. */
struct baseline_key {
    unsigned char *data;
    size_t len;
};

/*
 * Load the key named by conf: key (literal or "env:NAME") or key_file
 * (default: the baseline's path + ".key"), which must be a regular file
 * of ours that nobody else can read. With create set, a missing key file
 * is made with a random key (mode 0600).
 * Returns 0, or -1 with the reason in err.
 */
int baseline_key_load(const struct scanner_conf *conf, bool create,
                      struct baseline_key *key, char *err, size_t errlen);
void baseline_key_free(struct baseline_key *key);

/*
 * Take the baseline's lock file (path + ".lock") so two scans never run
 * on one baseline at once. Returns the descriptor to close when done, or
 * -1 with err set (another scan holds it, or it cannot be created).
 */
int baseline_lock(const char *path, char *err, size_t errlen);

/*
 * Open the baseline at path and check its authentication with key
 * (copied). On BASELINE_OK *out is set; otherwise err says what is wrong,
 * naming the file.
 */
enum baseline_status baseline_open(struct baseline **out, const char *path,
                                   const struct baseline_key *key,
                                   char *err, size_t errlen);
void baseline_close(struct baseline *b);

/* Number of files recorded and their total size in bytes. */
void baseline_totals(const struct baseline *b, uint64_t *files,
                     uint64_t *bytes);

/* The database, for the VirusTotal tables. Owned by b. */
sqlite3 *baseline_db(struct baseline *b);

/* HMAC-SHA256 of msg under the baseline's key, for signing rows. */
void baseline_sign(const struct baseline *b, const void *msg, size_t len,
                   unsigned char *mac);
/* Whether mac (maclen bytes) is the signature of msg. Constant time. */
bool baseline_verify(const struct baseline *b, const void *msg, size_t len,
                     const void *mac, size_t maclen);

/*
 * Iterate the recorded entries at or below root, in walk order. The
 * cursor must be freed before b is closed.
 */
struct baseline_cursor *baseline_cursor_new(struct baseline *b,
                                            const char *root);
/* 1 and *e filled (owned by the caller), 0 at the end, -1 on error. */
int baseline_cursor_next(struct baseline_cursor *c, struct entry *e);
void baseline_cursor_free(struct baseline_cursor *c);

/*
 * Start a new baseline for path in a temporary file beside it. With old
 * set, the VirusTotal state is carried over. NULL with err on failure.
 */
struct baseline_writer *baseline_writer_new(const char *path,
                                            const struct baseline_key *key,
                                            struct baseline *old,
                                            char *err, size_t errlen);
/* Record e; entries may come in any order. 0 or -1. */
int baseline_writer_put(struct baseline_writer *w, const struct entry *e);
/*
 * Copy every entry of old that lies below none of roots (n of them), so
 * accepting one path keeps the rest. 0 or -1.
 */
int baseline_writer_keep_others(struct baseline_writer *w,
                                struct baseline *old,
                                const char *const *roots, size_t n);
/*
 * Sign, flush to disk and rename over the baseline. The writer is freed
 * whatever happens. 0, or -1 with err set (the old baseline stays).
 */
int baseline_writer_commit(struct baseline_writer *w, char *err,
                           size_t errlen);
/* Drop the new baseline and free the writer. */
void baseline_writer_abort(struct baseline_writer *w);

#endif
