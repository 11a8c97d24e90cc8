/* caspush — pushing a local artifact to a remote cache in bst's layout (remote_push):
 * Directory messages from the local trees, FindMissingBlobs, batches and ByteStream writes.
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

/* ---- push ---- */

struct blob {
	struct digest d;
	char *path;                     /* a local object, or NULL: data */
	struct buf data;
};

struct push {
	struct remote *r;
	struct cas *c;
	struct remote_stats *st;
	struct blob *b;
	size_t n, cap;
	struct memo index;              /* hash -> index + 1 */
	struct memo trees;              /* rill tree digest -> struct digest * */
};

static void add_blob(struct push *p, const char *hash, unsigned long long size, const char *path,
		     const void *data, size_t len)
{
	struct blob *b;
	if (cas_memo_get(&p->index, hash))
		return;
	GROW(p->b, p->cap, p->n + 1);
	b = &p->b[p->n++];
	memset(b, 0, sizeof(*b));
	memcpy(b->d.hash, hash, 65);
	b->d.size = size;
	b->path = path ? xstrdup(path) : NULL;
	if (!path)
		buf_add(&b->data, data, len);
	cas_memo_put(&p->index, hash, (void *)(uintptr_t)p->n);
}

static void add_mem(struct push *p, const struct buf *data, struct digest *d)
{
	cachekey_sha256_hex(data->data ? data->data : "", data->len, d->hash);
	d->size = data->len;
	add_blob(p, d->hash, d->size, NULL, data->data ? data->data : "", data->len);
}

/* The Directory message of the local tree object digest (children first). */
static int push_tree(struct push *p, const char *digest, struct digest *out, int depth, struct error *err)
{
	struct tree t = {0};
	struct buf files = BUF_INIT, dirs = BUF_INIT, links = BUF_INIT;
	struct digest *known = cas_memo_get(&p->trees, digest);
	int rc = -1;
	if (known) {
		*out = *known;
		return 0;
	}
	if (depth > MAX_TREE_DEPTH)
		return error_set(err, "directories nested too deeply");
	if (cas_tree_load(p->c, digest, &t, err))
		return -1;
	for (size_t i = 0; i < t.n; i++) {
		struct tree_ent *e = &t.e[i];
		if (e->type == 'f' || e->type == 'x') {
			char *path = cas_object_path(p->c, e->digest, e->type == 'x');
			rmt_encode_file(&files, e->name, e->digest, e->size, e->type == 'x');
			add_blob(p, e->digest, e->size, path, NULL, 0);
			free(path);
		} else if (e->type == 'd') {
			struct digest sub;
			if (push_tree(p, e->digest, &sub, depth + 1, err))
				goto out;
			rmt_encode_dir(&dirs, e->name, &sub);
		} else {
			rmt_encode_link(&links, e->name, e->target ? e->target : "");
		}
	}
	buf_add(&files, dirs.data ? dirs.data : "", dirs.len);
	buf_add(&files, links.data ? links.data : "", links.len);
	add_mem(p, &files, out);
	known = xmalloc(sizeof(*known));
	*known = *out;
	cas_memo_put(&p->trees, digest, known);
	rc = 0;
out:
	cas_tree_release(&t);
	buf_release(&files);
	buf_release(&dirs);
	buf_release(&links);
	return rc;
}

/* A YAML scalar for a name or key: plain when that reads back the same, else single-quoted. */
static void yaml_scalar(struct buf *b, const char *s)
{
	int plain = *s && !strchr("-?:,[]{}#&*!|>'\"%@` ", *s);
	for (const char *q = s; *q && plain; q++)
		plain = (*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
			strchr("._/+-", *q);
	if (plain) {
		buf_adds(b, s);
		return;
	}
	buf_addch(b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			buf_addch(b, '\'');
		buf_addch(b, *s);
	}
	buf_addch(b, '\'');
}

/* bst's root: files/, logs/build.log, meta/ with its five files. */
static int push_root(struct push *p, const struct cas_artifact *a, struct digest *root, struct error *err)
{
	struct buf dir = BUF_INIT, text = BUF_INIT;
	struct digest files, logs, meta, d;
	const char *pub = cas_artifact_public_yaml(a);
	struct { const char *name; struct digest d; } mfiles[5];
	if (push_tree(p, a->files, &files, 0, err))
		return -1;
	if (a->log_digest) {
		struct stat sb;
		char *path = cas_object_path(p->c, a->log_digest, 0);
		if (stat(path, &sb)) {
			error_set(err, "the artifact's log object %s is missing (run 'rill artifact fsck')", path);
			free(path);
			return -1;
		}
		rmt_encode_file(&dir, "build.log", a->log_digest, (unsigned long long)sb.st_size, 0);
		add_blob(p, a->log_digest, (unsigned long long)sb.st_size, path, NULL, 0);
		free(path);
	}
	add_mem(p, &dir, &logs);
	buf_reset(&dir);
	/* meta/, in name order */
	if (a->ndeps) {
		for (size_t i = 0; i < a->ndeps; i++) {
			yaml_scalar(&text, a->dep_names[i]);
			buf_adds(&text, ": ");
			yaml_scalar(&text, a->dep_keys[i]);
			buf_addch(&text, '\n');
		}
	} else {
		buf_adds(&text, "{}\n");
	}
	mfiles[0].name = "dependencies.yaml";
	add_mem(p, &text, &mfiles[0].d);
	buf_reset(&text);
	buf_addf(&text, "strong: %s\nweak: %s\n", a->strong, a->weak);
	mfiles[1].name = "keys.yaml";
	add_mem(p, &text, &mfiles[1].d);
	buf_reset(&text);
	buf_adds(&text, pub && *pub ? pub : "{}\n");
	mfiles[2].name = "public.yaml";
	add_mem(p, &text, &mfiles[2].d);
	buf_reset(&text);
	buf_adds(&text, "workspaced-dependencies: []\n");
	mfiles[3].name = "workspaced-dependencies.yaml";
	add_mem(p, &text, &mfiles[3].d);
	buf_reset(&text);
	buf_adds(&text, "workspaced: False\n");
	mfiles[4].name = "workspaced.yaml";
	add_mem(p, &text, &mfiles[4].d);
	for (size_t i = 0; i < 5; i++)
		rmt_encode_file(&dir, mfiles[i].name, mfiles[i].d.hash, mfiles[i].d.size, 0);
	add_mem(p, &dir, &meta);
	buf_reset(&dir);
	rmt_encode_dir(&dir, "files", &files);
	rmt_encode_dir(&dir, "logs", &logs);
	rmt_encode_dir(&dir, "meta", &meta);
	add_mem(p, &dir, &d);
	*root = d;
	buf_release(&dir);
	buf_release(&text);
	return 0;
}

static int blob_bytes(const struct blob *b, struct buf *out, struct error *err)
{
	buf_reset(out);
	if (!b->path) {
		buf_add(out, b->data.data ? b->data.data : "", b->data.len);
		return 0;
	}
	if (read_file(b->path, out, err))
		return -1;
	if (out->len != b->d.size)
		return error_set(err, "object '%s' changed size (run 'rill artifact fsck')", b->path);
	return 0;
}

struct writer {
	const struct blob *b;
	const char *resource;
	int fd;
	unsigned long long off;
	int done;
	struct buf chunk;
	struct error *err;
	int failed;
};

static int write_next(void *ud, struct buf *out)
{
	struct writer *w = ud;
	size_t n;
	if (w->done)
		return 0;
	n = w->b->d.size - w->off > MAX_PAYLOAD ? MAX_PAYLOAD : (size_t)(w->b->d.size - w->off);
	buf_reset(&w->chunk);
	buf_grow(&w->chunk, n + 1);
	if (w->fd >= 0) {
		size_t got = 0;
		while (got < n) {
			ssize_t k = pread(w->fd, w->chunk.data + got, n - got, (off_t)(w->off + got));
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0) {
				w->failed = 1;
				error_set(w->err, "cannot read '%s': %s", w->b->path, k < 0 ? strerror(errno) : "it got shorter");
				return 0;       /* the call then ends short; the server refuses it */
			}
			got += (size_t)k;
		}
	} else {
		memcpy(w->chunk.data, w->b->data.data + w->off, n);
	}
	w->chunk.len = n;
	pb_str(out, 1, w->resource);
	pb_uint(out, 2, w->off);
	w->off += n;
	if (w->off == w->b->d.size) {
		pb_uint(out, 3, 1);
		w->done = 1;
	}
	if (n)
		pb_bytes(out, 10, w->chunk.data, n);
	return 1;
}

struct committed {
	unsigned long long size;
};

static int write_reply(void *ud, const unsigned char *msg, size_t len, char **why)
{
	struct committed *c = ud;
	struct pb_reader rd;
	struct pb_field f;
	(void)why;
	pb_reader_init(&rd, msg, len);
	while (pb_next(&rd, &f) > 0)
		if (f.number == 1 && f.wire == PB_VARINT)
			c->size = f.v;
	return 0;
}

static void make_uuid(char out[37])
{
	unsigned char u[16];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, u, 16) != 16) {
		uint64_t h = hash_bytes(&u, sizeof(u)) ^ (uint64_t)getpid() ^ (uint64_t)time(NULL);
		memcpy(u, &h, 8);
		memcpy(u + 8, &h, 8);
	}
	if (fd >= 0)
		close(fd);
	u[6] = (unsigned char)((u[6] & 0x0f) | 0x40);
	u[8] = (unsigned char)((u[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2],
		 u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

/* ByteStream Write of one blob in 1 MiB chunks. */
static int bs_write(struct push *p, const struct blob *b, struct error *err)
{
	struct remote *r = p->r;
	char *res;
	int rc = -1;
	if (!r->uuid[0])
		make_uuid(r->uuid);
	res = xasprintf("uploads/%s/blobs/%s/%llu", r->uuid, b->d.hash, b->d.size);
	for (int attempt = 0;; attempt++) {
		struct writer w = {b, res, -1, 0, 0, BUF_INIT, err, 0};
		struct committed cm = {0};
		struct grpc_status gs = {0};
		int code;
		if (b->path && (w.fd = open(b->path, O_RDONLY | O_CLOEXEC)) < 0) {
			error_set(err, "cannot read '%s': %s", b->path, strerror(errno));
			break;
		}
		code = grpc_call(r->ch, M_WRITE, write_next, &w, write_reply, &cm, &gs);
		if (w.fd >= 0)
			close(w.fd);
		buf_release(&w.chunk);
		if (w.failed) {
			grpc_status_release(&gs);
			break;
		}
		if (code == GRPC_UNAVAILABLE && attempt + 1 < RETRIES) {
			grpc_status_release(&gs);
			rmt_sleep_ms(250L << attempt);
			continue;
		}
		if (code != GRPC_OK)
			rmt_rpc_error(r, err, M_WRITE, &gs);
		else if (cm.size != b->d.size)
			error_set(err, "Remote (%s): Write of blob %s/%llu committed %llu bytes", r->spec.url, b->d.hash,
				  b->d.size, cm.size);
		else {
			remote_stats_add(p->st, b->d.size, 1);
			rc = 0;
		}
		grpc_status_release(&gs);
		break;
	}
	free(res);
	return rc;
}

static int flush_batch(struct push *p, const size_t *idx, size_t n, struct error *err)
{
	struct buf req = BUF_INIT, resp = BUF_INIT, data = BUF_INIT;
	struct grpc_status gs = {0};
	struct pb_reader rd;
	struct pb_field f;
	int rc = -1;
	unsigned long long bytes = 0;
	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const struct blob *b = &p->b[idx[i]];
		struct buf one = BUF_INIT;
		if (blob_bytes(b, &data, err)) {
			buf_release(&one);
			goto out;
		}
		pb_digest(&one, 1, b->d.hash, b->d.size);
		pb_bytes(&one, 2, data.data ? data.data : "", data.len);
		pb_bytes(&req, 2, one.data, one.len);
		buf_release(&one);
		bytes += b->d.size;
	}
	if (rmt_call(p->r, M_BUPDATE, &req, &resp, &gs) != GRPC_OK) {
		rmt_rpc_error(p->r, err, M_BUPDATE, &gs);
		goto out;
	}
	pb_reader_init(&rd, resp.data, resp.len);
	while (pb_next(&rd, &f) > 0) {
		struct pb_reader er, sr;
		struct pb_field g, h;
		if (f.number != 1 || f.wire != PB_LEN)
			continue;
		pb_reader_init(&er, f.data, f.len);
		while (pb_next(&er, &g) > 0) {
			if (g.number != 2 || g.wire != PB_LEN)
				continue;
			pb_reader_init(&sr, g.data, g.len);
			while (pb_next(&sr, &h) > 0)
				if (h.number == 1 && h.wire == PB_VARINT && h.v) {
					error_set(err, "Remote (%s): BatchUpdateBlobs refused a blob: %s", p->r->spec.url,
						  grpc_code_name((int)h.v));
					goto out;
				}
		}
	}
	remote_stats_add(p->st, bytes, n);
	rc = 0;
out:
	grpc_status_release(&gs);
	buf_release(&req);
	buf_release(&resp);
	buf_release(&data);
	return rc;
}

/* FindMissingBlobs over every blob (groups of 512), then send what is missing. */
static int send_blobs(struct push *p, struct error *err)
{
	size_t *missing = xmalloc((p->n ? p->n : 1) * sizeof(*missing)), nm = 0, *batch = NULL, nb = 0, bcap = 0;
	unsigned long long sum = 0;
	int rc = -1;
	for (size_t i = 0; i < p->n; i += FIND_GROUP) {
		struct buf req = BUF_INIT, resp = BUF_INIT;
		struct grpc_status gs = {0};
		struct pb_reader rd;
		struct pb_field f;
		size_t end = i + FIND_GROUP < p->n ? i + FIND_GROUP : p->n;
		for (size_t k = i; k < end; k++)
			pb_digest(&req, 2, p->b[k].d.hash, p->b[k].d.size);
		if (rmt_call(p->r, M_FIND, &req, &resp, &gs) != GRPC_OK) {
			rmt_rpc_error(p->r, err, M_FIND, &gs);
			grpc_status_release(&gs);
			buf_release(&req);
			buf_release(&resp);
			goto out;
		}
		pb_reader_init(&rd, resp.data, resp.len);
		while (pb_next(&rd, &f) > 0) {
			struct digest d;
			uintptr_t at;
			if (f.number != 2 || f.wire != PB_LEN || pb_parse_digest(f.data, f.len, d.hash, &d.size))
				continue;
			at = (uintptr_t)cas_memo_get(&p->index, d.hash);
			if (at && nm < p->n)
				missing[nm++] = at - 1;
		}
		grpc_status_release(&gs);
		buf_release(&req);
		buf_release(&resp);
	}
	p->st->skipped += p->n - nm;
	for (size_t i = 0; i < nm; i++) {
		const struct blob *b = &p->b[missing[i]];
		if (b->d.size >= p->r->max_batch || !p->r->batch_update) {
			if (bs_write(p, b, err))
				goto out;
			continue;
		}
		if (sum + b->d.size > p->r->max_batch) {
			if (flush_batch(p, batch, nb, err))
				goto out;
			nb = 0;
			sum = 0;
		}
		GROW(batch, bcap, nb + 1);
		batch[nb++] = missing[i];
		sum += b->d.size;
	}
	if (flush_batch(p, batch, nb, err))
		goto out;
	rc = 0;
out:
	free(missing);
	free(batch);
	return rc;
}

int remote_push(struct remote *r, struct cas *c, const char *project, const char *element,
		const char *key, const struct remote_name *rn, struct remote_stats *st, struct error *err)
{
	struct push p = {0};
	struct cas_artifact *a = NULL;
	struct digest root;
	const char *keys[2];
	int rc = -1, sent = 0, pushed = 0;
	p.r = r;
	p.c = c;
	p.st = st;
	if (cas_artifact_open(c, project, element, key, &a, err))
		return -1;
	if (rmt_ready(r, err) || push_root(&p, a, &root, err))
		goto out;
	keys[0] = a->strong;
	keys[1] = a->weak;
	for (int i = 0; i < 2; i++) {
		struct digest have;
		char *ref;
		int found;
		if (i == 1 && !strcmp(keys[1], keys[0]))
			break;
		ref = remote_ref_name(rn->bst_keys, rn->project, rn->element, keys[i]);
		found = rmt_get_ref(r, ref, &have, err);
		if (found < 0) {
			free(ref);
			goto out;
		}
		if (found && !strcmp(have.hash, root.hash) && have.size == root.size) {
			free(ref);
			continue;       /* "Remote ... already has ... cached" */
		}
		if (!sent && send_blobs(&p, err)) {
			free(ref);
			goto out;
		}
		sent = 1;
		if (rmt_update_ref(r, ref, &root, err)) {
			free(ref);
			goto out;
		}
		pushed = 1;
		free(ref);
	}
	rc = pushed;
out:
	if (rc < 0 && err->msg && !str_has_prefix(err->msg, "Remote ("))
		error_prefix(err, "Remote (%s)", r->spec.url);
	for (size_t i = 0; i < p.n; i++) {
		free(p.b[i].path);
		buf_release(&p.b[i].data);
	}
	free(p.b);
	rmt_memo_clear(&p.index, NULL);
	rmt_memo_clear(&p.trees, free);
	cas_artifact_free(a);
	return rc;
}
