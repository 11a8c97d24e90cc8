/* loader — loads element files from the targets down, extracts and sorts dependencies the
 * way BuildStream does, detects cycles, and walks the graph in staging order.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_LOADER_H
#define RILL_LOADER_H

#include "graph/project.h"

/* The subproject behind junction jname as seen from project q (a junction of that name in an
 * ancestor project first), loaded on first use: load_params.open_junction. NULL with err. */
struct project *loader_open_junction(struct project *top, struct project *q, const char *jname,
				     struct error *err);

/* Load targets (element names relative to the element path) and everything they depend on.
 * out receives the target elements (caller frees the array); p->topo lists every loaded
 * element after its dependencies. Errors carry file/line/column. An element's deps are in
 * BuildStream's order, and build_deps/run_deps filled, only once loader_finish_sort() has run;
 * until then read kids/kid_types, which never change. */
int loader_load(struct project *p, const char *const *targets, size_t ntargets,
		struct element ***out, struct error *err);

/* loader_load() leaves the dependency sort running on a second thread for big graphs; this
 * finishes it (the calling thread helps) and splits dependencies into build and runtime
 * lists. loader_walk() and keys_resolve_all() call it; project_free() too. Idempotent. */
void loader_finish_sort(struct project *p);

/* Look up a loaded element by name. */
struct element *loader_find(struct project *p, const char *name);

enum scope { SCOPE_ALL, SCOPE_BUILD, SCOPE_RUN, SCOPE_NONE };

/* Append to *list (growing *cap) the elements of `scope` for each root, in BuildStream's
 * deterministic staging order (dependencies first), each element once. SCOPE_NONE lists the
 * roots themselves. The caller frees *list. */
void loader_walk(struct project *p, struct element *const *roots, size_t nroots, enum scope scope,
		 struct element ***list, size_t *n, size_t *cap);

#endif
