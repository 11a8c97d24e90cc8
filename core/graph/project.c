/* project — finds and loads project.conf: defaults, includes, options, conditionals,
 * validation, project.refs, and the per-kind defaults elements are composed from.
 * SPDX-License-Identifier: Apache-2.0 */
#include "graph/project.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "format/compose.h"
#include "format/defaults.h"
#include "format/variables.h"
#include "format/yamlload.h"

static const char *const project_keys[] = {
	"format-version", "element-path", "variables", "environment", "environment-nocache",
	"split-rules", "elements", "plugins", "aliases", "name", "artifacts", "options",
	"fail-on-overlap", "shell", "fatal-warnings", "ref-storage", "sandbox", "mirrors", NULL};

static int is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static char *find_project_dir(const char *start, struct error *err)
{
	char buf[PATH_MAX];
	char *dir;
	if (!realpath(start ? start : ".", buf)) {
		error_set(err, "%s: %s", start ? start : ".", strerror(errno));
		return NULL;
	}
	dir = xstrdup(buf);
	for (;;) {
		char *conf = xasprintf("%s/project.conf", dir);
		int found = is_file(conf);
		char *slash;
		free(conf);
		if (found)
			return dir;
		slash = strrchr(dir, '/');
		if (!slash || slash == dir) {
			if (strcmp(dir, "/") != 0) {
				dir[1] = '\0';
				continue;
			}
			free(dir);
			error_set(err, "project.conf not found in current directory or any of its parent directories");
			return NULL;
		}
		*slash = '\0';
	}
}

/* include loader: paths are relative to the directory of the project the including file
 * belongs to, like BuildStream's; "junction.bst:file.yml" names a file of that junction's
 * subproject, whose own includes are then relative to the subproject. */
struct node *project_include_loader(void *ctx, const char *name, const struct node *at, const char **path,
				    void **next_ctx, struct error *err)
{
	struct project *q = ctx, *from = q;
	struct node *cached = node_map_get(q->include_cache, name);
	const char *file = name, *colon = strchr(name, ':');
	char *full, *display;
	struct node *n;
	if (colon) {
		char *jname = xstrndup(name, (size_t)(colon - name));
		struct project *top = project_top(q);
		file = colon + 1;
		if (strchr(file, ':')) {
			free(jname);
			node_error(err, at, "Include '%s' contains multiple `:`: an include names one junction", name);
			return NULL;
		}
		if (!top->open_junction) {
			free(jname);
			node_error(err, at, "Junction include '%s' cannot be loaded here", name);
			return NULL;
		}
		from = top->open_junction(top, q, jname, err);
		free(jname);
		if (!from) {
			error_prefix(err, "%s [line %u column %u]", at->file ? at->file->name : "", at->line, at->col);
			return NULL;
		}
	}
	*next_ctx = from;
	if (file[0] == '/' || strstr(file, "..") || !*file) {
		node_error(err, at, "Include path '%s' must be a relative path inside the project", name);
		return NULL;
	}
	full = xasprintf("%s/%s", from->dir, file);
	*path = arena_strdup(q->a, full);
	if (cached) {
		free(full);
		return cached;
	}
	/* named as written, inside a subproject prefixed by its junction like its elements */
	display = q->junction ? xasprintf("%s:%s", q->junction, name) : xstrdup(name);
	n = yaml_load_file(q->a, full, display, err);
	free(display);
	free(full);
	if (!n) {
		error_prefix(err, "%s [line %u column %u]", at->file ? at->file->name : "", at->line, at->col);
		return NULL;
	}
	node_map_put(q->a, q->include_cache, arena_strdup(q->a, name), n);
	return n;
}

/* Path checks of BuildStream's node_get_project_path for element-path. */
static int check_element_path(struct project *p, const struct node *conf, struct error *err)
{
	struct node *v = node_map_get(conf, "element-path");
	const char *ep = v ? node_str(v) : ".";
	char real[PATH_MAX], *full;
	if (!ep)
		return node_error(err, v, "Value of 'element-path' is not of the expected type 'str'");
	if (ep[0] == '/')
		return node_error(err, v, "Absolute path: '%s' invalid.\nPlease specify a path relative to the project's root.", ep);
	full = xasprintf("%s/%s", p->dir, ep);
	if (!realpath(full, real)) {
		free(full);
		return node_error(err, v, "Specified path '%s' does not exist", ep);
	}
	free(full);
	if (strncmp(real, p->dir, strlen(p->dir)) != 0 ||
	    (real[strlen(p->dir)] != '/' && real[strlen(p->dir)] != '\0'))
		return node_error(err, v, "Specified path '%s' must not lead outside of the project directory", ep);
	if (!is_dir(real))
		return node_error(err, v, "Specified path '%s' must be a directory", ep);
	p->element_path = ep;
	p->element_dir = arena_strdup(p->a, real);
	/* opening each element relative to this saves the kernel walking the whole path each time */
	p->element_dirfd = open(real, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->element_dirfd < 0)
		return node_error(err, v, "Cannot open element path '%s': %s", ep, strerror(errno));
	return 0;
}

static int pre_checks(struct project *p, const struct node *conf, struct error *err)
{
	struct node *v;
	if (node_map_get(conf, "min-version"))
		return node_error(err, node_map_get(conf, "min-version"),
				  "Tried to load a BuildStream 2 project with rill, which reads BuildStream 1 projects (format-version up to %d)",
				  BST_FORMAT_VERSION);
	v = node_map_get(conf, "name");
	if (!v)
		return node_error(err, conf, "Dictionary did not contain expected key 'name'");
	if (v->type != NODE_SCALAR)
		return node_error(err, v, "Value of 'name' is not of the expected type 'str'");
	if (symbol_check(v, node_str(v), "project name", 1, err))
		return -1;
	p->name = node_str(v);
	if (node_get_int(conf, "format-version", 0, &p->format_version, err))
		return -1;
	if (p->format_version > BST_FORMAT_VERSION)
		return node_error(err, node_map_get(conf, "format-version"),
				  "Project requested format version %ld, but rill supports up to format version %d",
				  p->format_version, BST_FORMAT_VERSION);
	return 0;
}

static int load_user_options(struct project *p, struct error *err)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME"), *given = getenv("RILL_CONFIG");
	char *path, *dir;
	struct node *conf, *projects, *mine, *opts;
	/* --config FILE (RILL_CONFIG), else rill.conf, else bst's buildstream.conf, in the user's
	 * configuration directory */
	if (given && *given) {
		if (!is_file(given))
			return error_set(err, "Error loading user configuration: %s: the file does not exist", given);
		path = xstrdup(given);
	} else {
		if (xdg && *xdg)
			dir = xstrdup(xdg);
		else if (home)
			dir = xasprintf("%s/.config", home);
		else
			return 0;
		path = xasprintf("%s/rill.conf", dir);
		if (!is_file(path)) {
			free(path);
			path = xasprintf("%s/buildstream.conf", dir);
		}
		free(dir);
		if (!is_file(path)) {
			free(path);
			return 0;
		}
	}
	conf = yaml_load_file(p->a, path, path, err);
	free(path);
	if (!conf)
		return -1;
	{
		struct node *cache;
		int bst_keys;
		if (node_get_map(conf, "cache", &cache, err) || node_get_str(cache, "quota", NULL, &p->cache_quota, err) ||
		    node_get_bool(conf, "bst-keys", 0, &bst_keys, err))
			return -1;
		/* rill's own setting: BuildStream 1.6.8's keys (and so its artifact names) always */
		if (bst_keys)
			p->bst_keys = 1;
	}
	if (node_get_map(conf, "projects", &projects, err) || node_get_map(projects, p->name, &mine, err) ||
	    node_get_map(mine, "options", &opts, err) ||
	    node_get_str(mine, "default-mirror", NULL, &p->default_mirror, err))
		return -1;
	/* remote artifact caches: checked where they are used (cli/remotes.c) */
	p->user_artifacts = node_map_get(conf, "artifacts");
	p->user_project_artifacts = node_map_get(mine, "artifacts");
	return options_load_yaml_values(&p->options, opts, err);
}

int project_check_protected(const struct node *vars, struct error *err)
{
	static const char *const protected_vars[] = {"project-name", "element-name", "max-jobs"};
	size_t i;
	for (i = 0; i < ARRAY_SIZE(protected_vars); i++) {
		struct node *v = node_map_get(vars, protected_vars[i]);
		if (v)
			return node_error(err, v, "invalid redefinition of protected variable '%s'", protected_vars[i]);
	}
	return 0;
}

/* Record a warning text once. */
static void add_warning(struct project *p, const char *text)
{
	size_t i;
	if (!p->warnings)
		p->warnings = node_new_list(p->a, NULL);
	for (i = 0; i < p->warnings->u.list.n; i++)
		if (strcmp(node_str(p->warnings->u.list.items[i]), text) == 0)
			return;
	node_list_push(p->a, p->warnings, node_new_str(p->a, NULL, text));
}

static int cmp_nodes(const void *x, const void *y)
{
	return strcmp(node_str(*(struct node *const *)x), node_str(*(struct node *const *)y));
}

/* `elements:` and `sources:` of a plugins listing: kind -> format version (an integer). */
static int plugin_versions_check(const struct node *m, struct error *err)
{
	size_t i;
	long v;
	for (i = 0; m && i < m->u.map.n; i++)
		if (node_get_int(m, m->u.map.entries[i].key, 0, &v, err))
			return -1;
	return 0;
}

/* 1 when a kind listed in m has a Python module (and no shared object) in dir. */
static int has_python_plugin(const char *dir, const struct node *m)
{
	size_t i;
	for (i = 0; m && i < m->u.map.n; i++) {
		char *so = xasprintf("%s/%s.so", dir, m->u.map.entries[i].key);
		char *py = xasprintf("%s/%s.py", dir, m->u.map.entries[i].key);
		int r = !is_file(so) && is_file(py);
		free(so);
		free(py);
		if (r)
			return 1;
	}
	return 0;
}

static int load_plugins_list(struct project *p, struct error *err)
{
	struct node *list;
	size_t i;
	if (node_get_list(p->config, "plugins", &list, err))
		return -1;
	p->local_plugins = node_new_list(p->a, NULL);
	if (!list)
		return 0;
	for (i = 0; i < list->u.list.n; i++) {
		static const char *const keys[] = {"origin", "path", "package-name", "elements", "sources", NULL};
		struct node *pl = list->u.list.items[i], *els, *srcs;
		const char *origin;
		if (pl->type != NODE_MAP)
			return node_error(err, pl, "Value of 'plugins' item is not of the expected type 'dict'");
		if (node_validate(pl, keys, err) || node_get_required_str(pl, "origin", &origin, err) ||
		    node_get_map(pl, "elements", &els, err) || node_get_map(pl, "sources", &srcs, err))
			return -1;
		if (strcmp(origin, "core") != 0 && strcmp(origin, "local") != 0 && strcmp(origin, "pip") != 0)
			return node_error(err, node_map_get(pl, "origin"), "Origin '%s' is not one of the allowed types",
					  origin);
		if (plugin_versions_check(els, err) || plugin_versions_check(srcs, err))
			return -1;
		if (strcmp(origin, "pip") == 0) {
			const char *pkg;
			if (node_get_required_str(pl, "package-name", &pkg, err))
				return -1;
			p->python_plugins = 1;
		} else if (strcmp(origin, "local") == 0) {
			const char *path;
			struct stat st;
			char *abs;
			if (node_get_required_str(pl, "path", &path, err))
				return -1;
			if (path[0] == '/')
				return node_error(err, node_map_get(pl, "path"), "Absolute path: '%s' invalid.\nPlease specify a path relative to the project's root.", path);
			if (strcmp(path, "..") == 0 || strncmp(path, "../", 3) == 0)
				return node_error(err, node_map_get(pl, "path"), "Specified path '%s' first component must not be '..'", path);
			abs = xasprintf("%s/%s", p->dir, path);
			if (stat(abs, &st) != 0) {
				free(abs);
				return node_error(err, node_map_get(pl, "path"), "Specified path '%s' does not exist", path);
			}
			if (!S_ISDIR(st.st_mode)) {
				free(abs);
				return node_error(err, node_map_get(pl, "path"), "Specified path '%s' must be a directory", path);
			}
			if (has_python_plugin(abs, els) || has_python_plugin(abs, srcs))
				p->python_plugins = 1;
			free(abs);
		}
		node_list_push(p->a, p->local_plugins, pl);
	}
	/* duplicate kinds across listings */
	{
		size_t a, b, t;
		for (a = 0; a < p->local_plugins->u.list.n; a++)
			for (t = 0; t < 2; t++) {
				struct node *ma = node_map_get(p->local_plugins->u.list.items[a], t ? "sources" : "elements");
				size_t k;
				for (k = 0; ma && k < ma->u.map.n; k++)
					for (b = a + 1; b < p->local_plugins->u.list.n; b++) {
						struct node *mb = node_map_get(p->local_plugins->u.list.items[b],
									       t ? "sources" : "elements");
						if (node_map_get(mb, ma->u.map.entries[k].key))
							return node_error(err, node_map_get(mb, ma->u.map.entries[k].key),
									  "Duplicate listing of %s '%s'",
									  t ? "source" : "element", ma->u.map.entries[k].key);
					}
			}
	}
	return 0;
}

/* The `projects` map of a refs file in the project directory (project.refs or junction.refs):
 * {projects: {PROJECT: {ELEMENT: [{ref: ...}, one per source]}}}; NULL when there is no file. */
static int load_refs_file(struct project *p, const char *name, struct node **projects, struct error *err)
{
	char *path = xasprintf("%s/%s", p->dir, name);
	struct node *doc;
	*projects = NULL;
	if (!is_file(path)) {
		free(path);
		return 0;
	}
	doc = yaml_load_file(p->a, path, name, err);
	free(path);
	if (!doc)
		return -1;
	if (doc->type != NODE_MAP)
		return node_error(err, doc, "%s is not a mapping of `projects`", name);
	return node_get_map(doc, "projects", projects, err);
}

static int load_refs(struct project *p, struct error *err)
{
	return load_refs_file(p, "project.refs", &p->refs, err) ||
	       load_refs_file(p, "junction.refs", &p->junction_refs, err);
}

static const char *mirror_name(const struct node *mirrors, size_t i)
{
	return node_str(node_map_get(mirrors->u.list.items[i], "name"));
}

/* Mirror i of mirrors: each alias maps to a list of URI strings, and the name is unique. */
static int check_mirror(const struct node *mirrors, size_t i, const struct node *aliases, struct error *err)
{
	const char *name = mirror_name(mirrors, i);
	struct node *uris;
	size_t k;
	for (k = 0; k < i; k++)
		if (strcmp(mirror_name(mirrors, k), name) == 0)
			return node_error(err, node_map_get(mirrors->u.list.items[i], "name"),
					  "Duplicate mirror name '%s'", name);
	for (k = 0; k < aliases->u.map.n; k++) {
		const struct node_entry *en = &aliases->u.map.entries[k];
		if (en->value->type != NODE_LIST)
			return node_error(err, en->value, "Value of '%s' is not of the expected type 'list'",
					  en->key);
		if (node_get_str_list(aliases, en->key, &uris, err))
			return -1;
	}
	return 0;
}

/* The mirror tried first: --default-mirror, else the user configuration's, else the first
 * listed. Naming a mirror the project does not have is an error. */
static int resolve_default_mirror(struct project *p, const char *cli, struct error *err)
{
	const char *want = cli ? cli : p->default_mirror;
	struct buf names = BUF_INIT;
	size_t i;
	p->default_mirror = NULL;
	if (!want) {
		if (p->mirrors)
			p->default_mirror = mirror_name(p->mirrors, 0);
		return 0;
	}
	for (i = 0; p->mirrors && i < p->mirrors->u.list.n; i++) {
		if (strcmp(mirror_name(p->mirrors, i), want) == 0) {
			p->default_mirror = mirror_name(p->mirrors, i);
			buf_release(&names);
			return 0;
		}
		buf_addf(&names, "%s'%s'", i ? ", " : "", mirror_name(p->mirrors, i));
	}
	error_set(err, "%s: no mirror named '%s' in project '%s' (%s%s)",
		  cli ? "--default-mirror" : "default-mirror in the user configuration", want, p->name,
		  names.len ? "its mirrors: " : "it has no mirrors", buf_str(&names));
	buf_release(&names);
	return -1;
}

const char **project_alias_uris(const struct project *p, const char *alias, size_t *n)
{
	const char **uris;
	size_t cap = 1, i, k, pass;
	const char *own = alias ? node_str(node_map_get(p->aliases, alias)) : NULL;
	*n = 0;
	if (!own)
		return NULL;
	for (i = 0; p->mirrors && i < p->mirrors->u.list.n; i++) {
		const struct node *l = node_map_get(node_map_get(p->mirrors->u.list.items[i], "aliases"), alias);
		cap += l ? l->u.list.n : 0;
	}
	uris = xmalloc(cap * sizeof(*uris));
	/* pass 0: the default mirror; pass 1: the others, in order */
	for (pass = 0; pass < 2; pass++)
		for (i = 0; p->mirrors && i < p->mirrors->u.list.n; i++) {
			const struct node *m = p->mirrors->u.list.items[i];
			const struct node *l = node_map_get(node_map_get(m, "aliases"), alias);
			int is_default = p->default_mirror && strcmp(mirror_name(p->mirrors, i), p->default_mirror) == 0;
			if (!l || is_default != (pass == 0))
				continue;
			for (k = 0; k < l->u.list.n; k++)
				uris[(*n)++] = node_str(l->u.list.items[k]);
		}
	uris[(*n)++] = own;
	return uris;
}

static int validate_rest(struct project *p, struct error *err)
{
	struct node *c = p->config, *shell, *mirrors;
	const char *rs;
	size_t i;
	if (node_validate(c, project_keys, err))
		return -1;
	if (node_get_str(c, "ref-storage", "inline", &rs, err))
		return -1;
	if (strcmp(rs, "project.refs") == 0)
		p->refs_in_project_refs = 1;
	else if (strcmp(rs, "inline") != 0)
		return node_error(err, node_map_get(c, "ref-storage"), "Invalid value '%s' specified for ref-storage", rs);
	if (node_get_map(c, "environment", &p->environment, err) ||
	    node_get_str_list(c, "environment-nocache", &p->env_nocache, err) ||
	    node_get_map(c, "sandbox", &p->sandbox, err) || node_get_map(c, "split-rules", &p->split_rules, err) ||
	    node_get_map(c, "aliases", &p->aliases, err) || node_get_map(c, "shell", &shell, err) ||
	    node_get_list(c, "mirrors", &mirrors, err))
		return -1;
	for (i = 0; p->aliases && i < p->aliases->u.map.n; i++)
		if (p->aliases->u.map.entries[i].value->type != NODE_SCALAR)
			return node_error(err, p->aliases->u.map.entries[i].value,
					  "Value of '%s' is not of the expected type 'str'", p->aliases->u.map.entries[i].key);
	if (shell) {
		static const char *const shell_keys[] = {"command", "environment", "host-files", NULL};
		struct node *l;
		if (node_validate(shell, shell_keys, err) || node_get_str_list(shell, "command", &l, err) ||
		    node_get_map(shell, "environment", &l, err) || node_get_list(shell, "host-files", &l, err))
			return -1;
	}
	for (i = 0; mirrors && i < mirrors->u.list.n; i++) {
		static const char *const mirror_keys[] = {"name", "aliases", NULL};
		struct node *m = mirrors->u.list.items[i], *al;
		const char *nm;
		if (m->type != NODE_MAP)
			return node_error(err, m, "Value of 'mirrors' item is not of the expected type 'dict'");
		if (node_validate(m, mirror_keys, err) || node_get_required_str(m, "name", &nm, err) ||
		    node_get_map(m, "aliases", &al, err))
			return -1;
		if (!al)
			return node_error(err, m, "Dictionary did not contain expected key 'aliases'");
		if (check_mirror(mirrors, i, al, err))
			return -1;
	}
	p->mirrors = mirrors && mirrors->u.list.n ? mirrors : NULL;
	{
		struct node *fw, *sorted;
		int overlap = 0, fail_on_overlap = 0;
		if (node_get_str_list(c, "fatal-warnings", &fw, err) ||
		    node_get_bool(c, "fail-on-overlap", 0, &fail_on_overlap, err))
			return -1;
		sorted = node_new_list(p->a, fw);
		for (i = 0; fw && i < fw->u.list.n; i++) {
			node_list_push(p->a, sorted, fw->u.list.items[i]);
			overlap |= strcmp(node_str(fw->u.list.items[i]), "overlaps") == 0;
		}
		if (fail_on_overlap && !overlap)
			node_list_push(p->a, sorted, node_new_str(p->a, NULL, "overlaps"));
		if (node_map_get(c, "fail-on-overlap"))
			add_warning(p, "Use of fail-on-overlap within project.conf is deprecated. Consider using "
				    "fatal-warnings instead.");
		if (sorted->u.list.n)
			qsort(sorted->u.list.items, sorted->u.list.n, sizeof(struct node *), cmp_nodes);
		p->fatal_warnings = sorted;
	}
	return load_plugins_list(p, err);
}

static int build_base_variables(struct project *p, const struct load_params *params, struct error *err)
{
	struct node *vars;
	size_t i;
	char jobs[32];
	if (node_get_map(p->config, "variables", &vars, err))
		return -1;
	if (project_check_protected(vars, err))
		return -1;
	vars = node_shallow_copy(p->a, vars ? vars : p->empty);
	node_map_put(p->a, vars, "project-name", node_new_str(p->a, NULL, p->name));
	if (params->max_jobs > 0) {
		snprintf(jobs, sizeof(jobs), "%d", params->max_jobs);
	} else {
		cpu_set_t set;
		int n = 1;
		if (sched_getaffinity(0, sizeof(set), &set) == 0)
			n = CPU_COUNT(&set);
		snprintf(jobs, sizeof(jobs), "%d", n < 8 ? n : 8);
	}
	node_map_put(p->a, vars, "max-jobs", node_new_str(p->a, NULL, jobs));
	for (i = 0; i < p->options.n; i++) {
		const struct option *o = &p->options.opts[i];
		if (o->variable)
			node_map_put(p->a, vars, o->variable,
				     node_new_str(p->a, NULL, options_export_value(&p->options, o)));
	}
	p->base_variables = vars;
	return 0;
}

static struct project *project_new(const struct load_params *params)
{
	struct project *p = xcalloc(1, sizeof(*p));
	struct utsname u;
	p->element_dirfd = -1;
	p->a = arena_new();
	p->scratch = arena_new();
	p->res.a = p->a;
	p->res.scratch = p->scratch;
	p->plugin_dir = params->plugin_dir;
	p->cache_dir = params->cache_dir ? arena_strdup(p->a, params->cache_dir) : NULL;
	p->fetch_subprojects = params->fetch_subprojects;
	p->open_junction = params->open_junction;
	p->junction_sources = params->junction_sources;
	p->bst_keys = params->bst_keys;
	p->debug_keys = getenv("RILL_DEBUG_KEYS") != NULL;
	p->threads = params->threads;
	if (p->threads <= 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		p->threads = cpus > 1 ? 2 : 1;
	}
	p->include_cache = node_new_map(p->a, NULL);
	p->empty = node_new_map(p->a, NULL);
	uname(&u);
	p->host_os = arena_strdup(p->a, u.sysname);
	p->host_arch = arena_strdup(p->a, u.machine);
	return p;
}

/* project.conf with its includes (cf) over the defaults: options (the junction's, then the
 * user's, then the command line's), conditionals, validation, variables, refs. */
static int conf_finish(struct project *p, const struct load_params *params, const struct node *junction_opts,
		       struct node *defaults, struct node *cf, struct error *err)
{
	struct node *config, *opts;
	size_t i;
	if (compose(p->a, defaults, cf, &config, err))
		return -1;
	if (node_get_map(config, "options", &opts, err) ||
	    options_load(&p->options, p->a, opts, p->element_dir, err) ||
	    (junction_opts && options_load_yaml_values(&p->options, junction_opts, err)) ||
	    load_user_options(p, err))
		return -1;
	for (i = 0; i < params->noptions; i++)
		if (options_set_cli(&p->options, params->options[i].name, params->options[i].value, 0, err))
			return -1;
	if (options_resolve(&p->options, err) ||
	    compose_conditionals(p->a, config, options_lookup, &p->options, &config, err))
		return -1;
	if (node_get_map(config, "elements", &p->element_overrides, err) ||
	    node_get_map(config, "sources", &p->source_overrides, err))
		return -1;
	config = node_map_without(p->a, node_map_without(p->a, config, "elements"), "sources");
	if (compose_final_assertions(config, err))
		return -1;
	p->config = config;
	if (validate_rest(p, err) || resolve_default_mirror(p, params->default_mirror, err) ||
	    build_base_variables(p, params, err))
		return -1;
	if (p->refs_in_project_refs && load_refs(p, err))
		return -1;
	return 0;
}

/* Everything after finding the directory. As in BuildStream, two passes when project.conf
 * includes files of a junction ("junction.bst:file.yml"): the first without them gives the
 * configuration junction elements are loaded with, the second the project's. */
static int load_conf(struct project *p, const struct load_params *params, const struct node *junction_opts,
		     const char *conf_name, struct error *err)
{
	struct node *defaults, *conf, *with_includes;
	struct include_ctx ic;
	char *conf_path;
	size_t nwarnings;
	int skipped = 0;

	defaults = yaml_load_data(p->a, defaults_project_yaml, strlen(defaults_project_yaml),
				  "(built-in defaults)", err);
	if (!defaults)
		return -1;
	/* built-in defaults carry no file provenance, like BuildStream's */
	conf_path = xasprintf("%s/project.conf", p->dir);
	conf = yaml_load_file(p->a, conf_path, conf_name, err);
	free(conf_path);
	if (!conf || pre_checks(p, conf, err) || check_element_path(p, conf, err))
		return -1;

	memset(&ic, 0, sizeof(ic));
	ic.a = p->a;
	ic.load = project_include_loader;
	ic.load_ctx = p;
	ic.only_local = 1;
	ic.skipped = &skipped;
	nwarnings = p->warnings ? p->warnings->u.list.n : 0;
	if (compose_includes(&ic, conf, &with_includes, err) ||
	    conf_finish(p, params, junction_opts, defaults, with_includes, err))
		return -1;
	if (!skipped)
		return 0;
	/* the second pass repeats the first's warnings: keep one copy */
	if (p->warnings)
		p->warnings->u.list.n = nwarnings;
	ic.only_local = 0;
	ic.skipped = NULL;
	return compose_includes(&ic, conf, &with_includes, err) ||
	       conf_finish(p, params, junction_opts, defaults, with_includes, err);
}

struct project *project_load(const struct load_params *params, struct error *err)
{
	struct project *p = project_new(params);
	p->dir = find_project_dir(params->directory, err);
	if (p->dir) {
		char *what = xasprintf("the project in %s", p->dir);
		oom_context_default(what);
		free(what);
	}
	if (!p->dir || load_conf(p, params, NULL, "project.conf", err)) {
		project_free(p);
		return NULL;
	}
	return p;
}

struct project *project_top(struct project *p)
{
	while (p->parent)
		p = p->parent;
	return p;
}

struct project *project_load_sub(struct project *parent, const char *dir, const char *junction,
				 const struct node *options, struct error *err)
{
	struct project *top = project_top(parent), *p;
	struct load_params lp = {0};
	const char *jobs = node_str(node_map_get(parent->base_variables, "max-jobs"));
	char real[PATH_MAX], *conf, *conf_name;
	lp.plugin_dir = parent->plugin_dir;
	lp.bst_keys = parent->bst_keys;
	lp.threads = parent->threads;
	lp.max_jobs = jobs ? atoi(jobs) : 0;
	lp.cache_dir = top->cache_dir;
	lp.fetch_subprojects = top->fetch_subprojects;
	lp.open_junction = top->open_junction;
	lp.junction_sources = top->junction_sources;
	conf = xasprintf("%s/project.conf", dir);
	if (!realpath(dir, real) || !is_file(conf)) {
		free(conf);
		error_set(err, "%s: Could not find the project.conf file of the subproject. Expecting a project at path '%s'",
			  junction, dir);
		return NULL;
	}
	free(conf);
	p = project_new(&lp);
	p->dir = xstrdup(real);
	p->parent = parent;
	p->junction = arena_strdup(p->a, junction);
	conf_name = xasprintf("%s:project.conf", junction);
	if (load_conf(p, &lp, options, conf_name, err)) {
		free(conf_name);
		project_free(p);
		return NULL;
	}
	free(conf_name);
	p->plugin_dir = parent->plugin_dir;
	p->next_sub = top->subs;
	top->subs = p;
	return p;
}

void project_warning(struct project *p, const char *token, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_addf(&b, "[%s]: ", token);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	add_warning(p, buf_str(&b));
	buf_release(&b);
}

void project_warning_text(struct project *p, const char *text)
{
	add_warning(p, text);
}

void resolver_warning(struct project *p, struct resolver *r, const char *text)
{
	if (!r || !r->collect) {
		add_warning(p, text);
		return;
	}
	GROW(r->warnings, r->warnings_cap, r->nwarnings + 1);
	r->warnings[r->nwarnings].index = r->current;
	r->warnings[r->nwarnings].text = xstrdup(text);
	r->nwarnings++;
}

void resolver_release(struct resolver *r, int free_arenas)
{
	size_t i;
	arena_free(r->key_arena);
	r->key_arena = NULL;
	buf_release(&r->key_cache.env_json);
	buf_release(&r->key_cache.public_json);
	buf_release(&r->key_json);
	buf_release(&r->key_scratch);
	for (i = 0; i < r->nwarnings; i++)
		free(r->warnings[i].text);
	free(r->warnings);
	r->warnings = NULL;
	r->nwarnings = r->warnings_cap = 0;
	if (free_arenas) {
		arena_free(r->a);
		arena_free(r->scratch);
		r->a = r->scratch = NULL;
	}
}

void project_free(struct project *p)
{
	size_t i;
	if (!p)
		return;
	while (p->subs) {
		struct project *sub = p->subs;
		p->subs = sub->next_sub;
		project_free(sub);
	}
	free(p->state_memo);
	/* what the loader and the plugin loader left running or open */
	if (p->finish_sort)
		p->finish_sort(p);
	if (p->unload_plugins)
		p->unload_plugins(p->plugins);
	free(p->topo);
	free(p->table);
	free(p->elements);
	free(p->dir);
	if (p->element_dirfd >= 0)
		close(p->element_dirfd);
	arena_free(p->scratch);
	resolver_release(&p->res, 0);
	for (i = 0; i < p->nparsed; i++)
		arena_free(p->parsed[i]);
	free(p->parsed);
	for (i = 0; i < p->nheap_blocks; i++)
		free(p->heap_blocks[i]);
	free(p->heap_blocks);
	free(p->reach);
	arena_free(p->a);
	free(p);
}
