/* test_util — the growable buffer, the arena, errors, read_file and the string helpers.
 * SPDX-License-Identifier: Apache-2.0 */
#include "test.h"

#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/util.h"

static void buf_empty_and_growth(void)
{
	struct buf b = BUF_INIT;
	size_t i;
	CHECK_STR(buf_str(&b), "");
	CHECK(b.len == 0);
	for (i = 0; i < 10000; i++)
		buf_addch(&b, (char)('a' + i % 26));
	CHECK(b.len == 10000);
	CHECK(b.cap > b.len);
	CHECK(b.data[10000] == '\0');
	CHECK(b.data[0] == 'a' && b.data[25] == 'z' && b.data[26] == 'a' && b.data[9999] == 'a' + 9999 % 26);
	buf_reset(&b);
	CHECK(b.len == 0);
	CHECK(b.cap >= 10000);
	buf_adds(&b, "xy");
	CHECK_STR(buf_str(&b), "xy");
	buf_release(&b);
	CHECK(b.data == NULL && b.len == 0);
}

static void buf_add_variants(void)
{
	struct buf b = BUF_INIT;
	buf_add(&b, "abcdef", 3);
	CHECK_STR(buf_str(&b), "abc");
	buf_adds(&b, "-");
	buf_addf(&b, "%d:%s:%05.1f", 42, "z", 3.25);
	CHECK_STR(buf_str(&b), "abc-42:z:003.2");
	CHECK(b.len == strlen("abc-42:z:003.2"));
	buf_release(&b);
}

static void buf_addf_long(void)
{
	struct buf b = BUF_INIT;
	char big[3000];
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_adds(&b, "<");
	buf_addf(&b, "%s|%s", big, big);
	buf_adds(&b, ">");
	CHECK(b.len == 1 + 2999 + 1 + 2999 + 1);
	CHECK(b.data[0] == '<' && b.data[3000] == '|' && b.data[b.len - 1] == '>');
	CHECK(b.data[1] == 'q' && b.data[b.len - 2] == 'q');
	buf_release(&b);
}

static void buf_detach_owns(void)
{
	struct buf b = BUF_INIT;
	char *s;
	buf_adds(&b, "hello");
	s = buf_detach(&b);
	CHECK_STR(s, "hello");
	CHECK(b.data == NULL && b.len == 0);
	CHECK_STR(buf_str(&b), "");
	free(s);
	/* detaching an empty buffer still gives a real, empty string */
	s = buf_detach(&b);
	CHECK(s != NULL);
	CHECK_STR(s, "");
	free(s);
}

static void arena_alignment_and_zeroing(void)
{
	struct arena *a = arena_new();
	size_t sizes[] = {1, 3, 7, 8, 9, 15, 17, 100, 1, 2};
	size_t i, j;
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		unsigned char *p = arena_alloc(a, sizes[i]);
		int zero = 1;
		CHECK(((uintptr_t)p & 7) == 0);
		for (j = 0; j < sizes[i]; j++)
			if (p[j])
				zero = 0;
		CHECK(zero);
		memset(p, 0xff, sizes[i]);
	}
	/* a large allocation (bigger than a block) is aligned and zeroed too */
	{
		unsigned char *p = arena_alloc(a, 1 << 20);
		CHECK(((uintptr_t)p & 7) == 0);
		CHECK(p[0] == 0 && p[(1 << 20) - 1] == 0);
	}
	CHECK(arena_used(a) >= (1 << 20));
	arena_free(a);
}

/* Past 8 MiB an arena takes 2 MiB blocks (huge pages where allowed): every allocation still
 * zeroed, aligned, usable and apart from the others, big ones included; a reset arena zeroes
 * what it hands out again. */
static void arena_big_blocks(void)
{
	struct arena *a = arena_new();
	unsigned char **ptrs = calloc(40000, sizeof(*ptrs));
	size_t i, bad = 0;
	for (i = 0; i < 40000; i++) {
		size_t n = 24 + (i * 37) % 900;
		unsigned char *p = arena_alloc(a, n);
		if (((uintptr_t)p & 7) || p[0] || p[n - 1])
			bad++;
		p[0] = (unsigned char)i;
		p[n - 1] = (unsigned char)(i >> 8);
		ptrs[i] = p;
	}
	CHECK(bad == 0);
	for (i = 0; i < 40000; i++) {
		size_t n = 24 + (i * 37) % 900;
		if (ptrs[i][0] != (unsigned char)i || ptrs[i][n - 1] != (unsigned char)(i >> 8))
			bad++;
	}
	CHECK(bad == 0);        /* nothing overlapped */
	CHECK(arena_used(a) >= 18u << 20);
	{
		unsigned char *big = arena_alloc(a, 3u << 20);
		CHECK(big[0] == 0 && big[(3u << 20) - 1] == 0);
		memset(big, 0xcd, 3u << 20);
	}
	arena_reset(a);
	for (i = 0; i < 1000; i++) {
		unsigned char *p = arena_alloc(a, 1000);
		if (p[0] || p[999])
			bad++;
		memset(p, 0xee, 1000);
	}
	CHECK(bad == 0);
	free(ptrs);
	arena_free(a);
}

static void arena_strings(void)
{
	struct arena *a = arena_new();
	char *s = arena_strdup(a, "hello");
	char *t = arena_strndup(a, "abcdef", 3);
	CHECK_STR(s, "hello");
	CHECK_STR(t, "abc");
	CHECK(s != t);
	arena_free(a);
}

static void arena_reset_reuses(void)
{
	struct arena *a = arena_new();
	unsigned char *first = arena_alloc(a, 64), *again;
	size_t used_small;
	int i;
	memset(first, 0xab, 64);
	used_small = arena_used(a);
	for (i = 0; i < 100; i++)
		arena_alloc(a, 4096);
	arena_alloc(a, 1 << 20);
	CHECK(arena_used(a) > used_small);
	arena_reset(a);
	/* one block kept: usage shrinks back to a single block */
	CHECK(arena_used(a) > 0);
	CHECK(arena_used(a) < (1 << 20));
	again = arena_alloc(a, 64);
	CHECK(((uintptr_t)again & 7) == 0);
	CHECK(again[0] == 0 && again[63] == 0);
	arena_free(a);
	/* reset of a fresh arena is harmless */
	a = arena_new();
	arena_reset(a);
	CHECK(arena_used(a) == 0);
	CHECK(arena_alloc(a, 8) != NULL);
	arena_free(a);
}

static void errors_compose(void)
{
	struct error err = ERROR_INIT;
	CHECK(err.msg == NULL);
	CHECK(error_set(&err, "bad %s %d", "thing", 7) == -1);
	CHECK_STR(err.msg, "bad thing 7");
	CHECK(error_set(&err, "replaced") == -1);
	CHECK_STR(err.msg, "replaced");
	CHECK(error_prefix(&err, "in %s", "a.bst") == -1);
	CHECK_STR(err.msg, "in a.bst: replaced");
	CHECK(error_prefix(&err, "outer") == -1);
	CHECK_STR(err.msg, "outer: in a.bst: replaced");
	error_release(&err);
	CHECK(err.msg == NULL);
	/* prefixing nothing still yields a message */
	CHECK(error_prefix(&err, "ctx") == -1);
	CHECK_STR(err.msg, "ctx: unknown error");
	error_release(&err);
	/* a NULL error is accepted */
	CHECK(error_set(NULL, "x") == -1);
	CHECK(error_prefix(NULL, "x") == -1);
}

static void read_file_ok_and_missing(void)
{
	char dir[] = "/tmp/rill-test-util-XXXXXX";
	char *path, *missing;
	struct buf b = BUF_INIT;
	struct error err = ERROR_INIT;
	FILE *f;
	CHECK(mkdtemp(dir) != NULL);
	path = xasprintf("%s/f.txt", dir);
	missing = xasprintf("%s/nope.txt", dir);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs("line one\nline two\n", f);
		fclose(f);
	}
	CHECK(read_file(path, &b, &err) == 0);
	CHECK_STR(buf_str(&b), "line one\nline two\n");
	CHECK(b.len == 18);
	CHECK(err.msg == NULL);
	buf_release(&b);

	/* empty file: a valid empty string */
	f = fopen(path, "w");
	if (f)
		fclose(f);
	CHECK(read_file(path, &b, &err) == 0);
	CHECK(b.data != NULL && b.len == 0);
	CHECK_STR(buf_str(&b), "");
	buf_release(&b);

	CHECK(read_file(missing, &b, &err) == -1);
	{
		char *want = xasprintf("%s: No such file or directory", missing);
		CHECK_STR(err.msg, want);
		free(want);
	}
	CHECK(read_file(dir, &b, &err) == -1);
	{
		char *want = xasprintf("%s: Is a directory", dir);
		CHECK_STR(err.msg, want);
		free(want);
	}
	buf_release(&b);
	error_release(&err);
	unlink(path);
	rmdir(dir);
	free(path);
	free(missing);
}

static void string_helpers(void)
{
	CHECK(str_has_suffix("a.bst", ".bst"));
	CHECK(str_has_suffix(".bst", ".bst"));
	CHECK(str_has_suffix("abc", ""));
	CHECK(!str_has_suffix("bst", ".bst"));
	CHECK(!str_has_suffix("a.bst.x", ".bst"));
	CHECK(str_has_prefix("elements/a.bst", "elements/"));
	CHECK(str_has_prefix("abc", ""));
	CHECK(!str_has_prefix("el", "elements"));
	CHECK(!str_has_prefix("xelements", "elements"));
}

static void dup_helpers(void)
{
	char *s = xstrdup("abc"), *t = xstrndup("abcdef", 4), *u = xasprintf("%s-%03d", "n", 5);
	CHECK_STR(s, "abc");
	CHECK_STR(t, "abcd");
	CHECK_STR(u, "n-005");
	free(s);
	free(t);
	free(u);
	/* deterministic, order-sensitive, and it looks at every byte given (and only those) */
	CHECK(hash_bytes("abc", 3) == hash_bytes("abcd", 3));
	CHECK(hash_bytes("abc", 3) != hash_bytes("abd", 3));
	CHECK(hash_bytes("ab", 2) != hash_bytes("ba", 2));
	CHECK(hash_bytes("", 0) != hash_bytes("\0", 1));
	/* the published FNV-1a 64 test vectors */
	CHECK(hash_bytes("", 0) == 0xcbf29ce484222325ULL);
	CHECK(hash_bytes("a", 1) == 0xaf63dc4c8601ec8cULL);
	CHECK(hash_bytes("foobar", 6) == 0x85944171f73967e8ULL);
}

int main(void)
{
	test_prog = "util";
	RUN(buf_empty_and_growth);
	RUN(buf_add_variants);
	RUN(buf_addf_long);
	RUN(buf_detach_owns);
	RUN(arena_alignment_and_zeroing);
	RUN(arena_big_blocks);
	RUN(arena_strings);
	RUN(arena_reset_reuses);
	RUN(errors_compose);
	RUN(read_file_ok_and_missing);
	RUN(string_helpers);
	RUN(dup_helpers);
	TEST_MAIN_END();
}
