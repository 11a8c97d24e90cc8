/* loader — element files to a sorted, cycle-free dependency graph.
 * SPDX-License-Identifier: Apache-2.0 */
#include "graph/loader.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/listsort.h"
#include "base/osutil.h"
#include "format/cachekey.h"
#include "format/compose.h"
#include "format/variables.h"
#include "format/yamlload.h"
#include "graph/element.h"

static const char *const element_keys[] = {
	"kind", "description", "depends", "build-depends", "runtime-depends", "sources", "variables",
	"environment", "environment-nocache", "config", "public", "sandbox", NULL};

static size_t name_hash(const char *s, size_t size)
{
	return (size_t)(hash_bytes(s, strlen(s)) & (size - 1));
}

struct element *loader_find(struct project *p, const char *name)
{
	struct element *e;
	p = project_top(p);
	if (!p->table)
		return NULL;
	for (e = p->table[name_hash(name, p->table_size)]; e; e = e->hnext)
		if (strcmp(e->name, name) == 0)
			return e;
	return NULL;
}

static void table_insert(struct project *p, struct element *e)
{
	size_t h, i;
	if (p->nelements + 1 > p->table_size / 2) {
		size_t nsize = p->table_size ? p->table_size * 2 : 1024;
		struct element **nt = xcalloc(nsize, sizeof(*nt));
		for (i = 0; i < p->nelements; i++) {
			struct element *x = p->elements[i];
			h = name_hash(x->name, nsize);
			x->hnext = nt[h];
			nt[h] = x;
		}
		free(p->table);
		p->table = nt;
		p->table_size = nsize;
	}
	h = name_hash(e->name, p->table_size);
	e->hnext = p->table[h];
	p->table[h] = e;
	e->index = (unsigned)p->nelements;
	GROW(p->elements, p->elements_cap, p->nelements + 1);
	p->elements[p->nelements++] = e;
}

/* One dependency entry: d->filename and d->junction as written ("sub.bst:x.bst" is split);
 * d->name is set once the junction is known (resolve_dep). */
static int parse_dep(struct arena *a, const struct node *item, enum dep_type deflt, int typed, struct dep *d, struct error *err)
{
	const char *colon;
	memset(d, 0, sizeof(*d));
	d->at = item;
	d->type = deflt;
	if (item->type == NODE_SCALAR) {
		d->filename = node_str(item);
	} else if (item->type == NODE_MAP) {
		static const char *const keys_typed[] = {"filename", "junction", "strict", NULL};
		static const char *const keys_all[] = {"filename", "type", "junction", "strict", NULL};
		const char *type = NULL;
		if (node_validate(item, typed ? keys_typed : keys_all, err))
			return -1;
		if (!typed) {
			if (node_get_str(item, "type", NULL, &type, err))
				return -1;
			if (!type || strcmp(type, "all") == 0)
				d->type = DEP_ALL;
			else if (strcmp(type, "build") == 0)
				d->type = DEP_BUILD;
			else if (strcmp(type, "runtime") == 0)
				d->type = DEP_RUNTIME;
			else
				return node_error(err, node_map_get(item, "type"),
						  "Dependency type '%s' is not 'build', 'runtime' or 'all'", type);
		}
		if (node_get_required_str(item, "filename", &d->filename, err) ||
		    node_get_str(item, "junction", NULL, &d->junction, err) ||
		    node_get_bool(item, "strict", 0, &d->strict, err))
			return -1;
		if (!d->strict && node_map_get(item, "strict"))
			return node_error(err, node_map_get(item, "strict"), "Setting 'strict' to False is unsupported");
		if (d->junction && !*d->junction)
			d->junction = NULL;
	} else {
		return node_error(err, item, "Dependency is not specified as a string or a dictionary");
	}
	d->name = d->filename;
	if (d->strict && d->type == DEP_RUNTIME)
		return node_error(err, item, "Runtime dependency %s specified as `strict`.", d->filename);
	if (d->junction && strchr(d->filename, ':'))
		return node_error(err, item, "Dependency %s contains `:` in its name. `:` is not allowed in names when junction attribute is specified.",
				  d->filename);
	colon = strchr(d->filename, ':');
	if (colon && strchr(colon + 1, ':'))
		return node_error(err, item, "Dependency %s contains multiple `:` in its name. Recursive lookups for cross-junction elements is not allowed.",
				  d->filename);
	if (colon) {
		d->junction = arena_strndup(a, d->filename, (size_t)(colon - d->filename));
		d->filename = colon + 1;
	}
	return 0;
}

static int extract_deps(struct project *p, struct element *e, struct error *err)
{
	static const char *const keys[] = {"build-depends", "runtime-depends", "depends"};
	static const enum dep_type types[] = {DEP_BUILD, DEP_RUNTIME, DEP_ALL};
	size_t k, i, total = 0;
	struct node *lists[3];
	for (k = 0; k < 3; k++) {
		if (node_get_list(e->node, keys[k], &lists[k], err))
			return -1;
		total += lists[k] ? lists[k]->u.list.n : 0;
		if (total > max_dependencies())
			return node_error(err, lists[k], "The element has more than %zu dependencies, the limit "
					  "(RILL_MAX_DEPENDENCIES)", max_dependencies());
		if (lists[k] && p->ndeps_total + total > max_total_dependencies())
			return node_error(err, lists[k], "The project lists more than %zu dependencies in all, the "
					  "limit (RILL_MAX_TOTAL_DEPENDENCIES)", max_total_dependencies());
	}
	p->ndeps_total += total;
	e->deps = arena_alloc(p->a, (total + 1) * sizeof(struct dep));
	for (k = 0; k < 3; k++)
		for (i = 0; lists[k] && i < lists[k]->u.list.n; i++)
			if (parse_dep(p->a, lists[k]->u.list.items[i], types[k], k < 2, &e->deps[e->ndeps++], err))
				return -1;
	return 0;
}

/* The name an element of project q has in the graph: "junction.bst:name" in a subproject. */
static const char *full_name(struct project *top, const struct project *q, const char *name)
{
	char *t, *r;
	if (!q->junction)
		return arena_strdup(top->a, name);
	t = xasprintf("%s:%s", q->junction, name);
	r = arena_strdup(top->a, t);
	free(t);
	return r;
}

/* The name errors give an element file, as BuildStream's provenance does: its name within the
 * element path, "junction:" before it in a subproject (heap). */
static char *element_display(const struct project *q, const char *name)
{
	char *d = xstrdup(name);
	if (q->junction) {
		char *t = xasprintf("%s:%s", q->junction, d);
		free(d);
		d = t;
	}
	return d;
}

/* Most files use no directive at all: then the tree walks for them can be skipped. A
 * directive key contains its own text unless written with escapes, so any backslash keeps the
 * walks. */
static int has_directives(const char *data, size_t len)
{
	return memmem(data, len, "(?)", 3) || memmem(data, len, "(!)", 3) || memmem(data, len, "(@)", 3) ||
	       memchr(data, '\\', len);
}

/* Reading and parsing element files is most of loading, and a depth-first walk cannot know
 * a file's dependencies before parsing it. So a helper thread walks the graph too, from the
 * other end: it parses, into an arena of its own, the targets' dependencies last first, then
 * the dependencies it finds in the files it parsed. The loader's walk takes a tree the helper
 * parsed, waits for one being parsed, or claims the file and parses it itself; every file is
 * parsed once. The helper skips what it cannot know as the loader would (junctions, files
 * with directives) and only ever parses: a file it cannot read or parse is read again by the
 * loader, which reports the error as it would have without the helper. Top-project files
 * only. */
enum { PF_QUEUED, PF_BUSY, PF_DONE, PF_FAILED, PF_TAKEN };

struct pf_item {
	struct pf_item *hnext;
	char *name;
	int state;
	int directives;
	struct node *n;
};

struct prefetch {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t more, parsed;
	struct pf_item **stack;         /* files to parse, the last found first */
	size_t nstack, cap;
	struct pf_item **table;
	size_t tsize, count;
	struct project *q;
	struct arena *a;                /* the helper's: the trees it parsed */
	int stop;
};

static struct pf_item **pf_slot(struct prefetch *pf, const char *name)
{
	struct pf_item **it = &pf->table[name_hash(name, pf->tsize)];
	while (*it && strcmp((*it)->name, name) != 0)
		it = &(*it)->hnext;
	return it;
}

/* The entry of file name, made in state PF_QUEUED and queued for the helper when new
 * (called locked). queue = 0: the loader takes it, so the helper must not parse it. */
static struct pf_item *pf_add(struct prefetch *pf, const char *name, int queue)
{
	struct pf_item **slot = pf_slot(pf, name), *it;
	if (*slot)
		return *slot;
	if (pf->count + 1 > pf->tsize / 2) {
		size_t nsize = pf->tsize * 2, k;
		struct pf_item **nt = xcalloc(nsize, sizeof(*nt));
		for (k = 0; k < pf->tsize; k++)
			while (pf->table[k]) {
				struct pf_item *x = pf->table[k];
				size_t h = name_hash(x->name, nsize);
				pf->table[k] = x->hnext;
				x->hnext = nt[h];
				nt[h] = x;
			}
		free(pf->table);
		pf->table = nt;
		pf->tsize = nsize;
		slot = pf_slot(pf, name);
	}
	it = xcalloc(1, sizeof(*it));
	it->name = xstrdup(name);
	it->state = queue ? PF_QUEUED : PF_TAKEN;
	*slot = it;
	pf->count++;
	if (queue) {
		GROW(pf->stack, pf->cap, pf->nstack + 1);
		pf->stack[pf->nstack++] = it;
	}
	return it;
}

/* Whether the helper may parse dependency file f: an element of the same project that
 * load_file() would accept, within the element path. */
static int pf_wanted(const char *f)
{
	return !strchr(f, ':') && str_has_suffix(f, ".bst") && f[0] != '/' && !strstr(f, "..");
}

/* Queue the files a parsed element names as dependencies of its own project. */
static void pf_push_deps(struct prefetch *pf, const struct node *n)
{
	static const char *const keys[] = {"build-depends", "runtime-depends", "depends"};
	size_t k, i;
	for (k = 0; k < 3; k++) {
		const struct node *l = node_map_get(n, keys[k]);
		for (i = 0; l && l->type == NODE_LIST && i < l->u.list.n; i++) {
			const struct node *item = l->u.list.items[i];
			const char *f = NULL;
			if (item->type == NODE_MAP && !node_map_get(item, "junction"))
				f = node_str(node_map_get(item, "filename"));
			else if (item->type == NODE_SCALAR)
				f = node_str(item);
			if (f && pf_wanted(f))
				pf_add(pf, f, 1);
		}
	}
}

static void *pf_worker(void *arg)
{
	struct prefetch *pf = arg;
	pthread_mutex_lock(&pf->mu);
	for (;;) {
		struct pf_item *it = NULL;
		struct buf data = BUF_INIT;
		struct error err = ERROR_INIT;
		struct node *n = NULL;
		int directives = 0;
		char *display;
		while (!pf->stop && !it) {
			while (pf->nstack && !it) {
				it = pf->stack[--pf->nstack];
				if (it->state != PF_QUEUED)
					it = NULL;
			}
			if (!it && !pf->stop)
				pthread_cond_wait(&pf->more, &pf->mu);
		}
		if (!it)
			break;
		it->state = PF_BUSY;
		pthread_mutex_unlock(&pf->mu);
		if (read_file_at_max(pf->q->element_dirfd, it->name, max_input_file(), &data, NULL) == 0) {
			display = element_display(pf->q, it->name);
			oom_context(display);
			n = yaml_load_data(pf->a, data.data, data.len, display, &err);
			oom_context(NULL);
			directives = has_directives(data.data, data.len);
			free(display);
		}
		buf_release(&data);
		error_release(&err);
		pthread_mutex_lock(&pf->mu);
		it->n = n;
		it->directives = directives;
		it->state = n ? PF_DONE : PF_FAILED;
		pthread_cond_broadcast(&pf->parsed);
		if (n && !directives && n->type == NODE_MAP)
			pf_push_deps(pf, n);
	}
	pthread_mutex_unlock(&pf->mu);
	return NULL;
}

/* Start the helper on target e's dependencies (top project, two threads allowed). */
static void pf_start(struct project *p, const struct element *e)
{
	struct prefetch *pf = p->prefetch;
	size_t i;
	if (e->project != p || p->threads < 2)
		return;
	if (!pf) {
		pf = xcalloc(1, sizeof(*pf));
		pthread_mutex_init(&pf->mu, NULL);
		pthread_cond_init(&pf->more, NULL);
		pthread_cond_init(&pf->parsed, NULL);
		pf->tsize = 1024;
		pf->table = xcalloc(pf->tsize, sizeof(*pf->table));
		pf->q = p;
		pf->a = arena_new();
		if (pthread_create(&pf->thread, NULL, pf_worker, pf) != 0) {
			pthread_cond_destroy(&pf->parsed);
			pthread_cond_destroy(&pf->more);
			pthread_mutex_destroy(&pf->mu);
			free(pf->table);
			arena_free(pf->a);
			free(pf);
			return;
		}
		p->prefetch = pf;
	}
	pthread_mutex_lock(&pf->mu);
	for (i = 0; i < e->ndeps; i++)
		if (!e->deps[i].junction && pf_wanted(e->deps[i].filename) && !loader_find(p, e->deps[i].filename))
			pf_add(pf, e->deps[i].filename, 1);
	pthread_cond_signal(&pf->more);
	pthread_mutex_unlock(&pf->mu);
}

/* The tree of q's file name if the helper parsed it (waiting while it does); 0 when the caller
 * is to read and parse the file itself. */
static int pf_take(struct project *p, const struct project *q, const char *name, struct node **n,
		   int *directives)
{
	struct prefetch *pf = p->prefetch;
	struct pf_item *it;
	int got = 0;
	if (!pf || q != p)
		return 0;
	pthread_mutex_lock(&pf->mu);
	it = pf_add(pf, name, 0);
	while (it->state == PF_BUSY)
		pthread_cond_wait(&pf->parsed, &pf->mu);
	if (it->state == PF_DONE) {
		*n = it->n;
		*directives = it->directives;
		got = 1;
	}
	it->state = PF_TAKEN;
	pthread_mutex_unlock(&pf->mu);
	return got;
}

/* Loading is over: stop the helper; the trees it parsed stay with the project. */
static void pf_stop(struct project *p)
{
	struct prefetch *pf = p->prefetch;
	size_t k;
	if (!pf)
		return;
	pthread_mutex_lock(&pf->mu);
	pf->stop = 1;
	pthread_cond_signal(&pf->more);
	pthread_mutex_unlock(&pf->mu);
	pthread_join(pf->thread, NULL);
	for (k = 0; k < pf->tsize; k++)
		while (pf->table[k]) {
			struct pf_item *x = pf->table[k];
			pf->table[k] = x->hnext;
			free(x->name);
			free(x);
		}
	free(pf->table);
	free(pf->stack);
	pthread_cond_destroy(&pf->parsed);
	pthread_cond_destroy(&pf->more);
	pthread_mutex_destroy(&pf->mu);
	GROW(p->parsed, p->nparsed_cap, p->nparsed + 1);
	p->parsed[p->nparsed++] = pf->a;
	free(pf);
	p->prefetch = NULL;
}

/* Load element file name of project q (the top project p or a subproject) into p's graph. */
static int load_file(struct project *p, struct project *q, const char *name, const struct dep *from,
		     struct element **out, struct error *err)
{
	struct element *e;
	struct node *n;
	const char *kind;
	int directives;

	if (!str_has_suffix(name, ".bst")) {
		if (from)
			return node_error(err, from->at, "Element name '%s' does not end in '.bst'", name);
		return error_set(err, "Element name '%s' does not end in '.bst'", name);
	}
	if (name[0] == '/' || strstr(name, "../") || strncmp(name, "..", 2) == 0) {
		if (from)
			return node_error(err, from->at, "Element name '%s' must be relative to the element path", name);
		return error_set(err, "Element name '%s' must be relative to the element path", name);
	}
	if (!pf_take(p, q, name, &n, &directives)) {
		struct buf data = BUF_INIT;
		char *display;
		if (read_file_at_max(q->element_dirfd, name, max_input_file(), &data, NULL)) {
			int isdir = errno == EISDIR, missing = errno == ENOENT || errno == ENOTDIR;
			int toobig = errno == EFBIG;
			const char *why = strerror(errno);
			buf_release(&data);
			if (toobig) {
				char *shown = element_display(q, name);
				error_set(err, "%s: the file is bigger than %zu bytes, the limit for an element file (RILL_MAX_FILE_SIZE)",
					  shown, max_input_file());
				free(shown);
				return -1;
			}
			if (isdir) {
				if (from)
					return node_error(err, from->at, "%s is a directory, not an element file", name);
				return error_set(err, "%s is a directory, not an element file", name);
			}
			if (missing && q->junction) {
				if (from)
					return node_error(err, from->at, "Could not find element '%s' in project referred to by junction element '%s'",
							  name, q->junction);
				return error_set(err, "Could not find element '%s' in project referred to by junction element '%s'",
						 name, q->junction);
			}
			if (missing) {
				if (from)
					return node_error(err, from->at, "Could not find element '%s' in elements directory '%s'",
							  name, q->element_path);
				return error_set(err, "Could not find element '%s' in elements directory '%s'", name,
						 q->element_path);
			}
			if (from)
				return node_error(err, from->at, "Cannot read element '%s': %s", name, why);
			return error_set(err, "Cannot read element '%s': %s", name, why);
		}
		display = element_display(q, name);
		oom_context(display);
		n = yaml_load_data(p->a, data.data, data.len, display, err);
		oom_context(NULL);
		directives = has_directives(data.data, data.len);
		free(display);
		buf_release(&data);
	}
	if (!n)
		return -1;
	/* conditionals first, then includes (whose files get their conditionals processed too) */
	if (directives) {
		struct include_ctx ic = {q->a, project_include_loader, q, options_lookup, &q->options, 0, NULL};
		if (compose_conditionals(p->a, n, options_lookup, &q->options, &n, err) ||
		    compose_includes(&ic, n, &n, err))
			return -1;
	}
	if (node_validate(n, element_keys, err))
		return -1;
	if (!node_map_get(n, "kind"))
		return node_error(err, n, "Dictionary did not contain expected key 'kind'");
	if (node_get_str(n, "kind", NULL, &kind, err))
		return -1;
	if (p->nelements >= max_elements())
		return node_error(err, n, "The project has more than %zu elements, the limit (RILL_MAX_ELEMENTS)",
				  max_elements());
	e = arena_alloc(p->a, sizeof(*e));
	e->name = full_name(p, q, name);
	e->local_name = q->junction ? arena_strdup(p->a, name) : e->name;
	e->project = q;
	e->node = n;
	e->kind = kind;
	table_insert(p, e);
	if (extract_deps(p, e, err))
		return -1;
	*out = e;
	return 0;
}

static void finish_element(struct project *p, struct element *e);

/* Whether name exists as a file in q's element path. */
static int element_file_exists(const struct project *q, const char *name)
{
	struct stat st;
	return fstatat(q->element_dirfd, name, &st, 0) == 0 && S_ISREG(st.st_mode);
}

/* Stage the sources of junction element je into a directory of the cache named after their
 * unique keys (reused by later loads), returned in *dir (heap). */
static int stage_junction(struct project *p, struct element *je, char **dir, struct error *err)
{
	struct buf keys = BUF_INIT;
	char hex[65], *tmp, *parent;
	struct stat st;
	size_t i;
	int rc = -1;
	for (i = 0; i < je->nsources; i++)
		buf_addf(&keys, "%s\n%s\n%s\n", je->sources[i].kind,
			 je->sources[i].directory ? je->sources[i].directory : "", je->sources[i].unique_json);
	cachekey_sha256_hex(keys.data ? keys.data : "", keys.len, hex);
	buf_release(&keys);
	parent = xasprintf("%s/junctions", p->cache_dir);
	*dir = xasprintf("%s/%s", parent, hex);
	if (stat(*dir, &st) == 0 && S_ISDIR(st.st_mode)) {
		free(parent);
		return 0;
	}
	tmp = xasprintf("%s/tmp-XXXXXX", parent);
	if (os_mkdir_p(parent, err))
		goto out;
	if (!mkdtemp(tmp)) {
		error_set(err, "cannot create a directory in '%s': %s", parent, strerror(errno));
		goto out;
	}
	if (p->junction_sources->stage(p, je, tmp, err))
		goto out_rm;
	/* another process may have staged the same sources meanwhile: then keep theirs */
	if (rename(tmp, *dir) && errno != ENOTEMPTY && errno != EEXIST) {
		error_set(err, "cannot store the subproject in '%s': %s", *dir, strerror(errno));
		goto out_rm;
	}
	rc = 0;
out_rm:
	os_rm_rf(tmp, NULL);
out:
	free(tmp);
	free(parent);
	if (rc) {
		free(*dir);
		*dir = NULL;
	}
	return rc;
}

/* The junction's config.options with their values expanded in the junction's variables. */
static int junction_options(struct project *p, struct element *je, struct node **out, struct error *err)
{
	struct node *opts;
	size_t i;
	*out = NULL;
	if (node_get_map(je->config, "options", &opts, err))
		return -1;
	if (!opts)
		return 0;
	*out = node_new_map(p->a, opts);
	for (i = 0; i < opts->u.map.n; i++) {
		const struct node_entry *en = &opts->u.map.entries[i];
		const char *v;
		struct node *nv;
		if (en->value->type != NODE_SCALAR) {
			nv = en->value;         /* options_load_yaml_values reports the type */
		} else {
			if (variables_expand_to(je->vars, p->a, en->value, &v, err))
				return -1;
			nv = node_new_str(p->a, en->value, v);
		}
		node_map_put(p->a, *out, en->key, nv);
	}
	return 0;
}

/* Make the sources of junction je available: fetched when the command allows, else the
 * error BuildStream gives. */
static int junction_sources(struct project *p, struct element *je, const char *jname, struct error *err)
{
	if (!p->junction_sources)
		return error_set(err, "Cannot open junction %s: this command does not load subprojects", jname);
	if (je->consistency == CONSISTENCY_INCONSISTENT)
		return error_set(err, "Subproject has no ref for junction: %s\n\nTry tracking the junction element with `rill track %s`",
				 jname, jname);
	if (p->junction_sources->cached(p->cache_dir, je))
		return 0;
	if (!p->fetch_subprojects)
		return error_set(err, "Subproject fetch needed for junction: %s\n\nTry fetching the project with `rill fetch %s`",
				 jname, jname);
	return p->junction_sources->fetch(je->project, je, p->cache_dir, err);
}

/* The subproject behind junction jname as seen from project q, loading it on first use. As
 * in BuildStream, a junction of the same name in an ancestor project takes precedence, and
 * two subprojects may not define the same junction name. level > 0: looking on behalf of a
 * subproject, so a missing file is not an error (NULL without err). */
static struct project *junction_get(struct project *p, struct project *q, const char *jname,
				    const struct dep *from, int level, struct error *err)
{
	struct project *sub;
	struct element *je;
	struct node *opts;
	const char *path;
	char *dir, *subdir;
	if (!p->cache_dir) {
		/* rill show sets no cache directory: the junction's sources are still looked up */
		char *cache = os_cache_dir();
		p->cache_dir = arena_strdup(p->a, cache);
		free(cache);
	}
	if (q->parent) {
		sub = junction_get(p, q->parent, jname, from, level + 1, err);
		if (sub || err->msg)
			return sub;
	}
	for (sub = p->subs; sub; sub = sub->next_sub)
		if (sub->parent == q && strcmp(sub->junction, jname) == 0)
			return sub;
	if (level > 0 && !element_file_exists(q, jname))
		return NULL;
	for (sub = p->subs; sub; sub = sub->next_sub)
		if (strcmp(sub->junction, jname) == 0) {
			error_set(err, "Conflicting junction %s in subprojects, define junction in %s", jname, p->name);
			return NULL;
		}
	je = loader_find(p, full_name(p, q, jname));
	if (!je && load_file(p, q, jname, level ? NULL : from, &je, err))
		return NULL;
	if (strcmp(je->kind, "junction") != 0) {
		error_set(err, "%s: Expected junction but element kind is %s", jname, je->kind);
		return NULL;
	}
	if (!je->kids) {
		/* a leaf of the graph (a target junction is finished again by load_tree) */
		if (je->ndeps) {
			node_error(err, je->node, "Dependencies are forbidden for 'junction' elements");
			return NULL;
		}
		finish_element(p, je);
	}
	if (element_resolve(p, je, err) || junction_sources(p, je, jname, err) ||
	    node_get_str(je->config, "path", "", &path, err) || junction_options(p, je, &opts, err))
		return NULL;
	if (path[0] == '/' || strstr(path, "..")) {
		node_error(err, node_map_get(je->config, "path"),
			   "Junction path '%s' must be relative and inside the junction's sources", path);
		return NULL;
	}
	if (stage_junction(p, je, &dir, err))
		return NULL;
	subdir = *path ? xasprintf("%s/%s", dir, path) : xstrdup(dir);
	sub = project_load_sub(q, subdir, jname, opts, err);
	free(subdir);
	free(dir);
	return sub;
}

struct project *loader_open_junction(struct project *top, struct project *q, const char *jname,
				     struct error *err)
{
	return junction_get(top, q, jname, NULL, 0, err);
}

/* Find or load the element dependency d of an element of project q names, setting d->name. */
static int resolve_dep(struct project *p, struct project *q, struct dep *d, struct element **out,
		       struct error *err)
{
	struct element *child = NULL;
	if (d->junction) {
		q = junction_get(p, q, d->junction, d, 0, err);
		if (!q)
			return -1;
	}
	d->name = q->junction ? full_name(p, q, d->filename) : d->filename;     /* node text: stays */
	child = loader_find(p, d->name);
	if (!child && load_file(p, q, d->filename, d, &child, err))
		return -1;
	if (strcmp(child->kind, "junction") == 0)
		return node_error(err, d->at, "Cannot depend on junction");
	*out = child;
	return 0;
}

/* Iterative depth-first load with cycle detection (state 1 = on stack, 2 = done). */
struct frame {
	struct element *e;
	size_t next;
};

static int report_cycle(struct frame *stack, size_t depth, struct element *again, struct error *err)
{
	struct buf b = BUF_INIT;
	size_t i, start = 0;
	for (i = 0; i < depth; i++)
		if (stack[i].e == again)
			start = i;
	buf_addf(&b, "Circular dependency detected for element: %s\nDependency chain: ", again->name);
	for (i = start; i < depth; i++)
		buf_addf(&b, "%s -> ", stack[i].e->name);
	buf_adds(&b, again->name);
	{
		/* point at the dependency that closes the cycle */
		struct element *last = stack[depth - 1].e;
		const struct dep *d = &last->deps[stack[depth - 1].next - 1];
		node_error(err, d->at, "%s", buf_str(&b));
	}
	buf_release(&b);
	return -1;
}

static int is_runtime(const struct dep *d)
{
	return d->type != DEP_BUILD;
}

static int is_build(const struct dep *d)
{
	return d->type != DEP_RUNTIME;
}

/* What reachability searches read, packed apart from the elements (a search visits hundreds
 * of elements per question; a struct element spans several cache lines, this is one).
 * p->reach[i] belongs to p->elements[i]; written while loading (depth, the first labelling,
 * kids) and by sort_prepare() (the rest), read by the sort, which starts after loading. */
struct reach_node {
	unsigned depth;                 /* longest dependency path to a leaf */
	unsigned post[4], low[4];       /* four DFS post-order interval labels */
	unsigned nkids, nparents;
	const unsigned *kids;           /* dependencies (element indices), in file order */
	const unsigned *parents;        /* reverse dependencies (link_parents) */
};

/* Answers that the labels alone cannot give, made by sort_prepare() and only read after.
 * enter[3 i + k - 1]: how many post-order numbers labelling k (1-3) had given out when its DFS
 * first reached element i; the elements its DFS reached from i's entry to i's exit (i's DFS-tree
 * descendants) got numbers in (enter, post], so a number in there is a definite "reaches".
 * Hubs: the elements with the most reverse dependencies (libc6 in a Debian-shaped graph); for
 * each, a bit per element saying whether it reaches the hub, so a search never walks a hub's
 * thousands of parents. */
struct reach_extra {
	uint64_t *closure;              /* small graphs: n rows of words64 words, bit j of row i set
					 * when i reaches j; then nothing else here is made */
	unsigned *enter;
	int *hub_of;                    /* by element: index into hub_bits, or -1 */
	uint64_t *hub_bits;             /* nhubs rows of words64 words */
	size_t nhubs, words64;
};

/* Up to this many elements the whole transitive closure is kept as bits (at most 64 MiB), and
 * every question is one bit: computing it costs a word per edge and 64 elements, cheaper than
 * searching when lists are wide and the graph dense. Beyond it the graph is big and, when it
 * is sparse like Debian's, the labels, hubs and searches cost less than the bits would. */
#define CLOSURE_MAX 23170
#define HUB_MAX 128             /* hubs kept: 128 bits per element at most */
#define HUB_MIN_PARENTS 32      /* fewer reverse dependencies than this: a search is cheaper */

/* Whether a's labels allow it to reach b: reaching b implies b's post-order interval lies
 * inside a's in every DFS labelling, so a failed test answers "no" at once. */
static int may_reach(const struct reach_node *a, const struct reach_node *b)
{
	return a->depth > b->depth && a->low[0] <= b->low[0] && b->post[0] < a->post[0] &&
	       a->low[1] <= b->low[1] && b->post[1] < a->post[1] && a->low[2] <= b->low[2] &&
	       b->post[2] < a->post[2] && a->low[3] <= b->low[3] && b->post[3] < a->post[3];
}

/* The state of one thread sorting dependencies: its own visit marks (indexed by element),
 * so that sorting threads share nothing they write. */
struct reach {
	const struct reach_node *nodes;
	struct reach_extra *x;
	unsigned *mark;                 /* 2 gen: reached from a; 2 gen + 1: reaches b */
	size_t nmark;                   /* elements the marks cover */
	unsigned gen;
	unsigned *fq, *bq;              /* the two searches' queues */
	size_t fcap, bcap;
	void **order;                   /* sort_deps(): the list being sorted */
	struct dep *copy;
	size_t order_cap, copy_cap;
};

/* Make the marks cover n elements. */
static void reach_cover(struct reach *r, size_t n)
{
	if (n <= r->nmark)
		return;
	r->mark = xrealloc(r->mark, n * sizeof(unsigned));
	memset(r->mark + r->nmark, 0, (n - r->nmark) * sizeof(unsigned));
	r->nmark = n;
}

static void reach_release(struct reach *r)
{
	free(r->mark);
	free(r->fq);
	free(r->bq);
	free(r->order);
	free(r->copy);
}

static int tree_reaches(const struct reach_extra *x, const struct reach_node *a, unsigned ia,
			const struct reach_node *b)
{
	int k;
	for (k = 1; k < 4; k++)
		if (x->enter[3 * ia + k - 1] < b->post[k] && b->post[k] < a->post[k])
			return 1;
	return 0;
}

static int hub_reached_by(const struct reach_extra *x, int hub, unsigned i)
{
	return (x->hub_bits[(size_t)hub * x->words64 + i / 64] >> (i % 64)) & 1;
}

/* a depends on b, transitively, through any dependency type. The labels answer most questions
 * at once: "no" when b's intervals are not inside a's, "yes" when b is a DFS-tree descendant of
 * a, or when b is a hub a is known to reach. The rest: two breadth-first searches, down from a
 * and up from b, each step taken by the side with fewer edges waiting to be scanned, until they
 * meet or one runs out; labels prune both (a node on a path from a to b may be reached from a
 * and may reach b) and a hub met going up answers for every path through it. Runs once loading
 * is done, on a graph no thread changes. */
static int depends_on(struct reach *r, const struct element *ea, const struct element *eb)
{
	const struct reach_node *a = &r->nodes[ea->index], *b = &r->nodes[eb->index];
	const struct reach_extra *x = r->x;
	size_t fh = 0, ft = 0, bh = 0, bt = 0, fwork = 0, bwork = 0, i;
	unsigned fwd, bwd;
	if (x->closure)
		return (x->closure[(size_t)ea->index * x->words64 + eb->index / 64] >> (eb->index % 64)) & 1;
	if (!may_reach(a, b))
		return 0;
	if (tree_reaches(x, a, ea->index, b))
		return 1;
	if (x->hub_of[eb->index] >= 0)
		return hub_reached_by(x, x->hub_of[eb->index], ea->index);
	if (r->gen >= UINT_MAX / 2 - 1) {
		memset(r->mark, 0, r->nmark * sizeof(unsigned));
		r->gen = 0;
	}
	r->gen++;
	fwd = 2 * r->gen;
	bwd = fwd + 1;
	GROW(r->fq, r->fcap, 1);
	GROW(r->bq, r->bcap, 1);
	r->fq[ft++] = ea->index;
	fwork += a->nkids;
	r->mark[ea->index] = fwd;
	r->bq[bt++] = eb->index;
	bwork += b->nparents;
	r->mark[eb->index] = bwd;
	while (fh < ft && bh < bt) {
		if (fwork <= bwork) {
			const struct reach_node *n = &r->nodes[r->fq[fh++]];
			fwork -= n->nkids;
			for (i = 0; i < n->nkids; i++) {
				unsigned y = n->kids[i];
				const struct reach_node *ny = &r->nodes[y];
				if (r->mark[y] == bwd)
					return 1;
				if (r->mark[y] == fwd || !may_reach(ny, b))
					continue;
				if (tree_reaches(x, ny, y, b))
					return 1;
				r->mark[y] = fwd;
				GROW(r->fq, r->fcap, ft + 1);
				r->fq[ft++] = y;
				fwork += ny->nkids;
			}
		} else {
			const struct reach_node *n = &r->nodes[r->bq[bh++]];
			bwork -= n->nparents;
			for (i = 0; i < n->nparents; i++) {
				unsigned y = n->parents[i];
				const struct reach_node *ny = &r->nodes[y];
				if (r->mark[y] == fwd)
					return 1;
				if (r->mark[y] == bwd || !may_reach(a, ny))
					continue;
				if (x->hub_of[y] >= 0) {
					/* every path from a through y is answered by y's row */
					if (hub_reached_by(x, x->hub_of[y], ea->index))
						return 1;
					r->mark[y] = bwd;
					continue;
				}
				if (tree_reaches(x, a, ea->index, ny))
					return 1;
				r->mark[y] = bwd;
				GROW(r->bq, r->bcap, bt + 1);
				r->bq[bt++] = y;
				bwork += ny->nparents;
			}
		}
	}
	return 0;
}

static int dep_cmp(struct reach *r, const struct dep *a, const struct dep *b)
{
	int c;
	if (depends_on(r, a->element, b->element))
		return 1;
	if (depends_on(r, b->element, a->element))
		return -1;
	if (a->type != b->type) {
		if (a->type == DEP_RUNTIME)
			return 1;
		if (b->type == DEP_RUNTIME)
			return -1;
	}
	c = strcmp(a->filename, b->filename);
	if (c)
		return c > 0 ? 1 : -1;
	/* local elements before junction elements, junctions by name */
	if (a->junction && b->junction)
		c = strcmp(a->junction, b->junction);
	else
		c = a->junction ? -1 : b->junction ? 1 : 0;
	return c > 0 ? 1 : c < 0 ? -1 : 0;
}

static int dep_lt(void *ctx, const void *a, const void *b)
{
	return dep_cmp(ctx, a, b) < 0;
}

/* BuildStream's element.deps.sort(key=cmp_to_key(dependency_cmp)): its comparator is not a
 * total order, so only Python's own algorithm, step for step, gives its order (listsort.h). */
static void sort_deps(struct reach *r, struct dep *d, size_t n)
{
	size_t i;
	if (n < 2)
		return;
	GROW(r->order, r->order_cap, n);
	GROW(r->copy, r->copy_cap, n);
	for (i = 0; i < n; i++)
		r->order[i] = &d[i];
	listsort(r->order, n, dep_lt, r);
	for (i = 0; i < n; i++)
		r->copy[i] = *(const struct dep *)r->order[i];
	memcpy(d, r->copy, n * sizeof(*d));
}

/* Called when all of e's dependencies are done: depth and the first post-order label. */
static void finish_element(struct project *p, struct element *e)
{
	struct reach_node *r;
	unsigned *kids = arena_alloc(p->a, (e->ndeps + 1) * sizeof(*kids));
	size_t i;
	unsigned depth = 0;
	e->kids = arena_alloc(p->a, (e->ndeps + 1) * sizeof(*e->kids));
	e->kid_types = arena_alloc(p->a, e->ndeps + 1);
	GROW(p->reach, p->reach_cap, e->index + 1);
	r = &p->reach[e->index];
	r->post[0] = r->low[0] = ++p->post_counter;
	for (i = 0; i < e->ndeps; i++) {
		struct element *d = e->deps[i].element;
		const struct reach_node *dr = &p->reach[d->index];
		e->kids[i] = d;
		e->kid_types[i] = (unsigned char)e->deps[i].type;
		kids[i] = d->index;
		if (d->depth + 1 > depth)
			depth = d->depth + 1;
		if (dr->low[0] < r->low[0])
			r->low[0] = dr->low[0];
	}
	e->depth = r->depth = depth;
	r->nkids = (unsigned)e->ndeps;
	r->kids = kids;
}

/* Every element's reverse dependencies, for the searches up from b. */
static void link_parents(struct project *p)
{
	unsigned *count = xcalloc(p->nelements + 1, sizeof(unsigned)), *all, *fill;
	size_t i, j, total = 0;
	for (i = 0; i < p->nelements; i++) {
		const struct reach_node *x = &p->reach[i];
		for (j = 0; j < x->nkids; j++)
			count[x->kids[j]]++;
		total += x->nkids;
	}
	all = xmalloc((total + 1) * sizeof(unsigned));     /* not the arena: see sort_prepare() */
	GROW(p->heap_blocks, p->heap_blocks_cap, p->nheap_blocks + 1);
	p->heap_blocks[p->nheap_blocks++] = all;
	fill = xcalloc(p->nelements + 1, sizeof(unsigned));
	for (i = 0, total = 0; i < p->nelements; i++) {
		struct reach_node *x = &p->reach[i];
		x->parents = all + total;
		x->nparents = count[i];
		total += count[i];
	}
	for (i = 0; i < p->nelements; i++) {
		const struct reach_node *x = &p->reach[i];
		for (j = 0; j < x->nkids; j++) {
			struct reach_node *k = &p->reach[x->kids[j]];
			((unsigned *)k->parents)[fill[x->kids[j]]++] = (unsigned)i;
		}
	}
	free(fill);
	free(count);
}

/* Labelling k (1-3): another post-order DFS over the whole graph, in another order; enter
 * gets each element's entry count (struct reach_extra). */
static void label_more(struct project *p, int k, unsigned *enter)
{
	struct frame *stack = NULL;
	size_t depth = 0, cap = 0, r;
	unsigned counter = 0;
	unsigned char *seen = xcalloc(p->nelements + 1, 1);    /* by element index */
	for (r = p->nelements; r-- > 0;) {
		struct element *root = p->elements[k == 2 ? p->nelements - 1 - r : r];
		if (seen[root->index])
			continue;
		seen[root->index] = 1;
		enter[3 * root->index + k - 1] = counter;
		GROW(stack, cap, depth + 1);
		stack[depth].e = root;
		stack[depth].next = 0;
		depth++;
		while (depth) {
			struct frame *f = &stack[depth - 1];
			struct element *e = f->e, *c;
			size_t nd = e->ndeps;
			if (f->next == nd) {
				struct reach_node *er = &p->reach[e->index];
				size_t i;
				er->post[k] = er->low[k] = ++counter;
				for (i = 0; i < nd; i++) {
					const struct reach_node *kr = &p->reach[e->kids[i]->index];
					if (kr->low[k] < er->low[k])
						er->low[k] = kr->low[k];
				}
				depth--;
				continue;
			}
			/* 1: children last first; 2, 3: from a child picked by the element's index on */
			if (k == 1)
				c = e->kids[nd - 1 - f->next++];
			else
				c = e->kids[(f->next++ + e->index * (k == 2 ? 7 : 13)) % nd];
			if (seen[c->index])
				continue;
			seen[c->index] = 1;
			enter[3 * c->index + k - 1] = counter;
			GROW(stack, cap, depth + 1);
			stack[depth].e = c;
			stack[depth].next = 0;
			depth++;
		}
	}
	free(seen);
	free(stack);
}

/* What the sort reads beyond the first labelling, which loading made: three more labellings
 * and the reverse dependencies. On the sorting thread for big graphs, so the main thread goes
 * straight on to resolving elements. */
static int by_parents(const void *a, const void *b, void *arg)
{
	const struct reach_node *nodes = arg;
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
	if (nodes[x].nparents != nodes[y].nparents)
		return nodes[x].nparents > nodes[y].nparents ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* The hubs and their rows: a search up from each hub over reverse dependencies. */
static void find_hubs(struct project *p, struct reach_extra *x)
{
	size_t n = p->nelements, i, h, nq;
	unsigned *order = xmalloc((n + 1) * sizeof(unsigned)), *q = xmalloc((n + 1) * sizeof(unsigned));
	x->hub_of = xmalloc((n + 1) * sizeof(int));
	for (i = 0; i < n; i++) {
		order[i] = (unsigned)i;
		x->hub_of[i] = -1;
	}
	qsort_r(order, n, sizeof(unsigned), by_parents, p->reach);
	for (h = 0; h < n && h < HUB_MAX && p->reach[order[h]].nparents >= HUB_MIN_PARENTS; h++)
		;
	x->nhubs = h;
	x->words64 = n / 64 + 1;
	x->hub_bits = xcalloc(h * x->words64 + 1, sizeof(uint64_t));
	for (h = 0; h < x->nhubs; h++) {
		uint64_t *row = x->hub_bits + h * x->words64;
		x->hub_of[order[h]] = (int)h;
		q[0] = order[h];
		nq = 1;
		for (i = 0; i < nq; i++) {
			const struct reach_node *nd = &p->reach[q[i]];
			size_t j;
			for (j = 0; j < nd->nparents; j++) {
				unsigned y = nd->parents[j];
				if ((row[y / 64] >> (y % 64)) & 1)
					continue;
				row[y / 64] |= (uint64_t)1 << (y % 64);
				q[nq++] = y;
			}
		}
	}
	free(q);
	free(order);
}

static int by_post(const void *a, const void *b, void *arg)
{
	const struct reach_node *nodes = arg;
	unsigned x = nodes[*(const unsigned *)a].post[0], y = nodes[*(const unsigned *)b].post[0];
	return x < y ? -1 : x > y;
}

/* Every element's row of the transitive closure, each made from its dependencies' rows, which
 * the first labelling's post-order puts before it. */
static void make_closure(struct project *p, struct reach_extra *x)
{
	size_t n = p->nelements, w = n / 64 + 1, i, j, k;
	unsigned *order = xmalloc((n + 1) * sizeof(unsigned));
	x->words64 = w;
	x->closure = xcalloc(n * w + 1, sizeof(uint64_t));
	for (i = 0; i < n; i++)
		order[i] = (unsigned)i;
	qsort_r(order, n, sizeof(unsigned), by_post, p->reach);
	for (i = 0; i < n; i++) {
		const struct reach_node *nd = &p->reach[order[i]];
		uint64_t *row = x->closure + (size_t)order[i] * w;
		for (j = 0; j < nd->nkids; j++) {
			const uint64_t *kid = x->closure + (size_t)nd->kids[j] * w;
			for (k = 0; k < w; k++)
				row[k] |= kid[k];
			row[nd->kids[j] / 64] |= (uint64_t)1 << (nd->kids[j] % 64);
		}
	}
	free(order);
}

static struct reach_extra *sort_prepare(struct project *p)
{
	struct reach_extra *x = xcalloc(1, sizeof(*x));
	if (p->nelements <= CLOSURE_MAX) {
		make_closure(p, x);
		return x;
	}
	x->enter = xmalloc((3 * p->nelements + 1) * sizeof(unsigned));
	label_more(p, 1, x->enter);
	label_more(p, 2, x->enter);
	label_more(p, 3, x->enter);
	link_parents(p);
	find_hubs(p, x);
	return x;
}

static void reach_extra_free(struct reach_extra *x)
{
	if (!x)
		return;
	free(x->closure);
	free(x->enter);
	free(x->hub_of);
	free(x->hub_bits);
	free(x);
}

#define SORT_PARALLEL_MIN 256  /* below this, a thread costs more than it saves */

/* Sort the dependencies of every element not sorted yet. Only reads the graph. */
static void sort_all(struct project *p)
{
	struct reach r = {.nodes = p->reach};
	size_t i;
	r.x = sort_prepare(p);
	reach_cover(&r, p->nelements);
	for (i = 0; i < p->nelements; i++)
		if (!p->elements[i]->sorted)
			sort_deps(&r, p->elements[i]->deps, p->elements[i]->ndeps);
	reach_release(&r);
	reach_extra_free(r.x);
}

static void *sort_helper(void *arg)
{
	sort_all(arg);
	return NULL;
}

struct sort_state {
	pthread_t helper;
	int threaded;
};

/* Start sorting every new element's dependencies: on a helper thread for big graphs (the
 * caller meanwhile resolves elements, which never looks at dependency order), else later in
 * loader_finish_sort(). */
static void sort_start(struct project *p)
{
	struct sort_state *s;
	if (p->sorting)
		return;
	s = xcalloc(1, sizeof(*s));
	if (p->nelements >= SORT_PARALLEL_MIN && p->threads > 1)
		s->threaded = pthread_create(&s->helper, NULL, sort_helper, p) == 0;
	p->sorting = s;
	p->finish_sort = loader_finish_sort;
}

/* Which of e's runtime dependencies are build dependencies too (Element.dependencies() with
 * Scope.ALL skips them among the runtime ones): those listed with type all, and, when some are
 * listed runtime-only, those also listed elsewhere for build, found by binary search among the
 * build dependencies sorted by address: n log n for a list of 60,000, not n squared. */
static void mark_run_in_build(struct element *e, struct element ***byaddr, size_t *cap)
{
	size_t i, r = 0;
	int runtime_only = 0;
	for (i = 0; i < e->ndeps; i++)
		if (is_runtime(&e->deps[i])) {
			e->run_in_build[r++] = is_build(&e->deps[i]);
			runtime_only |= !is_build(&e->deps[i]);
		}
	if (!runtime_only || !e->nbuild_deps)
		return;
	GROW(*byaddr, *cap, e->nbuild_deps);
	memcpy(*byaddr, e->build_deps, e->nbuild_deps * sizeof(**byaddr));
	qsort(*byaddr, e->nbuild_deps, sizeof(**byaddr), ptr_cmp);
	for (i = 0; i < e->nrun_deps; i++)
		if (!e->run_in_build[i])
			e->run_in_build[i] = bsearch(&e->run_deps[i], *byaddr, e->nbuild_deps,
						     sizeof(**byaddr), ptr_cmp) != NULL;
}

void loader_finish_sort(struct project *p)
{
	struct sort_state *s;
	struct element **next, **byaddr = NULL;
	size_t i, j, byaddr_cap = 0;
	if (p->parent)
		return;         /* subprojects own no graph */
	s = p->sorting;
	if (!s)
		return;
	if (s->threaded)
		pthread_join(s->helper, NULL);
	else
		sort_all(p);
	free(s);
	p->sorting = NULL;
	/* one block of its own, not the project's arena: keys_pipe_worker() runs this while the
	 * main thread allocates. Per element: build_deps and run_deps (ndeps + 1 pointers each),
	 * then run_in_build (ndeps bytes, rounded up to whole pointers) */
	for (i = 0, j = 0; i < p->nelements; i++)
		if (!p->elements[i]->sorted)
			j += 2 * (p->elements[i]->ndeps + 1) + p->elements[i]->ndeps / sizeof(*next) + 1;
	if (!j)
		return;
	next = xmalloc(j * sizeof(*next));
	GROW(p->heap_blocks, p->heap_blocks_cap, p->nheap_blocks + 1);
	p->heap_blocks[p->nheap_blocks++] = next;
	for (i = 0; i < p->nelements; i++) {
		struct element *e = p->elements[i];
		if (e->sorted)
			continue;
		e->sorted = 1;
		e->nbuild_deps = e->nrun_deps = 0;
		e->build_deps = next;
		next += e->ndeps + 1;
		e->run_deps = next;
		next += e->ndeps + 1;
		e->run_in_build = (unsigned char *)next;
		next += e->ndeps / sizeof(*next) + 1;
		for (j = 0; j < e->ndeps; j++) {
			if (is_build(&e->deps[j]))
				e->build_deps[e->nbuild_deps++] = e->deps[j].element;
			if (is_runtime(&e->deps[j]))
				e->run_deps[e->nrun_deps++] = e->deps[j].element;
		}
		mark_run_in_build(e, &byaddr, &byaddr_cap);
	}
	free(byaddr);
}

static int load_tree(struct project *p, struct element *root, struct error *err)
{
	struct frame *stack = NULL;
	size_t depth = 0, cap = 0;
	int rc = 0;
	if (root->state == 2)
		return 0;
	GROW(stack, cap, 1);
	stack[depth].e = root;
	stack[depth].next = 0;
	depth++;
	root->state = 1;
	while (depth) {
		struct frame *f = &stack[depth - 1];
		struct element *e = f->e, *child = NULL;
		struct dep *d;
		if (f->next == e->ndeps) {
			e->state = 2;
			finish_element(p, e);
			GROW(p->topo, p->topo_cap, p->ntopo + 1);
			p->topo[p->ntopo++] = e;
			depth--;
			continue;
		}
		d = &e->deps[f->next++];
		if (resolve_dep(p, e->project, d, &child, err)) {
			rc = -1;
			break;
		}
		d->element = child;
		if (child == e || child->state == 1) {
			rc = report_cycle(stack, depth, child, err);
			break;
		}
		if (child->state == 2)
			continue;
		child->state = 1;
		GROW(stack, cap, depth + 1);
		stack[depth].e = child;
		stack[depth].next = 0;
		depth++;
	}
	free(stack);
	return rc;
}

/* A command line target: "x.bst" or "junction.bst:x.bst". */
static int load_target(struct project *p, const char *target, struct element **out, struct error *err)
{
	const char *colon = strchr(target, ':');
	struct project *q = p;
	char *jname;
	if (colon && strchr(colon + 1, ':'))
		return error_set(err, "Target %s contains multiple `:` in its name. Recursive lookups for cross-junction elements is not allowed.",
				 target);
	if (colon) {
		jname = xstrndup(target, (size_t)(colon - target));
		q = junction_get(p, p, jname, NULL, 0, err);
		free(jname);
		if (!q)
			return -1;
		target = colon + 1;
	}
	*out = loader_find(p, full_name(p, q, target));
	if (!*out && load_file(p, q, target, NULL, out, err))
		return -1;
	return 0;
}

int loader_load(struct project *p, const char *const *targets, size_t ntargets,
		struct element ***out, struct error *err)
{
	struct element **result = xcalloc(ntargets + 1, sizeof(*result));
	size_t i;
	loader_finish_sort(p);  /* an earlier load's sort reads what loading changes */
	for (i = 0; i < ntargets; i++) {
		struct element *e = NULL;
		if (load_target(p, targets[i], &e, err))
			goto fail;
		if (e->state != 2)
			pf_start(p, e);
		if (load_tree(p, e, err))
			goto fail;
		result[i] = e;
	}
	pf_stop(p);
	sort_start(p);
	*out = result;
	return 0;
fail:
	pf_stop(p);
	free(result);
	return -1;
}

/* Staging order, as Element.dependencies(): recursive, dependencies before the element. */
struct walk_frame {
	struct element *e;
	enum scope scope;
	size_t i;           /* next index into the current dependency list */
	int phase;          /* SCOPE_ALL: 0 = build deps, 1 = runtime deps */
	int yield;
	int recursed;
};

static unsigned scope_bits(enum scope s)
{
	return s == SCOPE_ALL ? 3u : s == SCOPE_BUILD ? 1u : 2u;
}

void loader_walk(struct project *p, struct element *const *roots, size_t nroots, enum scope scope,
		 struct element ***list, size_t *n, size_t *cap)
{
	struct walk_frame *stack = NULL;
	size_t depth = 0, scap = 0, r;
	p = project_top(p);     /* job contexts of subproject elements carry the subproject */
	loader_finish_sort(p);
	if (scope == SCOPE_NONE) {
		for (r = 0; r < nroots; r++) {
			GROW(*list, *cap, *n + 1);
			(*list)[(*n)++] = roots[r];
		}
		return;
	}
	/* visited scopes per element live in walk_bits, valid for this walk's generation */
	p->walk_gen++;
	for (r = 0; r < nroots; r++) {
		struct element *root = roots[r];
		unsigned want = scope_bits(scope);
		if (root->walk_gen != p->walk_gen) {
			root->walk_gen = p->walk_gen;
			root->walk_bits = 0;
		}
		if ((root->walk_bits & want) == want)
			continue;
		GROW(stack, scap, depth + 1);
		stack[depth] = (struct walk_frame){root, scope, 0, 0, !root->walk_bits, 0};
		root->walk_bits |= want;
		depth++;
		while (depth) {
			struct walk_frame *f = &stack[depth - 1];
			struct element *e = f->e, *child = NULL;
			enum scope cs = SCOPE_RUN;
			if (f->scope == SCOPE_ALL) {
				if (f->phase == 0) {
					if (f->i < e->nbuild_deps) {
						child = e->build_deps[f->i++];
						cs = SCOPE_ALL;
					} else {
						f->phase = 1;
						f->i = 0;
						continue;
					}
				} else {
					while (f->i < e->nrun_deps) {
						size_t k = f->i++;
						if (!e->run_in_build[k]) {
							child = e->run_deps[k];
							cs = SCOPE_ALL;
							break;
						}
					}
				}
			} else if (f->scope == SCOPE_BUILD) {
				if (f->i < e->nbuild_deps)
					child = e->build_deps[f->i++];
			} else {
				if (f->i < e->nrun_deps)
					child = e->run_deps[f->i++];
			}
			if (child) {
				unsigned want2 = scope_bits(cs);
				int first;
				if (child->walk_gen != p->walk_gen) {
					child->walk_gen = p->walk_gen;
					child->walk_bits = 0;
				}
				first = !child->walk_bits;
				if ((child->walk_bits & want2) == want2)
					continue;
				child->walk_bits |= want2;
				GROW(stack, scap, depth + 1);
				stack[depth] = (struct walk_frame){child, cs, 0, 0, first, 1};
				depth++;
				continue;
			}
			/* done with e */
			if (f->yield && f->scope != SCOPE_BUILD) {
				GROW(*list, *cap, *n + 1);
				(*list)[(*n)++] = e;
			}
			depth--;
		}
	}
	free(stack);
}
