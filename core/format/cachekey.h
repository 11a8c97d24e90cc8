/* cachekey — BuildStream's canonical JSON of a node tree and SHA-256 (keys are byte-identical
 * to bst 1.6.8: sha256(ujson.dumps(v, sort_keys=True, escape_forward_slashes=False))).
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_CACHEKEY_H
#define RILL_CACHEKEY_H

#include <stddef.h>

#include "base/util.h"
#include "format/node.h"

/* Append the canonical JSON of n to out: compact (no spaces), map keys sorted by code point
 * (= UTF-8 byte order), '/' not escaped. Scalars by kind: SCALAR_STR a string, SCALAR_INT its
 * text as a number, SCALAR_BOOL true/false, SCALAR_NULL (and a NULL n) null. Strings are escaped
 * like ujson with ensure_ascii: \" \\ \b \f \n \r \t, other controls as \u00XX, every non-ASCII
 * character as \uXXXX (lowercase hex, surrogate pairs above U+FFFF), DEL as is; a byte that is not
 * part of valid UTF-8 becomes \udcXX like Python's surrogateescape. Maps must not repeat a key.
 * n is only read. */
void cachekey_json(struct buf *out, const struct node *n);

/* Append the NUL-terminated s escaped as above, without the surrounding quotes. */
void cachekey_json_string(struct buf *out, const char *s);

/* Lowercase hex SHA-256 of data; hex receives 64 digits and a NUL. */
void cachekey_sha256_hex(const void *data, size_t len, char hex[65]);

/* SHA-256 of cachekey_json(n). */
void cachekey_of(const struct node *n, char hex[65]);

/* SHA-256 of a file's contents. Returns 0, or -1 with err set ("Failed to read file '<path>':
 * <reason>") when it cannot be opened or read. */
int cachekey_sha256_file(const char *path, char hex[65], struct error *err);

#endif
