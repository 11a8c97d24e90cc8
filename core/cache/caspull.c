/* caspull — pulling an artifact from a remote cache into the local one (remote_pull):
 * breadth-first Directory reads, every blob checked, the local trees, manifest and refs last.
 * SPDX-License-Identifier: Apache-2.0 */
#include "cache/remote.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/osutil.h"
#include "cache/proto.h"
#include "cache/remote-internal.h"
#include "format/cachekey.h"
#include "format/node.h"
#include "format/yamlload.h"

/* ---- pull ---- */

struct pull {
	struct remote *r;
	struct cas *c;
	struct remote_stats *st;
	struct memo dirs;               /* REAPI Directory hash -> struct buf * (its bytes) */
	struct memo trees;              /* REAPI Directory hash -> rill tree digest (heap) */
	struct digest *want;            /* being read */
	size_t nwant;
	int exec_of_want;
};

static void free_buf(void *p)
{
	buf_release(p);
	free(p);
}


static int keep_dir(void *ud, size_t i, const void *data, size_t len, struct error *err)
{
	struct pull *p = ud;
	struct buf *b = xcalloc(1, sizeof(*b));
	(void)err;
	if (cas_memo_get(&p->dirs, p->want[i].hash)) {
		free(b);
		return 0;
	}
	buf_add(b, data, len);
	cas_memo_put(&p->dirs, p->want[i].hash, b);
	return 0;
}

/* Read the Directory messages of the tree at root, level by level (bst's breadth-first
 * traversal), into p->dirs. 1, 0 when one is missing, -1 with err. */
static int read_tree(struct pull *p, const struct digest *root, struct error *err)
{
	struct digest *level = xmalloc(sizeof(*level)), *next = NULL;
	size_t n = 1, nn = 0, ncap = 0, total = 0;
	int rc = 1, depth = 0;
	level[0] = *root;
	while (n && rc == 1) {
		if (++depth > MAX_TREE_DEPTH) {
			rc = error_set(err, "Remote (%s): the artifact's directories are nested too deeply", p->r->spec.url);
			break;
		}
		total += n;
		if (total > MAX_DIRS) {
			rc = error_set(err, "Remote (%s): the artifact has more than %d directories", p->r->spec.url, MAX_DIRS);
			break;
		}
		p->want = level;
		p->nwant = n;
		rc = rmt_read_small(p->r, level, n, keep_dir, p, p->st, err);
		if (rc != 1)
			break;
		nn = 0;
		for (size_t i = 0; i < n && rc == 1; i++) {
			struct buf *b = cas_memo_get(&p->dirs, level[i].hash);
			struct dnode *v;
			size_t nv;
			const char *why;
			if (rmt_parse_directory((const unsigned char *)b->data, b->len, &v, &nv, &why)) {
				rc = error_set(err, "Remote (%s): Directory %s/%llu cannot be used: %s", p->r->spec.url,
					       level[i].hash, level[i].size, why);
				break;
			}
			for (size_t k = 0; k < nv; k++) {
				int dup = 0;
				if (v[k].kind != N_DIR || cas_memo_get(&p->dirs, v[k].d.hash))
					continue;
				for (size_t m = 0; m < nn && !dup; m++)
					dup = !strcmp(next[m].hash, v[k].d.hash);
				if (!dup) {
					GROW(next, ncap, nn + 1);
					next[nn++] = v[k].d;
				}
			}
			rmt_free_dnodes(v, nv);
		}
		free(level);
		level = next;
		n = nn;
		next = NULL;
		ncap = 0;
	}
	free(level);
	free(next);
	return rc;
}

static int object_present(struct cas *c, const struct digest *d, int exec)
{
	char *path = cas_object_path(c, d->hash, exec);
	struct stat sb;
	int ok = !lstat(path, &sb) && S_ISREG(sb.st_mode) && (unsigned long long)sb.st_size == d->size &&
		 (sb.st_mode & 07777) == (exec ? 0555u : 0444u);
	free(path);
	return ok;
}

static int store_want(void *ud, size_t i, const void *data, size_t len, struct error *err)
{
	struct pull *p = ud;
	char got[65];
	(void)i;
	return cas_store_data(p->c, data, len, p->exec_of_want, got, err);
}

/* Make the object d (exec mode) from the other mode's object, already here. */
static int copy_variant(struct cas *c, const struct digest *d, int exec, struct error *err)
{
	char *path = cas_object_path(c, d->hash, !exec), got[65];
	struct buf b = BUF_INIT;
	int rc = read_file(path, &b, err);
	if (!rc)
		rc = cas_store_data(c, b.data ? b.data : "", b.len, exec, got, err);
	if (!rc && strcmp(got, d->hash))
		rc = error_set(err, "object %s is corrupt (run 'rill artifact fsck --repair')", path);
	buf_release(&b);
	free(path);
	return rc;
}

struct fileset {
	struct digest *d;
	size_t n, cap;
	struct memo seen;               /* "<hash>x" / "<hash>f" */
};

/* The file blobs of the tree at hash not in the local cache, by mode. */
static void collect_files(struct pull *p, const char *hash, struct fileset *files, struct fileset *execs)
{
	struct buf *b = cas_memo_get(&p->dirs, hash);
	struct dnode *v;
	size_t nv;
	const char *why;
	if (!b || rmt_parse_directory((const unsigned char *)b->data, b->len, &v, &nv, &why))
		return;                 /* read_tree() checked them all */
	for (size_t k = 0; k < nv; k++) {
		if (v[k].kind == N_DIR) {
			collect_files(p, v[k].d.hash, files, execs);
		} else if (v[k].kind == N_FILE) {
			struct fileset *fs = v[k].exec ? execs : files;
			if (!cas_memo_get(&fs->seen, v[k].d.hash) && !object_present(p->c, &v[k].d, v[k].exec)) {
				cas_memo_put(&fs->seen, v[k].d.hash, (void *)1);
				GROW(fs->d, fs->cap, fs->n + 1);
				fs->d[fs->n++] = v[k].d;
			}
		}
	}
	rmt_free_dnodes(v, nv);
}

static int read_files(struct pull *p, struct fileset *fs, int exec, struct fileset *other, struct error *err)
{
	struct digest *small = xmalloc((fs->n ? fs->n : 1) * sizeof(*small));
	size_t ns = 0;
	int rc = 1;
	for (size_t i = 0; i < fs->n && rc == 1; i++) {
		const struct digest *d = &fs->d[i];
		/* the same content in the other mode, here or being read: copied locally */
		if (object_present(p->c, d, !exec) || (other && cas_memo_get(&other->seen, d->hash)))
			continue;
		if (d->size >= p->r->max_batch || !p->r->batch_read)
			rc = rmt_bs_read(p->r, d, NULL, p->c, exec, p->st, err);
		else
			small[ns++] = *d;
	}
	if (rc == 1 && ns) {
		p->exec_of_want = exec;
		p->want = small;
		p->nwant = ns;
		rc = rmt_read_small(p->r, small, ns, store_want, p, p->st, err);
	}
	free(small);
	return rc;
}

/* Turn the Directory at hash into a tree object of the local cache (children first). */
static int make_tree(struct pull *p, const char *hash, char out[65], int depth, struct error *err)
{
	struct buf *b = cas_memo_get(&p->dirs, hash), text = BUF_INIT;
	char *known = cas_memo_get(&p->trees, hash), sub[65];
	struct dnode *v = NULL;
	size_t nv = 0;
	const char *why;
	int rc = -1;
	if (known) {
		memcpy(out, known, 65);
		return 0;
	}
	if (depth > MAX_TREE_DEPTH || !b || rmt_parse_directory((const unsigned char *)b->data, b->len, &v, &nv, &why))
		return error_set(err, "Remote (%s): Directory %s cannot be used", p->r->spec.url, hash);
	buf_adds(&text, TREE_HEADER);
	for (size_t k = 0; k < nv; k++) {
		if (v[k].kind == N_FILE) {
			buf_addf(&text, "%c\t%s\t%llu\t", v[k].exec ? 'x' : 'f', v[k].d.hash, v[k].d.size);
			cas_add_escaped(&text, v[k].name);
		} else if (v[k].kind == N_DIR) {
			if (make_tree(p, v[k].d.hash, sub, depth + 1, err))
				goto out;
			buf_addf(&text, "d\t%s\t0\t", sub);
			cas_add_escaped(&text, v[k].name);
		} else {
			buf_addf(&text, "l\t-\t%zu\t", strlen(v[k].target));
			cas_add_escaped(&text, v[k].name);
			buf_addch(&text, '\t');
			cas_add_escaped(&text, v[k].target);
		}
		buf_addch(&text, '\n');
	}
	if (cas_store_data(p->c, text.data, text.len, 0, out, err))
		goto out;
	cas_memo_put(&p->trees, hash, xstrndup(out, 64));
	rc = 0;
out:
	rmt_free_dnodes(v, nv);
	buf_release(&text);
	return rc;
}

/* The entry name of the Directory at hash (already read), or NULL. */
static int find_entry(struct pull *p, const char *hash, const char *name, int kind, struct dnode *out)
{
	struct buf *b = cas_memo_get(&p->dirs, hash);
	struct dnode *v;
	size_t nv;
	const char *why;
	int found = 0;
	if (!b || rmt_parse_directory((const unsigned char *)b->data, b->len, &v, &nv, &why))
		return 0;
	for (size_t k = 0; k < nv; k++)
		if (v[k].kind == kind && !strcmp(v[k].name, name)) {
			*out = v[k];
			out->name = xstrdup(v[k].name);
			out->target = NULL;
			found = 1;
		}
	rmt_free_dnodes(v, nv);
	return found;
}

static int keep_meta(void *ud, size_t i, const void *data, size_t len, struct error *err)
{
	struct buf *bufs = ud;
	(void)err;
	buf_add(&bufs[i], data, len);
	return 0;
}

static int safe_key(const char *s)
{
	size_t n = strlen(s);
	if (!n || n > 200 || s[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return 0;
	return 1;
}

int remote_pull(struct remote *r, struct cas *c, const char *project, const char *element,
		const char *key, const struct remote_name *rn, struct remote_stats *st, struct error *err)
{
	static const char *const meta_names[] = {"keys.yaml", "dependencies.yaml", "public.yaml"};
	struct pull p = {0};
	struct digest root, meta_d[3];
	struct dnode files = {0}, logs = {0}, meta = {0}, logfile = {0}, mf[3];
	struct fileset fs = {0}, xs = {0};
	struct buf metab[3] = {BUF_INIT, BUF_INIT, BUF_INIT}, man = BUF_INIT;
	struct arena *a = NULL;
	char *ref = remote_ref_name(rn->bst_keys, rn->project, rn->element, key), files_tree[65], log_obj[65] = "",
	     pub_obj[65] = "", man_d[65], *sref = NULL, *wref = NULL;
	const char *strong = NULL, *weak = NULL;
	struct node *keys, *deps = NULL;
	int rc = -1, locked = 0, found;
	size_t nmeta = 0;
	memset(mf, 0, sizeof(mf));
	p.r = r;
	p.c = c;
	p.st = st;
	if (rmt_ready(r, err))
		goto out;
	found = rmt_get_ref(r, ref, &root, err);
	if (found <= 0) {
		rc = found;
		goto out;
	}
	/* shared with commits, exclusive of a sweep: objects found present stay until the refs */
	if (cas_lock(c, LOCK_SH)) {
		error_set(err, "cannot lock the artifact cache at '%s': %s", cas_root(c), strerror(errno));
		goto out;
	}
	locked = 1;
	if ((found = read_tree(&p, &root, err)) != 1) {
		rc = found;
		goto out;
	}
	if (!find_entry(&p, root.hash, "files", N_DIR, &files) || !find_entry(&p, root.hash, "meta", N_DIR, &meta)) {
		error_set(err, "Remote (%s): %s is not an artifact (no files/ or meta/ in its root)", r->spec.url, ref);
		goto out;
	}
	for (size_t i = 0; i < 3; i++)
		if (find_entry(&p, meta.d.hash, meta_names[i], N_FILE, &mf[i]))
			meta_d[nmeta++] = mf[i].d;
		else if (i == 0) {
			error_set(err, "Remote (%s): artifact %s has no meta/keys.yaml", r->spec.url, ref);
			goto out;
		}
	for (size_t i = 0; i < nmeta; i++)
		if (meta_d[i].size > (64u << 20)) {
			error_set(err, "Remote (%s): artifact %s has a meta file of %llu bytes", r->spec.url, ref, meta_d[i].size);
			goto out;
		}
	p.want = meta_d;
	if ((found = rmt_read_small(r, meta_d, nmeta, keep_meta, metab, st, err)) != 1) {
		rc = found;
		goto out;
	}
	/* the metadata: keys (the one asked for must be there), dependencies, public data */
	a = arena_new();
	keys = yaml_load_data(a, metab[0].data ? metab[0].data : "", metab[0].len, "meta/keys.yaml", err);
	if (!keys || node_get_str(keys, "strong", NULL, &strong, err) || node_get_str(keys, "weak", NULL, &weak, err))
		goto bad_meta;
	if (!strong || !weak || !safe_key(strong) || !safe_key(weak)) {
		error_set(err, "meta/keys.yaml has no valid strong and weak keys");
		goto bad_meta;
	}
	if (strcmp(strong, key) && strcmp(weak, key)) {
		error_set(err, "meta/keys.yaml names keys %s and %s, not %s", strong, weak, key);
		goto bad_meta;
	}
	for (size_t i = 1; i < nmeta; i++) {
		if (strcmp(meta_names[i], "dependencies.yaml") || !mf[1].name)
			continue;
		deps = yaml_load_data(a, metab[i].data ? metab[i].data : "", metab[i].len, "meta/dependencies.yaml", err);
		if (!deps)
			goto bad_meta;
		for (size_t k = 0; k < deps->u.map.n; k++)
			if (deps->u.map.entries[k].value->type != NODE_SCALAR) {
				error_set(err, "meta/dependencies.yaml: %s is not a key", deps->u.map.entries[k].key);
				goto bad_meta;
			}
	}
	/* the files, then the trees, the log, the public data, the manifest and last the refs */
	collect_files(&p, files.d.hash, &fs, &xs);
	if ((found = read_files(&p, &fs, 0, &xs, err)) != 1 || (found = read_files(&p, &xs, 1, NULL, err)) != 1) {
		rc = found;
		goto out;
	}
	for (size_t i = 0; i < fs.n; i++)
		if (!object_present(c, &fs.d[i], 0) && copy_variant(c, &fs.d[i], 0, err))
			goto out;
	for (size_t i = 0; i < xs.n; i++)
		if (!object_present(c, &xs.d[i], 1) && copy_variant(c, &xs.d[i], 1, err))
			goto out;
	if (make_tree(&p, files.d.hash, files_tree, 0, err))
		goto out;
	if (find_entry(&p, root.hash, "logs", N_DIR, &logs) && find_entry(&p, logs.d.hash, "build.log", N_FILE, &logfile)) {
		if (!object_present(c, &logfile.d, 0)) {
			struct buf lb = BUF_INIT;
			if (logfile.d.size >= r->max_batch || !r->batch_read) {
				found = rmt_bs_read(r, &logfile.d, NULL, c, 0, st, err);
			} else {
				p.want = &logfile.d;
				found = rmt_read_small(r, &logfile.d, 1, keep_meta, &lb, st, err);
				if (found == 1 && cas_store_data(c, lb.data ? lb.data : "", lb.len, 0, log_obj, err))
					found = -1;
			}
			buf_release(&lb);
			if (found != 1) {
				rc = found;
				goto out;
			}
		}
		memcpy(log_obj, logfile.d.hash, 65);
	}
	if (nmeta > 2 && metab[2].len && cas_store_data(c, metab[2].data, metab[2].len, 0, pub_obj, err))
		goto out;
	buf_adds(&man, MANIFEST_HEADER);
	buf_addf(&man, "strong\t%s\nweak\t%s\nfiles\t%s\n", strong, weak, files_tree);
	if (log_obj[0])
		buf_addf(&man, "log\t%s\n", log_obj);
	if (pub_obj[0])
		buf_addf(&man, "public\t%s\n", pub_obj);
	for (size_t k = 0; deps && k < deps->u.map.n; k++) {
		buf_adds(&man, "dep\t");
		cas_add_escaped(&man, deps->u.map.entries[k].key);
		buf_addch(&man, '\t');
		cas_add_escaped(&man, node_str(deps->u.map.entries[k].value));
		buf_addch(&man, '\n');
	}
	if (cas_store_data(c, man.data, man.len, 0, man_d, err))
		goto out;
	sref = cas_ref_path(c, project, element, strong);
	wref = cas_ref_path(c, project, element, weak);
	if (!sref || !wref) {
		error_set(err, "%s: cannot name the artifact in the local cache", element);
		goto out;
	}
	if (cas_write_ref(c, sref, man_d, err) || (strcmp(sref, wref) && cas_write_ref(c, wref, man_d, err)))
		goto out;
	rc = 1;
	goto out;
bad_meta:
	error_prefix(err, "Remote (%s): artifact %s", r->spec.url, ref);
out:
	if (locked)
		cas_lock(c, LOCK_UN);
	for (size_t i = 0; i < 3; i++) {
		buf_release(&metab[i]);
		free((char *)mf[i].name);
	}
	free((char *)files.name);
	free((char *)logs.name);
	free((char *)meta.name);
	free((char *)logfile.name);
	free(fs.d);
	free(xs.d);
	rmt_memo_clear(&fs.seen, NULL);
	rmt_memo_clear(&xs.seen, NULL);
	rmt_memo_clear(&p.dirs, free_buf);
	rmt_memo_clear(&p.trees, free);
	if (a)
		arena_free(a);
	buf_release(&man);
	free(sref);
	free(wref);
	free(ref);
	return rc;
}
