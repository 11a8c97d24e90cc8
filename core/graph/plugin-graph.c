/* plugin-graph — the host functions that walk the element graph for plugins (dependencies(),
 * other elements' kind, public data and provenance), installed into the plugin host table.
 * SPDX-License-Identifier: Apache-2.0 */
#include "graph/plugin-graph.h"

#include <stdlib.h>
#include <string.h>

#include "graph/loader.h"
#include "graph/plugin.h"
#include "graph/pluginctx.h"

/* host->dependencies: BuildStream's Element.dependencies() as names (scope 1 all, 2 build,
 * 3 run); element NULL is the element being built. */
static const char *const *pg_dependencies(struct rill_ctx *c, const char *element, int scope, int recurse,
						  size_t *n)
{
	struct element *e = element ? loader_find(c->p, element) : c->e, **list = NULL;
	size_t cnt = 0, cap = 0, i;
	const char **names;
	*n = 0;
	if (!e) {
		error_set(c->err, "no element '%s' in this project", element);
		return NULL;
	}
	if (recurse) {
		loader_walk(c->p, &e, 1, scope == 2 ? SCOPE_BUILD : scope == 3 ? SCOPE_RUN : SCOPE_ALL, &list, &cnt,
			    &cap);
	} else {
		struct element *const *src = scope == 2 ? e->build_deps : scope == 3 ? e->run_deps : e->kids;
		size_t ns = scope == 2 ? e->nbuild_deps : scope == 3 ? e->nrun_deps : e->ndeps;
		list = xmalloc((ns + 1) * sizeof(*list));
		for (i = 0; i < ns; i++)
			list[cnt++] = src[i];
	}
	names = arena_alloc(c->a, (cnt + 1) * sizeof(*names));
	for (i = 0; i < cnt; i++)
		names[i] = list[i]->name;
	names[cnt] = NULL;
	*n = cnt;
	free(list);
	return names;
}

static const char *pg_element_kind(struct rill_ctx *c, const char *element)
{
	struct element *e = element ? loader_find(c->p, element) : c->e;
	return e ? e->kind : NULL;
}

static const struct rill_node *pg_public_of(struct rill_ctx *c, const char *element)
{
	struct element *e = element ? loader_find(c->p, element) : c->e;
	return e ? (const struct rill_node *)e->public : NULL;
}

static const struct rill_node *pg_element_node(struct rill_ctx *c, const char *element)
{
	struct element *e = element ? loader_find(c->p, element) : c->e;
	return e ? (const struct rill_node *)e->node : NULL;
}

static const struct rill_node *pg_sources_of(struct rill_ctx *c, const char *element)
{
	struct element *e = element ? loader_find(c->p, element) : c->e;
	struct node *l;
	size_t i;
	if (!e)
		return NULL;
	l = node_new_list(c->a, NULL);
	for (i = 0; i < e->nsources; i++) {
		struct node *m = node_new_map(c->a, NULL);
		node_map_put(c->a, m, "kind", node_new_str(c->a, NULL, e->sources[i].kind));
		node_map_put(c->a, m, "config", (struct node *)e->sources[i].node);
		node_list_push(c->a, l, m);
	}
	return (const struct rill_node *)l;
}

void plugin_graph_install(void)
{
	static const struct plugin_graph_functions f = {
		.dependencies = pg_dependencies,
		.element_kind = pg_element_kind,
		.public_of = pg_public_of,
		.element_node = pg_element_node,
		.sources_of = pg_sources_of,
	};
	plugin_set_graph_functions(&f);
}
