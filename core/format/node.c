/* node — the YAML document tree with provenance: constructors, accessors, typed getters.
 * SPDX-License-Identifier: Apache-2.0 */
#include "format/node.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static struct node *node_alloc(struct arena *a, enum node_type type, const struct node *prov)
{
	struct node *n = arena_alloc(a, sizeof(*n));
	n->type = (uint8_t)type;
	if (prov) {
		n->file = prov->file;
		n->line = prov->line;
		n->col = prov->col;
	}
	return n;
}

struct node *node_new_scalar(struct arena *a, const struct node *prov, const char *s, size_t len)
{
	struct node *n = node_alloc(a, NODE_SCALAR, prov);
	n->u.scalar.str = arena_strndup(a, s, len);
	n->u.scalar.len = len;
	return n;
}

struct node *node_new_str(struct arena *a, const struct node *prov, const char *s)
{
	return node_new_scalar(a, prov, s, strlen(s));
}

struct node *node_new_kind(struct arena *a, enum scalar_kind kind, const char *s)
{
	struct node *n = node_new_str(a, NULL, s);
	n->kind = (uint8_t)kind;
	return n;
}

struct node *node_new_list(struct arena *a, const struct node *prov)
{
	return node_alloc(a, NODE_LIST, prov);
}

struct node *node_new_map(struct arena *a, const struct node *prov)
{
	return node_alloc(a, NODE_MAP, prov);
}

/* Arena arrays cannot be realloc'd: grow by copying into a fresh, doubled block. */
static void *arena_grow(struct arena *a, void *old, size_t n, size_t *cap, size_t elem)
{
	size_t ncap = *cap ? *cap * 2 : 4;
	void *p = arena_alloc(a, ncap * elem);
	if (old && n)
		memcpy(p, old, n * elem);
	*cap = ncap;
	return p;
}

void node_list_push(struct arena *a, struct node *list, struct node *item)
{
	if (list->u.list.n == list->u.list.cap)
		list->u.list.items = arena_grow(a, list->u.list.items, list->u.list.n,
						&list->u.list.cap, sizeof(struct node *));
	list->u.list.items[list->u.list.n++] = item;
}

void node_map_put(struct arena *a, struct node *map, const char *key, struct node *value)
{
	size_t i;
	struct node_entry *e;
	for (i = 0; i < map->u.map.n; i++) {
		if (strcmp(map->u.map.entries[i].key, key) == 0) {
			map->u.map.entries[i].value = value;
			return;
		}
	}
	if (map->u.map.n == map->u.map.cap)
		map->u.map.entries = arena_grow(a, map->u.map.entries, map->u.map.n,
						&map->u.map.cap, sizeof(struct node_entry));
	e = &map->u.map.entries[map->u.map.n++];
	e->key = key;
	e->value = value;
	e->key_line = value ? value->line : 0;
	e->key_col = value ? value->col : 0;
}

struct node *node_shallow_copy(struct arena *a, const struct node *n)
{
	struct node *c;
	if (n->type == NODE_SCALAR)
		return (struct node *)n;
	c = arena_alloc(a, sizeof(*c));
	*c = *n;
	if (n->type == NODE_LIST) {
		c->u.list.cap = n->u.list.n;
		c->u.list.items = arena_alloc(a, (n->u.list.n ? n->u.list.n : 1) * sizeof(struct node *));
		if (n->u.list.n)
			memcpy(c->u.list.items, n->u.list.items, n->u.list.n * sizeof(struct node *));
	} else {
		c->u.map.cap = n->u.map.n;
		c->u.map.entries = arena_alloc(a, (n->u.map.n ? n->u.map.n : 1) * sizeof(struct node_entry));
		if (n->u.map.n)
			memcpy(c->u.map.entries, n->u.map.entries, n->u.map.n * sizeof(struct node_entry));
	}
	return c;
}

struct node *node_deep_copy(struct arena *a, const struct node *n)
{
	struct node *c = arena_alloc(a, sizeof(*c));
	size_t i;
	*c = *n;
	switch (n->type) {
	case NODE_SCALAR:
		c->u.scalar.str = arena_strndup(a, n->u.scalar.str, n->u.scalar.len);
		break;
	case NODE_LIST:
		c->u.list.cap = n->u.list.n;
		c->u.list.items = arena_alloc(a, (n->u.list.n ? n->u.list.n : 1) * sizeof(struct node *));
		for (i = 0; i < n->u.list.n; i++)
			c->u.list.items[i] = node_deep_copy(a, n->u.list.items[i]);
		break;
	default:
		c->u.map.cap = n->u.map.n;
		c->u.map.entries = arena_alloc(a, (n->u.map.n ? n->u.map.n : 1) * sizeof(struct node_entry));
		for (i = 0; i < n->u.map.n; i++) {
			c->u.map.entries[i] = n->u.map.entries[i];
			c->u.map.entries[i].value = node_deep_copy(a, n->u.map.entries[i].value);
		}
		break;
	}
	return c;
}

struct node *node_map_without(struct arena *a, const struct node *map, const char *key)
{
	struct node *c;
	size_t i, j;
	if (!node_map_entry(map, key))
		return (struct node *)map;
	c = node_shallow_copy(a, map);
	for (i = j = 0; i < c->u.map.n; i++) {
		if (strcmp(c->u.map.entries[i].key, key) != 0)
			c->u.map.entries[j++] = c->u.map.entries[i];
	}
	c->u.map.n = j;
	return c;
}

const struct node_entry *node_map_entry(const struct node *map, const char *key)
{
	size_t i;
	if (!map || map->type != NODE_MAP)
		return NULL;
	for (i = 0; i < map->u.map.n; i++)
		if (strcmp(map->u.map.entries[i].key, key) == 0)
			return &map->u.map.entries[i];
	return NULL;
}

struct node *node_map_get(const struct node *map, const char *key)
{
	const struct node_entry *e = node_map_entry(map, key);
	return e ? e->value : NULL;
}

const char *node_type_name(const struct node *n)
{
	if (!n)
		return "None";
	switch (n->type) {
	case NODE_SCALAR:
		return "str";
	case NODE_LIST:
		return "list";
	default:
		return "dict";
	}
}

void node_format_provenance(struct buf *b, const struct node *n)
{
	if (n && n->file)
		buf_addf(b, "%s [line %u column %u]", n->file->name, n->line, n->col);
}

static int vpos_error(struct error *err, const struct yfile *f, uint32_t line, uint32_t col,
		      const char *fmt, va_list ap)
{
	struct buf b = BUF_INIT;
	if (!err)
		return -1;
	if (f)
		buf_addf(&b, "%s [line %u column %u]: ", f->name, line, col);
	buf_vaddf(&b, fmt, ap);
	free(err->msg);
	err->msg = buf_detach(&b);
	return -1;
}

int node_error(struct error *err, const struct node *n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vpos_error(err, n ? n->file : NULL, n ? n->line : 0, n ? n->col : 0, fmt, ap);
	va_end(ap);
	return -1;
}

int node_key_error(struct error *err, const struct node *map, const struct node_entry *e,
		   const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (e && e->key_line)
		vpos_error(err, map ? map->file : NULL, e->key_line, e->key_col, fmt, ap);
	else
		vpos_error(err, map ? map->file : NULL, map ? map->line : 0, map ? map->col : 0, fmt, ap);
	va_end(ap);
	return -1;
}

static int wrong_type(const struct node *v, const char *key, const char *want, struct error *err)
{
	return node_error(err, v, "Value of '%s' is not of the expected type '%s'", key, want);
}

int node_get_str(const struct node *map, const char *key, const char *def, const char **out,
		 struct error *err)
{
	struct node *v = node_map_get(map, key);
	if (!v) {
		*out = def;
		return 0;
	}
	if (v->type != NODE_SCALAR)
		return wrong_type(v, key, "str", err);
	*out = v->u.scalar.str;
	return 0;
}

int node_get_required_str(const struct node *map, const char *key, const char **out,
			  struct error *err)
{
	if (!node_map_get(map, key))
		return node_error(err, map, "Dictionary did not contain expected key '%s'", key);
	return node_get_str(map, key, NULL, out, err);
}

int node_scalar_bool(const struct node *n, const char *what, int *out, struct error *err)
{
	const char *s = node_str(n);
	if (s && (strcmp(s, "true") == 0 || strcmp(s, "True") == 0)) {
		*out = 1;
		return 0;
	}
	if (s && (strcmp(s, "false") == 0 || strcmp(s, "False") == 0)) {
		*out = 0;
		return 0;
	}
	return wrong_type(n, what, "bool", err);
}

int node_get_bool(const struct node *map, const char *key, int def, int *out, struct error *err)
{
	struct node *v = node_map_get(map, key);
	if (!v) {
		*out = def;
		return 0;
	}
	return node_scalar_bool(v, key, out, err);
}

int node_get_int(const struct node *map, const char *key, long def, long *out, struct error *err)
{
	struct node *v = node_map_get(map, key);
	const char *s;
	char *end;
	long val;
	if (!v) {
		*out = def;
		return 0;
	}
	s = node_str(v);
	if (!s || !*s)
		return wrong_type(v, key, "int", err);
	errno = 0;
	val = strtol(s, &end, 10);
	while (*end == ' ')
		end++;
	if (errno || *end)
		return wrong_type(v, key, "int", err);
	*out = val;
	return 0;
}

int node_get_list(const struct node *map, const char *key, struct node **out, struct error *err)
{
	struct node *v = node_map_get(map, key);
	*out = NULL;
	if (!v)
		return 0;
	if (v->type != NODE_LIST)
		return wrong_type(v, key, "list", err);
	*out = v;
	return 0;
}

int node_get_map(const struct node *map, const char *key, struct node **out, struct error *err)
{
	struct node *v = node_map_get(map, key);
	*out = NULL;
	if (!v)
		return 0;
	if (v->type != NODE_MAP)
		return wrong_type(v, key, "dict", err);
	*out = v;
	return 0;
}

int node_get_str_list(const struct node *map, const char *key, struct node **out,
		      struct error *err)
{
	size_t i;
	if (node_get_list(map, key, out, err))
		return -1;
	if (!*out)
		return 0;
	for (i = 0; i < (*out)->u.list.n; i++) {
		struct node *it = (*out)->u.list.items[i];
		if (it->type != NODE_SCALAR)
			return node_error(err, it, "List item is not of the expected type 'str'");
	}
	return 0;
}

int node_validate(const struct node *map, const char *const *allowed, struct error *err)
{
	size_t i, j;
	if (!map)
		return 0;
	for (i = 0; i < map->u.map.n; i++) {
		const struct node_entry *e = &map->u.map.entries[i];
		int ok = 0;
		for (j = 0; allowed[j]; j++)
			if (strcmp(allowed[j], e->key) == 0) {
				ok = 1;
				break;
			}
		if (!ok)
			return node_error(err, e->value, "Unexpected key: %s", e->key);
	}
	return 0;
}

int node_equal(const struct node *a, const struct node *b)
{
	size_t i;
	if (a == b)
		return 1;
	if (!a || !b || a->type != b->type)
		return 0;
	switch (a->type) {
	case NODE_SCALAR:
		return a->kind == b->kind && a->u.scalar.len == b->u.scalar.len &&
		       memcmp(a->u.scalar.str, b->u.scalar.str, a->u.scalar.len) == 0;
	case NODE_LIST:
		if (a->u.list.n != b->u.list.n)
			return 0;
		for (i = 0; i < a->u.list.n; i++)
			if (!node_equal(a->u.list.items[i], b->u.list.items[i]))
				return 0;
		return 1;
	default:
		if (a->u.map.n != b->u.map.n)
			return 0;
		for (i = 0; i < a->u.map.n; i++) {
			const struct node_entry *e = &a->u.map.entries[i];
			if (!node_equal(e->value, node_map_get(b, e->key)))
				return 0;
		}
		return 1;
	}
}
