/* casremote — the remote artifact cache client (remote.h): capabilities, refs, blob transfer
 * in bst 1.6.8's batches and chunks, and the conversion between the local cache's trees and
 * manifests and bst's artifact layout of REAPI Directory messages:
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
#include "cache/cas-internal.h"
#include "cache/grpc.h"
#include "cache/proto.h"
#include "format/cachekey.h"
#include "format/node.h"
#include "format/yamlload.h"

#define MAX_PAYLOAD (1ull << 20)        /* bst's _MAX_PAYLOAD_BYTES: batches and chunks */
#define FIND_GROUP 512                  /* digests per FindMissingBlobs, as bst's _grouper */
#define RETRIES 5                       /* attempts of a call that found the server UNAVAILABLE */
#define MAX_DIRS 1000000                /* Directory messages in one artifact */
#define URN_PREFIX "urn:fdc:buildstream.build:2020:v1:"

static const char M_CAPS[] = "/build.bazel.remote.execution.v2.Capabilities/GetCapabilities";
static const char M_FIND[] = "/build.bazel.remote.execution.v2.ContentAddressableStorage/FindMissingBlobs";
static const char M_BUPDATE[] = "/build.bazel.remote.execution.v2.ContentAddressableStorage/BatchUpdateBlobs";
static const char M_BREAD[] = "/build.bazel.remote.execution.v2.ContentAddressableStorage/BatchReadBlobs";
static const char M_READ[] = "/google.bytestream.ByteStream/Read";
static const char M_WRITE[] = "/google.bytestream.ByteStream/Write";
static const char M_GETREF[] = "/buildstream.v2.ReferenceStorage/GetReference";
static const char M_UPDREF[] = "/buildstream.v2.ReferenceStorage/UpdateReference";
static const char M_STATUS[] = "/buildstream.v2.ReferenceStorage/Status";
static const char M_AFETCH[] = "/build.bazel.remote.asset.v1.Fetch/FetchDirectory";
static const char M_APUSH[] = "/build.bazel.remote.asset.v1.Push/PushDirectory";

struct remote {
	struct remote_spec spec;
	struct grpc_chan *ch;           /* opened on first use: never shared across fork */
	pid_t ch_pid;
	int inited;
	unsigned long long max_batch;
	int batch_read, batch_update, asset_fetch, asset_push;
	char uuid[37];
};

struct digest {
	char hash[65];
	unsigned long long size;
};

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

const char *remote_url(const struct remote *r)
{
	return r->spec.url;
}

/* The channel of this process (a forked job never uses its parent's connection). */
static int chan(struct remote *r, struct error *err)
{
	struct grpc_tls tls = {r->spec.server_cert, r->spec.client_key, r->spec.client_cert};
	if (r->ch && r->ch_pid == getpid())
		return 0;
	r->ch = grpc_open(r->spec.url, &tls, err);
	r->ch_pid = getpid();
	return r->ch ? 0 : -1;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* A unary call, again (up to RETRIES in all) while the server is UNAVAILABLE, as bst's _retry. */
static int call(struct remote *r, const char *method, const struct buf *req, struct buf *resp,
		struct grpc_status *st)
{
	for (int i = 0;; i++) {
		int code = grpc_unary(r->ch, method, req, resp, st);
		if (code != GRPC_UNAVAILABLE || i + 1 >= RETRIES)
			return code;
		grpc_status_release(st);
		sleep_ms(100L << i);
	}
}

static int rpc_error(struct remote *r, struct error *err, const char *what, const struct grpc_status *st)
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
	int code = call(r, method, &req, &resp, st);
	buf_release(&resp);
	return code;
}

int remote_init(struct remote *r, int *allow_push, struct error *err)
{
	struct buf req = BUF_INIT, resp = BUF_INIT;
	struct grpc_status st = {0};
	int code, rc = -1;
	*allow_push = 0;
	if (chan(r, err))
		return -1;
	code = call(r, M_CAPS, &req, &resp, &st);
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
		rpc_error(r, err, M_CAPS, &st);
		goto out;
	}
	grpc_status_release(&st);
	code = probe(r, M_BREAD, &st);
	if (code != GRPC_OK && code != GRPC_UNIMPLEMENTED && code != GRPC_INVALID_ARGUMENT) {
		rpc_error(r, err, M_BREAD, &st);
		goto out;
	}
	r->batch_read = code != GRPC_UNIMPLEMENTED;
	grpc_status_release(&st);
	code = probe(r, M_AFETCH, &st);
	if (code != GRPC_INVALID_ARGUMENT && code != GRPC_UNIMPLEMENTED && code != GRPC_OK) {
		rpc_error(r, err, M_AFETCH, &st);
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
		code = call(r, M_STATUS, &req, &resp, &st);
		if (code != GRPC_OK) {
			rpc_error(r, err, M_STATUS, &st);
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
static int ready(struct remote *r, struct error *err)
{
	int allow;
	if (chan(r, err))
		return -1;
	if (r->inited)
		return 0;
	return remote_init(r, &allow, err);
}

/* ---- refs ---- */

/* 1 with *d when the server names ref, 0 when it does not, -1 with err. */
static int get_ref(struct remote *r, const char *ref, struct digest *d, struct error *err)
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
	code = call(r, m, &req, &resp, &st);
	if (code == GRPC_NOT_FOUND) {
		rc = 0;
		goto out;
	}
	if (code != GRPC_OK) {
		rpc_error(r, err, m, &st);
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

static int update_ref(struct remote *r, const char *ref, const struct digest *root, struct error *err)
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
	if (call(r, m, &req, &resp, &st) != GRPC_OK)
		rc = rpc_error(r, err, m, &st);
	grpc_status_release(&st);
	buf_release(&req);
	buf_release(&resp);
	return rc;
}

/* ---- Directory messages ---- */

enum { N_FILE, N_DIR, N_LINK };
struct dnode {
	int kind, exec;
	const char *name;               /* into the message, NUL-terminated copies in names */
	char *target;
	struct digest d;
};

static int bad_name(const unsigned char *s, size_t n)
{
	return n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.') ||
	       memchr(s, '/', n) || memchr(s, '\0', n);
}

static int cmp_dnode(const void *a, const void *b)
{
	return strcmp(((const struct dnode *)a)->name, ((const struct dnode *)b)->name);
}

static void free_dnodes(struct dnode *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free((char *)v[i].name);
		free(v[i].target);
	}
	free(v);
}

/* Parse a Directory message into its entries, sorted by name; names must be single path
 * components and unique. 0, or -1 with *why. */
static int parse_directory(const unsigned char *data, size_t len, struct dnode **out, size_t *nout,
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
	free_dnodes(v, n);
	return -1;
}

static void encode_file(struct buf *dir, const char *name, const char *hash, unsigned long long size, int exec)
{
	struct buf n = BUF_INIT;
	pb_str(&n, 1, name);
	pb_digest(&n, 2, hash, size);
	pb_uint(&n, 4, exec ? 1 : 0);
	pb_bytes(dir, 1, n.data, n.len);
	buf_release(&n);
}

static void encode_dir(struct buf *dir, const char *name, const struct digest *d)
{
	struct buf n = BUF_INIT;
	pb_str(&n, 1, name);
	pb_digest(&n, 2, d->hash, d->size);
	pb_bytes(dir, 2, n.data, n.len);
	buf_release(&n);
}

static void encode_link(struct buf *dir, const char *name, const char *target)
{
	struct buf n = BUF_INIT;
	pb_str(&n, 1, name);
	pb_str(&n, 2, target);
	pb_bytes(dir, 3, n.data, n.len);
	buf_release(&n);
}

static int digest_ok(const struct digest *d, const void *data, size_t len)
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
static int bs_read(struct remote *r, const struct digest *d, struct buf *mem, struct cas *c, int exec,
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
			sleep_ms(100L << attempt);
			continue;
		}
		if (code == GRPC_NOT_FOUND) {
			cas_newobj_abort(s.obj);
			rc = 0;
		} else if (code != GRPC_OK) {
			cas_newobj_abort(s.obj);
			rpc_error(r, err, M_READ, &gs);
		} else if (mem) {
			if (digest_ok(d, mem->data ? mem->data : "", mem->len))
				rc = 1;
			else
				error_set(err, "Remote (%s): blob %s/%llu arrived with other content: the server sent wrong data",
					  r->spec.url, d->hash, d->size);
		} else {
			rc = cas_newobj_commit(c, s.obj, exec, d->hash, d->size, err) ? -1 : 1;
			if (rc < 0)
				error_prefix(err, "Remote (%s)", r->spec.url);
		}
		if (rc == 1) {
			st->bytes += d->size;
			st->blobs++;
		}
		grpc_status_release(&gs);
		break;
	}
	buf_release(&req);
	free(name);
	return rc;
}

/* Blobs arrive here: fn(ud, index into the list, data, len) after their digest was checked;
 * non-zero stops the reading with an error in err. */
typedef int (*blob_fn)(void *ud, size_t i, const void *data, size_t len, struct error *err);

/* Read the blobs d[0..n) (each smaller than a batch) through BatchReadBlobs when the server
 * has it, else one ByteStream Read each. 1 all read, 0 one is missing, -1 with err. */
static int read_small(struct remote *r, const struct digest *d, size_t n, blob_fn fn, void *ud,
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
			rc = bs_read(r, &d[i], &mem, NULL, 0, st, err);
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
		code = call(r, M_BREAD, &req, &resp, &gs);
		if (code != GRPC_OK) {
			rpc_error(r, err, M_BREAD, &gs);
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
			if (!digest_ok(&d[k], data ? (const void *)data : "", len)) {
				error_set(err, "Remote (%s): blob %s/%llu arrived with other content: the server sent wrong data",
					  r->spec.url, d[k].hash, d[k].size);
				rc = -1;
				break;
			}
			st->bytes += len;
			st->blobs++;
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

static void memo_clear(struct memo *m, void (*f)(void *))
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
		rc = read_small(p->r, level, n, keep_dir, p, p->st, err);
		if (rc != 1)
			break;
		nn = 0;
		for (size_t i = 0; i < n && rc == 1; i++) {
			struct buf *b = cas_memo_get(&p->dirs, level[i].hash);
			struct dnode *v;
			size_t nv;
			const char *why;
			if (parse_directory((const unsigned char *)b->data, b->len, &v, &nv, &why)) {
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
			free_dnodes(v, nv);
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
	if (!b || parse_directory((const unsigned char *)b->data, b->len, &v, &nv, &why))
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
	free_dnodes(v, nv);
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
			rc = bs_read(p->r, d, NULL, p->c, exec, p->st, err);
		else
			small[ns++] = *d;
	}
	if (rc == 1 && ns) {
		p->exec_of_want = exec;
		p->want = small;
		p->nwant = ns;
		rc = read_small(p->r, small, ns, store_want, p, p->st, err);
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
	if (depth > MAX_TREE_DEPTH || !b || parse_directory((const unsigned char *)b->data, b->len, &v, &nv, &why))
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
	free_dnodes(v, nv);
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
	if (!b || parse_directory((const unsigned char *)b->data, b->len, &v, &nv, &why))
		return 0;
	for (size_t k = 0; k < nv; k++)
		if (v[k].kind == kind && !strcmp(v[k].name, name)) {
			*out = v[k];
			out->name = xstrdup(v[k].name);
			out->target = NULL;
			found = 1;
		}
	free_dnodes(v, nv);
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
		const char *key, int bst_keys, struct remote_stats *st, struct error *err)
{
	static const char *const meta_names[] = {"keys.yaml", "dependencies.yaml", "public.yaml"};
	struct pull p = {0};
	struct digest root, meta_d[3];
	struct dnode files = {0}, logs = {0}, meta = {0}, logfile = {0}, mf[3];
	struct fileset fs = {0}, xs = {0};
	struct buf metab[3] = {BUF_INIT, BUF_INIT, BUF_INIT}, man = BUF_INIT;
	struct arena *a = NULL;
	char *ref = remote_ref_name(bst_keys, project, element, key), files_tree[65], log_obj[65] = "",
	     pub_obj[65] = "", man_d[65], *sref = NULL, *wref = NULL;
	const char *strong = NULL, *weak = NULL;
	struct node *keys, *deps = NULL;
	int rc = -1, locked = 0, found;
	size_t nmeta = 0;
	memset(mf, 0, sizeof(mf));
	p.r = r;
	p.c = c;
	p.st = st;
	if (ready(r, err))
		goto out;
	found = get_ref(r, ref, &root, err);
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
	if ((found = read_small(r, meta_d, nmeta, keep_meta, metab, st, err)) != 1) {
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
				found = bs_read(r, &logfile.d, NULL, c, 0, st, err);
			} else {
				p.want = &logfile.d;
				found = read_small(r, &logfile.d, 1, keep_meta, &lb, st, err);
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
	memo_clear(&fs.seen, NULL);
	memo_clear(&xs.seen, NULL);
	memo_clear(&p.dirs, free_buf);
	memo_clear(&p.trees, free);
	if (a)
		arena_free(a);
	buf_release(&man);
	free(sref);
	free(wref);
	free(ref);
	return rc;
}

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
			encode_file(&files, e->name, e->digest, e->size, e->type == 'x');
			add_blob(p, e->digest, e->size, path, NULL, 0);
			free(path);
		} else if (e->type == 'd') {
			struct digest sub;
			if (push_tree(p, e->digest, &sub, depth + 1, err))
				goto out;
			encode_dir(&dirs, e->name, &sub);
		} else {
			encode_link(&links, e->name, e->target ? e->target : "");
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
		encode_file(&dir, "build.log", a->log_digest, (unsigned long long)sb.st_size, 0);
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
		encode_file(&dir, mfiles[i].name, mfiles[i].d.hash, mfiles[i].d.size, 0);
	add_mem(p, &dir, &meta);
	buf_reset(&dir);
	encode_dir(&dir, "files", &files);
	encode_dir(&dir, "logs", &logs);
	encode_dir(&dir, "meta", &meta);
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
			sleep_ms(100L << attempt);
			continue;
		}
		if (code != GRPC_OK)
			rpc_error(r, err, M_WRITE, &gs);
		else if (cm.size != b->d.size)
			error_set(err, "Remote (%s): Write of blob %s/%llu committed %llu bytes", r->spec.url, b->d.hash,
				  b->d.size, cm.size);
		else {
			p->st->bytes += b->d.size;
			p->st->blobs++;
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
	if (call(p->r, M_BUPDATE, &req, &resp, &gs) != GRPC_OK) {
		rpc_error(p->r, err, M_BUPDATE, &gs);
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
	p->st->bytes += bytes;
	p->st->blobs += n;
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
		if (call(p->r, M_FIND, &req, &resp, &gs) != GRPC_OK) {
			rpc_error(p->r, err, M_FIND, &gs);
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
		const char *key, int bst_keys, struct remote_stats *st, struct error *err)
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
	if (ready(r, err) || push_root(&p, a, &root, err))
		goto out;
	keys[0] = a->strong;
	keys[1] = a->weak;
	for (int i = 0; i < 2; i++) {
		struct digest have;
		char *ref;
		int found;
		if (i == 1 && !strcmp(keys[1], keys[0]))
			break;
		ref = remote_ref_name(bst_keys, project, element, keys[i]);
		found = get_ref(r, ref, &have, err);
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
		if (update_ref(r, ref, &root, err)) {
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
	memo_clear(&p.index, NULL);
	memo_clear(&p.trees, free);
	cas_artifact_free(a);
	return rc;
}
