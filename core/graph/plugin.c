/* plugin — dlopen loader and the host function table offered to plugins.
 * SPDX-License-Identifier: Apache-2.0 */
#include "graph/plugin.h"

#include "plugin/rill-bridge.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "format/cachekey.h"
#include "format/compose.h"
#include "format/variables.h"
#include "format/yamlload.h"
#include "graph/project.h"
#include "graph/pluginctx.h"


#define N(x) ((const struct node *)(x))
#define RN(x) ((struct rill_node *)(x))

static int h_type(const struct rill_node *n)
{
	return n ? N(n)->type : 0;
}

static const char *h_str(const struct rill_node *n)
{
	return node_str(N(n));
}

static size_t h_len(const struct rill_node *n)
{
	if (!n)
		return 0;
	if (N(n)->type == NODE_LIST)
		return N(n)->u.list.n;
	if (N(n)->type == NODE_MAP)
		return N(n)->u.map.n;
	return 0;
}

static const struct rill_node *h_at(const struct rill_node *l, size_t i)
{
	if (!l || N(l)->type != NODE_LIST || i >= N(l)->u.list.n)
		return NULL;
	return (const struct rill_node *)N(l)->u.list.items[i];
}

static const char *h_key_at(const struct rill_node *m, size_t i)
{
	if (!m || N(m)->type != NODE_MAP || i >= N(m)->u.map.n)
		return NULL;
	return N(m)->u.map.entries[i].key;
}

static const struct rill_node *h_value_at(const struct rill_node *m, size_t i)
{
	if (!m || N(m)->type != NODE_MAP || i >= N(m)->u.map.n)
		return NULL;
	return (const struct rill_node *)N(m)->u.map.entries[i].value;
}

static const struct rill_node *h_get(const struct rill_node *m, const char *key)
{
	return (const struct rill_node *)node_map_get(N(m), key);
}

static int h_validate_keys(struct rill_ctx *c, const struct rill_node *m, const char *const *allowed)
{
	return node_validate(N(m), allowed, c->err);
}

static int h_get_str(struct rill_ctx *c, const struct rill_node *m, const char *key, const char *def,
		     const char **out)
{
	return node_get_str(N(m), key, def, out, c->err);
}

static int h_get_bool(struct rill_ctx *c, const struct rill_node *m, const char *key, int def, int *out)
{
	return node_get_bool(N(m), key, def, out, c->err);
}

static int h_get_int(struct rill_ctx *c, const struct rill_node *m, const char *key, long def, long *out)
{
	return node_get_int(N(m), key, def, out, c->err);
}

static int h_get_str_list(struct rill_ctx *c, const struct rill_node *m, const char *key,
			  const struct rill_node **out)
{
	struct node *l;
	int rc = node_get_str_list(N(m), key, &l, c->err);
	*out = (const struct rill_node *)l;
	return rc;
}

static int h_subst(struct rill_ctx *c, const struct rill_node *n, const char **out)
{
	if (!c->e || !c->e->vars)
		return node_error(c->err, N(n), "variables are not available here");
	return variables_expand_to(c->e->vars, c->a, N(n), out, c->err);
}

static const char *h_variable(struct rill_ctx *c, const char *name)
{
	if (!c->e || !c->e->vars)
		return NULL;
	return variables_get(c->e->vars, name);
}

static int h_error(struct rill_ctx *c, const struct rill_node *n, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	node_error(c->err, N(n), "%s", buf_str(&b));
	buf_release(&b);
	c->failed = 1;
	return -1;
}

static struct rill_node *h_new_map(struct rill_ctx *c)
{
	return RN(node_new_map(c->a, NULL));
}

static struct rill_node *h_new_list(struct rill_ctx *c)
{
	return RN(node_new_list(c->a, NULL));
}

static struct rill_node *h_new_str(struct rill_ctx *c, const char *s)
{
	return RN(node_new_str(c->a, NULL, s ? s : ""));
}

static struct rill_node *h_new_bool(struct rill_ctx *c, int b)
{
	return RN(node_new_kind(c->a, SCALAR_BOOL, b ? "true" : "false"));
}

static struct rill_node *h_new_int(struct rill_ctx *c, long v)
{
	char tmp[32];
	snprintf(tmp, sizeof(tmp), "%ld", v);
	return RN(node_new_kind(c->a, SCALAR_INT, tmp));
}

static struct rill_node *h_new_null(struct rill_ctx *c)
{
	return RN(node_new_kind(c->a, SCALAR_NULL, ""));
}

static void h_map_put(struct rill_ctx *c, struct rill_node *m, const char *key, const struct rill_node *v)
{
	if (m && N(m)->type == NODE_MAP && v)
		node_map_put(c->a, (struct node *)m, arena_strdup(c->a, key), (struct node *)v);
}

static void h_list_push(struct rill_ctx *c, struct rill_node *l, const struct rill_node *v)
{
	if (l && N(l)->type == NODE_LIST && v)
		node_list_push(c->a, (struct node *)l, (struct node *)v);
}

static const char *h_project_dir(struct rill_ctx *c)
{
	return c->p->dir;
}

static int h_sha256_file(struct rill_ctx *c, const char *path, char hex[65])
{
	return cachekey_sha256_file(path, hex, c->err);
}

static int h_subst_str(struct rill_ctx *c, const struct rill_node *at, const char *s, const char **out)
{
	struct node tmp = {0};
	if (at)
		tmp = *N(at);
	tmp.type = NODE_SCALAR;
	tmp.kind = SCALAR_STR;
	tmp.u.scalar.str = s;
	tmp.u.scalar.len = strlen(s);
	return h_subst(c, RN(&tmp), out);
}

static int is_fatal(const struct project *p, const char *token)
{
	size_t i;
	for (i = 0; p->fatal_warnings && i < p->fatal_warnings->u.list.n; i++)
		if (strcmp(node_str(p->fatal_warnings->u.list.items[i]), token) == 0)
			return 1;
	return 0;
}

static int h_warn(struct rill_ctx *c, const struct rill_node *at, const char *token, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	int rc = 0;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	if (is_fatal(c->p, token)) {
		node_error(c->err, N(at), "%s [%s]", buf_str(&b), token);
		c->failed = 1;
		rc = -1;
	} else {
		struct buf w = BUF_INIT;
		node_format_provenance(&w, N(at));
		if (c->job_warn) {
			c->job_warn(c, token, buf_str(&w), buf_str(&b));
		} else {
			struct buf t = BUF_INIT;
			buf_addf(&t, "[%s]: %s%s%s", token, buf_str(&w), w.len ? ": " : "", buf_str(&b));
			resolver_warning(c->p, c->res, buf_str(&t));
			buf_release(&t);
		}
		buf_release(&w);
	}
	buf_release(&b);
	return rc;
}

static int h_translate_url(struct rill_ctx *c, const struct rill_node *at, const char *url, const char **out)
{
	static const char *const schemes[] = {"http", "https", "ftp", "file", "git", "sftp", "ssh", NULL};
	const char *colon = strchr(url, ':');
	const char *prefix;
	char *alias;
	size_t i;
	int mirrored, primary = c->src && !c->src_marked;
	*out = url;
	/* the first URL a source translates while configuring is its primary one (BuildStream's
	 * mark_download_url): mirrors replace that URL's alias */
	if (primary) {
		c->src_marked = 1;
		c->src->alias = NULL;
	}
	if (!colon)
		return 0;
	alias = xstrndup(url, (size_t)(colon - url));
	for (i = 0; schemes[i]; i++)
		if (strcmp(schemes[i], alias) == 0) {
			free(alias);
			return h_warn(c, at, "unaliased-url", "Use of unaliased source download URL: %s", url);
		}
	prefix = node_str(node_map_get(c->p->aliases, alias));
	if (!prefix) {
		h_error(c, at, "Invalid alias '%s' specified in URL: %s", alias, url);
		free(alias);
		return -1;
	}
	if (primary)
		c->src->alias = arena_strdup(c->keep ? c->keep : c->p->a, alias);
	mirrored = c->alias && strcmp(c->alias, alias) == 0;
	if (mirrored)
		prefix = c->alias_uri;
	free(alias);
	{
		struct buf b = BUF_INIT;
		buf_adds(&b, prefix);
		buf_adds(&b, colon + 1);
		*out = arena_strdup(c->a, buf_str(&b));
		buf_release(&b);
	}
	if (mirrored)
		c->last_url = *out;
	return 0;
}

static const struct rill_plugin *h_plugin(struct rill_ctx *c)
{
	return c->pl;
}

static const char *h_element_name(struct rill_ctx *c)
{
	return c->e ? c->e->name : "";
}

static const char *h_provenance(struct rill_ctx *c, const struct rill_node *n)
{
	struct buf b = BUF_INIT;
	const char *s;
	if (!n || !N(n)->file)
		return "";
	node_format_provenance(&b, N(n));
	s = arena_strndup(c->a, buf_str(&b), b.len);
	buf_release(&b);
	return s;
}

static int h_is_null(const struct rill_node *n)
{
	return n && N(n)->type == NODE_SCALAR && N(n)->kind == SCALAR_NULL;
}

static const char *h_cache_dir(struct rill_ctx *c)
{
	return c->p->cache_dir ? c->p->cache_dir : "";
}

static void h_message(struct rill_ctx *c, const char *kind, const char *text, const char *detail)
{
	/* at load time a plugin's messages are not shown (BuildStream's are silenced too) */
	(void)c;
	(void)kind;
	(void)text;
	(void)detail;
}

static const struct rill_node *h_element_public(struct rill_ctx *c)
{
	return c->e ? (const struct rill_node *)c->e->public : NULL;
}

static const struct rill_node *h_element_environment(struct rill_ctx *c)
{
	return c->e ? (const struct rill_node *)c->e->environment : NULL;
}

static const char *h_last_error(struct rill_ctx *c)
{
	return c->err ? c->err->msg : NULL;
}

static void h_clear_error(struct rill_ctx *c)
{
	if (c->err) {
		free(c->err->msg);
		c->err->msg = NULL;
	}
	c->failed = 0;
}

/* Graph walks for plugins (plugin-graph.c installs them: the loader is above this module). */
static struct plugin_graph_functions graph_fns;

void plugin_set_graph_functions(const struct plugin_graph_functions *f)
{
	graph_fns = *f;
}

static const char *const *h_dependencies(struct rill_ctx *c, const char *element, int scope, int recurse,
					 size_t *n)
{
	*n = 0;
	if (!graph_fns.dependencies) {
		error_set(c->err, "dependencies are not available here");
		return NULL;
	}
	return graph_fns.dependencies(c, element, scope, recurse, n);
}

static const char *h_element_kind(struct rill_ctx *c, const char *element)
{
	return graph_fns.element_kind ? graph_fns.element_kind(c, element) : NULL;
}

static const struct rill_node *h_public_of(struct rill_ctx *c, const char *element)
{
	return graph_fns.public_of ? graph_fns.public_of(c, element) : NULL;
}

static const struct rill_node *h_element_node(struct rill_ctx *c, const char *element)
{
	return graph_fns.element_node ? graph_fns.element_node(c, element) : NULL;
}

static const struct rill_node *h_sources_of(struct rill_ctx *c, const char *element)
{
	return graph_fns.sources_of ? graph_fns.sources_of(c, element) : NULL;
}

static const struct rill_host host = {
	.abi_version = RILL_PLUGIN_ABI_VERSION,
	.type = h_type,
	.str = h_str,
	.len = h_len,
	.at = h_at,
	.key_at = h_key_at,
	.value_at = h_value_at,
	.get = h_get,
	.validate_keys = h_validate_keys,
	.get_str = h_get_str,
	.get_bool = h_get_bool,
	.get_int = h_get_int,
	.get_str_list = h_get_str_list,
	.subst = h_subst,
	.variable = h_variable,
	.error = h_error,
	.new_map = h_new_map,
	.new_list = h_new_list,
	.new_str = h_new_str,
	.new_bool = h_new_bool,
	.new_int = h_new_int,
	.new_null = h_new_null,
	.map_put = h_map_put,
	.list_push = h_list_push,
	.project_dir = h_project_dir,
	.sha256_file = h_sha256_file,
	.subst_str = h_subst_str,
	.translate_url = h_translate_url,
	.warn = h_warn,
	.plugin = h_plugin,
	.element_name = h_element_name,
	.provenance = h_provenance,
	.is_null = h_is_null,
	.cache_dir = h_cache_dir,
	.message = h_message,
	.element_public = h_element_public,
	.element_environment = h_element_environment,
	.last_error = h_last_error,
	.dependencies = h_dependencies,
	.element_kind = h_element_kind,
	.public_of = h_public_of,
	.element_node = h_element_node,
	.sources_of = h_sources_of,
	.clear_error = h_clear_error,
	/* the functions of job time are the build subsystem's: job_host() adds them */
};

const struct rill_host *plugin_host(void)
{
	return &host;
}

int plugin_is_fatal(const struct project *p, const char *token)
{
	return is_fatal(p, token);
}

static int file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static struct plugin *new_plugin(struct project *p, const struct rill_plugin *d, void *h, const char *path)
{
	struct plugin *pl = arena_alloc(p->a, sizeof(*pl));
	pl->desc = d;
	pl->handle = h;
	pl->path = arena_strdup(p->a, path);
	pl->next = p->plugins;
	p->plugins = pl;
	p->unload_plugins = plugin_unload_all;
	return pl;
}

static struct plugin *open_plugin(struct project *p, const char *so, const char *yaml_path,
				  const char *yaml_name, enum rill_plugin_type type, const char *kind,
				  struct error *err)
{
	void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
	const struct rill_plugin *d;
	struct plugin *pl;
	if (!h) {
		error_set(err, "Failed to load plugin '%s' from %s: %s", kind, so, dlerror());
		return NULL;
	}
	d = dlsym(h, RILL_PLUGIN_SYMBOL);
	if (!d) {
		error_set(err, "%s: not a rill plugin: it does not export the '%s' descriptor", so, RILL_PLUGIN_SYMBOL);
		goto fail;
	}
	if (d->abi_version != RILL_PLUGIN_ABI_VERSION) {
		error_set(err, "%s: plugin ABI version %u does not match rill's ABI version %u; rebuild the plugin against this rill's rill-plugin.h",
			  so, d->abi_version, RILL_PLUGIN_ABI_VERSION);
		goto fail;
	}
	if (d->type != type || !d->kind || strcmp(d->kind, kind) != 0 || !d->configure) {
		error_set(err, "%s: descriptor is for %s kind '%s', expected %s kind '%s'", so,
			  d->type == RILL_PLUGIN_SOURCE ? "source" : "element", d->kind ? d->kind : "(none)",
			  type == RILL_PLUGIN_SOURCE ? "source" : "element", kind);
		goto fail;
	}
	pl = new_plugin(p, d, h, so);
	if (yaml_path && file_exists(yaml_path)) {
		pl->defaults = yaml_load_file(p->a, yaml_path, yaml_name, err);
		if (!pl->defaults) {
			dlclose(h);
			return NULL;
		}
		/* plugin defaults carry no user provenance (protected variable checks) */
	}
	return pl;
fail:
	dlclose(h);
	return NULL;
}

static const struct plugin *plugin_load_locked(struct project *p, enum rill_plugin_type type,
					       const char *kind, const struct node *at, struct error *err);

/* Elements may be resolved on two threads (element.c): loading is serialized. */
static pthread_mutex_t plugin_mu = PTHREAD_MUTEX_INITIALIZER;

const struct plugin *plugin_load(struct project *p, enum rill_plugin_type type, const char *kind,
				 const struct node *at, struct error *err)
{
	const struct plugin *pl;
	pthread_mutex_lock(&plugin_mu);
	pl = plugin_load_locked(p, type, kind, at, err);
	pthread_mutex_unlock(&plugin_mu);
	return pl;
}

/* The bridge that hosts Python plugins: loaded once per process, on first use. */
static const struct rill_bridge *bridge;
static int bridge_failed;

static const struct rill_bridge *bridge_open(struct project *p, struct error *err)
{
	char *so, *dir, msg[512] = "";
	void *h;
	if (bridge)
		return bridge;
	dir = xasprintf("%s/python", p->plugin_dir);
	so = xasprintf("%s/rill-python.so", dir);
	if (bridge_failed) {
		error_set(err, "Python plugins are unavailable (the bridge failed to start earlier)");
		goto out;
	}
	h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		error_set(err, "Python plugins need rill's Python bridge, which failed to load: %s", dlerror());
		bridge_failed = 1;
		goto out;
	}
	bridge = dlsym(h, RILL_BRIDGE_SYMBOL);
	if (!bridge || bridge->abi_version != RILL_BRIDGE_ABI_VERSION) {
		error_set(err, "%s: not a rill bridge of this version", so);
		bridge = NULL;
		bridge_failed = 1;
		goto out;
	}
	if (bridge->init(&host, dir, msg, sizeof(msg))) {
		error_set(err, "The Python bridge failed to start: %s", msg);
		bridge = NULL;
		bridge_failed = 1;
	}
out:
	free(so);
	free(dir);
	return bridge;
}

void plugin_before_fork(void)
{
	if (bridge)
		bridge->before_fork();
}

void plugin_after_fork(int child)
{
	if (bridge)
		bridge->after_fork(child);
}

/* A kind from a Python module: origin local (dir) or pip (package). */
static struct plugin *open_python(struct project *p, enum rill_plugin_type type, const char *kind,
				  const char *origin, const char *where, const struct node *at, struct error *err)
{
	struct rill_bridge_request req = {.type = type, .kind = kind, .origin = origin, .where = where,
					  .project_dir = p->dir};
	const struct rill_bridge *br = bridge_open(p, err);
	const struct rill_plugin *d;
	const char *defaults = NULL;
	struct plugin *pl;
	char msg[2048] = "";
	if (!br)
		return NULL;
	d = br->load(&req, &defaults, msg, sizeof(msg));
	if (!d) {
		(void)at;
		error_set(err, "%s", msg);
		return NULL;
	}
	pl = new_plugin(p, d, NULL, where);
	if (type == RILL_PLUGIN_ELEMENT && defaults && file_exists(defaults)) {
		const char *base = strrchr(defaults, '/');
		pl->defaults = yaml_load_file(p->a, defaults, base ? base + 1 : defaults, err);
		if (!pl->defaults)
			return NULL;
	}
	return pl;
}

static const struct plugin *plugin_load_locked(struct project *p, enum rill_plugin_type type,
					       const char *kind, const struct node *at, struct error *err)
{
	const char *sub = type == RILL_PLUGIN_SOURCE ? "sources" : "elements";
	struct plugin *pl = NULL;
	size_t i;
	char *so = NULL, *yml = NULL, *yname = NULL;
	int local = 0;
	long required = 0;
	for (pl = p->plugins; pl; pl = pl->next)
		if (pl->desc->type == type && strcmp(pl->desc->kind, kind) == 0)
			return pl;
	/* the first listing of the kind decides its origin (BuildStream: origins before core) */
	for (i = 0; p->local_plugins && i < p->local_plugins->u.list.n; i++) {
		const struct node *decl = p->local_plugins->u.list.items[i];
		const struct node *kinds = node_map_get(decl, sub);
		const char *origin = node_str(node_map_get(decl, "origin"));
		if (!kinds || !node_map_get(kinds, kind))
			continue;
		node_get_int(kinds, kind, 0, &required, NULL);
		if (strcmp(origin, "core") == 0)
			break;
		if (strcmp(origin, "pip") == 0) {
			pl = open_python(p, type, kind, "pip", node_str(node_map_get(decl, "package-name")), at, err);
			goto found;
		}
		{
			const char *path = node_str(node_map_get(decl, "path"));
			so = xasprintf("%s/%s/%s.so", p->dir, path, kind);
			yml = xasprintf("%s/%s/%s.yaml", p->dir, path, kind);
			yname = xasprintf("%s/%s.yaml", path, kind);
			local = 1;
			if (!file_exists(so)) {
				char *py = xasprintf("%s/%s/%s.py", p->dir, path, kind);
				char *dir = xasprintf("%s/%s", p->dir, path);
				if (file_exists(py)) {
					pl = open_python(p, type, kind, "local", dir, at, err);
				} else {
					node_error(err, node_map_get(kinds, kind),
						   "Failed to load %s plugin '%s': No module named '%s' (neither %s/%s.py nor %s/%s.so exists)",
						   type == RILL_PLUGIN_SOURCE ? "Source" : "Element", kind, kind, path, kind,
						   path, kind);
				}
				free(py);
				free(dir);
				goto found;
			}
			break;
		}
	}
	if (!so) {
		so = xasprintf("%s/%s/%s.so", p->plugin_dir, sub, kind);
		yml = xasprintf("%s/%s/%s.yaml", p->plugin_dir, sub, kind);
		yname = xasprintf("%s.yaml", kind);
		if (strchr(kind, '/') || !file_exists(so)) {
			node_error(err, at, "No %s type registered for kind '%s'",
				   type == RILL_PLUGIN_SOURCE ? "Source" : "Element", kind);
			goto out;
		}
	}
	pl = open_plugin(p, so, type == RILL_PLUGIN_ELEMENT ? yml : NULL, yname, type, kind, err);
found:
	if (pl) {
		pl->local = local;
		pl->required_version = required;
	}
out:
	free(so);
	free(yml);
	free(yname);
	return pl;
}

void plugin_unload_all(struct plugin *list)
{
	for (; list; list = list->next)
		if (list->handle)
			dlclose(list->handle);
}

static const char *key_json(struct arena *a, const struct rill_node *key)
{
	struct buf b = BUF_INIT;
	const char *s;
	cachekey_json(&b, N(key));
	s = arena_strndup(a, buf_str(&b), b.len);
	buf_release(&b);
	return s;
}

/* BuildStream's check of a listing's `kind: N` against the plugin's BST_FORMAT_VERSION. */
static int format_check(const struct plugin *pl, const char *tag, const struct node *at, struct error *err)
{
	struct buf b = BUF_INIT;
	if (pl->required_version <= pl->desc->format_version)
		return 0;
	node_format_provenance(&b, at);
	error_set(err, "%s %s at %s: Format version %d is too old for requested version %ld", pl->desc->kind, tag,
		  buf_str(&b), pl->desc->format_version, pl->required_version);
	buf_release(&b);
	return -1;
}

int plugin_configure_element(struct project *p, struct resolver *r, struct element *e, struct buf *json,
			     struct error *err)
{
	const struct rill_plugin *d = e->ki->plugin->desc;
	struct rill_ctx c = {.p = p, .e = e, .err = err, .log_fd = -1, .report_fd = -1, .a = r->scratch,
			     .keep = r->a, .res = r, .pl = d};
	struct rill_configured out = {0};
	if (d->config_keys && node_validate(e->config, d->config_keys, err))
		return -1;
	if (d->configure(&host, &c, (const struct rill_node *)e->config, &out)) {
		if (!err || !err->msg)
			error_set(err, "%s: the %s plugin failed to configure it", e->name, d->kind);
		return -1;
	}
	if (format_check(e->ki->plugin, "element", e->node, err))
		return -1;
	if (!out.unique_key)
		return error_set(err, "%s: the %s plugin returned no unique key", e->name, d->kind);
	if (json) {
		buf_reset(json);
		cachekey_json(json, N(out.unique_key));
		e->unique_json = buf_str(json);
	} else {
		e->unique_json = key_json(r->a, out.unique_key);
	}
	return 0;
}

int plugin_configure_source(struct project *p, struct resolver *r, struct element *e, struct source *s,
			    struct error *err)
{
	const struct rill_plugin *d = s->plugin->desc;
	struct rill_ctx c = {.p = p, .e = e, .err = err, .log_fd = -1, .report_fd = -1, .a = r->scratch,
			     .keep = r->a, .res = r,
			     .src = s, .pl = d};
	struct rill_configured out = {0};
	if (d->config_keys) {
		/* the core handles kind and directory */
		const struct node *n = node_map_without(r->a, node_map_without(r->a, s->node, "kind"), "directory");
		if (node_validate(n, d->config_keys, err))
			return -1;
	}
	if (d->configure(&host, &c, (const struct rill_node *)s->node, &out)) {
		if (!err || !err->msg)
			error_set(err, "%s: the %s source plugin failed to configure", e->name, d->kind);
		return -1;
	}
	if (format_check(s->plugin, "source", s->node, err))
		return -1;
	s->unique_json = out.unique_key ? key_json(r->a, out.unique_key) : NULL;
	s->always_cached = out.always_cached;
	return 0;
}

static int compose_splits(struct project *p, struct kind_info *ki, struct error *err)
{
	struct node *pub, *bst, *splits;
	if (node_get_map(ki->defaults, "public", &pub, err) || node_get_map(pub, "bst", &bst, err) ||
	    node_get_map(bst, "split-rules", &splits, err))
		return -1;
	return compose(p->a, p->split_rules ? p->split_rules : p->empty, splits,
		       &ki->split_rules, err);
}

struct kind_info *plugin_kind(struct project *p, const char *kind, const struct node *at,
			       struct error *err)
{
	struct kind_info *ki;
	struct node *override, *dvars, *denv;
	const struct plugin *pl;
	for (ki = p->kinds; ki; ki = ki->next)
		if (strcmp(ki->kind, kind) == 0)
			return ki;
	pl = plugin_load(p, RILL_PLUGIN_ELEMENT, kind, at, err);
	if (!pl)
		return NULL;
	ki = arena_alloc(p->a, sizeof(*ki));
	ki->kind = arena_strdup(p->a, kind);
	ki->plugin = pl;
	ki->defaults = pl->defaults ? pl->defaults : node_new_map(p->a, NULL);
	override = node_map_get(p->element_overrides, kind);
	if (override) {
		if (override->type != NODE_MAP) {
			node_error(err, override, "Value of '%s' is not of the expected type 'dict'", kind);
			return NULL;
		}
		if (compose(p->a, ki->defaults, override, &ki->defaults, err))
			return NULL;
	}
	if (node_get_map(ki->defaults, "variables", &dvars, err) || project_check_protected(dvars, err) ||
	    node_get_map(ki->defaults, "environment", &denv, err))
		return NULL;
	{
		struct node *vars;
		if (compose(p->a, p->base_variables, dvars, &vars, err) || compose_final_assertions(vars, err))
			return NULL;
		ki->vars = variables_new(p->a, NULL, vars, err);
		if (!ki->vars)
			return NULL;
	}
	/* a junction is composed without the project's environment and split rules, as in
	 * BuildStream (they belong to the second loading pass) */
	if (strcmp(kind, "junction") == 0) {
		struct node *saved = p->split_rules;
		int rc;
		p->split_rules = NULL;
		rc = compose(p->a, p->empty, denv, &ki->environment, err) || compose_splits(p, ki, err);
		p->split_rules = saved;
		if (rc)
			return NULL;
	} else if (compose(p->a, p->environment ? p->environment : p->empty, denv, &ki->environment, err) ||
		   compose_splits(p, ki, err)) {
		return NULL;
	}
	ki->next = p->kinds;
	p->kinds = ki;
	return ki;
}
