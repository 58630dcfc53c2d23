/*
 * Scanner excludes: glob patterns matched against a path relative to the
 * scanned root. "*", "?" and "[...]" stay within one path segment, a
 * segment of "**" spans any number of segments (none included), and a
 * trailing "/" makes a pattern match directories only. Patterns are
 * anchored at the root: "cache" matches the top-level cache only, a
 * leading "**" segment makes it match at any depth. An excluded
 * directory excludes everything below it.
 */
#ifndef KLAXON_SCANNER_EXCLUDE_H
#define KLAXON_SCANNER_EXCLUDE_H

#include <stdbool.h>
#include <stddef.h>

struct exclude;

/* An empty list (matches nothing), or NULL when out of memory. */
struct exclude *exclude_new(void);
void exclude_free(struct exclude *ex);

/*
 * Add one pattern (copied). A pattern with nothing but "/" and
 * whitespace in it would match everything or nothing by accident, so it
 * is refused: returns -1 and leaves the list as it was.
 */
int exclude_add(struct exclude *ex, const char *pattern);

/*
 * Add the patterns of a file, one per line; blank lines and lines whose
 * first non-blank character is '#' are skipped, surrounding blanks are
 * trimmed. Returns 0, or -1 after printing "path:line: why" (or why the
 * file cannot be read) into err.
 */
int exclude_add_file(struct exclude *ex, const char *path, char *err,
                     size_t errlen);

/* Number of patterns in the list. */
size_t exclude_count(const struct exclude *ex);

/*
 * Whether rel (relative to the root, no leading "/", segments separated
 * by single "/") is excluded; is_dir says whether it names a directory.
 * A NULL list excludes nothing.
 */
bool exclude_match(const struct exclude *ex, const char *rel, bool is_dir);

/*
 * Like exclude_match(), but also true when a directory above rel is
 * excluded: for a path that was not reached by walking down from the
 * root.
 */
bool exclude_match_tree(const struct exclude *ex, const char *rel,
                        bool is_dir);

#endif
