/* test_listsort — listsort() against Python's own list.sort(): the same comparators (several
 * that are not total orders) on many lists, the same permutation and the same number of
 * comparisons. The Python side is tests/unit/listsort_ref.py, run by Debian's python3 (the one
 * bst runs under).
 * SPDX-License-Identifier: Apache-2.0 */
#include "test.h"

#include <stdint.h>
#include <unistd.h>

#include "base/listsort.h"
#include "base/util.h"

#define NMODES 7

static uint64_t h(uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t z = a * 0x9E3779B97F4A7C15u + b * 0xC2B2AE3D27D4EB4Fu + c * 0x165667B19E3779F9u +
		     0x27D4EB2F165667C5u;
	z ^= z >> 33;
	z *= 0xFF51AFD7ED558CCDu;
	z ^= z >> 33;
	z *= 0xC4CEB9FE1A85EC53u;
	z ^= z >> 33;
	return z;
}

/* One list's comparator: what listsort_ref.py's comparator() builds for (mode, seed, n). */
struct cmpctx {
	int mode;
	uint64_t seed;
	size_t n;
	uint64_t *key, *typ, *name;
	uint64_t *reach;                /* mode 4: n bitsets of n bits */
	size_t words;
	unsigned long count;
};

static int reaches(const struct cmpctx *c, size_t x, size_t y)
{
	return (c->reach[x * c->words + y / 64] >> (y % 64)) & 1;
}

static int dag_cmp(const struct cmpctx *c, size_t x, size_t y)
{
	if (reaches(c, x, y))
		return 1;
	if (reaches(c, y, x))
		return -1;
	if (c->typ[x] != c->typ[y]) {
		if (c->typ[x] == 2)
			return 1;
		if (c->typ[y] == 2)
			return -1;
	}
	if (c->name[x] != c->name[y])
		return c->name[x] > c->name[y] ? 1 : -1;
	return 0;
}

static int test_lt(void *ctx, const void *px, const void *py)
{
	struct cmpctx *c = ctx;
	size_t x = *(const size_t *)px, y = *(const size_t *)py;
	uint64_t s = c->seed;
	c->count++;
	switch (c->mode) {
	case 0:
		return (h(s, x, y) & 1) == 1;
	case 1: {
		uint64_t r;
		if (x == y)
			return 0;
		r = h(s, x < y ? x : y, x < y ? y : x) & 1;
		return x < y ? r == 1 : r == 0;
	}
	case 2:
		return c->key[x] < c->key[y];
	case 3:
		return (c->key[y] + 3 - c->key[x]) % 3 == 1;
	case 4:
		return dag_cmp(c, x, y) < 0;
	case 5:
		if (h(s, x, y) % 64 == 0)
			return (h(s, y, x) & 1) == 1;
		return c->key[x] < c->key[y];
	default:
		if (h(s, x, y) % 97 == 0)
			return 1;
		return c->key[x] < c->key[y];
	}
}

static const uint64_t *rank_of;

static int by_rank(const void *a, const void *b)
{
	uint64_t x = rank_of[*(const size_t *)a], y = rank_of[*(const size_t *)b];
	return x < y ? -1 : x > y;
}

static void cmpctx_init(struct cmpctx *c, int mode, uint64_t seed, size_t n)
{
	size_t x;
	memset(c, 0, sizeof(*c));
	c->mode = mode;
	c->seed = seed;
	c->n = n;
	c->key = xcalloc(n + 1, sizeof(uint64_t));
	if (mode == 2) {
		uint64_t k = 1 + h(seed, n, 1) % 8;
		for (x = 0; x < n; x++)
			c->key[x] = h(seed, x, 0) % k;
	} else if (mode == 3) {
		for (x = 0; x < n; x++)
			c->key[x] = h(seed, x, 0) % 3;
	} else if (mode == 4) {
		uint64_t *rank = xcalloc(n + 1, sizeof(uint64_t));
		size_t *order = xcalloc(n + 1, sizeof(size_t)), i, t, w;
		c->words = n / 64 + 1;
		c->reach = xcalloc(n * c->words + 1, sizeof(uint64_t));
		c->typ = xcalloc(n + 1, sizeof(uint64_t));
		c->name = xcalloc(n + 1, sizeof(uint64_t));
		for (x = 0; x < n; x++) {
			rank[x] = h(seed, x, 77);
			order[x] = x;
			c->typ[x] = h(seed, x, 79) % 3;
			c->name[x] = h(seed, x, 80) % (n / 2 + 1);
		}
		rank_of = rank;
		qsort(order, n, sizeof(size_t), by_rank);
		for (i = 0; i < n; i++) {
			x = order[i];
			for (t = 0; t < h(seed, x, 78) % 4; t++) {
				size_t y = h(seed, x, 100 + t) % n;
				if (rank[y] >= rank[x])
					continue;
				for (w = 0; w < c->words; w++)
					c->reach[x * c->words + w] |= c->reach[y * c->words + w];
				c->reach[x * c->words + y / 64] |= (uint64_t)1 << (y % 64);
			}
		}
		free(order);
		free(rank);
	} else if (mode == 5) {
		uint64_t span = 1 + h(seed, 0, 2) % 200;
		for (x = 0; x < n; x++) {
			uint64_t piece = x / span, off = h(seed, piece, 3) % 1000;
			c->key[x] = off + (piece % 2 ? x % span : span - x % span);
		}
	} else if (mode == 6) {
		size_t half = n / 2;
		for (x = 0; x < n; x++)
			c->key[x] = x < half ? 2 * x : 2 * (x - half) + 1;
	}
}

static void cmpctx_release(struct cmpctx *c)
{
	free(c->key);
	free(c->typ);
	free(c->name);
	free(c->reach);
}

/* One case sorted by listsort(), as listsort_ref.py prints it. */
static void sort_case(struct buf *out, int mode, uint64_t seed, size_t n)
{
	struct cmpctx c;
	size_t *items = xcalloc(n + 1, sizeof(size_t)), i;
	void **v = xcalloc(n + 1, sizeof(void *));
	cmpctx_init(&c, mode, seed, n);
	for (i = 0; i < n; i++) {
		items[i] = i;
		v[i] = &items[i];
	}
	listsort(v, n, test_lt, &c);
	buf_addf(out, "%lu", c.count);
	for (i = 0; i < n; i++)
		buf_addf(out, " %zu", *(size_t *)v[i]);
	buf_addch(out, '\n');
	cmpctx_release(&c);
	free(v);
	free(items);
}

struct tcase {
	int mode;
	uint64_t seed;
	size_t n;
};

static struct tcase *cases;
static size_t ncases, cases_cap;

static void add_case(int mode, uint64_t seed, size_t n)
{
	GROW(cases, cases_cap, ncases + 1);
	cases[ncases].mode = mode;
	cases[ncases].seed = seed;
	cases[ncases].n = n;
	ncases++;
}

/* Every mode: each size 0..130 once, the sizes around minrun and merge boundaries, and random
 * sizes up to 5,000 on many seeds. */
static void make_cases(void)
{
	static const size_t edges[] = {191, 192, 193, 255, 256, 257, 511, 512, 513, 1000, 1023, 1024,
				       1025, 2047, 2048, 2049, 4095, 4096, 4097, 5000};
	int mode;
	size_t i;
	for (mode = 0; mode < NMODES; mode++) {
		for (i = 0; i <= 130; i++)
			add_case(mode, 1000 + i, i);
		for (i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
			add_case(mode, 2000 + i, edges[i]);
		for (i = 0; i < 12; i++) {
			uint64_t seed = 3000 + i;
			/* skewed: most lists short, some up to 5,000 */
			size_t n = (size_t)(h(seed, mode, 9) % 5001);
			if (i % 3)
				n = (size_t)(h(seed, mode, 10) % 600);
			add_case(mode, seed, n);
		}
	}
}

static const char *python(void)
{
	/* Debian's python3 is the one bst runs under; another python3 may sort differently
	 * (3.13 changed how runs are counted) */
	return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
}

static void matches_python(void)
{
	const char *top = getenv("RILL_TOP");
	char in[] = "/tmp/rill-listsort-XXXXXX";
	struct buf cmd = BUF_INIT, mine = BUF_INIT, line = BUF_INIT;
	int fd = mkstemp(in), c;
	size_t i, bad = 0;
	FILE *f, *p;
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	f = fdopen(fd, "w");
	make_cases();
	for (i = 0; i < ncases; i++)
		fprintf(f, "%d %llu %zu\n", cases[i].mode, (unsigned long long)cases[i].seed, cases[i].n);
	fclose(f);
	buf_addf(&cmd, "%s -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version' && "
		 "%s %s/tests/unit/listsort_ref.py <%s", python(), python(), top ? top : ".", in);
	p = popen(buf_str(&cmd), "r");
	CHECK(p != NULL);
	for (i = 0; p && i < ncases; i++) {
		buf_reset(&line);
		while ((c = getc(p)) != EOF) {
			buf_addch(&line, (char)c);
			if (c == '\n')
				break;
		}
		buf_reset(&mine);
		sort_case(&mine, cases[i].mode, cases[i].seed, cases[i].n);
		if (strcmp(buf_str(&mine), buf_str(&line)) != 0) {
			if (!bad++)
				printf("  mode %d seed %llu n %zu: python says %.200s\n  listsort says %.200s\n",
				       cases[i].mode, (unsigned long long)cases[i].seed, cases[i].n,
				       buf_str(&line), buf_str(&mine));
		}
	}
	if (p)
		CHECK(pclose(p) == 0);
	CHECK(i == ncases);
	CHECK(bad == 0);
	if (bad)
		printf("  %zu of %zu lists differ from Python's\n", bad, ncases);
	unlink(in);
	free(cases);
	buf_release(&cmd);
	buf_release(&mine);
	buf_release(&line);
}

/* The result is always a permutation, whatever the comparator says. */
static void always_a_permutation(void)
{
	int mode;
	for (mode = 0; mode < NMODES; mode++) {
		struct cmpctx c;
		size_t n = 3001, i, *items = xcalloc(n, sizeof(size_t));
		void **v = xcalloc(n, sizeof(void *));
		unsigned char *seen = xcalloc(n, 1);
		cmpctx_init(&c, mode, 42, n);
		for (i = 0; i < n; i++) {
			items[i] = i;
			v[i] = &items[i];
		}
		listsort(v, n, test_lt, &c);
		for (i = 0; i < n; i++)
			seen[*(size_t *)v[i]]++;
		for (i = 0; i < n; i++)
			CHECK(seen[i] == 1);
		cmpctx_release(&c);
		free(seen);
		free(v);
		free(items);
	}
}

/* A consistent comparator sorts, stably. */
static void sorts_stably(void)
{
	struct cmpctx c;
	size_t n = 4000, i, *items = xcalloc(n, sizeof(size_t));
	void **v = xcalloc(n, sizeof(void *));
	cmpctx_init(&c, 2, 7, n);
	for (i = 0; i < n; i++) {
		items[i] = i;
		v[i] = &items[i];
	}
	listsort(v, n, test_lt, &c);
	for (i = 1; i < n; i++) {
		size_t a = *(size_t *)v[i - 1], b = *(size_t *)v[i];
		CHECK(c.key[a] < c.key[b] || (c.key[a] == c.key[b] && a < b));
	}
	cmpctx_release(&c);
	free(v);
	free(items);
}

int main(void)
{
	test_prog = "listsort";
	RUN(matches_python);
	RUN(always_a_permutation);
	RUN(sorts_stably);
	TEST_MAIN_END();
}
