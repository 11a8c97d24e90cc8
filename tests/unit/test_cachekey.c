/* Unit tests for core/format/cachekey.c: canonical JSON against ujson, SHA-256 of buffers and files.
 * SPDX-License-Identifier: Apache-2.0
 *
 * The expected JSON strings and digests were produced with the ujson 5.7.0 that BuildStream
 * 1.6.8 uses (Debian python3-ujson), exactly as _cachekey.generate_key() does:
 *   /usr/bin/python3 -c 'import ujson, hashlib
 *   j = ujson.dumps(v, sort_keys=True, escape_forward_slashes=False)
 *   print(repr(j), hashlib.sha256(j.encode("utf-8")).hexdigest())'
 * with v the Python value written in the comment above each case. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format/cachekey.h"
#include "format/node.h"
#include "test.h"
#include "base/util.h"

static struct node *str(struct arena *a, const char *s)
{
	return node_new_str(a, NULL, s);
}

static const char *json(struct buf *b, const struct node *n)
{
	buf_reset(b);
	cachekey_json(b, n);
	return buf_str(b);
}

static void test_empty_map_sha(void)
{
	struct arena *a = arena_new();
	struct buf b = BUF_INIT;
	char hex[65];
	/* v = {} */
	CHECK_STR(json(&b, node_new_map(a, NULL)), "{}");
	cachekey_of(node_new_map(a, NULL), hex);
	CHECK_STR(hex, "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
	cachekey_sha256_hex("", 0, hex);
	CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	buf_release(&b);
	arena_free(a);
}

static void test_kinds(void)
{
	struct arena *a = arena_new();
	struct buf b = BUF_INIT;
	struct node *m = node_new_map(a, NULL), *l = node_new_list(a, NULL);
	char hex[65];
	/* v = {"a": "b", "c": [1, True, None]} */
	node_map_put(a, m, "c", l);
	node_map_put(a, m, "a", str(a, "b"));
	node_list_push(a, l, node_new_kind(a, SCALAR_INT, "1"));
	node_list_push(a, l, node_new_kind(a, SCALAR_BOOL, "true"));
	node_list_push(a, l, node_new_kind(a, SCALAR_NULL, ""));
	CHECK_STR(json(&b, m), "{\"a\":\"b\",\"c\":[1,true,null]}");
	cachekey_of(m, hex);
	CHECK_STR(hex, "c5cd8dd2f3bd47ebe8b4d34411b3e8b523683d4c4c2e5e82200045757e497618");
	/* a NULL node is null; false */
	CHECK_STR(json(&b, NULL), "null");
	CHECK_STR(json(&b, node_new_kind(a, SCALAR_BOOL, "false")), "false");
	buf_release(&b);
	arena_free(a);
}

static void test_key_order(void)
{
	struct arena *a = arena_new();
	struct buf b = BUF_INIT;
	struct node *m = node_new_map(a, NULL), *l = node_new_list(a, NULL);
	char hex[65];
	/* v = {"abc": 1, "ab": True, "a": None, "abd": False, "b": "-12", "ab\u00e9": "x", "abz": []}
	 * (prefixes sort first; é (U+00E9) after every ASCII key) */
	node_map_put(a, m, "abc", node_new_kind(a, SCALAR_INT, "1"));
	node_map_put(a, m, "ab", node_new_kind(a, SCALAR_BOOL, "true"));
	node_map_put(a, m, "a", node_new_kind(a, SCALAR_NULL, ""));
	node_map_put(a, m, "abd", node_new_kind(a, SCALAR_BOOL, "false"));
	node_map_put(a, m, "b", str(a, "-12"));
	node_map_put(a, m, "ab\xc3\xa9", str(a, "x"));
	node_map_put(a, m, "abz", l);
	CHECK_STR(json(&b, m), "{\"a\":null,\"ab\":true,\"abc\":1,\"abd\":false,\"abz\":[],"
			       "\"ab\\u00e9\":\"x\",\"b\":\"-12\"}");
	cachekey_of(m, hex);
	CHECK_STR(hex, "62cd85df0466539b8422b2338b43473b814aecf95e167381c9f953d7146bcf89");
	buf_release(&b);
	arena_free(a);
}

static void test_many_keys(void)
{
	struct arena *a = arena_new();
	struct buf b = BUF_INIT;
	struct node *m = node_new_map(a, NULL);
	char k[8], v[8];
	int i;
	/* v = {"k%02d" % ((i * 7) % 20): str(i) for i in range(20)}  (more keys than the small sort) */
	for (i = 0; i < 20; i++) {
		snprintf(k, sizeof(k), "k%02d", (i * 7) % 20);
		snprintf(v, sizeof(v), "%d", i);
		node_map_put(a, m, arena_strdup(a, k), str(a, v));
	}
	CHECK_STR(json(&b, m), "{\"k00\":\"0\",\"k01\":\"3\",\"k02\":\"6\",\"k03\":\"9\",\"k04\":\"12\","
			       "\"k05\":\"15\",\"k06\":\"18\",\"k07\":\"1\",\"k08\":\"4\",\"k09\":\"7\","
			       "\"k10\":\"10\",\"k11\":\"13\",\"k12\":\"16\",\"k13\":\"19\",\"k14\":\"2\","
			       "\"k15\":\"5\",\"k16\":\"8\",\"k17\":\"11\",\"k18\":\"14\",\"k19\":\"17\"}");
	buf_release(&b);
	arena_free(a);
}

static void test_nested(void)
{
	struct arena *a = arena_new();
	struct buf b = BUF_INIT;
	struct node *m = node_new_map(a, NULL), *bm = node_new_map(a, NULL), *y = node_new_list(a, NULL);
	struct node *pq = node_new_map(a, NULL), *outer = node_new_list(a, NULL), *deep = str(a, "deep");
	char hex[65];
	int i;
	/* v = {"b": {"y": [{"q": "1", "p": "x"}], "x": ""}, "a": [], "ab": "2", "a-b": "3",
	 *      "a_b": "4", "A": "5", "": "6"} */
	node_map_put(a, pq, "q", str(a, "1"));
	node_map_put(a, pq, "p", str(a, "x"));
	node_list_push(a, y, pq);
	node_map_put(a, bm, "y", y);
	node_map_put(a, bm, "x", str(a, ""));
	node_map_put(a, m, "b", bm);
	node_map_put(a, m, "a", node_new_list(a, NULL));
	node_map_put(a, m, "ab", str(a, "2"));
	node_map_put(a, m, "a-b", str(a, "3"));
	node_map_put(a, m, "a_b", str(a, "4"));
	node_map_put(a, m, "A", str(a, "5"));
	node_map_put(a, m, "", str(a, "6"));
	CHECK_STR(json(&b, m), "{\"\":\"6\",\"A\":\"5\",\"a\":[],\"a-b\":\"3\",\"a_b\":\"4\",\"ab\":\"2\","
			       "\"b\":{\"x\":\"\",\"y\":[{\"p\":\"x\",\"q\":\"1\"}]}}");
	cachekey_of(m, hex);
	CHECK_STR(hex, "2bca79a1f5cc6f13d8c5370dcbf19f1bc1ddad798ed309d41edfac1353ecdc1e");
	/* v = [[], {}, "", [[["deep"]]]] */
	node_list_push(a, outer, node_new_list(a, NULL));
	node_list_push(a, outer, node_new_map(a, NULL));
	node_list_push(a, outer, str(a, ""));
	for (i = 0; i < 3; i++) {
		struct node *l = node_new_list(a, NULL);
		node_list_push(a, l, deep);
		deep = l;
	}
	node_list_push(a, outer, deep);
	CHECK_STR(json(&b, outer), "[[],{},\"\",[[[\"deep\"]]]]");
	cachekey_of(outer, hex);
	CHECK_STR(hex, "fbc15c0f35164ca7b3e3be85f14b8b534e4d7251015a28c9bcbbd73ad5cf3b86");
	buf_release(&b);
	arena_free(a);
}

static void test_escaping(void)
{
	struct arena *a = arena_new();
	struct buf b = BUF_INIT;
	struct node *m = node_new_map(a, NULL), *u = node_new_map(a, NULL);
	char hex[65];
	/* v = {"path": "/usr/bin", "tab\there": "quote\"back\\slash\nnl\rcr\x08bs\x0cff\x01\x1f\x7f"} */
	node_map_put(a, m, "path", str(a, "/usr/bin"));
	node_map_put(a, m, "tab\there", str(a, "quote\"back\\slash\nnl\rcr\bbs\fff\x01\x1f\x7f"));
	CHECK_STR(json(&b, m), "{\"path\":\"/usr/bin\",\"tab\\there\":"
			       "\"quote\\\"back\\\\slash\\nnl\\rcr\\bbs\\fff\\u0001\\u001f\x7f\"}");
	cachekey_of(m, hex);
	CHECK_STR(hex, "93cda3c1b974d848e2fa3e045e2d43123d9a19ca493682d22060b0c1bf598842");
	/* v = {"uni": "é€😀\u2028 <>&'"}: non-ASCII as \uXXXX, U+1F600 as a surrogate pair */
	node_map_put(a, u, "uni", str(a, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xe2\x80\xa8 <>&'"));
	CHECK_STR(json(&b, u), "{\"uni\":\"\\u00e9\\u20ac\\ud83d\\ude00\\u2028 <>&'\"}");
	cachekey_of(u, hex);
	CHECK_STR(hex, "a8023367d79f7c8ae25bd40a7f8a9c9a7b648e8c92f13e6bf6ce7ff99f41e7ec");
	/* v = b'\xe2\x82A\xff\xed\xa0\x80\xc3\xa9\xf0\x9f\x98\x80\xe0\x80\x80\xf4\x90\x80\x80\xc0\xaf'
	 *     .decode('utf-8', 'surrogateescape'): invalid bytes one by one as \udcXX */
	CHECK_STR(json(&b, str(a, "\xe2\x82\x41\xff\xed\xa0\x80\xc3\xa9\xf0\x9f\x98\x80\xe0\x80\x80"
				  "\xf4\x90\x80\x80\xc0\xaf")),
		  "\"\\udce2\\udc82A\\udcff\\udced\\udca0\\udc80\\u00e9\\ud83d\\ude00\\udce0\\udc80"
		  "\\udc80\\udcf4\\udc90\\udc80\\udc80\\udcc0\\udcaf\"");
	/* a truncated sequence at the very end */
	CHECK_STR(json(&b, str(a, "x\xf0\x9f")), "\"x\\udcf0\\udc9f\"");
	/* the quote-less form used to splice names into key JSON */
	buf_reset(&b);
	cachekey_json_string(&b, "a/\"b\"\n");
	CHECK_STR(buf_str(&b), "a/\\\"b\\\"\\n");
	/* embedded NUL inside a scalar (length counts, not strlen) */
	CHECK_STR(json(&b, node_new_scalar(a, NULL, "a\0b", 3)), "\"a\\u0000b\"");
	buf_release(&b);
	arena_free(a);
}

static void test_file_hash(void)
{
	struct error err = ERROR_INIT;
	char path[] = "/tmp/rill-test-cachekey-XXXXXX", hex[65];
	unsigned char *data = malloc(100000);
	int fd = mkstemp(path), i;
	CHECK(fd >= 0 && data);
	if (fd < 0 || !data) {
		free(data);
		return;
	}
	/* hashlib.sha256(bytes(i % 251 for i in range(100000))).hexdigest() — several read chunks */
	for (i = 0; i < 100000; i++)
		data[i] = (unsigned char)(i % 251);
	CHECK(write(fd, data, 100000) == 100000);
	close(fd);
	CHECK(cachekey_sha256_file(path, hex, &err) == 0);
	CHECK_STR(hex, "cd2df694e424bc7968cc37f47751019e5ca0cd1bdf2e479ea537c3a1c32ee1aa");
	cachekey_sha256_hex(data, 100000, hex);
	CHECK_STR(hex, "cd2df694e424bc7968cc37f47751019e5ca0cd1bdf2e479ea537c3a1c32ee1aa");
	/* hashlib.sha256(b"hello\n") */
	fd = open(path, O_WRONLY | O_TRUNC);
	CHECK(fd >= 0 && write(fd, "hello\n", 6) == 6);
	if (fd >= 0)
		close(fd);
	CHECK(cachekey_sha256_file(path, hex, &err) == 0);
	CHECK_STR(hex, "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03");
	unlink(path);
	CHECK(cachekey_sha256_file(path, hex, &err) == -1);
	CHECK(err.msg && str_has_prefix(err.msg, "Failed to read file '/tmp/rill-test-cachekey-") &&
	      str_has_suffix(err.msg, "': No such file or directory"));
	CHECK(cachekey_sha256_file("/tmp", hex, &err) == -1);
	CHECK_STR(err.msg, "Failed to read file '/tmp': Is a directory");
	error_release(&err);
	free(data);
}

int main(void)
{
	test_prog = "cachekey";
	RUN(test_empty_map_sha);
	RUN(test_kinds);
	RUN(test_key_order);
	RUN(test_many_keys);
	RUN(test_nested);
	RUN(test_escaping);
	RUN(test_file_hash);
	TEST_MAIN_END();
}
