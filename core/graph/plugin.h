/* plugin — loads element and source plugins with dlopen and runs their configure() through
 * the host table of rill-plugin.h. The only user of dlopen.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_PLUGIN_LOADER_H
#define RILL_PLUGIN_LOADER_H

#include "format/node.h"
#include "plugin/rill-plugin.h"

struct project;
struct element;
struct source;
struct resolver;

struct plugin {
	const struct rill_plugin *desc;
	void *handle;
	const char *path;               /* the .so that was loaded */
	struct node *defaults;          /* elements: the default YAML beside the .so (may be NULL) */
	int local;                      /* loaded from the project's plugins: origin local */
	long required_version;          /* the format version the project's listing asks for */
	struct plugin *next;
};

/* Find and load the plugin for kind: project-local plugins declared for it first, then the
 * core plugin directory. Errors (unknown kind, missing or mismatched descriptor, wrong ABI)
 * name the file and, through at, the element. The project keeps the plugin. */
const struct plugin *plugin_load(struct project *p, enum rill_plugin_type type, const char *kind,
				 const struct node *at, struct error *err);
void plugin_unload_all(struct plugin *list);

/* The host table handed to every plugin call (job-time hooks included). */
const struct rill_host *plugin_host(void);

/* What the graph above this module lends the host table (plugin-graph.c). */
struct plugin_graph_functions {
	const char *const *(*dependencies)(struct rill_ctx *c, const char *element, int scope, int recurse,
					   size_t *n);
	const char *(*element_kind)(struct rill_ctx *c, const char *element);
	const struct rill_node *(*public_of)(struct rill_ctx *c, const char *element);
	const struct rill_node *(*element_node)(struct rill_ctx *c, const char *element);
	const struct rill_node *(*sources_of)(struct rill_ctx *c, const char *element);
};
void plugin_set_graph_functions(const struct plugin_graph_functions *f);

/* Around fork() of a job process: keeps a bridge's interpreter sound in both processes. */
void plugin_before_fork(void);
void plugin_after_fork(int child);

/* 1 when the project lists token in fatal-warnings. */
int plugin_is_fatal(const struct project *p, const char *token);

/* Run the element plugin's configure() on e->config (e->vars must be ready), with r's memory
 * (what stays in r->a, the rest in r->scratch; warnings through r). Sets
 * e->unique_json: in the project's arena, or, when json is not NULL, in *json (the caller's
 * buffer; e->unique_json then points into it and is the caller's to clear). */
int plugin_configure_element(struct project *p, struct resolver *r, struct element *e, struct buf *json,
			     struct error *err);
/* Run the source plugin's configure() on s->node. Sets s->unique_json and s->always_cached.
 * Everything a plugin builds lives in the project's scratch arena; only the JSON is kept. */
int plugin_configure_source(struct project *p, struct resolver *r, struct element *e, struct source *s,
			    struct error *err);

/* The kind information for kind of project p: its plugin (loaded on first use) and defaults
 * composed with the project's `elements:` override, variables and environment. NULL with err
 * when unknown. */
struct kind_info *plugin_kind(struct project *p, const char *kind, const struct node *at,
			      struct error *err);

#endif
