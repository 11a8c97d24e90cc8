/* fuzz_variables — %{variable} resolution and expansion. The input is a YAML mapping: its scalar
 * entries are the definitions of a parent scope, a `child:` mapping a scope over it and
 * `expand:` a list of strings to expand in the child. Every path ends in a value or one error
 * naming a file position; expansion stays within the size limit.
 * SPDX-License-Identifier: Apache-2.0 */
#include "fuzz.h"

#include "format/node.h"
#include "format/variables.h"
#include "format/yamlload.h"

#define LIMIT 65536

static int check_err(const struct error *err)
{
	FUZZ_ASSERT(err->msg && err->msg[0], "an error without a message");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int once;
	struct arena *a;
	struct error err = ERROR_INIT;
	struct node *top, *parent_map, *child_map, *expand;
	struct variables *parent, *child;
	size_t i;
	if (!once) {
		setenv("RILL_MAX_EXPANSION", "65536", 1);
		once = 1;
	}
	if (size > 16384)
		return 0;
	a = arena_new();
	top = yaml_load_data(a, (const char *)data, size, "fuzz.bst", &err);
	if (!top)
		goto out;
	child_map = node_map_get(top, "child");
	expand = node_map_get(top, "expand");
	parent_map = node_map_without(a, node_map_without(a, top, "child"), "expand");
	for (i = 0; i < parent_map->u.map.n; i++)
		if (parent_map->u.map.entries[i].value->type != NODE_SCALAR)
			goto out;
	if (child_map && child_map->type != NODE_MAP)
		goto out;
	parent = variables_new(a, NULL, parent_map, &err);
	if (!parent) {
		check_err(&err);
		goto out;
	}
	variables_set(parent, "element-name", "fuzz.bst");
	if (variables_check(parent, &err)) {
		check_err(&err);
		goto out;
	}
	child = variables_new(a, parent, child_map, &err);
	if (!child) {
		check_err(&err);
		goto out;
	}
	if (variables_check(child, &err)) {
		check_err(&err);
		goto out;
	}
	for (i = 0; i < variables_count(child); i++) {
		const char *v = variables_value_at(child, i);
		FUZZ_ASSERT(v != NULL, "'%s' resolved but has no value", variables_name_at(child, i));
		FUZZ_ASSERT(strlen(v) <= LIMIT, "'%s' is %zu bytes, over the limit",
			    variables_name_at(child, i), strlen(v));
		FUZZ_ASSERT(variables_get(child, variables_name_at(child, i)) != NULL, "lookup");
	}
	for (i = 0; expand && expand->type == NODE_LIST && i < expand->u.list.n; i++) {
		const char *out;
		if (variables_expand(child, expand->u.list.items[i], &out, &err) == 0) {
			FUZZ_ASSERT(strlen(out) <= LIMIT, "expansion of %zu bytes", strlen(out));
		} else {
			check_err(&err);
			error_release(&err);
		}
	}
out:
	error_release(&err);
	arena_free(a);
	return 0;
}
