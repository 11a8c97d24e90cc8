/* test_sha256 — FIPS 180-4 test vectors on both code paths (SHA extensions where the CPU has
 * them, portable C), the two paths against each other on every length and split, and the
 * hex digests cache keys use.
 * SPDX-License-Identifier: Apache-2.0 */
#include "test.h"

#include "format/cachekey.h"
#include "base/sha256.h"

static void hex(const unsigned char md[32], char out[65])
{
	static const char d[] = "0123456789abcdef";
	int i;
	for (i = 0; i < 32; i++) {
		out[2 * i] = d[md[i] >> 4];
		out[2 * i + 1] = d[md[i] & 15];
	}
	out[64] = '\0';
}

static void check_vectors(void)
{
	static const struct {
		const char *msg, *digest;
	} v[] = {
		{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
		{"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
		 "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
	};
	char out[65];
	unsigned char md[32];
	struct sha256 s;
	size_t i;
	char *mil = malloc(1000000);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		sha256(v[i].msg, strlen(v[i].msg), md);
		hex(md, out);
		CHECK_STR(out, v[i].digest);
	}
	memset(mil, 'a', 1000000);
	sha256_init(&s);
	for (i = 0; i < 1000000; i += 1000)
		sha256_update(&s, mil + i, 1000);
	sha256_final(&s, md);
	hex(md, out);
	CHECK_STR(out, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(mil);
}

static void vectors_fast_path(void)
{
	if (!sha256_uses_shani())
		printf("  (this CPU has no SHA extensions: portable code only)\n");
	check_vectors();
}

static void vectors_portable(void)
{
	int had = sha256_uses_shani();
	sha256_force_portable(1);
	CHECK(!sha256_uses_shani());
	check_vectors();
	sha256_force_portable(0);
	CHECK(sha256_uses_shani() == had);
}

/* Every length up to 300 bytes, whole and fed in two pieces split at every point, and a
 * 100 KB buffer fed in uneven chunks: both paths agree with each other and with themselves. */
static void paths_agree(void)
{
	static unsigned char data[100000];
	unsigned char a[32], b[32], c[32];
	size_t len, cut, i, bad = 0;
	struct sha256 s;
	uint32_t x = 12345;
	for (i = 0; i < sizeof(data); i++) {
		x = x * 1103515245 + 12345;
		data[i] = (unsigned char)(x >> 16);
	}
	for (len = 0; len <= 300; len++) {
		sha256_force_portable(1);
		sha256(data, len, a);
		sha256_force_portable(0);
		sha256(data, len, b);
		bad += memcmp(a, b, 32) != 0;
		for (cut = 0; cut <= len; cut += 7) {
			sha256_init(&s);
			sha256_update(&s, data, cut);
			sha256_update(&s, data + cut, len - cut);
			sha256_final(&s, c);
			bad += memcmp(a, c, 32) != 0;
		}
	}
	CHECK(bad == 0);
	sha256_force_portable(1);
	sha256(data, sizeof(data), a);
	sha256_force_portable(0);
	sha256_init(&s);
	for (i = 0; i < sizeof(data);) {
		size_t n = 1 + (i * 31) % 200;
		if (n > sizeof(data) - i)
			n = sizeof(data) - i;
		sha256_update(&s, data + i, n);
		i += n;
	}
	sha256_final(&s, b);
	CHECK(memcmp(a, b, 32) == 0);
}

static void cachekey_hex(void)
{
	char out[65];
	cachekey_sha256_hex("abc", 3, out);
	CHECK_STR(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

int main(void)
{
	test_prog = "sha256";
	RUN(vectors_fast_path);
	RUN(vectors_portable);
	RUN(paths_agree);
	RUN(cachekey_hex);
	TEST_MAIN_END();
}
