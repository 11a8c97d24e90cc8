/* cas — the content-addressed artifact cache: SHA-256 objects, tree and manifest objects, and
 * refs per project/element/key, committed so that a process killed at any instant leaves either
 * the whole artifact or nothing a later lookup trusts. Layout and formats: see cas.c.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_CAS_H
#define RILL_CAS_H

#include <stddef.h>

#include "base/util.h"

struct cas;

/* Open the store at root (e.g. "$XDG_CACHE_HOME/rill/artifacts"), creating root/objects,
 * root/refs and root/tmp as needed, and remove the leftovers in root/tmp of processes that are
 * no longer alive (never those of live ones). Returns the handle (free with cas_close()), or
 * NULL with err naming the directory. root is copied. */
struct cas *cas_open(const char *root, struct error *err);
void cas_close(struct cas *c);
/* The root directory as given to cas_open(). Borrowed from c. */
const char *cas_root(const struct cas *c);

/* BuildStream's normal name: element path with '/' -> '-', the ".bst" suffix removed, every
 * character outside [A-Za-z0-9-._] -> '_' (one '_' per UTF-8 character). Heap string. */
char *cas_normal_name(const char *element);

struct cas_meta {
	const char *strong_key, *weak_key;     /* hex keys; refs are written for both (once if equal) */
	const char *const *dep_names;          /* build-scope dependencies and their strong keys */
	const char *const *dep_keys;
	size_t ndeps;
	const char *public_yaml;               /* public data as YAML text, or NULL */
	const char *log_path;                  /* the job log to keep with the artifact, or NULL */
};

/* Store the directory tree at dir (regular files, executables (owner x bit), symlinks,
 * directories, empty ones included) as the artifact of element in project. Files are copied
 * (never hardlinked) into the store and hashed from the bytes stored, never from the source (so
 * a file changing underneath cannot make an object lie); an unchanged file whose object already
 * exists is only read. Every object is written before
 * the refs, and each ref appears atomically, so a kill at any point leaves nothing trusted.
 * Any other file type (fifo, socket, device) is an error naming its path. A strong or weak key
 * must be non-empty and made of [A-Za-z0-9._-] (not starting with '.'); project likewise.
 * Returns 0, or -1 with err. Safe to run concurrently with other commits, in other processes
 * too (same or different elements). */
int cas_commit(struct cas *c, const char *project, const char *element, const char *dir,
	       const struct cas_meta *m, struct error *err);

/* 1 when a complete artifact exists under key (ref present and its manifest object present),
 * else 0. */
int cas_has(struct cas *c, const char *project, const char *element, const char *key);

struct cas_artifact;

/* Keep the artifact of element under key (its ref, manifest and every tree, verified) in c's
 * memory, so that opening, walking and staging it through c, in this process and in processes
 * forked from it afterwards, reads none of it again: the backend calls this before it forks
 * the jobs that stage the artifact. Best effort: an artifact that cannot be loaded is left
 * for its real use to report; beyond 256 MB of memory nothing more is kept. Content-addressed
 * objects never change; the remembered ref must not be rewritten by another process while c
 * is open (builds never rewrite the refs of the artifacts they stage). */
void cas_preload(struct cas *c, const char *project, const char *element, const char *key);

/* Load an artifact's manifest into *out (free with cas_artifact_free(), which leaves alone
 * one kept by cas_preload()). Returns 0, or -1 with
 * err: "<element>: no artifact with key <key> in the cache" when absent; a manifest whose
 * content does not match its digest (or does not parse) is an error naming the object. */
int cas_artifact_open(struct cas *c, const char *project, const char *element, const char *key,
		      struct cas_artifact **out, struct error *err);
void cas_artifact_free(struct cas_artifact *a);
/* Accessors: strings borrowed from a, valid until cas_artifact_free(). */
const char *cas_artifact_strong_key(const struct cas_artifact *a);
const char *cas_artifact_weak_key(const struct cas_artifact *a);
/* NULL when none, or when the public data object is missing or corrupt (read on first use). */
const char *cas_artifact_public_yaml(const struct cas_artifact *a);
size_t cas_artifact_ndeps(const struct cas_artifact *a);
const char *cas_artifact_dep_name(const struct cas_artifact *a, size_t i);
const char *cas_artifact_dep_key(const struct cas_artifact *a, size_t i);
/* Path of the stored build log object (read-only file), or NULL when none was stored. */
const char *cas_artifact_log_path(const struct cas_artifact *a);

enum cas_entry_type { CAS_FILE, CAS_EXEC, CAS_SYMLINK, CAS_DIR };
struct cas_entry {
	const char *path;       /* relative to the artifact root, no leading '/', e.g. "usr/bin/sh" */
	enum cas_entry_type type;
	const char *target;     /* symlinks */
	const char *object;     /* files: path of the object in the store */
	unsigned long long size;
};

/* Call fn for every entry of the file tree, depth first, names sorted (byte order), a directory
 * before its contents. The entry's strings are only valid during the call. Tree objects are
 * verified against their digests. Returns 0, fn's non-zero return (stops the walk), or -1 with
 * err (corrupt or missing tree object). */
int cas_artifact_walk(struct cas *c, const struct cas_artifact *a,
		      int (*fn)(void *ud, const struct cas_entry *e), void *ud, struct error *err);

/* Stage the files into the existing directory dest: hardlinks to the objects when link (files
 * are then read-only 0444/0555 and must not be modified; a cross-device dest falls back to
 * copying), else copies with mode 0644 (0755 for executables). want(ud, path) selects files
 * and symlinks (NULL: everything; directories are created as needed for what is selected, and
 * empty directories are staged when want is NULL or want(dir path) says yes). An existing
 * non-directory at a destination path is replaced and overlap(ud, path) is called (may be
 * NULL); a file where a directory exists (or the reverse) is an error naming the path.
 * Symlinks already in dest are followed for directories, resolved inside dest (an absolute
 * target or ".." never leaves it). Returns 0, or -1 with err. */
int cas_artifact_stage(struct cas *c, const struct cas_artifact *a, const char *dest, int link,
		       int (*want)(void *ud, const char *path),
		       void (*overlap)(void *ud, const char *path), void *ud, struct error *err);

/* Staging several artifacts into one directory, one after the other, as consecutive
 * cas_artifact_stage() calls would (same result, same errors), but cheaper: directories staged
 * once are remembered, so later artifacts do not create, check and open them again. Nothing
 * but the stager may change dest until cas_stager_free(). make_dir(make_dir_ud, dirfd, name),
 * when not NULL, creates each new directory instead of mkdirat(dirfd, name, 0755) and must
 * behave like it (0, or -1 with errno, EEXIST when something is there; the directory it makes
 * must be empty, mode 0755). Returns NULL with err when dest cannot be opened. */
struct cas_stager;
struct cas_stager *cas_stager_new(struct cas *c, const char *dest,
				  int (*make_dir)(void *ud, int dirfd, const char *name),
				  void *make_dir_ud, struct error *err);
/* Stage a into the stager's dest: link, want, overlap and ud as for cas_artifact_stage(). */
int cas_stager_add(struct cas_stager *s, const struct cas_artifact *a, int link,
		   int (*want)(void *ud, const char *path),
		   void (*overlap)(void *ud, const char *path), void *ud, struct error *err);
void cas_stager_free(struct cas_stager *s);

/* Check every ref: its manifest, trees and every object (content digest, size and mode).
 * report(ud, msg) (may be NULL) is called for each problem, e.g.
 * "<project>/<element>/<key>: object <digest> is corrupt" (or "is missing", "ref is corrupt").
 * With repair, broken refs and corrupt objects are removed so the artifact is rebuilt later.
 * Returns the number of broken artifacts (refs; 0: all good), or -1 with err. */
int cas_fsck(struct cas *c, int repair, void (*report)(void *ud, const char *msg), void *ud,
	     struct error *err);

/* The bytes the cache's objects take on disk. */
int cas_usage(struct cas *c, unsigned long long *bytes, struct error *err);
/* Remove the ref project/element/key (element: the normal name): 0, 1 when there was none,
 * -1 with err. Its objects stay until cas_prune(). */
int cas_delete_ref(struct cas *c, const char *project, const char *element, const char *key, struct error *err);
/* Remove every object no ref reaches (*freed: the bytes). Holds the cache's lock exclusively,
 * so it waits for the commits in progress (which hold it shared) and they wait for it. */
int cas_prune(struct cas *c, unsigned long long *freed, struct error *err);
/* When the objects take more than quota bytes: remove refs, least recently used first (the
 * ref's mtime: cas_touch()), but none for which keep() says 1, and prune, until the cache fits
 * or nothing more may go. */
struct cas_expiry {
	unsigned long long before, after;       /* bytes */
	size_t removed;                         /* refs */
};
int cas_expire(struct cas *c, unsigned long long quota,
	       int (*keep)(void *ud, const char *project, const char *normal_name, const char *key), void *ud,
	       struct cas_expiry *out, struct error *err);
/* Mark project/element/key as used now (for expiry's order). */
void cas_touch(struct cas *c, const char *project, const char *element, const char *key);

/* Call fn for every ref: project, element normal name, key (borrowed for the call). Stops at
 * fn's non-zero return and returns it; else 0, or -1 with err. */
int cas_list_refs(struct cas *c, int (*fn)(void *ud, const char *project, const char *normal_name,
					   const char *key), void *ud, struct error *err);

#endif
