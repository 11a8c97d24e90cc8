/* checkout — `rill checkout`: bst 1.6's `bst checkout ELEMENT LOCATION`. The element's artifact
 * and (by default) its runtime dependencies are staged in a temporary directory, their
 * integration commands run there in the sandbox (--no-integrate: not), and the result is copied
 * to the directory LOCATION (which must be empty unless --force; --hardlinks: linked to the
 * cache's read-only files, only without integration) or written as a tar file (--tar; '-' is
 * standard output). `rill artifact checkout` is the lower-level command without integration.
 * SPDX-License-Identifier: Apache-2.0 */
#include "cli/commands.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/osutil.h"
#include "base/util.h"
#include "build/build.h"
#include "build/sandbox.h"
#include "cache/archive.h"
#include "cache/cas.h"
#include "graph/element.h"
#include "graph/loader.h"
#include "graph/select.h"

static const char usage_checkout[] =
	"Usage: rill checkout [OPTIONS] ELEMENT LOCATION\n"
	"\n"
	"  Check out an artifact and (by default) its runtime dependencies into the directory\n"
	"  LOCATION, after running their integration commands in the sandbox, as bst checkout does.\n"
	"\n"
	"Options:\n"
	"  -f, --force             Allow files in LOCATION to be overwritten\n"
	"  --deps [run|none]       The dependencies to check out (default: run)\n"
	"  --integrate / --no-integrate\n"
	"                          Whether to run integration commands (default: integrate)\n"
	"  --hardlinks             Link the files to the cache's (read-only) files instead of\n"
	"                          copying them (with --no-integrate: integration needs copies)\n"
	"  --tar                   Write a tarball to LOCATION instead of a file tree ('-' for\n"
	"                          standard output)\n"
	"  -h, --help              Show this message and exit\n";

/* cp -a (with -l: links) of src's contents into dest, existing files replaced. */
static int copy_into(const char *src, const char *dest, int links, struct error *err)
{
	char *from = xasprintf("%s/.", src);
	const char *argv[] = {"cp", "-a", "--remove-destination", links ? "-l" : "-a", from, dest, NULL};
	pid_t pid = fork();
	int status = 0;
	if (pid == 0) {
		execvp("cp", (char *const *)argv);
		_exit(127);
	}
	free(from);
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		return error_set(err, "Failed to checkout files into '%s'", dest);
	return 0;
}

/* The relative form of the absolute symlink target (from the root) for a link in the
 * directory dir (relative to the root, "" at the top): Python's os.path.relpath of
 * root/target from root/dir, as bst computes it. Heap. */
static char *relative_target(const char *dir, const char *target)
{
	const char *t[PATH_MAX / 2], *d[PATH_MAX / 2];
	size_t tl[PATH_MAX / 2], dl[PATH_MAX / 2], nt = 0, nd = 0, common = 0;
	struct buf b = BUF_INIT;
	/* split into normalized components ('.' dropped, '..' pops, as normpath) */
	for (int pass = 0; pass < 2; pass++) {
		const char *s = pass ? dir : target, **v = pass ? d : t;
		size_t *vl = pass ? dl : tl, *n = pass ? &nd : &nt;
		while (*s) {
			size_t len = strcspn(s, "/");
			if (len == 2 && s[0] == '.' && s[1] == '.') {
				if (*n)
					(*n)--;
			} else if (len && !(len == 1 && s[0] == '.') && *n < PATH_MAX / 2) {
				v[*n] = s;
				vl[(*n)++] = len;
			}
			s += len;
			while (*s == '/')
				s++;
		}
	}
	while (common < nt && common < nd && tl[common] == dl[common] && !memcmp(t[common], d[common], tl[common]))
		common++;
	for (size_t i = common; i < nd; i++)
		buf_adds(&b, i > common ? "/.." : "..");
	for (size_t i = common; i < nt; i++) {
		if (b.len)
			buf_addch(&b, '/');
		buf_add(&b, t[i], tl[i]);
	}
	if (!b.len)
		buf_addch(&b, '.');
	return buf_detach(&b);
}

/* As bst's copy_files() and link_files(): symlinks to absolute paths in the checkout become
 * relative ones to the same place inside it (a checkout is not the root of a system). */
static int relative_links(const char *root, const char *rel, struct error *err)
{
	char *path = rel[0] ? xasprintf("%s/%s", root, rel) : xstrdup(root);
	DIR *d = opendir(path);
	struct dirent *de;
	int rc = 0;
	if (!d) {
		error_set(err, "cannot read '%s': %s", path, strerror(errno));
		free(path);
		return -1;
	}
	while (!rc && (de = readdir(d))) {
		char *sub, *full, target[PATH_MAX];
		struct stat sb;
		ssize_t n;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		sub = rel[0] ? xasprintf("%s/%s", rel, de->d_name) : xstrdup(de->d_name);
		full = xasprintf("%s/%s", root, sub);
		if (lstat(full, &sb) == 0 && S_ISDIR(sb.st_mode)) {
			rc = relative_links(root, sub, err);
		} else if (S_ISLNK(sb.st_mode) && (n = readlink(full, target, sizeof(target) - 1)) > 0 &&
			   target[0] == '/') {
			char *fixed;
			target[n] = '\0';
			fixed = relative_target(rel, target);
			if (unlink(full) || symlink(fixed, full))
				rc = error_set(err, "cannot rewrite symlink '%s': %s", full, strerror(errno));
			free(fixed);
		}
		free(sub);
		free(full);
	}
	closedir(d);
	free(path);
	return rc;
}

/* The integration commands of the staged elements, in order, in one sandbox rooted at root. */
static int integrate(struct one *o, struct element **list, size_t n, const char *root, struct error *err)
{
	const char **cmds = NULL, **env;
	size_t ncmds = 0, i, nenv = 0, failed = 0;
	struct sandbox sb = {0};
	int status = 0, rc = -1;
	for (i = 0; i < n; i++)
		if (element_resolve(o->p, list[i], err))
			goto out;
	if (build_integration_commands(list, n, &cmds, NULL, &ncmds, err))
		goto out;
	if (!ncmds)
		return 0;
	if (sandbox_check(err))
		goto out;
	/* the mount points the sandbox makes (and the device files bwrap binds into /dev) are not
	 * part of the checkout: those that did not exist before are removed after */
	static const char *const points[] = {"dev", "proc", "tmp"};
	int existed[3];
	for (i = 0; i < 3; i++) {
		char *pth = xasprintf("%s/%s", root, points[i]);
		struct stat st;
		existed[i] = lstat(pth, &st) == 0;
		free(pth);
	}
	env = xmalloc((o->e->environment->u.map.n + 1) * sizeof(*env));
	for (i = 0; i < o->e->environment->u.map.n; i++)
		env[nenv++] = xasprintf("%s=%s", o->e->environment->u.map.entries[i].key,
					node_str(o->e->environment->u.map.entries[i].value));
	env[nenv] = NULL;
	sb.root = root;
	sb.env = env;
	sb.nenv = nenv;
	sb.uid = o->e->build_uid;
	sb.gid = o->e->build_gid;
	sb.cwd = "/";
	if (sandbox_run_commands(&sb, cmds, ncmds, 2, NULL, NULL, &failed, &status, err) == 0) {
		if (failed < ncmds)
			error_set(err, "Error while staging dependencies into a sandbox: 'Command '%s' failed with exitcode %d'",
				  cmds[failed], status);
		else
			rc = 0;
	}
	for (i = 0; i < 3; i++) {
		if (!existed[i]) {
			char *pth = xasprintf("%s/%s", root, points[i]);
			os_rm_rf(pth, NULL);
			free(pth);
		}
	}
	for (i = 0; i < nenv; i++)
		free((char *)env[i]);
	free(env);
out:
	free(cmds);
	return rc;
}

int cmd_checkout(struct cli *c, int argc, char **argv)
{
	const char *target = NULL, *location = NULL, *deps = "run";
	int force = 0, integ = 1, hardlinks = 0, tar = 0, k, rc = 1;
	struct one o;
	struct error err = ERROR_INIT;
	struct element **list = NULL;
	size_t n = 0, cap = 0, i;
	char *tmp = NULL;
	struct stat st;
	for (k = 1; k < argc; k++) {
		const char *a = argv[k];
		int used = cli_common_option(c, argc, argv, k, "checkout ");
		if (used < 0)
			return 2;
		if (used) {
			k += used - 1;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage_checkout, stdout);
			return 0;
		} else if (!strcmp(a, "-f") || !strcmp(a, "--force")) {
			force = 1;
		} else if (!strcmp(a, "--integrate") || !strcmp(a, "--no-integrate")) {
			integ = a[2] == 'i';
		} else if (!strcmp(a, "--hardlinks")) {
			hardlinks = 1;
		} else if (!strcmp(a, "--tar")) {
			tar = 1;
		} else if (!strcmp(a, "--deps") || !strncmp(a, "--deps=", 7)) {
			deps = a[6] == '=' ? a + 7 : k + 1 < argc ? argv[++k] : NULL;
			if (!deps || (strcmp(deps, "run") && strcmp(deps, "none")))
				return cli_usage_error("checkout ", "Invalid value for '--deps': '%s' is not one of 'run', 'none'.",
						       deps ? deps : "");
		} else if (a[0] == '-' && a[1]) {
			return cli_usage_error("checkout ", "No such option: %s", a);
		} else if (!target) {
			target = a;
		} else if (!location) {
			location = a;
		} else {
			return cli_usage_error("checkout ", "Got unexpected extra argument (%s)", a);
		}
	}
	if (!target || !location)
		return cli_usage_error("checkout ", "%s", !target ? "Missing argument 'ELEMENT'." : "Missing argument 'LOCATION'.");
	/* bst's checks of the location, before anything is staged */
	if (!tar) {
		if (os_mkdir_p(location, &err)) {
			error_prefix(&err, "Failed to create checkout directory");
			goto fail;
		}
		if (access(location, W_OK) != 0) {
			error_set(&err, "Checkout directory '%s' not writable", location);
			goto fail;
		}
		if (!force && !os_dir_empty(location)) {
			error_set(&err, "Checkout directory '%s' not empty", location);
			goto fail;
		}
	} else if (strcmp(location, "-") && stat(location, &st) == 0) {
		if (access(location, W_OK) != 0) {
			error_set(&err, "Output file '%s' not writable", location);
			goto fail;
		}
		if (!force) {
			error_set(&err, "Output file '%s' already exists", location);
			goto fail;
		}
	}
	if (load_one(c, target, &o, &err))
		goto fail;
	loader_walk(o.p, &o.e, 1, !strcmp(deps, "run") ? SCOPE_RUN : SCOPE_NONE, &list, &n, &cap);
	if (!(tmp = cli_scratch_dir("checkout", &err)))
		goto release;
	for (i = 0; i < n; i++) {
		struct cas_artifact *a;
		if (cas_artifact_open(o.cas, o.p->name, list[i]->name, list[i]->strict_key, &a, &err)) {
			error_prefix(&err, "%s is not built: run 'rill build %s'", list[i]->name, o.e->name);
			goto release;
		}
		/* integration changes files: only an unintegrated checkout may link the cache's */
		rc = cas_artifact_stage(o.cas, a, tmp, hardlinks && !integ, NULL, NULL, NULL, &err);
		cas_artifact_free(a);
		if (rc) {
			rc = 1;
			goto release;
		}
	}
	rc = 1;
	if (integ && integrate(&o, list, n, tmp, &err))
		goto release;
	if (tar ? archive_write_tar(tmp, location, &err)
		: copy_into(tmp, location, hardlinks && !integ, &err) || relative_links(location, "", &err))
		goto release;
	rc = 0;
release:
	if (tmp)
		os_rm_rf(tmp, NULL);
	one_release(&o);
	free(list);
	free(tmp);
	if (rc == 0)
		return 0;
fail:
	fprintf(stderr, "rill: %s\n", err.msg ? err.msg : "checkout failed");
	error_release(&err);
	return 1;
}
