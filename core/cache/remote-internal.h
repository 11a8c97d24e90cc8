/* remote-internal.h — what the parts of the remote cache client share (casremote.c: channel,
 * calls, refs, Directory messages, reading blobs; caspull.c: pull; caspush.c: push). Only
 * those files include it.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_REMOTE_INTERNAL_H
#define RILL_REMOTE_INTERNAL_H

#include <sys/types.h>

#include "cache/cas-internal.h"
#include "cache/grpc.h"
#include "cache/remote.h"

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

enum { N_FILE, N_DIR, N_LINK };
struct dnode {
	int kind, exec;
	const char *name;               /* into the message, NUL-terminated copies in names */
	char *target;
	struct digest d;
};

/* Blobs arrive here: fn(ud, index into the list, data, len) after their digest was checked;
 * non-zero stops the reading with an error in err. */
typedef int (*blob_fn)(void *ud, size_t i, const void *data, size_t len, struct error *err);


/* casremote.c: the channel of this process, set up (capabilities) before the first transfer */
int rmt_chan(struct remote *r, struct error *err);
int rmt_ready(struct remote *r, struct error *err);
void rmt_sleep_ms(long ms);
/* a unary call, retried while UNAVAILABLE */
int rmt_call(struct remote *r, const char *method, const struct buf *req, struct buf *resp,
	     struct grpc_status *st);
int rmt_rpc_error(struct remote *r, struct error *err, const char *what, const struct grpc_status *st);
/* 1 with *d when the server names ref, 0 when not, -1 with err */
int rmt_get_ref(struct remote *r, const char *ref, struct digest *d, struct error *err);
int rmt_update_ref(struct remote *r, const char *ref, const struct digest *root, struct error *err);
/* a Directory message's entries, sorted by name, checked (names, digests): 0, or -1 with *why */
int rmt_parse_directory(const unsigned char *data, size_t len, struct dnode **out, size_t *nout,
			const char **why);
void rmt_free_dnodes(struct dnode *v, size_t n);
void rmt_encode_file(struct buf *dir, const char *name, const char *hash, unsigned long long size, int exec);
void rmt_encode_dir(struct buf *dir, const char *name, const struct digest *d);
void rmt_encode_link(struct buf *dir, const char *name, const char *target);
int rmt_digest_ok(const struct digest *d, const void *data, size_t len);
/* ByteStream Read of d into mem, or (mem NULL) into a new object of c: 1, 0 not there, -1 */
int rmt_bs_read(struct remote *r, const struct digest *d, struct buf *mem, struct cas *c, int exec,
		struct remote_stats *st, struct error *err);
/* blobs below a batch through BatchReadBlobs (else ByteStream): 1, 0 one missing, -1 */
int rmt_read_small(struct remote *r, const struct digest *d, size_t n, blob_fn fn, void *ud,
		   struct remote_stats *st, struct error *err);
void rmt_memo_clear(struct memo *m, void (*f)(void *));

#endif
