/* element — per-element composition (variables, environment, config, public, sandbox,
 * sources), plugin configuration and cache keys (weak and strict, as BuildStream 1.x).
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_ELEMENT_H
#define RILL_ELEMENT_H

#include "graph/project.h"

/* Compose and configure e (idempotent). Errors carry the element's file/line/column. */
int element_resolve(struct project *p, struct element *e, struct error *err);


/* The human state BuildStream's show prints: "no reference"; "cached" (p->artifact_cached);
 * "fetch needed"; "buildable" when every element of its build scope (the build dependencies
 * and their runtime closures) is cached; else "waiting". */
const char *element_state(struct project *p, const struct element *e);
/* 1 when e's key is only known after a build (an open workspace not built as it is now in its
 * build scope): bst shows it as question marks. */
int element_key_unstable(struct project *p, const struct element *e);

#endif
