/* cas-internal.h — what the parts of the artifact cache share (cas.c: objects, commits,
 * lookup and manifests; castree.c: trees and staging; casfsck.c: listing and checking). Only
 * core/cache/cas*.c include it; the layout is described in cas.c.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_CAS_INTERNAL_H
#define RILL_CAS_INTERNAL_H

#include <stddef.h>

#include "base/util.h"
#include "cache/cas.h"

#define TREE_HEADER "rill-tree 1\n"
#define MANIFEST_HEADER "rill-artifact 1\n"
#define MAX_TREE_DEPTH 512

/* String-keyed table (open addressing) of the memory below. */
struct memo {
	struct memo_entry {
		char *key;
		void *val;
	} *e;
	size_t n, cap;
};

struct cas {
	char *root, *objects, *refs, *tmp;
	unsigned char made_dirs[32];    /* objects/<xx> known to exist, one bit each */
	struct buf scratch;             /* file contents being imported */
	/* What cas_preload() verified and keeps: refs (path -> manifest digest), manifests
	 * (digest -> shared struct cas_artifact) and trees (digest -> struct tree). */
	struct memo refs_seen, manifests, trees;
	size_t memo_bytes;
	int lock_fd;                    /* <root>/lock: commits shared, sweeps exclusive; -1 until used */
};

struct cas_artifact {
	struct cas *c;
	int shared;                     /* kept in c's memory: cas_artifact_free() leaves it */
	char *strong, *weak, *files, *log_digest, *public_digest;
	char *public_yaml, *log_path;
	char **dep_names, **dep_keys;
	size_t ndeps;
};

struct tree_ent {
	char type;              /* f x l d */
	char digest[65];        /* "" for symlinks */
	unsigned long long size;
	char *name, *target;
};

struct tree {
	struct tree_ent *e;
	size_t n, cap;
};

/* cas.c */
int cas_is_digest(const char *s, size_t n);
char *cas_unescape(const char *s);                 /* heap */
int cas_split_line(char **pos, char **f, int max);
void cas_free_names(char **names, size_t n);
int cas_list_dir(int dirfd, char ***out, size_t *nout);
int cas_copy_fd(int in, int out);
char *cas_object_path(const struct cas *c, const char *digest, int exec);   /* heap */
char *cas_ref_path(const struct cas *c, const char *project, const char *element, const char *key);
int cas_read_ref(const char *refpath, char digest[65]);
void *cas_memo_get(const struct memo *m, const char *key);
void cas_memo_put(struct memo *m, const char *key, void *val);
int cas_load_object(struct cas *c, const char *digest, const char *what, struct buf *out,
		    struct error *err);
int cas_manifest_load(struct cas *c, const char *digest, struct cas_artifact **out, struct error *err);
/* for casremote.c: objects from memory or streamed in (verified against the digest they
 * must have), refs, escaping of tree and manifest fields */
void cas_add_escaped(struct buf *b, const char *s);
int cas_store_data(struct cas *c, const void *data, size_t len, int exec, char digest[65],
		   struct error *err);
int cas_write_ref(struct cas *c, const char *refpath, const char *digest, struct error *err);
struct cas_newobj;
struct cas_newobj *cas_newobj_open(struct cas *c, struct error *err);
int cas_newobj_write(struct cas *c, struct cas_newobj *o, const void *data, size_t len, struct error *err);
/* Check the content against hash and size, then make it the object (mode by exec); frees o. */
int cas_newobj_commit(struct cas *c, struct cas_newobj *o, int exec, const char *hash,
		      unsigned long long size, struct error *err);
void cas_newobj_abort(struct cas_newobj *o);
/* casgc.c: flock(2) op on the cache's lock (opened on first use); 0 or -1 with errno */
int cas_lock(struct cas *c, int op);
/* castree.c */
void cas_tree_release(struct tree *t);
int cas_tree_load(struct cas *c, const char *digest, struct tree *t, struct error *err);
void cas_free_tree(void *t);
void cas_free_shared_artifact(void *a);

#endif
