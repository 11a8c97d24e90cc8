/* show — renders elements with BuildStream's show --format symbols and format specs
 * ("%{name: >20}": optional fill, alignment < > ^, width).
 * SPDX-License-Identifier: Apache-2.0 */
#include "graph/show.h"

#include <stdlib.h>
#include <string.h>

#include "format/variables.h"
#include "format/yamldump.h"
#include "graph/element.h"

static const char *const symbols[] = {"name", "key", "full-key", "state", "config", "vars", "env",
				      "public", "kind", "deps", "build-deps", "runtime-deps",
				      "description", "workspaced", "workspace-dirs", NULL};

struct spec {
	char fill;
	char align;     /* 0 (default: left for strings), '<', '>', '^' */
	size_t width;
};

/* Parse "%{name[:spec]}" at s; returns length consumed or 0 when not a symbol. */
static size_t parse_symbol(const char *s, char *name, size_t name_size, struct spec *sp, int *bad)
{
	const char *end = strchr(s + 2, '}'), *colon, *q;
	size_t len;
	*bad = 0;
	if (!end)
		return 0;
	colon = memchr(s + 2, ':', (size_t)(end - s - 2));
	len = (size_t)((colon ? colon : end) - (s + 2));
	if (len == 0 || len >= name_size)
		return 0;
	memcpy(name, s + 2, len);
	name[len] = '\0';
	sp->fill = ' ';
	sp->align = 0;
	sp->width = 0;
	if (colon) {
		q = colon + 1;
		if (q + 1 < end && (q[1] == '<' || q[1] == '>' || q[1] == '^')) {
			sp->fill = q[0];
			sp->align = q[1];
			q += 2;
		} else if (q < end && (q[0] == '<' || q[0] == '>' || q[0] == '^')) {
			sp->align = q[0];
			q++;
		}
		while (q < end && *q >= '0' && *q <= '9') {
			sp->width = sp->width * 10 + (size_t)(*q - '0');
			if (sp->width > 4096)
				*bad = 1;
			q++;
		}
		if (q != end)
			*bad = 1;
	}
	return (size_t)(end - s) + 1;
}

static int known(const char *name)
{
	size_t i;
	for (i = 0; symbols[i]; i++)
		if (strcmp(symbols[i], name) == 0)
			return 1;
	return 0;
}

int show_check_format(const char *fmt, struct error *err)
{
	const char *s;
	for (s = fmt; (s = strstr(s, "%{")); s++) {
		char name[64];
		struct spec sp;
		int bad;
		size_t n = parse_symbol(s, name, sizeof(name), &sp, &bad);
		if (!n)
			continue;
		if (!known(name))
			return error_set(err, "Unknown symbol '%%{%s}' in --format; known symbols: name, key, full-key, state, config, vars, env, public, kind, deps, build-deps, runtime-deps, description",
					 name);
		if (bad)
			return error_set(err, "Invalid format spec in '%.*s' (use [[fill]align][width], e.g. %%{name: >20})",
					 (int)n, s);
	}
	return 0;
}

static void pad(struct buf *out, const char *v, const struct spec *sp)
{
	size_t len = strlen(v), i, left = 0, right = 0;
	if (sp->width > len) {
		size_t extra = sp->width - len;
		if (sp->align == '>')
			left = extra;
		else if (sp->align == '^') {
			left = extra / 2;
			right = extra - left;
		} else
			right = extra;
	}
	for (i = 0; i < left; i++)
		buf_addch(out, sp->fill);
	buf_adds(out, v);
	for (i = 0; i < right; i++)
		buf_addch(out, sp->fill);
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct node_entry *)a)->key, ((const struct node_entry *)b)->key);
}

/* A copy of n with every map's keys sorted, as BuildStream sanitizes data before dumping it. */
static struct node *sorted(struct project *p, const struct node *n)
{
	struct node *c;
	size_t i;
	if (n->type == NODE_SCALAR)
		return (struct node *)n;
	c = node_shallow_copy(p->a, n);
	if (c->type == NODE_LIST) {
		for (i = 0; i < c->u.list.n; i++)
			c->u.list.items[i] = sorted(p, c->u.list.items[i]);
		return c;
	}
	for (i = 0; i < c->u.map.n; i++)
		c->u.map.entries[i].value = sorted(p, c->u.map.entries[i].value);
	qsort(c->u.map.entries, c->u.map.n, sizeof(struct node_entry), cmp_entry);
	return c;
}

static void dep_names(struct project *p, struct element *const *deps, size_t n, struct buf *v)
{
	struct node *l = node_new_list(p->a, NULL);
	size_t i;
	for (i = 0; i < n; i++)
		node_list_push(p->a, l, node_new_str(p->a, NULL, deps[i]->name));
	yamldump(l, v);
}

size_t show_format(struct project *p, struct element *e, const char *fmt, struct buf *out)
{
	const char *s = fmt;
	struct buf v = BUF_INIT;
	size_t after = SIZE_MAX;
	while (*s) {
		char name[64];
		struct spec sp;
		int bad;
		size_t n = s[0] == '%' && s[1] == '{' ? parse_symbol(s, name, sizeof(name), &sp, &bad) : 0;
		if (!n || !known(name)) {
			buf_addch(out, *s++);
			continue;
		}
		buf_reset(&v);
		if (!strcmp(name, "name")) {
			buf_adds(&v, e->name);
		} else if (!strcmp(name, "key") || !strcmp(name, "full-key")) {
			size_t len = !strcmp(name, "key") ? 8 : 64;
			if (e->strict_key[0] && !element_key_unstable(p, e))
				buf_add(&v, e->strict_key, len);
			else
				while (len--)
					buf_addch(&v, '?');
		} else if (!strcmp(name, "state")) {
			buf_adds(&v, element_state(p, e));
		} else if (!strcmp(name, "kind")) {
			buf_adds(&v, e->kind);
		} else if (!strcmp(name, "description")) {
			buf_adds(&v, node_str(node_map_get(e->node, "description")) ? node_str(node_map_get(e->node, "description")) : "");
		} else if (!strcmp(name, "config")) {
			yamldump(sorted(p, e->config), &v);
		} else if (!strcmp(name, "env")) {
			yamldump(sorted(p, e->environment), &v);
		} else if (!strcmp(name, "public")) {
			yamldump(sorted(p, e->public), &v);
		} else if (!strcmp(name, "vars")) {
			struct node *m = node_new_map(p->a, NULL);
			size_t i, cnt = variables_count(e->vars);
			for (i = 0; i < cnt; i++) {
				const char *k = variables_name_at(e->vars, i);
				node_map_put(p->a, m, k, node_new_str(p->a, NULL, variables_get(e->vars, k)));
			}
			qsort(m->u.map.entries, m->u.map.n, sizeof(struct node_entry), cmp_entry);
			yamldump(m, &v);
		} else if (!strcmp(name, "deps")) {
			struct element **all = arena_alloc(p->a, (e->ndeps + 1) * sizeof(*all));
			size_t i;
			for (i = 0; i < e->ndeps; i++)
				all[i] = e->deps[i].element;
			dep_names(p, all, e->ndeps, &v);
		} else if (!strcmp(name, "build-deps")) {
			dep_names(p, e->build_deps, e->nbuild_deps, &v);
		} else if (!strcmp(name, "runtime-deps")) {
			dep_names(p, e->run_deps, e->nrun_deps, &v);
		} else if (!strcmp(name, "workspaced")) {
			buf_adds(&v, e->workspace ? "(workspaced)" : "");
		} else if (!strcmp(name, "workspace-dirs")) {
			if (e->workspace)
				buf_addf(&v, "Workspace: %s", e->workspace);
		}
		if (v.len && v.data[v.len - 1] == '\n' && strcmp(name, "config") && strcmp(name, "vars") &&
		    strcmp(name, "env") && strcmp(name, "public"))
			v.data[--v.len] = '\0';
		pad(out, buf_str(&v), &sp);
		after = out->len;
		s += n;
	}
	buf_release(&v);
	return after;
}
