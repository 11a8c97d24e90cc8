/* main — rill-backend: command line of the backend (currently `show`). It loads the project,
 * prints command output on stdout and errors on stderr, and never touches a terminal otherwise.
 * SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/osutil.h"
#include "base/util.h"
#include "build/job.h"
#include "cache/cas.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "graph/plugin-graph.h"
#include "graph/element.h"
#include "graph/keys.h"
#include "graph/loader.h"
#include "graph/project.h"
#include "graph/select.h"
#include "graph/show.h"

#define RILL_VERSION "0.1.0"

static const char usage_global[] =
	"Usage: rill [OPTIONS] COMMAND [ARGS]...\n"
	"\n"
	"  rill builds BuildStream-format projects (project.conf and .bst elements).\n"
	"\n"
	"Options:\n"
	"  -C, --directory DIR     Project directory (default: the current directory; project.conf\n"
	"                          is searched upwards from it)\n"
	"  -o, --option NAME VALUE Set project option NAME to VALUE (repeatable)\n"
	"  --max-jobs N            Value of the max-jobs variable (default: min(CPUs, 8))\n"
	"  --default-mirror NAME   The mirror to fetch from first (default: the user configuration's\n"
	"                          projects.<name>.default-mirror, else the first mirror listed)\n"
	"  --config FILE           The user configuration (default: rill.conf, else bst's\n"
	"                          buildstream.conf, in $XDG_CONFIG_HOME)\n"
	"  --log-file FILE         Also write the main log of build, fetch, track to FILE\n"
	"  --fetchers N, --builders N, --network-retries N, --on-error ACTION, --no-colors\n"
	"                          As the build, fetch and track options of the same names\n"
	"  --no-interactive        Never ask: a failing job quits the build (--on-error quit)\n"
	"  --error-lines N         Lines of a failed job's log shown (default: 20)\n"
	"  --message-lines N       Lines of a message's detail in the summary (default: 10)\n"
	"  --pushers N             Maximum simultaneous push jobs (build, push; default: 4)\n"
	"  --bst-keys              BuildStream 1.6.8's cache keys, so artifacts are named as bst\n"
	"                          names them and shared with it through a remote cache\n"
	"  --verbose, --debug, --strict\n"
	"                          Accepted as bst accepts them (rill always logs everything and\n"
	"                          builds strictly)\n"
	"  --version               Print the version and exit\n"
	"  -h, --help              Show this message and exit\n"
	"\n"
	"Commands:\n"
	"  init               Initialize a new BuildStream project (project.conf)\n"
	"  build              Build elements in a pipeline\n"
	"  fetch              Fetch sources in a pipeline\n"
	"  track              Track new source references\n"
	"  pull               Pull artifacts from remote artifact caches\n"
	"  push               Push artifacts to remote artifact caches\n"
	"  show               Show elements in the pipeline\n"
	"  shell              Run a command (default: an interactive shell) in an element's sandbox\n"
	"  checkout           Check out an artifact with its runtime dependencies, integrated\n"
	"  source checkout    Stage an element's sources into a directory\n"
	"  source-bundle      A tarball of the sources with scripts that build them without rill\n"
	"  workspace          Open, close, reset or list workspaces (an element's sources to edit)\n"
	"  artifact checkout  Check out an artifact's files (directory, --hardlinks, --tar)\n"
	"  artifact log       Show the build log of an artifact\n"
	"  artifact list-contents  List the files of an artifact\n"
	"  artifact fsck      Verify (and with --repair, fix) the artifact cache\n"
	"  artifact delete    Remove artifacts from the cache\n"
	"  status             Show the state of the project's build (--json, --follow)\n"
	"  attach             Watch the build running in the project (tty or plain frontend)\n"
	"  control            Ask the running build to quit, terminate, suspend, resume, retry\n"
	"\n"
	"Run 'rill COMMAND --help' for a command's options.\n"
	"\n"
	"Environment: RILL_THREADS=N limits the threads loading uses (default: 2 when there are\n"
	"several CPUs); RILL_PLUGIN_DIR overrides where core plugins are found.\n";

static const char usage_show[] =
	"Usage: rill show [OPTIONS] TARGETS...\n"
	"\n"
	"  Show elements in the pipeline. TARGETS are element names relative to the project's\n"
	"  element-path, e.g. hello.bst.\n"
	"\n"
	"Options:\n"
	"  -d, --deps [none|plan|run|build|all]\n"
	"                          The dependencies to show (default: all)\n"
	"  --order [stage|alpha]   Staging or alphabetic ordering of dependencies (default: stage)\n"
	"  -f, --format FORMAT     Format string for each element (default:\n"
	"                          '%{state: >12} %{full-key} %{name} %{workspace-dirs}', as bst)\n"
	"  -o, --option NAME VALUE Set project option NAME to VALUE (repeatable)\n"
	"  --bst-keys              Compute cache keys exactly as BuildStream 1.6.8 does, to check a\n"
	"                          project against bst (slower: quadratic in dependency depth)\n"
	"  -h, --help              Show this message and exit\n"
	"\n"
	"Format symbols:\n"
	"  %{name}         element name           %{key}       abbreviated cache key\n"
	"  %{full-key}     full cache key         %{state}     no reference, fetch needed,\n"
	"  %{kind}         element kind                        cached, buildable or waiting\n"
	"  %{config}       element configuration  %{vars}      resolved variables\n"
	"  %{env}          environment            %{public}    public data\n"
	"  %{deps}         direct dependencies    %{build-deps}, %{runtime-deps}\n"
	"  %{description}  element description\n"
	"  A symbol may carry a format spec: %{name: >20} (fill, alignment < > ^, width).\n";

static void print_warnings(const struct project *p)
{
	size_t i;
	for (i = 0; p && p->warnings && i < p->warnings->u.list.n; i++)
		fprintf(stderr, "rill: warning %s\n", node_str(p->warnings->u.list.items[i]));
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp((*(struct element *const *)a)->name, (*(struct element *const *)b)->name);
}

/* show's %{state}: the artifact under the element's key is in the local cache */
static int show_cached(void *ctx, const struct element *e)
{
	struct project *top = project_top(e->project);
	return e->strict_key[0] && cas_has(ctx, top->name, e->name, e->strict_key);
}

/* The local artifact cache for show, when one exists (show creates none); NULL otherwise. */
static struct cas *show_cas(void)
{
	char *cache = os_cache_dir(), *art = xasprintf("%s/artifacts/refs", cache);
	struct cas *cas = NULL;
	struct error err = ERROR_INIT;
	struct stat sb;
	if (stat(art, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		art[strlen(art) - 5] = '\0';
		cas = cas_open(art, &err);     /* a cache that cannot be opened has nothing cached */
	}
	error_release(&err);
	free(art);
	free(cache);
	return cas;
}

/* cmd_show's project, still reachable at exit (for leak checkers) */
static struct project *volatile kept_project;  /* volatile: a store nobody reads is otherwise dropped */

static int cmd_show(struct cli *c, int argc, char **argv)
{
	const char *deps = "all", *order = "stage", *format = "%{state: >12} %{full-key} %{name} %{workspace-dirs}";
	const char **targets = NULL;
	size_t ntargets = 0, tcap = 0, n = 0, cap = 0, i;
	struct load_params lp = {0};
	struct project *p = NULL;
	struct element **roots = NULL, **list = NULL;
	struct error err = ERROR_INIT;
	struct buf out = BUF_INIT;
	int rc = 1, k;
	char *pdir = NULL;
	struct cas *cas = NULL;
	size_t keep = 0;

	for (k = 1; k < argc; k++) {
		const char *a = argv[k];
		int used;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage_show, stdout);
			rc = 0;
			goto out;
		}
		used = cli_common_option(c, argc, argv, k, "show ");
		if (used < 0) {
			rc = 2;
			goto out;
		}
		if (used) {
			k += used - 1;
			continue;
		}
		if (!strcmp(a, "-d") || !strcmp(a, "--deps") || !strcmp(a, "--order") || !strcmp(a, "-f") ||
		    !strcmp(a, "--format")) {
			if (k + 1 >= argc) {
				rc = cli_usage_error("show ", "Option '%s' requires an argument.", a);
				goto out;
			}
			if (a[1] == 'd' || !strcmp(a, "--deps"))
				deps = argv[++k];
			else if (!strcmp(a, "--order"))
				order = argv[++k];
			else
				format = argv[++k];
			continue;
		}
		if (!strncmp(a, "--deps=", 7) || !strncmp(a, "--format=", 9) || !strncmp(a, "--order=", 8)) {
			const char *v = strchr(a, '=') + 1;
			if (a[2] == 'd')
				deps = v;
			else if (a[2] == 'f')
				format = v;
			else
				order = v;
			continue;
		}
		if (a[0] == '-' && a[1]) {
			rc = cli_usage_error("show ", "No such option: %s", a);
			goto out;
		}
		GROW(targets, tcap, ntargets + 1);
		targets[ntargets++] = a;
	}
	if (strcmp(deps, "none") && strcmp(deps, "plan") && strcmp(deps, "run") && strcmp(deps, "build") &&
	    strcmp(deps, "all")) {
		rc = cli_usage_error("show ", "Invalid value for '--deps': '%s' is not one of 'none', 'plan', 'run', 'build', 'all'.", deps);
		goto out;
	}
	if (strcmp(order, "stage") && strcmp(order, "alpha")) {
		rc = cli_usage_error("show ", "Invalid value for '--order': '%s' is not one of 'stage', 'alpha'.", order);
		goto out;
	}
	if (!ntargets) {
		rc = cli_usage_error("show ", "%s", "Missing argument 'TARGETS...': name at least one element, e.g. 'rill show hello.bst'.");
		goto out;
	}
	if (show_check_format(format, &err))
		goto fail;
	pdir = cli_plugin_dir();
	lp.directory = c->directory;
	lp.options = c->options;
	lp.noptions = c->noptions;
	lp.plugin_dir = pdir;
	lp.max_jobs = c->max_jobs;
	lp.default_mirror = c->default_mirror;
	lp.bst_keys = c->bst_keys;
	lp.open_junction = loader_open_junction;
	lp.junction_sources = &job_junction_sources;
	lp.threads = getenv("RILL_THREADS") ? atoi(getenv("RILL_THREADS")) : 0;
	p = project_load(&lp, &err);
	if (!p)
		goto fail;
	if (loader_load(p, targets, ntargets, &roots, &err))
		goto fail;
	/* everything the targets need (all that was loaded), each after its dependencies, so
	 * keys can be computed; the dependency sort finishes meanwhile on another thread */
	if (keys_resolve_all(p, p->topo, p->ntopo, &err))
		goto fail;
	print_warnings(p);
	if (!strcmp(deps, "plan")) {
		select_plan(p, roots, ntargets, &list, &n);
	} else {
		enum scope sc = !strcmp(deps, "none") ? SCOPE_NONE : !strcmp(deps, "run") ? SCOPE_RUN
							 : !strcmp(deps, "build") ? SCOPE_BUILD : SCOPE_ALL;
		loader_walk(p, roots, ntargets, sc, &list, &n, &cap);
	}
	if (!strcmp(order, "alpha"))
		qsort(list, n, sizeof(*list), cmp_name);
	/* the state, and keys that an open workspace leaves unknown until it is built */
	if ((strstr(format, "%{state") || (p->workspaces && p->workspaces->u.map.n && strstr(format, "key"))) &&
	    (cas = show_cas())) {
		p->artifact_cached = show_cached;
		p->artifact_ctx = cas;
	}
	/* as bst: each line and a newline, the newlines that end the report stripped, one printed;
	 * a symbol's value keeps its own (bst's colour codes protect them): never strip before
	 * `keep`, the end of the last symbol written */
	for (i = 0; i < n; i++) {
		size_t at = show_format(p, list[i], format, &out), w;
		if (at != SIZE_MAX)
			keep = at;
		buf_addch(&out, '\n');
		if (out.len > 1 << 16) {
			for (w = out.len; w > keep && out.data[w - 1] == '\n'; w--)
				;
			fwrite(out.data, 1, w, stdout);
			memmove(out.data, out.data + w, out.len - w);
			out.len -= w;
			keep = 0;
		}
	}
	while (out.len > keep && out.data[out.len - 1] == '\n')
		out.len--;
	buf_addch(&out, '\n');
	fwrite(out.data, 1, out.len, stdout);
	if (fflush(stdout) != 0) {
		error_set(&err, "cannot write output: %s", strerror(errno));
		goto fail;
	}
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "rill: %s\n", err.msg ? err.msg : "unknown error");
	rc = 1;
out:
	buf_release(&out);
	error_release(&err);
	free(targets);
	free(roots);
	free(list);
	free(pdir);
	cas_close(cas);
	/* the process ends here: leave the project's memory to the kernel, which reclaims it
	 * faster than a free of every block (80-100 ms at 60,000 elements) */
	kept_project = p;
	return rc;
}

/* Under LeakSanitizer (make SANITIZE=address): the embedded Python interpreter of the Python
 * bridge keeps its memory until the process exits, by design, as do the bridge's descriptors and
 * the OpenSSL state of its hash modules. */
const char *__lsan_default_suppressions(void);
__attribute__((used)) const char *__lsan_default_suppressions(void)
{
	return "leak:libpython3\nleak:rill-python.so\nleak:libcrypto.so\nleak:libssl.so\n";
}

int main(int argc, char **argv)
{
	struct cli c = {0};
	int i, rc;
	plugin_graph_install();
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		int used;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage_global, stdout);
			return 0;
		}
		if (!strcmp(a, "--version")) {
			printf("rill %s\n", RILL_VERSION);
			return 0;
		}
		used = cli_common_option(&c, argc, argv, i, NULL);
		if (used < 0)
			return 2;
		if (used) {
			i += used - 1;
			continue;
		}
		if (a[0] == '-')
			return cli_usage_error(NULL, "No such option: %s", a);
		break;
	}
	if (i >= argc) {
		fputs(usage_global, stderr);
		return 2;
	}
	if (!strcmp(argv[i], "show"))
		rc = cmd_show(&c, argc - i, argv + i);
	else if (!strcmp(argv[i], "build") || !strcmp(argv[i], "fetch") || !strcmp(argv[i], "track") ||
		 !strcmp(argv[i], "pull") || !strcmp(argv[i], "push"))
		rc = cmd_pipeline(&c, argc - i, argv + i);
	else if (!strcmp(argv[i], "artifact"))
		rc = cmd_artifact(&c, argc - i, argv + i);
	else if (!strcmp(argv[i], "source"))
		rc = cmd_source(&c, argc - i, argv + i);
	else if (!strcmp(argv[i], "shell"))
		rc = cmd_shell(&c, argc - i, argv + i);
	else if (!strcmp(argv[i], "init"))
		rc = cmd_init(&c, argc - i, argv + i);
	else if (!strcmp(argv[i], "checkout"))
		rc = cmd_checkout(&c, argc - i, argv + i);
	else if (!strcmp(argv[i], "source-bundle"))
		rc = cmd_source_bundle(&c, argc - i, argv + i);
	else if (!strcmp(argv[i], "workspace"))
		rc = cmd_workspace(&c, argc - i, argv + i);
	else if (!strcmp(argv[i], "help")) {
		fputs(usage_global, stdout);
		rc = 0;
	} else
		rc = cli_usage_error(NULL, "No such command '%s'.", argv[i]);
	free(c.options);
	return rc;
}
