/* compose — composition, list directives, includes, conditionals and assertions, written
 * functionally: inputs are never modified, results share unchanged subtrees.
 * SPDX-License-Identifier: Apache-2.0 */
#include "format/compose.h"

#include <stdlib.h>
#include <string.h>

static int is_directive(const char *k)
{
	return strcmp(k, "(=)") == 0 || strcmp(k, "(<)") == 0 || strcmp(k, "(>)") == 0;
}

/* 1 if n is a dict of list directives, 0 if not, -1 (error) if it mixes both kinds of keys. */
static int is_composite_list(const struct node *n, struct error *err)
{
	size_t i;
	int dir = 0, other = 0;
	if (!n || n->type != NODE_MAP)
		return 0;
	for (i = 0; i < n->u.map.n; i++) {
		if (is_directive(n->u.map.entries[i].key))
			dir = 1;
		else
			other = 1;
		if (dir && other)
			return node_error(err, n, "Dictionary contains array composition directives and arbitrary keys");
	}
	return dir;
}

static const char *tname(const struct node *n)
{
	return node_type_name(n);
}

static int type_error(const struct node *src, const char *path, const struct node *tv,
		      const struct node *sv, struct error *err)
{
	return node_error(err, src, "Expected '%s' type for configuration '%s', instead received '%s'",
			  tname(tv), path, tname(sv));
}

static int overwrite_error(const struct node *sv, const struct node *tv, struct error *err)
{
	struct buf where = BUF_INIT;
	node_format_provenance(&where, tv);
	node_error(err, sv, "List cannot overwrite value at: %s", buf_str(&where));
	buf_release(&where);
	return -1;
}

static struct node *list_concat(struct arena *a, const struct node *prov, const struct node *x,
				const struct node *y)
{
	struct node *l = node_new_list(a, prov);
	size_t i;
	if (x)
		for (i = 0; i < x->u.list.n; i++)
			node_list_push(a, l, x->u.list.items[i]);
	if (y)
		for (i = 0; i < y->u.list.n; i++)
			node_list_push(a, l, y->u.list.items[i]);
	return l;
}

/* Apply directive dict d to list t. */
static int apply_directives(struct arena *a, const struct node *t, const struct node *d,
			    struct node **out, struct error *err)
{
	struct node *eq, *pre, *app;
	const struct node *cur = t;
	if (node_get_list(d, "(=)", &eq, err) || node_get_list(d, "(<)", &pre, err) ||
	    node_get_list(d, "(>)", &app, err))
		return -1;
	if (eq)
		cur = eq;
	if (pre && pre->u.list.n)
		cur = list_concat(a, pre, pre, cur);
	if (app && app->u.list.n)
		cur = list_concat(a, cur, cur, app);
	*out = (struct node *)cur;
	return 0;
}

/* Merge directive dict s onto directive dict t. */
static int merge_directives(struct arena *a, const struct node *t, const struct node *s,
			    struct node **out, struct error *err)
{
	struct node *seq, *spre, *sapp, *tpre, *tapp, *r;
	if (node_get_list(s, "(=)", &seq, err) || node_get_list(s, "(<)", &spre, err) ||
	    node_get_list(s, "(>)", &sapp, err) || node_get_list(t, "(<)", &tpre, err) ||
	    node_get_list(t, "(>)", &tapp, err))
		return -1;
	r = node_shallow_copy(a, t);
	if (seq) {
		node_map_put(a, r, "(=)", seq);
		r = node_map_without(a, node_map_without(a, r, "(<)"), "(>)");
		tpre = tapp = NULL;
	}
	if (spre && spre->u.list.n)
		node_map_put(a, r, "(<)", list_concat(a, spre, spre, tpre));
	if (sapp && sapp->u.list.n)
		node_map_put(a, r, "(>)", list_concat(a, tapp ? tapp : sapp, tapp, sapp));
	*out = r;
	return 0;
}

static int compose_map(struct arena *a, const struct node *t, const struct node *s,
		       struct buf *path, struct node **out, struct error *err);

/* The new value for key (whose dotted path is in path) when source value sv meets target tv. */
static int compose_value(struct arena *a, const char *key, const struct node *tv,
			 const struct node *sv, struct buf *path, struct node **out, struct error *err)
{
	int cl;
	if (sv->type == NODE_LIST) {
		if (tv && tv->type != NODE_LIST) {
			cl = is_composite_list(tv, err);
			if (cl < 0)
				return -1;
			if (!cl)
				return overwrite_error(sv, tv, err);
		}
		if (strcmp(key, "(?)") == 0 && tv && tv->type == NODE_LIST)
			*out = list_concat(a, tv, tv, sv);
		else
			*out = (struct node *)sv;
		return 0;
	}
	cl = is_composite_list(sv, err);
	if (cl < 0)
		return -1;
	if (cl) {
		int tcl;
		if (!tv) {
			*out = (struct node *)sv;
			return 0;
		}
		if (tv->type == NODE_LIST)
			return apply_directives(a, tv, sv, out, err);
		tcl = is_composite_list(tv, err);
		if (tcl < 0)
			return -1;
		if (tcl)
			return merge_directives(a, tv, sv, out, err);
		return overwrite_error(sv, tv, err);
	}
	if (sv->type == NODE_MAP) {
		if (!tv) {
			*out = (struct node *)sv;
			return 0;
		}
		if (tv->type != NODE_MAP)
			return type_error(sv, buf_str(path), tv, sv, err);
		return compose_map(a, tv, sv, path, out, err);
	}
	if (tv && tv->type != NODE_SCALAR)
		return type_error(sv, buf_str(path), tv, sv, err);
	*out = (struct node *)sv;
	return 0;
}

static int compose_map(struct arena *a, const struct node *t, const struct node *s,
		       struct buf *path, struct node **out, struct error *err)
{
	struct node *r;
	size_t i, plen = path->len;
	if (!s->u.map.n) {
		*out = (struct node *)t;
		return 0;
	}
	r = node_shallow_copy(a, t);
	for (i = 0; i < s->u.map.n; i++) {
		const struct node_entry *e = &s->u.map.entries[i];
		struct node *tv = node_map_get(t, e->key), *v = NULL;
		if (plen)
			buf_addch(path, '.');
		buf_adds(path, e->key);
		if (compose_value(a, e->key, tv, e->value, path, &v, err))
			return -1;
		path->len = plen;
		if (path->data)
			path->data[plen] = '\0';
		node_map_put(a, r, e->key, v);
		if (!tv) {
			/* a new key keeps the position where the source wrote it */
			r->u.map.entries[r->u.map.n - 1].key_line = e->key_line;
			r->u.map.entries[r->u.map.n - 1].key_col = e->key_col;
		}
	}
	*out = r;
	return 0;
}

int compose(struct arena *a, const struct node *target, const struct node *source,
	    struct node **out, struct error *err)
{
	struct buf path = BUF_INIT;
	int rc;
	if (!target) {
		*out = (struct node *)source;
		return 0;
	}
	if (!source) {
		*out = (struct node *)target;
		return 0;
	}
	if (target->type != NODE_MAP || source->type != NODE_MAP)
		return node_error(err, source, "Only values of type 'dict' can be composed.");
	rc = compose_map(a, target, source, &path, out, err);
	buf_release(&path);
	return rc;
}

int compose_final_assertions(const struct node *n, struct error *err)
{
	size_t i;
	if (!n)
		return 0;
	if (n->type == NODE_MAP) {
		for (i = 0; i < n->u.map.n; i++) {
			const struct node_entry *e = &n->u.map.entries[i];
			if (is_directive(e->key))
				return node_error(err, e->value, "Attempt to override non-existing list");
			if (compose_final_assertions(e->value, err))
				return -1;
		}
	} else if (n->type == NODE_LIST) {
		for (i = 0; i < n->u.list.n; i++)
			if (compose_final_assertions(n->u.list.items[i], err))
				return -1;
	}
	return 0;
}

/* Rebuild n with children replaced by f(child); shares n when nothing changed. */
typedef int (*child_fn)(const void *ctx, const struct node *in, struct node **out, struct error *err);

static int map_children(struct arena *a, const struct node *n, child_fn f, const void *ctx,
			struct node **out, struct error *err)
{
	struct node *copy = NULL, *v;
	size_t i, count = n->type == NODE_MAP ? n->u.map.n : n->type == NODE_LIST ? n->u.list.n : 0;
	for (i = 0; i < count; i++) {
		const struct node *child = n->type == NODE_MAP ? n->u.map.entries[i].value : n->u.list.items[i];
		if (child->type == NODE_SCALAR)
			continue;
		if (f(ctx, child, &v, err))
			return -1;
		if (v == child)
			continue;
		if (!copy)
			copy = node_shallow_copy(a, n);
		if (n->type == NODE_MAP)
			copy->u.map.entries[i].value = v;
		else
			copy->u.list.items[i] = v;
	}
	*out = copy ? copy : (struct node *)n;
	return 0;
}

struct cond_ctx {
	struct arena *a;
	expr_lookup_fn lookup;
	void *ctx;
	int depth;
};

static int cond_node(const void *vctx, const struct node *n, struct node **out, struct error *err);

/* Process (?) and (!) at the top of map n, repeatedly, as BuildStream does. */
static int cond_one_level(struct cond_ctx *c, const struct node *n, struct node **out, struct error *err)
{
	struct node *cur = (struct node *)n;
	for (;;) {
		const struct node_entry *ae = node_map_entry(cur, "(!)");
		struct node *conds;
		size_t i;
		if (ae) {
			const char *msg = node_str(ae->value);
			if (!msg)
				return node_error(err, ae->value, "Value of '(!)' is not of the expected type 'str'");
			while (*msg == ' ' || *msg == '\n' || *msg == '\t')
				msg++;
			{
				size_t len = strlen(msg);
				while (len && (msg[len - 1] == ' ' || msg[len - 1] == '\n' || msg[len - 1] == '\t'))
					len--;
				return node_error(err, ae->value, "%.*s", (int)len, msg);
			}
		}
		if (node_get_list(cur, "(?)", &conds, err))
			return -1;
		if (!conds) {
			*out = cur;
			return 0;
		}
		cur = node_map_without(c->a, cur, "(?)");
		for (i = 0; i < conds->u.list.n; i++) {
			const struct node *cond = conds->u.list.items[i];
			const struct node_entry *ce;
			int truth = 0;
			if (cond->type != NODE_MAP)
				return node_error(err, cond, "Conditional statement must be a dictionary");
			if (cond->u.map.n != 1)
				return node_error(err, cond, "Conditional statement has more than one key");
			ce = &cond->u.map.entries[0];
			if (expr_eval(ce->key, c->lookup, c->ctx, &truth, err))
				return error_prefix(err, "%s [line %u column %u]", cond->file ? cond->file->name : "",
						    cond->line, cond->col);
			if (ce->value->type != NODE_MAP)
				return node_error(err, cond, "Only values of type 'dict' can be composed.");
			if (truth && compose(c->a, cur, ce->value, &cur, err))
				return -1;
		}
	}
}

static int cond_node(const void *vctx, const struct node *n, struct node **out, struct error *err)
{
	struct cond_ctx *c = (struct cond_ctx *)vctx;
	struct node *lvl;
	int rc;
	if (++c->depth > 1000) {
		c->depth--;
		return node_error(err, n, "Conditionals nested too deeply");
	}
	if (n->type == NODE_MAP) {
		if (cond_one_level(c, n, &lvl, err)) {
			c->depth--;
			return -1;
		}
	} else {
		lvl = (struct node *)n;
	}
	rc = map_children(c->a, lvl, cond_node, c, out, err);
	c->depth--;
	return rc;
}

int compose_conditionals(struct arena *a, const struct node *n, expr_lookup_fn lookup, void *ctx,
			 struct node **out, struct error *err)
{
	struct cond_ctx c = {a, lookup, ctx, 0};
	return cond_node(&c, n, out, err);
}

/* Includes */
struct inc_state {
	const struct include_ctx *ic;
	const char **chain;     /* paths being included, for recursion detection */
	size_t depth, cap;
	size_t count;           /* includes processed so far for the top file */
	void *ctx;              /* the load context of the file being processed */
};

/* Files including the same file twice, 40 deep, would be processed 2^40 times: the top file may
 * process at most this many includes in all (real files process a handful). */
#define INCLUDES_MAX 10000

static int inc_node(const void *vs, const struct node *n, struct node **out, struct error *err);

static int inc_process_file(struct inc_state *st, const struct node *n, struct node **out,
			    struct error *err)
{
	if (st->ic->lookup &&
	    compose_conditionals(st->ic->a, n, st->ic->lookup, st->ic->lookup_ctx, (struct node **)&n, err))
		return -1;
	return inc_node(st, n, out, err);
}

static int inc_one(struct inc_state *st, const struct node *at, const char *name,
		   struct node *cur, struct node **out, struct error *err)
{
	const char *path = NULL;
	struct node *inc, *processed, *merged;
	size_t i;
	int rc;
	void *outer = st->ctx, *inner = outer;
	if (++st->count > INCLUDES_MAX)
		return node_error(err, at, "Too many includes: more than %d processed for one file "
				  "(the same files are included over and over)", INCLUDES_MAX);
	inc = st->ic->load(outer, name, at, &path, &inner, err);
	if (!inc)
		return -1;
	for (i = 0; i < st->depth; i++)
		if (strcmp(st->chain[i], path) == 0)
			return node_error(err, at, "trying to recursively include %s", name);
	GROW(st->chain, st->cap, st->depth + 1);
	st->chain[st->depth++] = path;
	st->ctx = inner;
	rc = inc_process_file(st, inc, &processed, err);
	st->ctx = outer;
	st->depth--;
	if (rc)
		return -1;
	if (compose(st->ic->a, processed, cur, &merged, err))
		return -1;
	*out = merged;
	return 0;
}

static void skipped(const struct inc_state *st)
{
	if (st->ic->skipped)
		*st->ic->skipped = 1;
}

static int inc_node(const void *vs, const struct node *n, struct node **out, struct error *err)
{
	struct inc_state *st = (struct inc_state *)vs;
	struct node *cur = (struct node *)n, *incs;
	const struct node_entry *e;
	if (st->depth > 64)
		return node_error(err, n, "Includes nested too deeply");
	if (n->type == NODE_MAP && (e = node_map_entry(n, "(@)"))) {
		size_t i;
		cur = node_map_without(st->ic->a, n, "(@)");
		if (e->value->type == NODE_SCALAR) {
			if (st->ic->only_local && strchr(node_str(e->value), ':'))
				skipped(st);
			else if (inc_one(st, e->value, node_str(e->value), cur, &cur, err))
				return -1;
		} else if (e->value->type == NODE_LIST) {
			incs = e->value;
			for (i = incs->u.list.n; i-- > 0;) {
				const struct node *it = incs->u.list.items[i];
				if (it->type != NODE_SCALAR)
					return node_error(err, it, "Value of '(@)' is not of the expected type 'str'");
				if (st->ic->only_local && strchr(node_str(it), ':')) {
					skipped(st);
					continue;
				}
				if (inc_one(st, it, node_str(it), cur, &cur, err))
					return -1;
			}
		} else {
			return node_error(err, e->value, "Value of '(@)' is not of the expected type 'list'");
		}
	}
	return map_children(st->ic->a, cur, inc_node, st, out, err);
}

int compose_includes(const struct include_ctx *ic, const struct node *n, struct node **out,
		     struct error *err)
{
	struct inc_state st = {ic, NULL, 0, 0, 0, ic->load_ctx};
	int rc = inc_node(&st, n, out, err);
	free(st.chain);
	return rc;
}
