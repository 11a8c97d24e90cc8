/* casfsck — listing the artifact cache's refs and checking (and repairing) everything they
 * reach: objects' digests, sizes and modes, trees, manifests.
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

/* ---- listing and checking ---- */

int cas_list_refs(struct cas *c, int (*fn)(void *ud, const char *project, const char *normal_name,
					   const char *key), void *ud, struct error *err)
{
	char **projects = NULL, **elements = NULL, **keys = NULL;
	size_t np = 0, ne = 0, nk = 0;
	int refs = -1, pfd = -1, efd = -1, rc = 0;
	refs = open(c->refs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (refs < 0 || cas_list_dir(refs, &projects, &np)) {
		rc = error_set(err, "cannot read directory '%s': %s", c->refs, strerror(errno));
		goto out;
	}
	for (size_t i = 0; !rc && i < np; i++) {
		if (projects[i][0] == '.')
			continue;
		pfd = openat(refs, projects[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (pfd < 0 || cas_list_dir(pfd, &elements, &ne)) {
			rc = error_set(err, "cannot read directory '%s/%s': %s", c->refs, projects[i],
				       strerror(errno));
			goto out;
		}
		for (size_t j = 0; !rc && j < ne; j++) {
			efd = openat(pfd, elements[j], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (efd < 0 || cas_list_dir(efd, &keys, &nk)) {
				rc = error_set(err, "cannot read directory '%s/%s/%s': %s", c->refs,
					       projects[i], elements[j], strerror(errno));
				goto out;
			}
			for (size_t k = 0; !rc && k < nk; k++)
				if (keys[k][0] != '.')
					rc = fn(ud, projects[i], elements[j], keys[k]);
			cas_free_names(keys, nk);
			keys = NULL;
			nk = 0;
			close(efd);
			efd = -1;
		}
		cas_free_names(elements, ne);
		elements = NULL;
		ne = 0;
		close(pfd);
		pfd = -1;
	}
out:
	cas_free_names(keys, nk);
	cas_free_names(elements, ne);
	cas_free_names(projects, np);
	if (efd >= 0)
		close(efd);
	if (pfd >= 0)
		close(pfd);
	if (refs >= 0)
		close(refs);
	return rc;
}

enum { OBJ_GOOD = 1, OBJ_MISSING, OBJ_CORRUPT };

/* Object paths already checked, with their verdict (open addressing). */
struct seen {
	char **key;
	unsigned char *val;
	size_t cap, n;
};

static unsigned char *seen_slot(struct seen *s, const char *key, int insert)
{
	size_t i;
	if (insert && (s->n + 1) * 2 > s->cap) {
		struct seen old = *s;
		s->cap = s->cap ? s->cap * 2 : 256;
		s->key = xcalloc(s->cap, sizeof(*s->key));
		s->val = xcalloc(s->cap, 1);
		s->n = 0;
		for (size_t j = 0; j < old.cap; j++)
			if (old.key[j])
				*seen_slot(s, old.key[j], 1) = old.val[j], free(old.key[j]);
		free(old.key);
		free(old.val);
	}
	if (!s->cap)
		return NULL;
	i = hash_bytes(key, strlen(key)) & (s->cap - 1);
	while (s->key[i] && strcmp(s->key[i], key))
		i = (i + 1) & (s->cap - 1);
	if (!s->key[i]) {
		if (!insert)
			return NULL;
		s->key[i] = xstrdup(key);
		s->n++;
	}
	return &s->val[i];
}

struct fsck {
	struct cas *c;
	int repair;
	void (*report)(void *ud, const char *msg);
	void *ud;
	struct seen seen;
	char **corrupt;         /* objects to remove with repair */
	size_t ncorrupt, corrupt_cap;
	const char *label;      /* project/element/key being checked */
	int broken, bad;
};

static void fsck_problem(struct fsck *f, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void fsck_problem(struct fsck *f, const char *fmt, ...)
{
	struct buf msg = BUF_INIT;
	va_list ap;
	buf_addf(&msg, "%s: ", f->label);
	va_start(ap, fmt);
	buf_vaddf(&msg, fmt, ap);
	va_end(ap);
	if (f->report)
		f->report(f->ud, msg.data);
	buf_release(&msg);
	f->bad = 1;
}

/* Check an object's presence, type, mode, size (unless size is -1) and content. */
static int fsck_object(struct fsck *f, const char *digest, int exec, long long size)
{
	char *path = cas_object_path(f->c, digest, exec), hex[65];
	unsigned char *v = seen_slot(&f->seen, path, 0), verdict;
	struct stat st;
	if (v && *v) {
		verdict = *v;
	} else {
		struct error ignored = ERROR_INIT;
		if (lstat(path, &st))
			verdict = OBJ_MISSING;
		else if (!S_ISREG(st.st_mode) || (st.st_mode & 07777) != (exec ? 0555u : 0444u) ||
			 (size >= 0 && st.st_size != size) ||
			 cachekey_sha256_file(path, hex, &ignored) || strcmp(hex, digest))
			verdict = OBJ_CORRUPT;
		else
			verdict = OBJ_GOOD;
		error_release(&ignored);
		*seen_slot(&f->seen, path, 1) = verdict;
		if (verdict == OBJ_CORRUPT) {
			GROW(f->corrupt, f->corrupt_cap, f->ncorrupt + 1);
			f->corrupt[f->ncorrupt++] = xstrdup(path);
		}
	}
	free(path);
	if (verdict != OBJ_GOOD)
		fsck_problem(f, "object %s is %s", digest,
			     verdict == OBJ_MISSING ? "missing" : "corrupt");
	return verdict == OBJ_GOOD ? 0 : -1;
}

/* Mark a present object whose content matched but whose format is wrong as corrupt. */
static void fsck_bad_format(struct fsck *f, const char *digest, const char *what)
{
	char *path = cas_object_path(f->c, digest, 0);
	unsigned char *v = seen_slot(&f->seen, path, 1);
	if (*v != OBJ_CORRUPT) {
		*v = OBJ_CORRUPT;
		GROW(f->corrupt, f->corrupt_cap, f->ncorrupt + 1);
		f->corrupt[f->ncorrupt++] = path;
	} else
		free(path);
	fsck_problem(f, "%s object %s is corrupt", what, digest);
}

static void fsck_tree(struct fsck *f, const char *digest, int depth)
{
	struct error ignored = ERROR_INIT;
	struct tree t = {0};
	if (depth > MAX_TREE_DEPTH) {
		fsck_problem(f, "tree object %s is nested too deeply", digest);
		return;
	}
	if (fsck_object(f, digest, 0, -1))
		return;
	if (cas_tree_load(f->c, digest, &t, &ignored)) {
		fsck_bad_format(f, digest, "tree");
	} else {
		for (size_t i = 0; i < t.n; i++) {
			struct tree_ent *e = &t.e[i];
			if (e->type == 'd')
				fsck_tree(f, e->digest, depth + 1);
			else if (e->type != 'l')
				fsck_object(f, e->digest, e->type == 'x', (long long)e->size);
		}
	}
	error_release(&ignored);
	cas_tree_release(&t);
}

static int fsck_ref(void *ud, const char *project, const char *element, const char *key)
{
	struct fsck *f = ud;
	char *label = xasprintf("%s/%s/%s", project, element, key);
	char *ref = xasprintf("%s/%s/%s/%s", f->c->refs, project, element, key), digest[65];
	struct cas_artifact *a = NULL;
	struct error ignored = ERROR_INIT;
	f->label = label;
	f->bad = 0;
	if (cas_read_ref(ref, digest)) {
		fsck_problem(f, "ref is corrupt (%s)", errno == EINVAL ? "not a digest" : strerror(errno));
	} else if (!fsck_object(f, digest, 0, -1)) {
		if (cas_manifest_load(f->c, digest, &a, &ignored)) {
			fsck_bad_format(f, digest, "manifest");
		} else {
			fsck_tree(f, a->files, 0);
			if (a->log_digest)
				fsck_object(f, a->log_digest, 0, -1);
			if (a->public_digest)
				fsck_object(f, a->public_digest, 0, -1);
		}
	}
	if (f->bad) {
		f->broken++;
		if (f->repair)
			unlink(ref);
	}
	cas_artifact_free(a);
	error_release(&ignored);
	free(ref);
	free(label);
	f->label = NULL;
	return 0;
}

int cas_fsck(struct cas *c, int repair, void (*report)(void *ud, const char *msg), void *ud,
	     struct error *err)
{
	struct fsck f = {0};
	int rc;
	f.c = c;
	f.repair = repair;
	f.report = report;
	f.ud = ud;
	rc = cas_list_refs(c, fsck_ref, &f, err);
	if (rc == 0 && repair)
		for (size_t i = 0; i < f.ncorrupt; i++)
			unlink(f.corrupt[i]);
	cas_free_names(f.corrupt, f.ncorrupt);
	for (size_t i = 0; i < f.seen.cap; i++)
		free(f.seen.key[i]);
	free(f.seen.key);
	free(f.seen.val);
	return rc ? -1 : f.broken;
}
