/* yamlload — libyaml event stream to node trees, with positions, duplicate-key and depth checks.
 * SPDX-License-Identifier: Apache-2.0 */
#include "format/yamlload.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* Aliases share the anchored node (trees are immutable), but a document of nested aliases can
 * still describe an exponentially large tree; count expanded nodes and refuse beyond this. */
#define YAML_MAX_EXPANDED 50000000UL

struct anchor {
	char *name;
	struct node *node;
	size_t weight;
};

struct frame {
	struct node *node;
	char *pending_key;      /* maps: key waiting for its value (arena) */
	uint32_t key_line, key_col;
	size_t weight;          /* expanded node count of the subtree so far */
	size_t *index;          /* maps with many keys: open-addressing table of entry index + 1 */
	size_t index_cap;       /* power of two, 0 while the map is small */
};

/* Maps up to this many keys check duplicates by scanning; bigger ones use a hash index, so a
 * 100 MB mapping loads in linear time. */
#define YAML_SMALL_MAP 16

static size_t key_slot(const struct frame *f, const char *key)
{
	size_t mask = f->index_cap - 1, i = (size_t)hash_bytes(key, strlen(key)) & mask;
	while (f->index[i] && strcmp(f->node->u.map.entries[f->index[i] - 1].key, key) != 0)
		i = (i + 1) & mask;
	return i;
}

static void index_rebuild(struct frame *f)
{
	size_t i, n = f->node->u.map.n;
	f->index_cap = f->index_cap ? f->index_cap * 2 : 64;
	free(f->index);
	f->index = xcalloc(f->index_cap, sizeof(size_t));
	for (i = 0; i < n; i++)
		f->index[key_slot(f, f->node->u.map.entries[i].key)] = i + 1;
}

/* The entry of key in the map being built by f, or NULL. */
static const struct node_entry *frame_find(struct frame *f, const char *key)
{
	size_t i;
	if (!f->index_cap) {
		for (i = 0; i < f->node->u.map.n; i++)
			if (strcmp(f->node->u.map.entries[i].key, key) == 0)
				return &f->node->u.map.entries[i];
		return NULL;
	}
	i = f->index[key_slot(f, key)];
	return i ? &f->node->u.map.entries[i - 1] : NULL;
}

/* Append a new (known unique) key to the map being built by f. */
static void frame_append(struct arena *a, struct frame *f, const char *key, struct node *v)
{
	struct node *m = f->node;
	struct node_entry *e;
	if (m->u.map.n == m->u.map.cap) {
		size_t ncap = m->u.map.cap ? m->u.map.cap * 2 : 4;
		struct node_entry *ne = arena_alloc(a, ncap * sizeof(*ne));
		if (m->u.map.n)
			memcpy(ne, m->u.map.entries, m->u.map.n * sizeof(*ne));
		m->u.map.entries = ne;
		m->u.map.cap = ncap;
	}
	e = &m->u.map.entries[m->u.map.n++];
	e->key = key;
	e->value = v;
	e->key_line = f->key_line;
	e->key_col = f->key_col;
	if (m->u.map.n > YAML_SMALL_MAP && (m->u.map.n * 2 > f->index_cap))
		index_rebuild(f);
	else if (f->index_cap)
		f->index[key_slot(f, key)] = m->u.map.n;
}

struct loader {
	struct arena *a;
	const struct yfile *file;
	struct error *err;
	struct frame stack[YAML_MAX_DEPTH + 1];
	int depth;
	struct anchor *anchors;
	size_t nanchors, anchors_cap;
	size_t expanded;
	struct node *root;
	int documents;
};

/* Mapping keys that BuildStream files repeat in every element: a key among these points at
 * the constant instead of a copy (tens of megabytes over 60,000 elements). Sorted (strcmp). */
static const char *const common_keys[] = {
	"aliases", "bst", "build-commands", "build-depends", "build-dir", "build-gid", "build-uid",
	"checkout-submodules", "cmake-local", "command-subdir", "conf-local", "config",
	"configure-commands", "depends", "description", "directory", "environment",
	"environment-nocache", "exclude", "filename", "include", "include-orphans",
	"install-commands", "integration-commands", "junction", "kind", "make-args",
	"overlap-whitelist", "path", "pkgname", "post-install-commands", "pre-build-commands",
	"public", "ref", "runtime-depends", "sandbox", "section", "sources", "split-rules", "strict",
	"strip-commands", "submodules", "track", "type", "url", "variables", "version",
};

static int key_cmp(const void *key, const void *entry)
{
	return strcmp(key, *(const char *const *)entry);
}

static const char *key_copy(struct arena *a, const char *s, size_t len)
{
	const char *const *k = bsearch(s, common_keys, sizeof(common_keys) / sizeof(common_keys[0]),
				       sizeof(common_keys[0]), key_cmp);
	return k ? *k : arena_strndup(a, s, len);
}

static int pos_error(struct loader *l, const yaml_mark_t *m, const char *fmt, const char *arg)
{
	struct node where = {0};
	where.file = l->file;
	where.line = (uint32_t)m->line + 1;
	where.col = (uint32_t)m->column;
	return node_error(l->err, &where, fmt, arg);
}

static void set_pos(struct loader *l, struct node *n, const yaml_mark_t *m)
{
	n->file = l->file;
	n->line = (uint32_t)m->line + 1;
	n->col = (uint32_t)m->column;
}

static int remember_anchor(struct loader *l, const yaml_char_t *name, struct node *n, size_t weight)
{
	if (!name)
		return 0;
	GROW(l->anchors, l->anchors_cap, l->nanchors + 1);
	l->anchors[l->nanchors].name = xstrdup((const char *)name);
	l->anchors[l->nanchors].node = n;
	l->anchors[l->nanchors].weight = weight;
	l->nanchors++;
	return 0;
}

/* A plain scalar that is the next key of map frame f: only its text and position are kept (a
 * key is never a node of the tree). s is NUL-terminated. */
static int add_key(struct loader *l, struct frame *f, const char *s, size_t len, const yaml_mark_t *m)
{
	const struct node_entry *dup;
	l->expanded++;
	if (l->expanded > YAML_MAX_EXPANDED)
		return pos_error(l, m, "%s", "Document is too large (aliases expand beyond the limit)");
	f->weight++;
	dup = frame_find(f, s);
	if (dup) {
		struct node where = {0};
		where.file = l->file;
		where.line = (uint32_t)m->line + 1;
		where.col = (uint32_t)m->column;
		return node_error(l->err, &where, "Duplicate key '%s' (first defined at line %u column %u)",
				  s, dup->key_line, dup->key_col);
	}
	f->pending_key = (char *)key_copy(l->a, s, len);
	f->key_line = (uint32_t)m->line + 1;
	f->key_col = (uint32_t)m->column;
	return 0;
}

/* Attach a finished value (scalar, alias target or completed collection) to the parent. */
static int add_value(struct loader *l, struct node *v, size_t weight, const yaml_mark_t *m)
{
	struct frame *f;
	l->expanded += weight;
	if (l->expanded > YAML_MAX_EXPANDED)
		return pos_error(l, m, "%s", "Document is too large (aliases expand beyond the limit)");
	if (l->depth == 0) {
		l->root = v;
		return 0;
	}
	f = &l->stack[l->depth - 1];
	f->weight += weight;
	if (f->node->type == NODE_LIST) {
		node_list_push(l->a, f->node, v);
		return 0;
	}
	if (!f->pending_key) {
		/* v is a key */
		const struct node_entry *dup;
		if (v->type != NODE_SCALAR)
			return pos_error(l, m, "%s", "Mapping keys must be strings");
		dup = frame_find(f, v->u.scalar.str);
		if (dup) {
			struct node where = *v;
			return node_error(l->err, &where,
					  "Duplicate key '%s' (first defined at line %u column %u)",
					  v->u.scalar.str, dup->key_line, dup->key_col);
		}
		f->pending_key = (char *)v->u.scalar.str;
		f->key_line = v->line;
		f->key_col = v->col;
		return 0;
	}
	frame_append(l->a, f, f->pending_key, v);
	f->pending_key = NULL;
	return 0;
}

static int handle_event(struct loader *l, yaml_event_t *ev)
{
	struct node *n;
	size_t i;
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++l->documents > 1)
			return pos_error(l, &ev->start_mark, "%s",
					 "Malformed YAML: expected a single document in the stream");
		return 0;
	case YAML_SCALAR_EVENT:
		if (l->depth > 0 && l->stack[l->depth - 1].node->type == NODE_MAP &&
		    !l->stack[l->depth - 1].pending_key && !ev->data.scalar.anchor)
			return add_key(l, &l->stack[l->depth - 1], (const char *)ev->data.scalar.value,
				       ev->data.scalar.length, &ev->start_mark);
		n = node_new_scalar(l->a, NULL, (const char *)ev->data.scalar.value, ev->data.scalar.length);
		switch (ev->data.scalar.style) {
		case YAML_SINGLE_QUOTED_SCALAR_STYLE:
			n->style = STYLE_SINGLE;
			break;
		case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
			n->style = STYLE_DOUBLE;
			break;
		case YAML_LITERAL_SCALAR_STYLE:
			n->style = STYLE_LITERAL;
			break;
		case YAML_FOLDED_SCALAR_STYLE:
			n->style = STYLE_FOLDED;
			break;
		default:
			break;
		}
		set_pos(l, n, &ev->start_mark);
		remember_anchor(l, ev->data.scalar.anchor, n, 1);
		return add_value(l, n, 1, &ev->start_mark);
	case YAML_ALIAS_EVENT:
		for (i = l->nanchors; i-- > 0;)
			if (strcmp(l->anchors[i].name, (const char *)ev->data.alias.anchor) == 0)
				return add_value(l, l->anchors[i].node, l->anchors[i].weight, &ev->start_mark);
		return pos_error(l, &ev->start_mark, "Malformed YAML: undefined alias '%s'",
				 (const char *)ev->data.alias.anchor);
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (l->depth >= YAML_MAX_DEPTH)
			return pos_error(l, &ev->start_mark, "%s",
					 "Malformed YAML: nesting is too deep");
		n = ev->type == YAML_SEQUENCE_START_EVENT ? node_new_list(l->a, NULL) : node_new_map(l->a, NULL);
		set_pos(l, n, &ev->start_mark);
		l->stack[l->depth].node = n;
		l->stack[l->depth].pending_key = NULL;
		l->stack[l->depth].weight = 1;
		l->stack[l->depth].index = NULL;
		l->stack[l->depth].index_cap = 0;
		l->depth++;
		remember_anchor(l, ev->type == YAML_SEQUENCE_START_EVENT ? ev->data.sequence_start.anchor
									 : ev->data.mapping_start.anchor,
				n, 0);
		return 0;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT: {
		struct frame f = l->stack[--l->depth];
		free(f.index);
		/* the anchor (if any) was recorded with weight 0; fix it now that the size is known */
		for (i = l->nanchors; i-- > 0;)
			if (l->anchors[i].node == f.node) {
				l->anchors[i].weight = f.weight;
				break;
			}
		l->expanded -= f.weight - 1; /* children were counted as they were added */
		return add_value(l, f.node, f.weight, &ev->start_mark);
	}
	default:
		return 0;
	}
}

static const char *yfile_new(struct arena *a, const char *name, const struct yfile **out)
{
	struct yfile *f = arena_alloc(a, sizeof(*f));
	f->name = arena_strdup(a, name);
	*out = f;
	return f->name;
}

struct node *yaml_load_data(struct arena *a, const char *data, size_t len, const char *name,
			    struct error *err)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	struct loader l;
	struct node *result = NULL;
	int done = 0;
	size_t i;

	memset(&l, 0, sizeof(l));
	l.a = a;
	l.err = err;
	yfile_new(a, name, &l.file);
	if (!yaml_parser_initialize(&parser)) {
		error_set(err, "%s: cannot initialize the YAML parser", name);
		return NULL;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	while (!done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			struct node where = {0};
			where.file = l.file;
			where.line = (uint32_t)parser.problem_mark.line + 1;
			where.col = (uint32_t)parser.problem_mark.column;
			if (parser.context)
				node_error(err, &where, "Malformed YAML: %s %s", parser.problem ? parser.problem : "error",
					   parser.context);
			else
				node_error(err, &where, "Malformed YAML: %s", parser.problem ? parser.problem : "error");
			goto out;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		if (handle_event(&l, &ev)) {
			yaml_event_delete(&ev);
			goto out;
		}
		yaml_event_delete(&ev);
	}
	if (!l.root) {
		result = node_new_map(a, NULL);
		result->file = l.file;
		result->line = 1;
	} else if (l.root->type == NODE_SCALAR && l.root->u.scalar.len == 0 && l.documents <= 1) {
		/* "---" alone, or a lone empty scalar: treat like an empty file */
		result = node_new_map(a, l.root);
	} else if (l.root->type != NODE_MAP) {
		error_set(err, "%s: YAML file has content of type '%s' instead of expected type 'dict'",
			  name, l.root->type == NODE_LIST ? "list" : "str");
	} else {
		result = l.root;
	}
out:
	yaml_parser_delete(&parser);
	while (l.depth > 0)
		free(l.stack[--l.depth].index);
	for (i = 0; i < l.nanchors; i++)
		free(l.anchors[i].name);
	free(l.anchors);
	return result;
}

struct node *yaml_load_file(struct arena *a, const char *path, const char *name, struct error *err)
{
	struct buf b = BUF_INIT;
	struct node *n;
	if (read_file_at_max(AT_FDCWD, path, max_input_file(), &b, NULL)) {
		if (errno == ENOENT)
			error_set(err, "Could not find file at %s", name);
		else if (errno == EFBIG)
			error_set(err, "%s: the file is bigger than %zu bytes, the limit for a YAML file (RILL_MAX_FILE_SIZE)",
				  name, max_input_file());
		else if (errno == EISDIR)
			error_set(err, "%s is a directory, not a YAML file", name);
		else
			error_set(err, "%s: cannot read: %s", name, strerror(errno));
		buf_release(&b);
		return NULL;
	}
	n = yaml_load_data(a, b.data, b.len, name, err);
	buf_release(&b);
	return n;
}
