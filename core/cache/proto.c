/* proto — see proto.h.
 * SPDX-License-Identifier: Apache-2.0 */
#include "cache/proto.h"

#include <string.h>

void pb_varint(struct buf *b, uint64_t v)
{
	unsigned char tmp[10];
	size_t n = 0;
	do {
		tmp[n] = (unsigned char)(v & 0x7f);
		v >>= 7;
		if (v)
			tmp[n] |= 0x80;
		n++;
	} while (v);
	buf_add(b, tmp, n);
}

static void key(struct buf *b, unsigned field, unsigned wire)
{
	pb_varint(b, ((uint64_t)field << 3) | wire);
}

void pb_uint(struct buf *b, unsigned field, uint64_t v)
{
	if (!v)
		return;
	key(b, field, PB_VARINT);
	pb_varint(b, v);
}

void pb_bytes(struct buf *b, unsigned field, const void *data, size_t len)
{
	key(b, field, PB_LEN);
	pb_varint(b, len);
	buf_add(b, data, len);
}

void pb_str(struct buf *b, unsigned field, const char *s)
{
	if (s && *s)
		pb_bytes(b, field, s, strlen(s));
}

void pb_digest(struct buf *b, unsigned field, const char *hash, uint64_t size)
{
	struct buf d = BUF_INIT;
	pb_str(&d, 1, hash);
	pb_uint(&d, 2, size);
	pb_bytes(b, field, d.data ? d.data : "", d.len);
	buf_release(&d);
}

void pb_reader_init(struct pb_reader *r, const void *data, size_t len)
{
	r->p = data;
	r->end = r->p + len;
}

static int get_varint(struct pb_reader *r, uint64_t *out)
{
	uint64_t v = 0;
	unsigned shift = 0;
	while (r->p < r->end && shift < 64) {
		unsigned char c = *r->p++;
		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*out = v;
			return 0;
		}
		shift += 7;
	}
	return -1;
}

int pb_next(struct pb_reader *r, struct pb_field *f)
{
	uint64_t k;
	if (r->p >= r->end)
		return 0;
	if (get_varint(r, &k) || (k >> 3) == 0 || (k >> 3) > 0x1fffffff)
		return -1;
	f->number = (unsigned)(k >> 3);
	f->wire = (unsigned)(k & 7);
	f->data = NULL;
	f->len = 0;
	f->v = 0;
	switch (f->wire) {
	case PB_VARINT:
		return get_varint(r, &f->v) ? -1 : 1;
	case PB_I64:
		if (r->end - r->p < 8)
			return -1;
		for (int i = 7; i >= 0; i--)
			f->v = (f->v << 8) | r->p[i];
		r->p += 8;
		return 1;
	case PB_I32:
		if (r->end - r->p < 4)
			return -1;
		for (int i = 3; i >= 0; i--)
			f->v = (f->v << 8) | r->p[i];
		r->p += 4;
		return 1;
	case PB_LEN: {
		uint64_t n;
		if (get_varint(r, &n) || n > (uint64_t)(r->end - r->p))
			return -1;
		f->data = r->p;
		f->len = (size_t)n;
		r->p += n;
		return 1;
	}
	default:
		return -1;
	}
}

int pb_parse_digest(const void *data, size_t len, char hash[65], unsigned long long *size)
{
	struct pb_reader r;
	struct pb_field f;
	int rc, have = 0;
	pb_reader_init(&r, data, len);
	*size = 0;
	hash[0] = '\0';
	while ((rc = pb_next(&r, &f)) > 0) {
		if (f.number == 1 && f.wire == PB_LEN) {
			if (f.len != 64)
				return -1;
			for (size_t i = 0; i < 64; i++) {
				unsigned char c = f.data[i];
				if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
					return -1;
			}
			memcpy(hash, f.data, 64);
			hash[64] = '\0';
			have = 1;
		} else if (f.number == 2 && f.wire == PB_VARINT) {
			if (f.v > (uint64_t)INT64_MAX)
				return -1;
			*size = f.v;
		}
	}
	return rc < 0 || !have ? -1 : 0;
}
