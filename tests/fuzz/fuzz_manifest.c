// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the core manifest reader (coreup_manifest_parse)
 * that `wrapp core get` trusts to size its reads. It must return 0,
 * -EINVAL or -EPROTONOSUPPORT with a NUL-terminated reason; a manifest it
 * accepts must be consistent (its chunks hold exactly its bytes, its id
 * makes a key) and survive being written again and read back. The input
 * also goes to coreup_id_from_report, whose id must be an id.
 */
#include "coreup.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_accepted(const struct coreup_manifest *m)
{
    struct coreup_manifest back;
    char key[COREUP_KEY_MAX], why[256], *json = NULL;
    uint64_t sum = 0;

    if (coreup_chunk_count(m->compressed, m->chunk_bytes) != m->chunks ||
        coreup_key(key, sizeof(key), COREUP_PREFIX_DEF, "s", m->id, (long)m->chunks) < 0 ||
        strnlen(m->sha256, sizeof(m->sha256)) != 64)
        __builtin_trap();
    for (uint64_t i = m->chunks > 2 ? m->chunks - 2 : 0; i <= m->chunks; i++)
        sum += coreup_chunk_len(m->compressed, m->chunk_bytes, i);
    if (sum > m->compressed || sum == 0)
        __builtin_trap();
    if (coreup_manifest_json(m, NULL, &json) < 0)
        return;
    if (coreup_manifest_parse(json, strlen(json), &back, why, sizeof(why)) != 0 ||
        back.chunks != m->chunks || back.compressed != m->compressed || back.size != m->size ||
        strcmp(back.id, m->id) != 0 || strcmp(back.sha256, m->sha256) != 0)
        __builtin_trap();
    free(json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct coreup_manifest m;
    char why[256] = "", id[COREUP_ID_MAX];
    int r = coreup_manifest_parse((const char *)data, size, &m, why, sizeof(why));

    if (strnlen(why, sizeof(why)) == sizeof(why))
        __builtin_trap();
    if (r == 0)
        check_accepted(&m);
    else if ((r != -EINVAL && r != -EPROTONOSUPPORT) || !*why)
        __builtin_trap();
    if (coreup_id_from_report((const char *)data, size, id, sizeof(id)) >= 0 && !coreup_is_id(id))
        __builtin_trap();
    return 0;
}
