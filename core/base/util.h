/* util — allocation that never fails, the growable buffer, the arena, and the error struct.
 * Every other module builds on these; nothing here knows about YAML or projects.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_UTIL_H
#define RILL_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

/* Allocators: out of memory prints one line and exits 70; they never return NULL. */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) PRINTF_LIKE(1, 2);

/* Grow the array *p of *cap elements of size elem so that it holds at least need. */
void xgrow(void **p, size_t *cap, size_t need, size_t elem);
#define GROW(arr, cap, need) xgrow((void **)&(arr), &(cap), (need), sizeof(*(arr)))

/* The one growable byte buffer. data is always NUL-terminated (once anything was added). */
struct buf {
	char *data;
	size_t len;
	size_t cap;
};
#define BUF_INIT {NULL, 0, 0}
void buf_init(struct buf *b);
void buf_release(struct buf *b);
void buf_reset(struct buf *b);          /* len = 0, keeps memory */
void buf_grow(struct buf *b, size_t extra);
void buf_add(struct buf *b, const void *p, size_t n);
void buf_adds(struct buf *b, const char *s);
void buf_addch(struct buf *b, char c);
void buf_addf(struct buf *b, const char *fmt, ...) PRINTF_LIKE(2, 3);
void buf_vaddf(struct buf *b, const char *fmt, va_list ap);
/* Return a NUL-terminated string the caller owns (free()); b is left empty. */
char *buf_detach(struct buf *b);
/* Return data, or "" when nothing was ever added. Borrowed. */
const char *buf_str(const struct buf *b);

/* Arena: many small allocations freed together (graph nodes, YAML nodes of a project). */
struct arena;
struct arena *arena_new(void);
void arena_free(struct arena *a);
void *arena_alloc(struct arena *a, size_t n);       /* zeroed, 8-byte aligned */
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
size_t arena_used(const struct arena *a);
/* Forget every allocation but keep one block for reuse (scratch arenas). */
void arena_reset(struct arena *a);

/* What this thread works on (a file's display name; NULL: nothing in particular), for the
 * message when memory runs out. The string must live until it is replaced. */
void oom_context(const char *what);
/* What every thread works on when it has no context of its own (e.g. "the project in DIR";
 * copied). Set it before starting threads. */
void oom_context_default(const char *what);

/* Errors: core functions return -1 and fill a caller-owned struct error. */
struct error {
	char *msg;      /* heap, NULL when no error */
};
#define ERROR_INIT {NULL}
/* Set the message (replacing any previous). Always returns -1 so callers can `return error_set(...)`. */
int error_set(struct error *err, const char *fmt, ...) PRINTF_LIKE(2, 3);
int error_vset(struct error *err, const char *fmt, va_list ap);
/* Prefix the current message with "prefix: ". Returns -1. */
int error_prefix(struct error *err, const char *fmt, ...) PRINTF_LIKE(2, 3);
void error_release(struct error *err);

/* Small string helpers. */
int str_has_suffix(const char *s, const char *suffix);
int str_has_prefix(const char *s, const char *prefix);
uint64_t hash_bytes(const void *p, size_t n);      /* FNV-1a 64 */

/* Read a whole file into a NUL-terminated heap buffer. Returns 0, or -1 with err set. */
int read_file(const char *path, struct buf *out, struct error *err);
/* The same for path relative to the directory open as dirfd (AT_FDCWD: the current one);
 * errno tells why on failure. */
int read_file_at(int dirfd, const char *path, struct buf *out, struct error *err);
/* The same, failing with errno EFBIG when the file has more than max bytes. */
int read_file_at_max(int dirfd, const char *path, size_t max, struct buf *out, struct error *err);
/* The most bytes a YAML file (element, project.conf, include) may have: RILL_MAX_FILE_SIZE,
 * else 256 MiB. */
size_t max_input_file(void);
/* The most elements a load may have (a project and its subprojects), RILL_MAX_ELEMENTS, the
 * most dependencies one element may list, RILL_MAX_DEPENDENCIES, and all elements together,
 * RILL_MAX_TOTAL_DEPENDENCIES: 250,000, 200,000 and 3,000,000 by default (Debian as a project
 * is 64,000 elements, its widest stack 63,000 dependencies; a load stays within about 10 s and
 * 1 GB at these sizes). */
size_t max_elements(void);
size_t max_dependencies(void);
size_t max_total_dependencies(void);
/* A size limit from environment variable name (a positive decimal number of bytes), else dflt;
 * read once into *cache (a static of the caller's, 0 until then). Thread-safe. */
size_t env_limit(const char *name, size_t dflt, size_t *cache);
/* qsort/bsearch comparator of pointers (an array of pointers, by address). */
int ptr_cmp(const void *a, const void *b);

#endif
