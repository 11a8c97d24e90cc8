/* build — one element's build in a job process: sysroot staging, sandboxed commands, collect
 * and commit. Staged artifacts are hardlinks to the cache's read-only objects; before any
 * command that may write to / runs, they are replaced by copies, so no build can modify the
 * cache.
 * SPDX-License-Identifier: Apache-2.0 */
#define _XOPEN_SOURCE 700
#include "build/build.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/glob.h"
#include "base/osutil.h"
#include "build/overlap.h"
#include "build/sandbox.h"
#include "cache/spare.h"
#include "format/variables.h"
#include "format/yamldump.h"
#include "graph/keys.h"
#include "graph/loader.h"
#include "graph/plugin.h"
#include "graph/pluginctx.h"

struct build {
	struct project *p;
	struct element *e;
	struct cas *cas;
	const struct job_io *io;
	char *dir;                      /* the build directory (kept on failure) */
	char *root;                     /* dir/root: the sysroot, / in the sandbox */
	int linked;                     /* root holds hardlinks into the cache */
	struct spare_dirs spares;       /* directories to reuse, in dir */
	int pristine;                   /* root holds only what staging put there (and the
					   directories of the rw dirs): its directories can be
					   reused (spare_park) */
	struct element **staged;        /* dependencies staged, in order (for integration) */
	size_t nstaged, staged_cap;
	char *collect;                  /* sandbox path collected as the artifact */
	char *ws_at;                    /* the sandbox path the open workspace is mounted at */
	char **marked;                  /* more writable sandbox directories (mark_directory) */
	size_t nmarked, marked_cap;
	struct overlaps *overlaps;      /* files the current staging replaced */
};

static struct build *B(struct rill_ctx *c)
{
	return c->b;
}

const char *build_host_path(struct rill_ctx *c, const char *path)
{
	struct build *b = B(c);
	char *full;
	const char *r;
	if (!b)
		return NULL;
	b->pristine = 0;        /* the plugin may write anywhere through it */
	while (path[0] == '/' && path[1] == '/')
		path++;
	full = xasprintf("%s%s%s", b->root, path[0] == '/' ? "" : "/", strcmp(path, "/") ? path : "");
	r = arena_strdup(c->a, full);
	free(full);
	return r;
}

/* Staging -------------------------------------------------------------------------------- */

struct stage_ud {
	struct build *b;
	const struct element *dep;
	const struct node *rules;               /* split-rules map of the dep, for split staging */
	const struct node *include, *exclude;   /* lists of domain names (include NULL: all) */
	int orphans;
	int split;
	size_t index;                           /* position of dep in the staging */
};

static void on_overlap(void *ud, const char *path)
{
	struct stage_ud *u = ud;
	overlaps_note(u->b->overlaps, path, u->index);
}

static int in_list(const struct node *list, const char *name)
{
	size_t i;
	for (i = 0; list && list->type == NODE_LIST && i < list->u.list.n; i++)
		if (node_str(list->u.list.items[i]) && !strcmp(node_str(list->u.list.items[i]), name))
			return 1;
	return 0;
}

/* Split selection: in an included domain and in no excluded one, or in no domain at all when
 * orphans are wanted. */
static int want_split(void *ud, const char *path)
{
	struct stage_ud *u = ud;
	char *abs = xasprintf("/%s", path);
	int in_any = 0, included = 0, excluded = 0;
	size_t i, j;
	for (i = 0; u->rules && u->rules->type == NODE_MAP && i < u->rules->u.map.n; i++) {
		const char *domain = u->rules->u.map.entries[i].key;
		const struct node *pats = u->rules->u.map.entries[i].value;
		int hit = 0;
		for (j = 0; pats && pats->type == NODE_LIST && j < pats->u.list.n && !hit; j++) {
			const char *pat = node_str(pats->u.list.items[j]);
			hit = pat && glob_match(pat, abs);
		}
		if (!hit)
			continue;
		in_any = 1;
		if (!u->include || in_list(u->include, domain))
			included = 1;
		if (in_list(u->exclude, domain))
			excluded = 1;
	}
	free(abs);
	if (excluded)
		return 0;
	return in_any ? included : u->orphans;
}

static const struct node *split_rules_of(const struct element *e)
{
	const struct node *bst = e->public ? node_map_get(e->public, "bst") : NULL;
	return bst && bst->type == NODE_MAP ? node_map_get(bst, "split-rules") : NULL;
}

static int stage_artifact(struct build *b, struct cas_stager *st, struct element *dep, struct stage_ud *u,
			  int link, struct error *err)
{
	struct cas_artifact *art;
	int rc;
	if (cas_artifact_open(b->cas, b->p->name, dep->name, dep->strict_key, &art, err))
		return error_prefix(err, "%s: dependency %s is not built", b->e->name, dep->name);
	u->b = b;
	u->dep = dep;
	rc = cas_stager_add(st, art, link, u->split ? want_split : NULL, on_overlap, u, err);
	cas_artifact_free(art);
	return rc;
}

static void note_staged(struct build *b, struct element *dep)
{
	size_t i;
	for (i = 0; i < b->nstaged; i++)
		if (b->staged[i] == dep)
			return;
	GROW(b->staged, b->staged_cap, b->nstaged + 1);
	b->staged[b->nstaged++] = dep;
}

static int host_dir(struct rill_ctx *c, const char *path, char **out)
{
	*out = xasprintf("%s%s", B(c)->root, path[0] == '/' ? path : "/");
	if (path[0] != '/') {
		free(*out);
		*out = xasprintf("%s/%s", B(c)->root, path);
	}
	return os_mkdir_p(*out, c->err);
}

/* The files one staged dependency wrote, for the overlap report (split selection applied). */
struct files_ud {
	struct build *b;
	struct element **list;
	const struct stage_ud *tmpl;
	struct stage_ud u;
	void (*seen)(void *sud, const char *path);
	void *sud;
};

static int file_entry(void *ud, const struct cas_entry *e)
{
	struct files_ud *f = ud;
	if (e->type != CAS_DIR && (!f->u.split || want_split(&f->u, e->path)))
		f->seen(f->sud, e->path);
	return 0;
}

static int dep_files(void *ud, size_t dep, void (*seen)(void *sud, const char *path), void *sud,
		     struct error *err)
{
	struct files_ud *f = ud;
	struct element *d = f->list[dep];
	struct cas_artifact *art;
	int rc;
	if (cas_artifact_open(f->b->cas, f->b->p->name, d->name, d->strict_key, &art, err))
		return -1;
	f->u = *f->tmpl;
	f->u.b = f->b;
	f->u.dep = d;
	f->u.rules = split_rules_of(d);
	f->seen = seen;
	f->sud = sud;
	rc = cas_artifact_walk(f->b->cas, art, file_entry, f, err);
	cas_artifact_free(art);
	return rc;
}

/* BuildStream's "Non-whitelisted overlaps detected" after staging list: a warning, or an
 * error with the `overlaps` fatal warning (fail-on-overlap). */
static int report_overlaps(struct rill_ctx *c, struct element **list, size_t n, const struct stage_ud *tmpl)
{
	struct files_ud f = {B(c), list, tmpl, {0}, NULL, NULL};
	struct buf detail = BUF_INIT, text = BUF_INIT;
	const char *p;
	int rc = overlaps_report(B(c)->overlaps, c->a, list, n, dep_files, &f, &detail, c->err);
	if (rc <= 0) {
		buf_release(&detail);
		return rc;
	}
	buf_adds(&text, "[overlaps]: Non-whitelisted overlaps detected");
	for (p = buf_str(&detail); *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		buf_addf(&text, "\n    %.*s", (int)len, p);
		p += len + (nl ? 1 : 0);
	}
	if (plugin_is_fatal(c->p, "overlaps")) {
		rc = error_set(c->err, "%s", buf_str(&text));
	} else {
		job_report(c, RILL_MSG_WARN, "%s", buf_str(&text));
		rc = 0;
	}
	buf_release(&detail);
	buf_release(&text);
	return rc;
}

static int stage_list(struct rill_ctx *c, struct element **list, size_t n, const char *path,
		      struct stage_ud *tmpl)
{
	struct build *b = B(c);
	struct cas_stager *st;
	char *dest;
	size_t i;
	int rc = 0;
	if (!b)
		return error_set(c->err, "staging is only possible while assembling");
	if (host_dir(c, path, &dest))
		return -1;
	st = cas_stager_new(b->cas, dest, spare_mkdirat, &b->spares, c->err);
	rc = st ? 0 : -1;
	for (i = 0; i < n && !rc; i++) {
		struct stage_ud u = *tmpl;
		u.rules = split_rules_of(list[i]);
		u.index = i;
		rc = stage_artifact(b, st, list[i], &u, !u.split, c->err);
		if (!rc) {
			if (!u.split)
				b->linked = 1;
			note_staged(b, list[i]);
		}
	}
	cas_stager_free(st);
	free(dest);
	return rc ? rc : report_overlaps(c, list, n, tmpl);
}

int build_host_stage_deps(struct rill_ctx *c, const char *path)
{
	struct element **list = NULL;
	size_t n = 0, cap = 0;
	struct stage_ud u = {0};
	int rc;
	job_host_status(c, "Staging dependencies at %s", path);
	loader_walk(c->p, &c->e, 1, SCOPE_BUILD, &list, &n, &cap);
	rc = stage_list(c, list, n, path, &u);
	free(list);
	return rc;
}

static struct element *find_build_dep(struct rill_ctx *c, const char *name)
{
	size_t i;
	for (i = 0; i < c->e->nbuild_deps; i++)
		if (!strcmp(c->e->build_deps[i]->name, name))
			return c->e->build_deps[i];
	error_set(c->err, "%s: '%s' is not a build dependency", c->e->name, name);
	return NULL;
}

int build_host_stage_dep(struct rill_ctx *c, const char *element, const char *path)
{
	struct element *d = find_build_dep(c, element), **list = NULL;
	size_t n = 0, cap = 0;
	struct stage_ud u = {0};
	int rc;
	if (!d)
		return -1;
	job_host_status(c, "Staging %s at %s", element, path);
	loader_walk(c->p, &d, 1, SCOPE_ALL, &list, &n, &cap);
	rc = stage_list(c, list, n, path, &u);
	free(list);
	return rc;
}

int build_host_stage_split(struct rill_ctx *c, const char *element, const struct rill_node *include,
			   const struct rill_node *exclude, int orphans, const char *path)
{
	struct element **list = NULL;
	size_t n = 0, cap = 0;
	struct stage_ud u = {0};
	int rc;
	u.split = 1;
	u.include = (const struct node *)include;
	u.exclude = (const struct node *)exclude;
	u.orphans = orphans;
	if (element) {
		struct element *d = find_build_dep(c, element);
		if (!d)
			return -1;
		list = xmalloc(sizeof(*list));
		list[0] = d;
		n = 1;
	} else {
		loader_walk(c->p, &c->e, 1, SCOPE_BUILD, &list, &n, &cap);
	}
	job_host_status(c, "Staging %s%s at %s", element ? element : "dependencies", " (split)", path);
	rc = stage_list(c, list, n, path, &u);
	free(list);
	return rc;
}

/* Replace every hardlink into the cache in the sysroot by a private copy. */
static struct build *delink_build;
static int delink_failed;

static int delink_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	char *tmp;
	int in, out;
	(void)ftw;
	if (type != FTW_F || !S_ISREG(st->st_mode) || st->st_nlink < 2)
		return 0;
	tmp = xasprintf("%s.rill-copy", path);
	in = open(path, O_RDONLY | O_CLOEXEC);
	out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st->st_mode & 07777);
	if (in < 0 || out < 0) {
		delink_failed = errno;
	} else {
		char buf[65536];
		ssize_t n;
		while ((n = read(in, buf, sizeof(buf))) > 0)
			if (os_write_all(out, buf, (size_t)n)) {
				n = -1;
				break;
			}
		if (n < 0 || close(out) || rename(tmp, path))
			delink_failed = errno ? errno : EIO;
		out = -1;
	}
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	if (delink_failed)
		unlink(tmp);
	free(tmp);
	return delink_failed ? 1 : 0;
}

static int delink(struct rill_ctx *c)
{
	struct build *b = B(c);
	b->pristine = 0;        /* commands may change anything in it now */
	if (!b->linked)
		return 0;
	delink_build = b;
	delink_failed = 0;
	if (nftw(b->root, delink_one, 32, FTW_PHYS) || delink_failed)
		return error_set(c->err, "%s: cannot make the sysroot writable: %s", c->e->name,
				 strerror(delink_failed ? delink_failed : errno));
	b->linked = 0;
	return 0;
}

/* Running commands ----------------------------------------------------------------------- */

struct batch_log {
	struct rill_ctx *c;
	const char *const *cmds, *const *notes;
};

/* Just before command i starts: its step's status (when it opens one) and the command. */
static void log_command(void *ud, size_t i)
{
	struct batch_log *l = ud;
	if (l->notes && l->notes[i])
		job_host_status(l->c, "%s", l->notes[i]);
	job_report(l->c, RILL_MSG_LOG, "Running: %s", l->cmds[i]);
}

/* The element's sandbox for running commands: flags as rill-plugin.h's, cwd NULL for the build
 * root, envv NULL for the element's environment. *env is the caller's to free (sandbox_done). */
struct run_setup {
	struct sandbox sb;
	const char *ws_from, *ws_to;
	const char **rw;
	const char **env;
	size_t nenv;
};

static int sandbox_setup(struct rill_ctx *c, unsigned flags, const char *cwd, const char *const *envv,
			 struct run_setup *rs)
{
	struct build *b = B(c);
	struct element *e = c->e;
	const char *build_root = variables_get(e->vars, "build-root");
	const char *install_root = variables_get(e->vars, "install-root");
	struct stat st;
	size_t i, n;
	char *sh;
	memset(rs, 0, sizeof(*rs));
	if (!b)
		return error_set(c->err, "commands can only run while assembling");
	if (!(flags & RILL_RUN_ROOT_READ_ONLY) && delink(c))
		return -1;
	sh = xasprintf("%s/bin/sh", b->root);
	if (lstat(sh, &st)) {
		free(sh);
		return error_set(c->err, "%s: Staged artifacts do not provide command 'sh'", e->name);
	}
	free(sh);
	rs->rw = xmalloc((2 + b->nmarked) * sizeof(*rs->rw));
	rs->rw[0] = build_root ? build_root : "/buildstream/build";
	rs->rw[1] = install_root ? install_root : "/buildstream-install";
	for (i = 0; i < b->nmarked; i++)
		rs->rw[2 + i] = b->marked[i];
	if (envv) {
		for (n = 0; envv[n]; n++)
			;
		rs->env = xmalloc((n + 1) * sizeof(*rs->env));
		for (i = 0; i < n; i++)
			rs->env[rs->nenv++] = xstrdup(envv[i]);
	} else {
		n = e->environment ? e->environment->u.map.n : 0;
		rs->env = xmalloc((n + 1) * sizeof(*rs->env));
		for (i = 0; i < n; i++)
			rs->env[rs->nenv++] = xasprintf("%s=%s", e->environment->u.map.entries[i].key,
							node_str(e->environment->u.map.entries[i].value));
	}
	rs->env[rs->nenv] = NULL;
	rs->sb.root = b->root;
	rs->sb.rw_dirs = rs->rw;
	rs->sb.nrw = 2 + b->nmarked;
	if (b->ws_at) {
		/* the workspace itself, writable: builds in it are incremental, as in bst */
		rs->ws_from = e->workspace;
		rs->ws_to = b->ws_at;
		rs->sb.bind_from = &rs->ws_from;
		rs->sb.bind_to = &rs->ws_to;
		rs->sb.nbind = 1;
	}
	rs->sb.env = rs->env;
	rs->sb.nenv = rs->nenv;
	rs->sb.uid = e->build_uid;
	rs->sb.gid = e->build_gid;
	rs->sb.cwd = cwd ? cwd : rs->rw[0];
	rs->sb.flags = ((flags & RILL_RUN_ROOT_READ_ONLY) ? SANDBOX_ROOT_READ_ONLY : 0) |
		       ((flags & RILL_RUN_DEV_SHM) ? SANDBOX_DEV_SHM : 0);
	rs->sb.make_dir = spare_mkdirat;
	rs->sb.make_dir_ud = &b->spares;
	return 0;
}

static void sandbox_done(struct run_setup *rs)
{
	size_t i;
	free(rs->rw);
	for (i = 0; i < rs->nenv; i++)
		free((char *)rs->env[i]);
	free(rs->env);
}

/* Run cmds in one sandbox (see build_host_run_commands). */
static int run_batch(struct rill_ctx *c, const char *const *cmds, const char *const *notes, size_t n,
		     unsigned flags, const char *cwd)
{
	struct run_setup rs;
	const char **scripts;
	size_t i, failed;
	struct batch_log log = {c, cmds, notes};
	int status = 0, rc;
	if (!B(c))
		return error_set(c->err, "commands can only run while assembling");
	if (!n)
		return 0;
	if (sandbox_setup(c, flags, cwd, NULL, &rs))
		return -1;
	/* BuildStream runs each command as `sh -c -e "<cmd>\n"` */
	scripts = xmalloc(n * sizeof(*scripts));
	for (i = 0; i < n; i++)
		scripts[i] = xasprintf("%s\n", cmds[i]);
	rc = sandbox_run_commands(&rs.sb, scripts, n, c->log_fd, log_command, &log, &failed, &status, c->err);
	for (i = 0; i < n; i++)
		free((char *)scripts[i]);
	free(scripts);
	sandbox_done(&rs);
	if (rc)
		return -1;
	if (status)
		return error_set(c->err, "Command '%s' failed with exitcode %d", cmds[failed], status);
	return 0;
}

static int build_host_workspace_prepared(struct rill_ctx *c)
{
	return c->e && c->e->workspace && c->e->workspace_prepared;
}

static int build_host_mark_directory(struct rill_ctx *c, const char *path)
{
	struct build *b = B(c);
	if (!b)
		return error_set(c->err, "directories can only be marked while assembling");
	b->pristine = 0;        /* the plugin writes there itself */
	GROW(b->marked, b->marked_cap, b->nmarked + 1);
	b->marked[b->nmarked++] = xstrdup(path);
	return 0;
}

/* host->run_argv: one command as given (BuildStream's Sandbox.run); its status is returned. */
static int build_host_run_argv(struct rill_ctx *c, const char *const *argv, unsigned flags, const char *cwd,
			       const char *const *envv, int *status)
{
	struct run_setup rs;
	struct buf line = BUF_INIT;
	size_t i;
	int rc;
	*status = -1;
	if (!argv || !argv[0])
		return error_set(c->err, "%s: Sandbox.run() needs a command", c->e->name);
	if (sandbox_setup(c, flags, cwd, envv, &rs))
		return -1;
	for (i = 0; argv[i]; i++)
		buf_addf(&line, "%s%s", i ? " " : "", argv[i]);
	job_report(c, RILL_MSG_LOG, "Running: %s", buf_str(&line));
	buf_release(&line);
	rc = sandbox_run(&rs.sb, argv, c->log_fd, status, c->err);
	sandbox_done(&rs);
	return rc;
}

int build_host_run(struct rill_ctx *c, const char *cmd, unsigned flags, const char *cwd)
{
	return run_batch(c, &cmd, NULL, 1, flags, cwd);
}

int build_host_run_commands(struct rill_ctx *c, const char *const *cmds, const char *const *notes,
			    size_t n, unsigned flags, const char *cwd)
{
	return run_batch(c, cmds, notes, n, flags, cwd);
}

int build_integration_commands(struct element *const *els, size_t n, const char ***cmds, char ***notes,
			       size_t *ncmds, struct error *err)
{
	size_t i, j, cap = 0, ncap = 0;
	*cmds = NULL;
	*ncmds = 0;
	if (notes)
		*notes = NULL;
	for (i = 0; i < n; i++) {
		const struct node *bst = els[i]->public ? node_map_get(els[i]->public, "bst") : NULL;
		const struct node *list = bst && bst->type == NODE_MAP ? node_map_get(bst, "integration-commands") : NULL;
		for (j = 0; list && list->type == NODE_LIST && j < list->u.list.n; j++) {
			const char *cmd;
			if (variables_expand(els[i]->vars, list->u.list.items[j], &cmd, err))
				return -1;
			GROW(*cmds, cap, *ncmds + 1);
			(*cmds)[*ncmds] = cmd;
			if (notes) {
				GROW(*notes, ncap, *ncmds + 1);
				(*notes)[*ncmds] = j ? NULL : xasprintf("Running integration commands of %s", els[i]->name);
			}
			(*ncmds)++;
		}
	}
	return 0;
}

/* Every integration command of the staged dependencies, in one sandbox. */
int build_host_integrate(struct rill_ctx *c)
{
	struct build *b = B(c);
	const char **cmds = NULL;
	char **notes = NULL;
	size_t i, n = 0;
	int rc;
	if (!b)
		return error_set(c->err, "integration is only possible while assembling");
	rc = build_integration_commands(b->staged, b->nstaged, &cmds, &notes, &n, c->err);
	if (!rc)
		rc = run_batch(c, cmds, (const char *const *)notes, n, 0, "/");
	for (i = 0; i < n; i++)
		free(notes[i]);
	free(cmds);
	free(notes);
	return rc;
}

int build_host_stage_sources(struct rill_ctx *c, const char *path)
{
	char *dest;
	int rc;
	if (!B(c))
		return error_set(c->err, "staging is only possible while assembling");
	if (!c->e->nsources)
		return 0;
	if (!variables_get(c->e->vars, "build-root") || strcmp(path, variables_get(c->e->vars, "build-root")))
		B(c)->pristine = 0;     /* only the build root is removed as a whole */
	if (c->e->workspace) {
		/* the workspace is mounted there when commands run (bst's _set_mount_source) */
		job_host_status(c, "Using workspace at %s for %s", c->e->workspace, path);
		free(B(c)->ws_at);
		B(c)->ws_at = xstrdup(path);
		B(c)->pristine = 0;
		return host_dir(c, path, &dest) ? -1 : (free(dest), 0);
	}
	job_host_status(c, "Staging sources at %s", path);
	if (host_dir(c, path, &dest))
		return -1;
	rc = job_stage_sources(c, dest);
	free(dest);
	return rc;
}

void build_host_collect(struct rill_ctx *c, const char *path)
{
	struct build *b = B(c);
	if (!b)
		return;
	free(b->collect);
	b->collect = xstrdup(path);
}

/* The whole build -------------------------------------------------------------------------- */

static char *build_parent(struct project *p)
{
	return xasprintf("%s/build", p->cache_dir);
}

/* b->dir (from a pile of spares when there is one) and b->root in it. */
static int make_build_dir(struct build *b, struct error *err)
{
	char *parent = build_parent(b->p), *normal = cas_normal_name(b->e->name);
	int rc = os_mkdir_p(parent, err);
	b->dir = NULL;
	b->spares.dirfd = -1;
	b->spares.n = 0;
	if (!rc)
		os_spread_subdirs(parent);
	if (!rc)
		rc = spare_new_dir(parent, normal, &b->spares, &b->dir, err);
	if (!rc) {
		b->root = xasprintf("%s/root", b->dir);
		if (b->spares.dirfd < 0 ? mkdir(b->root, 0755) : spare_mkdirat(&b->spares, b->spares.dirfd, "root"))
			rc = error_set(err, "cannot create directory '%s': %s", b->root, strerror(errno));
	}
	free(parent);
	free(normal);
	return rc;
}

/* After a successful build: the sysroot's directories go back to the spares when nothing but
 * staging wrote to it (the rw dirs are removed first, they hold the build's files), else the
 * build directory is removed. */
static void finish_build_dir(struct build *b)
{
	const char *rw[2] = {variables_get(b->e->vars, "build-root"), variables_get(b->e->vars, "install-root")};
	char *parent = build_parent(b->p);
	int parked = 0;
	size_t i;
	if (b->pristine) {
		parked = 1;
		for (i = 0; i < 2 && parked; i++) {
			char *host = rw[i] ? xasprintf("%s%s", b->root, rw[i]) : NULL;
			/* a root-wide rw dir would leave nothing of the sysroot to keep */
			parked = host && strcmp(rw[i], "/") && os_rm_rf(host, NULL) == 0;
			free(host);
		}
		parked = parked && spare_park(&b->spares, parent, b->dir, "root") == 0;
	}
	spare_close(&b->spares, 0);
	if (!parked)
		os_rm_rf(b->dir, NULL);
	free(parent);
}

static int commit(struct build *b, const char *log_path, struct error *err)
{
	struct element *e = b->e, **deps = NULL;
	size_t n = 0, cap = 0, i;
	const char **names, **keys;
	struct buf pub = BUF_INIT;
	struct cas_meta m = {0};
	char *dir = xasprintf("%s%s", b->root, strcmp(b->collect, "/") ? b->collect : "");
	struct stat st;
	int rc;
	if (stat(dir, &st)) {
		/* nothing was installed: an empty artifact */
		if (os_mkdir_p(dir, err)) {
			free(dir);
			return -1;
		}
	}
	loader_walk(b->p, &e, 1, SCOPE_BUILD, &deps, &n, &cap);
	names = xmalloc((n + 1) * sizeof(*names));
	keys = xmalloc((n + 1) * sizeof(*keys));
	for (i = 0; i < n; i++) {
		names[i] = deps[i]->name;
		keys[i] = deps[i]->strict_key;
	}
	if (e->public)
		yamldump(e->public, &pub);
	m.strong_key = e->strict_key;
	m.weak_key = e->weak_key;
	m.dep_names = names;
	m.dep_keys = keys;
	m.ndeps = n;
	m.public_yaml = e->public ? buf_str(&pub) : NULL;
	m.log_path = log_path;
	rc = cas_commit(b->cas, b->p->name, e->name, dir, &m, err);
	buf_release(&pub);
	free(names);
	free(keys);
	free(deps);
	free(dir);
	return rc;
}

int build_element(struct project *p, struct element *e, struct cas *cas, const struct job_io *io,
		  const char *log_path, struct error *err)
{
	struct build b = {0};
	struct rill_ctx c;
	const struct rill_plugin *d = e->ki->plugin->desc;
	int rc = -1;
	b.p = p;
	b.e = e;
	b.cas = cas;
	b.io = io;
	b.pristine = 1;
	if (make_build_dir(&b, err)) {
		spare_close(&b.spares, 0);
		if (b.dir)
			os_rm_rf(b.dir, NULL);
		free(b.dir);
		free(b.root);
		return -1;
	}
	b.overlaps = overlaps_new();
	job_ctx_init(&c, p, e, io, err);
	c.b = &b;
	c.pl = d;
	b.collect = xstrdup(variables_get(e->vars, "install-root") ? variables_get(e->vars, "install-root")
								   : "/buildstream-install");
	if (d->assemble && d->assemble(build_host(), &c, (const struct rill_node *)e->config)) {
		if (!err->msg)
			error_set(err, "%s: the %s plugin failed to assemble it", e->name, d->kind);
		goto out;
	}
	if (err->msg)   /* a host function failed but the plugin went on */
		goto out;
	/* the build wrote in the workspace: the key is that of what it holds now (bst computes a
	 * workspaced element's key after its build) */
	if (e->workspace && keys_workspace_changed(p, e, 0, err))
		goto out;
	job_host_status(&c, "Caching artifact");
	if (commit(&b, log_path, err))
		goto out;
	rc = 0;
out:
	if (rc == 0) {
		finish_build_dir(&b);
	} else {
		char *link = NULL, *normal = cas_normal_name(e->name);
		spare_close(&b.spares, 1);      /* keep the sysroot for debugging, not the spares */
		/* remember the failed sandbox for `rill shell --build` */
		link = xasprintf("%s/build/%s.failed", p->cache_dir, normal);
		unlink(link);
		if (symlink(b.dir, link)) {
			/* not fatal: the message below still names the directory */
		}
		{
			char *msg = xasprintf("%s\n\nSandbox directory: %s",
					      err->msg ? err->msg : "the build failed", b.dir);
			error_set(err, "%s", msg);
			free(msg);
		}
		free(link);
		free(normal);
	}
	free(b.dir);
	free(b.root);
	free(b.collect);
	free(b.ws_at);
	{
		size_t i;
		for (i = 0; i < b.nmarked; i++)
			free(b.marked[i]);
		free(b.marked);
	}
	free(b.staged);
	overlaps_free(b.overlaps);
	return rc;
}

void build_prepare(struct project *p, struct element *e, struct cas *cas)
{
	struct element **list = NULL;
	size_t n = 0, cap = 0, i;
	loader_walk(p, &e, 1, SCOPE_BUILD, &list, &n, &cap);
	for (i = 0; i < n; i++)
		cas_preload(cas, p->name, list[i]->name, list[i]->strict_key);
	free(list);
}

int build_stage_shell(struct project *p, struct element *e, struct cas *cas, int build_scope,
		      char **root, struct error *err)
{
	struct build b = {0};
	struct rill_ctx c;
	struct element **list = NULL;
	size_t n = 0, cap = 0;
	struct stage_ud u = {0};
	int rc = -1;
	struct job_io io = {-1, -1, p->cache_dir};
	*root = NULL;
	b.p = p;
	b.e = e;
	b.cas = cas;
	b.io = &io;
	b.overlaps = overlaps_new();
	if (make_build_dir(&b, err))
		goto out;
	job_ctx_init(&c, p, e, &io, err);
	c.b = &b;
	loader_walk(p, &e, 1, build_scope ? SCOPE_BUILD : SCOPE_RUN, &list, &n, &cap);
	if (stage_list(&c, list, n, "/", &u))
		goto out;
	if (build_scope && build_host_stage_sources(&c, variables_get(e->vars, "build-root")))
		goto out;
	*root = b.root;
	b.root = NULL;
	rc = 0;
out:
	spare_close(&b.spares, 0);
	if (rc && b.dir)
		os_rm_rf(b.dir, NULL);
	free(list);
	free(b.dir);
	free(b.root);
	free(b.staged);
	overlaps_free(b.overlaps);
	return rc;
}

/* The host functions plugins get when an element is built: job_host()'s and the build's. */
static struct rill_host build_host_table;
static pthread_once_t build_host_once = PTHREAD_ONCE_INIT;

static void build_host_init(void)
{
	struct rill_host *h = &build_host_table;
	*h = *job_host();
	h->stage_deps = build_host_stage_deps;
	h->stage_dep = build_host_stage_dep;
	h->stage_split = build_host_stage_split;
	h->integrate = build_host_integrate;
	h->stage_sources = build_host_stage_sources;
	h->run = build_host_run;
	h->host_path = build_host_path;
	h->collect = build_host_collect;
	h->run_commands = build_host_run_commands;
	h->run_argv = build_host_run_argv;
	h->mark_directory = build_host_mark_directory;
	h->workspace_prepared = build_host_workspace_prepared;
}

const struct rill_host *build_host(void)
{
	pthread_once(&build_host_once, build_host_init);
	return &build_host_table;
}
