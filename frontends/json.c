/* json — a tiny JSON text writer into a memory buffer (see json.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "json.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void grow(struct json *j, size_t more)
{
	size_t want = j->len + more + 1;
	if (want <= j->cap)
		return;
	size_t cap = j->cap ? j->cap : 256;
	while (cap < want)
		cap *= 2;
	j->buf = realloc(j->buf, cap);
	if (!j->buf)
		abort();
	j->cap = cap;
}

static void put(struct json *j, const char *s, size_t n)
{
	grow(j, n);
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = '\0';
}

static void putc_(struct json *j, char c)
{
	put(j, &c, 1);
}

void json_release(struct json *j)
{
	free(j->buf);
	*j = (struct json)JSON_INIT;
}

void json_reset(struct json *j)
{
	j->len = 0;
	j->need_comma = 0;
	if (j->buf)
		j->buf[0] = '\0';
}

/* Before any value or key: separate it from the previous one in the same container. */
static void sep(struct json *j)
{
	if (j->need_comma)
		putc_(j, ',');
	j->need_comma = 0;
}

void json_object_begin(struct json *j)
{
	sep(j);
	putc_(j, '{');
}

void json_object_end(struct json *j)
{
	putc_(j, '}');
	j->need_comma = 1;
}

void json_array_begin(struct json *j)
{
	sep(j);
	putc_(j, '[');
}

void json_array_end(struct json *j)
{
	putc_(j, ']');
	j->need_comma = 1;
}

/* The length of the valid UTF-8 sequence at p (n bytes available), or 0 when it is not one
 * (stray continuation byte, truncated, overlong, surrogate, beyond U+10FFFF). */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	size_t len;
	uint32_t cp, min;
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xf0) {
		len = 4;
		min = 0x10000;
	} else if (p[0] >= 0xe0) {
		len = 3;
		min = 0x800;
	} else if (p[0] >= 0xc0) {
		len = 2;
		min = 0x80;
	} else {
		return 0;
	}
	if (len > n || p[0] >= 0xf8)
		return 0;
	cp = p[0] & (0x7f >> len);
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* The escape of an ASCII byte that JSON does not allow raw in a string (into esc), or NULL. */
static const char *escape_of(unsigned char c, char esc[8])
{
	static const char short_form[] = "\"\"\\\\\nn\tt\rr\bb\ff";      /* byte, letter pairs */
	if (c >= 0x20 && c != '"' && c != '\\')
		return NULL;
	for (const char *s = short_form; *s; s += 2) {
		if ((unsigned char)s[0] == c) {
			esc[0] = '\\';
			esc[1] = s[1];
			esc[2] = '\0';
			return esc;
		}
	}
	snprintf(esc, 8, "\\u%04x", c);
	return esc;
}

/* The bytes a string cannot hold as they are: control characters, '"', '\\', and the bytes of
 * non-ASCII sequences (checked as UTF-8). */
static int special(unsigned char c)
{
	return c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
}

void json_string_n(struct json *j, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	char esc[8];
	sep(j);
	grow(j, n + 2);
	putc_(j, '"');
	while (p < end) {
		const unsigned char *run = p;
		/* copy the longest run that needs no escape in one go */
		while (p < end && !special(*p))
			p++;
		if (p > run)
			put(j, (const char *)run, (size_t)(p - run));
		if (p == end)
			break;
		if (*p < 0x80) {
			escape_of(*p, esc);
			put(j, esc, strlen(esc));
			p++;
			continue;
		}
		size_t len = utf8_len(p, (size_t)(end - p));
		if (len) {
			put(j, (const char *)p, len);
			p += len;
		} else {
			put(j, "\\ufffd", 6);      /* keep the output valid UTF-8 */
			p++;
		}
	}
	putc_(j, '"');
	j->need_comma = 1;
}

void json_string(struct json *j, const char *s)
{
	json_string_n(j, s, strlen(s));
}

void json_key(struct json *j, const char *key)
{
	json_string(j, key);
	putc_(j, ':');
	j->need_comma = 0;
}

/* The decimal digits of v, ending at end; returns where they start. */
static char *digits(char *end, uint64_t v)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

void json_int(struct json *j, int64_t v)
{
	char b[24], *p = digits(b + sizeof(b), v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
	if (v < 0)
		*--p = '-';
	sep(j);
	put(j, p, (size_t)(b + sizeof(b) - p));
	j->need_comma = 1;
}

void json_uint(struct json *j, uint64_t v)
{
	char b[24], *p = digits(b + sizeof(b), v);
	sep(j);
	put(j, p, (size_t)(b + sizeof(b) - p));
	j->need_comma = 1;
}

void json_bool(struct json *j, int v)
{
	json_raw(j, v ? "true" : "false", v ? 4 : 5);
}

void json_null(struct json *j)
{
	json_raw(j, "null", 4);
}

void json_put(struct json *j, const char *text, size_t len)
{
	put(j, text, len);
}

void json_raw(struct json *j, const char *text, size_t len)
{
	sep(j);
	put(j, text, len);
	j->need_comma = 1;
}

void json_field_string(struct json *j, const char *key, const char *s)
{
	json_key(j, key);
	json_string(j, s);
}

void json_field_int(struct json *j, const char *key, int64_t v)
{
	json_key(j, key);
	json_int(j, v);
}

void json_field_uint(struct json *j, const char *key, uint64_t v)
{
	json_key(j, key);
	json_uint(j, v);
}

void json_field_bool(struct json *j, const char *key, int v)
{
	json_key(j, key);
	json_bool(j, v);
}
