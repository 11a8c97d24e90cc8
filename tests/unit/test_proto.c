/* test_proto — the protocol buffers wire format of the remote cache: varints, proto3's
 * omissions, Digest messages as bst's server stores them, and malformed input refused.
 * SPDX-License-Identifier: Apache-2.0 */
#include "test.h"

#include <stdint.h>

#include "cache/proto.h"

static const char H[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

static void varints(void)
{
	static const uint64_t v[] = {0, 1, 127, 128, 300, 16383, 16384, 0xffffffffull, UINT64_MAX};
	static const size_t len[] = {1, 1, 1, 2, 2, 2, 3, 5, 10};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct buf b = BUF_INIT;
		struct pb_reader r;
		struct pb_field f;
		pb_uint(&b, 3, v[i]);
		if (v[i] == 0) {
			CHECK(b.len == 0);      /* proto3: a zero scalar is left out */
			continue;
		}
		CHECK(b.len == 1 + len[i]);
		CHECK((unsigned char)b.data[0] == (3 << 3));
		pb_reader_init(&r, b.data, b.len);
		CHECK(pb_next(&r, &f) == 1 && f.number == 3 && f.wire == PB_VARINT && f.v == v[i]);
		CHECK(pb_next(&r, &f) == 0);
		buf_release(&b);
	}
	{
		struct buf b = BUF_INIT;
		pb_varint(&b, 300);
		CHECK(b.len == 2 && (unsigned char)b.data[0] == 0xac && b.data[1] == 0x02);
		buf_release(&b);
	}
}

static void digest_bytes(void)
{
	struct buf b = BUF_INIT, m = BUF_INIT;
	char hash[65];
	unsigned long long size;
	/* a Digest as bst's server writes a ref: 0a 40 <hash> 10 <size> */
	pb_str(&m, 1, H);
	pb_uint(&m, 2, 237);
	CHECK(m.len == 2 + 64 + 3);
	CHECK((unsigned char)m.data[0] == 0x0a && m.data[1] == 0x40 && m.data[66] == 0x10 &&
	      (unsigned char)m.data[67] == 0xed && m.data[68] == 0x01);
	CHECK(pb_parse_digest(m.data, m.len, hash, &size) == 0 && size == 237);
	CHECK_STR(hash, H);
	/* the empty blob: size left out, the sub-message still written */
	pb_digest(&b, 2, H, 0);
	CHECK(b.len == 2 + 66 && b.data[0] == 0x12 && b.data[1] == 66);
	CHECK(pb_parse_digest(b.data + 2, b.len - 2, hash, &size) == 0 && size == 0);
	/* empty strings are left out too */
	buf_reset(&b);
	pb_str(&b, 1, "");
	CHECK(b.len == 0);
	buf_release(&b);
	buf_release(&m);
}

static void bad_digests(void)
{
	struct buf m = BUF_INIT;
	char hash[65];
	unsigned long long size;
	pb_str(&m, 1, "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855");
	CHECK(pb_parse_digest(m.data, m.len, hash, &size) < 0);     /* not lowercase hex */
	buf_reset(&m);
	pb_str(&m, 1, "abc");
	CHECK(pb_parse_digest(m.data, m.len, hash, &size) < 0);     /* not 64 digits */
	buf_reset(&m);
	pb_uint(&m, 2, 5);
	CHECK(pb_parse_digest(m.data, m.len, hash, &size) < 0);     /* no hash at all */
	buf_reset(&m);
	pb_str(&m, 1, H);
	pb_uint(&m, 2, (uint64_t)1 << 63);
	CHECK(pb_parse_digest(m.data, m.len, hash, &size) < 0);     /* size beyond int64 */
	buf_release(&m);
}

static void malformed(void)
{
	static const unsigned char truncated_varint[] = {0x08, 0x80};
	static const unsigned char overrun[] = {0x0a, 0x05, 'a', 'b'};
	static const unsigned char field_zero[] = {0x00, 0x01};
	static const unsigned char group[] = {0x0b, 0x0c};          /* wire types 3 and 4 */
	static const unsigned char short_i64[] = {0x09, 1, 2, 3};
	static const unsigned char ten_bytes_plus[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
						       0xff, 0xff, 0x01};
	struct pb_reader r;
	struct pb_field f;
	pb_reader_init(&r, truncated_varint, sizeof(truncated_varint));
	CHECK(pb_next(&r, &f) < 0);
	pb_reader_init(&r, overrun, sizeof(overrun));
	CHECK(pb_next(&r, &f) < 0);
	pb_reader_init(&r, field_zero, sizeof(field_zero));
	CHECK(pb_next(&r, &f) < 0);
	pb_reader_init(&r, group, sizeof(group));
	CHECK(pb_next(&r, &f) < 0);
	pb_reader_init(&r, short_i64, sizeof(short_i64));
	CHECK(pb_next(&r, &f) < 0);
	pb_reader_init(&r, ten_bytes_plus, sizeof(ten_bytes_plus));
	CHECK(pb_next(&r, &f) < 0);
}

static void nested_and_unknown(void)
{
	struct buf inner = BUF_INIT, outer = BUF_INIT;
	struct pb_reader r, s;
	struct pb_field f, g;
	int seen = 0;
	pb_str(&inner, 1, "files");
	pb_digest(&inner, 2, H, 0);
	pb_uint(&outer, 7, 99);                 /* a field the reader does not know */
	pb_bytes(&outer, 2, inner.data, inner.len);
	pb_reader_init(&r, outer.data, outer.len);
	while (pb_next(&r, &f) > 0) {
		if (f.number != 2 || f.wire != PB_LEN)
			continue;
		pb_reader_init(&s, f.data, f.len);
		CHECK(pb_next(&s, &g) == 1 && g.number == 1 && g.len == 5 && !memcmp(g.data, "files", 5));
		CHECK(pb_next(&s, &g) == 1 && g.number == 2 && g.wire == PB_LEN);
		CHECK(pb_next(&s, &g) == 0);
		seen++;
	}
	CHECK(seen == 1);
	buf_release(&inner);
	buf_release(&outer);
}

int main(void)
{
	test_prog = "proto";
	RUN(varints);
	RUN(digest_bytes);
	RUN(bad_digests);
	RUN(malformed);
	RUN(nested_and_unknown);
	TEST_MAIN_END();
}
