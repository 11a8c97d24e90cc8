/* keys — resolving a project's elements and computing their cache keys.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_KEYS_H
#define RILL_KEYS_H

#include "graph/project.h"

/* Resolve every element in list (dependencies must appear before dependents, as loader_walk
 * with SCOPE_ALL orders them) and compute their cache keys. */
int keys_resolve_all(struct project *p, struct element *const *list, size_t n, struct error *err);

/* The open workspace of e changed (a build wrote in it): its key part is read again and e's
 * keys computed again, and with dependents those of everything that depends on e. */
int keys_workspace_changed(struct project *p, struct element *e, int dependents, struct error *err);

#endif
