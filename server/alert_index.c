/*
 * Open-addressing hash table with linear probing: 8-byte slots holding a
 * fingerprint and a row id, grown at 70% full. A slot's position comes
 * from its fingerprint, so growing needs nothing but the table.
 */
#include "server/alert_index.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct slot {
    uint32_t fp;            /* 0: empty */
    uint32_t id;
};

struct alert_index {
    struct slot *slots;
    uint64_t mask;          /* capacity - 1 */
    uint64_t count;
    uint64_t seed;
};

#define INITIAL_CAPACITY 4096

struct alert_index *
alert_index_new(void)
{
    struct alert_index *ix = calloc(1, sizeof *ix);

    if (!ix)
        return NULL;
    if (!(ix->slots = calloc(INITIAL_CAPACITY, sizeof *ix->slots))) {
        free(ix);
        return NULL;
    }
    ix->mask = INITIAL_CAPACITY - 1;
    if (getentropy(&ix->seed, sizeof ix->seed) < 0)
        ix->seed = (uint64_t)(uintptr_t)ix ^ (uint64_t)getpid() << 32;
    return ix;
}

void
alert_index_free(struct alert_index *ix)
{
    if (!ix)
        return;
    free(ix->slots);
    free(ix);
}

void
alert_index_clear(struct alert_index *ix)
{
    memset(ix->slots, 0, (ix->mask + 1) * sizeof *ix->slots);
    ix->count = 0;
}

/* Seeded FNV-1a, then a finalizer that spreads every input bit. */
uint64_t
alert_index_hash(const struct alert_index *ix, int source, const char *key)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ ix->seed;
    const unsigned char *p = (const unsigned char *)key;

    h = (h ^ (unsigned)source) * 0x100000001b3ULL;
    for (; *p; p++)
        h = (h ^ *p) * 0x100000001b3ULL;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

static uint32_t
fingerprint(uint64_t hash)
{
    uint32_t fp = (uint32_t)(hash >> 32);

    return fp ? fp : 1;
}

/* Where a fingerprint's probe starts. Derived from the fingerprint
   alone, so the table can grow without the original hashes. */
static uint64_t
home(uint32_t fp, uint64_t mask)
{
    return ((uint64_t)fp * 0x9e3779b97f4a7c15ULL >> 17) & mask;
}

static void
insert(struct slot *slots, uint64_t mask, uint32_t fp, uint32_t id)
{
    uint64_t i = home(fp, mask);

    while (slots[i].fp)
        i = (i + 1) & mask;
    slots[i].fp = fp;
    slots[i].id = id;
}

static int
grow(struct alert_index *ix)
{
    uint64_t cap = (ix->mask + 1) * 2, i;
    struct slot *bigger = calloc(cap, sizeof *bigger);

    if (!bigger)
        return -1;
    for (i = 0; i <= ix->mask; i++) {
        if (ix->slots[i].fp)
            insert(bigger, cap - 1, ix->slots[i].fp, ix->slots[i].id);
    }
    free(ix->slots);
    ix->slots = bigger;
    ix->mask = cap - 1;
    return 0;
}

int
alert_index_put(struct alert_index *ix, uint64_t hash, int64_t id)
{
    if (id <= 0 || id > UINT32_MAX)
        return -1;
    if ((ix->count + 1) * 10 > (ix->mask + 1) * 7 && grow(ix) < 0)
        return -1;
    insert(ix->slots, ix->mask, fingerprint(hash), (uint32_t)id);
    ix->count++;
    return 0;
}

int64_t
alert_index_find(const struct alert_index *ix, uint64_t hash,
                 bool (*verify)(int64_t id, void *arg), void *arg)
{
    uint32_t fp = fingerprint(hash);
    uint64_t i = home(fp, ix->mask);

    for (; ix->slots[i].fp; i = (i + 1) & ix->mask) {
        if (ix->slots[i].fp == fp && verify(ix->slots[i].id, arg))
            return ix->slots[i].id;
    }
    return 0;
}

uint64_t
alert_index_count(const struct alert_index *ix)
{
    return ix->count;
}
