/* compose — BuildStream's composition rules on node trees: dict merge, list directives
 * (=) (<) (>), (@) includes, (?) conditionals and (!) assertions.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_COMPOSE_H
#define RILL_COMPOSE_H

#include "format/expr.h"
#include "format/node.h"

/* Composite source onto target (source wins) and store the result in *out. Neither input is
 * modified; unchanged subtrees are shared. target may be NULL (result: source). Errors:
 * "List cannot overwrite value at: ...", "Expected 'T' type for configuration 'a.b', instead
 * received 'U'", "Dictionary contains array composition directives and arbitrary keys". */
int compose(struct arena *a, const struct node *target, const struct node *source,
	    struct node **out, struct error *err);

/* Fail on any list directive left after composition: "Attempt to override non-existing list". */
int compose_final_assertions(const struct node *n, struct error *err);

/* Evaluate every (?) conditional and (!) assertion in tree n (recursively), compositing the
 * fragments whose expression is true. lookup/ctx resolve option names. *out gets the result. */
int compose_conditionals(struct arena *a, const struct node *n, expr_lookup_fn lookup, void *ctx,
			 struct node **out, struct error *err);

/* Loads an include target named `name` (as written after (@)) for a file loaded with context
 * ctx; at is the (@) node for errors. Must return the same tree for the same name (cache it);
 * *path gets a stable identity string for recursion detection, *next_ctx the context the
 * included file's own includes are loaded with. Returns NULL with err set when it cannot be
 * loaded. */
typedef struct node *(*include_load_fn)(void *ctx, const char *name, const struct node *at,
					const char **path, void **next_ctx, struct error *err);

struct include_ctx {
	struct arena *a;
	include_load_fn load;
	void *load_ctx;         /* the context of the top file */
	expr_lookup_fn lookup;  /* options for conditionals inside included files; NULL: skip */
	void *lookup_ctx;
	int only_local;         /* skip junction includes ("junction.bst:file") */
	int *skipped;           /* only_local: set to 1 when one was skipped (may be NULL) */
};

/* Process (@) includes everywhere in n (included files are processed recursively, their
 * conditionals evaluated when ic->lookup is set); *out gets the result. Later includes in a
 * list override earlier ones, and the including node overrides them all. */
int compose_includes(const struct include_ctx *ic, const struct node *n, struct node **out,
		     struct error *err);

#endif
