/*
 * Scanner report: turning walk items into change records, and printing
 * them. Field names follow the relay's hashgate format; old_ fields
 * carry the baseline's values.
 */
#include "scanner/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notifiers/utf8.h"
#include "server/clock.h"

#define REPORT_MAX_WARNINGS 1000

static const char *const kinds[] = {
    "added", "modified", "deleted", "attributes",
};

static void
set_time(json_t *report, const char *name)
{
    char buf[32];
    time_t now = clock_now();
    struct tm tm;

    gmtime_r(&now, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_object_set_new(report, name, json_string(buf));
}

json_t *
report_new(const char *host, const char *const *roots, size_t n)
{
    json_t *report = json_object(), *list = json_array();
    size_t i;

    if (!report || !list) {
        json_decref(report);
        json_decref(list);
        return NULL;
    }
    for (i = 0; i < n; i++)
        json_array_append_new(list, report_path_string(roots[i]));
    json_object_set_new(report, "host", report_path_string(host));
    json_object_set_new(report, "root", report_path_string(roots[0]));
    json_object_set_new(report, "roots", list);
    set_time(report, "scan_started");
    json_object_set_new(report, "scan_finished", json_null());
    json_object_set_new(report, "files_scanned", json_integer(0));
    json_object_set_new(report, "changes", json_array());
    json_object_set_new(report, "warnings", json_array());
    return report;
}

json_t *
report_path_string(const char *path)
{
    const char *s = path ? path : "";
    size_t len = strlen(s), n;
    char *buf, *p;
    json_t *str;

    if (!(buf = malloc(4 * len + 1)))
        return NULL;
    for (p = buf; *s; s += n, len -= n) {
        n = utf8_seq_len(s, len);
        if (n == 0) {
            p += sprintf(p, "\\x%02x", (unsigned char)*s);
            n = 1;
        } else {
            memcpy(p, s, n);
            p += n;
        }
    }
    *p = '\0';
    str = json_string(buf);
    free(buf);
    return str;
}

static void
put_mode(json_t *o, const char *name, uint32_t mode)
{
    char buf[8];

    snprintf(buf, sizeof buf, "%04o", (unsigned)mode);
    json_object_set_new(o, name, json_string(buf));
}

static void
put_hash(json_t *o, const char *name, const struct entry *e)
{
    char hex[2 * ENTRY_HASH_LEN + 1];

    if (!e->hashed)
        return;
    entry_hex(e->sha256, hex);
    json_object_set_new(o, name, json_string(hex));
}

/* The entry's attributes as they are now (added, modified). */
static void
put_now(json_t *c, const struct entry *e)
{
    if (e->type != ENTRY_FILE)
        json_object_set_new(c, "type", json_string(entry_type_name(e->type)));
    put_hash(c, "sha256", e);
    json_object_set_new(c, "size", json_integer((json_int_t)e->size));
    put_mode(c, "mode", e->mode);
    json_object_set_new(c, "uid", json_integer(e->uid));
    json_object_set_new(c, "gid", json_integer(e->gid));
    json_object_set_new(c, "mtime", json_integer(e->mtime_ns / 1000000000));
    json_object_set_new(c, "ctime", json_integer(e->ctime_ns / 1000000000));
    if (e->target)
        json_object_set_new(c, "target", report_path_string(e->target));
}

/* The old values of whatever differs from now (owner, mode, type). */
static void
put_old_attrs(json_t *c, const struct entry *old, const struct entry *now)
{
    if (old->type != now->type)
        json_object_set_new(c, "old_type",
                            json_string(entry_type_name(old->type)));
    if (old->mode != now->mode)
        put_mode(c, "old_mode", old->mode);
    if (old->uid != now->uid)
        json_object_set_new(c, "old_uid", json_integer(old->uid));
    if (old->gid != now->gid)
        json_object_set_new(c, "old_gid", json_integer(old->gid));
}

static void
put_deleted(json_t *c, const struct entry *old)
{
    if (old->type != ENTRY_FILE)
        json_object_set_new(c, "old_type",
                            json_string(entry_type_name(old->type)));
    put_hash(c, "old_sha256", old);
    json_object_set_new(c, "old_size", json_integer((json_int_t)old->size));
    put_mode(c, "old_mode", old->mode);
    json_object_set_new(c, "old_uid", json_integer(old->uid));
    json_object_set_new(c, "old_gid", json_integer(old->gid));
    if (old->target)
        json_object_set_new(c, "old_target",
                            report_path_string(old->target));
}

static bool
content_differs(const struct entry *old, const struct entry *now)
{
    if (old->type != now->type || old->hashed != now->hashed)
        return true;
    if (old->hashed && memcmp(old->sha256, now->sha256, ENTRY_HASH_LEN))
        return true;
    return old->type == ENTRY_FILE && old->size != now->size;
}

/* Which kind of change it is (index into kinds), or -1 for none. */
static int
classify(const struct walk_item *it)
{
    if (it->keep)
        return -1;
    if (it->have_now && !it->have_old)
        return 0;
    if (!it->have_now && it->have_old)
        return 2;
    if (!it->have_now)
        return -1;
    if (content_differs(&it->old, &it->now))
        return 1;
    if (it->old.mode != it->now.mode || it->old.uid != it->now.uid ||
        it->old.gid != it->now.gid)
        return 3;
    return -1;
}

static int
add_warning(json_t *report, const char *warning)
{
    json_t *list = json_object_get(report, "warnings");

    if (json_array_size(list) >= REPORT_MAX_WARNINGS) {
        json_object_set_new(report, "warnings_dropped", json_integer(
            json_integer_value(json_object_get(report,
                                               "warnings_dropped")) + 1));
        return 0;
    }
    return json_array_append_new(list, report_path_string(warning));
}

int
report_add(json_t *report, const struct walk_item *it)
{
    int kind = classify(it);
    json_t *c;

    if (it->warning && add_warning(report, it->warning) < 0)
        return -1;
    if (kind < 0)
        return 0;
    if (!(c = json_object()))
        return -1;
    json_object_set_new(c, "path", report_path_string(
        it->have_now ? it->now.path : it->old.path));
    json_object_set_new(c, "change", json_string(kinds[kind]));
    if (kind == 1)
        put_hash(c, "old_sha256", &it->old);
    if (kind == 1 && it->old.size != it->now.size)
        json_object_set_new(c, "old_size",
                            json_integer((json_int_t)it->old.size));
    if (kind == 1 && it->old.target)
        json_object_set_new(c, "old_target",
                            report_path_string(it->old.target));
    if (kind == 1 || kind == 3)
        put_old_attrs(c, &it->old, &it->now);
    if (kind == 3 && it->old.mode == it->now.mode)
        put_mode(c, "old_mode", it->old.mode);
    if (kind == 2)
        put_deleted(c, &it->old);
    else
        put_now(c, &it->now);
    if (json_array_append_new(json_object_get(report, "changes"), c) < 0)
        return -1;
    return 1;
}

void
report_finish(json_t *report, uint64_t files_scanned, uint64_t bytes_hashed)
{
    set_time(report, "scan_finished");
    json_object_set_new(report, "files_scanned",
                        json_integer((json_int_t)files_scanned));
    json_object_set_new(report, "bytes_hashed",
                        json_integer((json_int_t)bytes_hashed));
}

size_t
report_changes(const json_t *report)
{
    return json_array_size(json_object_get(report, "changes"));
}

/* Print s with control bytes escaped, so a file name cannot forge
   lines of the report on a terminal. */
static void
print_text(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            fprintf(out, "\\x%02x", (unsigned char)*s);
        else
            fputc(*s, out);
    }
}

static const char *
field(const json_t *c, const char *name)
{
    const char *s = json_string_value(json_object_get(c, name));

    return s ? s : "-";
}

static void
print_change(FILE *out, const json_t *c, const char *kind)
{
    const json_t *vt = json_object_get(c, "virustotal");

    fputs("  ", out);
    print_text(out, field(c, "path"));
    if (strcmp(kind, "modified") == 0)
        fprintf(out, "\n      sha256 %.16s... -> %.16s...",
                field(c, "old_sha256"), field(c, "sha256"));
    if (strcmp(kind, "added") == 0 && json_object_get(c, "sha256"))
        fprintf(out, "\n      sha256 %s", field(c, "sha256"));
    if (json_object_get(c, "old_mode") && strcmp(kind, "deleted") != 0)
        fprintf(out, "\n      mode %s -> %s", field(c, "old_mode"),
                field(c, "mode"));
    if (json_object_get(c, "old_uid") && strcmp(kind, "deleted") != 0)
        fprintf(out, "\n      uid %lld -> %lld",
                json_integer_value(json_object_get(c, "old_uid")),
                json_integer_value(json_object_get(c, "uid")));
    if (json_object_get(c, "target")) {
        fputs("\n      -> ", out);
        print_text(out, field(c, "target"));
    }
    if (json_is_true(json_object_get(vt, "found")))
        fprintf(out, "\n      virustotal: %lld malicious, %lld suspicious",
                json_integer_value(json_object_get(vt, "malicious")),
                json_integer_value(json_object_get(vt, "suspicious")));
    else if (vt)
        fputs("\n      virustotal: unknown file", out);
    fputc('\n', out);
}

void
report_print(FILE *out, const json_t *report)
{
    const json_t *changes = json_object_get(report, "changes"), *c, *w;
    size_t i, k, n;

    n = (size_t)json_integer_value(json_object_get(report,
                                                   "files_scanned"));
    fprintf(out, "%s: %zu change%s in %zu entr%s (%s .. %s)\n",
            field(report, "host"), json_array_size(changes),
            json_array_size(changes) == 1 ? "" : "s", n,
            n == 1 ? "y" : "ies", field(report, "scan_started"),
            field(report, "scan_finished"));
    for (k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        n = 0;
        json_array_foreach(changes, i, c) {
            if (strcmp(field(c, "change"), kinds[k]) != 0)
                continue;
            if (n++ == 0)
                fprintf(out, "\n%s:\n", kinds[k]);
            print_change(out, c, kinds[k]);
        }
    }
    n = json_array_size(json_object_get(report, "warnings"));
    if (n > 0)
        fprintf(out, "\nwarnings:\n");
    json_array_foreach(json_object_get(report, "warnings"), i, w) {
        fputs("  ", out);
        print_text(out, json_string_value(w));
        fputc('\n', out);
    }
}
