/* test_node — typed getters and their BuildStream messages, validation, equality and copies.
 * SPDX-License-Identifier: Apache-2.0 */
#include "test.h"

#include "format/node.h"
#include "format/yamlload.h"

static struct arena *A;

static struct node *load(const char *s)
{
	struct error err = ERROR_INIT;
	struct node *n = yaml_load_data(A, s, strlen(s), "t.yml", &err);
	if (!n)
		printf("  load failed: %s\n", err.msg);
	error_release(&err);
	return n;
}

static const char DOC[] =
	"top:\n"
	"  x: maybe\n"
	"  s: hello\n"
	"  b1: true\n"
	"  b2: False\n"
	"  n: 42\n"
	"  neg: -7\n"
	"  bad: 4x\n"
	"  empty:\n"
	"  l: [a, b]\n"
	"  m: {k: v}\n"
	"  ml:\n"
	"  - a\n"
	"  - [nested]\n";

static void getters_str(void)
{
	struct error err = ERROR_INIT;
	struct node *top = node_map_get(load(DOC), "top");
	const char *s = NULL;
	CHECK(top && top->type == NODE_MAP);
	CHECK(node_get_str(top, "s", NULL, &s, &err) == 0);
	CHECK_STR(s, "hello");
	CHECK(node_get_str(top, "missing", "dflt", &s, &err) == 0);
	CHECK_STR(s, "dflt");
	CHECK(node_get_str(top, "empty", "dflt", &s, &err) == 0);
	CHECK_STR(s, "");
	CHECK(node_get_str(top, "l", NULL, &s, &err) == -1);
	CHECK_STR(err.msg, "t.yml [line 10 column 5]: Value of 'l' is not of the expected type 'str'");
	CHECK(node_get_str(top, "m", NULL, &s, &err) == -1);
	CHECK_STR(err.msg, "t.yml [line 11 column 5]: Value of 'm' is not of the expected type 'str'");
	CHECK(node_get_required_str(top, "s", &s, &err) == 0);
	CHECK_STR(s, "hello");
	CHECK(node_get_required_str(top, "nope", &s, &err) == -1);
	CHECK_STR(err.msg, "t.yml [line 2 column 2]: Dictionary did not contain expected key 'nope'");
	error_release(&err);
}

static void getters_bool(void)
{
	struct error err = ERROR_INIT;
	struct node *top = node_map_get(load(DOC), "top");
	int b = -1;
	CHECK(node_get_bool(top, "b1", 0, &b, &err) == 0);
	CHECK(b == 1);
	CHECK(node_get_bool(top, "b2", 1, &b, &err) == 0);
	CHECK(b == 0);
	CHECK(node_get_bool(top, "missing", 1, &b, &err) == 0);
	CHECK(b == 1);
	CHECK(node_get_bool(top, "x", 0, &b, &err) == -1);
	CHECK_STR(err.msg, "t.yml [line 2 column 5]: Value of 'x' is not of the expected type 'bool'");
	CHECK(node_get_bool(top, "l", 0, &b, &err) == -1);
	CHECK_STR(err.msg, "t.yml [line 10 column 5]: Value of 'l' is not of the expected type 'bool'");
	/* only true/True/false/False: yes/1 are not booleans for BuildStream */
	{
		struct node *m = load("a: yes\nb: 1\nc: TRUE\n");
		CHECK(node_get_bool(m, "a", 0, &b, &err) == -1);
		CHECK_STR(err.msg, "t.yml [line 1 column 3]: Value of 'a' is not of the expected type 'bool'");
		CHECK(node_get_bool(m, "b", 0, &b, &err) == -1);
		CHECK(node_get_bool(m, "c", 0, &b, &err) == -1);
	}
	error_release(&err);
}

static void getters_int(void)
{
	struct error err = ERROR_INIT;
	struct node *top = node_map_get(load(DOC), "top");
	long v = 0;
	CHECK(node_get_int(top, "n", 0, &v, &err) == 0);
	CHECK(v == 42);
	CHECK(node_get_int(top, "neg", 0, &v, &err) == 0);
	CHECK(v == -7);
	CHECK(node_get_int(top, "missing", 99, &v, &err) == 0);
	CHECK(v == 99);
	CHECK(node_get_int(top, "bad", 0, &v, &err) == -1);
	CHECK_STR(err.msg, "t.yml [line 8 column 7]: Value of 'bad' is not of the expected type 'int'");
	CHECK(node_get_int(top, "empty", 0, &v, &err) == -1);
	CHECK(err.msg && strstr(err.msg, "Value of 'empty' is not of the expected type 'int'"));
	CHECK(node_get_int(top, "m", 0, &v, &err) == -1);
	CHECK_STR(err.msg, "t.yml [line 11 column 5]: Value of 'm' is not of the expected type 'int'");
	error_release(&err);
}

static void getters_list_map(void)
{
	struct error err = ERROR_INIT;
	struct node *top = node_map_get(load(DOC), "top");
	struct node *out = (struct node *)1;
	CHECK(node_get_list(top, "l", &out, &err) == 0);
	CHECK(out && out->type == NODE_LIST && out->u.list.n == 2);
	CHECK_STR(node_str(out->u.list.items[1]), "b");
	CHECK(node_get_list(top, "missing", &out, &err) == 0);
	CHECK(out == NULL);
	CHECK(node_get_list(top, "s", &out, &err) == -1);
	CHECK_STR(err.msg, "t.yml [line 3 column 5]: Value of 's' is not of the expected type 'list'");
	CHECK(node_get_map(top, "m", &out, &err) == 0);
	CHECK(out && out->type == NODE_MAP);
	CHECK_STR(node_str(node_map_get(out, "k")), "v");
	CHECK(node_get_map(top, "l", &out, &err) == -1);
	CHECK_STR(err.msg, "t.yml [line 10 column 5]: Value of 'l' is not of the expected type 'dict'");
	CHECK(node_get_str_list(top, "l", &out, &err) == 0);
	CHECK(out && out->u.list.n == 2);
	CHECK(node_get_str_list(top, "ml", &out, &err) == -1);
	CHECK_STR(err.msg, "t.yml [line 14 column 4]: List item is not of the expected type 'str'");
	CHECK_STR(node_type_name(node_map_get(top, "s")), "str");
	CHECK_STR(node_type_name(node_map_get(top, "l")), "list");
	CHECK_STR(node_type_name(node_map_get(top, "m")), "dict");
	CHECK_STR(node_type_name(NULL), "None");
	error_release(&err);
}

static void validate(void)
{
	static const char *const allowed[] = {"kind", "depends", NULL};
	struct error err = ERROR_INIT;
	struct node *ok = load("kind: manual\ndepends: [a.bst]\n");
	struct node *bad = load("kind: manual\n\nk:\n  deep: 1\n");
	struct node *bad2 = load("kind: manual\nzz: value\n");
	CHECK(node_validate(ok, allowed, &err) == 0);
	CHECK(err.msg == NULL);
	CHECK(node_validate(NULL, allowed, &err) == 0);
	CHECK(node_validate(bad, allowed, &err) == -1);
	CHECK_STR(err.msg, "t.yml [line 4 column 2]: Unexpected key: k");
	CHECK(node_validate(bad2, allowed, &err) == -1);
	CHECK_STR(err.msg, "t.yml [line 2 column 4]: Unexpected key: zz");
	error_release(&err);
}

static void errors_with_and_without_provenance(void)
{
	struct error err = ERROR_INIT;
	struct node *m = load("a:\n  b: c\n");
	struct node *syn = node_new_str(A, NULL, "x");
	struct buf b = BUF_INIT;
	CHECK(node_error(&err, syn, "plain %d", 1) == -1);
	CHECK_STR(err.msg, "plain 1");
	CHECK(node_error(&err, node_map_get(node_map_get(m, "a"), "b"), "at %s", "c") == -1);
	CHECK_STR(err.msg, "t.yml [line 2 column 5]: at c");
	CHECK(node_key_error(&err, node_map_get(m, "a"), node_map_entry(node_map_get(m, "a"), "b"), "key") == -1);
	CHECK_STR(err.msg, "t.yml [line 2 column 2]: key");
	node_format_provenance(&b, node_map_get(m, "a"));
	CHECK_STR(buf_str(&b), "t.yml [line 2 column 2]");
	buf_reset(&b);
	node_format_provenance(&b, syn);
	CHECK_STR(buf_str(&b), "");
	/* a synthesized node inherits the provenance it is given */
	{
		struct node *p = node_new_str(A, node_map_get(m, "a"), "y");
		CHECK(p->line == 2 && p->col == 2 && p->file == node_map_get(m, "a")->file);
		CHECK(node_get_int(node_map_get(m, "a"), "b", 0, &(long){0}, &err) == -1);
		CHECK_STR(err.msg, "t.yml [line 2 column 5]: Value of 'b' is not of the expected type 'int'");
	}
	buf_release(&b);
	error_release(&err);
}

static void equality(void)
{
	struct node *a = load("x: 1\ny: [a, {b: c}]\nz: {p: q}\n");
	struct node *b = load("\n\nz:   {p: q}\ny:\n- a\n- b: c\nx: '1'\n");
	struct node *c = load("x: 1\ny: [a, {b: d}]\nz: {p: q}\n");
	struct node *d = load("x: 1\ny: [a, {b: c}, e]\nz: {p: q}\n");
	struct node *e = load("x: 1\ny: [a, {b: c}]\nz: {p: q}\nw: 1\n");
	struct node *f = load("x: 1\ny: [{b: c}, a]\nz: {p: q}\n");
	CHECK(node_equal(a, a));
	CHECK(node_equal(a, b));     /* key order and positions do not matter */
	CHECK(node_equal(b, a));
	CHECK(!node_equal(a, c));
	CHECK(!node_equal(a, d));
	CHECK(!node_equal(a, e));
	CHECK(!node_equal(e, a));
	CHECK(!node_equal(a, f));    /* list order does */
	CHECK(!node_equal(a, NULL));
	/* scalar kinds are part of the value */
	CHECK(node_equal(node_new_kind(A, SCALAR_BOOL, "true"), node_new_kind(A, SCALAR_BOOL, "true")));
	CHECK(!node_equal(node_new_kind(A, SCALAR_BOOL, "true"), node_new_str(A, NULL, "true")));
	CHECK(!node_equal(node_new_str(A, NULL, "ab"), node_new_str(A, NULL, "abc")));
	CHECK(!node_equal(node_new_list(A, NULL), node_new_map(A, NULL)));
}

static void map_without(void)
{
	struct node *m = load("a: 1\nb: 2\nc: 3\n");
	struct node *w = node_map_without(A, m, "b");
	CHECK(w != m);
	CHECK(w->u.map.n == 2);
	CHECK(node_map_get(w, "b") == NULL);
	CHECK_STR(node_str(node_map_get(w, "a")), "1");
	CHECK_STR(node_str(node_map_get(w, "c")), "3");
	CHECK_STR(w->u.map.entries[1].key, "c");
	/* the input is untouched and children are shared */
	CHECK(m->u.map.n == 3);
	CHECK_STR(m->u.map.entries[1].key, "b");
	CHECK_STR(node_str(node_map_get(m, "b")), "2");
	CHECK(node_map_get(w, "a") == node_map_get(m, "a"));
	/* absent key: the map itself */
	CHECK(node_map_without(A, m, "zz") == m);
}

static void deep_copy(void)
{
	struct arena *other = arena_new();
	struct node *m = load("a: hello\nl: [x, {y: z}]\n");
	struct node *c = node_deep_copy(other, m);
	struct node *cl;
	CHECK(node_equal(m, c));
	CHECK(c != m);
	CHECK(node_map_get(c, "a") != node_map_get(m, "a"));
	CHECK(node_str(node_map_get(c, "a")) != node_str(node_map_get(m, "a")));
	CHECK(node_map_get(c, "a")->line == 1 && node_map_get(c, "a")->col == 3);
	cl = node_map_get(c, "l");
	CHECK(cl != node_map_get(m, "l"));
	/* changing the copy leaves the original alone */
	node_map_put(other, c, "a", node_new_str(other, NULL, "changed"));
	node_map_put(other, c, "new", node_new_str(other, NULL, "v"));
	node_list_push(other, cl, node_new_str(other, NULL, "more"));
	CHECK_STR(node_str(node_map_get(m, "a")), "hello");
	CHECK(node_map_get(m, "new") == NULL);
	CHECK(node_map_get(m, "l")->u.list.n == 2);
	CHECK(cl->u.list.n == 3);
	CHECK_STR(node_str(cl->u.list.items[2]), "more");
	CHECK(!node_equal(m, c));
	arena_free(other);
	/* the original is still intact once the copy's arena is gone */
	CHECK_STR(node_str(node_map_get(node_map_get(m, "l")->u.list.items[1], "y")), "z");
}

static void map_put_replaces(void)
{
	struct node *m = node_new_map(A, NULL);
	node_map_put(A, m, "k", node_new_str(A, NULL, "1"));
	node_map_put(A, m, "j", node_new_str(A, NULL, "2"));
	node_map_put(A, m, "k", node_new_str(A, NULL, "3"));
	CHECK(m->u.map.n == 2);
	CHECK_STR(m->u.map.entries[0].key, "k");
	CHECK_STR(node_str(node_map_get(m, "k")), "3");
	CHECK_STR(node_str(node_map_get(m, "j")), "2");
	CHECK(node_map_get(m, "zz") == NULL);
	CHECK(node_map_get(node_map_get(m, "k"), "x") == NULL); /* not a map */
}

int main(void)
{
	test_prog = "node";
	A = arena_new();
	RUN(getters_str);
	RUN(getters_bool);
	RUN(getters_int);
	RUN(getters_list_map);
	RUN(validate);
	RUN(errors_with_and_without_provenance);
	RUN(equality);
	RUN(map_without);
	RUN(deep_copy);
	RUN(map_put_replaces);
	arena_free(A);
	TEST_MAIN_END();
}
