/*
 * Scanner baseline storage. The file list's signature covers every row
 * in walk order plus the format and creation time, so rows cannot be
 * edited, added, dropped or reordered without the key. Rows of the
 * VirusTotal tables are signed one by one because they change between
 * scans; a forged or unsigned one is simply not believed.
 */
#include "scanner/baseline.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "server/clock.h"

#define BASELINE_FORMAT "klaxon-baseline-1"
#define KEY_MIN_LEN 16
#define KEY_MAX_LEN 4096

struct baseline {
    sqlite3 *db;
    char *path;
    struct baseline_key key;
    uint64_t files;
    uint64_t bytes;
};

struct baseline_cursor {
    sqlite3_stmt *stmt;
    char *root;
};

struct baseline_writer {
    sqlite3 *db;
    sqlite3_stmt *put;
    char *path;
    char *tmp;
    struct baseline_key key;
};

static const char schema[] =
    "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE files (path TEXT PRIMARY KEY COLLATE pathcmp,"
    " type INTEGER NOT NULL, size INTEGER, mode INTEGER, uid INTEGER,"
    " gid INTEGER, mtime INTEGER, ctime INTEGER, ino INTEGER, dev INTEGER,"
    " sha256 BLOB, target TEXT) WITHOUT ROWID;"
    "CREATE TABLE vt_verdict (sha256 TEXT PRIMARY KEY, found INTEGER,"
    " malicious INTEGER, suspicious INTEGER, undetected INTEGER,"
    " harmless INTEGER, checked_at INTEGER, mac BLOB);"
    "CREATE TABLE vt_queue (sha256 TEXT PRIMARY KEY, enqueued_at INTEGER,"
    " attempts INTEGER, next_try INTEGER, mac BLOB);"
    "CREATE TABLE vt_state (name TEXT PRIMARY KEY, value INTEGER,"
    " mac BLOB);"
    "CREATE TABLE vt_report (roots TEXT PRIMARY KEY, json TEXT, mac BLOB);";

static const char columns[] =
    "path, type, size, mode, uid, gid, mtime, ctime, ino, dev, sha256, "
    "target";

/* --- keys ------------------------------------------------------------ */

static int
key_set(struct baseline_key *key, const char *text, size_t len,
        const char *what, char *err, size_t errlen)
{
    while (len > 0 && isspace((unsigned char)text[len - 1]))
        len--;
    if (len < KEY_MIN_LEN) {
        snprintf(err, errlen, "%s: key is shorter than %d bytes", what,
                 KEY_MIN_LEN);
        return -1;
    }
    if (!(key->data = malloc(len))) {
        snprintf(err, errlen, "%s: out of memory", what);
        return -1;
    }
    memcpy(key->data, text, len);
    key->len = len;
    return 0;
}

/* Make a key file holding 32 random bytes in hex; 0 or -1. */
static int
key_create(const char *path, char *err, size_t errlen)
{
    unsigned char raw[32];
    char hex[2 * sizeof raw + 2];
    int fd;

    if (RAND_bytes(raw, sizeof raw) != 1) {
        snprintf(err, errlen, "%s: no random bytes for a key", path);
        return -1;
    }
    entry_hex(raw, hex);
    strcat(hex, "\n");
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, hex, strlen(hex)) != (ssize_t)strlen(hex) ||
        fsync(fd) < 0) {
        snprintf(err, errlen, "%s: cannot create key file: %s", path,
                 strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

static int
key_from_file(const char *path, bool create, struct baseline_key *key,
              char *err, size_t errlen)
{
    char buf[KEY_MAX_LEN + 1];
    struct stat st;
    ssize_t n;
    int fd, rc = -1;

    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
        if (key_create(path, err, errlen) < 0)
            return -1;
        fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot open key file: %s", path,
                 strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: key file is not a regular file", path);
        goto done;
    }
    if ((st.st_mode & 077) != 0 || st.st_uid != geteuid()) {
        snprintf(err, errlen, "%s: key file must be ours and mode 0600 "
                 "(it is %04o)", path, (unsigned)(st.st_mode & 07777));
        goto done;
    }
    n = read(fd, buf, sizeof buf);
    if (n < 0 || n > KEY_MAX_LEN) {
        snprintf(err, errlen, "%s: cannot read key file%s", path,
                 n < 0 ? "" : ": longer than 4096 bytes");
        goto done;
    }
    rc = key_set(key, buf, n, path, err, errlen);

done:
    explicit_bzero(buf, sizeof buf);
    close(fd);
    return rc;
}

int
baseline_key_load(const struct scanner_conf *conf, bool create,
                  struct baseline_key *key, char *err, size_t errlen)
{
    char path[PATH_MAX];
    const char *text;

    memset(key, 0, sizeof *key);
    if (conf->key && *conf->key) {
        text = conf->key;
        if (strncmp(text, "env:", 4) == 0 && !(text = getenv(text + 4))) {
            snprintf(err, errlen, "scanner key: environment variable %s "
                     "is not set", conf->key + 4);
            return -1;
        }
        return key_set(key, text, strlen(text), "scanner key", err,
                       errlen);
    }
    if (conf->key_file && *conf->key_file)
        return key_from_file(conf->key_file, create, key, err, errlen);
    /* Neither given: the key file sits beside the baseline, which is
       kept outside the watched tree already. */
    if (snprintf(path, sizeof path, "%s.key",
                 conf->baseline && *conf->baseline ? conf->baseline :
                 "baseline.db") >= (int)sizeof path) {
        snprintf(err, errlen, "scanner: baseline path is too long");
        return -1;
    }
    return key_from_file(path, create, key, err, errlen);
}

void
baseline_key_free(struct baseline_key *key)
{
    if (key->data)
        explicit_bzero(key->data, key->len);
    free(key->data);
    key->data = NULL;
    key->len = 0;
}

static int
key_copy(struct baseline_key *dst, const struct baseline_key *src)
{
    if (!(dst->data = malloc(src->len ? src->len : 1)))
        return -1;
    memcpy(dst->data, src->data, src->len);
    dst->len = src->len;
    return 0;
}

/* --- signatures ------------------------------------------------------ */

static EVP_MAC_CTX *
mac_new(const struct baseline_key *key)
{
    OSSL_PARAM params[2];
    EVP_MAC_CTX *ctx = NULL;
    EVP_MAC *mac;

    if (!(mac = EVP_MAC_fetch(NULL, "HMAC", NULL)))
        return NULL;
    ctx = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();
    if (ctx && EVP_MAC_init(ctx, key->data, key->len, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        ctx = NULL;
    }
    return ctx;
}

static int
mac_final(EVP_MAC_CTX *ctx, unsigned char *out)
{
    size_t len = 0;
    int ok = EVP_MAC_final(ctx, out, &len, BASELINE_MAC_LEN) == 1 &&
             len == BASELINE_MAC_LEN;

    EVP_MAC_CTX_free(ctx);
    return ok ? 0 : -1;
}

void
baseline_sign(const struct baseline *b, const void *msg, size_t len,
              unsigned char *mac)
{
    EVP_MAC_CTX *ctx = mac_new(&b->key);

    memset(mac, 0, BASELINE_MAC_LEN);
    if (!ctx)
        return;
    EVP_MAC_update(ctx, msg, len);
    if (mac_final(ctx, mac) < 0)
        memset(mac, 0, BASELINE_MAC_LEN);
}

bool
baseline_verify(const struct baseline *b, const void *msg, size_t len,
                const void *mac, size_t maclen)
{
    unsigned char want[BASELINE_MAC_LEN];

    if (!mac || maclen != BASELINE_MAC_LEN)
        return false;
    baseline_sign(b, msg, len, want);
    return CRYPTO_memcmp(want, mac, BASELINE_MAC_LEN) == 0;
}

static unsigned char *
put_u64(unsigned char *p, uint64_t v)
{
    int i;

    for (i = 7; i >= 0; i--)
        *p++ = (unsigned char)(v >> (8 * i));
    return p;
}

/* Feed one files row to the signature, every field length-delimited. */
static void
mac_row(EVP_MAC_CTX *ctx, sqlite3_stmt *st)
{
    unsigned char fixed[8 * 13], *p = fixed;
    int i, len;

    for (i = 0; i < 12; i++) {
        if (i == 0 || i >= 10) {
            len = sqlite3_column_type(st, i) == SQLITE_NULL ? -1 :
                  sqlite3_column_bytes(st, i);
            p = put_u64(p, (uint64_t)(int64_t)len);
        } else {
            p = put_u64(p, (uint64_t)sqlite3_column_int64(st, i));
        }
    }
    EVP_MAC_update(ctx, fixed, p - fixed);
    for (i = 0; i < 12; i++) {
        if ((i == 0 || i >= 10) && sqlite3_column_bytes(st, i) > 0)
            EVP_MAC_update(ctx, i == 10 ? sqlite3_column_blob(st, i) :
                           (const void *)sqlite3_column_text(st, i),
                           sqlite3_column_bytes(st, i));
    }
}

/*
 * Signature of the whole file list of db with created as the creation
 * time; also counts files and bytes. 0 or -1.
 */
static int
mac_files(sqlite3 *db, const struct baseline_key *key, const char *created,
          unsigned char *out, uint64_t *files, uint64_t *bytes)
{
    unsigned char count[8];
    EVP_MAC_CTX *ctx;
    sqlite3_stmt *st = NULL;
    uint64_t n = 0, total = 0;
    char sql[160];
    int rc;

    if (!(ctx = mac_new(key)))
        return -1;
    EVP_MAC_update(ctx, (const unsigned char *)BASELINE_FORMAT,
                   sizeof BASELINE_FORMAT);
    EVP_MAC_update(ctx, (const unsigned char *)created,
                   strlen(created) + 1);
    snprintf(sql, sizeof sql, "SELECT %s FROM files ORDER BY path",
             columns);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        EVP_MAC_CTX_free(ctx);
        return -1;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        mac_row(ctx, st);
        n++;
        total += (uint64_t)sqlite3_column_int64(st, 2);
    }
    sqlite3_finalize(st);
    put_u64(count, n);
    EVP_MAC_update(ctx, count, sizeof count);
    if (mac_final(ctx, out) < 0 || rc != SQLITE_DONE)
        return -1;
    if (files)
        *files = n;
    if (bytes)
        *bytes = total;
    return 0;
}

/* --- opening --------------------------------------------------------- */

static int
collate_path(void *arg, int alen, const void *a, int blen, const void *b)
{
    (void)arg;
    return entry_pathcmp(a, alen, b, blen);
}

static int
db_open(const char *path, int flags, sqlite3 **db)
{
    if (sqlite3_open_v2(path, db, flags, NULL) != SQLITE_OK)
        return -1;
    sqlite3_busy_timeout(*db, 5000);
    return sqlite3_create_collation(*db, "pathcmp", SQLITE_UTF8, NULL,
                                    collate_path) == SQLITE_OK ? 0 : -1;
}

/* The value of meta row name, copied into buf; 0 or -1. */
static int
meta_get(sqlite3 *db, const char *name, char *buf, size_t len)
{
    sqlite3_stmt *st;
    int rc = -1;

    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE name = ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
        snprintf(buf, len, "%s", (const char *)sqlite3_column_text(st, 0));
        rc = 0;
    }
    sqlite3_finalize(st);
    return rc;
}

static enum baseline_status
check_signature(struct baseline *b, char *err, size_t errlen)
{
    unsigned char want[BASELINE_MAC_LEN];
    char format[64], created[64], stored[128], hex[2 * BASELINE_MAC_LEN + 1];

    if (meta_get(b->db, "format", format, sizeof format) < 0 ||
        strcmp(format, BASELINE_FORMAT) != 0) {
        snprintf(err, errlen, "baseline %s: not a klaxon baseline",
                 b->path);
        return BASELINE_ERROR;
    }
    if (meta_get(b->db, "created", created, sizeof created) < 0 ||
        meta_get(b->db, "mac", stored, sizeof stored) < 0 ||
        mac_files(b->db, &b->key, created, want, &b->files,
                  &b->bytes) < 0) {
        snprintf(err, errlen, "baseline %s: fails its authentication "
                 "(unreadable or incomplete)", b->path);
        return BASELINE_TAMPERED;
    }
    entry_hex(want, hex);
    if (strlen(stored) != strlen(hex) ||
        CRYPTO_memcmp(stored, hex, strlen(hex)) != 0) {
        snprintf(err, errlen, "baseline %s: fails its authentication "
                 "(modified, or signed with another key)", b->path);
        return BASELINE_TAMPERED;
    }
    return BASELINE_OK;
}

enum baseline_status
baseline_open(struct baseline **out, const char *path,
              const struct baseline_key *key, char *err, size_t errlen)
{
    enum baseline_status status = BASELINE_ERROR;
    struct baseline *b;

    *out = NULL;
    if (access(path, F_OK) < 0 && errno == ENOENT) {
        snprintf(err, errlen, "baseline %s: does not exist (run klaxon "
                 "scan init)", path);
        return BASELINE_MISSING;
    }
    if (!(b = calloc(1, sizeof *b)) || !(b->path = strdup(path)) ||
        key_copy(&b->key, key) < 0) {
        snprintf(err, errlen, "baseline %s: out of memory", path);
        goto fail;
    }
    if (db_open(path, SQLITE_OPEN_READWRITE, &b->db) < 0) {
        snprintf(err, errlen, "baseline %s: cannot open: %s", path,
                 b->db ? sqlite3_errmsg(b->db) : "out of memory");
        goto fail;
    }
    status = check_signature(b, err, errlen);
    if (status != BASELINE_OK)
        goto fail;
    *out = b;
    return BASELINE_OK;

fail:
    baseline_close(b);
    return status;
}

void
baseline_close(struct baseline *b)
{
    if (!b)
        return;
    sqlite3_close(b->db);
    baseline_key_free(&b->key);
    free(b->path);
    free(b);
}

void
baseline_totals(const struct baseline *b, uint64_t *files, uint64_t *bytes)
{
    *files = b->files;
    *bytes = b->bytes;
}

sqlite3 *
baseline_db(struct baseline *b)
{
    return b->db;
}

int
baseline_lock(const char *path, char *err, size_t errlen)
{
    char *lock;
    int fd;

    if (asprintf(&lock, "%s.lock", path) < 0) {
        snprintf(err, errlen, "baseline %s: out of memory", path);
        return -1;
    }
    fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "baseline %s: cannot create lock file: %s",
                 path, strerror(errno));
    } else if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        snprintf(err, errlen, "baseline %s: %s", path,
                 errno == EWOULDBLOCK ? "in use by another scan" :
                 strerror(errno));
        close(fd);
        fd = -1;
    }
    free(lock);
    return fd;
}

/* --- reading entries ------------------------------------------------- */

struct baseline_cursor *
baseline_cursor_new(struct baseline *b, const char *root)
{
    struct baseline_cursor *c = calloc(1, sizeof *c);
    char sql[160];

    if (!c || !(c->root = strdup(root)))
        goto fail;
    snprintf(sql, sizeof sql, "SELECT %s FROM files WHERE path >= ?1 "
             "ORDER BY path", columns);
    if (sqlite3_prepare_v2(b->db, sql, -1, &c->stmt, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_bind_text(c->stmt, 1, root, -1, SQLITE_STATIC);
    return c;

fail:
    baseline_cursor_free(c);
    return NULL;
}

static int
row_to_entry(sqlite3_stmt *st, struct entry *e)
{
    const char *target = (const char *)sqlite3_column_text(st, 11);

    memset(e, 0, sizeof *e);
    e->type = sqlite3_column_int(st, 1);
    e->size = sqlite3_column_int64(st, 2);
    e->mode = sqlite3_column_int64(st, 3);
    e->uid = sqlite3_column_int64(st, 4);
    e->gid = sqlite3_column_int64(st, 5);
    e->mtime_ns = sqlite3_column_int64(st, 6);
    e->ctime_ns = sqlite3_column_int64(st, 7);
    e->ino = sqlite3_column_int64(st, 8);
    e->dev = sqlite3_column_int64(st, 9);
    if (sqlite3_column_bytes(st, 10) == ENTRY_HASH_LEN) {
        memcpy(e->sha256, sqlite3_column_blob(st, 10), ENTRY_HASH_LEN);
        e->hashed = true;
    }
    e->path = strdup((const char *)sqlite3_column_text(st, 0));
    if (target)
        e->target = strdup(target);
    if (!e->path || (target && !e->target)) {
        entry_clear(e);
        return -1;
    }
    return 0;
}

int
baseline_cursor_next(struct baseline_cursor *c, struct entry *e)
{
    const char *path;
    int rc = sqlite3_step(c->stmt);

    if (rc == SQLITE_DONE)
        return 0;
    if (rc != SQLITE_ROW)
        return -1;
    path = (const char *)sqlite3_column_text(c->stmt, 0);
    if (!path || !entry_under(path, c->root))
        return 0;
    return row_to_entry(c->stmt, e) < 0 ? -1 : 1;
}

void
baseline_cursor_free(struct baseline_cursor *c)
{
    if (!c)
        return;
    sqlite3_finalize(c->stmt);
    free(c->root);
    free(c);
}

/* --- writing --------------------------------------------------------- */

static int
exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* Carry the VirusTotal tables of old over into w. */
static int
copy_vt_state(struct baseline_writer *w, struct baseline *old)
{
    sqlite3_stmt *st;
    int rc;

    if (sqlite3_prepare_v2(w->db, "ATTACH ?1 AS old", -1, &st, NULL) !=
        SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, old->path, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return -1;
    rc = exec(w->db, "INSERT INTO vt_verdict SELECT * FROM old.vt_verdict;"
              "INSERT INTO vt_queue SELECT * FROM old.vt_queue;"
              "INSERT INTO vt_state SELECT * FROM old.vt_state;"
              "INSERT INTO vt_report SELECT * FROM old.vt_report;");
    return rc;
}

struct baseline_writer *
baseline_writer_new(const char *path, const struct baseline_key *key,
                    struct baseline *old, char *err, size_t errlen)
{
    struct baseline_writer *w = calloc(1, sizeof *w);
    char sql[200];
    int fd;

    if (!w || !(w->path = strdup(path)) || key_copy(&w->key, key) < 0 ||
        asprintf(&w->tmp, "%s.new-XXXXXX", path) < 0) {
        snprintf(err, errlen, "baseline %s: out of memory", path);
        goto fail;
    }
    if ((fd = mkostemp(w->tmp, O_CLOEXEC)) < 0) {
        snprintf(err, errlen, "baseline %s: cannot create a new one "
                 "beside it: %s", path, strerror(errno));
        free(w->tmp);
        w->tmp = NULL;
        goto fail;
    }
    close(fd);
    snprintf(sql, sizeof sql, "INSERT INTO files (%s) VALUES "
             "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
             columns);
    if (db_open(w->tmp, SQLITE_OPEN_READWRITE, &w->db) < 0 ||
        exec(w->db, "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"
             "PRAGMA locking_mode = EXCLUSIVE; BEGIN") < 0 ||
        exec(w->db, schema) < 0 ||
        (old && copy_vt_state(w, old) < 0) ||
        sqlite3_prepare_v2(w->db, sql, -1, &w->put, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "baseline %s: cannot write a new one: %s",
                 path, w->db ? sqlite3_errmsg(w->db) : "out of memory");
        goto fail;
    }
    return w;

fail:
    baseline_writer_abort(w);
    return NULL;
}

int
baseline_writer_put(struct baseline_writer *w, const struct entry *e)
{
    sqlite3_stmt *st = w->put;
    int rc;

    sqlite3_bind_text(st, 1, e->path, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, e->type);
    sqlite3_bind_int64(st, 3, (int64_t)e->size);
    sqlite3_bind_int64(st, 4, e->mode);
    sqlite3_bind_int64(st, 5, e->uid);
    sqlite3_bind_int64(st, 6, e->gid);
    sqlite3_bind_int64(st, 7, e->mtime_ns);
    sqlite3_bind_int64(st, 8, e->ctime_ns);
    sqlite3_bind_int64(st, 9, (int64_t)e->ino);
    sqlite3_bind_int64(st, 10, (int64_t)e->dev);
    if (e->hashed)
        sqlite3_bind_blob(st, 11, e->sha256, ENTRY_HASH_LEN, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 11);
    if (e->target)
        sqlite3_bind_text(st, 12, e->target, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 12);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static bool
under_any(const char *path, const char *const *roots, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (entry_under(path, roots[i]))
            return true;
    }
    return false;
}

int
baseline_writer_keep_others(struct baseline_writer *w, struct baseline *old,
                            const char *const *roots, size_t n)
{
    struct baseline_cursor *c = baseline_cursor_new(old, "/");
    struct entry e;
    int rc;

    if (!c)
        return -1;
    while ((rc = baseline_cursor_next(c, &e)) == 1) {
        if (!under_any(e.path, roots, n) && baseline_writer_put(w, &e) < 0)
            rc = -1;
        entry_clear(&e);
        if (rc < 0)
            break;
    }
    baseline_cursor_free(c);
    return rc;
}

/* Make the rename of path durable by syncing its directory. */
static int
sync_dir(const char *path)
{
    char *copy = strdup(path);
    int fd, rc = -1;

    if (!copy)
        return -1;
    fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        rc = fsync(fd);
        close(fd);
    }
    free(copy);
    return rc;
}

static int
sync_file(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

/* Store the signature of w's file list in its meta table. */
static int
seal(struct baseline_writer *w)
{
    unsigned char mac[BASELINE_MAC_LEN];
    char created[32], hex[2 * BASELINE_MAC_LEN + 1];
    sqlite3_stmt *st;
    time_t now = clock_now();
    struct tm tm;
    int rc = 0;

    gmtime_r(&now, &tm);
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (mac_files(w->db, &w->key, created, mac, NULL, NULL) < 0)
        return -1;
    entry_hex(mac, hex);
    if (sqlite3_prepare_v2(w->db, "INSERT INTO meta VALUES ('format', ?1),"
                           " ('created', ?2), ('mac', ?3)", -1, &st,
                           NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, BASELINE_FORMAT, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, created, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, hex, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = -1;
    sqlite3_finalize(st);
    return rc;
}

int
baseline_writer_commit(struct baseline_writer *w, char *err, size_t errlen)
{
    int rc = -1;

    if (seal(w) < 0 || exec(w->db, "COMMIT") < 0) {
        snprintf(err, errlen, "baseline %s: cannot write a new one: %s",
                 w->path, sqlite3_errmsg(w->db));
        goto done;
    }
    sqlite3_finalize(w->put);
    w->put = NULL;
    if (sqlite3_close(w->db) != SQLITE_OK) {
        snprintf(err, errlen, "baseline %s: cannot close the new one",
                 w->path);
        goto done;
    }
    w->db = NULL;
    if (sync_file(w->tmp) < 0 || rename(w->tmp, w->path) < 0 ||
        sync_dir(w->path) < 0) {
        snprintf(err, errlen, "baseline %s: cannot put the new one in "
                 "place: %s", w->path, strerror(errno));
        goto done;
    }
    free(w->tmp);
    w->tmp = NULL;
    rc = 0;

done:
    baseline_writer_abort(w);
    return rc;
}

void
baseline_writer_abort(struct baseline_writer *w)
{
    if (!w)
        return;
    sqlite3_finalize(w->put);
    sqlite3_close(w->db);
    if (w->tmp)
        unlink(w->tmp);
    baseline_key_free(&w->key);
    free(w->tmp);
    free(w->path);
    free(w);
}
