/* bundle — `rill source-bundle ELEMENT`: what bst 1.6's source-bundle makes. The element and
 * everything it depends on (less --except, and what only those need) are fetched, each one's
 * sources staged in source/<name>/, a build script written for each element that runs
 * commands (source/build-<name>) and one for them all in dependency order (build.sh), and the
 * whole written as <directory>/<name>.tar[.gz|.bz2|.xz], under the directory <name>/. The
 * scripts build on the machine they run on, without rill, installing each element into /.
 * SPDX-License-Identifier: Apache-2.0 */
#include "cli/commands.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/osutil.h"
#include "base/util.h"
#include "build/job.h"
#include "cache/cas.h"
#include "format/variables.h"
#include "graph/element.h"
#include "graph/loader.h"
#include "graph/select.h"

static const char usage_bundle[] =
	"Usage: rill source-bundle [OPTIONS] ELEMENT\n"
	"\n"
	"  Produce a tarball of the element's and its dependencies' sources with scripts that\n"
	"  build them without rill (build.sh), as bst source-bundle does.\n"
	"\n"
	"Options:\n"
	"  --except ELEMENT        Leave out ELEMENT and what only it depends on (repeatable)\n"
	"  --compression [none|gz|bz2|xz]\n"
	"                          Compress the tarball (default: gz)\n"
	"  --force                 Overwrite an existing tarball\n"
	"  --directory DIR         Where to write the tarball (default: the current directory)\n"
	"  --track                 Track new source references first\n"
	"  -h, --help              Show this message and exit\n";

/* Run the pipeline command cmd (fetch, track) on the elements, as `rill CMD` would. */
static int pipeline(struct cli *c, const char *cmd, struct element **list, size_t n)
{
	char **argv = xmalloc((n + 2) * sizeof(*argv));
	int rc;
	argv[0] = (char *)cmd;
	for (size_t i = 0; i < n; i++)
		argv[i + 1] = (char *)list[i]->name;
	argv[n + 1] = NULL;
	rc = cmd_pipeline(c, (int)n + 1, argv);
	free(argv);
	return rc;
}

static void shell_quote(struct buf *b, const char *s)
{
	buf_addch(b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			buf_adds(b, "'\\''");
		else
			buf_addch(b, *s);
	}
	buf_addch(b, '\'');
}

static int write_script(const char *path, const char *text, struct error *err)
{
	if (os_write_file_atomic(path, text, strlen(text), err))
		return -1;
	if (chmod(path, 0755) != 0)
		return error_set(err, "cannot make %s executable: %s", path, strerror(errno));
	return 0;
}

/* source/build-<name> for an element that runs commands; 0 without writing for others. */
static int element_script(struct project *p, struct element *e, const char *dir, const char *normal, int *wrote,
			  struct error *err)
{
	static const char *const steps[] = {"configure-commands", "build-commands", "install-commands",
					    "strip-commands"};
	struct buf b = BUF_INIT;
	const char *broot = variables_get(e->vars, "build-root"), *iroot = variables_get(e->vars, "install-root");
	char *path;
	size_t i, j;
	int rc = -1;
	*wrote = 0;
	if (!e->config || e->config->type != NODE_MAP || !node_map_get(e->config, "install-commands"))
		return 0;       /* not a BuildElement: bst writes no script either */
	buf_addf(&b, "#!/bin/sh\n# Builds %s: written by rill source-bundle.\nset -e\necho 'Building %s'\n", e->name, e->name);
	buf_adds(&b, "build_root=");
	shell_quote(&b, broot ? broot : "/buildstream/build");
	buf_adds(&b, "\ninstall_root=");
	shell_quote(&b, iroot ? iroot : "/buildstream-install");
	buf_addf(&b, "\nrm -rf \"$build_root\" \"$install_root\"\nmkdir -p \"$build_root\" \"$install_root\"\n"
		     "if [ -d \"$SRCDIR/%s/\" ]; then cp -a \"$SRCDIR/%s/.\" \"$build_root\"; fi\ncd \"$build_root\"\n"
		     "export PREFIX=\"$install_root\"\n", normal, normal);
	for (i = 0; e->environment && i < e->environment->u.map.n; i++) {
		buf_addf(&b, "export %s=", e->environment->u.map.entries[i].key);
		shell_quote(&b, node_str(e->environment->u.map.entries[i].value));
		buf_addch(&b, '\n');
	}
	for (i = 0; i < 4; i++) {
		const struct node *l = node_map_get(e->config, steps[i]);
		for (j = 0; l && l->type == NODE_LIST && j < l->u.list.n; j++) {
			const char *cmd;
			if (variables_expand(e->vars, l->u.list.items[j], &cmd, err))
				goto out;
			buf_addf(&b, "(set -ex; %s\n) || exit 1\n", cmd);
		}
	}
	buf_addf(&b, "cd /\nrm -rf \"$build_root\"\necho 'Installing %s'\ncp -a \"$install_root/.\" /\n", e->name);
	path = xasprintf("%s/build-%s", dir, normal);
	rc = write_script(path, buf_str(&b), err);
	free(path);
	*wrote = rc == 0;
	(void)p;
out:
	buf_release(&b);
	return rc;
}

/* The elements from the target, not going through the excepted ones. */
static void select_except(struct project *p, struct element *target, struct element **except, size_t nexcept,
			  struct element ***out, size_t *n)
{
	struct element **all = NULL, **list = NULL, **stack = NULL;
	size_t nall = 0, cap = 0, i, sp = 0, lcap = 0, scap = 0;
	unsigned char *keep = xcalloc(p->nelements + 1, 1);
	loader_walk(p, &target, 1, SCOPE_ALL, &all, &nall, &cap);
	for (i = 0; i < nexcept; i++)
		keep[except[i]->index] = 2;     /* never entered */
	GROW(stack, scap, 1);
	stack[sp++] = target;
	while (sp) {
		struct element *e = stack[--sp];
		if (keep[e->index])
			continue;
		keep[e->index] = 1;
		for (size_t k = 0; k < e->ndeps; k++) {
			GROW(stack, scap, sp + 1);
			stack[sp++] = e->deps[k].element;
		}
	}
	*n = 0;
	for (i = 0; i < nall; i++)      /* in loader_walk's order: dependencies first */
		if (keep[all[i]->index] == 1) {
			GROW(list, lcap, *n + 1);
			list[(*n)++] = all[i];
		}
	*out = list;
	free(all);
	free(stack);
	free(keep);
}

int cmd_source_bundle(struct cli *c, int argc, char **argv)
{
	const char *target = NULL, *compression = "gz", *dir = ".", **excepts = NULL;
	size_t nexcept = 0, ecap = 0, n = 0, i;
	int force = 0, track = 0, k, rc = 1;
	struct error err = ERROR_INIT;
	struct project *p = NULL;
	struct element **roots = NULL, **list = NULL, **except = NULL;
	char *tarpath = NULL, *tmp = NULL, *top = NULL, *srcdir = NULL, *normal = NULL;
	struct buf all = BUF_INIT;
	struct stat st;
	for (k = 1; k < argc; k++) {
		const char *a = argv[k];
		int used = !strcmp(a, "--directory") ? 0 : cli_common_option(c, argc, argv, k, "source-bundle ");
		if (used < 0)
			return 2;
		if (used) {
			k += used - 1;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage_bundle, stdout);
			return 0;
		} else if (!strcmp(a, "--force")) {
			force = 1;
		} else if (!strcmp(a, "--track")) {
			track = 1;
		} else if (!strcmp(a, "--except") || !strcmp(a, "--compression") || !strcmp(a, "--directory")) {
			if (k + 1 >= argc)
				return cli_usage_error("source-bundle ", "Option '%s' requires an argument.", a);
			if (a[2] == 'e') {
				GROW(excepts, ecap, nexcept + 1);
				excepts[nexcept++] = argv[++k];
			} else if (a[2] == 'c') {
				compression = argv[++k];
			} else {
				dir = argv[++k];
			}
		} else if (a[0] == '-' && a[1]) {
			return cli_usage_error("source-bundle ", "No such option: %s", a);
		} else if (!target) {
			target = a;
		} else {
			return cli_usage_error("source-bundle ", "Got unexpected extra argument (%s)", a);
		}
	}
	if (!target)
		return cli_usage_error("source-bundle ", "%s", "Missing argument 'ELEMENT'.");
	if (strcmp(compression, "none") && strcmp(compression, "gz") && strcmp(compression, "bz2") && strcmp(compression, "xz"))
		return cli_usage_error("source-bundle ", "Invalid value for '--compression': '%s' is not one of 'none', 'gz', 'bz2', 'xz'.",
				       compression);
	{
		const char **targets = xmalloc((nexcept + 1) * sizeof(*targets));
		targets[0] = target;
		for (i = 0; i < nexcept; i++)
			targets[i + 1] = excepts[i];
		c->fetch_subprojects = 1;
		p = cli_load(c, targets, nexcept + 1, &roots, &err);
		free(targets);
		if (!p)
			goto fail;
	}
	except = roots + 1;
	select_except(p, roots[0], except, nexcept, &list, &n);
	normal = cas_normal_name(roots[0]->name);
	tarpath = xasprintf("%s/%s.tar%s%s", dir, normal, strcmp(compression, "none") ? "." : "",
			    strcmp(compression, "none") ? compression : "");
	if (!force && stat(tarpath, &st) == 0) {
		error_set(&err, "Cannot write to %s: File exists", tarpath);
		goto fail;
	}
	/* as bst: find out now, before fetching, whether the tarball can be written (the
	 * directory is made first, which bst does not) */
	if (os_mkdir_p(dir, &err)) {
		error_prefix(&err, "Cannot write to %s", tarpath);
		goto fail;
	}
	{
		int fd = open(tarpath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0 && errno != EEXIST) {
			error_set(&err, "Cannot write to %s: %s", tarpath, strerror(errno));
			goto fail;
		}
		if (fd >= 0) {
			close(fd);
			unlink(tarpath);
		}
	}
	fprintf(stderr, "Bundling sources for target %s\n", roots[0]->name);
	if ((track && pipeline(c, "track", list, n)) || pipeline(c, "fetch", list, n)) {
		error_set(&err, "%s", "fetching the sources failed (rill fetch shows why)");
		goto fail;
	}
	/* the fetch may have changed refs (--track): load again to stage what was fetched */
	if (track) {
		const char **targets = xmalloc((nexcept + 1) * sizeof(*targets));
		targets[0] = target;
		for (i = 0; i < nexcept; i++)
			targets[i + 1] = excepts[i];
		project_free(p);
		free(roots);
		free(list);
		p = cli_load(c, targets, nexcept + 1, &roots, &err);
		free(targets);
		if (!p)
			goto fail;
		select_except(p, roots[0], roots + 1, nexcept, &list, &n);
	}
	if (!(tmp = cli_scratch_dir(normal, &err)))
		goto fail;
	top = xasprintf("%s/%s", tmp, normal);
	srcdir = xasprintf("%s/source", top);
	if (os_mkdir_p(srcdir, &err))
		goto fail;
	buf_adds(&all, "#!/bin/sh\n# Builds the bundled elements in order: written by rill source-bundle.\nset -eu\n"
		       "export PATH='/usr/bin:/usr/sbin:/sbin:/bin:/tools/bin:/tools/sbin'\nexport SRCDIR=./source\n"
		       "trap 'echo \"Error building $CURRENT\"' EXIT\nCURRENT=none\n");
	for (i = 0; i < n; i++) {
		struct element *e = list[i];
		char *en = cas_normal_name(e->name), *dest = xasprintf("%s/%s", srcdir, en);
		struct rill_ctx ctx;
		struct job_io io = {-1, -1, NULL};
		int wrote = 0, r;
		io.cache_dir = p->cache_dir;
		job_ctx_init(&ctx, p, e, &io, &err);
		r = element_resolve(p, e, &err) || os_mkdir_p(dest, &err) || job_stage_sources(&ctx, dest) ||
		    element_script(p, e, srcdir, en, &wrote, &err);
		if (!r && wrote) {
			buf_adds(&all, "CURRENT=");
			shell_quote(&all, en);
			buf_addf(&all, "\n\"$SRCDIR/build-%s\"\nif [ -e /sbin/ldconfig ]; then /sbin/ldconfig || true; fi\n", en);
		}
		free(en);
		free(dest);
		if (r)
			goto fail;
	}
	buf_adds(&all, "trap - EXIT\necho Done!\n");
	{
		char *script = xasprintf("%s/build.sh", top);
		int r = write_script(script, buf_str(&all), &err);
		free(script);
		if (r)
			goto fail;
	}
	{
		/* the tree under <name>/, with the host's tar (and its compressor) */
		const char *zflag = !strcmp(compression, "gz") ? "-z" : !strcmp(compression, "bz2") ? "-j"
				  : !strcmp(compression, "xz") ? "-J" : NULL;
		char *out = tarpath[0] == '/' ? xstrdup(tarpath) : NULL;
		char cwd[4096];
		pid_t pid;
		int status = 0;
		if (!out && getcwd(cwd, sizeof(cwd)))
			out = xasprintf("%s/%s", cwd, tarpath);
		if (!out)
			out = xstrdup(tarpath);
		if (os_mkdir_p(dir, &err)) {
			free(out);
			goto fail;
		}
		pid = fork();
		if (pid == 0) {
			const char *args[] = {"tar", "-C", tmp, "--owner=0", "--group=0", "-c", "-f", out,
					      zflag ? zflag : normal, zflag ? normal : NULL, NULL};
			execvp("tar", (char *const *)args);
			_exit(127);
		}
		if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
			error_set(&err, "Cannot write to %s", tarpath);
			unlink(out);
			free(out);
			goto fail;
		}
		free(out);
	}
	fprintf(stderr, "Created %s\n", tarpath);
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "rill: %s\n", err.msg ? err.msg : "source-bundle failed");
	rc = 1;
out:
	if (tmp)
		os_rm_rf(tmp, NULL);
	error_release(&err);
	buf_release(&all);
	project_free(p);
	free(roots);
	free(list);
	free(excepts);
	free(tarpath);
	free(tmp);
	free(top);
	free(srcdir);
	free(normal);
	return rc;
}
