/* test_yaml — the YAML loader: provenance, strings, errors on malformed input.
 * SPDX-License-Identifier: Apache-2.0 */
#include "test.h"

#include "format/node.h"
#include "format/yamlload.h"

static struct arena *A;

static struct node *load(const char *s, struct error *err)
{
	return yaml_load_data(A, s, strlen(s), "t.bst", err);
}

static void provenance_and_strings(void)
{
	struct error err = ERROR_INIT;
	struct node *n = load("kind: manual\nvariables:\n  a: 1\n  b: true\n  c:\nlist:\n- x\n- 'y'\n", &err);
	struct node *v, *l;
	CHECK(n != NULL);
	if (!n)
		return;
	CHECK_STR(node_str(node_map_get(n, "kind")), "manual");
	v = node_map_get(n, "variables");
	CHECK(v && v->type == NODE_MAP && v->line == 3 && v->col == 2);
	CHECK_STR(node_str(node_map_get(v, "a")), "1");
	CHECK_STR(node_str(node_map_get(v, "b")), "true");
	CHECK_STR(node_str(node_map_get(v, "c")), "");
	CHECK(node_map_get(v, "a")->line == 3 && node_map_get(v, "a")->col == 5);
	l = node_map_get(n, "list");
	CHECK(l && l->type == NODE_LIST && l->u.list.n == 2);
	CHECK_STR(node_str(l->u.list.items[1]), "y");
	CHECK(l->u.list.items[1]->line == 8 && l->u.list.items[1]->col == 2);
	CHECK_STR(n->file->name, "t.bst");
	error_release(&err);
}

static void empty_and_comment_only(void)
{
	struct error err = ERROR_INIT;
	struct node *n = load("", &err);
	CHECK(n && n->type == NODE_MAP && n->u.map.n == 0);
	n = load("# just a comment\n", &err);
	CHECK(n && n->type == NODE_MAP && n->u.map.n == 0);
	error_release(&err);
}

static void expect_fail(const char *doc, const char *msg_part)
{
	struct error err = ERROR_INIT;
	struct node *n = load(doc, &err);
	CHECK(n == NULL);
	CHECK(err.msg && strstr(err.msg, msg_part));
	if (err.msg && !strstr(err.msg, msg_part))
		printf("  got: %s\n", err.msg);
	error_release(&err);
}

static void errors(void)
{
	expect_fail("a: 1\na: 2\n", "t.bst [line 2 column 0]: Duplicate key 'a'");
	expect_fail("a:\n\t- b\n", "t.bst [line 2 column 0]: Malformed YAML");
	expect_fail("- a\n- b\n", "instead of expected type 'dict'");
	expect_fail("just a string\n", "instead of expected type 'dict'");
	expect_fail("a: [1, 2\n", "Malformed YAML");
	expect_fail("a: 1\n---\nb: 2\n", "single document");
	expect_fail("? [a]\n: b\n", "Mapping keys must be strings");
	expect_fail("a: *nope\n", "undefined alias");
	expect_fail("a: \"\\xff\xff\"\n", "Malformed YAML");
}

static void garbage_and_depth(void)
{
	struct error err = ERROR_INIT;
	struct buf b = BUF_INIT;
	int i;
	unsigned seed = 12345;
	/* binary garbage never crashes, and fails or yields a map */
	for (i = 0; i < 200; i++) {
		int j;
		struct node *n;
		buf_reset(&b);
		for (j = 0; j < 300; j++) {
			seed = seed * 1103515245u + 12345u;
			buf_addch(&b, (char)((seed >> 16) & 0xff));
		}
		n = yaml_load_data(A, b.data, b.len, "g.bst", &err);
		CHECK(n == NULL || n->type == NODE_MAP);
		CHECK(n != NULL || err.msg != NULL);
		error_release(&err);
	}
	buf_reset(&b);
	buf_adds(&b, "a: ");
	for (i = 0; i < 5000; i++)
		buf_addch(&b, '[');
	for (i = 0; i < 5000; i++)
		buf_addch(&b, ']');
	CHECK(yaml_load_data(A, b.data, b.len, "deep.bst", &err) == NULL);
	CHECK(err.msg && strstr(err.msg, "too deep"));
	error_release(&err);
	/* billion laughs: aliases that expand exponentially are refused */
	buf_reset(&b);
	buf_adds(&b, "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
	for (i = 1; i < 12; i++)
		buf_addf(&b, "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i, i - 1,
			 i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
	CHECK(yaml_load_data(A, b.data, b.len, "laughs.bst", &err) == NULL);
	CHECK(err.msg && strstr(err.msg, "too large"));
	error_release(&err);
	buf_release(&b);
}

static void aliases_share(void)
{
	struct error err = ERROR_INIT;
	struct node *n = load("base: &b {x: 1}\ncopy: *b\n", &err);
	CHECK(n && node_map_get(n, "copy") == node_map_get(n, "base"));
	CHECK(n && node_str(node_map_get(node_map_get(n, "copy"), "x")) && !strcmp(node_str(node_map_get(node_map_get(n, "copy"), "x")), "1"));
	error_release(&err);
}

static void missing_file(void)
{
	struct error err = ERROR_INIT;
	CHECK(yaml_load_file(A, "/nonexistent/x.bst", "x.bst", &err) == NULL);
	CHECK_STR(err.msg, "Could not find file at x.bst");
	error_release(&err);
}

int main(void)
{
	test_prog = "yaml";
	A = arena_new();
	RUN(provenance_and_strings);
	RUN(empty_and_comment_only);
	RUN(errors);
	RUN(garbage_and_depth);
	RUN(aliases_share);
	RUN(missing_file);
	arena_free(A);
	TEST_MAIN_END();
}
