/* remote — a remote artifact cache as BuildStream 1.6 speaks to one: REAPI v2
 * ContentAddressableStorage and Capabilities, google.bytestream, BuildStream's ReferenceStorage
 * (or the Remote Asset API when the server offers it). Artifacts go up and come down in bst's
 * layout (a root Directory of files/, logs/build.log and meta/ with five YAML files), converted to and from
 * the local cache's own trees, so rill and bst 1.6.8 share one server. Everything here runs in
 * the backend or its jobs (libcurl is loaded on first use). Protocol notes: docs/remote-cache.md.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_REMOTE_H
#define RILL_REMOTE_H

#include "base/util.h"
#include "cache/cas.h"

/* One `artifacts:` entry as bst reads it (paths already resolved). */
struct remote_spec {
	char *url;
	int push;
	char *server_cert, *client_key, *client_cert;
};

struct remote;
/* A client of spec's server (copied); nothing is sent until the first call. NULL with err when
 * the URL is not http:// or https:// or libcurl cannot be loaded. */
struct remote *remote_open(const struct remote_spec *spec, struct error *err);
void remote_close(struct remote *r);
const char *remote_url(const struct remote *r);

/* What the server offers (bst's CASRemote.init, then ReferenceStorage.Status): 0 with
 * *allow_push (1 when push was asked for and the server takes it), or -1 with err (the server
 * cannot be reached or is not a cache). */
int remote_init(struct remote *r, int *allow_push, struct error *err);

/* The ref an artifact has on the server: bst's "<project>/<normal name>/<key>" for bst keys,
 * "rill:<project>/<normal name>/<key>" for rill's own (a namespace no bst project name can
 * enter). Heap. */
char *remote_ref_name(int bst_keys, const char *project, const char *element, const char *key);

/* How an artifact is named on the server: bst names an element of a subproject by its own
 * project's name and its name there (the local cache names it by the loaded project and the
 * full "junction.bst:x.bst" name). */
struct remote_name {
	int bst_keys;
	const char *project;            /* the element's own project */
	const char *element;            /* its name within that project */
};

struct remote_stats {
	unsigned long long bytes;       /* blob bytes moved */
	unsigned long long blobs;       /* blobs moved */
	unsigned long long skipped;     /* blobs not moved (already there) */
	/* Called (when set) each time bytes or blobs grow, from inside the transfer. */
	void (*progress)(void *arg, const struct remote_stats *st);
	void *progress_arg;
};

/* Count n bytes in one or more blobs as moved, and tell st->progress. */
void remote_stats_add(struct remote_stats *st, unsigned long long bytes, unsigned long long blobs);

/* Pull element's artifact under key (project and element: its names in the local cache, rn:
 * on the server): every Directory and file blob is checked against its
 * digest, then the local artifact (trees, manifest, refs of both keys) is committed, refs last:
 * nothing is trusted before the whole tree is in. 1 when pulled, 0 when the server does not
 * have it (whole), -1 with err. */
int remote_pull(struct remote *r, struct cas *c, const char *project, const char *element,
		const char *key, const struct remote_name *rn, struct remote_stats *st, struct error *err);

/* Push element's local artifact under key: its refs (strong, then weak when different), each
 * skipped when the server already names the same root. 1 when something was pushed, 0 when the
 * server had it all, -1 with err. */
int remote_push(struct remote *r, struct cas *c, const char *project, const char *element,
		const char *key, const struct remote_name *rn, struct remote_stats *st, struct error *err);

#endif
