/* test_show — the --format language: checking formats, padding and the element symbols.
 * SPDX-License-Identifier: Apache-2.0 */
#include "test.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "graph/element.h"
#include "graph/keys.h"
#include "graph/loader.h"
#include "graph/project.h"
#include "graph/show.h"

static char tmpdir[] = "/tmp/rill-test-show-XXXXXX";

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

static void check_ok(const char *fmt)
{
	struct error err = ERROR_INIT;
	CHECK(show_check_format(fmt, &err) == 0);
	if (err.msg)
		printf("  %s: %s\n", fmt, err.msg);
	error_release(&err);
}

static void check_bad(const char *fmt, const char *msg)
{
	struct error err = ERROR_INIT;
	CHECK(show_check_format(fmt, &err) == -1);
	CHECK_STR(err.msg, msg);
	error_release(&err);
}

static void check_format(void)
{
	check_ok("%{name}");
	check_ok("%{name: >10}");
	check_ok("%{name:>10} %{key:^5} %{state:-<3} %{full-key}");
	check_ok("plain text, no symbols");
	check_ok("100% {name} %{ unterminated");
	check_ok("%{config}%{vars}%{env}%{public}%{deps}%{build-deps}%{runtime-deps}%{kind}%{description}");
	check_bad("%{nosym}",
		  "Unknown symbol '%{nosym}' in --format; known symbols: name, key, full-key, state, config, "
		  "vars, env, public, kind, deps, build-deps, runtime-deps, description");
	check_bad("ok %{name} then %{Name}",
		  "Unknown symbol '%{Name}' in --format; known symbols: name, key, full-key, state, config, "
		  "vars, env, public, kind, deps, build-deps, runtime-deps, description");
	check_bad("%{name:>x}",
		  "Invalid format spec in '%{name:>x}' (use [[fill]align][width], e.g. %{name: >20})");
	check_bad("%{name:10x}",
		  "Invalid format spec in '%{name:10x}' (use [[fill]align][width], e.g. %{name: >20})");
	check_bad("%{name:99999}",
		  "Invalid format spec in '%{name:99999}' (use [[fill]align][width], e.g. %{name: >20})");
}

static struct project *P;
static struct element **ALL;
static size_t NALL;

static struct element *find(const char *name)
{
	return P ? loader_find(P, name) : NULL;
}

static char *render(const char *name, const char *fmt)
{
	struct buf b = BUF_INIT;
	struct element *e = find(name);
	if (!e)
		return xstrdup("(no element)");
	show_format(P, e, fmt, &b);
	return buf_detach(&b);
}

#define CHECK_RENDER(el, fmt, want)                                                          \
	do {                                                                                     \
		char *got_ = render(el, fmt);                                                        \
		CHECK_STR(got_, want);                                                               \
		free(got_);                                                                          \
	} while (0)

static int setup(void)
{
	struct load_params lp;
	struct error err = ERROR_INIT;
	struct element **roots = NULL;
	const char *target = "app.bst";
	size_t cap = 0;
	char *p1 = xasprintf("%s/elements", tmpdir);
	mkdir(p1, 0755);
	free(p1);
	write_file("project.conf", "name: showtest\nelement-path: elements\nvariables:\n  greeting: hi\n");
	write_file("elements/base.bst", "kind: stack\ndescription: The base\n");
	write_file("elements/lib.bst", "kind: stack\ndepends: [base.bst]\n");
	write_file("elements/app.bst",
		   "kind: manual\n"
		   "build-depends: [lib.bst]\n"
		   "runtime-depends: [base.bst]\n"
		   "variables:\n  extra: '%{greeting}-there'\n"
		   "environment:\n  GREET: '%{extra}'\n");
	memset(&lp, 0, sizeof(lp));
	lp.directory = tmpdir;
	lp.plugin_dir = "plugins";
	P = project_load(&lp, &err);
	if (!P || loader_load(P, &target, 1, &roots, &err)) {
		printf("  setup: %s\n", err.msg);
		error_release(&err);
		return -1;
	}
	loader_walk(P, roots, 1, SCOPE_ALL, &ALL, &NALL, &cap);
	free(roots);
	if (keys_resolve_all(P, ALL, NALL, &err)) {
		printf("  setup: %s\n", err.msg);
		error_release(&err);
		return -1;
	}
	return 0;
}

static void padding(void)
{
	CHECK(P != NULL);
	CHECK_RENDER("lib.bst", "%{name}", "lib.bst");
	CHECK_RENDER("lib.bst", "[%{name: >10}]", "[   lib.bst]");
	CHECK_RENDER("lib.bst", "[%{name:>10}]", "[   lib.bst]");
	CHECK_RENDER("lib.bst", "[%{name:<10}]", "[lib.bst   ]");
	CHECK_RENDER("lib.bst", "[%{name:10}]", "[lib.bst   ]");
	CHECK_RENDER("lib.bst", "[%{name:*^11}]", "[**lib.bst**]");
	CHECK_RENDER("lib.bst", "[%{name:*^12}]", "[**lib.bst***]");
	CHECK_RENDER("lib.bst", "[%{name:-<3}]", "[lib.bst]");   /* never truncated */
	CHECK_RENDER("lib.bst", "%{name}-%{kind}!", "lib.bst-stack!");
	/* unknown symbols and stray percent signs are copied as text */
	CHECK_RENDER("lib.bst", "%{nosym} 100%", "%{nosym} 100%");
}

static void symbols(void)
{
	char *k, *fk;
	CHECK(P != NULL);
	CHECK_RENDER("app.bst", "%{kind}", "manual");
	CHECK_RENDER("base.bst", "%{description}", "The base");
	CHECK_RENDER("lib.bst", "[%{description}]", "[]");
	/* base sorts first although only a runtime dependency: lib depends on it */
	CHECK_RENDER("app.bst", "%{deps} / %{build-deps} / %{runtime-deps}",
		     "- base.bst\n- lib.bst / - lib.bst / - base.bst");
	CHECK_RENDER("base.bst", "[%{deps}]", "[[]]");
	CHECK_RENDER("base.bst", "%{state}", "buildable");
	CHECK_RENDER("app.bst", "%{state}", "waiting");
	k = render("app.bst", "%{key}");
	fk = render("app.bst", "%{full-key}");
	CHECK(strlen(k) == 8);
	CHECK(strlen(fk) == 64);
	CHECK(strncmp(k, fk, 8) == 0);
	CHECK(strspn(fk, "0123456789abcdef") == 64);
	{
		char *kb = render("base.bst", "%{full-key}");
		CHECK(strcmp(kb, fk) != 0);
		free(kb);
	}
	free(k);
	free(fk);
	{
		char *env = render("app.bst", "%{env}");
		CHECK(strstr(env, "GREET: hi-there\n") != NULL);
		free(env);
	}
	{
		char *vars = render("app.bst", "%{vars}");
		CHECK(strstr(vars, "extra: hi-there\n") != NULL);
		CHECK(strstr(vars, "greeting: hi\n") != NULL);
		/* keys sorted */
		CHECK(strstr(vars, "extra:") < strstr(vars, "greeting:"));
		free(vars);
	}
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
	test_prog = "show";
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(check_format);
	if (setup())
		P = NULL;
	RUN(padding);
	RUN(symbols);
	free(ALL);
	if (P)
		project_free(P);
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	TEST_MAIN_END();
}
