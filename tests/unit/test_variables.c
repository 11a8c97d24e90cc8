/* Unit tests for core/format/variables.c: resolution, scopes, errors (texts checked against bst 1.6.8).
 * SPDX-License-Identifier: Apache-2.0 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/node.h"
#include "test.h"
#include "base/util.h"
#include "format/variables.h"

/* A "variables:" map as written in a .bst file: pair i is on line first_line + i as
 * "  key: value", so the value starts at column 2 + strlen(key) + 2 (0-based, as bst prints). */
static struct node *vmap(struct arena *a, const struct yfile *f, uint32_t first_line,
			 const char *const *kv)
{
	struct node *m = node_new_map(a, NULL);
	uint32_t i;
	for (i = 0; kv[2 * i]; i++) {
		struct node *s = node_new_str(a, NULL, kv[2 * i + 1]);
		s->file = f;
		s->line = first_line + i;
		s->col = 2 + (uint32_t)strlen(kv[2 * i]) + 2;
		node_map_put(a, m, kv[2 * i], s);
	}
	return m;
}

static struct variables *scope(struct arena *a, const struct variables *parent, const char *const *kv)
{
	static const struct yfile f = {"test.bst"};
	struct error err = ERROR_INIT;
	struct variables *v = variables_new(a, parent, vmap(a, &f, 3, kv), &err);
	if (!v)
		printf("  variables_new: %s\n", err.msg);
	error_release(&err);
	return v;
}

static void test_simple(void)
{
	struct arena *a = arena_new();
	struct error err = ERROR_INIT;
	static const char *const kv[] = {"prefix", "/usr", "bindir", "%{prefix}/bin",
					 "both", "%{prefix}:%{bindir}:%{prefix}", "plain", "x y", NULL};
	struct variables *v = scope(a, NULL, kv);
	CHECK(v != NULL);
	CHECK(variables_check(v, &err) == 0);
	CHECK_STR(variables_get(v, "bindir"), "/usr/bin");
	CHECK_STR(variables_get(v, "both"), "/usr:/usr/bin:/usr");
	CHECK_STR(variables_get(v, "plain"), "x y");
	CHECK(variables_get(v, "missing") == NULL);
	CHECK(err.msg == NULL);
	error_release(&err);
	arena_free(a);
}

static void test_nested_without_check(void)
{
	struct arena *a = arena_new();
	/* the defaults of projectconfig.yaml, resolved on demand (no check first) */
	static const char *const kv[] = {
		"docdir", "%{datadir}/doc", "datadir", "%{prefix}/share", "prefix", "/usr",
		"exec_prefix", "%{prefix}", "libdir", "%{prefix}/%{lib}", "lib", "lib",
		"debugdir", "%{libdir}/debug", NULL};
	struct variables *v = scope(a, NULL, kv);
	CHECK_STR(variables_get(v, "docdir"), "/usr/share/doc");
	CHECK_STR(variables_get(v, "debugdir"), "/usr/lib/debug");
	CHECK_STR(variables_get(v, "exec_prefix"), "/usr");
	arena_free(a);
}

static void test_child_override(void)
{
	struct arena *a = arena_new();
	struct error err = ERROR_INIT;
	static const char *const pkv[] = {"prefix", "/usr", "bindir", "%{prefix}/bin", "lib", "lib",
					  "libdir", "%{prefix}/%{lib}", NULL};
	static const char *const ckv[] = {"prefix", "/opt", NULL};
	static const char *const none[] = {NULL};
	struct variables *p = scope(a, NULL, pkv), *c, *sib, *grand;
	c = scope(a, p, ckv);
	sib = scope(a, p, none);
	CHECK(c && sib);
	CHECK(variables_check(c, &err) == 0 && variables_check(sib, &err) == 0);
	CHECK_STR(variables_get(c, "bindir"), "/opt/bin");
	CHECK_STR(variables_get(c, "libdir"), "/opt/lib");
	CHECK_STR(variables_get(c, "lib"), "lib");
	CHECK_STR(variables_get(p, "bindir"), "/usr/bin");
	CHECK_STR(variables_get(sib, "bindir"), "/usr/bin");
	/* an unaffected value is the parent's memo itself, not a recomputed copy */
	CHECK(variables_get(sib, "libdir") == variables_get(p, "libdir"));
	/* a grandchild overriding lib sees the child's prefix */
	{
		static const char *const gkv[] = {"lib", "lib64", NULL};
		grand = scope(a, c, gkv);
		CHECK(grand && variables_check(grand, &err) == 0);
		CHECK_STR(variables_get(grand, "libdir"), "/opt/lib64");
		CHECK_STR(variables_get(grand, "bindir"), "/opt/bin");
		CHECK_STR(variables_get(c, "libdir"), "/opt/lib");
	}
	CHECK(err.msg == NULL);
	error_release(&err);
	arena_free(a);
}

static void test_element_name(void)
{
	struct arena *a = arena_new();
	struct error err = ERROR_INIT;
	static const char *const pkv[] = {"build-root", "/buildstream/%{project-name}/%{element-name}",
					  "install-root", "/buildstream-install", NULL};
	static const char *const none[] = {NULL};
	struct variables *p = scope(a, NULL, pkv), *e1, *e2;
	variables_set(p, "project-name", "proj");
	/* the parent alone cannot resolve build-root: that is not an error until checked */
	CHECK(variables_get(p, "build-root") == NULL);
	e1 = scope(a, p, none);
	e2 = scope(a, p, none);
	variables_set(e1, "element-name", "a.bst");
	variables_set(e2, "element-name", "dir/b.bst");
	CHECK(variables_check(e1, &err) == 0);
	CHECK(variables_check(e2, &err) == 0);
	CHECK_STR(variables_get(e1, "build-root"), "/buildstream/proj/a.bst");
	CHECK_STR(variables_get(e2, "build-root"), "/buildstream/proj/dir/b.bst");
	CHECK(variables_get(e1, "install-root") == variables_get(e2, "install-root"));
	/* set after check: the new value is used */
	variables_set(e1, "element-name", "c.bst");
	CHECK(variables_check(e1, &err) == 0);
	CHECK_STR(variables_get(e1, "build-root"), "/buildstream/proj/c.bst");
	CHECK(variables_check(p, &err) == -1);
	CHECK_STR(err.msg, "test.bst [line 3 column 14]: Reference to undefined variable 'element-name'");
	error_release(&err);
	arena_free(a);
}

static void test_undefined(void)
{
	struct arena *a = arena_new();
	struct error err = ERROR_INIT;
	static const struct yfile f = {"elements/undef.bst"};
	/* elements/undef.bst:  variables: / foo: bar / x: "%{nope}"  (bst: line 4 column 5) */
	static const char *const kv[] = {"foo", "bar", "x", "%{nope}", NULL};
	struct variables *v = variables_new(a, NULL, vmap(a, &f, 3, kv), &err);
	CHECK(v != NULL);
	CHECK(variables_check(v, &err) == -1);
	CHECK_STR(err.msg, "elements/undef.bst [line 4 column 5]: Reference to undefined variable 'nope'");
	CHECK_STR(variables_get(v, "foo"), "bar");
	CHECK(variables_get(v, "x") == NULL);
	error_release(&err);
	arena_free(a);
}

static void test_undefined_deep_and_expand(void)
{
	struct arena *a = arena_new();
	struct error err = ERROR_INIT;
	static const char *const kv[] = {"a", "%{b}", "b", "x%{c}", "c", "%{missing-1}", "ok", "k", NULL};
	struct variables *v = scope(a, NULL, kv);
	struct node *s = node_new_str(a, NULL, "run %{ok} %{nope_2}");
	static const struct yfile f = {"elements/e.bst"};
	const char *out = NULL;
	s->file = &f;
	s->line = 9;
	s->col = 6;
	/* reported at the definition that contains the reference, whichever variable started it */
	CHECK(variables_check(v, &err) == -1);
	CHECK_STR(err.msg, "test.bst [line 5 column 5]: Reference to undefined variable 'missing-1'");
	CHECK(variables_expand(v, s, &out, &err) == -1);
	CHECK_STR(err.msg, "elements/e.bst [line 9 column 6]: Reference to undefined variable 'nope_2'");
	s = node_new_str(a, NULL, "%{a}");
	CHECK(variables_expand(v, s, &out, &err) == -1);
	CHECK_STR(err.msg, "test.bst [line 5 column 5]: Reference to undefined variable 'missing-1'");
	error_release(&err);
	arena_free(a);
}

static void test_unused_undefined(void)
{
	struct arena *a = arena_new();
	struct error err = ERROR_INIT;
	static const char *const pkv[] = {"unused", "%{never-defined}", NULL};
	static const char *const none[] = {NULL};
	struct variables *p = scope(a, NULL, pkv), *c = scope(a, p, none);
	struct node *s = node_new_str(a, NULL, "fine");
	const char *out = NULL;
	CHECK(variables_check(c, &err) == -1);
	CHECK_STR(err.msg, "test.bst [line 3 column 10]: Reference to undefined variable 'never-defined'");
	/* expanding something unrelated still works */
	CHECK(variables_expand(c, s, &out, &err) == 0);
	CHECK_STR(out, "fine");
	CHECK(out != s->u.scalar.str);
	error_release(&err);
	arena_free(a);
}

static void test_cycle(void)
{
	struct arena *a = arena_new();
	struct error err = ERROR_INIT;
	static const struct yfile f = {"cyc.bst"};
	/* cyc.bst, lines 3-6; `bst show cyc.bst` printed exactly these lines (when it started at x) */
	static const char *const kv[] = {"x", "%{y}", "y", "%{z}", "z", "a %{w}", "w", "%{y}", NULL};
	struct variables *v = variables_new(a, NULL, vmap(a, &f, 3, kv), &err);
	CHECK(v != NULL);
	CHECK(variables_check(v, &err) == -1);
	CHECK_STR(err.msg, "Circular dependency detected on variable 'y'\n"
			   "\n"
			   "    cyc.bst [line 4 column 5]: Variable 'y' refers to variable 'z'\n"
			   "    cyc.bst [line 5 column 5]: Variable 'z' refers to variable 'w'\n"
			   "    cyc.bst [line 6 column 5]: Variable 'w' refers to variable 'y'");
	/* the same error again (nothing was left half-resolved) */
	CHECK(variables_check(v, &err) == -1);
	CHECK(err.msg && strstr(err.msg, "on variable 'y'") != NULL);
	CHECK(variables_get(v, "x") == NULL);
	CHECK(variables_get(v, "z") == NULL);
	error_release(&err);
	arena_free(a);
}

static void test_self_reference(void)
{
	struct arena *a = arena_new();
	struct error err = ERROR_INIT;
	static const struct yfile f = {"self.bst"};
	static const char *const kv[] = {"s", "%{s}", NULL};
	struct variables *v = variables_new(a, NULL, vmap(a, &f, 3, kv), &err);
	CHECK(v != NULL);
	CHECK(variables_check(v, &err) == -1);
	CHECK_STR(err.msg, "Circular dependency detected on variable 's'\n\n"
			   "    self.bst [line 3 column 5]: Variable 's' refers to variable 's'");
	error_release(&err);
	arena_free(a);
}

static void test_cycle_broken_by_child(void)
{
	struct arena *a = arena_new();
	struct error err = ERROR_INIT;
	static const char *const pkv[] = {"p", "%{q}", "q", "%{p}", "r", "%{p}!", NULL};
	static const char *const ckv[] = {"q", "Q", NULL};
	struct variables *p = scope(a, NULL, pkv), *c = scope(a, p, ckv), *d;
	CHECK(variables_check(c, &err) == 0);
	CHECK_STR(variables_get(c, "r"), "Q!");
	CHECK(variables_check(p, &err) == -1);
	d = variables_new(a, p, NULL, &err);
	variables_set(d, "other", "%{r}");
	CHECK(variables_check(d, &err) == -1);
	CHECK_STR(err.msg, "Circular dependency detected on variable 'p'\n\n"
			   "    test.bst [line 3 column 5]: Variable 'p' refers to variable 'q'\n"
			   "    test.bst [line 4 column 5]: Variable 'q' refers to variable 'p'");
	error_release(&err);
	arena_free(a);
}

static void test_long_chain(void)
{
	enum { N = 10000 };
	struct arena *a = arena_new();
	struct error err = ERROR_INIT;
	struct node *m = node_new_map(a, NULL);
	struct variables *v;
	char name[32], val[48];
	int i;
	/* defined last-to-first so that resolving v0 walks the whole chain at once */
	for (i = N - 1; i >= 0; i--) {
		snprintf(name, sizeof(name), "v%d", i);
		if (i == N - 1)
			snprintf(val, sizeof(val), "end");
		else
			snprintf(val, sizeof(val), "%%{v%d}", i + 1);
		node_map_put(a, m, arena_strdup(a, name), node_new_str(a, NULL, val));
	}
	v = variables_new(a, NULL, m, &err);
	CHECK(v != NULL);
	CHECK_STR(variables_get(v, "v0"), "end");
	CHECK(variables_check(v, &err) == 0);
	/* the same chain closed into a cycle: one line per step */
	variables_set(v, "v9999", "%{v0}");
	CHECK(variables_check(v, &err) == -1);
	CHECK(err.msg && str_has_prefix(err.msg, "Circular dependency detected on variable "));
	{
		size_t lines = 0;
		const char *p;
		for (p = err.msg; p && *p; p++)
			lines += *p == '\n';
		CHECK(lines == N + 1);
	}
	/* and ending in an undefined name, reached from a child scope */
	variables_set(v, "v9999", "%{nothing}");
	{
		struct variables *c = variables_new(a, v, NULL, &err);
		CHECK(c && variables_check(c, &err) == -1);
		CHECK_STR(err.msg, "Reference to undefined variable 'nothing'");
		variables_set(c, "nothing", "x");
		CHECK(variables_check(c, &err) == 0);
		CHECK_STR(variables_get(c, "v0"), "x");
	}
	error_release(&err);
	arena_free(a);
}

static void test_malformed_left_literal(void)
{
	struct arena *a = arena_new();
	struct error err = ERROR_INIT;
	/* bst 1.6.8 shows a: '%{ x} %{x %{} %{1a} %B %{b' for this definition */
	static const char *const kv[] = {"a", "%{ x} %{x %{} %{1a} %%{b} %{b", "b", "B",
					 "c", "%{b}%{b}%{b-c_1}", "b-c_1", "dash", "_x", "%{_x}",
					 "D9", "%{b}{%{b}}%{b}}%", NULL};
	struct variables *v = scope(a, NULL, kv);
	struct node *s = node_new_str(a, NULL, "%{b-c_1}%{a%{b}%{}%");
	const char *out = NULL;
	/* "_x" cannot be referenced (names start with a letter), so "%{_x}" is text */
	CHECK(variables_check(v, &err) == 0);
	CHECK_STR(variables_get(v, "a"), "%{ x} %{x %{} %{1a} %B %{b");
	CHECK_STR(variables_get(v, "c"), "BBdash");
	CHECK_STR(variables_get(v, "_x"), "%{_x}");
	CHECK_STR(variables_get(v, "D9"), "B{B}B}%");
	CHECK(variables_expand(v, s, &out, &err) == 0);
	CHECK_STR(out, "dash%{aB%{}%");
	error_release(&err);
	arena_free(a);
}

static void test_strip_and_types(void)
{
	struct arena *a = arena_new();
	struct error err = ERROR_INIT;
	static const struct yfile f = {"sp.bst"};
	/* bst shows sp: 'a b', u: 'x' (NBSP is whitespace to Python), e: '' */
	static const char *const kv[] = {"sp", "  a b \t\n", "u", "\xc2\xa0x\xe3\x80\x80", "e", "",
					 "r", " %{sp} ", NULL};
	struct node *m = vmap(a, &f, 3, kv), *l = node_new_list(a, NULL), *s;
	struct variables *v = variables_new(a, NULL, m, &err);
	const char *out = NULL;
	CHECK(v && variables_check(v, &err) == 0);
	CHECK_STR(variables_get(v, "sp"), "a b");
	CHECK_STR(variables_get(v, "u"), "x");
	CHECK_STR(variables_get(v, "e"), "");
	CHECK_STR(variables_get(v, "r"), "a b");
	/* expansion keeps the text as written */
	s = node_new_str(a, NULL, " %{r} ");
	CHECK(variables_expand(v, s, &out, &err) == 0);
	CHECK_STR(out, " a b ");
	/* sp.bst line 9: "  l: [a]" -> bst: "sp.bst [line 9 column 5]: Value of 'l' is not ..." */
	l->file = &f;
	l->line = 9;
	l->col = 5;
	node_map_put(a, m, "l", l);
	CHECK(variables_new(a, NULL, m, &err) == NULL);
	CHECK_STR(err.msg, "sp.bst [line 9 column 5]: Value of 'l' is not of the expected type 'str'");
	error_release(&err);
	arena_free(a);
}

static void test_iteration_sorted(void)
{
	struct arena *a = arena_new();
	struct error err = ERROR_INIT;
	static const char *const pkv[] = {"zeta", "z", "alpha", "%{beta}", "mid", "%{element-name}", NULL};
	static const char *const ckv[] = {"beta", "B", "zeta", "Z", "aa", "1", NULL};
	static const char *const want[] = {"aa", "alpha", "beta", "element-name", "mid", "zeta"};
	static const char *const vals[] = {"1", "B", "B", "e.bst", "e.bst", "Z"};
	struct variables *p = scope(a, NULL, pkv), *c = scope(a, p, ckv);
	size_t i;
	variables_set(c, "element-name", "e.bst");
	CHECK(variables_check(c, &err) == 0);
	CHECK(variables_count(c) == ARRAY_SIZE(want));
	for (i = 0; i < ARRAY_SIZE(want) && i < variables_count(c); i++) {
		CHECK_STR(variables_name_at(c, i), want[i]);
		CHECK_STR(variables_value_at(c, i), vals[i]);
	}
	CHECK(variables_name_at(c, ARRAY_SIZE(want)) == NULL);
	/* the parent itself: only its own three, unresolvable ones have no value */
	CHECK(variables_count(p) == 3);
	CHECK_STR(variables_name_at(p, 0), "alpha");
	CHECK(variables_value_at(p, 0) == NULL);
	CHECK_STR(variables_value_at(p, 2), "z");
	error_release(&err);
	arena_free(a);
}

static void test_expand_many_refs(void)
{
	struct arena *a = arena_new();
	struct error err = ERROR_INIT;
	static const char *const kv[] = {"x", "ab", NULL};
	struct variables *v = scope(a, NULL, kv);
	struct buf in = BUF_INIT, want = BUF_INIT;
	const char *out = NULL;
	int i;
	for (i = 0; i < 100; i++) {
		buf_adds(&in, "%{x}-");
		buf_adds(&want, "ab-");
	}
	CHECK(variables_expand(v, node_new_str(a, NULL, buf_str(&in)), &out, &err) == 0);
	CHECK_STR(out, buf_str(&want));
	CHECK(variables_expand(v, node_new_list(a, NULL), &out, &err) == -1);
	buf_release(&in);
	buf_release(&want);
	error_release(&err);
	arena_free(a);
}

/* Differential test: random three-level scopes against a naive recursive resolver over the
 * flattened definitions. */
struct ndef {
	char name[8];
	char val[64];
	int set;
};

static unsigned rnd_state = 12345;
static unsigned rnd(unsigned n)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (rnd_state >> 16) % n;
}

/* returns length, -1 (undefined or cycle; depth guards cycles) or -2 (longer than 2000) */
static int naive(struct ndef *d, int nd, const char *name, char *out, int depth)
{
	int i;
	const char *s;
	char *o = out;
	if (depth > 64)
		return -1;
	for (i = 0; i < nd && (!d[i].set || strcmp(d[i].name, name)); i++)
		;
	if (i == nd)
		return -1;
	for (s = d[i].val; *s;) {
		if (s[0] == '%' && s[1] == '{') {
			char ref[8];
			const char *e = strchr(s, '}');
			int n;
			memcpy(ref, s + 2, (size_t)(e - s - 2));
			ref[e - s - 2] = 0;
			n = naive(d, nd, ref, o, depth + 1);
			if (n < 0)
				return n;
			o += n;
			s = e + 1;
			if (o - out > 2000)
				return -2;
		} else {
			*o++ = *s++;
		}
	}
	*o = 0;
	return (int)(o - out);
}

static void test_random_layers(void)
{
	int round;
	for (round = 0; round < 300; round++) {
		struct arena *a = arena_new();
		struct error err = ERROR_INIT;
		struct ndef flat[12];
		struct variables *sc[3] = {NULL, NULL, NULL};
		int lvl, i, ok_all = 1;
		memset(flat, 0, sizeof(flat));
		for (i = 0; i < 12; i++)
			snprintf(flat[i].name, sizeof(flat[i].name), "n%d", i);
		for (lvl = 0; lvl < 3; lvl++) {
			struct node *m = node_new_map(a, NULL);
			int k, cnt = lvl == 0 ? 8 : (int)rnd(3);
			for (k = 0; k < cnt; k++) {
				int t = (int)rnd(12), r, len = 0;
				char val[64];
				val[0] = 0;
				for (r = (int)rnd(3); r >= 0; r--) {
					if (rnd(2))
						len += snprintf(val + len, sizeof(val) - (size_t)len, "%%{n%u}", rnd(12));
					else
						len += snprintf(val + len, sizeof(val) - (size_t)len, "%c", 'a' + rnd(26));
				}
				node_map_put(a, m, arena_strdup(a, flat[t].name), node_new_str(a, NULL, val));
				strcpy(flat[t].val, val);
				flat[t].set = 1;
			}
			sc[lvl] = variables_new(a, lvl ? sc[lvl - 1] : NULL, m, &err);
			if (rnd(2)) {
				int t = (int)rnd(12);
				variables_set(sc[lvl], flat[t].name, "S");
				strcpy(flat[t].val, "S");
				flat[t].set = 1;
			}
		}
		for (i = 0; i < 12; i++) {
			char want[4200];
			int n = flat[i].set ? naive(flat, 12, flat[i].name, want, 0) : -1;
			const char *got = variables_get(sc[2], flat[i].name);
			if (n == -2)
				continue;
			if (flat[i].set && n < 0)
				ok_all = 0;
			if (n >= 0)
				CHECK_STR(got, want);
			else
				CHECK(got == NULL);
		}
		CHECK((variables_check(sc[2], &err) == 0) == ok_all);
		error_release(&err);
		arena_free(a);
	}
}

int main(void)
{
	test_prog = "variables";
	RUN(test_simple);
	RUN(test_nested_without_check);
	RUN(test_child_override);
	RUN(test_element_name);
	RUN(test_undefined);
	RUN(test_undefined_deep_and_expand);
	RUN(test_unused_undefined);
	RUN(test_cycle);
	RUN(test_self_reference);
	RUN(test_cycle_broken_by_child);
	RUN(test_long_chain);
	RUN(test_malformed_left_literal);
	RUN(test_strip_and_types);
	RUN(test_iteration_sorted);
	RUN(test_expand_many_refs);
	RUN(test_random_layers);
	TEST_MAIN_END();
}
