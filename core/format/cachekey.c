/* cachekey — canonical JSON (ujson's output for BuildStream's key dictionaries) and SHA-256.
 * SPDX-License-Identifier: Apache-2.0 */
#include "format/cachekey.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/sha256.h"

static const char hexdigits[] = "0123456789abcdef";

/* Write \uXXXX at p; returns the end. */
static char *put_u(char *p, unsigned cp)
{
	p[0] = '\\';
	p[1] = 'u';
	p[2] = hexdigits[(cp >> 12) & 15];
	p[3] = hexdigits[(cp >> 8) & 15];
	p[4] = hexdigits[(cp >> 4) & 15];
	p[5] = hexdigits[cp & 15];
	return p + 6;
}

/* Decode one well-formed UTF-8 sequence (lead byte >= 0x80) at s, n bytes available: returns
 * its length and sets *cp, or 0 when the bytes are not valid UTF-8 (overlong forms, surrogates
 * and values above U+10FFFF included). */
static size_t utf8_decode(const unsigned char *s, size_t n, unsigned *cp)
{
	unsigned c = s[0];
	size_t len, i;
	if (c < 0xC2)
		return 0;
	if (c < 0xE0)
		len = 2;
	else if (c < 0xF0)
		len = 3;
	else if (c < 0xF5)
		len = 4;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] >= 0xA0) ||
	    (c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] >= 0x90))
		return 0;
	if (len == 2)
		*cp = ((c & 0x1F) << 6) | (s[1] & 0x3F);
	else if (len == 3)
		*cp = ((c & 0x0F) << 12) | ((s[1] & 0x3Fu) << 6) | (s[2] & 0x3F);
	else
		*cp = ((c & 0x07) << 18) | ((s[1] & 0x3Fu) << 12) | ((s[2] & 0x3Fu) << 6) | (s[3] & 0x3F);
	return len;
}

/* Bytes copied as they are: printable ASCII and DEL, except '"' and '\\'. */
static int plain_byte(unsigned char c)
{
	return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

/* Whether none of the 8 bytes in x needs escaping (exact, using the classic zero-byte tests). */
static int plain_word(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
	uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
	uint64_t hit = (x & high) | ((x - ones * 0x20) & ~x & high) | ((q - ones) & ~q & high) |
		       ((b - ones) & ~b & high);
	return hit == 0;
}

/* Append the escaped form of str[0..len). An input byte never needs more than 6 output bytes
 * (\udcXX for an invalid byte; a 4-byte sequence becomes 12), so room is reserved once. */
static void json_chars(struct buf *out, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, k;
	char *p;
	unsigned c, cp;
	buf_grow(out, 6 * len);
	p = out->data + out->len;
	while (i < len) {
		uint64_t w;
		if (i + 8 <= len) {
			memcpy(&w, s + i, 8);
			if (plain_word(w)) {
				memcpy(p, &w, 8);
				p += 8;
				i += 8;
				continue;
			}
		}
		c = s[i];
		if (plain_byte((unsigned char)c)) {
			*p++ = (char)c;
			i++;
			continue;
		}
		i++;
		switch (c) {
		case '"':
			*p++ = '\\';
			*p++ = '"';
			break;
		case '\\':
			*p++ = '\\';
			*p++ = '\\';
			break;
		case '\b':
			*p++ = '\\';
			*p++ = 'b';
			break;
		case '\f':
			*p++ = '\\';
			*p++ = 'f';
			break;
		case '\n':
			*p++ = '\\';
			*p++ = 'n';
			break;
		case '\r':
			*p++ = '\\';
			*p++ = 'r';
			break;
		case '\t':
			*p++ = '\\';
			*p++ = 't';
			break;
		default:
			if (c < 0x20) {
				p = put_u(p, c);
				break;
			}
			k = utf8_decode(s + i - 1, len - i + 1, &cp);
			if (!k) {
				p = put_u(p, 0xDC00 | c);       /* surrogateescape */
				break;
			}
			i += k - 1;
			if (cp >= 0x10000) {
				cp -= 0x10000;
				p = put_u(p, 0xD800 | (cp >> 10));
				p = put_u(p, 0xDC00 | (cp & 0x3FF));
			} else {
				p = put_u(p, cp);
			}
			break;
		}
	}
	out->len = (size_t)(p - out->data);
	out->data[out->len] = '\0';
}

static void json_string(struct buf *out, const char *s, size_t len)
{
	buf_addch(out, '"');
	json_chars(out, s, len);
	buf_addch(out, '"');
}

void cachekey_json_string(struct buf *out, const char *s)
{
	json_chars(out, s, strlen(s));
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp((*(const struct node_entry *const *)a)->key,
		      (*(const struct node_entry *const *)b)->key);
}

static void json_map(struct buf *out, const struct node *n)
{
	const struct node_entry *local[32], **idx = local;
	size_t cnt = n->u.map.n, i, j;
	int sorted = 1;
	if (cnt > ARRAY_SIZE(local))
		idx = xmalloc(cnt * sizeof(*idx));
	for (i = 0; i < cnt; i++) {
		idx[i] = &n->u.map.entries[i];
		if (i && sorted && strcmp(idx[i - 1]->key, idx[i]->key) > 0)
			sorted = 0;
	}
	if (!sorted) {
		if (cnt <= 16) {
			for (i = 1; i < cnt; i++) {
				const struct node_entry *e = idx[i];
				for (j = i; j > 0 && strcmp(idx[j - 1]->key, e->key) > 0; j--)
					idx[j] = idx[j - 1];
				idx[j] = e;
			}
		} else {
			qsort(idx, cnt, sizeof(*idx), cmp_entry);
		}
	}
	buf_addch(out, '{');
	for (i = 0; i < cnt; i++) {
		if (i)
			buf_addch(out, ',');
		json_string(out, idx[i]->key, strlen(idx[i]->key));
		buf_addch(out, ':');
		cachekey_json(out, idx[i]->value);
	}
	buf_addch(out, '}');
	if (idx != local)
		free(idx);
}

void cachekey_json(struct buf *out, const struct node *n)
{
	size_t i;
	if (!n) {
		buf_add(out, "null", 4);
		return;
	}
	switch (n->type) {
	case NODE_SCALAR:
		switch (n->kind) {
		case SCALAR_BOOL: {
			const char *s = n->u.scalar.str;
			int t = s && (s[0] == 't' || s[0] == 'T' || s[0] == '1');
			buf_adds(out, t ? "true" : "false");
			break;
		}
		case SCALAR_INT:
			if (n->u.scalar.len)
				buf_add(out, n->u.scalar.str, n->u.scalar.len);
			else
				buf_addch(out, '0');
			break;
		case SCALAR_NULL:
			buf_add(out, "null", 4);
			break;
		default:
			json_string(out, n->u.scalar.str ? n->u.scalar.str : "", n->u.scalar.len);
			break;
		}
		break;
	case NODE_LIST:
		buf_addch(out, '[');
		for (i = 0; i < n->u.list.n; i++) {
			if (i)
				buf_addch(out, ',');
			cachekey_json(out, n->u.list.items[i]);
		}
		buf_addch(out, ']');
		break;
	case NODE_MAP:
		json_map(out, n);
		break;
	default:
		buf_add(out, "null", 4);
		break;
	}
}

static void to_hex(const unsigned char *md, unsigned len, char hex[65])
{
	unsigned i;
	for (i = 0; i < len && i < 32; i++) {
		hex[2 * i] = hexdigits[md[i] >> 4];
		hex[2 * i + 1] = hexdigits[md[i] & 15];
	}
	hex[2 * i] = '\0';
}

void cachekey_sha256_hex(const void *data, size_t len, char hex[65])
{
	unsigned char md[32];
	sha256(data, len, md);
	to_hex(md, 32, hex);
}

void cachekey_of(const struct node *n, char hex[65])
{
	struct buf b = BUF_INIT;
	cachekey_json(&b, n);
	cachekey_sha256_hex(buf_str(&b), b.len, hex);
	buf_release(&b);
}

int cachekey_sha256_file(const char *path, char hex[65], struct error *err)
{
	unsigned char chunk[1 << 15], md[32];
	struct sha256 ctx;
	ssize_t got;
	int fd, saved;
	hex[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return error_set(err, "Failed to read file '%s': %s", path, strerror(errno));
	sha256_init(&ctx);
	for (;;) {
		got = read(fd, chunk, sizeof(chunk));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		sha256_update(&ctx, chunk, (size_t)got);
	}
	saved = errno;
	close(fd);
	if (got < 0)
		return error_set(err, "Failed to read file '%s': %s", path, strerror(saved));
	sha256_final(&ctx, md);
	to_hex(md, 32, hex);
	return 0;
}
