/* variables — BuildStream's %{name} variables: scopes of definitions layered over a shared
 * parent, resolved with memoization that children reuse, and expansion of strings.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_VARIABLES_H
#define RILL_VARIABLES_H

#include <stddef.h>

#include "base/util.h"
#include "format/node.h"

/* A reference is "%{NAME}" with NAME matching [a-zA-Z][a-zA-Z0-9_-]*; there is no escape syntax
 * and text that does not match (e.g. "%{ x}", "%{1a}", an unterminated "%{a") stays literal.
 * Every definition must resolve: a reference to an undefined name, or a cycle, is an error even
 * when nothing uses the variable. Like BuildStream, definition values are stripped of leading
 * and trailing whitespace (Python's str.strip(), incl. Unicode spaces); expanded strings are not.
 * Names are not special here: BuildStream's notparallel -> max-jobs rule and the protected names
 * (project-name, element-name, max-jobs) are the caller's business.
 *
 * Errors (message texts as BuildStream 1.6.8 prints them):
 *   "<prov of the referring value>: Reference to undefined variable 'nope'"
 *   "Circular dependency detected on variable 'y'\n\n"
 *   "    <prov>: Variable 'y' refers to variable 'z'\n"      (one line per step of the cycle,
 *   "    <prov>: Variable 'z' refers to variable 'y'"         no newline after the last)
 * where <prov> is "<file> [line L column C]" of the value node (omitted with its ": " for
 * definitions that have no position, e.g. from variables_set()).
 *
 * Ownership: a scope and everything it returns live in the arena given to variables_new();
 * the map (and every node in it) must outlive the scope, as must the parent.
 * Not thread-safe: the first variables_new() with a given parent prepares that parent (a
 * cached, immutable snapshot of its resolved values that all its children share). */
struct variables;

/* A scope of definitions (name -> scalar node with provenance) layered over parent (may be
 * NULL). map is a NODE_MAP (or NULL for none) whose values must be scalars; a non-scalar value
 * is the error "<prov>: Value of 'k' is not of the expected type 'str'". Returns NULL with err
 * set on error. Nothing is resolved yet (errors of references come from variables_check()). */
struct variables *variables_new(struct arena *a, const struct variables *parent,
				const struct node *map, struct error *err);

/* Add or override one definition (element-name, project-name, max-jobs, ...). name and value
 * are copied; value may contain references. Children created before the call keep seeing the
 * definitions as they were when they were created. */
void variables_set(struct variables *v, const char *name, const char *value);

/* The most bytes a variable's value or an expanded string may have (RILL_MAX_EXPANSION, else
 * 16 MiB): beyond it, resolution and expansion fail with "<prov>: Variable 'x' expands to more
 * than 16 MiB ..." (or "The value ..."). */
size_t variables_max_expansion(void);
/* Make now the snapshot the first variables_new() with v as parent would make, so that children
 * can then be created on several threads at once (nothing else may use v meanwhile). */
void variables_prepare(struct variables *v);
/* Resolve every visible definition; 0, or -1 with the first error (definitions are tried in the
 * order their names first appeared, parent scopes first). */
int variables_check(struct variables *v, struct error *err);

/* The resolved value of name, or NULL when it is not defined or cannot be resolved. */
const char *variables_get(struct variables *v, const char *name);

/* As variables_expand_to() after stripping n's text as Python's str.strip() does (BuildStream's
 * node_subst_member: element environment values). */
int variables_expand_stripped_to(struct variables *v, struct arena *to, const struct node *n, const char **out,
				 struct error *err);
/* Expand the references in scalar n's text, exactly as written (no stripping). n gives the
 * provenance of errors and is not retained (a temporary node is fine). *out is a copy in v's
 * arena. Returns 0, or -1 with err set (also when n is not a scalar). */
int variables_expand(struct variables *v, const struct node *n, const char **out, struct error *err);
/* The same, with *out allocated in arena `to` (e.g. a scratch arena) instead of v's. */
int variables_expand_to(struct variables *v, struct arena *to, const struct node *n, const char **out,
			struct error *err);

/* Every visible (defined) name, child definitions overriding the parent's, sorted by name
 * (byte order); i < variables_count(). The value is the resolved one (NULL if unresolvable).
 * Returned strings live in the arenas of v and its parents. */
size_t variables_count(struct variables *v);
const char *variables_name_at(struct variables *v, size_t i);
const char *variables_value_at(struct variables *v, size_t i);

#endif
