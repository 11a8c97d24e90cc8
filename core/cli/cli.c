/* cli — what the backend's commands share: usage errors, the options every command takes, the
 * plugin directory and loading a project with its targets.
 * SPDX-License-Identifier: Apache-2.0 */
#include "cli/cli.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/osutil.h"
#include "build/job.h"
#include "graph/element.h"
#include "graph/keys.h"
#include "graph/loader.h"

int cli_usage_error(const char *cmd, const char *fmt, const char *arg)
{
	fprintf(stderr, "Usage: rill %s[OPTIONS]%s\nTry 'rill %s--help' for help.\n\nError: ", cmd ? cmd : "",
		cmd ? " TARGETS..." : " COMMAND [ARGS]...", cmd ? cmd : "");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return 2;
}

/* Options accepted both before the command and after it. Returns args consumed, 0 if not one,
 * -1 on a usage error (message printed). */
int cli_common_option(struct cli *c, int argc, char **argv, int i, const char *cmd)
{
	const char *a = argv[i];
	if (!strcmp(a, "-C") || !strcmp(a, "--directory")) {
		if (i + 1 >= argc)
			return cli_usage_error(cmd, "Option '%s' requires an argument.", a), -1;
		c->directory = argv[i + 1];
		return 2;
	}
	if (!strcmp(a, "-o") || !strcmp(a, "--option")) {
		if (i + 2 >= argc)
			return cli_usage_error(cmd, "Option '%s' requires 2 arguments.", a), -1;
		GROW(c->options, c->options_cap, c->noptions + 1);
		c->options[c->noptions].name = argv[i + 1];
		c->options[c->noptions].value = argv[i + 2];
		c->noptions++;
		return 3;
	}
	if (!strcmp(a, "--default-mirror")) {
		if (i + 1 >= argc)
			return cli_usage_error(cmd, "Option '%s' requires an argument.", a), -1;
		c->default_mirror = argv[i + 1];
		return 2;
	}
	if (!strcmp(a, "--bst-keys")) {
		c->bst_keys = 1;
		return 1;
	}
	if (!strcmp(a, "--max-jobs")) {
		char *end;
		long v;
		if (i + 1 >= argc)
			return cli_usage_error(cmd, "Option '%s' requires an argument.", a), -1;
		v = strtol(argv[i + 1], &end, 10);
		if (*end || v < 0 || v > 4096)
			return cli_usage_error(cmd, "Invalid value for '--max-jobs': '%s' is not a valid count.", argv[i + 1]), -1;
		c->max_jobs = (int)v;
		return 2;
	}
	return 0;
}

char *cli_scratch_dir(const char *prefix, struct error *err)
{
	char *cache = os_cache_dir(), *parent = xasprintf("%s/build", cache), *dir;
	free(cache);
	if (os_mkdir_p(parent, err)) {
		free(parent);
		return NULL;
	}
	dir = xasprintf("%s/%s-XXXXXX", parent, prefix);
	free(parent);
	if (!mkdtemp(dir)) {
		error_set(err, "cannot create a temporary directory: %s", strerror(errno));
		free(dir);
		return NULL;
	}
	return dir;
}

char *cli_plugin_dir(void)
{
	const char *env = getenv("RILL_PLUGIN_DIR");
	char exe[PATH_MAX], *slash, *d;
	ssize_t n;
	struct stat st;
	if (env && *env)
		return xstrdup(env);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return xstrdup("plugins");
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	*slash = '\0';
	d = xasprintf("%s/plugins", exe);
	if (stat(d, &st) == 0 && S_ISDIR(st.st_mode))
		return d;
	free(d);
	return xasprintf("%s/../lib/rill/plugins", exe);
}

struct project *cli_load(struct cli *c, const char *const *targets, size_t n, struct element ***roots,
			 struct error *err)
{
	struct load_params lp = {0};
	struct project *p;
	char *pdir = cli_plugin_dir(), *cache = os_cache_dir();
	lp.directory = c->directory;
	lp.options = c->options;
	lp.noptions = c->noptions;
	lp.plugin_dir = pdir;
	lp.max_jobs = c->max_jobs;
	lp.default_mirror = c->default_mirror;
	lp.bst_keys = c->bst_keys;
	lp.cache_dir = cache;
	lp.fetch_subprojects = c->fetch_subprojects;
	lp.open_junction = loader_open_junction;
	lp.junction_sources = &job_junction_sources;
	lp.threads = getenv("RILL_THREADS") ? atoi(getenv("RILL_THREADS")) : 0;
	p = project_load(&lp, err);
	if (p) {
		p->plugin_dir = arena_strdup(p->a, pdir);
		p->cache_dir = arena_strdup(p->a, cache);
		p->fetch_subprojects = c->fetch_subprojects;
		if (loader_load(p, targets, n, roots, err) || keys_resolve_all(p, p->topo, p->ntopo, err)) {
			project_free(p);
			p = NULL;
		}
	}
	free(pdir);
	free(cache);
	return p;
}
