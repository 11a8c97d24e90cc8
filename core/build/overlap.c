/* overlap — the overlap check of element.py stage_dependency_artifacts() in BuildStream 1.6.8:
 * files_written per dependency, `overlaps` in first-seen order, __file_is_whitelisted() and
 * _overlap_error_detail().
 * SPDX-License-Identifier: Apache-2.0 */
#include "build/overlap.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/glob.h"
#include "format/variables.h"

struct event {
	char *path;
	size_t dep;
};

/* One replaced path: the staging positions that wrote it (ascending) while the files of the
 * dependencies are listed, then the elements of bst's overlaps[path]. */
struct replaced {
	const char *path;
	size_t *writers, nwriters, wcap;
	size_t *chain, nchain, ccap;    /* first writer, then each replacing dependency */
	size_t order;                   /* position in bst's OrderedDict; 0: not an overlap */
};

struct overlaps {
	struct event *ev;
	size_t nev, evcap;
};

struct overlaps *overlaps_new(void)
{
	return xcalloc(1, sizeof(struct overlaps));
}

static void clear(struct overlaps *o)
{
	size_t i;
	for (i = 0; i < o->nev; i++)
		free(o->ev[i].path);
	o->nev = 0;
}

void overlaps_free(struct overlaps *o)
{
	if (!o)
		return;
	clear(o);
	free(o->ev);
	free(o);
}

void overlaps_note(struct overlaps *o, const char *path, size_t dep)
{
	GROW(o->ev, o->evcap, o->nev + 1);
	o->ev[o->nev].path = xstrdup(path);
	o->ev[o->nev].dep = dep;
	o->nev++;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

struct lookup {
	struct replaced *r;
	const char **paths;     /* sorted, parallel to r */
	size_t n;
	size_t dep;             /* the dependency being listed */
};

static struct replaced *find(struct lookup *l, const char *path)
{
	const char **hit = bsearch(&path, l->paths, l->n, sizeof(*l->paths), cmp_str);
	return hit ? &l->r[hit - l->paths] : NULL;
}

static void seen(void *sud, const char *path)
{
	struct lookup *l = sud;
	struct replaced *r = find(l, path);
	if (r && (!r->nwriters || r->writers[r->nwriters - 1] != l->dep)) {
		GROW(r->writers, r->wcap, r->nwriters + 1);
		r->writers[r->nwriters++] = l->dep;
	}
}

static void chain_add(struct replaced *r, size_t dep)
{
	GROW(r->chain, r->ccap, r->nchain + 1);
	r->chain[r->nchain++] = dep;
}

/* Python's str.strip() for ASCII whitespace, into the arena. */
static const char *strip(struct arena *a, const char *s)
{
	size_t len;
	while (*s && isspace((unsigned char)*s))
		s++;
	len = strlen(s);
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	return arena_strndup(a, s, len);
}

/* __file_is_whitelisted(): a glob of e's public bst.overlap-whitelist (stripped, then its
 * variables expanded) matches path with or without a leading '/'. 1, 0, or -1 with err. */
static int whitelisted(struct arena *a, struct element *e, const char *path, struct error *err)
{
	const struct node *bst = e->public ? node_map_get(e->public, "bst") : NULL;
	const struct node *list = bst && bst->type == NODE_MAP ? node_map_get(bst, "overlap-whitelist") : NULL;
	char *abs = xasprintf("/%s", path);
	size_t i;
	int rc = 0;
	if (list && list->type != NODE_LIST) {
		node_error(err, list, "Value of 'overlap-whitelist' is not of the expected type 'list'");
		rc = -1;
	}
	for (i = 0; !rc && list && i < list->u.list.n; i++) {
		const struct node *item = list->u.list.items[i];
		struct node tmp;
		const char *glob;
		if (item->type != NODE_SCALAR) {
			rc = node_error(err, item, "Value of 'overlap-whitelist[%zu]' is not of the expected type 'str'", i);
			break;
		}
		tmp = *item;
		tmp.u.scalar.str = strip(a, node_str(item));
		tmp.u.scalar.len = strlen(tmp.u.scalar.str);
		if (variables_expand_to(e->vars, a, &tmp, &glob, err)) {
			rc = -1;
			break;
		}
		if (glob_match(glob, path) || glob_match(glob, abs))
			rc = 1;
	}
	free(abs);
	return rc;
}

/* One line of bst's detail for r, when some replacing element does not whitelist the path. */
static int detail_line(struct arena *a, struct element *const *deps, const struct replaced *r, struct buf *out,
		       struct error *err)
{
	struct buf forbidden = BUF_INIT;
	size_t i, nforbidden = 0;
	for (i = 1; i < r->nchain; i++) {
		int w = whitelisted(a, deps[r->chain[i]], r->path, err);
		if (w < 0) {
			buf_release(&forbidden);
			return -1;
		}
		if (!w) {
			buf_addf(&forbidden, "%s%s", nforbidden ? " and " : "", deps[r->chain[i]]->name);
			nforbidden++;
		}
	}
	if (nforbidden) {
		buf_addf(out, "/%s: %s %s not permitted to overlap other elements, order ", r->path,
			 buf_str(&forbidden), nforbidden == 1 ? "is" : "are");
		for (i = r->nchain; i-- > 0;)
			buf_addf(out, "%s%s", deps[r->chain[i]]->name, i ? " above " : " \n");
	}
	buf_release(&forbidden);
	return nforbidden ? 1 : 0;
}

static int cmp_order(const void *a, const void *b)
{
	const struct replaced *x = *(struct replaced *const *)a, *y = *(struct replaced *const *)b;
	return x->order < y->order ? -1 : x->order > y->order;
}

int overlaps_report(struct overlaps *o, struct arena *scratch, struct element *const *deps, size_t ndeps,
		    overlaps_files_fn files, void *ud, struct buf *detail, struct error *err)
{
	struct lookup l = {0};
	struct replaced **ordered = NULL;
	size_t i, k, norder = 0;
	int rc = 0, any = 0;
	if (!o->nev)
		return 0;
	/* the distinct replaced paths, sorted for lookups */
	l.paths = xmalloc(o->nev * sizeof(*l.paths));
	for (i = 0; i < o->nev; i++)
		l.paths[i] = o->ev[i].path;
	qsort(l.paths, o->nev, sizeof(*l.paths), cmp_str);
	for (i = 0; i < o->nev; i++)
		if (!l.n || strcmp(l.paths[l.n - 1], l.paths[i]))
			l.paths[l.n++] = l.paths[i];
	l.r = xcalloc(l.n, sizeof(*l.r));
	for (i = 0; i < l.n; i++)
		l.r[i].path = l.paths[i];
	/* files_written: which dependencies wrote each of them */
	for (l.dep = 0; l.dep < ndeps && !rc; l.dep++)
		rc = files(ud, l.dep, seen, &l, err);
	/* overlaps[path]: the last dependency that wrote it before the first replacement, then
	 * each replacing one; a replacement of a file no dependency wrote starts nothing */
	for (i = 0; !rc && i < o->nev; i++) {
		struct replaced *r = find(&l, o->ev[i].path);
		if (r->nchain) {
			chain_add(r, o->ev[i].dep);
			continue;
		}
		for (k = r->nwriters; k-- > 0;)
			if (r->writers[k] < o->ev[i].dep)
				break;
		if (k == (size_t)-1)
			continue;
		chain_add(r, r->writers[k]);
		chain_add(r, o->ev[i].dep);
		r->order = ++norder;
	}
	ordered = xmalloc((l.n ? l.n : 1) * sizeof(*ordered));
	for (i = 0, k = 0; i < l.n; i++)
		if (l.r[i].order)
			ordered[k++] = &l.r[i];
	qsort(ordered, k, sizeof(*ordered), cmp_order);
	buf_adds(detail, "Staged files overwrite existing files in staging area:\n");
	for (i = 0; !rc && i < k; i++) {
		int line = detail_line(scratch, deps, ordered[i], detail, err);
		if (line < 0)
			rc = -1;
		any |= line > 0;
	}
	for (i = 0; i < l.n; i++) {
		free(l.r[i].writers);
		free(l.r[i].chain);
	}
	free(ordered);
	free(l.r);
	free(l.paths);
	clear(o);
	return rc ? -1 : any;
}
