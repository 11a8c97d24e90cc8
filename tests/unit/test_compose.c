/* test_compose — dict composition, list directives, final assertions, conditionals, includes.
 * SPDX-License-Identifier: Apache-2.0 */
#include "test.h"

#include "format/compose.h"
#include "format/yamldump.h"
#include "format/yamlload.h"

static struct arena *A;

static struct node *Y(const char *s)
{
	struct error err = ERROR_INIT;
	struct node *n = yaml_load_data(A, s, strlen(s), "t.yml", &err);
	if (!n)
		printf("  yaml: %s\n", err.msg);
	error_release(&err);
	return n;
}

/* compose target and source and return the result as YAML text (or "ERROR: msg") */
static const char *C(const char *t, const char *s)
{
	static char out[4096];
	struct error err = ERROR_INIT;
	struct node *r;
	struct buf b = BUF_INIT;
	if (compose(A, Y(t), Y(s), &r, &err) || compose_final_assertions(r, &err))
		snprintf(out, sizeof(out), "ERROR: %s", err.msg);
	else {
		yamldump(r, &b);
		snprintf(out, sizeof(out), "%s", buf_str(&b));
	}
	buf_release(&b);
	error_release(&err);
	return out;
}

static void dict_merge(void)
{
	CHECK_STR(C("a: 1\nb: {c: 2, d: 3}\n", "b: {c: 4}\ne: 5\n"), "a: 1\nb:\n  c: 4\n  d: 3\ne: 5\n");
	CHECK_STR(C("a: [1, 2]\n", "a: [3]\n"), "a:\n- 3\n");
	CHECK(strstr(C("a: {x: 1}\n", "a: str\n"), "ERROR: t.yml [line 1 column 3]: Expected 'dict' type for configuration 'a', instead received 'str'"));
	CHECK(strstr(C("a: {b: {c: 1}}\n", "a: {b: {c: [1]}}\n"), "List cannot overwrite value at: t.yml"));
	CHECK(strstr(C("a: {b: x}\n", "a: {b: {c: 1}}\n"), "configuration 'a.b'"));
}

static void list_directives(void)
{
	CHECK_STR(C("l: [b]\n", "l: {(<): [a], (>): [c]}\n"), "l:\n- a\n- b\n- c\n");
	CHECK_STR(C("l: [b]\n", "l: {(=): [x], (>): [y]}\n"), "l:\n- x\n- y\n");
	CHECK_STR(C("l: [b]\n", "l: {(>): []}\n"), "l:\n- b\n");
	/* no target list: directive kept, then trailing directive is an error */
	CHECK(strstr(C("a: 1\n", "l: {(>): [x]}\n"), "Attempt to override non-existing list"));
	CHECK(strstr(C("l: [a]\n", "l: {(>): [x], other: 1}\n"), "Dictionary contains array composition directives and arbitrary keys"));
	CHECK(strstr(C("l: scalar\n", "l: {(>): [x]}\n"), "List cannot overwrite value at"));
}

static void directive_onto_directive(void)
{
	struct error err = ERROR_INIT;
	struct node *r, *base = Y("l: [m]\n");
	/* two layers of directives, then applied onto a list */
	CHECK(compose(A, Y("l: {(<): [b], (>): [y]}\n"), Y("l: {(<): [a], (>): [z]}\n"), &r, &err) == 0);
	CHECK(compose(A, base, r, &r, &err) == 0);
	{
		struct buf b = BUF_INIT;
		yamldump(r, &b);
		CHECK_STR(buf_str(&b), "l:\n- a\n- b\n- m\n- y\n- z\n");
		buf_release(&b);
	}
	/* (=) in the later layer drops the earlier prepends/appends */
	CHECK(compose(A, Y("l: {(<): [b], (>): [y]}\n"), Y("l: {(=): [only]}\n"), &r, &err) == 0);
	CHECK(compose(A, base, r, &r, &err) == 0);
	{
		struct buf b = BUF_INIT;
		yamldump(r, &b);
		CHECK_STR(buf_str(&b), "l:\n- only\n");
		buf_release(&b);
	}
	error_release(&err);
}

static void inputs_unchanged(void)
{
	struct node *t = Y("a: {b: 1}\nl: [x]\n"), *s = Y("a: {b: 2}\nl: {(>): [y]}\n"), *r;
	struct error err = ERROR_INIT;
	struct buf b = BUF_INIT;
	CHECK(compose(A, t, s, &r, &err) == 0);
	yamldump(t, &b);
	CHECK_STR(buf_str(&b), "a:\n  b: 1\nl:\n- x\n");
	buf_release(&b);
	error_release(&err);
}

static int lookup(void *ctx, const char *name, struct expr_value *out)
{
	(void)ctx;
	memset(out, 0, sizeof(*out));
	if (!strcmp(name, "debug")) {
		out->kind = EXPR_BOOL;
		out->b = 1;
		return 0;
	}
	if (!strcmp(name, "arch")) {
		out->kind = EXPR_STRING;
		out->s = "x86_64";
		return 0;
	}
	return -1;
}

static const char *COND(const char *doc)
{
	static char out[4096];
	struct error err = ERROR_INIT;
	struct node *r;
	struct buf b = BUF_INIT;
	if (compose_conditionals(A, Y(doc), lookup, NULL, &r, &err))
		snprintf(out, sizeof(out), "ERROR: %s", err.msg);
	else {
		yamldump(r, &b);
		snprintf(out, sizeof(out), "%s", buf_str(&b));
	}
	buf_release(&b);
	error_release(&err);
	return out;
}

static void conditionals(void)
{
	CHECK_STR(COND("a: 1\n(?):\n- debug:\n    a: 2\n- arch == \"aarch64\":\n    a: 3\n"), "a: 2\n");
	CHECK_STR(COND("v:\n  x: 1\n  (?):\n  - not debug:\n      x: 2\n  - arch == 'x86_64' and debug:\n      y: 3\n"),
		  "v:\n  x: 1\n  y: 3\n");
	/* a fragment may itself hold conditionals (processed until none remain) */
	CHECK_STR(COND("(?):\n- debug:\n    (?):\n    - arch == 'x86_64':\n        deep: yes\n"), "deep: yes\n");
	CHECK(strstr(COND("(?):\n- debug: 1\n"), "Only values of type 'dict' can be composed"));
	CHECK(strstr(COND("(?):\n- {debug: {a: 1}, arch: {b: 2}}\n"), "Conditional statement has more than one key"));
	CHECK(strstr(COND("(!): this project needs an option\n"), "t.yml [line 1 column 5]: this project needs an option"));
	CHECK(strstr(COND("(?):\n- debug:\n    (!): debug builds are broken\n"), "debug builds are broken"));
	CHECK(strstr(COND("(?):\n- nosuch == 'x':\n    a: 1\n"), "'nosuch' is undefined"));
	/* conditional fragments append to lists with directives */
	CHECK_STR(COND("l: [a]\n(?):\n- debug:\n    l:\n      (>): [b]\n"), "l:\n- a\n- b\n");
}

static struct node *inc_load(void *ctx, const char *name, const struct node *at, const char **path,
			     void **next_ctx, struct error *err)
{
	*path = name;
	/* "sub:" names a file of another context, whose own includes stay in it */
	if (!strcmp(name, "sub:top.yml")) {
		*next_ctx = (void *)"sub";
		return Y("(@): same.yml\nt: sub-top\n");
	}
	if (!strcmp(name, "same.yml"))
		return Y(ctx && !strcmp((const char *)ctx, "sub") ? "s: same-of-sub\n" : "s: same-of-main\n");
	if (!strcmp(name, "one.yml"))
		return Y("a: from-one\nb: from-one\nc: from-one\n");
	if (!strcmp(name, "two.yml"))
		return Y("b: from-two\nc: from-two\n");
	if (!strcmp(name, "loop.yml"))
		return Y("(@): loop2.yml\n");
	if (!strcmp(name, "loop2.yml"))
		return Y("(@): loop.yml\n");
	if (!strcmp(name, "cond.yml"))
		return Y("(?):\n- debug:\n    d: debug-on\n");
	node_error(err, at, "Could not find file at %s", name);
	return NULL;
}

static int only_local, inc_skipped;

static const char *INC(const char *doc)
{
	static char out[4096];
	struct error err = ERROR_INIT;
	struct include_ctx ic = {A, inc_load, NULL, lookup, NULL, 0, NULL};
	struct node *r;
	ic.only_local = only_local;
	ic.skipped = &inc_skipped;
	struct buf b = BUF_INIT;
	if (compose_includes(&ic, Y(doc), &r, &err))
		snprintf(out, sizeof(out), "ERROR: %s", err.msg);
	else {
		yamldump(r, &b);
		snprintf(out, sizeof(out), "%s", buf_str(&b));
	}
	buf_release(&b);
	error_release(&err);
	return out;
}

static void includes(void)
{
	/* later includes override earlier ones; the including file overrides both */
	CHECK_STR(INC("(@): [one.yml, two.yml]\nc: mine\n"), "a: from-one\nb: from-two\nc: mine\n");
	CHECK_STR(INC("sub:\n  (@): two.yml\n  x: 1\n"), "sub:\n  b: from-two\n  c: from-two\n  x: 1\n");
	CHECK(strstr(INC("(@): loop.yml\n"), "trying to recursively include loop.yml"));
	CHECK(strstr(INC("(@): missing.yml\n"), "Could not find file at missing.yml"));
	CHECK_STR(INC("(@): cond.yml\n"), "d: debug-on\n");
	CHECK(strstr(INC("(@): {a: 1}\n"), "not of the expected type"));
	/* an included file's includes are loaded in the context the loader gave it */
	CHECK_STR(INC("(@): [same.yml, sub:top.yml]\n"), "s: same-of-sub\nt: sub-top\n");
	CHECK_STR(INC("(@): [sub:top.yml, same.yml]\n"), "s: same-of-main\nt: sub-top\n");
	/* only_local skips junction includes and says so */
	only_local = 1;
	inc_skipped = 0;
	CHECK_STR(INC("(@): [one.yml, sub:top.yml]\nc: mine\n"), "a: from-one\nb: from-one\nc: mine\n");
	CHECK(inc_skipped == 1);
	inc_skipped = 0;
	CHECK_STR(INC("(@): one.yml\nc: mine\n"), "a: from-one\nb: from-one\nc: mine\n");
	CHECK(inc_skipped == 0);
	only_local = 0;
}

int main(void)
{
	test_prog = "compose";
	A = arena_new();
	RUN(dict_merge);
	RUN(list_directives);
	RUN(directive_onto_directive);
	RUN(inputs_unchanged);
	RUN(conditionals);
	RUN(includes);
	arena_free(A);
	TEST_MAIN_END();
}
