/* workspace — `rill workspace open|close|reset|list`, BuildStream 1.6's workspaces: an element's
 * sources staged in a directory of the user's, which builds then use instead of the sources
 * (mounted at the build root, so rebuilds are incremental). The state is bst's
 * <project>/.bst/workspaces.yml, so bst and rill see the same workspaces.
 * SPDX-License-Identifier: Apache-2.0 */
#include "cli/commands.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/osutil.h"
#include "base/util.h"
#include "build/job.h"
#include "graph/element.h"
#include "graph/workspaces.h"

static const char usage_workspace[] =
	"Usage: rill workspace [OPTIONS] COMMAND [ARGS]...\n"
	"\n"
	"  Manipulate developer workspaces\n"
	"\n"
	"Commands:\n"
	"  close  Close workspaces\n"
	"  list   List open workspaces\n"
	"  open   Open a new workspace\n"
	"  reset  Reset a workspace to its original state\n";

static const char usage_open[] =
	"Usage: rill workspace open [OPTIONS] ELEMENT DIRECTORY\n"
	"\n"
	"  Open a workspace for manual source modification: the element's sources are staged in\n"
	"  DIRECTORY, and builds of the element use DIRECTORY instead of them (incrementally:\n"
	"  configure-commands run once).\n"
	"\n"
	"Options:\n"
	"  --no-checkout           Do not checkout the source, only link to the given directory\n"
	"  -f, --force             Overwrite files existing in checkout directory\n"
	"  --track                 Track and fetch new source references before checking out the\n"
	"                          workspace\n"
	"  -h, --help              Show this message and exit\n";

static const char usage_close[] =
	"Usage: rill workspace close [OPTIONS] [ELEMENTS]...\n"
	"\n"
	"  Close a workspace\n"
	"\n"
	"Options:\n"
	"  --remove-dir            Remove the path that contains the closed workspace\n"
	"  -a, --all               Close all open workspaces\n"
	"  -h, --help              Show this message and exit\n";

static const char usage_reset[] =
	"Usage: rill workspace reset [OPTIONS] [ELEMENTS]...\n"
	"\n"
	"  Reset a workspace to its original state\n"
	"\n"
	"Options:\n"
	"  --soft                  Reset workspace state without affecting its contents\n"
	"  --track                 Track and fetch the latest source before resetting\n"
	"  -a, --all               Reset all open workspaces\n"
	"  -h, --help              Show this message and exit\n";

static const char usage_list[] =
	"Usage: rill workspace list [OPTIONS]\n"
	"\n"
	"  List open workspaces\n"
	"\n"
	"Options:\n"
	"  -h, --help              Show this message and exit\n";

/* os.path.abspath(): against the working directory, "." and ".." resolved as text (heap). */
static char *absolute(const char *path)
{
	char cwd[4096], *joined, *out, *o;
	const char *s;
	if (path[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		joined = xstrdup(path);
	else
		joined = xasprintf("%s/%s", cwd, path);
	out = xmalloc(strlen(joined) + 2);
	o = out;
	for (s = joined; *s;) {
		const char *end;
		size_t len;
		while (*s == '/')
			s++;
		if (!*s)
			break;
		end = strchr(s, '/');
		len = end ? (size_t)(end - s) : strlen(s);
		if (len == 1 && s[0] == '.') {
			/* nothing */
		} else if (len == 2 && s[0] == '.' && s[1] == '.') {
			while (o > out && *--o != '/')
				;
		} else {
			*o++ = '/';
			memcpy(o, s, len);
			o += len;
		}
		s += len;
	}
	if (o == out)
		*o++ = '/';
	*o = '\0';
	free(joined);
	return out;
}

static int help(const char *usage)
{
	fputs(usage, stdout);
	return 0;
}

/* Run `rill fetch` (or track) on one element, as source-bundle does. */
static int pipeline(struct cli *c, const char *cmd, const char *element)
{
	char *argv[] = {(char *)cmd, (char *)element, NULL};
	return cmd_pipeline(c, 2, argv);
}

/* Load the project with element as the target; *e receives it. */
static struct project *ws_load(struct cli *c, const char *element, struct element **e, struct error *err)
{
	struct element **roots = NULL;
	struct project *p = cli_load(c, &element, 1, &roots, err);
	*e = p ? roots[0] : NULL;
	free(roots);
	return p;
}

/* Stage e's sources into dir (which exists). */
static int stage_into(struct project *p, struct element *e, const char *dir, struct error *err)
{
	struct rill_ctx ctx;
	struct job_io io = {-1, -1, NULL};
	io.cache_dir = p->cache_dir;
	job_ctx_init(&ctx, p, e, &io, err);
	return job_stage_sources(&ctx, dir);
}

/* Fetch (and track) what staging e's sources needs, then load again; 0, or -1 with err. */
static struct project *ready_sources(struct cli *c, struct project *p, struct element **e, int track,
				     struct error *err)
{
	char *name;
	if (!track && job_sources_cached(p->cache_dir, *e))
		return p;
	name = xstrdup((*e)->name);
	project_free(p);
	if ((track && pipeline(c, "track", name)) || pipeline(c, "fetch", name)) {
		error_set(err, "Could not stage uncached source. Use `--track` to track and fetch the latest version of the source.");
		free(name);
		return NULL;
	}
	p = ws_load(c, name, e, err);
	free(name);
	return p;
}

static int cmd_open(struct cli *c, int argc, char **argv)
{
	const char *element = NULL, *directory = NULL;
	int no_checkout = 0, force = 0, track = 0, i, rc = 1;
	struct error err = ERROR_INIT;
	struct workspace w;
	struct project *p = NULL;
	struct element *e;
	struct stat st;
	char *abs = NULL;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		int used = cli_common_option(c, argc, argv, i, "workspace open ");
		if (used < 0)
			return 2;
		if (used) {
			i += used - 1;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			return help(usage_open);
		} else if (!strcmp(a, "--no-checkout")) {
			no_checkout = 1;
		} else if (!strcmp(a, "-f") || !strcmp(a, "--force")) {
			force = 1;
		} else if (!strcmp(a, "--track")) {
			track = 1;
		} else if (a[0] == '-' && a[1]) {
			return cli_usage_error("workspace open ", "no such option: %s", a);
		} else if (!element) {
			element = a;
		} else if (!directory) {
			directory = a;
		} else {
			return cli_usage_error("workspace open ", "Got unexpected extra argument (%s)", a);
		}
	}
	if (!element || !directory)
		return cli_usage_error("workspace open ", "Missing argument \"%s\".", !element ? "ELEMENT" : "DIRECTORY");
	if (stat(directory, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			fprintf(stderr, "Checkout directory is not a directory: %s\n", directory);
			return 1;
		}
		if (!(no_checkout || force) && !os_dir_empty(directory)) {
			fprintf(stderr, "Checkout directory is not empty: %s\n", directory);
			return 1;
		}
	}
	abs = absolute(directory);
	p = ws_load(c, element, &e, &err);
	if (!p)
		goto out;
	if (!e->nsources) {
		struct buf d = BUF_INIT;
		size_t k;
		for (k = 0; k < e->nbuild_deps; k++)
			buf_addf(&d, "%s  %s", k ? "\n" : "", e->build_deps[k]->name);
		if (d.len)
			error_set(&err, "The given element has no sources\n\nTry opening a workspace on one of its dependencies instead:\n%s",
				  buf_str(&d));
		else
			error_set(&err, "The given element has no sources");
		buf_release(&d);
		goto out;
	}
	if (workspace_find(p, e->name, &w, &err) < 0)
		goto out;
	if (w.abs && !force) {
		error_set(&err, "Workspace '%s' is already defined at: %s", e->name, w.abs);
		goto out;
	}
	if (!no_checkout || track) {
		p = ready_sources(c, p, &e, track, &err);
		if (!p)
			goto out;
	}
	if (w.abs) {
		if (workspace_remove(p, e->name, &err) || os_rm_rf(abs, &err))
			goto out;
	}
	if (os_mkdir_p(abs, &err)) {
		char *m = xasprintf("Failed to create workspace directory: %s", err.msg);
		error_set(&err, "%s", m);
		free(m);
		goto out;
	}
	if (!no_checkout) {
		fprintf(stderr, "rill: staging sources of %s to %s\n", e->name, abs);
		if (stage_into(p, e, abs, &err))
			goto out;
	}
	if (workspace_put(p, e->name, abs, 0, NULL, &err))
		goto out;
	fprintf(stderr, "rill: Saved workspace configuration\n");
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "rill: %s\n", err.msg ? err.msg : "workspace open failed");
	error_release(&err);
	if (p)
		project_free(p);
	free(abs);
	return rc;
}

/* The elements named in argv[first..] (or every open workspace with all), each with an open
 * workspace; *n of them, in a heap array. */
static int targets(struct project *p, char **names, int nnames, int all, const char *const **out, size_t *n,
		   struct error *err)
{
	size_t count = 0, i;
	const char *const *open = workspace_list(p, &count, err);
	struct buf missing = BUF_INIT;
	if (!open)
		return -1;
	if (all) {
		*out = open;
		*n = count;
		return 0;
	}
	for (i = 0; i < (size_t)nnames; i++) {
		size_t k;
		int found = 0;
		for (k = 0; k < count && !found; k++)
			found = strcmp(open[k], names[i]) == 0;
		if (!found)
			buf_addf(&missing, "%s%s", missing.len ? "\n" : "", names[i]);
	}
	if (missing.len) {
		error_set(err, "Workspace does not exist\n\n%s", buf_str(&missing));
		buf_release(&missing);
		return -1;
	}
	*out = (const char *const *)names;
	*n = (size_t)nnames;
	return 0;
}

/* A project with no targets: enough to read and write the workspaces' state. */
static struct project *load_none(struct cli *c, struct error *err)
{
	struct element **roots = NULL;
	struct project *p = cli_load(c, NULL, 0, &roots, err);
	free(roots);
	return p;
}

static int cmd_close(struct cli *c, int argc, char **argv)
{
	char **names = xcalloc((size_t)argc + 1, sizeof(*names));
	int nnames = 0, remove_dir = 0, all = 0, i, rc = 1;
	struct error err = ERROR_INIT;
	struct project *p = NULL;
	const char *const *list;
	size_t n, k;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		int used = cli_common_option(c, argc, argv, i, "workspace close ");
		if (used < 0) {
			free(names);
			return 2;
		}
		if (used)
			i += used - 1;
		else if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			return free(names), help(usage_close);
		else if (!strcmp(a, "--remove-dir"))
			remove_dir = 1;
		else if (!strcmp(a, "-a") || !strcmp(a, "--all"))
			all = 1;
		else if (a[0] == '-' && a[1])
			return free(names), cli_usage_error("workspace close ", "no such option: %s", a);
		else
			names[nnames++] = argv[i];
	}
	if (!all && !nnames) {
		fprintf(stderr, "ERROR: no elements specified\n");
		free(names);
		return 1;
	}
	p = load_none(c, &err);
	if (!p)
		goto out;
	if (targets(p, names, nnames, all, &list, &n, &err))
		goto out;
	if (all && !n) {
		fprintf(stderr, "No open workspaces to close\n");
		rc = 0;
		goto out;
	}
	for (k = 0; k < n; k++) {
		char *name = xstrdup(list[k]);
		struct workspace w;
		if (workspace_find(p, name, &w, &err) <= 0) {
			free(name);
			goto out;
		}
		if (remove_dir) {
			char *dir = xstrdup(w.abs);
			fprintf(stderr, "rill: removing workspace directory %s\n", dir);
			if (os_rm_rf(dir, &err)) {
				char *m = xasprintf("Could not remove  '%s': %s", dir, err.msg);
				error_set(&err, "%s", m);
				free(m);
				free(dir);
				free(name);
				goto out;
			}
			free(dir);
		}
		if (workspace_remove(p, name, &err)) {
			free(name);
			goto out;
		}
		fprintf(stderr, "rill: Closed workspace for %s\n", name);
		free(name);
		if (all)
			k--, n--;       /* the list shrank */
	}
	rc = 0;
out:
	if (rc && err.msg)
		fprintf(stderr, "rill: %s\n", err.msg);
	error_release(&err);
	if (p)
		project_free(p);
	free(names);
	return rc;
}

static int cmd_reset(struct cli *c, int argc, char **argv)
{
	char **names = xcalloc((size_t)argc + 1, sizeof(*names));
	int nnames = 0, soft = 0, track = 0, all = 0, i, rc = 1;
	struct error err = ERROR_INIT;
	struct project *p = NULL;
	const char *const *list;
	char **todo = NULL;
	size_t n = 0, k;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		int used = cli_common_option(c, argc, argv, i, "workspace reset ");
		if (used < 0) {
			free(names);
			return 2;
		}
		if (used)
			i += used - 1;
		else if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			return free(names), help(usage_reset);
		else if (!strcmp(a, "--soft"))
			soft = 1;
		else if (!strcmp(a, "--track"))
			track = 1;
		else if (!strcmp(a, "-a") || !strcmp(a, "--all"))
			all = 1;
		else if (a[0] == '-' && a[1])
			return free(names), cli_usage_error("workspace reset ", "no such option: %s", a);
		else
			names[nnames++] = argv[i];
	}
	if (!all && !nnames) {
		error_set(&err, "No elements specified to reset");
		goto out;
	}
	p = load_none(c, &err);
	if (!p || targets(p, names, nnames, all, &list, &n, &err))
		goto out;
	if (all && !n) {
		error_set(&err, "No open workspaces to reset");
		goto out;
	}
	todo = xcalloc(n + 1, sizeof(*todo));
	for (k = 0; k < n; k++)
		todo[k] = xstrdup(list[k]);
	for (k = 0; k < n; k++) {
		struct workspace w;
		struct element *e;
		char *dir;
		if (workspace_find(p, todo[k], &w, &err) <= 0)
			goto out;
		dir = xstrdup(w.abs);
		if (soft) {
			int r = workspace_put(p, todo[k], w.path[0] == '/' ? w.path : dir, 0, NULL, &err);
			if (!r)
				fprintf(stderr, "rill: Reset workspace state for %s at: %s\n", todo[k], dir);
			free(dir);
			if (r)
				goto out;
			continue;
		}
		/* the sources again, as when it was opened: without the workspace while staging */
		if (workspace_remove(p, todo[k], &err)) {
			free(dir);
			goto out;
		}
		project_free(p);
		p = ws_load(c, todo[k], &e, &err);
		if (p)
			p = ready_sources(c, p, &e, track, &err);
		if (!p || os_rm_rf(dir, &err) || os_mkdir_p(dir, &err) || stage_into(p, e, dir, &err) ||
		    workspace_put(p, todo[k], dir, 0, NULL, &err)) {
			free(dir);
			goto out;
		}
		fprintf(stderr, "rill: Reset workspace for %s at: %s\n", todo[k], dir);
		free(dir);
	}
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "rill: %s\n", err.msg ? err.msg : "workspace reset failed");
	error_release(&err);
	if (p)
		project_free(p);
	for (k = 0; todo && k < n; k++)
		free(todo[k]);
	free(todo);
	free(names);
	return rc;
}

static int cmd_list(struct cli *c, int argc, char **argv)
{
	struct error err = ERROR_INIT;
	struct project *p;
	const char *const *list;
	size_t n, k;
	int i;
	for (i = 1; i < argc; i++) {
		int used = cli_common_option(c, argc, argv, i, "workspace list ");
		if (used < 0)
			return 2;
		if (used)
			i += used - 1;
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return help(usage_list);
		else
			return cli_usage_error("workspace list ", "Got unexpected extra argument (%s)", argv[i]);
	}
	p = load_none(c, &err);
	if (!p || !(list = workspace_list(p, &n, &err))) {
		fprintf(stderr, "rill: %s\n", err.msg);
		error_release(&err);
		if (p)
			project_free(p);
		return 1;
	}
	/* bst's YAML */
	if (!n)
		printf("workspaces: []\n");
	else
		printf("workspaces:\n");
	for (k = 0; k < n; k++) {
		struct workspace w;
		if (workspace_find(p, list[k], &w, &err) > 0)
			printf("- element: %s\n  directory: %s\n", list[k], w.abs);
	}
	project_free(p);
	return 0;
}

int cmd_workspace(struct cli *c, int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(usage_workspace, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "open"))
		return cmd_open(c, argc - 1, argv + 1);
	if (!strcmp(argv[1], "close"))
		return cmd_close(c, argc - 1, argv + 1);
	if (!strcmp(argv[1], "reset"))
		return cmd_reset(c, argc - 1, argv + 1);
	if (!strcmp(argv[1], "list"))
		return cmd_list(c, argc - 1, argv + 1);
	return cli_usage_error("workspace ", "No such command \"%s\".", argv[1]);
}
