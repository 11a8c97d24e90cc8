/* keys — resolving a project's elements and computing their cache keys (weak and strict; rill's
 * own or, with --bst-keys, BuildStream 1.6.8's), on two threads for big graphs. The key
 * schemes are described in element.c and docs/cachekeys.md.
 * SPDX-License-Identifier: Apache-2.0 */
#include "graph/keys.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/cachekey.h"
#include "graph/element-internal.h"
#include "graph/element.h"
#include "graph/loader.h"
#include "graph/plugin.h"
#include "graph/workspaces.h"

/* Append s as a JSON string to a list being built; index > 0 adds the separating comma. */
static void buf_addstr_json(struct buf *b, size_t index, const char *s)
{
	if (index)
		buf_addch(b, ',');
	buf_addch(b, '"');
	cachekey_json_string(b, s);
	buf_addch(b, '"');
}

/* The elements e lists as strict dependencies, sorted by address for is_strict_dep(); NULL
 * (and *n 0) when there are none, as almost always. Caller frees. */
static const struct element **strict_deps(const struct element *e, size_t *n)
{
	const struct element **v = NULL;
	size_t i, cap = 0;
	*n = 0;
	for (i = 0; i < e->ndeps; i++)
		if (e->deps[i].strict) {
			GROW(v, cap, *n + 1);
			v[(*n)++] = e->deps[i].element;
		}
	if (*n > 1)
		qsort(v, *n, sizeof(*v), ptr_cmp);
	return v;
}

/* Whether d is one of the n strict dependencies of strict_deps(): a binary search, so a list
 * of 60,000 dependencies costs n log n, not n squared. */
static int is_strict_dep(const struct element *const *strict, size_t n, const struct element *d)
{
	return n && bsearch(&d, strict, n, sizeof(*strict), ptr_cmp) != NULL;
}

/* Hash "<self>" followed by the closure digests of e's runtime deps (which=0 strict, 1 weak,
 * 2 names) into out. */
static void closure_digest(struct element *e, int which, struct buf *scratch, char out[65])
{
	size_t i;
	buf_reset(scratch);
	buf_adds(scratch, which == 0 ? e->strict_key : which == 1 ? e->weak_key : e->name);
	for (i = 0; i < e->nrun_deps; i++) {
		struct element *r = e->run_deps[i];
		buf_addch(scratch, ',');
		buf_adds(scratch, which == 0 ? r->run_strict : which == 1 ? r->run_weak : r->run_names);
	}
	cachekey_sha256_hex(scratch->data, scratch->len, out);
}


/* Hash "<base digest><deps, a JSON list>". */
static void hash_digest_deps(struct buf *scratch, const char base[65], const struct buf *deps, char out[65])
{
	buf_reset(scratch);
	buf_adds(scratch, base);
	buf_add(scratch, deps->data, deps->len);
	cachekey_sha256_hex(scratch->data, scratch->len, out);
}

static void compute_keys(struct project *p, struct arena *sa, struct element *e, struct buf *scratch,
			 struct element ***list, size_t *cap)
{
	struct buf head = BUF_INIT, tail = BUF_INIT, weak = BUF_INIT, strict = BUF_INIT;
	size_t n = 0, i, nstrict;
	const struct element **strict_list = strict_deps(e, &nstrict);
	int strict_rebuild = (e->ki->plugin->desc->flags & RILL_ELEMENT_STRICT_REBUILD) != 0;
	e->keys_done = 1;
	e->weak_key[0] = e->strict_key[0] = '\0';
	e->run_strict[0] = e->run_weak[0] = e->run_names[0] = '\0';
	if (e->consistency == CONSISTENCY_INCONSISTENT)
		goto out;
	buf_addch(&weak, '[');
	buf_addch(&strict, '[');
	if (p->bst_keys) {
		/* every element of the build scope, in staging order */
		loader_walk(p, &e, 1, SCOPE_BUILD, list, &n, cap);
		for (i = 0; i < n; i++) {
			struct element *d = (*list)[i];
			if (!d->strict_key[0])
				goto out;
			/* BuildStream names a dependency by its name within its own project */
			buf_addstr_json(&weak, i, strict_rebuild || is_strict_dep(strict_list, nstrict, d) ? d->weak_key
					: d->local_name ? d->local_name : d->name);
			buf_addstr_json(&strict, i, d->strict_key);
		}
	} else {
		/* each direct build dependency with the digest of its runtime closure */
		for (i = 0; i < e->nbuild_deps; i++) {
			struct element *d = e->build_deps[i];
			if (!d->run_strict[0])
				goto out;       /* something in d's runtime closure has no key */
			buf_adds(&weak, i ? ",[" : "[");
			buf_addstr_json(&weak, 0, d->name);
			buf_addstr_json(&weak, 1, strict_rebuild || is_strict_dep(strict_list, nstrict, d) ? d->run_weak : d->run_names);
			buf_addch(&weak, ']');
			buf_adds(&strict, i ? ",[" : "[");
			buf_addstr_json(&strict, 0, d->name);
			buf_addstr_json(&strict, 1, d->run_strict);
			buf_addch(&strict, ']');
		}
	}
	buf_addch(&weak, ']');
	buf_addch(&strict, ']');
	if (!e->key_base)
		element_key_parts(p, sa, e, &head, &tail, NULL);
	if (p->bst_keys) {
		element_hash_dict(scratch, &head, weak.data, &tail, p->debug_keys, e->weak_key);
		element_hash_dict(scratch, &head, strict.data, &tail, p->debug_keys, e->strict_key);
	} else {
		/* the dictionary with "dependencies": null is hashed once; each key is the hash of
		 * that digest followed by its dependency list */
		char base[65];
		if (e->key_base)
			memcpy(base, e->key_base, sizeof(base));
		else
			element_hash_dict(scratch, &head, "null", &tail, p->debug_keys, base);
		hash_digest_deps(scratch, base, &weak, e->weak_key);
		hash_digest_deps(scratch, base, &strict, e->strict_key);
	}
	if (!p->bst_keys) {
		for (i = 0; i < e->nrun_deps; i++)
			if (!e->run_deps[i]->run_strict[0])
				goto out;
		closure_digest(e, 0, scratch, e->run_strict);
		closure_digest(e, 1, scratch, e->run_weak);
		closure_digest(e, 2, scratch, e->run_names);
	}
out:
	free(strict_list);
	buf_release(&head);
	buf_release(&tail);
	buf_release(&weak);
	buf_release(&strict);
}

/* Keys of a big graph are computed on two threads, one dependency depth at a time: elements of
 * equal depth never depend on each other. (BuildStream keys walk the graph with shared marks,
 * so they stay on one thread.) */
#define KEYS_PARALLEL_MIN 256
#define KEYS_CHUNK 64

struct keys_job {
	struct project *p;
	struct element **order;         /* the elements grouped by depth */
	size_t *level_start;            /* nlevels + 1 offsets into order */
	size_t nlevels;
	atomic_size_t *next;            /* per level: the next unclaimed element */
	pthread_barrier_t level_done;
};

static void *keys_worker(void *arg)
{
	struct keys_job *j = arg;
	struct arena *sa = arena_new();
	struct buf scratch = BUF_INIT;
	struct element **tmp = NULL;
	size_t cap = 0, lvl, i;
	for (lvl = 0; lvl < j->nlevels; lvl++) {
		size_t hi = j->level_start[lvl + 1], start;
		while ((start = j->level_start[lvl] + atomic_fetch_add(&j->next[lvl], KEYS_CHUNK)) < hi) {
			size_t end = start + KEYS_CHUNK < hi ? start + KEYS_CHUNK : hi;
			for (i = start; i < end; i++)
				compute_keys(j->p, sa, j->order[i], &scratch, &tmp, &cap);
		}
		pthread_barrier_wait(&j->level_done);
	}
	free(tmp);
	buf_release(&scratch);
	arena_free(sa);
	return NULL;
}

/* Returns 0 when done on two threads, -1 when the caller should compute keys itself. */
static int keys_parallel(struct project *p, struct element *const *list, size_t n)
{
	struct keys_job j;
	pthread_t helper;
	size_t i, maxd = 0, *count;
	int rc = -1;
	if (p->bst_keys || p->threads < 2 || n < KEYS_PARALLEL_MIN)
		return -1;
	for (i = 0; i < n; i++)
		if (list[i]->depth > maxd)
			maxd = list[i]->depth;
	j.p = p;
	j.nlevels = maxd + 1;
	j.level_start = xcalloc(j.nlevels + 1, sizeof(size_t));
	j.next = xcalloc(j.nlevels, sizeof(atomic_size_t));
	j.order = xmalloc(n * sizeof(*j.order));
	count = xcalloc(j.nlevels + 1, sizeof(size_t));
	for (i = 0; i < n; i++)
		count[list[i]->depth + 1]++;
	for (i = 1; i <= j.nlevels; i++)
		j.level_start[i] = j.level_start[i - 1] + count[i];
	memcpy(count, j.level_start, (j.nlevels + 1) * sizeof(size_t));
	for (i = 0; i < n; i++)
		j.order[count[list[i]->depth]++] = list[i];
	for (i = 0; i < j.nlevels; i++)
		atomic_init(&j.next[i], 0);
	if (pthread_barrier_init(&j.level_done, NULL, 2) == 0) {
		if (pthread_create(&helper, NULL, keys_worker, &j) == 0) {
			keys_worker(&j);
			pthread_join(helper, NULL);
			rc = 0;
		}
		pthread_barrier_destroy(&j.level_done);
	}
	free(count);
	free(j.order);
	free(j.next);
	free(j.level_start);
	return rc;
}

/* On big graphs keys are computed behind the resolving thread, by a helper that first waits
 * for the dependency sort (keys list dependencies in staging order), then takes the elements in
 * the order they are resolved, each after its dependencies. When resolving is over, the keys
 * still to compute are shared by both threads (keys_parallel). */
struct keys_pipe {
	struct project *p;
	struct element *const *list;
	size_t resolved;                /* elements of list resolved so far */
	size_t done;                    /* the helper computed the keys of list[0..done) */
	int stop;                       /* resolving is over: the helper stops where it is */
	pthread_mutex_t mu;
	pthread_cond_t more;
	pthread_t thread;
};

#define KEYS_PIPE_NOTIFY 64     /* elements resolved between two wakeups of the helper */

static void *keys_pipe_worker(void *arg)
{
	struct keys_pipe *kp = arg;
	struct arena *sa = arena_new();
	struct buf scratch = BUF_INIT;
	struct element **tmp = NULL;
	size_t cap = 0, i = 0, avail = 0;
	loader_finish_sort(kp->p);
	for (;;) {
		if (i == avail) {
			pthread_mutex_lock(&kp->mu);
			kp->done = i;
			while (!kp->stop && kp->resolved == i)
				pthread_cond_wait(&kp->more, &kp->mu);
			avail = kp->stop ? i : kp->resolved < i + KEYS_PIPE_NOTIFY ? kp->resolved : i + KEYS_PIPE_NOTIFY;
			pthread_mutex_unlock(&kp->mu);
			if (i == avail)
				break;
		}
		if (!kp->list[i]->keys_done)
			compute_keys(kp->p, sa, kp->list[i], &scratch, &tmp, &cap);
		i++;
	}
	free(tmp);
	buf_release(&scratch);
	arena_free(sa);
	return NULL;
}

/* Elements 0..n of the list are resolved (n = SIZE_MAX: resolving is over). */
static void keys_pipe_publish(struct keys_pipe *kp, size_t n)
{
	pthread_mutex_lock(&kp->mu);
	if (n == SIZE_MAX)
		kp->stop = 1;
	else
		kp->resolved = n;
	pthread_cond_signal(&kp->more);
	pthread_mutex_unlock(&kp->mu);
}

int keys_resolve_all(struct project *p, struct element *const *list, size_t n, struct error *err)
{
	struct buf scratch = BUF_INIT;
	struct element **tmp = NULL;
	struct keys_pipe kp;
	size_t cap = 0, i, from = 0;
	int piped = 0, rc = 0;
	size_t done = element_resolve_parallel(p, list, n);
	if (done) {
		/* the rest in order; then keys on two threads (the resolving threads hashed the
		 * dictionaries already) */
		for (i = done; i < n && !rc; i++)
			rc = element_resolve(p, list[i], err);
	} else if (!p->bst_keys && p->threads > 1 && n >= KEYS_PARALLEL_MIN) {
		memset(&kp, 0, sizeof(kp));
		kp.p = p;
		kp.list = list;
		pthread_mutex_init(&kp.mu, NULL);
		pthread_cond_init(&kp.more, NULL);
		piped = pthread_create(&kp.thread, NULL, keys_pipe_worker, &kp) == 0;
		if (!piped) {
			pthread_cond_destroy(&kp.more);
			pthread_mutex_destroy(&kp.mu);
		}
	}
	for (i = 0; i < n && !rc && !done; i++) {
		rc = element_resolve(p, list[i], err);
		if (piped && !rc && (i + 1) % KEYS_PIPE_NOTIFY == 0)
			keys_pipe_publish(&kp, i + 1);
	}
	if (piped) {
		if (!rc)
			keys_pipe_publish(&kp, n);
		keys_pipe_publish(&kp, SIZE_MAX);
		pthread_join(kp.thread, NULL);
		from = kp.done;
		pthread_cond_destroy(&kp.more);
		pthread_mutex_destroy(&kp.mu);
	}
	/* keys follow the dependency order */
	loader_finish_sort(p);
	if (rc)
		return -1;
	for (i = from; i < n && list[i]->keys_done; i++)
		;
	if (i < n && keys_parallel(p, list + i, n - i) != 0)
		for (; i < n; i++)
			if (!list[i]->keys_done)
				compute_keys(p, p->scratch, list[i], &scratch, &tmp, &cap);
	free(tmp);
	buf_release(&scratch);
	return 0;
}

int keys_workspace_changed(struct project *p, struct element *e, int dependents, struct error *err)
{
	struct buf key = BUF_INIT, scratch = BUF_INIT;
	struct arena *sa;
	struct element **tmp = NULL, **list = NULL, *top = e;
	unsigned char *changed = NULL;
	size_t cap = 0, lcap = 0, n = 0, i, j;
	struct project *owner = e->project ? e->project : p;
	if (!e->workspace)
		return 0;
	if (workspace_key_json(e->workspace, &key, err)) {
		buf_release(&key);
		return -1;
	}
	e->workspace_key = arena_strndup(owner->a, buf_str(&key), key.len);
	buf_release(&key);
	sa = arena_new();
	compute_keys(p, sa, e, &scratch, &tmp, &cap);
	if (dependents) {
		/* everything whose key covers e: its dependents, dependencies first */
		loader_walk(p, p->elements, p->nelements, SCOPE_ALL, &list, &n, &lcap);
		changed = xcalloc(p->nelements + 1, 1);
		changed[top->index] = 1;
		for (i = 0; i < n; i++) {
			struct element *x = list[i];
			int hit = 0;
			for (j = 0; j < x->ndeps && !hit; j++)
				hit = changed[x->deps[j].element->index];
			if (hit && x != top) {
				compute_keys(p, sa, x, &scratch, &tmp, &cap);
				changed[x->index] = 1;
			}
		}
	}
	free(changed);
	free(list);
	free(tmp);
	buf_release(&scratch);
	arena_free(sa);
	return 0;
}
