/* node — the YAML document tree with provenance (file, line, column) on every node.
 * Loaded files, composition results and cache-key dictionaries are all trees of these.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_NODE_H
#define RILL_NODE_H

#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

enum node_type {
	NODE_SCALAR = 1,
	NODE_LIST = 2,
	NODE_MAP = 3,
};

/* How a scalar serializes to JSON. Everything loaded from YAML is NODE_STR (like BuildStream,
 * which loads every scalar as a string, the empty value as ""); the others exist only for
 * dictionaries built in code (cache keys). */
enum scalar_kind {
	SCALAR_STR = 0,
	SCALAR_BOOL = 1,        /* str is "true" or "false" */
	SCALAR_INT = 2,         /* str is the decimal text */
	SCALAR_NULL = 3,        /* str is "" */
};

/* A file a node came from. name is what errors print (project-relative, e.g. "elements/a.bst"). */
struct yfile {
	const char *name;
};

struct node_entry {
	const char *key;
	struct node *value;
	uint32_t key_line;      /* position of the key itself, 1-based line */
	uint32_t key_col;       /* 0-based column */
};

/* How a scalar was written in its file (BuildStream's round-trip YAML keeps it, and its dumps
 * write the scalar the same way): plain (or made by rill), quoted, or a block. */
enum scalar_style {
	STYLE_PLAIN = 0,
	STYLE_SINGLE = 1,
	STYLE_DOUBLE = 2,
	STYLE_LITERAL = 3,
	STYLE_FOLDED = 4,
};

struct node {
	uint8_t type;           /* enum node_type */
	uint8_t kind;           /* enum scalar_kind, scalars only */
	uint8_t style;          /* enum scalar_style, scalars only */
	uint32_t line;          /* 1-based; 0 when synthesized with no position */
	uint32_t col;           /* 0-based, as BuildStream prints it */
	const struct yfile *file; /* NULL for synthesized nodes */
	union {
		struct {
			const char *str;
			size_t len;
		} scalar;
		struct {
			struct node **items;
			size_t n, cap;
		} list;
		struct {
			struct node_entry *entries;
			size_t n, cap;
		} map;
	} u;
};

/* Constructors. All memory comes from the arena; prov (may be NULL) supplies file/line/col.
 * Nodes are immutable once shared: functions that "change" a tree return a new node and share
 * every unchanged subtree. The _put/_push mutators are only for nodes the caller just created. */
struct node *node_new_scalar(struct arena *a, const struct node *prov, const char *s, size_t len);
struct node *node_new_str(struct arena *a, const struct node *prov, const char *s);
struct node *node_new_kind(struct arena *a, enum scalar_kind kind, const char *s);
struct node *node_new_list(struct arena *a, const struct node *prov);
struct node *node_new_map(struct arena *a, const struct node *prov);
void node_list_push(struct arena *a, struct node *list, struct node *item);
/* Set key in a map the caller owns: replaces an existing entry in place, else appends. key is
 * not copied (must outlive the arena, e.g. be arena-allocated or static). */
void node_map_put(struct arena *a, struct node *map, const char *key, struct node *value);
/* Shallow copy of a list or map (entries array copied, children shared); scalars returned as is. */
struct node *node_shallow_copy(struct arena *a, const struct node *n);
/* Deep copy of n (strings included) into a. */
struct node *node_deep_copy(struct arena *a, const struct node *n);
/* Copy of map without key (shares children); returns map itself when key is absent. */
struct node *node_map_without(struct arena *a, const struct node *map, const char *key);

/* Accessors. */
struct node *node_map_get(const struct node *map, const char *key);
const struct node_entry *node_map_entry(const struct node *map, const char *key);
static inline const char *node_str(const struct node *n)
{
	return n && n->type == NODE_SCALAR ? n->u.scalar.str : NULL;
}
const char *node_type_name(const struct node *n);  /* "str", "list", "dict" (BuildStream's words) */

/* Errors carrying provenance. The message becomes "<file> [line L column C]: <msg>", or just
 * "<msg>" when n has no file. Always return -1. */
int node_error(struct error *err, const struct node *n, const char *fmt, ...) PRINTF_LIKE(3, 4);
/* Same for the position of a key within a map. */
int node_key_error(struct error *err, const struct node *map, const struct node_entry *e,
		   const char *fmt, ...) PRINTF_LIKE(4, 5);
/* Append "<file> [line L column C]" for n to b. */
void node_format_provenance(struct buf *b, const struct node *n);

/* Typed getters with BuildStream's messages. Missing key: *out = def and 0 (or an error
 * "Dictionary did not contain expected key 'k'" when required). Wrong type: -1 and
 * "<prov>: Value of 'k' is not of the expected type '<t>'". */
int node_get_str(const struct node *map, const char *key, const char *def, const char **out,
		 struct error *err);
int node_get_required_str(const struct node *map, const char *key, const char **out,
			  struct error *err);
int node_get_bool(const struct node *map, const char *key, int def, int *out, struct error *err);
int node_get_int(const struct node *map, const char *key, long def, long *out, struct error *err);
/* Returns the node for key if it is a list (or NULL when missing); error when another type. */
int node_get_list(const struct node *map, const char *key, struct node **out, struct error *err);
int node_get_map(const struct node *map, const char *key, struct node **out, struct error *err);
/* List of strings: every item must be a scalar. */
int node_get_str_list(const struct node *map, const char *key, struct node **out,
		      struct error *err);
/* Parse a scalar as bool the way BuildStream does: true/True/false/False only. */
int node_scalar_bool(const struct node *n, const char *what, int *out, struct error *err);

/* Reject keys of map not in the NULL-terminated list allowed: "<prov>: Unexpected key: k". */
int node_validate(const struct node *map, const char *const *allowed, struct error *err);

/* Deep structural equality (ignores provenance). */
int node_equal(const struct node *a, const struct node *b);

#endif
