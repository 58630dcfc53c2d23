/*
 * The writer's in-memory alert index: every key found after growth,
 * candidates verified, different keys kept apart.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "server/alert_index.h"

/* The "table": row id i holds key "key-i". */
struct rows {
    const char *want;
    int verified;
};

static bool
row_is(int64_t id, void *arg)
{
    struct rows *r = arg;
    char key[32];

    r->verified++;
    snprintf(key, sizeof key, "key-%lld", (long long)id);
    return strcmp(key, r->want) == 0;
}

static int64_t
find(struct alert_index *ix, int source, const char *key, int *verified)
{
    struct rows r = { key, 0 };
    int64_t id = alert_index_find(ix, alert_index_hash(ix, source, key),
                                  row_is, &r);

    if (verified)
        *verified = r.verified;
    return id;
}

static void
test_every_key_is_found_after_growing(void **state)
{
    struct alert_index *ix = alert_index_new();
    char key[32];
    int64_t i;

    (void)state;
    for (i = 1; i <= 100000; i++) {
        snprintf(key, sizeof key, "key-%lld", (long long)i);
        assert_int_equal(alert_index_put(ix, alert_index_hash(ix, 1, key),
                                         i), 0);
    }
    assert_int_equal(alert_index_count(ix), 100000);
    for (i = 1; i <= 100000; i++) {
        snprintf(key, sizeof key, "key-%lld", (long long)i);
        assert_int_equal(find(ix, 1, key, NULL), i);
    }
    assert_int_equal(find(ix, 1, "key-100001", NULL), 0);
    alert_index_free(ix);
}

static void
test_source_is_part_of_the_key(void **state)
{
    struct alert_index *ix = alert_index_new();

    (void)state;
    alert_index_put(ix, alert_index_hash(ix, 0, "key-7"), 7);
    assert_int_equal(find(ix, 0, "key-7", NULL), 7);
    /* Same text from another source hashes elsewhere; at worst it is a
       candidate that the row check turns down. */
    assert_int_not_equal(alert_index_hash(ix, 0, "key-7"),
                         alert_index_hash(ix, 1, "key-7"));
    alert_index_free(ix);
}

static void
test_candidates_are_verified_not_trusted(void **state)
{
    struct alert_index *ix = alert_index_new();
    uint64_t h = alert_index_hash(ix, 0, "key-2");
    int verified;

    (void)state;
    /* Two rows under the same hash: only the one that checks out. */
    alert_index_put(ix, h, 1);
    alert_index_put(ix, h, 2);
    assert_int_equal(alert_index_find(ix, h, row_is,
                                      &(struct rows){ "key-2", 0 }), 2);
    assert_int_equal(find(ix, 0, "key-2", &verified), 2);
    assert_int_equal(verified, 2);
    alert_index_clear(ix);
    assert_int_equal(alert_index_count(ix), 0);
    assert_int_equal(find(ix, 0, "key-2", NULL), 0);
    alert_index_free(ix);
}

static void
test_ids_beyond_32_bits_are_refused(void **state)
{
    struct alert_index *ix = alert_index_new();

    (void)state;
    assert_int_equal(alert_index_put(ix, 1, 0), -1);
    assert_int_equal(alert_index_put(ix, 1, (int64_t)1 << 32), -1);
    assert_int_equal(alert_index_put(ix, 1, UINT32_MAX), 0);
    alert_index_free(ix);
}

static void
test_hashes_depend_on_a_random_seed(void **state)
{
    struct alert_index *a = alert_index_new(), *b = alert_index_new();

    (void)state;
    assert_int_not_equal(alert_index_hash(a, 0, "same"),
                         alert_index_hash(b, 0, "same"));
    alert_index_free(a);
    alert_index_free(b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_key_is_found_after_growing),
        cmocka_unit_test(test_source_is_part_of_the_key),
        cmocka_unit_test(test_candidates_are_verified_not_trusted),
        cmocka_unit_test(test_ids_beyond_32_bits_are_refused),
        cmocka_unit_test(test_hashes_depend_on_a_random_seed),
    };

    return cmocka_run_group_tests_name("alert index", tests, NULL, NULL);
}
