// SPDX-License-Identifier: MIT
/*
 * See crc32c.h. Eight bytes a step with the instructions: the byte table
 * was a third of the sink's time while it spilled a burst to the spool.
 */
#include "crc32c.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#if defined(__aarch64__) && defined(__ARM_FEATURE_CRC32)
#include <arm_acle.h>
#endif

static uint32_t table[256];
static bool has_hw;
static pthread_once_t once = PTHREAD_ONCE_INIT;

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t update_hw(uint32_t crc, const unsigned char *p,
                                                            size_t len)
{
    uint64_t c = crc;

    for (; len >= 8; p += 8, len -= 8) {
        uint64_t v;
        memcpy(&v, p, sizeof(v));
        c = __builtin_ia32_crc32di(c, v);
    }
    crc = (uint32_t)c;
    for (; len > 0; p++, len--)
        crc = __builtin_ia32_crc32qi(crc, *p);
    return crc;
}

static bool probe_hw(void)
{
    return __builtin_cpu_supports("sse4.2");
}
#elif defined(__aarch64__) && defined(__ARM_FEATURE_CRC32)
static uint32_t update_hw(uint32_t crc, const unsigned char *p, size_t len)
{
    for (; len >= 8; p += 8, len -= 8) {
        uint64_t v;
        memcpy(&v, p, sizeof(v));
        crc = __crc32cd(crc, v);
    }
    for (; len > 0; p++, len--)
        crc = __crc32cb(crc, *p);
    return crc;
}

static bool probe_hw(void)
{
    return true;
}
#else
static uint32_t update_hw(uint32_t crc, const unsigned char *p, size_t len)
{
    return crc32c_update_table(crc, p, len);
}

static bool probe_hw(void)
{
    return false;
}
#endif

static void init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        table[i] = c;
    }
    has_hw = probe_hw();
}

uint32_t crc32c_update_table(uint32_t crc, const void *buf, size_t len)
{
    const unsigned char *p = buf;

    pthread_once(&once, init);
    for (; len > 0; p++, len--)
        crc = (crc >> 8) ^ table[(crc ^ *p) & 0xff];
    return crc;
}

uint32_t crc32c_update(uint32_t crc, const void *buf, size_t len)
{
    pthread_once(&once, init);
    return has_hw ? update_hw(crc, buf, len) : crc32c_update_table(crc, buf, len);
}
