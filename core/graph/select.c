/* select — pipeline selections (tracking with exceptions), following BuildStream 1.6.8's
 * _pipeline.py except_elements() and targets_include().
 * SPDX-License-Identifier: Apache-2.0 */
#include "graph/select.h"

#include <stdlib.h>
#include <string.h>

#include "graph/loader.h"

enum { TARGETED = 1, BORDER = 2, SEEN = 4, REACHED = 8 };

/* Mark every element of the all-scope closure of roots with flag. */
static void mark_closure(struct project *p, struct element *const *roots, size_t nroots,
			 unsigned char *flags, unsigned char flag)
{
	struct element **list = NULL;
	size_t n = 0, cap = 0, i;
	loader_walk(p, roots, nroots, SCOPE_ALL, &list, &n, &cap);
	for (i = 0; i < n; i++)
		flags[list[i]->index] |= flag;
	free(list);
}

/* Depth-first from each start: elements with stop set end the walk there; every element
 * walked gets mark (and stop elements met get hit, when non-zero). */
static void walk(struct element *const *start, size_t nstart, unsigned char *flags, unsigned char stop,
		 unsigned char hit, unsigned char mark, struct element ***stack, size_t *cap)
{
	size_t top = 0, i;
	for (i = 0; i < nstart; i++) {
		GROW(*stack, *cap, top + 1);
		(*stack)[top++] = start[i];
	}
	while (top) {
		struct element *e = (*stack)[--top];
		if (flags[e->index] & mark)
			continue;
		flags[e->index] |= mark;
		if (flags[e->index] & stop) {
			flags[e->index] |= hit;
			continue;
		}
		for (i = 0; i < e->ndeps; i++) {
			GROW(*stack, *cap, top + 1);
			(*stack)[top++] = e->deps[i].element;
		}
	}
}

void select_track(struct project *p, struct element *const *roots, size_t nroots,
		  struct element *const *except, size_t nexcept, unsigned char *sel)
{
	unsigned char *flags = xcalloc(p->nelements ? p->nelements : 1, 1);
	struct element **stack = NULL;
	size_t cap = 0, i;
	mark_closure(p, roots, nroots, flags, TARGETED);
	/* the border: the first selected elements met going down from each excepted one */
	walk(except, nexcept, flags, TARGETED, BORDER, SEEN, &stack, &cap);
	/* what roots still reach without crossing the border */
	for (i = 0; i < nroots; i++)
		if (!(flags[roots[i]->index] & BORDER))
			walk(&roots[i], 1, flags, BORDER, 0, REACHED, &stack, &cap);
	for (i = 0; i < p->nelements; i++)
		sel[i] = (flags[i] & TARGETED) && (flags[i] & REACHED) && !(flags[i] & BORDER);
	free(stack);
	free(flags);
}

struct element *select_outside(struct project *p, struct element *const *roots, size_t nroots,
			       struct element *const *elements, size_t n)
{
	unsigned char *flags = xcalloc(p->nelements ? p->nelements : 1, 1);
	struct element *out = NULL;
	size_t i;
	mark_closure(p, roots, nroots, flags, TARGETED);
	for (i = 0; i < n && !out; i++)
		if (!(flags[elements[i]->index] & TARGETED))
			out = elements[i];
	free(flags);
	return out;
}

/* BuildStream's build plan: runtime deps at the same depth, build deps one deeper, then
 * sorted by depth, deepest first (stable). */
struct planner {
	struct element **order;
	int *depth;
	size_t n, cap;
};

static void plan_element(struct project *p, struct planner *pl, struct element *e, int depth)
{
	size_t i;
	if (e->state == 3)
		return;
	if (e->mark && pl->depth[e->mark - 1] >= depth)
		return;
	e->state = 3;
	for (i = 0; i < e->nrun_deps; i++)
		plan_element(p, pl, e->run_deps[i], depth);
	for (i = 0; i < e->nbuild_deps; i++)
		plan_element(p, pl, e->build_deps[i], depth + 1);
	if (!e->mark) {
		GROW(pl->order, pl->cap, pl->n + 1);
		pl->depth = xrealloc(pl->depth, pl->cap * sizeof(int));
		pl->order[pl->n] = e;
		e->mark = (unsigned)++pl->n;
	}
	pl->depth[e->mark - 1] = depth;
	e->state = 2;
}

void select_plan(struct project *p, struct element **targets, size_t nt, struct element ***list, size_t *n)
{
	struct planner pl = {0};
	size_t i, j, k = 0;
	int maxd = 0;
	for (i = 0; i < p->nelements; i++)
		p->elements[i]->mark = 0;
	for (i = 0; i < nt; i++)
		plan_element(p, &pl, targets[i], 0);
	for (i = 0; i < pl.n; i++)
		if (pl.depth[i] > maxd)
			maxd = pl.depth[i];
	/* deepest first, stable: a counting sort by depth (one pass per depth would be quadratic
	 * for a long chain) */
	{
		size_t *start = xcalloc((size_t)maxd + 2, sizeof(size_t));
		for (i = 0; i < pl.n; i++)
			start[maxd - pl.depth[i] + 1]++;
		for (j = 1; j <= (size_t)maxd + 1; j++)
			start[j] += start[j - 1];
		*list = xmalloc((pl.n + 1) * sizeof(**list));
		for (i = 0; i < pl.n; i++)
			(*list)[start[maxd - pl.depth[i]]++] = pl.order[i];
		k = pl.n;
		free(start);
	}
	*n = k;
	free(pl.order);
	free(pl.depth);
}
