/* sha256 — SHA-256 (FIPS 180-4): the x86 SHA extensions where the CPU has them, portable C
 * otherwise. Cache keys and the CAS hash short inputs by the hundred thousand: OpenSSL's
 * one-shot digest spends more on looking the algorithm up than on hashing, and starting its
 * library took 3 ms of every backend start.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_SHA256_H
#define RILL_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
	uint32_t h[8];
	uint64_t bytes;                 /* message length so far */
	unsigned char buf[64];          /* a partial block */
	size_t nbuf;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
void sha256_final(struct sha256 *s, unsigned char out[32]);
void sha256(const void *data, size_t len, unsigned char out[32]);
/* For tests: 1 when the SHA extensions are in use; sha256_force_portable(1) turns them off. */
int sha256_uses_shani(void);
void sha256_force_portable(int on);

#endif
