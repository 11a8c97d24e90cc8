/* util — allocation, the growable buffer, the arena and the error struct.
 * SPDX-License-Identifier: Apache-2.0 */
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static __thread const char *oom_what;
static char oom_default_text[4200];
static const char *_Atomic oom_default;

void oom_context(const char *what)
{
	oom_what = what;
}

void oom_context_default(const char *what)
{
	oom_default = NULL;
	if (what) {
		snprintf(oom_default_text, sizeof(oom_default_text), "%s", what);
		oom_default = oom_default_text;
	}
}

/* Out of memory is an error of the input being worked on (a bomb that got past the caps), or
 * of a machine too small for the project: exit status 1, naming the file where known. */
static void oom(size_t n)
{
	const char *what = oom_what ? oom_what : oom_default;
	if (what)
		fprintf(stderr, "rill: %s: out of memory (allocating %zu bytes)\n", what, n);
	else
		fprintf(stderr, "rill: out of memory (allocating %zu bytes)\n", n);
	exit(1);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
	if (!p)
		oom(nmemb * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	return buf_detach(&b);
}

void xgrow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t ncap;
	if (need <= *cap)
		return;
	ncap = *cap ? *cap * 2 : 8;
	while (ncap < need)
		ncap *= 2;
	*p = xrealloc(*p, ncap * elem);
	*cap = ncap;
}

void buf_init(struct buf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
}

void buf_release(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void buf_grow(struct buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;
	if (need > b->cap) {
		size_t ncap = b->cap ? b->cap * 2 : 64;
		while (ncap < need)
			ncap *= 2;
		b->data = xrealloc(b->data, ncap);
		b->cap = ncap;
	}
}

void buf_add(struct buf *b, const void *p, size_t n)
{
	buf_grow(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void buf_addch(struct buf *b, char c)
{
	buf_grow(b, 1);
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
}

void buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;
	buf_grow(b, 64);
	va_copy(cp, ap);
	n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	if ((size_t)n >= b->cap - b->len) {
		buf_grow(b, (size_t)n);
		vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	}
	b->len += (size_t)n;
}

void buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(b, fmt, ap);
	va_end(ap);
}

char *buf_detach(struct buf *b)
{
	char *s = b->data ? b->data : xstrdup("");
	buf_init(b);
	return s;
}

const char *buf_str(const struct buf *b)
{
	return b->data ? b->data : "";
}

#ifdef RILL_ARENA_MALLOC
/* The fuzz build: every allocation is a malloc of its own, so that AddressSanitizer sees an
 * overflow of any of them (inside a block it would not). Same interface, same zeroing. */
struct arena_item {
	struct arena_item *next;
	max_align_t data[];
};

struct arena {
	struct arena_item *head;
	size_t total;
};

struct arena *arena_new(void)
{
	return xcalloc(1, sizeof(struct arena));
}

void arena_reset(struct arena *a)
{
	struct arena_item *it, *next;
	for (it = a->head; it; it = next) {
		next = it->next;
		free(it);
	}
	a->head = NULL;
	a->total = 0;
}

void arena_free(struct arena *a)
{
	if (!a)
		return;
	arena_reset(a);
	free(a);
}

void *arena_alloc(struct arena *a, size_t n)
{
	struct arena_item *it = xcalloc(1, sizeof(*it) + (n ? n : 1));
	it->next = a->head;
	a->head = it;
	a->total += n;
	return it->data;
}

size_t arena_used(const struct arena *a)
{
	return a->total;
}
#else
/* Arena: a chain of blocks; large requests get their own block. */
struct arena_block {
	struct arena_block *next;
	size_t used, size;
	size_t dirty;                   /* bytes from data on that were ever handed out; the rest is zero */
	max_align_t data[];
};

struct arena {
	struct arena_block *head;
	size_t total;
};

#define ARENA_BLOCK (256 * 1024)
#define ARENA_FIRST (8 * 1024)          /* a new arena's first block: doubled up to ARENA_BLOCK */
#define ARENA_HUGE (2u << 20)           /* block size once an arena holds ARENA_HUGE_AFTER */
#define ARENA_HUGE_AFTER (8u << 20)

/* Arena blocks come straight from mmap with MAP_POPULATE: one system call maps and faults in a
 * whole block, instead of one page fault per 4 KiB page as the arena fills it. A big arena's
 * blocks are 2 MiB, aligned and backed by a transparent huge page where the system allows it:
 * on this VM, putting the memory of 60,000 elements in place costs a sixth of the user and
 * system time of `rill show` with 4 KiB pages, half that with huge ones. */
/* A young arena's blocks are smaller and come from calloc: an arena that only ever holds a few
 * KiB (one expression, one refs file) then costs no system call at all, where one populated
 * 256 KiB mapping cost 100 us to map, fault in and unmap. */
/* n: bytes wanted; huge: n + 16 is ARENA_HUGE, make it one aligned huge page; small: calloc */
static void *block_alloc(size_t n, int huge, int small)
{
	size_t *p;
#ifdef __SANITIZE_ADDRESS__
	/* LeakSanitizer scans the heap, not mmap'd memory: with blocks of both, pointers from mapped
	 * blocks to heap blocks look like leaks. Under ASan every block is heap. */
	small = 1;
	(void)huge;
#endif
	if (small) {
		p = calloc(1, n + 16);
		if (!p)
			oom(n);
		p[1] = 1;
	} else if (huge) {
		char *m = mmap(NULL, 2 * ARENA_HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		char *al;
		if (m == MAP_FAILED)
			oom(n);
		al = (char *)(((uintptr_t)m + ARENA_HUGE - 1) & ~(uintptr_t)(ARENA_HUGE - 1));
		if (al > m)
			munmap(m, (size_t)(al - m));
		munmap(al + ARENA_HUGE, (size_t)(m + ARENA_HUGE - al));        /* the rest of m's 4 MiB */
		/* both only advice: without them the pages come one fault at a time */
		madvise(al, ARENA_HUGE, MADV_HUGEPAGE);
		madvise(al, ARENA_HUGE, MADV_POPULATE_WRITE);
		p = (size_t *)al;
	} else {
		p = mmap(NULL, n + 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (p == MAP_FAILED)
			oom(n);
	}
	p[0] = n + 16;
	return p + 2;
}

static void block_free(void *b)
{
	size_t *p = (size_t *)b - 2;
	if (p[1] == 1)
		free(p);
	else
		munmap(p, p[0]);
}

struct arena *arena_new(void)
{
	return xcalloc(1, sizeof(struct arena));
}

void arena_free(struct arena *a)
{
	struct arena_block *b, *next;
	if (!a)
		return;
	for (b = a->head; b; b = next) {
		next = b->next;
		block_free(b);
	}
	free(a);
}

void *arena_alloc(struct arena *a, size_t n)
{
	struct arena_block *b = a->head;
	void *p;
	n = (n + 7) & ~(size_t)7;
	if (!b || b->size - b->used < n) {
		int huge = a->total >= ARENA_HUGE_AFTER;
		size_t std = huge ? ARENA_HUGE - 16 - sizeof(*b)
			     : a->total < ARENA_BLOCK ? (a->total > ARENA_FIRST ? a->total : ARENA_FIRST) : ARENA_BLOCK;
		size_t size = n > std / 4 ? n : std;
		b = block_alloc(sizeof(*b) + size, huge && size == std, size < ARENA_BLOCK);
		b->used = 0;
		b->dirty = 0;
		b->size = size;
		if (n > std / 4 && a->head) {
			/* keep the current block for small allocations */
			b->next = a->head->next;
			a->head->next = b;
		} else {
			b->next = a->head;
			a->head = b;
		}
		a->total += size;
	}
	p = (char *)b->data + b->used;
	if (b->used < b->dirty)         /* only a reset arena's reused block holds old bytes */
		memset(p, 0, n < b->dirty - b->used ? n : b->dirty - b->used);
	b->used += n;
	if (b->used > b->dirty)
		b->dirty = b->used;
	return p;
}

void arena_reset(struct arena *a)
{
	struct arena_block *b, *next;
	if (!a->head)
		return;
	for (b = a->head->next; b; b = next) {
		next = b->next;
		a->total -= b->size;
		block_free(b);
	}
	a->head->next = NULL;
	a->head->used = 0;
}

size_t arena_used(const struct arena *a)
{
	return a->total;
}
#endif

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

int error_vset(struct error *err, const char *fmt, va_list ap)
{
	struct buf b = BUF_INIT;
	if (!err)
		return -1;
	buf_vaddf(&b, fmt, ap);
	free(err->msg);
	err->msg = buf_detach(&b);
	return -1;
}

int error_set(struct error *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	error_vset(err, fmt, ap);
	va_end(ap);
	return -1;
}

int error_prefix(struct error *err, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	if (!err)
		return -1;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	buf_adds(&b, ": ");
	buf_adds(&b, err->msg ? err->msg : "unknown error");
	free(err->msg);
	err->msg = buf_detach(&b);
	return -1;
}

void error_release(struct error *err)
{
	free(err->msg);
	err->msg = NULL;
}

int str_has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

int str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

uint64_t hash_bytes(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 14695981039346656037ULL;
	while (n--) {
		h ^= *s++;
		h *= 1099511628211ULL;
	}
	return h;
}

int read_file(const char *path, struct buf *out, struct error *err)
{
	return read_file_at(AT_FDCWD, path, out, err);
}

int read_file_at(int dirfd, const char *path, struct buf *out, struct error *err)
{
	return read_file_at_max(dirfd, path, SIZE_MAX, out, err);
}

size_t env_limit(const char *name, size_t dflt, size_t *cache)
{
	size_t m = __atomic_load_n(cache, __ATOMIC_RELAXED);
	if (!m) {
		const char *e = getenv(name);
		char *end;
		unsigned long long n = e ? strtoull(e, &end, 10) : 0;
		m = e && *e && !*end && n > 0 ? (size_t)n : dflt;
		/* threads that race here all store the same value */
		__atomic_store_n(cache, m, __ATOMIC_RELAXED);
	}
	return m;
}

size_t max_input_file(void)
{
	static size_t max;
	return env_limit("RILL_MAX_FILE_SIZE", (size_t)256 << 20, &max);
}

size_t max_elements(void)
{
	static size_t max;
	return env_limit("RILL_MAX_ELEMENTS", 250000, &max);
}

size_t max_dependencies(void)
{
	static size_t max;
	return env_limit("RILL_MAX_DEPENDENCIES", 200000, &max);
}

size_t max_total_dependencies(void)
{
	static size_t max;
	return env_limit("RILL_MAX_TOTAL_DEPENDENCIES", 3000000, &max);
}

int ptr_cmp(const void *a, const void *b)
{
	const void *x = *(const void *const *)a, *y = *(const void *const *)b;
	return x < y ? -1 : x > y;
}

int read_file_at_max(int dirfd, const char *path, size_t max, struct buf *out, struct error *err)
{
	struct stat st;
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC), saved;
	size_t want;
	if (fd < 0)
		return error_set(err, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0)
		goto fail;
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		goto fail;
	}
	if (st.st_size > 0 && (unsigned long long)st.st_size > max) {
		errno = EFBIG;
		goto fail;
	}
	/* one read of the whole file in the common case; keep reading if it grew or is a pipe */
	want = st.st_size > 0 ? (size_t)st.st_size : 4096;
	for (;;) {
		ssize_t n;
		buf_grow(out, want);
		n = read(fd, out->data + out->len, want);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		out->len += (size_t)n;
		out->data[out->len] = '\0';
		if (out->len > max) {
			errno = EFBIG;
			goto fail;
		}
		if (n == 0 || (st.st_size > 0 && S_ISREG(st.st_mode) && out->len == (size_t)st.st_size &&
			       (size_t)n == want))
			break;
		want = 65536;
	}
	close(fd);
	if (!out->data)
		buf_add(out, "", 0);
	return 0;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return error_set(err, "%s: %s", path, strerror(saved));
}
