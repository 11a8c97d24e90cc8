/* test_loader — loading a project's elements: dependency extraction and BuildStream's sort,
 * staging order of loader_walk per scope, cycles and missing elements.
 * Each case writes a small project into a temporary directory (removed at the end).
 * SPDX-License-Identifier: Apache-2.0 */
#include "test.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "graph/loader.h"
#include "graph/project.h"

static char tmpdir[] = "/tmp/rill-test-loader-XXXXXX";

static void write_file(const char *rel, const char *text)
{
	char *path = xasprintf("%s/%s", tmpdir, rel);
	FILE *f = fopen(path, "w");
	if (!f) {
		printf("  cannot write %s\n", path);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
	free(path);
}

/* A fresh project directory tmpdir/<name> with project.conf and elements/. */
static char *new_project(const char *name)
{
	char *dir = xasprintf("%s/%s", tmpdir, name), *el = xasprintf("%s/elements", dir), *conf;
	mkdir(dir, 0755);
	mkdir(el, 0755);
	conf = xasprintf("%s/project.conf", name);
	write_file(conf, "name: t\nelement-path: elements\n");
	free(conf);
	free(el);
	return dir;
}

static void element(const char *project, const char *name, const char *text)
{
	char *rel = xasprintf("%s/elements/%s", project, name);
	write_file(rel, text);
	free(rel);
}

static struct project *open_project(const char *dir, struct error *err)
{
	struct load_params lp;
	memset(&lp, 0, sizeof(lp));
	lp.directory = dir;
	lp.plugin_dir = "plugins";
	return project_load(&lp, err);
}

/* Names of list joined by spaces, for comparing orders. */
static char *names(struct element *const *list, size_t n)
{
	struct buf b = BUF_INIT;
	size_t i;
	for (i = 0; i < n; i++)
		buf_addf(&b, "%s%s", i ? " " : "", list[i]->name);
	return buf_detach(&b);
}

static char *walk(struct project *p, struct element *const *roots, size_t nroots, enum scope scope)
{
	struct element **list = NULL;
	size_t n = 0, cap = 0;
	char *s;
	loader_walk(p, roots, nroots, scope, &list, &n, &cap);
	s = names(list, n);
	free(list);
	return s;
}

static char *dep_names(const struct element *e)
{
	struct buf b = BUF_INIT;
	size_t i;
	static const char *const t[] = {"all", "build", "runtime"};
	for (i = 0; i < e->ndeps; i++)
		buf_addf(&b, "%s%s:%s", i ? " " : "", e->deps[i].name, t[e->deps[i].type]);
	return buf_detach(&b);
}

/* The graph used by the sort and walk cases:
 *   app (manual): build-depends tool, aaa; runtime-depends zrun, zrt; depends lib, base
 *   tool: depends zrt        lib: depends base        aaa, base, zrt, zrun: no deps  */
static char *graph_dir;

static const char *graph_project(void)
{
	char *dir = graph_dir;
	if (dir)
		return dir;
	dir = new_project("graph");
	element("graph", "app.bst",
		"kind: manual\n"
		"build-depends:\n- tool.bst\n- aaa.bst\n"
		"runtime-depends:\n- zrun.bst\n- filename: zrt.bst\n"
		"depends:\n- lib.bst\n- base.bst\n");
	element("graph", "tool.bst", "kind: stack\ndepends: [zrt.bst]\n");
	element("graph", "lib.bst", "kind: stack\ndepends:\n- filename: base.bst\n  type: all\n");
	element("graph", "aaa.bst", "kind: stack\n");
	element("graph", "base.bst", "kind: stack\n");
	element("graph", "zrt.bst", "kind: stack\n");
	element("graph", "zrun.bst", "kind: stack\n");
	graph_dir = dir;
	return dir;
}

static void load_and_sort(void)
{
	struct error err = ERROR_INIT;
	struct project *p = open_project(graph_project(), &err);
	struct element **roots = NULL;
	const char *target = "app.bst";
	struct element *app;
	char *s;
	CHECK(p != NULL);
	if (!p) {
		printf("  %s\n", err.msg);
		error_release(&err);
		return;
	}
	CHECK_STR(p->name, "t");
	CHECK(loader_load(p, &target, 1, &roots, &err) == 0);
	if (err.msg)
		printf("  %s\n", err.msg);
	app = roots ? roots[0] : NULL;
	CHECK(app != NULL);
	if (!app)
		goto out;
	CHECK_STR(app->name, "app.bst");
	CHECK_STR(app->kind, "manual");
	CHECK(p->nelements == 7);
	CHECK(loader_find(p, "zrt.bst") != NULL);
	CHECK(loader_find(p, "nope.bst") == NULL);
	/* a dependency sorts after what it depends on (zrt before tool although runtime), build
	 * before runtime, then by name; the sort may still be running until this */
	loader_finish_sort(p);
	s = dep_names(app);
	CHECK_STR(s, "aaa.bst:build base.bst:all lib.bst:all zrt.bst:runtime tool.bst:build zrun.bst:runtime");
	free(s);
	s = names(app->build_deps, app->nbuild_deps);
	CHECK_STR(s, "aaa.bst base.bst lib.bst tool.bst");
	free(s);
	s = names(app->run_deps, app->nrun_deps);
	CHECK_STR(s, "base.bst lib.bst zrt.bst zrun.bst");
	free(s);
	{
		struct element *lib = loader_find(p, "lib.bst");
		CHECK(lib && lib->ndeps == 1 && lib->deps[0].element == loader_find(p, "base.bst"));
		CHECK(lib && lib->deps[0].type == DEP_ALL);
		CHECK(lib && lib->nbuild_deps == 1 && lib->nrun_deps == 1);
		/* the dependency entry keeps its position */
		CHECK(lib && lib->deps[0].at && lib->deps[0].at->line == 3 && lib->deps[0].at->col == 2);
	}
	/* loading the same target again is a no-op that returns the same element */
	{
		struct element **again = NULL;
		CHECK(loader_load(p, &target, 1, &again, &err) == 0);
		CHECK(again && again[0] == app);
		CHECK(p->nelements == 7);
		free(again);
	}
out:
	free(roots);
	project_free(p);
	error_release(&err);
}

static void walk_orders(void)
{
	struct error err = ERROR_INIT;
	struct project *p = open_project(graph_project(), &err);
	struct element **roots = NULL;
	const char *targets[] = {"app.bst", "lib.bst"};
	char *s;
	CHECK(p != NULL);
	if (!p) {
		error_release(&err);
		return;
	}
	CHECK(loader_load(p, targets, 2, &roots, &err) == 0);
	if (!roots)
		goto out;
	s = walk(p, roots, 1, SCOPE_ALL);
	CHECK_STR(s, "aaa.bst base.bst lib.bst zrt.bst tool.bst zrun.bst app.bst");
	free(s);
	s = walk(p, roots, 1, SCOPE_BUILD);
	CHECK_STR(s, "aaa.bst base.bst lib.bst zrt.bst tool.bst");
	free(s);
	s = walk(p, roots, 1, SCOPE_RUN);
	CHECK_STR(s, "base.bst lib.bst zrt.bst zrun.bst app.bst");
	free(s);
	s = walk(p, roots, 2, SCOPE_NONE);
	CHECK_STR(s, "app.bst lib.bst");
	free(s);
	/* several roots: each element once, the second root's closure already staged */
	s = walk(p, roots, 2, SCOPE_ALL);
	CHECK_STR(s, "aaa.bst base.bst lib.bst zrt.bst tool.bst zrun.bst app.bst");
	free(s);
	{
		struct element *r2[2] = {roots[1], loader_find(p, "tool.bst")};
		s = walk(p, r2, 2, SCOPE_RUN);
		CHECK_STR(s, "base.bst lib.bst zrt.bst tool.bst");
		free(s);
		s = walk(p, r2, 2, SCOPE_BUILD);
		CHECK_STR(s, "base.bst zrt.bst");
		free(s);
	}
	/* a walk appends to what the list already holds */
	{
		struct element **list = NULL;
		size_t n = 0, cap = 0;
		loader_walk(p, roots + 1, 1, SCOPE_RUN, &list, &n, &cap);
		loader_walk(p, roots + 1, 1, SCOPE_RUN, &list, &n, &cap);
		s = names(list, n);
		CHECK_STR(s, "base.bst lib.bst base.bst lib.bst");
		free(s);
		free(list);
	}
out:
	free(roots);
	project_free(p);
	error_release(&err);
}

static void expect_load_error(const char *project, const char *target, const char *msg)
{
	char *dir = xasprintf("%s/%s", tmpdir, project);
	struct error err = ERROR_INIT;
	struct project *p = open_project(dir, &err);
	struct element **roots = NULL;
	CHECK(p != NULL);
	if (p) {
		CHECK(loader_load(p, &target, 1, &roots, &err) == -1);
		CHECK(roots == NULL);
		CHECK_STR(err.msg, msg);
		project_free(p);
	}
	error_release(&err);
	free(dir);
}

static void cycles(void)
{
	free(new_project("cycle"));
	element("cycle", "a.bst", "kind: stack\ndepends: [b.bst]\n");
	element("cycle", "b.bst", "kind: stack\ndepends:\n- c.bst\n");
	element("cycle", "c.bst", "kind: stack\nbuild-depends:\n- ok.bst\n- a.bst\n");
	element("cycle", "ok.bst", "kind: stack\n");
	element("cycle", "self.bst", "kind: stack\n\ndepends: [self.bst]\n");
	element("cycle", "top.bst", "kind: stack\ndepends: [b.bst]\n");
	expect_load_error("cycle", "a.bst",
			  "c.bst [line 4 column 2]: Circular dependency detected for element: a.bst\n"
			  "Dependency chain: a.bst -> b.bst -> c.bst -> a.bst");
	expect_load_error("cycle", "top.bst",
			  "a.bst [line 2 column 10]: Circular dependency detected for element: b.bst\n"
			  "Dependency chain: b.bst -> c.bst -> a.bst -> b.bst");
	expect_load_error("cycle", "self.bst",
			  "self.bst [line 3 column 10]: Circular dependency detected for element: self.bst\n"
			  "Dependency chain: self.bst -> self.bst");
}

static void missing_and_bad(void)
{
	free(new_project("bad"));
	element("bad", "m.bst", "kind: stack\ndepends:\n- ok.bst\n- nothere.bst\n");
	element("bad", "ok.bst", "kind: stack\n");
	element("bad", "nokind.bst", "depends: [ok.bst]\n");
	element("bad", "extra.bst", "kind: stack\nbogus: 1\n");
	element("bad", "suffix.bst", "kind: stack\ndepends: [ok.txt]\n");
	element("bad", "dtype.bst", "kind: stack\ndepends:\n- filename: ok.bst\n  type: sometimes\n");
	element("bad", "deplist.bst", "kind: stack\ndepends: ok.bst\n");
	expect_load_error("bad", "m.bst",
			  "m.bst [line 4 column 2]: Could not find element 'nothere.bst' in elements "
			  "directory 'elements'");
	expect_load_error("bad", "absent.bst", "Could not find element 'absent.bst' in elements directory 'elements'");
	expect_load_error("bad", "nokind.bst",
			  "nokind.bst [line 1 column 0]: Dictionary did not contain expected key 'kind'");
	expect_load_error("bad", "extra.bst", "extra.bst [line 2 column 7]: Unexpected key: bogus");
	expect_load_error("bad", "suffix.bst",
			  "suffix.bst [line 2 column 10]: Element name 'ok.txt' does not end in '.bst'");
	expect_load_error("bad", "ok", "Element name 'ok' does not end in '.bst'");
	expect_load_error("bad", "../x.bst", "Element name '../x.bst' must be relative to the element path");
	expect_load_error("bad", "dtype.bst",
			  "dtype.bst [line 4 column 8]: Dependency type 'sometimes' is not 'build', "
			  "'runtime' or 'all'");
	expect_load_error("bad", "deplist.bst",
			  "deplist.bst [line 2 column 9]: Value of 'depends' is not of the expected type 'list'");
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int main(void)
{
	test_prog = "loader";
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(load_and_sort);
	RUN(walk_orders);
	RUN(cycles);
	RUN(missing_and_bad);
	free(graph_dir);
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	TEST_MAIN_END();
}
