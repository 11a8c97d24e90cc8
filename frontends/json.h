/* json — a tiny JSON text writer into a growable memory buffer (for `rill status --json`): commas
 * are placed automatically, strings are escaped (control characters as \n, \t, ... or \u00XX;
 * valid UTF-8 passes through; invalid bytes become U+FFFD, so the output is always valid UTF-8).
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_FRONTEND_JSON_H
#define RILL_FRONTEND_JSON_H

#include <stddef.h>
#include <stdint.h>

/* The text is buf[0..len), always NUL-terminated once anything was written. Out of memory aborts. */
struct json {
	char *buf;
	size_t len, cap;
	int need_comma;                 /* the next value or key follows another in its container */
};

#define JSON_INIT {NULL, 0, 0, 0}

/* Free the buffer (the struct can be reused after json_reset or as if just initialised). */
void json_release(struct json *j);
/* Empty the text, keeping the buffer. */
void json_reset(struct json *j);

void json_object_begin(struct json *j);
void json_object_end(struct json *j);
void json_array_begin(struct json *j);
void json_array_end(struct json *j);
/* An object member's name; the value written next belongs to it. */
void json_key(struct json *j, const char *key);

void json_string(struct json *j, const char *s);
/* n bytes of s (which may contain NULs: they are escaped as \u0000). */
void json_string_n(struct json *j, const char *s, size_t n);
void json_int(struct json *j, int64_t v);
void json_uint(struct json *j, uint64_t v);
void json_bool(struct json *j, int v);
void json_null(struct json *j);
/* A value already in JSON form (len bytes of text, e.g. another writer's buffer), as is. */
void json_raw(struct json *j, const char *text, size_t len);
/* Append len bytes as they are, outside the value structure (no separator): joining lines. */
void json_put(struct json *j, const char *text, size_t len);

/* key + value in one call. */
void json_field_string(struct json *j, const char *key, const char *s);
void json_field_int(struct json *j, const char *key, int64_t v);
void json_field_uint(struct json *j, const char *key, uint64_t v);
void json_field_bool(struct json *j, const char *key, int v);

#endif
