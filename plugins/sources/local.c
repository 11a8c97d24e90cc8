/* local.c — the local source: files or a directory inside the project. Its unique key lists
 * every path in BuildStream's utils.list_relative_paths() order with a content checksum. It
 * stages by copying (a directory's contents into the staging directory, a file into it).
 * SPDX-License-Identifier: Apache-2.0 */
#include "../common.h"

#include <dirent.h>
#include <errno.h>
#include <unistd.h>

static const char *const config_keys[] = {"path", NULL};

struct walk {
	const struct rill_host *host;
	struct rill_ctx *ctx;
	struct rill_node *key;
	const char *root;       /* the source's full path */
};

static char *join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *r;
	if (la == 0)
		return strdup(b);
	r = malloc(la + lb + 2);
	if (!r)
		return NULL;
	memcpy(r, a, la);
	if (a[la - 1] != '/')
		r[la++] = '/';
	memcpy(r + la, b, lb + 1);
	return r;
}

/* One [relpath, key] pair: "0" for directories (symlinks to directories included), the
 * target for other symlinks, else the file's SHA-256. */
static int emit(struct walk *w, const char *rel, const char *full)
{
	const struct rill_host *host = w->host;
	struct rill_node *pair = host->new_list(w->ctx);
	struct stat st;
	char hex[65];
	const char *value;
	char *target = NULL;
	if (stat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
		value = "0";
	} else if (lstat(full, &st) == 0 && S_ISLNK(st.st_mode)) {
		size_t cap = (size_t)st.st_size + 1;
		ssize_t n;
		for (;;) {
			char *t = realloc(target, cap);
			if (!t) {
				free(target);
				return host->error(w->ctx, NULL, "Out of memory");
			}
			target = t;
			n = readlink(full, target, cap);
			if (n < 0) {
				free(target);
				return host->error(w->ctx, NULL, "Failed to read symbolic link '%s': %s", full,
						   strerror(errno));
			}
			if ((size_t)n < cap)
				break;
			cap *= 2;
		}
		target[n] = '\0';
		value = target;
	} else {
		if (host->sha256_file(w->ctx, full, hex) != 0)
			return -1;
		value = hex;
	}
	host->list_push(w->ctx, pair, host->new_str(w->ctx, rel));
	host->list_push(w->ctx, pair, host->new_str(w->ctx, value));
	host->list_push(w->ctx, w->key, pair);
	free(target);
	return 0;
}

static int emit_rel(struct walk *w, const char *rel)
{
	char *full = join(w->root, rel);
	int rc;
	if (!full)
		return w->host->error(w->ctx, NULL, "Out of memory");
	rc = emit(w, rel, full);
	free(full);
	return rc;
}

static void free_names(char **v, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int push_name(char ***v, size_t *n, size_t *cap, const char *name)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		char **t = realloc(*v, c * sizeof(**v));
		if (!t)
			return -1;
		*v = t;
		*cap = c;
	}
	if (!((*v)[*n] = strdup(name)))
		return -1;
	(*n)++;
	return 0;
}

static int is_link(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
}

/* One step of os.walk(top-down) as list_relative_paths() consumes it: dir is the directory's
 * full path, rel its path relative to the root ("" for the root itself). Directories that
 * cannot be read are skipped silently, as os.walk does. */
static int walk_dir(struct walk *w, const char *dir, const char *rel)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **dirs = NULL, **files = NULL;
	size_t nd = 0, nf = 0, cd = 0, cf = 0, i;
	int rc = -1;
	if (!d)
		return 0;
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		char *full;
		int isdir;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		full = join(dir, de->d_name);
		if (!full) {
			closedir(d);
			goto oom;
		}
		/* os.scandir's is_dir() follows symbolic links */
		isdir = stat(full, &st) == 0 && S_ISDIR(st.st_mode);
		free(full);
		if (push_name(isdir ? &dirs : &files, isdir ? &nd : &nf, isdir ? &cd : &cf, de->d_name)) {
			closedir(d);
			goto oom;
		}
	}
	closedir(d);
	if (nd)
		qsort(dirs, nd, sizeof(*dirs), common_qsort_py_strcmp);
	if (nf)
		qsort(files, nf, sizeof(*files), common_qsort_py_strcmp);

	/* symlinks to directories are listed, never descended into */
	for (i = 0; i < nd; i++) {
		char *full = join(dir, dirs[i]), *r = join(rel, dirs[i]);
		int err = !full || !r;
		if (!err && is_link(full))
			err = emit_rel(w, r) != 0 ? 2 : 0;
		free(full);
		free(r);
		if (err == 1)
			goto oom;
		if (err)
			goto out;
	}
	/* a directory without files is listed itself ("." for the root) */
	if (nf == 0 && emit_rel(w, rel[0] ? rel : ".") != 0)
		goto out;
	for (i = 0; i < nf; i++) {
		char *r = join(rel, files[i]);
		int err;
		if (!r)
			goto oom;
		err = emit_rel(w, r);
		free(r);
		if (err)
			goto out;
	}
	for (i = 0; i < nd; i++) {
		char *full = join(dir, dirs[i]), *r = join(rel, dirs[i]);
		int err = 0;
		if (!full || !r)
			err = 1;
		else if (!is_link(full))
			err = walk_dir(w, full, r) != 0 ? 2 : 0;
		free(full);
		free(r);
		if (err == 1)
			goto oom;
		if (err)
			goto out;
	}
	rc = 0;
	goto out;
oom:
	w->host->error(w->ctx, NULL, "Out of memory");
out:
	free_names(dirs, nd);
	free_names(files, nf);
	return rc;
}

static int configure(const struct rill_host *host, struct rill_ctx *ctx,
		     const struct rill_node *config, struct rill_configured *out)
{
	struct walk w = {host, ctx, NULL, NULL};
	const char *path;
	char *full;
	struct stat st;
	int rc;
	if (common_project_path(host, ctx, config, "path", 0, &path) != 0)
		return -1;
	/* os.path.join(project directory, path) */
	full = path[0] == '/' ? strdup(path) : join(host->project_dir(ctx), path);
	if (!full)
		return host->error(ctx, config, "Out of memory");
	w.key = host->new_list(ctx);
	w.root = full;
	if (stat(full, &st) == 0 && S_ISDIR(st.st_mode))
		rc = walk_dir(&w, full, "");
	else
		rc = emit(&w, path, full);
	free(full);
	if (rc != 0)
		return -1;
	out->unique_key = w.key;
	out->always_cached = 1;
	return 0;
}

static int stage(const struct rill_host *host, struct rill_ctx *ctx, const struct rill_node *node,
		 const char *dir, const char *dest)
{
	const char *path, *full, *target, *base;
	struct stat st;
	(void)dir;
	if (common_project_path(host, ctx, node, "path", 0, &path) != 0)
		return -1;
	full = path[0] == '/' ? path : common_fmt(host, ctx, "%s/%s", host->project_dir(ctx), path);
	if (!full)
		return -1;
	host->status(ctx, "Staging local files at %s", path);
	if (stat(full, &st) == 0 && S_ISDIR(st.st_mode))
		return host->copy_tree(ctx, full, dest);
	base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	if (!(target = common_fmt(host, ctx, "%s/%s", dest, base)))
		return -1;
	return host->copy_tree(ctx, full, target);
}

RILL_PLUGIN_EXPORT const struct rill_plugin rill_plugin = {
	.abi_version = RILL_PLUGIN_ABI_VERSION,
	.type = RILL_PLUGIN_SOURCE,
	.kind = "local",
	.flags = 0,
	.artifact_version = 0,
	.config_keys = config_keys,
	.configure = configure,
	.stage = stage,
};
