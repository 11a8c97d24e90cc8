/* casgc — the artifact cache's size, quota and removal: refs deleted (one atomic unlink each),
 * then the objects no remaining ref reaches swept. A sweep holds the cache's lock exclusively
 * and commits hold it shared from their first object to their ref, so no commit can lose an
 * object it found already present. Killed at any point, a sweep leaves at most unreferenced
 * objects: everything a ref names is marked before anything is removed.
 * SPDX-License-Identifier: Apache-2.0 */
#include "cache/cas-internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int cas_lock(struct cas *c, int op)
{
	if (c->lock_fd < 0) {
		char *path = xasprintf("%s/lock", c->root);
		c->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		free(path);
		if (c->lock_fd < 0)
			return -1;
	}
	while (flock(c->lock_fd, op) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

/* Bytes the objects take on disk. */
int cas_usage(struct cas *c, unsigned long long *bytes, struct error *err)
{
	DIR *top = opendir(c->objects);
	struct dirent *d;
	*bytes = 0;
	if (!top)
		return error_set(err, "cannot read %s: %s", c->objects, strerror(errno));
	while ((d = readdir(top))) {
		int fd;
		DIR *sub;
		struct dirent *e;
		if (d->d_name[0] == '.')
			continue;
		fd = openat(dirfd(top), d->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0 || !(sub = fdopendir(fd))) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		while ((e = readdir(sub))) {
			struct stat st;
			if (e->d_name[0] != '.' && fstatat(dirfd(sub), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
				*bytes += (unsigned long long)st.st_blocks * 512;
		}
		closedir(sub);
	}
	closedir(top);
	return 0;
}

/* ---- marking ------------------------------------------------------------------------------ */

static void mark(struct memo *m, const char *digest, int exec)
{
	char key[68];
	snprintf(key, sizeof(key), "%s%s", digest, exec ? ".x" : "");
	if (!cas_memo_get(m, key))
		cas_memo_put(m, key, (void *)1);
}

static void mark_tree(struct cas *c, struct memo *m, const char *digest, int depth)
{
	struct error ignored = ERROR_INIT;
	struct tree t = {0};
	mark(m, digest, 0);
	if (depth <= MAX_TREE_DEPTH && cas_tree_load(c, digest, &t, &ignored) == 0)
		for (size_t i = 0; i < t.n; i++) {
			if (t.e[i].type == 'd')
				mark_tree(c, m, t.e[i].digest, depth + 1);
			else if (t.e[i].type != 'l')
				mark(m, t.e[i].digest, t.e[i].type == 'x');
		}
	error_release(&ignored);
	cas_tree_release(&t);
}

struct marks {
	struct memo m;
	struct cas *c;
};

static int mark_ref(void *ud, const char *project, const char *element, const char *key)
{
	struct marks *mk = ud;
	struct memo *m = &mk->m;
	struct cas *c = mk->c;
	char *ref = xasprintf("%s/%s/%s/%s", c->refs, project, element, key), digest[65];
	struct cas_artifact *a = NULL;
	struct error ignored = ERROR_INIT;
	/* a ref that cannot be read names nothing that can be kept (fsck reports it) */
	if (cas_read_ref(ref, digest) == 0) {
		mark(m, digest, 0);
		if (cas_manifest_load(c, digest, &a, &ignored) == 0) {
			mark_tree(c, m, a->files, 0);
			if (a->log_digest)
				mark(m, a->log_digest, 0);
			if (a->public_digest)
				mark(m, a->public_digest, 0);
		}
	}
	cas_artifact_free(a);
	error_release(&ignored);
	free(ref);
	return 0;
}

static void memo_free(struct memo *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->e[i].key);
	free(m->e);
}

/* Test hook: RILL_TEST_SWEEP_DELAY_MS sleeps between removals (to be killed during a sweep). */
static void test_delay(void)
{
	const char *d = getenv("RILL_TEST_SWEEP_DELAY_MS");
	if (d && atoi(d) > 0) {
		struct timespec ts = {atoi(d) / 1000, (long)(atoi(d) % 1000) * 1000000L};
		nanosleep(&ts, NULL);
	}
}

int cas_prune(struct cas *c, unsigned long long *freed, struct error *err)
{
	struct marks mk = {{0}, c};
	struct memo *live = &mk.m;
	DIR *top;
	struct dirent *d;
	int rc = -1;
	*freed = 0;
	if (cas_lock(c, LOCK_EX))
		return error_set(err, "cannot lock the artifact cache at '%s': %s", c->root, strerror(errno));
	if (cas_list_refs(c, mark_ref, &mk, err))
		goto out;
	if (!(top = opendir(c->objects))) {
		error_set(err, "cannot read %s: %s", c->objects, strerror(errno));
		goto out;
	}
	while ((d = readdir(top))) {
		int fd;
		DIR *sub;
		struct dirent *e;
		if (d->d_name[0] == '.' || strlen(d->d_name) != 2)
			continue;
		fd = openat(dirfd(top), d->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0 || !(sub = fdopendir(fd))) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		while ((e = readdir(sub))) {
			char key[300];
			struct stat st;
			if (e->d_name[0] == '.')
				continue;
			snprintf(key, sizeof(key), "%s%s", d->d_name, e->d_name);
			if (cas_memo_get(live, key))
				continue;
			if (fstatat(dirfd(sub), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    unlinkat(dirfd(sub), e->d_name, 0) == 0) {
				*freed += (unsigned long long)st.st_blocks * 512;
				test_delay();
			}
		}
		closedir(sub);
	}
	closedir(top);
	/* what was kept in memory may name what is gone */
	rc = 0;
out:
	memo_free(live);
	cas_lock(c, LOCK_UN);
	return rc;
}

int cas_delete_ref(struct cas *c, const char *project, const char *element, const char *key, struct error *err)
{
	char *ref = cas_ref_path(c, project, element, key);
	int rc = 0;
	if (!ref)
		return error_set(err, "%s: invalid project name or key", element);
	if (unlink(ref) != 0)
		rc = errno == ENOENT ? 1 : error_set(err, "cannot remove %s: %s", ref, strerror(errno));
	free(ref);
	return rc;
}

/* ---- expiry -------------------------------------------------------------------------------- */

struct aged {
	char *project, *element, *key;
	struct timespec used;
	char manifest[65];              /* what the ref names ("" when unreadable) */
	int gone;
};

struct ages {
	struct aged *a;
	size_t n, cap;
	struct cas *c;
};

static int collect(void *ud, const char *project, const char *element, const char *key)
{
	struct ages *g = ud;
	char *ref = xasprintf("%s/%s/%s/%s", g->c->refs, project, element, key);
	struct stat st;
	if (stat(ref, &st) == 0) {
		GROW(g->a, g->cap, g->n + 1);
		if (cas_read_ref(ref, g->a[g->n].manifest))
			g->a[g->n].manifest[0] = '\0';
		g->a[g->n].gone = 0;
		g->a[g->n].project = xstrdup(project);
		g->a[g->n].element = xstrdup(element);
		g->a[g->n].key = xstrdup(key);
		g->a[g->n++].used = st.st_mtim;
	}
	free(ref);
	return 0;
}

static int by_age(const void *x, const void *y)
{
	const struct aged *a = x, *b = y;
	if (a->used.tv_sec != b->used.tv_sec)
		return a->used.tv_sec < b->used.tv_sec ? -1 : 1;
	if (a->used.tv_nsec != b->used.tv_nsec)
		return a->used.tv_nsec < b->used.tv_nsec ? -1 : 1;
	return strcmp(a->element, b->element);
}

int cas_expire(struct cas *c, unsigned long long quota,
	       int (*keep)(void *ud, const char *project, const char *normal_name, const char *key), void *ud,
	       struct cas_expiry *out, struct error *err)
{
	struct ages g = {NULL, 0, 0, c};
	size_t i = 0;
	int rc = -1;
	memset(out, 0, sizeof(*out));
	if (cas_usage(c, &out->before, err))
		return -1;
	out->after = out->before;
	if (out->before <= quota)
		return 0;
	if (cas_list_refs(c, collect, &g, err))
		goto out;
	qsort(g.a, g.n, sizeof(*g.a), by_age);
	/* least recently used first, a batch at a time (an eighth of what is left), sweeping after
	 * each batch until the cache fits or only what must be kept is left */
	while (out->after > quota && i < g.n) {
		size_t batch = (g.n - i) / 8 + 1, done = 0;
		unsigned long long freed;
		for (; i < g.n && done < batch; i++) {
			if (g.a[i].gone || (keep && keep(ud, g.a[i].project, g.a[i].element, g.a[i].key)))
				continue;
			/* an artifact goes whole: every ref of the element naming the same manifest
			 * (its strong and weak keys) */
			for (size_t k = i; k < g.n; k++) {
				if (g.a[k].gone || strcmp(g.a[k].project, g.a[i].project) ||
				    strcmp(g.a[k].element, g.a[i].element) ||
				    (k != i && (!g.a[i].manifest[0] || strcmp(g.a[k].manifest, g.a[i].manifest))))
					continue;
				if (k != i && keep && keep(ud, g.a[k].project, g.a[k].element, g.a[k].key))
					continue;
				if (cas_delete_ref(c, g.a[k].project, g.a[k].element, g.a[k].key, err) < 0)
					goto out;
				g.a[k].gone = 1;
			}
			out->removed++;
			done++;
		}
		if (!done)
			continue;
		if (cas_prune(c, &freed, err) || cas_usage(c, &out->after, err))
			goto out;
	}
	rc = 0;
out:
	for (size_t k = 0; k < g.n; k++) {
		free(g.a[k].project);
		free(g.a[k].element);
		free(g.a[k].key);
	}
	free(g.a);
	return rc;
}

void cas_touch(struct cas *c, const char *project, const char *element, const char *key)
{
	char *ref = cas_ref_path(c, project, element, key);
	if (ref)
		utimensat(AT_FDCWD, ref, NULL, 0);
	free(ref);
}
