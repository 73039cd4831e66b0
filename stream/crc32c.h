// SPDX-License-Identifier: MIT
/*
 * CRC32C (Castagnoli, reflected polynomial 0x82F63B78), as the spool's
 * files carry it: with the CPU's instructions where there are some (SSE4.2
 * on x86_64, the CRC extension on aarch64), else a byte table. Pure; any
 * thread.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Continue crc over buf; the caller inverts before and after (~0 in, ~ out). */
uint32_t crc32c_update(uint32_t crc, const void *buf, size_t len);

/* The same with the byte table only (to check the fast path against). */
uint32_t crc32c_update_table(uint32_t crc, const void *buf, size_t len);
