/* element — composition of an element from project, plugin defaults and its own file, the
 * base digest of its cache key (keys.c makes the rest).
 * SPDX-License-Identifier: Apache-2.0 */
#include "graph/element.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format/cachekey.h"
#include "format/compose.h"
#include "format/variables.h"
#include "graph/element-internal.h"
#include "graph/plugin.h"
#include "graph/workspaces.h"

/* Two key schemes share one key dictionary (BuildStream 1.6.8's):
 * - bst keys (--bst-keys): byte-identical to BuildStream 1.6.8's, whose "dependencies" list
 *   names every element of the build scope, so computing all keys costs the sum of all build
 *   scope sizes — quadratic in a deep graph (a layered 60,000-element stack: ~10^9 entries);
 * - rill keys (the default): the dictionary is hashed once with "dependencies": null, and each
 *   key is the hash of that digest followed by each direct build dependency once, as
 *   [name, digest of it and its whole runtime closure]; every change that changes a bst key
 *   changes a rill key, and computing all keys is linear in the number of dependency edges. */
#define BST_ARTIFACT_VERSION "('bst-1.2', 5)"
#define RILL_ARTIFACT_VERSION "rill-1"

/* Keep new (built in scratch memory) in the project arena, sharing every subtree that equals
 * the corresponding part of old (the previous element's result for the kind). */
static struct node *keep_shared(struct resolver *r, const struct node *new, const struct node *old)
{
	struct node *c;
	size_t i;
	if (old && node_equal(new, old))
		return (struct node *)old;
	if (!old || old->type != new->type || new->type == NODE_SCALAR)
		return node_deep_copy(r->a, new);
	c = node_shallow_copy(r->a, new);
	if (new->type == NODE_LIST) {
		for (i = 0; i < c->u.list.n; i++)
			c->u.list.items[i] = keep_shared(r, new->u.list.items[i],
							 i < old->u.list.n ? old->u.list.items[i] : NULL);
		return c;
	}
	for (i = 0; i < c->u.map.n; i++) {
		c->u.map.entries[i].key = arena_strdup(r->a, new->u.map.entries[i].key);
		c->u.map.entries[i].value = keep_shared(r, new->u.map.entries[i].value,
							node_map_get(old, new->u.map.entries[i].key));
	}
	return c;
}

static int resolve_variables(struct project *p, struct resolver *r, struct element *e, struct error *err)
{
	struct node *evars;
	const char *np;
	if (node_get_map(e->node, "variables", &evars, err) || project_check_protected(evars, err))
		return -1;
	if (evars && compose_final_assertions(evars, err))
		return -1;
	e->vars = variables_new(r->a, e->ki->vars, evars ? evars : p->empty, err);
	if (!e->vars)
		return -1;
	variables_set(e->vars, "element-name", e->local_name ? e->local_name : e->name);
	np = variables_get(e->vars, "notparallel");
	if (np) {
		struct node *n = node_map_get(evars, "notparallel");
		int b = 0;
		struct node tmp = {0};
		if (!n) {
			tmp.type = NODE_SCALAR;
			tmp.u.scalar.str = np;
			tmp.u.scalar.len = strlen(np);
			n = &tmp;
		}
		if (node_scalar_bool(n, "notparallel", &b, err))
			return -1;
		if (b)
			variables_set(e->vars, "max-jobs", "1");
	}
	/* as in bst, a junction's variables are not all checked: it is loaded with the first pass
	 * of project.conf, whose variables may refer to what an include through it defines */
	if (strcmp(e->kind, "junction") == 0)
		return 0;
	return variables_check(e->vars, err);
}

static int resolve_environment(struct project *p, struct resolver *r, struct element *e, struct error *err)
{
	struct node *eenv, *env, *out, *nc, *dnc;
	size_t i;
	if (node_get_map(e->node, "environment", &eenv, err) ||
	    compose(r->a, e->ki->environment, eenv, &env, err) || compose_final_assertions(env, err))
		return -1;
	/* expand into scratch memory; most elements of a kind end up with the same environment,
	 * which they then share */
	arena_reset(r->scratch);
	out = node_new_map(r->scratch, env);
	for (i = 0; i < env->u.map.n; i++) {
		const struct node_entry *en = &env->u.map.entries[i];
		const char *v;
		if (en->value->type != NODE_SCALAR)
			return node_error(err, en->value, "Value of '%s' is not of the expected type 'str'", en->key);
		/* BuildStream reads each value with node_subst_member(): stripped, then expanded */
		if (variables_expand_stripped_to(e->vars, r->scratch, en->value, &v, err))
			return -1;
		node_map_put(r->scratch, out, en->key, node_new_str(r->scratch, en->value, v));
	}
	e->ki->env_shared[r->id] = keep_shared(r, out, e->ki->env_shared[r->id]);
	e->environment = e->ki->env_shared[r->id];
	/* nocache: project ∪ plugin defaults ∪ element */
	if (node_get_str_list(e->node, "environment-nocache", &nc, err) ||
	    node_get_str_list(e->ki->defaults, "environment-nocache", &dnc, err))
		return -1;
	e->env_nocache = node_new_list(r->a, NULL);
	{
		struct node *lists[3] = {p->env_nocache, dnc, nc};
		size_t k;
		for (k = 0; k < 3; k++)
			for (i = 0; lists[k] && i < lists[k]->u.list.n; i++)
				node_list_push(r->a, e->env_nocache, lists[k]->u.list.items[i]);
	}
	return 0;
}

static int resolve_public(struct project *p, struct resolver *r, struct element *e, struct error *err)
{
	struct node *pub, *bst, *splits, *merged, *expanded;
	size_t i, j;
	if (node_get_map(e->node, "public", &pub, err))
		return -1;
	pub = pub ? pub : p->empty;
	if (node_get_map(pub, "bst", &bst, err))
		return -1;
	bst = bst ? bst : p->empty;
	arena_reset(r->scratch);
	if (node_get_map(bst, "split-rules", &splits, err) ||
	    compose(r->scratch, e->ki->split_rules ? e->ki->split_rules : p->empty, splits, &merged, err))
		return -1;
	expanded = node_new_map(r->scratch, merged);
	for (i = 0; i < merged->u.map.n; i++) {
		const struct node_entry *d = &merged->u.map.entries[i];
		struct node *l;
		if (d->value->type != NODE_LIST)
			return node_error(err, d->value, "Value of '%s' is not of the expected type 'list'", d->key);
		l = node_new_list(r->scratch, d->value);
		for (j = 0; j < d->value->u.list.n; j++) {
			const struct node *rule = d->value->u.list.items[j];
			const char *s = node_str(rule), *v;
			size_t len;
			struct node tmp;
			if (!s)
				return node_error(err, rule, "List item is not of the expected type 'str'");
			/* BuildStream strips each rule before expanding it */
			while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
				s++;
			len = strlen(s);
			while (len && (s[len - 1] == ' ' || s[len - 1] == '\n' || s[len - 1] == '\t' || s[len - 1] == '\r'))
				len--;
			tmp = *rule;
			tmp.u.scalar.str = arena_strndup(r->scratch, s, len);
			tmp.u.scalar.len = len;
			if (variables_expand_to(e->vars, r->scratch, &tmp, &v, err))
				return -1;
			node_list_push(r->scratch, l, node_new_str(r->scratch, rule, v));
		}
		node_map_put(r->scratch, expanded, d->key, l);
	}
	bst = node_shallow_copy(r->scratch, bst);
	node_map_put(r->scratch, bst, "split-rules", expanded);
	pub = node_shallow_copy(r->scratch, pub);
	node_map_put(r->scratch, pub, "bst", bst);
	if (compose_final_assertions(pub, err))
		return -1;
	/* shared with the previous element of the kind when equal, like the environment */
	e->ki->public_shared[r->id] = keep_shared(r, pub, e->ki->public_shared[r->id]);
	e->public = e->ki->public_shared[r->id];
	return 0;
}

static int expand_member(struct element *e, const struct node *map, const char *key, const char *def,
			 const char **out, struct error *err)
{
	struct node *v = node_map_get(map, key);
	if (!v) {
		*out = def;
		return 0;
	}
	if (v->type != NODE_SCALAR)
		return node_error(err, v, "Value of '%s' is not of the expected type 'str'", key);
	return variables_expand(e->vars, v, out, err);
}

static int parse_id(const struct node *map, const char *key, const char *s, long *out, struct error *err)
{
	char *end;
	*out = strtol(s, &end, 10);
	if (!*s || *end)
		return node_error(err, node_map_get(map, key), "Value of '%s' is not of the expected type 'int'", key);
	return 0;
}

static int resolve_sandbox(struct project *p, struct resolver *r, struct element *e, struct error *err)
{
	static const char *const keys[] = {"build-uid", "build-gid", "build-os", "build-arch", NULL};
	struct node *dsb, *esb, *sb;
	const char *uid, *gid;
	if (node_get_map(e->ki->defaults, "sandbox", &dsb, err) || node_get_map(e->node, "sandbox", &esb, err) ||
	    compose(r->a, p->sandbox ? p->sandbox : p->empty, dsb, &sb, err) || compose(r->a, sb, esb, &sb, err) ||
	    compose_final_assertions(sb, err) || node_validate(sb, keys, err))
		return -1;
	if (expand_member(e, sb, "build-uid", "0", &uid, err) || expand_member(e, sb, "build-gid", "0", &gid, err) ||
	    parse_id(sb, "build-uid", uid, &e->build_uid, err) || parse_id(sb, "build-gid", gid, &e->build_gid, err) ||
	    expand_member(e, sb, "build-os", p->host_os, &e->build_os, err) ||
	    expand_member(e, sb, "build-arch", p->host_arch, &e->build_arch, err))
		return -1;
	e->sandbox = sb;
	return 0;
}

/* The ref a refs file's `projects` map holds for source i of element `name` of project `pname`,
 * or NULL. */
static const struct node *refs_entry(const struct node *projects, const char *pname, const char *name, size_t i)
{
	const struct node *m = node_map_get(projects, pname), *l;
	l = m && m->type == NODE_MAP ? node_map_get(m, name) : NULL;
	if (!l || l->type != NODE_LIST || i >= l->u.list.n || l->u.list.items[i]->type != NODE_MAP)
		return NULL;
	return l->u.list.items[i];
}

/* Where source i of e takes its ref from when not from its own node, as BuildStream's
 * Source._load_ref: the loaded project's refs override a subproject's (when the loaded project
 * keeps refs in project.refs); a project keeping refs in project.refs ignores inline refs.
 * Junction elements' refs live in junction.refs, everything else's in project.refs. Sets
 * *use_file when the inline ref is to be dropped; returns the ref dict, or NULL. */
static const struct node *file_ref(struct project *p, const struct element *e, size_t i, int *use_file)
{
	struct project *top = project_top(p);
	int junction = strcmp(e->kind, "junction") == 0;
	const char *name = e->local_name ? e->local_name : e->name;
	const struct node *r;
	*use_file = 0;
	if (top != p && top->refs_in_project_refs) {
		r = refs_entry(junction ? top->junction_refs : top->refs, p->name, name, i);
		if (r) {
			*use_file = 1;
			return r;
		}
	}
	if (!p->refs_in_project_refs)
		return NULL;
	*use_file = 1;
	return refs_entry(junction ? p->junction_refs : p->refs, p->name, name, i);
}

static int resolve_sources(struct project *p, struct resolver *r, struct element *e, struct error *err)
{
	struct node *list;
	size_t i;
	if (node_get_list(e->node, "sources", &list, err))
		return -1;
	e->consistency = CONSISTENCY_CACHED;
	if (!list)
		return 0;
	e->sources = arena_alloc(r->a, (list->u.list.n + 1) * sizeof(struct source));
	for (i = 0; i < list->u.list.n; i++) {
		struct source *s = &e->sources[e->nsources++];
		struct node *sn = list->u.list.items[i], *ov, *ovc;
		const char *kind, *dir;
		if (sn->type != NODE_MAP)
			return node_error(err, sn, "Value of 'sources' item is not of the expected type 'dict'");
		if (node_get_required_str(sn, "kind", &kind, err) || node_get_str(sn, "directory", NULL, &dir, err))
			return -1;
		s->kind = kind;
		s->directory = dir && *dir ? dir : NULL;
		ov = node_map_get(p->source_overrides, kind);
		if (ov && (node_get_map(ov, "config", &ovc, err) || (ovc && compose(r->a, ovc, sn, &sn, err))))
			return -1;
		{
			int use_file;
			const struct node *ref = file_ref(p, e, i, &use_file);
			if (use_file)
				sn = node_map_without(r->a, sn, "ref");
			if (ref && compose(r->a, sn, ref, &sn, err))
				return -1;
		}
		if (compose_final_assertions(sn, err))
			return -1;
		s->node = sn;
		s->plugin = plugin_load(p, RILL_PLUGIN_SOURCE, kind, node_map_get(sn, "kind"), err);
		if (!s->plugin || plugin_configure_source(p, r, e, s, err))
			return -1;
		if (!s->unique_json)
			e->consistency = CONSISTENCY_INCONSISTENT;
		else if (!s->always_cached && e->consistency == CONSISTENCY_CACHED)
			e->consistency = CONSISTENCY_RESOLVED;
	}
	if (e->nsources) {
		/* an open workspace stands for the sources: cached while its directory is there, and
		 * its files and their times are in the key instead of the sources' */
		struct workspace w;
		int found = workspace_find(p, e->name, &w, err);
		if (found < 0)
			return -1;
		if (found) {
			struct buf key = BUF_INIT;
			e->workspace = w.abs;
			e->workspace_prepared = w.prepared;
			if (access(w.abs, F_OK) != 0) {
				e->consistency = CONSISTENCY_INCONSISTENT;
				e->workspace_key = "\"\"";
			} else {
				if (workspace_key_json(w.abs, &key, err)) {
					buf_release(&key);
					return -1;
				}
				e->consistency = CONSISTENCY_CACHED;
				e->workspace_key = arena_strndup(r->a, buf_str(&key), key.len);
				buf_release(&key);
			}
		}
	}
	return 0;
}

/* Checks of the plugin's flags. Reads kids and kid_types, never deps: another thread may be
 * sorting those. */
static int preflight(struct element *e, struct error *err)
{
	unsigned f = e->ki->plugin->desc->flags;
	const char *k = e->kind;
	size_t i, nbuild = 0, nrun = 0;
	struct element *build = NULL;
	int build_also_runtime = 0;
	for (i = 0; i < e->ndeps; i++) {
		if (e->kid_types[i] != DEP_RUNTIME) {
			nbuild++;
			build = e->kids[i];
		}
		if (e->kid_types[i] != DEP_BUILD)
			nrun++;
	}
	for (i = 0; build && i < e->ndeps; i++)
		if (e->kids[i] == build && e->kid_types[i] != DEP_BUILD)
			build_also_runtime = 1;
	if ((f & RILL_ELEMENT_FORBID_RDEPENDS) && (f & RILL_ELEMENT_FORBID_BDEPENDS) && e->ndeps)
		return node_error(err, e->node, "Dependencies are forbidden for '%s' elements", k);
	if ((f & RILL_ELEMENT_FORBID_RDEPENDS) && nrun)
		return node_error(err, e->node, "Runtime dependencies are forbidden for '%s' elements", k);
	if ((f & RILL_ELEMENT_FORBID_BDEPENDS) && nbuild)
		return node_error(err, e->node, "Build dependencies are forbidden for '%s' elements", k);
	if ((f & RILL_ELEMENT_FORBID_SOURCES) && e->nsources)
		return node_error(err, e->node, "Sources are forbidden for '%s' elements", k);
	if ((f & RILL_ELEMENT_REQUIRE_SOURCES) && !e->nsources)
		return node_error(err, e->node, "An %s element must have at least one source.", k);
	if (f & RILL_ELEMENT_ONE_BUILD_DEP) {
		if (nbuild != 1)
			return node_error(err, e->node, "%s element must have exactly 1 build-dependency, actually have %zu",
					  k, nbuild);
		if (build_also_runtime)
			return node_error(err, e->node, "%s element's build dependency must not also be a runtime dependency", k);
	}
	return 0;
}

static void base_digest(struct project *p, struct resolver *r, struct element *e, char out[65]);

/* element_resolve() with r's memory. */
static int resolve_one_in(struct project *p, struct resolver *r, struct element *e, struct error *err);

/* Resolve e, naming its file if memory runs out meanwhile. */
static int resolve_one(struct project *p, struct resolver *r, struct element *e, struct error *err)
{
	int rc;
	if (e->resolved)
		return 0;
	oom_context(e->node && e->node->file ? e->node->file->name : e->name);
	rc = resolve_one_in(p, r, e, err);
	oom_context(NULL);
	return rc;
}

static int resolve_one_in(struct project *p, struct resolver *r, struct element *e, struct error *err)
{
	struct node *dconf, *econf;
	/* an element of a subproject is composed from its own project's configuration */
	if (e->project)
		p = e->project;
	if (!e->ki)
		e->ki = plugin_kind(p, e->kind, node_map_get(e->node, "kind"), err);
	if (!e->ki || resolve_variables(p, r, e, err) || resolve_environment(p, r, e, err))
		return -1;
	if (node_get_map(e->ki->defaults, "config", &dconf, err) || node_get_map(e->node, "config", &econf, err) ||
	    compose(r->a, dconf ? dconf : p->empty, econf, &e->config, err) ||
	    compose_final_assertions(e->config, err))
		return -1;
	if (resolve_public(p, r, e, err) || resolve_sandbox(p, r, e, err) || resolve_sources(p, r, e, err) ||
	    preflight(e, err))
		return -1;
	if (p->bst_keys || p->debug_keys || e->consistency == CONSISTENCY_INCONSISTENT || e->workspace) {
		/* the dictionary is hashed whole once the dependencies' keys are known */
		if (plugin_configure_element(p, r, e, NULL, err))
			return -1;
	} else {
		/* rill's keys hash the dictionary without dependencies: do it now, and keep 65
		 * bytes instead of the plugin's JSON (a kilobyte for a manual element) */
		if (plugin_configure_element(p, r, e, &r->key_json, err))
			return -1;
		e->key_base = arena_alloc(r->a, 65);
		base_digest(p, r, e, e->key_base);
		e->unique_json = NULL;
	}
	e->resolved = 1;
	return 0;
}

int element_resolve(struct project *p, struct element *e, struct error *err)
{
	struct project *q = e->project ? e->project : p;
	return resolve_one(p, &q->res, e, err);
}

/* The parts of the key dictionary that do not depend on the dependencies, as JSON members
 * (sorted), split around "dependencies": head is everything before it, tail everything after. */
void element_key_parts(struct project *p, struct arena *sa, struct element *e, struct buf *head,
		      struct buf *tail, struct key_cache *kc)
{
	struct node *env, *exec;
	size_t i, j;
	char ver[64], num[32];
	arena_reset(sa);
	env = node_new_map(sa, NULL);
	exec = node_new_map(sa, NULL);
	snprintf(ver, sizeof(ver), "%s.%d", p->bst_keys ? BST_ARTIFACT_VERSION : RILL_ARTIFACT_VERSION,
		 e->ki->plugin->desc->artifact_version);
	buf_adds(head, "{\"artifact-version\":");
	cachekey_json(head, node_new_str(sa, NULL, ver));
	buf_adds(head, ",\"cache\":\"CASCache\",\"context\":\"44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\",");

	buf_adds(tail, ",\"element\":");
	buf_adds(tail, e->unique_json);
	buf_adds(tail, ",\"environment\":");
	if (kc && kc->env == e->environment && node_equal(kc->nocache, e->env_nocache)) {
		buf_add(tail, kc->env_json.data, kc->env_json.len);
	} else {
		for (i = 0; i < e->environment->u.map.n; i++) {
			const struct node_entry *en = &e->environment->u.map.entries[i];
			int skip = 0;
			for (j = 0; j < e->env_nocache->u.list.n && !skip; j++)
				skip = strcmp(node_str(e->env_nocache->u.list.items[j]), en->key) == 0;
			if (!skip)
				node_map_put(sa, env, en->key, en->value);
		}
		if (kc) {
			buf_reset(&kc->env_json);
			cachekey_json(&kc->env_json, env);
			kc->env = e->environment;
			kc->nocache = e->env_nocache;
			buf_add(tail, kc->env_json.data, kc->env_json.len);
		} else {
			cachekey_json(tail, env);
		}
	}
	node_map_put(sa, exec, "arch", node_new_str(sa, NULL, e->build_arch));
	node_map_put(sa, exec, "os", node_new_str(sa, NULL, e->build_os));
	if (e->build_uid) {
		snprintf(num, sizeof(num), "%ld", e->build_uid);
		node_map_put(sa, exec, "build-uid", node_new_kind(sa, SCALAR_INT, num));
	}
	if (e->build_gid) {
		snprintf(num, sizeof(num), "%ld", e->build_gid);
		node_map_put(sa, exec, "build-gid", node_new_kind(sa, SCALAR_INT, num));
	}
	buf_adds(tail, ",\"execution-environment\":");
	cachekey_json(tail, exec);
	buf_adds(tail, ",\"fatal-warnings\":");
	cachekey_json(tail, (e->project ? e->project : p)->fatal_warnings);
	buf_adds(tail, ",\"project\":\"44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\",\"public\":");
	if (kc && kc->public != e->public) {
		buf_reset(&kc->public_json);
		cachekey_json(&kc->public_json, e->public);
		kc->public = e->public;
	}
	if (kc)
		buf_add(tail, kc->public_json.data, kc->public_json.len);
	else
		cachekey_json(tail, e->public);
	buf_adds(tail, ",\"sources\":[");
	for (i = 0; i < e->nsources; i++) {
		buf_adds(tail, i ? ",{\"directory\":" : "{\"directory\":");
		if (e->sources[i].directory) {
			buf_addch(tail, '"');
			cachekey_json_string(tail, e->sources[i].directory);
			buf_addch(tail, '"');
		} else {
			buf_adds(tail, "null");
		}
		if (!e->workspace) {
			buf_adds(tail, ",\"unique\":");
			buf_adds(tail, e->sources[i].unique_json);
		}
		buf_addch(tail, '}');
	}
	buf_addch(tail, ']');
	buf_adds(tail, ",\"workspace\":");
	buf_adds(tail, e->workspace ? e->workspace_key : "\"\"");
	buf_addch(tail, '}');
}

/* Hash the key dictionary: head + "dependencies":<deps, JSON text> + tail. */
void element_hash_dict(struct buf *scratch, const struct buf *head, const char *deps,
		      const struct buf *tail, int debug, char out[65])
{
	buf_reset(scratch);
	buf_add(scratch, head->data, head->len);
	buf_adds(scratch, "\"dependencies\":");
	buf_adds(scratch, deps);
	buf_add(scratch, tail->data, tail->len);
	cachekey_sha256_hex(scratch->data, scratch->len, out);
	if (debug)
		fprintf(stderr, "%s\n", scratch->data);
}

/* The digest of e's dictionary with "dependencies": null, in the project's key scratch space
 * (the resolving thread's: compute_keys() has its own). */
static void base_digest(struct project *p, struct resolver *r, struct element *e, char out[65])
{
	struct buf head = BUF_INIT, tail = BUF_INIT;
	if (!r->key_arena)
		r->key_arena = arena_new();
	element_key_parts(p, r->key_arena, e, &head, &tail, &r->key_cache);
	element_hash_dict(&r->key_scratch, &head, "null", &tail, 0, out);
	buf_release(&head);
	buf_release(&tail);
}

/* Big graphs are resolved on two threads, each taking every other run of RESOLVE_CHUNK
 * elements with its own memory (struct resolver). What the elements share is made ready first,
 * on one thread: their kinds, and the kinds' variable snapshots; plugin loading takes a lock.
 * Each thread stops at its first error; the first in list order is then found again on one
 * thread, so errors and warnings come out exactly as when resolving in order. */
#define RESOLVE_PARALLEL_MIN 512
#define RESOLVE_CHUNK 32

struct resolve_part {
	struct project *p;
	struct resolver *r;
	struct element *const *list;
	size_t limit;                   /* resolve list[0..limit) */
	size_t first;                   /* this part's first chunk: 0 or RESOLVE_CHUNK */
	size_t failed;                  /* where it stopped on an error; SIZE_MAX: it did not */
	struct error err;
};

static void resolve_run(struct resolve_part *rp)
{
	size_t c, i;
	for (c = rp->first; c < rp->limit; c += 2 * RESOLVE_CHUNK)
		for (i = c; i < c + RESOLVE_CHUNK && i < rp->limit; i++) {
			rp->r->current = i;
			if (resolve_one(rp->p, rp->r, rp->list[i], &rp->err)) {
				rp->failed = i;
				return;
			}
		}
}

static void *resolve_helper(void *arg)
{
	resolve_run(arg);
	return NULL;
}

/* Resolve list[0..n) on two threads where that pays; returns how many leading elements are
 * now resolved or known to be fine to resolve in order (the caller resolves the rest, in
 * order, which also reports the first error). */
size_t element_resolve_parallel(struct project *p, struct element *const *list, size_t n)
{
	struct resolver helper = {.id = 1, .collect = 1};
	struct resolve_part parts[2];
	struct error kerr = ERROR_INIT;
	pthread_t thread;
	size_t limit, i, a, b, failed;
	/* the workspaces' state file is read before the threads start */
	{
		struct workspace w;
		struct error werr = ERROR_INIT;
		workspace_find(p, "", &w, &werr);      /* an error is reported in order, later */
		error_release(&werr);
	}
	/* Python plugins are called from one thread only (the interpreter's) */
	if (p->threads < 2 || n < RESOLVE_PARALLEL_MIN || p->python_plugins)
		return 0;
	/* what the threads share, made now: kinds (and their variables' snapshots) */
	for (limit = 0; limit < n; limit++) {
		struct element *e = list[limit];
		if (e->project != p || e->resolved)
			break;          /* subprojects' elements: their projects' memory, in order */
		if (!e->ki) {
			e->ki = plugin_kind(p, e->kind, node_map_get(e->node, "kind"), &kerr);
			if (!e->ki)
				break;  /* resolving in order reports it, after any earlier error */
			variables_prepare(e->ki->vars);
		}
	}
	error_release(&kerr);
	if (limit < RESOLVE_PARALLEL_MIN)
		return 0;
	helper.a = arena_new();
	helper.scratch = arena_new();
	GROW(p->parsed, p->nparsed_cap, p->nparsed + 1);
	p->parsed[p->nparsed++] = helper.a;     /* what the elements keep lives with the project */
	p->res.collect = 1;
	for (i = 0; i < 2; i++) {
		parts[i].p = p;
		parts[i].r = i ? &helper : &p->res;
		parts[i].list = list;
		parts[i].limit = limit;
		parts[i].first = i * RESOLVE_CHUNK;
		parts[i].failed = SIZE_MAX;
		parts[i].err.msg = NULL;
	}
	if (pthread_create(&thread, NULL, resolve_helper, &parts[1]) != 0) {
		p->res.collect = 0;
		arena_free(helper.scratch);
		return 0;
	}
	resolve_run(&parts[0]);
	pthread_join(thread, NULL);
	p->res.collect = 0;
	failed = parts[0].failed < parts[1].failed ? parts[0].failed : parts[1].failed;
	/* the warnings of the elements before the first failure, in list order */
	for (a = b = 0; a < p->res.nwarnings || b < helper.nwarnings;) {
		struct resolver_warning *w;
		if (b == helper.nwarnings ||
		    (a < p->res.nwarnings && p->res.warnings[a].index < helper.warnings[b].index))
			w = &p->res.warnings[a++];
		else
			w = &helper.warnings[b++];
		if (w->index < failed)
			project_warning_text(p, w->text);
		free(w->text);
	}
	p->res.nwarnings = helper.nwarnings = 0;
	for (i = 0; i < 2; i++)
		error_release(&parts[i].err);
	arena_free(helper.scratch);
	helper.scratch = NULL;
	helper.a = NULL;                        /* the project frees it */
	resolver_release(&helper, 0);
	return failed < limit ? failed : limit;
}

/* state_memo bits per element index */
#define MEMO_CACHED_KNOWN 1
#define MEMO_CACHED 2
#define MEMO_CLOSURE_KNOWN 4
#define MEMO_CLOSURE 8

static unsigned char *state_memo(struct project *p)
{
	if (!p->state_memo)
		p->state_memo = xcalloc(p->nelements + 1, 1);
	return p->state_memo;
}

static int is_cached(struct project *p, const struct element *e)
{
	unsigned char *m = &state_memo(p)[e->index];
	if (!(*m & MEMO_CACHED_KNOWN))
		*m |= MEMO_CACHED_KNOWN | (p->artifact_cached(p->artifact_ctx, e) ? MEMO_CACHED : 0);
	return (*m & MEMO_CACHED) != 0;
}

/* e and its whole runtime closure are cached; iterative (runtime chains can be deep). */
static int closure_cached(struct project *p, const struct element *top)
{
	struct frame {
		const struct element *e;
		size_t next;
	} *st = NULL;
	size_t n = 0, cap = 0;
	unsigned char *memo = state_memo(p);
	GROW(st, cap, 1);
	st[n++] = (struct frame){top, 0};
	while (n) {
		struct frame *f = &st[n - 1];
		const struct element *e = f->e;
		unsigned char *m = &memo[e->index];
		if (f->next == 0 && (*m & MEMO_CLOSURE_KNOWN)) {
			n--;
			continue;
		}
		if (f->next == 0 && !is_cached(p, e)) {
			*m |= MEMO_CLOSURE_KNOWN;
			n--;
			continue;
		}
		while (f->next < e->nrun_deps && (memo[e->run_deps[f->next]->index] & MEMO_CLOSURE_KNOWN)) {
			if (!(memo[e->run_deps[f->next]->index] & MEMO_CLOSURE))
				break;
			f->next++;
		}
		if (f->next < e->nrun_deps && (memo[e->run_deps[f->next]->index] & MEMO_CLOSURE_KNOWN)) {
			*m |= MEMO_CLOSURE_KNOWN;  /* a dependency's closure is not cached */
			n--;
			continue;
		}
		if (f->next == e->nrun_deps) {
			*m |= MEMO_CLOSURE_KNOWN | MEMO_CLOSURE;
			n--;
			continue;
		}
		GROW(st, cap, n + 1);
		st[n] = (struct frame){e->run_deps[st[n - 1].next], 0};
		n++;
	}
	free(st);
	return (memo[top->index] & MEMO_CLOSURE) != 0;
}

const char *element_state(struct project *p, const struct element *e)
{
	size_t i;
	struct project *top = project_top(p);
	if (e->consistency == CONSISTENCY_INCONSISTENT)
		return "no reference";
	if (top->artifact_cached && is_cached(top, e))
		return "cached";
	if (e->consistency == CONSISTENCY_RESOLVED)
		return "fetch needed";
	if (!top->artifact_cached)
		return e->nbuild_deps ? "waiting" : "buildable";
	for (i = 0; i < e->nbuild_deps; i++)
		if (!closure_cached(top, e->build_deps[i]))
			return "waiting";
	return "buildable";
}

/* Whether e's key is unknown until a build: an open workspace not built as it is now is in e's
 * build scope (bst computes a workspaced element's key after building it). memo: per element
 * index, 1 unknown, 2 known, 3 for the runtime closure of d below (caller zeroes it). */
static int unstable_run(struct project *top, const struct element *d, unsigned char *memo, unsigned char *run_memo);

static int unstable(struct project *top, const struct element *e, unsigned char *memo, unsigned char *run_memo)
{
	size_t i;
	int r;
	if (memo[e->index])
		return memo[e->index] == 1;
	r = e->workspace && !(top->artifact_cached && is_cached(top, e));
	for (i = 0; !r && i < e->nbuild_deps; i++)
		r = unstable_run(top, e->build_deps[i], memo, run_memo);
	memo[e->index] = r ? 1 : 2;
	return r;
}

static int unstable_run(struct project *top, const struct element *d, unsigned char *memo, unsigned char *run_memo)
{
	size_t i;
	int r;
	if (run_memo[d->index])
		return run_memo[d->index] == 1;
	r = unstable(top, d, memo, run_memo);
	for (i = 0; !r && i < d->nrun_deps; i++)
		r = unstable_run(top, d->run_deps[i], memo, run_memo);
	run_memo[d->index] = r ? 1 : 2;
	return r;
}

int element_key_unstable(struct project *p, const struct element *e)
{
	struct project *top = project_top(p);
	if (!top->workspaces || !top->workspaces->u.map.n)
		return 0;
	if (!top->unstable_memo) {
		top->unstable_memo = arena_alloc(top->a, 2 * (top->nelements + 1));
		memset(top->unstable_memo, 0, 2 * (top->nelements + 1));
	}
	return unstable(top, e, top->unstable_memo, top->unstable_memo + top->nelements + 1);
}
