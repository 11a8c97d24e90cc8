/* select — element selections of pipeline commands, as BuildStream's _pipeline.py makes them:
 * the elements `build --track` tracks, with --track-except.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_SELECT_H
#define RILL_SELECT_H

#include "graph/project.h"

/* The tracking selection: every element roots depend on (all scopes, roots included), except
 * the elements of except and whatever only they lead to (BuildStream's except_elements(): the
 * border between an excepted element and the selection is cut, and what is no longer
 * reachable from roots is dropped). sel has p->nelements bytes, indexed by element->index; it
 * receives 1 for each selected element and 0 for the others. */
void select_track(struct project *p, struct element *const *roots, size_t nroots,
		  struct element *const *except, size_t nexcept, unsigned char *sel);

/* The first of elements that is not in the all-scope closure of roots, or NULL. */
struct element *select_outside(struct project *p, struct element *const *roots, size_t nroots,
			       struct element *const *elements, size_t n);

/* BuildStream's build plan of targets (bst show --deps plan, the order of a build): runtime
 * dependencies at the same depth, build dependencies one deeper, then by depth, deepest first
 * (stable). *list is heap, *n elements. Uses the elements' mark and state. */
void select_plan(struct project *p, struct element **targets, size_t nt, struct element ***list, size_t *n);

#endif
