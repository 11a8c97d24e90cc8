/* casremote — the remote artifact cache client (remote.h): the channel, capabilities, refs,
 * Directory messages and reading blobs in bst 1.6.8's batches and chunks; caspull.c and
 * caspush.c convert between the local cache's trees and manifests and bst's artifact layout:
 *   root/ files/... (the artifact's files)  logs/build.log  meta/{dependencies,keys,public,
 *   workspaced-dependencies,workspaced}.yaml
 * Directory messages are encoded as bst encodes them (files, directories, symlinks, each by
 * name; proto3 defaults left out), so the same files give the same digests in both tools.
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

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

struct remote *remote_open(const struct remote_spec *spec, struct error *err)
{
	struct remote *r;
	if (!str_has_prefix(spec->url, "http://") && !str_has_prefix(spec->url, "https://")) {
		error_set(err, "Unsupported URL: %s (a remote cache is http:// or https://)", spec->url);
		return NULL;
	}
	r = xcalloc(1, sizeof(*r));
	r->spec.url = xstrdup(spec->url);
	r->spec.push = spec->push;
	r->spec.server_cert = dup_or_null(spec->server_cert);
	r->spec.client_key = dup_or_null(spec->client_key);
	r->spec.client_cert = dup_or_null(spec->client_cert);
	r->max_batch = MAX_PAYLOAD;
	return r;
}

void remote_close(struct remote *r)
{
	if (!r)
		return;
	if (r->ch && r->ch_pid == getpid())
		grpc_close(r->ch);
	free(r->spec.url);
	free(r->spec.server_cert);
	free(r->spec.client_key);
	free(r->spec.client_cert);
	free(r);
}

void remote_stats_add(struct remote_stats *st, unsigned long long bytes, unsigned long long blobs)
{
	st->bytes += bytes;
	st->blobs += blobs;
	if (st->progress)
		st->progress(st->progress_arg, st);
}

const char *remote_url(const struct remote *r)
{
	return r->spec.url;
}

/* The channel of this process (a forked job never uses its parent's connection). */
int rmt_chan(struct remote *r, struct error *err)
{
	struct grpc_tls tls = {r->spec.server_cert, r->spec.client_key, r->spec.client_cert};
	if (r->ch && r->ch_pid == getpid())
		return 0;
	r->ch = grpc_open(r->spec.url, &tls, err);
	r->ch_pid = getpid();
	return r->ch ? 0 : -1;
}

void rmt_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* A unary call, again (up to RETRIES in all) while the server is UNAVAILABLE, as bst's _retry. */
int rmt_call(struct remote *r, const char *method, const struct buf *req, struct buf *resp,
		struct grpc_status *st)
{
	for (int i = 0;; i++) {
		int code = grpc_unary(r->ch, method, req, resp, st);
		if (code != GRPC_UNAVAILABLE || i + 1 >= RETRIES)
			return code;
		grpc_status_release(st);
		rmt_sleep_ms(250L << i);
	}
}

int rmt_rpc_error(struct remote *r, struct error *err, const char *what, const struct grpc_status *st)
{
	const char *m = strrchr(what, '/');
	return error_set(err, "Remote (%s): %s failed: %s%s%s", r->spec.url, m ? m + 1 : what,
			 grpc_code_name(st->code), st->message && *st->message ? ": " : "",
			 st->message ? st->message : "");
}

/* An empty request of method: its status code (the probes of bst's CASRemote.init). */
static int probe(struct remote *r, const char *method, struct grpc_status *st)
{
	struct buf req = BUF_INIT, resp = BUF_INIT;
	int code = rmt_call(r, method, &req, &resp, st);
	buf_release(&resp);
	return code;
}

int remote_init(struct remote *r, int *allow_push, struct error *err)
{
	struct buf req = BUF_INIT, resp = BUF_INIT;
	struct grpc_status st = {0};
	int code, rc = -1;
	*allow_push = 0;
	if (rmt_chan(r, err))
		return -1;
	code = rmt_call(r, M_CAPS, &req, &resp, &st);
	if (code == GRPC_OK) {
		struct pb_reader rd, cr;
		struct pb_field f, g;
		pb_reader_init(&rd, resp.data, resp.len);
		while (pb_next(&rd, &f) > 0)
			if (f.number == 1 && f.wire == PB_LEN) {
				pb_reader_init(&cr, f.data, f.len);
				while (pb_next(&cr, &g) > 0)
					if (g.number == 4 && g.wire == PB_VARINT && g.v > 0 && g.v < MAX_PAYLOAD)
						r->max_batch = g.v;
			}
	} else if (code != GRPC_UNIMPLEMENTED) {
		rmt_rpc_error(r, err, M_CAPS, &st);
		goto out;
	}
	grpc_status_release(&st);
	code = probe(r, M_BREAD, &st);
	if (code != GRPC_OK && code != GRPC_UNIMPLEMENTED && code != GRPC_INVALID_ARGUMENT) {
		rmt_rpc_error(r, err, M_BREAD, &st);
		goto out;
	}
	r->batch_read = code != GRPC_UNIMPLEMENTED;
	grpc_status_release(&st);
	code = probe(r, M_AFETCH, &st);
	if (code != GRPC_INVALID_ARGUMENT && code != GRPC_UNIMPLEMENTED && code != GRPC_OK) {
		rmt_rpc_error(r, err, M_AFETCH, &st);
		goto out;
	}
	r->asset_fetch = code != GRPC_UNIMPLEMENTED;
	grpc_status_release(&st);
	if (r->spec.push) {
		code = probe(r, M_BUPDATE, &st);
		r->batch_update = code != GRPC_UNIMPLEMENTED && code != GRPC_PERMISSION_DENIED;
		grpc_status_release(&st);
		code = probe(r, M_APUSH, &st);
		r->asset_push = code == GRPC_INVALID_ARGUMENT || code == GRPC_OK;
		grpc_status_release(&st);
	}
	if (r->asset_fetch) {
		*allow_push = r->spec.push && r->asset_push;
	} else {
		code = rmt_call(r, M_STATUS, &req, &resp, &st);
		if (code != GRPC_OK) {
			rmt_rpc_error(r, err, M_STATUS, &st);
			goto out;
		}
		{
			struct pb_reader rd;
			struct pb_field f;
			int allow = 0;
			pb_reader_init(&rd, resp.data, resp.len);
			while (pb_next(&rd, &f) > 0)
				if (f.number == 1 && f.wire == PB_VARINT)
					allow = f.v != 0;
			*allow_push = r->spec.push && allow;
		}
	}
	r->inited = 1;
	rc = 0;
out:
	grpc_status_release(&st);
	buf_release(&resp);
	return rc;
}

char *remote_ref_name(int bst_keys, const char *project, const char *element, const char *key)
{
	char *normal = cas_normal_name(element);
	char *ref = xasprintf("%s%s/%s/%s", bst_keys ? "" : "rill:", project, normal, key);
	free(normal);
	return ref;
}

/* A job's remote: set up in this process (capabilities) before its first transfer. */
int rmt_ready(struct remote *r, struct error *err)
{
	int allow;
	if (rmt_chan(r, err))
		return -1;
	if (r->inited)
		return 0;
	return remote_init(r, &allow, err);
}

/* ---- refs ---- */

/* 1 with *d when the server names ref, 0 when it does not, -1 with err. */
int rmt_get_ref(struct remote *r, const char *ref, struct digest *d, struct error *err)
{
	struct buf req = BUF_INIT, resp = BUF_INIT;
	struct grpc_status st = {0};
	struct pb_reader rd;
	struct pb_field f;
	int code, rc = -1, found = 0;
	const char *m = r->asset_fetch ? M_AFETCH : M_GETREF;
	unsigned field = r->asset_fetch ? 5 : 1;
	if (r->asset_fetch) {
		char *urn = xasprintf("%s%s", URN_PREFIX, ref);
		pb_str(&req, 4, urn);
		free(urn);
	} else {
		pb_str(&req, 2, ref);
	}
	code = rmt_call(r, m, &req, &resp, &st);
	if (code == GRPC_NOT_FOUND) {
		rc = 0;
		goto out;
	}
	if (code != GRPC_OK) {
		rmt_rpc_error(r, err, m, &st);
		goto out;
	}
	pb_reader_init(&rd, resp.data, resp.len);
	while (pb_next(&rd, &f) > 0) {
		if (f.number == field && f.wire == PB_LEN) {
			if (pb_parse_digest(f.data, f.len, d->hash, &d->size)) {
				error_set(err, "Remote (%s): the digest of ref %s is not a SHA-256 digest", r->spec.url, ref);
				goto out;
			}
			found = 1;
		} else if (r->asset_fetch && f.number == 1 && f.wire == PB_LEN) {
			/* FetchDirectoryResponse.status: a non-zero code is a miss */
			struct pb_reader sr;
			struct pb_field g;
			pb_reader_init(&sr, f.data, f.len);
			while (pb_next(&sr, &g) > 0)
				if (g.number == 1 && g.wire == PB_VARINT && g.v) {
					rc = 0;
					goto out;
				}
		}
	}
	rc = found;
out:
	grpc_status_release(&st);
	buf_release(&req);
	buf_release(&resp);
	return rc;
}

int rmt_update_ref(struct remote *r, const char *ref, const struct digest *root, struct error *err)
{
	struct buf req = BUF_INIT, resp = BUF_INIT;
	struct grpc_status st = {0};
	const char *m = r->asset_push ? M_APUSH : M_UPDREF;
	int rc = 0;
	if (r->asset_push) {
		char *urn = xasprintf("%s%s", URN_PREFIX, ref);
		pb_str(&req, 2, urn);
		pb_digest(&req, 5, root->hash, root->size);
		free(urn);
	} else {
		pb_str(&req, 2, ref);
		pb_digest(&req, 3, root->hash, root->size);
	}
	if (rmt_call(r, m, &req, &resp, &st) != GRPC_OK)
		rc = rmt_rpc_error(r, err, m, &st);
	grpc_status_release(&st);
	buf_release(&req);
	buf_release(&resp);
	return rc;
}

/* ---- Directory messages ---- */


static int bad_name(const unsigned char *s, size_t n)
{
	return n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.') ||
	       memchr(s, '/', n) || memchr(s, '\0', n);
}

static int cmp_dnode(const void *a, const void *b)
{
	return strcmp(((const struct dnode *)a)->name, ((const struct dnode *)b)->name);
}

void rmt_free_dnodes(struct dnode *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free((char *)v[i].name);
		free(v[i].target);
	}
	free(v);
}

/* Parse a Directory message into its entries, sorted by name; names must be single path
 * components and unique. 0, or -1 with *why. */
int rmt_parse_directory(const unsigned char *data, size_t len, struct dnode **out, size_t *nout,
			   const char **why)
{
	struct pb_reader rd, sr;
	struct pb_field f, g;
	struct dnode *v = NULL;
	size_t n = 0, cap = 0;
	int rc;
	*why = "it is not a Directory message";
	pb_reader_init(&rd, data, len);
	while ((rc = pb_next(&rd, &f)) > 0) {
		struct dnode *e;
		int have_digest = 0, have_name = 0;
		if (f.number < 1 || f.number > 3 || f.wire != PB_LEN)
			continue;
		GROW(v, cap, n + 1);
		e = &v[n++];
		memset(e, 0, sizeof(*e));
		e->kind = f.number == 1 ? N_FILE : f.number == 2 ? N_DIR : N_LINK;
		pb_reader_init(&sr, f.data, f.len);
		while ((rc = pb_next(&sr, &g)) > 0) {
			if (g.number == 1 && g.wire == PB_LEN) {
				if (bad_name(g.data, g.len)) {
					*why = "it names an entry '', '.', '..' or one with '/' or NUL";
					goto bad;
				}
				free((char *)e->name);
				e->name = xstrndup((const char *)g.data, g.len);
				have_name = 1;
			} else if (g.number == 2 && g.wire == PB_LEN && e->kind != N_LINK) {
				if (pb_parse_digest(g.data, g.len, e->d.hash, &e->d.size))
					goto bad;
				have_digest = 1;
			} else if (g.number == 2 && g.wire == PB_LEN) {
				if (memchr(g.data, '\0', g.len))
					goto bad;
				free(e->target);
				e->target = xstrndup((const char *)g.data, g.len);
			} else if (g.number == 4 && g.wire == PB_VARINT && e->kind == N_FILE) {
				e->exec = g.v != 0;
			}
		}
		if (rc < 0 || !have_name || (e->kind != N_LINK && !have_digest) ||
		    (e->kind == N_LINK && !e->target)) {
			*why = "an entry lacks its name, digest or target";
			goto bad;
		}
	}
	if (rc < 0)
		goto bad;
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_dnode);
	for (size_t i = 1; i < n; i++)
		if (!strcmp(v[i - 1].name, v[i].name)) {
			*why = "it names an entry twice";
			goto bad;
		}
	*out = v;
	*nout = n;
	return 0;
bad:
	rmt_free_dnodes(v, n);
	return -1;
}

void rmt_encode_file(struct buf *dir, const char *name, const char *hash, unsigned long long size, int exec)
{
	struct buf n = BUF_INIT;
	pb_str(&n, 1, name);
	pb_digest(&n, 2, hash, size);
	pb_uint(&n, 4, exec ? 1 : 0);
	pb_bytes(dir, 1, n.data, n.len);
	buf_release(&n);
}

void rmt_encode_dir(struct buf *dir, const char *name, const struct digest *d)
{
	struct buf n = BUF_INIT;
	pb_str(&n, 1, name);
	pb_digest(&n, 2, d->hash, d->size);
	pb_bytes(dir, 2, n.data, n.len);
	buf_release(&n);
}

void rmt_encode_link(struct buf *dir, const char *name, const char *target)
{
	struct buf n = BUF_INIT;
	pb_str(&n, 1, name);
	pb_str(&n, 2, target);
	pb_bytes(dir, 3, n.data, n.len);
	buf_release(&n);
}

int rmt_digest_ok(const struct digest *d, const void *data, size_t len)
{
	char hex[65];
	if (len != d->size)
		return 0;
	cachekey_sha256_hex(data, len, hex);
	return !strcmp(hex, d->hash);
}

/* ---- reading blobs ---- */

/* Where a blob that is read goes: memory (mem) or a new object of the cache (obj). */
struct sink {
	struct buf *mem;
	struct cas *c;
	struct cas_newobj *obj;
	struct error *err;
	unsigned long long got;
	const struct digest *d;
};

static int sink_msg(void *ud, const unsigned char *msg, size_t len, char **why)
{
	struct sink *s = ud;
	struct pb_reader rd;
	struct pb_field f;
	pb_reader_init(&rd, msg, len);
	while (pb_next(&rd, &f) > 0) {
		if (f.number != 10 || f.wire != PB_LEN)
			continue;
		if (s->got + f.len > s->d->size) {
			*why = xasprintf("blob %s/%llu: the server sent more bytes than it has", s->d->hash, s->d->size);
			return 1;
		}
		s->got += f.len;
		if (s->mem)
			buf_add(s->mem, f.data, f.len);
		else if (cas_newobj_write(s->c, s->obj, f.data, f.len, s->err)) {
			*why = xstrdup(s->err->msg);
			return 1;
		}
	}
	return 0;
}

struct one_msg {
	struct buf *msg;
	int sent;
};

static int one_next(void *ud, struct buf *out)
{
	struct one_msg *o = ud;
	if (o->sent)
		return 0;
	o->sent = 1;
	buf_add(out, o->msg->data ? o->msg->data : "", o->msg->len);
	return 1;
}

/* ByteStream Read of d into memory (mem) or, with mem NULL, into the object (exec mode) in c,
 * checked against d. 1 done, 0 the server does not have it, -1 with err. */
int rmt_bs_read(struct remote *r, const struct digest *d, struct buf *mem, struct cas *c, int exec,
		   struct remote_stats *st, struct error *err)
{
	struct buf req = BUF_INIT;
	char *name = xasprintf("blobs/%s/%llu", d->hash, d->size);
	int rc = -1;
	pb_str(&req, 1, name);
	for (int attempt = 0;; attempt++) {
		struct grpc_status gs = {0};
		struct sink s = {mem, c, NULL, err, 0, d};
		struct one_msg o = {&req, 0};
		int code;
		if (mem)
			buf_reset(mem);
		else if (!(s.obj = cas_newobj_open(c, err)))
			break;
		code = grpc_call(r->ch, M_READ, one_next, &o, sink_msg, &s, &gs);
		if (code == GRPC_UNAVAILABLE && attempt + 1 < RETRIES) {
			grpc_status_release(&gs);
			cas_newobj_abort(s.obj);
			rmt_sleep_ms(250L << attempt);
			continue;
		}
		if (code == GRPC_NOT_FOUND) {
			cas_newobj_abort(s.obj);
			rc = 0;
		} else if (code != GRPC_OK) {
			cas_newobj_abort(s.obj);
			rmt_rpc_error(r, err, M_READ, &gs);
		} else if (mem) {
			if (rmt_digest_ok(d, mem->data ? mem->data : "", mem->len))
				rc = 1;
			else
				error_set(err, "Remote (%s): blob %s/%llu arrived with other content: the server sent wrong data",
					  r->spec.url, d->hash, d->size);
		} else {
			rc = cas_newobj_commit(c, s.obj, exec, d->hash, d->size, err) ? -1 : 1;
			if (rc < 0)
				error_prefix(err, "Remote (%s)", r->spec.url);
		}
		if (rc == 1)
			remote_stats_add(st, d->size, 1);
		grpc_status_release(&gs);
		break;
	}
	buf_release(&req);
	free(name);
	return rc;
}


/* Read the blobs d[0..n) (each smaller than a batch) through BatchReadBlobs when the server
 * has it, else one ByteStream Read each. 1 all read, 0 one is missing, -1 with err. */
int rmt_read_small(struct remote *r, const struct digest *d, size_t n, blob_fn fn, void *ud,
		      struct remote_stats *st, struct error *err)
{
	size_t i = 0;
	while (i < n) {
		struct buf req = BUF_INIT, resp = BUF_INIT;
		struct grpc_status gs = {0};
		struct pb_reader rd;
		struct pb_field f;
		unsigned long long sum = 0;
		size_t first = i, got = 0;
		int code, rc = 1;
		if (!r->batch_read || d[i].size >= r->max_batch) {
			struct buf mem = BUF_INIT;
			rc = rmt_bs_read(r, &d[i], &mem, NULL, 0, st, err);
			if (rc == 1 && fn(ud, i, mem.data ? mem.data : "", mem.len, err))
				rc = -1;
			buf_release(&mem);
			if (rc != 1)
				return rc;
			i++;
			continue;
		}
		while (i < n && d[i].size < r->max_batch && sum + d[i].size <= r->max_batch) {
			sum += d[i].size;
			pb_digest(&req, 2, d[i].hash, d[i].size);
			i++;
		}
		code = rmt_call(r, M_BREAD, &req, &resp, &gs);
		if (code != GRPC_OK) {
			rmt_rpc_error(r, err, M_BREAD, &gs);
			rc = -1;
		}
		pb_reader_init(&rd, resp.data, resp.len);
		while (rc == 1 && pb_next(&rd, &f) > 0) {
			struct pb_reader er;
			struct pb_field g;
			struct digest rdg = {"", 0};
			const unsigned char *data = NULL;
			size_t len = 0, k;
			long status = 0;
			if (f.number != 1 || f.wire != PB_LEN)
				continue;
			pb_reader_init(&er, f.data, f.len);
			while (pb_next(&er, &g) > 0) {
				if (g.number == 1 && g.wire == PB_LEN)
					pb_parse_digest(g.data, g.len, rdg.hash, &rdg.size);
				else if (g.number == 2 && g.wire == PB_LEN)
					data = g.data, len = g.len;
				else if (g.number == 3 && g.wire == PB_LEN) {
					struct pb_reader sr;
					struct pb_field h;
					pb_reader_init(&sr, g.data, g.len);
					while (pb_next(&sr, &h) > 0)
						if (h.number == 1 && h.wire == PB_VARINT)
							status = (long)h.v;
				}
			}
			for (k = first; k < i; k++)
				if (!strcmp(d[k].hash, rdg.hash) && d[k].size == rdg.size)
					break;
			if (k == i)
				continue;       /* not asked for */
			if (status == GRPC_NOT_FOUND) {
				rc = 0;
				break;
			}
			if (status) {
				error_set(err, "Remote (%s): BatchReadBlobs failed for blob %s/%llu: %s", r->spec.url,
					  rdg.hash, rdg.size, grpc_code_name((int)status));
				rc = -1;
				break;
			}
			if (!rmt_digest_ok(&d[k], data ? (const void *)data : "", len)) {
				error_set(err, "Remote (%s): blob %s/%llu arrived with other content: the server sent wrong data",
					  r->spec.url, d[k].hash, d[k].size);
				rc = -1;
				break;
			}
			remote_stats_add(st, len, 1);
			got++;
			if (fn(ud, k, data ? (const void *)data : "", len, err)) {
				rc = -1;
				break;
			}
		}
		if (rc == 1 && got < i - first) {
			/* every blob asked for must be answered: a digest left out is not there */
			rc = 0;
		}
		grpc_status_release(&gs);
		buf_release(&req);
		buf_release(&resp);
		if (rc != 1)
			return rc;
	}
	return 1;
}

void rmt_memo_clear(struct memo *m, void (*f)(void *))
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->e[i].key) {
			free(m->e[i].key);
			if (f)
				f(m->e[i].val);
		}
	free(m->e);
	memset(m, 0, sizeof(*m));
}
