/* fuzz_yaml — the YAML loader with provenance, then what the loader does with a tree:
 * includes, (?) conditionals, composition and list directives. The input is up to four files
 * separated by lines "%%%" (f0 is the element, f1..f3 what `(@)` may name). Invariants:
 *   - an error names the file, with its line and column where libyaml gives one;
 *   - a loaded tree written back by yamldump loads again to an equal tree;
 *   - includes, conditionals and composition end in a tree or one error (include loops,
 *     bombs and deep nesting included).
 * SPDX-License-Identifier: Apache-2.0 */
#include "fuzz.h"

#include "format/compose.h"
#include "format/node.h"
#include "format/yamldump.h"
#include "format/yamlload.h"

#define NFILES 4

struct files {
	struct arena *a;
	const char *text[NFILES];
	size_t len[NFILES];
	struct node *tree[NFILES];
	int loaded[NFILES];
	int n;                  /* files in the input */
};

static const char *const names[NFILES] = {"f0", "f1", "f2", "f3"};

static void check_error(const struct error *err, const char *name)
{
	FUZZ_ASSERT(err->msg && strncmp(err->msg, name, strlen(name)) == 0,
		    "the error does not name the file %s: %s", name, err->msg ? err->msg : "(none)");
}

static struct node *load(struct files *f, int i, struct error *err)
{
	if (!f->loaded[i]) {
		f->loaded[i] = 1;
		f->tree[i] = yaml_load_data(f->a, f->text[i], f->len[i], names[i], err);
		if (!f->tree[i])
			check_error(err, names[i]);
	}
	if (!f->tree[i] && !err->msg)
		error_set(err, "%s: does not load", names[i]);
	return f->tree[i];
}

static struct node *inc_load(void *ctx, const char *name, const struct node *at, const char **path,
			     void **next_ctx, struct error *err)
{
	struct files *f = ctx;
	int i;
	*next_ctx = ctx;
	for (i = 1; i < f->n; i++)
		if (strcmp(name, names[i]) == 0) {
			*path = names[i];
			return load(f, i, err);
		}
	node_error(err, at, "Could not find file at %s", name);
	return NULL;
}

/* bst's emitter, which yamldump follows, loses a space where it folds a long line and writes
 * NEL as a break: trees with long or NEL-holding scalars need only dump to valid YAML. */
static int exact(const struct node *n)
{
	size_t i;
	if (n->type == NODE_SCALAR)
		return n->u.scalar.len < 60 && !memmem(node_str(n), n->u.scalar.len, "\xc2\x85", 2);
	if (n->type == NODE_LIST) {
		for (i = 0; i < n->u.list.n; i++)
			if (!exact(n->u.list.items[i]))
				return 0;
		return 1;
	}
	for (i = 0; i < n->u.map.n; i++)
		if (strlen(n->u.map.entries[i].key) >= 60 || strstr(n->u.map.entries[i].key, "\xc2\x85") ||
		    !exact(n->u.map.entries[i].value))
			return 0;
	return 1;
}

static void roundtrip(struct arena *a, const struct node *tree)
{
	struct buf b;
	struct error err = ERROR_INIT;
	struct node *again;
	buf_init(&b);
	yamldump(tree, &b);
	again = yaml_load_data(a, buf_str(&b), b.len, "dumped", &err);
	FUZZ_ASSERT(again, "yamldump wrote YAML that does not load: %s\n%s", err.msg, buf_str(&b));
	FUZZ_ASSERT(!exact(tree) || node_equal(tree, again), "yamldump changed the tree:\n%s", buf_str(&b));
	buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct files f;
	struct error err = ERROR_INIT;
	struct node *top, *out, *cond, *composed;
	const char *p = (const char *)data, *end = p + size;
	int n = 0;
	if (size > 65536)
		return 0;
	memset(&f, 0, sizeof(f));
	f.a = arena_new();
	while (n < NFILES) {
		const char *sep = n < NFILES - 1 ? memmem(p, (size_t)(end - p), "\n%%%\n", 5) : NULL;
		f.text[n] = p;
		f.len[n] = sep ? (size_t)(sep - p) + 1 : (size_t)(end - p);
		n++;
		if (!sep)
			break;
		p = sep + 5;
	}
	f.n = n;
	top = load(&f, 0, &err);
	if (!top)
		goto out;
	roundtrip(f.a, top);
	{
		struct include_ctx ic = {f.a, inc_load, &f, fuzz_lookup, NULL, 0, NULL};
		if (compose_includes(&ic, top, &out, &err))
			goto out;
	}
	if (compose_conditionals(f.a, out, fuzz_lookup, NULL, &cond, &err))
		goto out;
	roundtrip(f.a, cond);
	/* the tree over itself and over the first include, as element over defaults */
	if (compose(f.a, f.tree[1] && f.tree[1]->type == NODE_MAP ? f.tree[1] : NULL, cond, &composed, &err))
		goto out;
	if (compose_final_assertions(composed, &err))
		goto out;
	roundtrip(f.a, composed);
out:
	if (err.msg)
		FUZZ_ASSERT(err.msg[0], "an empty error message");
	error_release(&err);
	arena_free(f.a);
	return 0;
}
