// SPDX-License-Identifier: MIT
/*
 * CRC16 and cluster slots (see crc16.h). Bitwise, without a table: a key
 * is hashed once per command and keys are short, so the table's speed is
 * not needed.
 */
#include "crc16.h"

#include <string.h>

uint16_t crc16(const void *data, size_t len)
{
    const unsigned char *p = data;
    unsigned crc = 0;

    for (size_t i = 0; i < len; i++) {
        crc ^= (unsigned)p[i] << 8;
        for (int bit = 0; bit < 8; bit++)
            crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
    }
    return (uint16_t)crc;
}

unsigned crc16_slot(const char *key, size_t len)
{
    const char *open = memchr(key, '{', len);

    if (open) {
        size_t rest = len - (size_t)(open - key) - 1;
        const char *close = memchr(open + 1, '}', rest);
        /* "{}" is no tag: the whole key is hashed. */
        if (close && close > open + 1) {
            key = open + 1;
            len = (size_t)(close - open - 1);
        }
    }
    return crc16(key, len) & (CRC16_SLOTS - 1);
}
