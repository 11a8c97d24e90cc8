/* variables — %{name} resolution. Each scope parses its definitions once; a scope used as a
 * parent is frozen into a snapshot that children reuse for every value they cannot change.
 * SPDX-License-Identifier: Apache-2.0 */
#include "format/variables.h"

#include <stdlib.h>
#include <string.h>

/*
 * Names get small integer ids. A scope's id space extends its parent's: ids below base are the
 * parent's (every name the parent defines or references), ids from base on are names this scope
 * introduced. A definition is parsed once into literal pieces and referenced ids.
 *
 * A scope resolves only its "dirty" ids: those it defines itself, those it introduced, and the
 * parent's ids whose value the parent could not resolve or whose transitive dependencies include
 * something this scope defines. Every other id takes the parent snapshot's value as it is. The
 * dirty set is a bitset; an id's slot in the per-scope arrays is its rank in that bitset.
 * Resolution is an explicit-stack depth-first walk, so chains of any length are fine.
 */

#define NO_ID UINT32_MAX
/* Snapshots with more names keep no dependency sets (their children then recompute every
 * value): the sets take n^2/8 bytes. */
#define DEPS_MAX_IDS 4096
#define DEPS_MAX_WORDS (DEPS_MAX_IDS / 64)

enum { ST_NEW = 0, ST_ACTIVE, ST_DONE, ST_FAILED };
/* REPORT builds error messages; QUIET marks what fails as ST_FAILED and says nothing. */
enum { MODE_REPORT, MODE_QUIET };

struct vseg {
	const char *lit;        /* literal text before the reference */
	size_t lit_len;
	uint32_t ref;           /* id of the referenced name */
};

struct vdef {
	uint32_t id;
	uint32_t nrefs;
	const struct node *prov;        /* the value node; NULL for variables_set() */
	const char *text;               /* stripped value, NUL-terminated */
	size_t len;
	const struct vseg *segs;        /* nrefs pieces */
	const char *tail;               /* literal after the last reference */
	size_t tail_len;
};

/* Open addressing table of ids (stored as id + 1; 0 is empty), keyed by names[id - off]. */
struct vtab {
	uint32_t *slot;
	uint32_t mask;
};

/* The frozen view of a scope that its children read; immutable once built. */
struct vflat {
	uint32_t n_ids;
	uint32_t nw;                    /* words per dependency set; 0 when deps is NULL */
	const char **name;
	const struct vdef **def;        /* visible definition or NULL */
	const char **val;               /* resolved value or NULL when unresolvable */
	size_t *len;
	uint64_t *deps;                 /* n_ids rows of nw words: transitive references */
	struct vtab tab;
	uint32_t *sorted;               /* defined ids sorted by name */
	uint32_t n_sorted;
};

struct variables {
	struct arena *a;
	const struct vflat *pf;         /* parent snapshot or NULL */
	uint32_t base;                  /* pf->n_ids */
	const char **names;             /* names of ids base.. */
	uint32_t n_new, names_cap;
	struct vtab tab;
	const struct vdef **defs;       /* definitions made here, in order (later ones win) */
	uint32_t n_defs, defs_cap;

	/* Valid while sealed. */
	int sealed;
	uint32_t n_ids;
	uint64_t *dirty;
	uint32_t *rank;                 /* dirty bits in the words before each word */
	uint32_t n_slots;
	const struct vdef **sdef;
	const char **sval;
	size_t *slen;
	uint8_t *state;
	uint32_t *stk_slot, *stk_k;     /* the walk's stack (depth <= n_slots) */
	uint32_t *done;                 /* slots in the order they were resolved */
	uint32_t n_done;
	size_t built;                   /* bytes of the values resolution built (SCOPE_FACTOR cap) */
	uint32_t *sorted;
	uint32_t n_sorted;
	int sorted_ok;
	const struct vflat *flat;       /* snapshot for children, built on demand */
};

static void *agrow(struct arena *a, const void *old, size_t n_old, size_t n_new, size_t elem)
{
	void *p = arena_alloc(a, n_new * elem);
	if (n_old)
		memcpy(p, old, n_old * elem);
	return p;
}

/* ---- whitespace (Python's str.isspace) ---- */

static int ascii_space(unsigned char c)
{
	return (c >= 9 && c <= 13) || (c >= 28 && c <= 32);
}

/* Length of the whitespace character starting at s (n bytes available), 0 if none. */
static size_t space_at(const unsigned char *s, size_t n)
{
	if (!n)
		return 0;
	if (ascii_space(s[0]))
		return 1;
	if (n >= 2 && s[0] == 0xC2 && (s[1] == 0x85 || s[1] == 0xA0))
		return 2;
	if (n >= 3) {
		if (s[0] == 0xE1 && s[1] == 0x9A && s[2] == 0x80)
			return 3;                       /* U+1680 */
		if (s[0] == 0xE2 && s[1] == 0x80 &&
		    ((s[2] >= 0x80 && s[2] <= 0x8A) || s[2] == 0xA8 || s[2] == 0xA9 || s[2] == 0xAF))
			return 3;                       /* U+2000..200A, 2028, 2029, 202F */
		if (s[0] == 0xE2 && s[1] == 0x81 && s[2] == 0x9F)
			return 3;                       /* U+205F */
		if (s[0] == 0xE3 && s[1] == 0x80 && s[2] == 0x80)
			return 3;                       /* U+3000 */
	}
	return 0;
}

/* Length of the whitespace character ending at s[n - 1], 0 if none. */
static size_t space_before(const unsigned char *s, size_t n)
{
	if (!n)
		return 0;
	if (ascii_space(s[n - 1]))
		return 1;
	if (n >= 2 && space_at(s + n - 2, 2) == 2)
		return 2;
	if (n >= 3 && space_at(s + n - 3, 3) == 3)
		return 3;
	return 0;
}

/* ---- references ---- */

static int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_name_char(char c)
{
	return is_alpha(c) || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* If s[i..] starts a reference "%{name}", return its total length, else 0. */
static size_t ref_at(const char *s, size_t n, size_t i)
{
	size_t j;
	if (n - i < 4 || s[i] != '%' || s[i + 1] != '{' || !is_alpha(s[i + 2]))
		return 0;
	for (j = i + 3; j < n && is_name_char(s[j]); j++)
		;
	if (j >= n || s[j] != '}')
		return 0;
	return j + 1 - i;
}

/* Find the next reference at or after *pos: returns its start and sets *rlen, or n if none. */
static size_t next_ref(const char *s, size_t n, size_t pos, size_t *rlen)
{
	while (pos < n) {
		const char *p = memchr(s + pos, '%', n - pos);
		size_t i;
		if (!p)
			break;
		i = (size_t)(p - s);
		*rlen = ref_at(s, n, i);
		if (*rlen)
			return i;
		pos = i + 1;
	}
	return n;
}

/* ---- names ---- */

static uint32_t tab_find(const struct vtab *t, const char *const *names, uint32_t off,
			 const char *s, size_t len, uint64_t h)
{
	uint32_t i, e;
	if (!t->slot)
		return NO_ID;
	for (i = (uint32_t)h & t->mask; (e = t->slot[i]) != 0; i = (i + 1) & t->mask) {
		const char *nm = names[e - 1 - off];
		if (strncmp(nm, s, len) == 0 && nm[len] == '\0')
			return e - 1;
	}
	return NO_ID;
}

static void tab_put(struct vtab *t, uint32_t id, uint64_t h)
{
	uint32_t i = (uint32_t)h & t->mask;
	while (t->slot[i])
		i = (i + 1) & t->mask;
	t->slot[i] = id + 1;
}

/* (Re)build t over ids off .. off + n - 1 with capacity for at least want names. */
static void tab_build(struct arena *a, struct vtab *t, const char *const *names, uint32_t off,
		      uint32_t n, uint32_t want)
{
	uint32_t cap = 8, i;
	while (cap < 2 * want)
		cap *= 2;
	t->slot = arena_alloc(a, cap * sizeof(*t->slot));
	t->mask = cap - 1;
	for (i = 0; i < n; i++)
		tab_put(t, off + i, hash_bytes(names[i], strlen(names[i])));
}

static uint32_t lookup_h(const struct variables *v, const char *s, size_t len, uint64_t h)
{
	uint32_t id = NO_ID;
	if (v->pf)
		id = tab_find(&v->pf->tab, v->pf->name, 0, s, len, h);
	if (id == NO_ID)
		id = tab_find(&v->tab, v->names, v->base, s, len, h);
	return id;
}

static uint32_t lookup(const struct variables *v, const char *s, size_t len)
{
	return lookup_h(v, s, len, hash_bytes(s, len));
}

static void unseal(struct variables *v)
{
	v->sealed = 0;
	v->sorted_ok = 0;
	v->flat = NULL;
}

/* The id of a name, adding it to this scope when unknown. owned (may be NULL) is a
 * NUL-terminated copy of the name that outlives the scope. */
static uint32_t intern(struct variables *v, const char *s, size_t len, const char *owned)
{
	uint64_t h = hash_bytes(s, len);
	uint32_t id = lookup_h(v, s, len, h);
	if (id != NO_ID)
		return id;
	unseal(v);
	if (v->n_new == v->names_cap) {
		uint32_t cap = v->names_cap ? 2 * v->names_cap : 8;
		v->names = agrow(v->a, v->names, v->n_new, cap, sizeof(*v->names));
		v->names_cap = cap;
	}
	v->names[v->n_new] = owned ? owned : arena_strndup(v->a, s, len);
	id = v->base + v->n_new++;
	if (!v->tab.slot || 2 * v->n_new > v->tab.mask + 1)
		tab_build(v->a, &v->tab, v->names, v->base, v->n_new, v->n_new);
	else
		tab_put(&v->tab, id, h);
	return id;
}

static const char *id_name(const struct variables *v, uint32_t id)
{
	return id < v->base ? v->pf->name[id] : v->names[id - v->base];
}

/* ---- definitions ---- */

/* Fill d (id already set) from the value text s[0..len), which must be NUL-terminated at len. */
static void parse_def(struct variables *v, struct vdef *d, const struct node *prov, const char *s,
		      size_t len)
{
	size_t k, pos, i, rlen = 0, n = 0;
	struct vseg *segs;
	while ((k = space_at((const unsigned char *)s, len)) != 0) {
		s += k;
		len -= k;
	}
	if ((k = space_before((const unsigned char *)s, len)) != 0) {
		do
			len -= k;
		while ((k = space_before((const unsigned char *)s, len)) != 0);
		s = arena_strndup(v->a, s, len);
	}
	d->prov = prov;
	d->text = s;
	d->len = len;
	for (pos = 0; (i = next_ref(s, len, pos, &rlen)) < len; pos = i + rlen)
		n++;
	d->nrefs = (uint32_t)n;
	segs = n ? arena_alloc(v->a, n * sizeof(*segs)) : NULL;
	n = 0;
	for (pos = 0; (i = next_ref(s, len, pos, &rlen)) < len; pos = i + rlen, n++) {
		segs[n].lit = s + pos;
		segs[n].lit_len = i - pos;
		segs[n].ref = intern(v, s + i + 2, rlen - 3, NULL);
	}
	d->segs = segs;
	d->tail = s + pos;
	d->tail_len = len - pos;
}

static void add_def(struct variables *v, const struct vdef *d)
{
	if (v->n_defs == v->defs_cap) {
		uint32_t cap = v->defs_cap ? 2 * v->defs_cap : 4;
		v->defs = agrow(v->a, v->defs, v->n_defs, cap, sizeof(*v->defs));
		v->defs_cap = cap;
	}
	v->defs[v->n_defs++] = d;
	unseal(v);
}

/* ---- sealing: the dirty set and the slot arrays ---- */

static inline int is_dirty(const struct variables *v, uint32_t id)
{
	return (int)((v->dirty[id >> 6] >> (id & 63)) & 1);
}

static inline uint32_t slot_of(const struct variables *v, uint32_t id)
{
	uint64_t below = v->dirty[id >> 6] & ((((uint64_t)1) << (id & 63)) - 1);
	return v->rank[id >> 6] + (uint32_t)__builtin_popcountll(below);
}

static const struct vdef *def_of(const struct variables *v, uint32_t id)
{
	return is_dirty(v, id) ? v->sdef[slot_of(v, id)] : v->pf->def[id];
}

static int intersects(const uint64_t *a, const uint64_t *b, uint32_t nw)
{
	uint32_t i;
	for (i = 0; i < nw; i++)
		if (a[i] & b[i])
			return 1;
	return 0;
}

static void seal(struct variables *v)
{
	const struct vflat *pf = v->pf;
	uint32_t nw, i, id, n, base = v->base;
	if (v->sealed)
		return;
	v->n_ids = base + v->n_new;
	nw = (v->n_ids + 63) / 64 + 1;
	v->dirty = arena_alloc(v->a, nw * sizeof(*v->dirty));
	v->rank = arena_alloc(v->a, nw * sizeof(*v->rank));
	for (i = 0; i < v->n_defs; i++)
		v->dirty[v->defs[i]->id >> 6] |= (uint64_t)1 << (v->defs[i]->id & 63);
	if (pf && pf->deps) {
		uint64_t shadow[DEPS_MAX_WORDS];
		memcpy(shadow, v->dirty, pf->nw * sizeof(*shadow));
		for (id = 0; id < base; id++)
			if (!((shadow[id >> 6] >> (id & 63)) & 1) &&
			    (!pf->val[id] || intersects(pf->deps + (size_t)id * pf->nw, shadow, pf->nw)))
				v->dirty[id >> 6] |= (uint64_t)1 << (id & 63);
	} else {
		for (id = 0; id < base; id++)
			v->dirty[id >> 6] |= (uint64_t)1 << (id & 63);
	}
	for (id = base; id < v->n_ids; id++)
		v->dirty[id >> 6] |= (uint64_t)1 << (id & 63);
	for (i = 0, n = 0; i < nw; i++) {
		v->rank[i] = n;
		n += (uint32_t)__builtin_popcountll(v->dirty[i]);
	}
	v->n_slots = n;
	v->sdef = arena_alloc(v->a, n * sizeof(*v->sdef));
	v->sval = arena_alloc(v->a, n * sizeof(*v->sval));
	v->slen = arena_alloc(v->a, n * sizeof(*v->slen));
	v->state = arena_alloc(v->a, n * sizeof(*v->state));
	v->stk_slot = arena_alloc(v->a, n * sizeof(*v->stk_slot));
	v->stk_k = arena_alloc(v->a, n * sizeof(*v->stk_k));
	v->done = arena_alloc(v->a, n * sizeof(*v->done));
	v->n_done = 0;
	if (pf)
		for (i = 0, n = 0; i < nw; i++) {
			uint64_t w = v->dirty[i];
			while (w) {
				id = i * 64 + (uint32_t)__builtin_ctzll(w);
				w &= w - 1;
				if (id >= base)
					break;
				v->sdef[n++] = pf->def[id];
			}
		}
	for (i = 0; i < v->n_defs; i++)
		v->sdef[slot_of(v, v->defs[i]->id)] = v->defs[i];
	v->sealed = 1;
}

/* ---- resolution ---- */

static const char *value_of(const struct variables *v, uint32_t id, size_t *len)
{
	if (is_dirty(v, id)) {
		uint32_t s = slot_of(v, id);
		*len = v->slen[s];
		return v->sval[s];
	}
	*len = v->pf->len[id];
	return v->pf->val[id];
}

/* The most bytes one expanded value may have: RILL_MAX_EXPANSION, else 16 MiB. A definition
 * of two copies of the next, 60 deep, would otherwise ask for 2^60 bytes. */
#define EXPANSION_DEFAULT ((size_t)16 << 20)

size_t variables_max_expansion(void)
{
	static size_t max;
	return env_limit("RILL_MAX_EXPANSION", EXPANSION_DEFAULT, &max);
}

static int too_long(const struct node *prov, const char *what, size_t len, struct error *err)
{
	size_t max = variables_max_expansion();
	if (max % (1 << 20) == 0)
		return node_error(err, prov, "%s expands to more than %zu MiB (%zu bytes or more; the limit is RILL_MAX_EXPANSION)",
				  what, max >> 20, len);
	return node_error(err, prov, "%s expands to more than %zu bytes (%zu or more; the limit is RILL_MAX_EXPANSION)",
			  what, max, len);
}

/* The values one scope builds may have SCOPE_FACTOR times the limit of one value together: a
 * chain of definitions each one byte longer than the next is quadratic (200,000 of them would
 * build 20 GB) without any single value over the limit. */
#define SCOPE_FACTOR 4

/* All references of slot s are resolved: build its value (-1 when it would be too long). */
static int finish(struct variables *v, uint32_t s, int mode, struct error *err)
{
	const struct vdef *d = v->sdef[s];
	const char *val;
	size_t len, total, rl;
	uint32_t k;
	if (d->nrefs == 0) {
		val = d->text;
		len = d->len;
	} else if (d->nrefs == 1 && !d->segs[0].lit_len && !d->tail_len) {
		val = value_of(v, d->segs[0].ref, &len);
	} else {
		char *p;
		total = d->tail_len;
		for (k = 0; k < d->nrefs; k++) {
			value_of(v, d->segs[k].ref, &rl);
			total += d->segs[k].lit_len + rl;
			if (total > variables_max_expansion()) {
				if (mode == MODE_REPORT) {
					struct buf what = BUF_INIT;
					buf_addf(&what, "Variable '%s'", id_name(v, d->id));
					too_long(d->prov, buf_str(&what), total, err);
					buf_release(&what);
				}
				return -1;
			}
		}
		if (total > SCOPE_FACTOR * variables_max_expansion() - v->built) {
			if (mode == MODE_REPORT)
				node_error(err, d->prov, "Variable '%s': the variables of this element expand to more than "
					   "%zu bytes together (%d times RILL_MAX_EXPANSION)", id_name(v, d->id),
					   SCOPE_FACTOR * variables_max_expansion(), SCOPE_FACTOR);
			return -1;
		}
		v->built += total;
		p = arena_alloc(v->a, total + 1);
		val = p;
		for (k = 0; k < d->nrefs; k++) {
			const char *r = value_of(v, d->segs[k].ref, &rl);
			memcpy(p, d->segs[k].lit, d->segs[k].lit_len);
			p += d->segs[k].lit_len;
			memcpy(p, r, rl);
			p += rl;
		}
		memcpy(p, d->tail, d->tail_len);
		len = total;
	}
	v->sval[s] = val;
	v->slen[s] = len;
	v->state[s] = ST_DONE;
	v->done[v->n_done++] = s;
	return 0;
}

/* Check that every reference of slot s is defined, then put s on the stack. */
static int push(struct variables *v, uint32_t s, int mode, uint32_t *sp, struct error *err)
{
	const struct vdef *d = v->sdef[s];
	uint32_t k;
	for (k = 0; k < d->nrefs; k++)
		if (!def_of(v, d->segs[k].ref)) {
			if (mode == MODE_REPORT)
				return node_error(err, d->prov, "Reference to undefined variable '%s'",
						  id_name(v, d->segs[k].ref));
			v->state[s] = ST_FAILED;
			return -1;
		}
	v->state[s] = ST_ACTIVE;
	v->stk_slot[*sp] = s;
	v->stk_k[*sp] = 0;
	(*sp)++;
	return 0;
}

/* The stack holds a path ending at a variable that refers to slot rs (id rid), which is on it. */
static int cycle_error(const struct variables *v, uint32_t sp, uint32_t rs, uint32_t rid,
		       struct error *err)
{
	struct buf b = BUF_INIT;
	uint32_t j = sp - 1, i;
	while (j > 0 && v->stk_slot[j] != rs)
		j--;
	buf_addf(&b, "Circular dependency detected on variable '%s'\n", id_name(v, rid));
	for (i = j; i < sp; i++) {
		const struct vdef *d = v->sdef[v->stk_slot[i]];
		uint32_t to = i + 1 < sp ? v->sdef[v->stk_slot[i + 1]]->id : rid;
		buf_adds(&b, "\n    ");
		if (d->prov && d->prov->file) {
			node_format_provenance(&b, d->prov);
			buf_adds(&b, ": ");
		}
		buf_addf(&b, "Variable '%s' refers to variable '%s'", id_name(v, d->id), id_name(v, to));
	}
	error_set(err, "%s", buf_str(&b));
	buf_release(&b);
	return -1;
}

/* Resolve slot start (which has a definition) and everything it needs. */
static int resolve(struct variables *v, uint32_t start, int mode, struct error *err)
{
	uint32_t sp = 0, i;
	if (push(v, start, mode, &sp, err))
		return -1;
	while (sp) {
		uint32_t s = v->stk_slot[sp - 1], k = v->stk_k[sp - 1];
		const struct vdef *d = v->sdef[s];
		int pushed = 0;
		for (; k < d->nrefs; k++) {
			uint32_t r = d->segs[k].ref, rs;
			if (!is_dirty(v, r))
				continue;
			rs = slot_of(v, r);
			if (v->state[rs] == ST_DONE)
				continue;
			if (v->state[rs] == ST_ACTIVE) {
				if (mode == MODE_REPORT)
					cycle_error(v, sp, rs, r, err);
				goto fail;
			}
			if (v->state[rs] == ST_FAILED && mode == MODE_QUIET)
				goto fail;
			v->stk_k[sp - 1] = k + 1;
			if (push(v, rs, mode, &sp, err))
				goto fail;
			pushed = 1;
			break;
		}
		if (!pushed) {
			if (finish(v, s, mode, err))
				goto fail;
			sp--;
		}
	}
	return 0;
fail:
	for (i = 0; i < sp; i++)
		v->state[v->stk_slot[i]] = mode == MODE_QUIET ? ST_FAILED : ST_NEW;
	return -1;
}

/* Resolved value of id, or NULL (undefined or failing). */
static const char *value_id(struct variables *v, uint32_t id)
{
	uint32_t s;
	if (!is_dirty(v, id))
		return v->pf->val[id];
	s = slot_of(v, id);
	if (!v->sdef[s])
		return NULL;
	if (v->state[s] != ST_DONE && (v->state[s] == ST_FAILED || resolve(v, s, MODE_QUIET, NULL)))
		return NULL;
	return v->sval[s];
}

/* ---- iteration order ---- */

struct name_id {
	const char *name;
	uint32_t id;
};

static int cmp_name_id(const void *a, const void *b)
{
	return strcmp(((const struct name_id *)a)->name, ((const struct name_id *)b)->name);
}

static void build_sorted(struct variables *v)
{
	const struct vflat *pf = v->pf;
	struct name_id *extra;
	uint32_t i, n = 0, p = 0, e = 0, id, s;
	if (v->sorted_ok)
		return;
	seal(v);
	extra = arena_alloc(v->a, v->n_slots * sizeof(*extra));
	for (i = 0, s = 0; i * 64 < v->n_ids; i++) {
		uint64_t w = v->dirty[i];
		while (w) {
			id = i * 64 + (uint32_t)__builtin_ctzll(w);
			w &= w - 1;
			if (v->sdef[s] && (id >= v->base || !pf->def[id])) {
				extra[n].name = id_name(v, id);
				extra[n++].id = id;
			}
			s++;
		}
	}
	qsort(extra, n, sizeof(*extra), cmp_name_id);
	v->n_sorted = n + (pf ? pf->n_sorted : 0);
	v->sorted = arena_alloc(v->a, v->n_sorted * sizeof(*v->sorted));
	for (i = 0; i < v->n_sorted; i++) {
		if (e < n && (!pf || p == pf->n_sorted ||
			      strcmp(extra[e].name, pf->name[pf->sorted[p]]) < 0))
			v->sorted[i] = extra[e++].id;
		else
			v->sorted[i] = pf->sorted[p++];
	}
	v->sorted_ok = 1;
}

/* ---- the snapshot children read ---- */

static const struct vflat *freeze(struct variables *v)
{
	struct vflat *f;
	uint32_t id, s, n, i, k;
	if (v->flat)
		return v->flat;
	seal(v);
	for (s = 0; s < v->n_slots; s++)
		if (v->sdef[s] && v->state[s] == ST_NEW)
			resolve(v, s, MODE_QUIET, NULL);
	build_sorted(v);
	n = v->n_ids;
	f = arena_alloc(v->a, sizeof(*f));
	f->n_ids = n;
	f->name = arena_alloc(v->a, n * sizeof(*f->name));
	f->def = arena_alloc(v->a, n * sizeof(*f->def));
	f->val = arena_alloc(v->a, n * sizeof(*f->val));
	f->len = arena_alloc(v->a, n * sizeof(*f->len));
	for (id = 0; id < n; id++) {
		f->name[id] = id_name(v, id);
		if (is_dirty(v, id)) {
			s = slot_of(v, id);
			f->def[id] = v->sdef[s];
			if (v->state[s] == ST_DONE) {
				f->val[id] = v->sval[s];
				f->len[id] = v->slen[s];
			}
		} else {
			f->def[id] = v->pf->def[id];
			f->val[id] = v->pf->val[id];
			f->len[id] = v->pf->len[id];
		}
	}
	if (n <= DEPS_MAX_IDS) {
		f->nw = (n + 63) / 64;
		f->deps = arena_alloc(v->a, (size_t)n * f->nw * sizeof(*f->deps) + 1);
		for (id = 0; id < v->base; id++)
			if (!is_dirty(v, id))
				memcpy(f->deps + (size_t)id * f->nw, v->pf->deps + (size_t)id * v->pf->nw,
				       v->pf->nw * sizeof(*f->deps));
		/* Resolved slots in completion order: every reference is done before its referrer. */
		for (i = 0; i < v->n_done; i++) {
			const struct vdef *d = v->sdef[v->done[i]];
			uint64_t *row = f->deps + (size_t)d->id * f->nw;
			for (k = 0; k < d->nrefs; k++) {
				uint32_t r = d->segs[k].ref, w;
				const uint64_t *rrow = f->deps + (size_t)r * f->nw;
				row[r >> 6] |= (uint64_t)1 << (r & 63);
				for (w = 0; w < f->nw; w++)
					row[w] |= rrow[w];
			}
		}
	}
	tab_build(v->a, &f->tab, f->name, 0, n, n);
	f->sorted = v->sorted;
	f->n_sorted = v->n_sorted;
	v->flat = f;
	return f;
}

/* ---- API ---- */

struct variables *variables_new(struct arena *a, const struct variables *parent,
				const struct node *map, struct error *err)
{
	struct variables *v;
	struct vdef *defs;
	size_t i, n;
	if (map && map->type != NODE_MAP) {
		node_error(err, map, "Value of 'variables' is not of the expected type 'dict'");
		return NULL;
	}
	n = map ? map->u.map.n : 0;
	for (i = 0; i < n; i++) {
		const struct node_entry *e = &map->u.map.entries[i];
		if (!e->value || e->value->type != NODE_SCALAR) {
			node_error(err, e->value, "Value of '%s' is not of the expected type 'str'", e->key);
			return NULL;
		}
	}
	v = arena_alloc(a, sizeof(*v));
	v->a = a;
	if (parent) {
		/* The snapshot is a cache: preparing it does not change what parent means. */
		v->pf = freeze((struct variables *)parent);
		v->base = v->pf->n_ids;
	}
	if (!n)
		return v;
	v->defs_cap = (uint32_t)n + 2;
	v->defs = arena_alloc(a, v->defs_cap * sizeof(*v->defs));
	defs = arena_alloc(a, n * sizeof(*defs));
	/* Names first, so that defined names get ids in the order of the map. */
	for (i = 0; i < n; i++) {
		const char *key = map->u.map.entries[i].key;
		defs[i].id = intern(v, key, strlen(key), key);
	}
	for (i = 0; i < n; i++) {
		const struct node *val = map->u.map.entries[i].value;
		parse_def(v, &defs[i], val, val->u.scalar.str, val->u.scalar.len);
		add_def(v, &defs[i]);
	}
	return v;
}

void variables_set(struct variables *v, const char *name, const char *value)
{
	struct vdef *d = arena_alloc(v->a, sizeof(*d));
	d->id = intern(v, name, strlen(name), NULL);
	parse_def(v, d, NULL, arena_strdup(v->a, value), strlen(value));
	add_def(v, d);
}

int variables_check(struct variables *v, struct error *err)
{
	uint32_t s;
	seal(v);
	for (s = 0; s < v->n_slots; s++)
		if (v->sdef[s] && v->state[s] != ST_DONE && resolve(v, s, MODE_REPORT, err))
			return -1;
	return 0;
}

void variables_prepare(struct variables *v)
{
	freeze(v);
}

const char *variables_get(struct variables *v, const char *name)
{
	uint32_t id;
	seal(v);
	id = lookup(v, name, strlen(name));
	return id == NO_ID ? NULL : value_id(v, id);
}

int variables_expand(struct variables *v, const struct node *n, const char **out, struct error *err)
{
	return variables_expand_to(v, v->a, n, out, err);
}

int variables_expand_stripped_to(struct variables *v, struct arena *to, const struct node *n, const char **out,
				 struct error *err)
{
	struct node tmp;
	const unsigned char *u;
	size_t b = 0, e, k;
	if (!n || n->type != NODE_SCALAR)
		return variables_expand_to(v, to, n, out, err);
	tmp = *n;
	u = (const unsigned char *)n->u.scalar.str;
	e = n->u.scalar.len;
	while (b < e && (k = space_at(u + b, e - b)) > 0)
		b += k;
	while (e > b && (k = space_before(u + b, e - b)) > 0)
		e -= k;
	tmp.u.scalar.str = n->u.scalar.str + b;
	tmp.u.scalar.len = e - b;
	return variables_expand_to(v, to, &tmp, out, err);
}

int variables_expand_to(struct variables *v, struct arena *to, const struct node *n, const char **out,
			struct error *err)
{
	uint32_t local[32], *ids = local, cap = ARRAY_SIZE(local), nids = 0, k;
	size_t len, pos, i, rlen = 0, total, rl, reflen = 0;
	const char *s;
	char *p;
	if (!n || n->type != NODE_SCALAR)
		return node_error(err, n, "Value is not of the expected type 'str'");
	s = n->u.scalar.str;
	len = n->u.scalar.len;
	seal(v);
	/* Like BuildStream: every reference of the string must be defined before any is resolved. */
	for (pos = 0; (i = next_ref(s, len, pos, &rlen)) < len; pos = i + rlen) {
		uint32_t id = lookup(v, s + i + 2, rlen - 3);
		if (id == NO_ID || !def_of(v, id))
			return node_error(err, n, "Reference to undefined variable '%.*s'", (int)(rlen - 3),
					  s + i + 2);
		if (nids == cap) {
			ids = agrow(v->a, ids, nids, 2 * cap, sizeof(*ids));
			cap *= 2;
		}
		ids[nids++] = id;
		reflen += rlen;
	}
	total = len - reflen;
	for (k = 0; k < nids; k++) {
		if (is_dirty(v, ids[k])) {
			uint32_t slot = slot_of(v, ids[k]);
			if (v->state[slot] != ST_DONE && resolve(v, slot, MODE_REPORT, err))
				return -1;
		}
		value_of(v, ids[k], &rl);
		total += rl;
		if (total > variables_max_expansion())
			return too_long(n, "The value", total, err);
	}
	p = arena_alloc(to, total + 1);
	*out = p;
	for (pos = 0, k = 0; (i = next_ref(s, len, pos, &rlen)) < len; pos = i + rlen, k++) {
		const char *r = value_of(v, ids[k], &rl);
		memcpy(p, s + pos, i - pos);
		p += i - pos;
		memcpy(p, r, rl);
		p += rl;
	}
	memcpy(p, s + pos, len - pos);
	p[len - pos] = '\0';
	return 0;
}

size_t variables_count(struct variables *v)
{
	build_sorted(v);
	return v->n_sorted;
}

const char *variables_name_at(struct variables *v, size_t i)
{
	build_sorted(v);
	return i < v->n_sorted ? id_name(v, v->sorted[i]) : NULL;
}

const char *variables_value_at(struct variables *v, size_t i)
{
	build_sorted(v);
	return i < v->n_sorted ? value_id(v, v->sorted[i]) : NULL;
}
