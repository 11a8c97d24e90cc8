/* proto — the protocol buffers wire format, by hand, for the few messages the remote cache
 * speaks (REAPI v2 CAS, ByteStream, BuildStream's ReferenceStorage, Remote Asset): varints and
 * length-delimited fields written into a buf, and a reader that walks a message's fields.
 * Encoding follows proto3 as the reference implementations emit it: fields in number order,
 * zero scalars and empty strings left out, sub-messages always written when set.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_PROTO_H
#define RILL_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

enum { PB_VARINT = 0, PB_I64 = 1, PB_LEN = 2, PB_I32 = 5 };

void pb_varint(struct buf *b, uint64_t v);
/* field with a varint value; left out when v is 0 */
void pb_uint(struct buf *b, unsigned field, uint64_t v);
/* a length-delimited field (bytes, string or an encoded message); always written */
void pb_bytes(struct buf *b, unsigned field, const void *data, size_t len);
/* a string field, left out when empty */
void pb_str(struct buf *b, unsigned field, const char *s);
/* a Digest{hash = 1, size_bytes = 2} sub-message as field */
void pb_digest(struct buf *b, unsigned field, const char *hash, uint64_t size);

/* Reading: pb_next() moves over one field. */
struct pb_reader {
	const unsigned char *p, *end;
};
struct pb_field {
	unsigned number, wire;
	uint64_t v;                     /* VARINT, I64, I32 */
	const unsigned char *data;      /* LEN */
	size_t len;
};
void pb_reader_init(struct pb_reader *r, const void *data, size_t len);
/* 1 with *f filled, 0 at the end, -1 when the message is malformed. */
int pb_next(struct pb_reader *r, struct pb_field *f);
/* Parse a Digest message: hash must be 64 lowercase hex digits. 0, or -1 when it is not one. */
int pb_parse_digest(const void *data, size_t len, char hash[65], unsigned long long *size);

#endif
