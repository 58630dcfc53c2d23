/*
 * The integrity scanner's report: the files added, modified, deleted or
 * changed in their attributes on one host, with VirusTotal's verdicts.
 *
 * One alert per scanned host and root. Its revision is a digest of the
 * findings (path, change, new hash, new mode): hourly scans of an
 * unchanged compromise notify once, new findings or a later malicious
 * verdict notify again, and a report with no changes (after the
 * operator accepted them with "scan update") resolves the alert.
 */
#include "handlers/handler.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers/field.h"

enum hashgate_change {
    HASHGATE_ADDED,
    HASHGATE_MODIFIED,
    HASHGATE_DELETED,
    HASHGATE_ATTRIBUTES,
    HASHGATE_NCHANGES
};

/* Names as the report spells them, in the order the message lists them. */
static const char *const hashgate_changes[HASHGATE_NCHANGES] = {
    "added", "modified", "deleted", "attributes",
};

/* How the message says each happened. */
static const char *const hashgate_verbs[HASHGATE_NCHANGES] = {
    "added", "modified", "deleted", "attributes changed",
};

/* Hex digits of the findings digest that make the revision. */
#define HASHGATE_KEY_HEX 32

/* enum hashgate_change of the name change, or -1. */
static int
hashgate_change_type(const char *change)
{
    int i;

    for (i = 0; change && i < HASHGATE_NCHANGES; i++) {
        if (strcmp(hashgate_changes[i], change) == 0)
            return i;
    }
    return -1;
}

static long long
hashgate_malicious(const json_t *change)
{
    long long n;

    if (field_int(field_object(change, "virustotal"), "malicious",
                  &n) != FIELD_OK || n < 0)
        return 0;
    return n;
}

/* Every change needs a path and a known kind of change. */
static enum handler_status
hashgate_check(const json_t *changes, char *reason, size_t reason_len)
{
    json_t *c;
    size_t i;

    json_array_foreach(changes, i, c) {
        if (!json_is_object(c))
            return handler_result(HANDLER_INVALID, reason, reason_len,
                                  "changes[%zu] must be an object", i);
        if (!field_present(c, "path"))
            return handler_result(HANDLER_INVALID, reason, reason_len,
                                  "missing field changes[%zu].path", i);
        if (!field_text(c, "path"))
            return handler_result(HANDLER_INVALID, reason, reason_len,
                                  "changes[%zu].path must be a non-empty "
                                  "string", i);
        if (!field_present(c, "change"))
            return handler_result(HANDLER_INVALID, reason, reason_len,
                                  "missing field changes[%zu].change", i);
        if (hashgate_change_type(field_string(c, "change")) < 0)
            return handler_result(HANDLER_INVALID, reason, reason_len,
                                  "changes[%zu].change must be one of "
                                  "added, modified, deleted, attributes",
                                  i);
    }
    return HANDLER_OK;
}

static int
hashgate_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The first 32 hex digits of SHA-256 over the sorted lines
 * "<path>\t<change>\t<sha256>\n": the findings, whatever their order.
 */
static int
hashgate_digest(const json_t *changes, char *hex)
{
    size_t n = json_array_size(changes), i, made = 0;
    unsigned char md[EVP_MAX_MD_SIZE];
    char **lines = calloc(n, sizeof *lines);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int rc = -1;
    const char *sha;
    char *mode;
    json_t *c;

    if (!lines || !ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
        goto done;
    json_array_foreach(changes, i, c) {
        sha = field_string(c, "sha256");
        /* The new mode tells one permission change from the next. */
        mode = strcmp(field_string(c, "change"), "attributes") == 0 ?
               json_dumps(json_object_get(c, "mode"), JSON_ENCODE_ANY) :
               NULL;
        rc = asprintf(&lines[i], "%s\t%s\t%s%s%s\n",
                      field_string(c, "path"), field_string(c, "change"),
                      sha ? sha : "", mode ? "\t" : "", mode ? mode : "");
        free(mode);
        if (rc < 0) {
            rc = -1;
            goto done;
        }
        made++;
    }
    rc = -1;
    qsort(lines, n, sizeof *lines, hashgate_cmp);
    for (i = 0; i < n; i++) {
        if (!EVP_DigestUpdate(ctx, lines[i], strlen(lines[i])))
            goto done;
    }
    if (!EVP_DigestFinal_ex(ctx, md, NULL))
        goto done;
    for (i = 0; i < HASHGATE_KEY_HEX / 2; i++)
        sprintf(hex + 2 * i, "%02x", md[i]);
    rc = 0;
done:
    for (i = 0; i < made; i++)
        free(lines[i]);
    free(lines);
    EVP_MD_CTX_free(ctx);
    return rc;
}

/* path relative to root, when it lies under root. */
static const char *
hashgate_relative(const char *path, const char *root)
{
    size_t len;

    if (!root)
        return path;
    len = strlen(root);
    while (len > 0 && root[len - 1] == '/')
        len--;
    if (strncmp(path, root, len) == 0 && path[len] == '/' && path[len + 1])
        return path + len + 1;
    return path;
}

/* One scalar attribute as text: strings as they are, integers in
   decimal. */
static void
hashgate_scalar(FILE *f, const json_t *v)
{
    if (json_is_string(v))
        fputs(json_string_value(v), f);
    else if (json_is_integer(v))
        fprintf(f, "%lld", (long long)json_integer_value(v));
    else
        fputs("?", f);
}

/* " (mode 0640 -> 0666, uid 33 -> 0)" for the attributes that changed. */
static void
hashgate_attributes(FILE *f, const json_t *c)
{
    static const char *const attrs[][2] = {
        { "mode", "old_mode" }, { "uid", "old_uid" }, { "gid", "old_gid" },
    };
    const char *sep = " (";
    json_t *now, *before;
    size_t i;

    for (i = 0; i < sizeof attrs / sizeof attrs[0]; i++) {
        now = json_object_get(c, attrs[i][0]);
        before = json_object_get(c, attrs[i][1]);
        if (!now || !before || json_equal(now, before))
            continue;
        fprintf(f, "%s%s ", sep, attrs[i][0]);
        hashgate_scalar(f, before);
        fputs(" -> ", f);
        hashgate_scalar(f, now);
        sep = ", ";
    }
    if (strcmp(sep, ", ") == 0)
        fputs(")", f);
}

/* The changes of one type, flagged or not, one per line. */
static void
hashgate_list(FILE *f, const json_t *changes, const char *root, int type,
              bool flagged)
{
    long long bad;
    json_t *c;
    size_t i;

    json_array_foreach(changes, i, c) {
        if (hashgate_change_type(field_string(c, "change")) != type ||
            (hashgate_malicious(c) > 0) != flagged)
            continue;
        fprintf(f, "%s %s", hashgate_verbs[type],
                hashgate_relative(field_string(c, "path"), root));
        if ((bad = hashgate_malicious(c)) > 0)
            fprintf(f, " (VirusTotal: %lld malicious)", bad);
        if (type == HASHGATE_ATTRIBUTES)
            hashgate_attributes(f, c);
        fputc('\n', f);
    }
}

/* Flagged files first, then the rest, each grouped by type of change. */
static int
hashgate_message(const json_t *doc, const json_t *changes, struct alert *a)
{
    const char *root = field_text(doc, "root");
    struct field_textbuf tb;
    int type, pass;

    if (field_text_open(&tb) < 0)
        return -1;
    for (pass = 1; pass >= 0; pass--) {
        for (type = 0; type < HASHGATE_NCHANGES; type++)
            hashgate_list(tb.f, changes, root, type, pass);
    }
    return field_text_close(&tb, &a->message);
}

/* "web-03: 4 files changed under /var/www/shop, 1 flagged by VirusTotal" */
static int
hashgate_title(const json_t *doc, const json_t *changes, const char *host,
               struct alert *a)
{
    const char *root = field_text(doc, "root");
    size_t n = json_array_size(changes), flagged = 0, i;
    char tail[64] = "";
    json_t *c;

    json_array_foreach(changes, i, c) {
        if (hashgate_malicious(c) > 0)
            flagged++;
    }
    if (flagged)
        snprintf(tail, sizeof tail, ", %zu flagged by VirusTotal", flagged);
    return alert_setf(&a->title, "%s: %zu file%s changed%s%s%s", host, n,
                      n == 1 ? "" : "s", root ? " under " : "",
                      root ? root : "", tail);
}

/* The alert's key: the host and the root it scanned. */
static int
hashgate_key(const json_t *doc, const char *host, struct alert *a)
{
    const char *root = field_text(doc, "root");

    return alert_setf(&a->key, "%s:%s", host, root ? root : "");
}

/* A report without changes: whatever was open for this root is over. */
static int
hashgate_clean(const json_t *doc, const char *host, struct alert *a)
{
    const char *root = field_text(doc, "root");
    json_int_t files = json_integer_value(json_object_get(doc,
                                                          "files_scanned"));
    time_t t;

    a->state = ALERT_RESOLVED;
    a->severity = SEVERITY_INFO;
    if (field_time(doc, "scan_finished", FIELD_SECONDS, &t) == FIELD_OK)
        a->time = t;
    if (hashgate_key(doc, host, a) < 0 ||
        field_add_tag(a, "host:", host) < 0 ||
        alert_setf(&a->title, "%s: no changes%s%s", host,
                   root ? " under " : "", root ? root : "") < 0)
        return -1;
    return alert_setf(&a->message, "%lld files match the baseline",
                      (long long)files);
}

static int
hashgate_fill(const json_t *doc, const json_t *changes, const char *host,
              struct alert *a)
{
    char hex[HASHGATE_KEY_HEX + 1];
    json_t *c;
    time_t t;
    size_t i;

    json_array_foreach(changes, i, c) {
        if (hashgate_malicious(c) > 0)
            a->malicious = true;
    }
    a->state = ALERT_FIRING;
    a->severity = a->malicious ? SEVERITY_CRITICAL : SEVERITY_HIGH;
    if (field_time(doc, "scan_finished", FIELD_SECONDS, &t) == FIELD_OK)
        a->time = t;
    if (hashgate_digest(changes, hex) < 0 ||
        hashgate_key(doc, host, a) < 0 ||
        alert_setf(&a->revision, "%s%s", hex,
                   a->malicious ? ":malicious" : "") < 0 ||
        field_add_tag(a, "host:", host) < 0 ||
        (a->malicious && field_add_tag(a, "", "malicious") < 0) ||
        hashgate_title(doc, changes, host, a) < 0)
        return -1;
    return hashgate_message(doc, changes, a);
}

/*
 * A scan that could not trust its baseline (it failed its HMAC check)
 * reports an "error" instead of changes: someone may have rewritten the
 * record of what the files should be. That is an alert of its own.
 */
static enum handler_status
hashgate_baseline_error(const json_t *error, const char *host,
                        struct alert *out, char *reason, size_t reason_len)
{
    const char *type = field_text(error, "type");
    const char *baseline = field_text(error, "baseline");
    const char *message = field_text(error, "message");

    if (!type || !baseline)
        return handler_result(HANDLER_INVALID, reason, reason_len,
                              "error needs type and baseline strings");
    out->state = ALERT_FIRING;
    out->severity = SEVERITY_CRITICAL;
    if (alert_setf(&out->key, "%s:baseline:%s:%s", host, type,
                   baseline) < 0 ||
        alert_set(&out->kind, "baseline") < 0 ||
        alert_setf(&out->title, "%s: integrity baseline %s cannot be "
                   "trusted", host, baseline) < 0 ||
        alert_setf(&out->message, "%s", message ? message :
                   "the baseline fails its authentication") < 0 ||
        alert_add_tag(out, "baseline") < 0)
        return handler_nomem(reason, reason_len);
    return HANDLER_OK;
}

enum handler_status
hashgate_parse(const json_t *payload, struct alert *out, char *reason,
               size_t reason_len)
{
    const json_t *changes;
    enum handler_status rc;
    const char *host;

    if (!json_is_object(payload))
        return handler_result(HANDLER_INVALID, reason, reason_len,
                              "payload must be a JSON object");
    if (!field_present(payload, "host"))
        return handler_result(HANDLER_INVALID, reason, reason_len,
                              "missing field host");
    if (!(host = field_text(payload, "host")))
        return handler_result(HANDLER_INVALID, reason, reason_len,
                              "host must be a non-empty string");
    if (json_is_object(json_object_get(payload, "error")))
        return hashgate_baseline_error(json_object_get(payload, "error"),
                                       host, out, reason, reason_len);
    if (!field_present(payload, "changes"))
        return handler_result(HANDLER_INVALID, reason, reason_len,
                              "missing field changes");
    if (!(changes = field_array(payload, "changes")))
        return handler_result(HANDLER_INVALID, reason, reason_len,
                              "changes must be an array");
    if ((rc = hashgate_check(changes, reason, reason_len)) != HANDLER_OK)
        return rc;
    if (json_array_size(changes) == 0)
        return hashgate_clean(payload, host, out) < 0 ?
               handler_nomem(reason, reason_len) : HANDLER_OK;
    if (hashgate_fill(payload, changes, host, out) < 0)
        return handler_nomem(reason, reason_len);
    return HANDLER_OK;
}
