// SPDX-License-Identifier: MIT
/*
 * Redis Cluster's key → hash slot function: CRC16 (the XMODEM variant:
 * polynomial 0x1021, initial value 0, no reflection) of the key, or of its
 * hash tag (the bytes between the first '{' and the next '}', when that is
 * not empty), modulo 16384. Pure functions, any thread.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define CRC16_SLOTS 16384

/* CRC16/XMODEM of len bytes ("123456789" gives 0x31C3). */
uint16_t crc16(const void *data, size_t len);

/* The cluster slot (0..16383) of a key of len bytes (binary-safe). */
unsigned crc16_slot(const char *key, size_t len);
