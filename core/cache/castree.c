/* castree — the artifact cache's trees: parsing and keeping them in memory (cas_preload()),
 * walking an artifact's files, and staging artifacts into a directory by hardlink or copy.
 * SPDX-License-Identifier: Apache-2.0 */
#include "cache/cas.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "base/osutil.h"
#include "cache/cas-internal.h"
#include "format/cachekey.h"

/* ---- trees ---- */

void cas_tree_release(struct tree *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->e[i].name);
		free(t->e[i].target);
	}
	free(t->e);
	memset(t, 0, sizeof(*t));
}

static int tree_parse(char *text, struct tree *t, const char **why)
{
	char *pos = text, *f[6];
	if (!str_has_prefix(text, TREE_HEADER))
		return *why = "unknown format", -1;
	pos += strlen(TREE_HEADER);
	while (*pos) {
		struct tree_ent e = {0};
		char *end;
		int n = cas_split_line(&pos, f, 5);
		if (n < 4 || strlen(f[0]) != 1 || !strchr("fxld", f[0][0]))
			return *why = n < 0 ? "truncated line" : "bad entry", -1;
		e.type = f[0][0];
		if (n != (e.type == 'l' ? 5 : 4))
			return *why = "bad entry", -1;
		if (e.type == 'l' ? strcmp(f[1], "-") != 0 : !cas_is_digest(f[1], strlen(f[1])))
			return *why = "bad digest", -1;
		if (e.type != 'l')
			memcpy(e.digest, f[1], 65);
		errno = 0;
		e.size = strtoull(f[2], &end, 10);
		if (!*f[2] || *end || errno || f[2][0] == '-')
			return *why = "bad size", -1;
		e.name = cas_unescape(f[3]);
		if (e.type == 'l')
			e.target = cas_unescape(f[4]);
		GROW(t->e, t->cap, t->n + 1);
		t->e[t->n++] = e;
		if (!e.name || (e.type == 'l' && (!e.target || !*e.target)))
			return *why = "bad escape", -1;
		if (!*e.name || strchr(e.name, '/') || !strcmp(e.name, ".") || !strcmp(e.name, ".."))
			return *why = "bad name", -1;
		if (t->n > 1 && strcmp(t->e[t->n - 2].name, e.name) >= 0)
			return *why = "names not sorted", -1;
	}
	return 0;
}

/* Load and parse the tree object digest into t (released by the caller, on errors too). */
int cas_tree_load(struct cas *c, const char *digest, struct tree *t, struct error *err)
{
	struct buf text = BUF_INIT;
	const char *why = NULL;
	int rc = -1;
	if (cas_load_object(c, digest, "tree", &text, err))
		goto out;
	if (tree_parse(text.data, t, &why)) {
		char *path = cas_object_path(c, digest, 0);
		error_set(err, "%s: tree object is corrupt (%s); check the artifact cache with repair",
			  path, why);
		free(path);
		goto out;
	}
	rc = 0;
out:
	buf_release(&text);
	return rc;
}

/* The tree digest: from c's memory, else loaded into *local (released by the caller, on
 * errors too). NULL with err when it cannot be loaded. */
static const struct tree *tree_get(struct cas *c, const char *digest, struct tree *local,
				   struct error *err)
{
	const struct tree *t = cas_memo_get(&c->trees, digest);
	if (t)
		return t;
	return cas_tree_load(c, digest, local, err) ? NULL : local;
}

void cas_free_tree(void *t)
{
	cas_tree_release(t);
	free(t);
}

void cas_free_shared_artifact(void *a)
{
	((struct cas_artifact *)a)->shared = 0;
	cas_artifact_free(a);
}

/* Keep the tree digest and those below it in memory. -1 when one cannot be loaded. */
static int preload_tree(struct cas *c, const char *digest, int depth)
{
	struct error ignored = ERROR_INIT;
	struct tree *t;
	int rc = 0;
	if (cas_memo_get(&c->trees, digest))
		return 0;
	if (depth > MAX_TREE_DEPTH)
		return -1;
	t = xcalloc(1, sizeof(*t));
	if (cas_tree_load(c, digest, t, &ignored)) {
		cas_free_tree(t);
		error_release(&ignored);
		return -1;
	}
	cas_memo_put(&c->trees, digest, t);
	c->memo_bytes += sizeof(*t) + t->n * (sizeof(*t->e) + 32);
	for (size_t i = 0; i < t->n && !rc; i++)
		if (t->e[i].type == 'd')
			rc = preload_tree(c, t->e[i].digest, depth + 1);
	return rc;
}

/* Memory for preloaded artifacts: far more than the trees of a large project's sysroots. */
#define CAS_MEMO_MAX ((size_t)256 << 20)

void cas_preload(struct cas *c, const char *project, const char *element, const char *key)
{
	struct error ignored = ERROR_INIT;
	struct cas_artifact *a = NULL;
	char *ref = cas_ref_path(c, project, element, key), digest[65];
	if (!ref || cas_memo_get(&c->refs_seen, ref) || c->memo_bytes > CAS_MEMO_MAX ||
	    cas_read_ref(ref, digest))
		goto out;
	a = cas_memo_get(&c->manifests, digest);
	if (!a) {
		if (cas_manifest_load(c, digest, &a, &ignored))
			goto out;
		a->c = c;
		if (a->log_digest)
			a->log_path = cas_object_path(c, a->log_digest, 0);
		if (preload_tree(c, a->files, 0)) {
			cas_artifact_free(a);
			goto out;
		}
		a->shared = 1;
		cas_memo_put(&c->manifests, digest, a);
		c->memo_bytes += 256 + a->ndeps * 64;
	}
	cas_memo_put(&c->refs_seen, ref, xstrdup(digest));
out:
	error_release(&ignored);
	free(ref);
}

struct walk {
	struct cas *c;
	int (*fn)(void *ud, const struct cas_entry *e);
	void *ud;
	struct buf path;
	struct error *err;
};

static int walk_tree(struct walk *w, const char *digest, int depth)
{
	struct tree local = {0};
	const struct tree *t;
	size_t base = w->path.len;
	int rc;
	if (depth > MAX_TREE_DEPTH)
		return error_set(w->err, "tree object %s: directories nested too deeply", digest);
	t = tree_get(w->c, digest, &local, w->err);
	rc = t ? 0 : -1;
	for (size_t i = 0; !rc && i < t->n; i++) {
		const struct tree_ent *te = &t->e[i];
		struct cas_entry e = {0};
		char *obj = NULL;
		w->path.len = base;
		if (base)
			buf_addch(&w->path, '/');
		buf_adds(&w->path, te->name);
		e.path = w->path.data;
		e.size = te->size;
		e.type = te->type == 'f' ? CAS_FILE : te->type == 'x' ? CAS_EXEC :
			 te->type == 'l' ? CAS_SYMLINK : CAS_DIR;
		e.target = te->target;
		if (te->type == 'f' || te->type == 'x')
			e.object = obj = cas_object_path(w->c, te->digest, te->type == 'x');
		rc = w->fn(w->ud, &e);
		free(obj);
		if (!rc && te->type == 'd')
			rc = walk_tree(w, te->digest, depth + 1);
	}
	w->path.len = base;
	if (w->path.data)
		w->path.data[base] = '\0';
	cas_tree_release(&local);
	return rc;
}

int cas_artifact_walk(struct cas *c, const struct cas_artifact *a,
		      int (*fn)(void *ud, const struct cas_entry *e), void *ud, struct error *err)
{
	struct walk w = {c, fn, ud, BUF_INIT, err};
	int rc;
	buf_adds(&w.path, "");
	rc = walk_tree(&w, a->files, 0);
	buf_release(&w.path);
	return rc;
}

/* ---- staging ---- */

/* A directory of dest known to be a real directory (no symlink on the way), by artifact path;
 * fd open on it, or -1 when too many are open already. */
struct known_dir {
	char *path;
	int fd;
};

#define STAGER_MAX_FDS 256

struct cas_stager {
	struct cas *c;
	char *dest;
	int destfd;
	int (*make_dir)(void *ud, int dirfd, const char *name);
	void *make_dir_ud;
	struct known_dir *known;        /* open-addressing table, cap a power of two */
	size_t nknown, cap, nfds;
};

struct stage {
	struct cas_stager *st;
	struct cas *c;
	const char *dest;
	int destfd, link;
	int (*want)(void *ud, const char *path);
	void (*overlap)(void *ud, const char *path);
	void *ud;
	struct error *err;
};

/* A directory of the artifact being staged; opened (and created) only when something in it is. */
struct stage_dir {
	struct stage_dir *parent;
	const char *name;       /* in parent */
	const char *path;       /* artifact path */
	char *canon;            /* resolved path in dest, "" for dest itself, once opened */
	int fd;
	int borrowed;           /* fd belongs to the stager's known directories */
};

static struct known_dir *known_slot(struct cas_stager *st, const char *path)
{
	size_t i = (size_t)hash_bytes(path, strlen(path)) & (st->cap - 1);
	while (st->known[i].path && strcmp(st->known[i].path, path))
		i = (i + 1) & (st->cap - 1);
	return &st->known[i];
}

static struct known_dir *known_get(struct cas_stager *st, const char *path)
{
	struct known_dir *k;
	if (!st->nknown)
		return NULL;
	k = known_slot(st, path);
	return k->path ? k : NULL;
}

/* Remember that path is a real directory of dest; the stager keeps fd (when it has room). */
static int known_add(struct cas_stager *st, const char *path, int fd)
{
	struct known_dir *k;
	if (2 * (st->nknown + 1) > st->cap) {
		struct known_dir *old = st->known;
		size_t oldcap = st->cap, i;
		st->cap = oldcap ? 2 * oldcap : 64;
		st->known = xcalloc(st->cap, sizeof(*st->known));
		for (i = 0; i < oldcap; i++)
			if (old[i].path)
				*known_slot(st, old[i].path) = old[i];
		free(old);
	}
	k = known_slot(st, path);
	k->path = xstrdup(path);
	k->fd = st->nfds < STAGER_MAX_FDS ? fd : -1;
	st->nfds += k->fd >= 0;
	st->nknown++;
	return k->fd >= 0;
}

/* Resolve path (relative to dest) following symlinks inside dest: an absolute target restarts
 * at dest, ".." stops at dest. Heap canonical path ("" for dest), or NULL with errno. */
static char *resolve_in_dest(int destfd, const char *path)
{
	struct buf canon = BUF_INIT, rest = BUF_INIT, cand = BUF_INIT;
	char *out = NULL, link[PATH_MAX];
	int links = 0;
	buf_adds(&canon, "");
	buf_adds(&rest, path);
	while (rest.len) {
		char *slash = strchr(rest.data, '/');
		size_t clen = slash ? (size_t)(slash - rest.data) : rest.len;
		char *comp = xstrndup(rest.data, clen);
		struct stat st;
		size_t skip = slash ? clen + 1 : clen;
		memmove(rest.data, rest.data + skip, rest.len - skip + 1);
		rest.len -= skip;
		if (!*comp || !strcmp(comp, ".")) {
			free(comp);
			continue;
		}
		if (!strcmp(comp, "..")) {
			char *last = strrchr(canon.data, '/');
			canon.len = last ? (size_t)(last - canon.data) : 0;
			canon.data[canon.len] = '\0';
			free(comp);
			continue;
		}
		buf_reset(&cand);
		buf_addf(&cand, "%s%s%s", canon.data, canon.len ? "/" : "", comp);
		free(comp);
		if (fstatat(destfd, cand.data, &st, AT_SYMLINK_NOFOLLOW))
			goto out;
		if (S_ISLNK(st.st_mode)) {
			ssize_t n = readlinkat(destfd, cand.data, link, sizeof(link) - 1);
			struct buf next = BUF_INIT;
			if (n < 0)
				goto out;
			if (++links > 40) {
				errno = ELOOP;
				goto out;
			}
			link[n] = '\0';
			buf_addf(&next, "%s%s%s", link, rest.len ? "/" : "", buf_str(&rest));
			buf_release(&rest);
			rest = next;
			buf_adds(&rest, "");
			if (link[0] == '/') {
				canon.len = 0;
				canon.data[0] = '\0';
			}
			continue;
		}
		buf_reset(&canon);
		buf_adds(&canon, cand.data);
	}
	out = buf_detach(&canon);
out:
	buf_release(&cand);
	buf_release(&rest);
	buf_release(&canon);
	return out;
}

/* A directory known to be real is opened directly (or its fd reused): a real directory stays
 * one, since staging only ever replaces non-directories. */
static int open_known(struct stage *s, struct stage_dir *d)
{
	struct known_dir *k = known_get(s->st, d->path);
	if (!k)
		return 0;
	d->canon = xstrdup(d->path);
	if (k->fd >= 0) {
		d->fd = k->fd;
		d->borrowed = 1;
		return 1;
	}
	d->fd = openat(s->destfd, d->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (d->fd < 0)
		return error_set(s->err, "cannot open directory '%s/%s': %s", s->dest, d->path,
				 strerror(errno));
	return 1;
}

static int stage_open_dir(struct stage *s, struct stage_dir *d)
{
	struct stat st;
	int made, rc;
	if (d->fd >= 0)
		return 0;
	rc = open_known(s, d);
	if (rc)
		return rc < 0 ? -1 : 0;
	if (stage_open_dir(s, d->parent))
		return -1;
	made = (s->st->make_dir ? s->st->make_dir(s->st->make_dir_ud, d->parent->fd, d->name)
				: mkdirat(d->parent->fd, d->name, 0755)) == 0;
	if (!made && errno != EEXIST)
		return error_set(s->err, "cannot create directory '%s/%s': %s", s->dest, d->path,
				 strerror(errno));
	/* what we just made is a directory; what was there already may be a symlink */
	if (!made && fstatat(d->parent->fd, d->name, &st, AT_SYMLINK_NOFOLLOW))
		return error_set(s->err, "cannot stage '%s/%s': %s", s->dest, d->path, strerror(errno));
	if (made || S_ISDIR(st.st_mode)) {
		d->canon = xasprintf("%s%s%s", d->parent->canon, *d->parent->canon ? "/" : "", d->name);
		d->fd = openat(d->parent->fd, d->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (d->fd >= 0 && !strcmp(d->canon, d->path))
			d->borrowed = known_add(s->st, d->path, d->fd);
	} else if (S_ISLNK(st.st_mode)) {
		char *p = xasprintf("%s%s%s", d->parent->canon, *d->parent->canon ? "/" : "", d->name);
		d->canon = resolve_in_dest(s->destfd, p);
		free(p);
		if (d->canon)
			d->fd = openat(s->destfd, *d->canon ? d->canon : ".",
				       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	} else
		errno = ENOTDIR;
	if (d->fd < 0) {
		if (errno == ENOTDIR || errno == ENOENT)
			return error_set(s->err, "cannot stage '%s/%s': the artifact has a directory there, "
					 "but something that is not a directory is in the way", s->dest,
					 d->path);
		return error_set(s->err, "cannot open directory '%s/%s': %s", s->dest, d->path,
				 strerror(errno));
	}
	return 0;
}

static int stage_copy(struct stage *s, int dirfd, const struct tree_ent *e, const char *obj,
		      const char *path)
{
	mode_t mode = e->type == 'x' ? 0755 : 0644;
	int in, out, rc = 0;
	in = open(obj, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return error_set(s->err, "cannot read object '%s' for '%s': %s", obj, path, strerror(errno));
	out = openat(dirfd, e->name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (out < 0 || cas_copy_fd(in, out) || fchmod(out, mode))
		rc = error_set(s->err, "cannot write '%s/%s': %s", s->dest, path, strerror(errno));
	if (out >= 0 && close(out) && !rc)
		rc = error_set(s->err, "cannot write '%s/%s': %s", s->dest, path, strerror(errno));
	close(in);
	return rc;
}

/* Create the entry: 0; -1 with errno when a link or symlink could not be made (EEXIST:
 * something is in the way); -2 with s->err when a copy failed. */
static int place_entry(struct stage *s, int dirfd, const struct tree_ent *e, const char *obj,
		       const char *path)
{
	struct stat st;
	if (e->type == 'l')
		return symlinkat(e->target, dirfd, e->name);
	if (s->link && linkat(AT_FDCWD, obj, dirfd, e->name, 0) == 0)
		return 0;
	if (s->link && errno != EXDEV && errno != EMLINK && errno != EPERM)
		return -1;
	if (fstatat(dirfd, e->name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		errno = EEXIST;
		return -1;
	}
	return stage_copy(s, dirfd, e, obj, path) ? -2 : 0;
}

static int place_failed(struct stage *s, const struct tree_ent *e, const char *obj, const char *path)
{
	if (e->type == 'l')
		return error_set(s->err, "cannot create symlink '%s/%s': %s", s->dest, path, strerror(errno));
	return error_set(s->err, "cannot link object '%s' to '%s/%s': %s", obj, s->dest, path,
			 strerror(errno));
}

static int stage_entry(struct stage *s, struct stage_dir *d, const struct tree_ent *e,
		       const char *path)
{
	struct stat st;
	char *obj = NULL;
	int rc;
	if (stage_open_dir(s, d))
		return -1;
	if (e->type != 'l')
		obj = cas_object_path(s->c, e->digest, e->type == 'x');
	/* try first: in a fresh sysroot almost nothing is in the way */
	rc = place_entry(s, d->fd, e, obj, path);
	if (rc == -1 && errno == EEXIST) {
		if (fstatat(d->fd, e->name, &st, AT_SYMLINK_NOFOLLOW))
			rc = error_set(s->err, "cannot stage '%s/%s': %s", s->dest, path, strerror(errno));
		else if (S_ISDIR(st.st_mode))
			rc = error_set(s->err, "cannot stage '%s/%s': a directory is in the way of a %s",
				       s->dest, path, e->type == 'l' ? "symlink" : "file");
		else if (unlinkat(d->fd, e->name, 0))
			rc = error_set(s->err, "cannot replace '%s/%s': %s", s->dest, path, strerror(errno));
		else {
			if (s->overlap)
				s->overlap(s->ud, path);
			rc = place_entry(s, d->fd, e, obj, path);
			if (rc == -1)
				rc = place_failed(s, e, obj, path);
		}
	} else if (rc == -1) {
		rc = place_failed(s, e, obj, path);
	}
	free(obj);
	return rc < 0 ? -1 : 0;
}

static void close_dir(struct stage_dir *d)
{
	if (d->fd >= 0 && !d->borrowed)
		close(d->fd);
	free(d->canon);
}

static int stage_tree(struct stage *s, struct stage_dir *d, const char *digest, int depth)
{
	struct tree local = {0};
	const struct tree *t;
	struct buf path = BUF_INIT;
	int rc;
	if (depth > MAX_TREE_DEPTH)
		return error_set(s->err, "tree object %s: directories nested too deeply", digest);
	t = tree_get(s->c, digest, &local, s->err);
	rc = t ? 0 : -1;
	for (size_t i = 0; !rc && i < t->n; i++) {
		const struct tree_ent *e = &t->e[i];
		buf_reset(&path);
		buf_addf(&path, "%s%s%s", d->path, *d->path ? "/" : "", e->name);
		if (e->type == 'd') {
			struct stage_dir sub = {d, e->name, path.data, NULL, -1, 0};
			if (!s->want || s->want(s->ud, path.data))
				rc = stage_open_dir(s, &sub);
			if (!rc)
				rc = stage_tree(s, &sub, e->digest, depth + 1);
			close_dir(&sub);
		} else if (!s->want || s->want(s->ud, path.data)) {
			rc = stage_entry(s, d, e, path.data);
		}
	}
	buf_release(&path);
	cas_tree_release(&local);
	return rc;
}

struct cas_stager *cas_stager_new(struct cas *c, const char *dest,
				  int (*make_dir)(void *ud, int dirfd, const char *name),
				  void *make_dir_ud, struct error *err)
{
	struct cas_stager *st;
	int fd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		error_set(err, "cannot stage into '%s': %s", dest, strerror(errno));
		return NULL;
	}
	st = xcalloc(1, sizeof(*st));
	st->c = c;
	st->dest = xstrdup(dest);
	st->destfd = fd;
	st->make_dir = make_dir;
	st->make_dir_ud = make_dir_ud;
	return st;
}

int cas_stager_add(struct cas_stager *st, const struct cas_artifact *a, int link,
		   int (*want)(void *ud, const char *path),
		   void (*overlap)(void *ud, const char *path), void *ud, struct error *err)
{
	struct stage s = {st, st->c, st->dest, st->destfd, link, want, overlap, ud, err};
	struct stage_dir root = {NULL, "", "", NULL, st->destfd, 1};
	int rc;
	root.canon = xstrdup("");
	rc = stage_tree(&s, &root, a->files, 0);
	free(root.canon);
	return rc;
}

void cas_stager_free(struct cas_stager *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->cap; i++) {
		if (st->known[i].fd >= 0 && st->known[i].path)
			close(st->known[i].fd);
		free(st->known[i].path);
	}
	free(st->known);
	close(st->destfd);
	free(st->dest);
	free(st);
}

int cas_artifact_stage(struct cas *c, const struct cas_artifact *a, const char *dest, int link,
		       int (*want)(void *ud, const char *path),
		       void (*overlap)(void *ud, const char *path), void *ud, struct error *err)
{
	struct cas_stager *st = cas_stager_new(c, dest, NULL, NULL, err);
	int rc;
	if (!st)
		return -1;
	rc = cas_stager_add(st, a, link, want, overlap, ud, err);
	cas_stager_free(st);
	return rc;
}
