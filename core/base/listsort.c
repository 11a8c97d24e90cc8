/* listsort.c — CPython 3.11's list.sort() (Objects/listsort.txt describes it) over an array of
 * pointers: natural runs extended to minrun by binary insertion, merged by the powersort policy,
 * merges that gallop once one side keeps winning. BuildStream sorts dependency lists with
 * list.sort() and a comparator that is not a total order, so only the same sequence of
 * comparisons gives the same order: every step below mirrors one of CPython's, including the
 * checks that only an inconsistent comparator can reach.
 * SPDX-License-Identifier: Apache-2.0 */
#include "base/listsort.h"

#include <stdlib.h>
#include <string.h>

#include "base/util.h"

#define MIN_GALLOP 7            /* CPython's initial and minimum-raised gallop threshold */
#define MAX_PENDING 128         /* runs on the stack: powersort keeps it under log2(n) + 2 */

/* Indices are signed: the galloping searches step one before the start of an array. */
typedef ptrdiff_t idx;

struct run {
	idx start, len;
	int power;
};

struct sorter {
	void **v;
	idx n;
	listsort_lt_fn *lt;
	void *ctx;
	void **tmp;                     /* merge scratch: at least min(na, nb) slots */
	idx min_gallop;
	int nruns;
	struct run runs[MAX_PENDING];
};

static int lt(struct sorter *s, const void *x, const void *y)
{
	return s->lt(s->ctx, x, y) != 0;
}

/* Sort v[lo..hi) by binary insertion, given v[lo..start) is sorted. */
static void binary_insertion(struct sorter *s, idx lo, idx hi, idx start)
{
	void **v = s->v;
	if (start == lo)
		start++;
	for (; start < hi; start++) {
		void *pivot = v[start];
		idx l = lo, r = start;
		do {
			idx m = l + ((r - l) >> 1);
			if (lt(s, pivot, v[m]))
				r = m;
			else
				l = m + 1;
		} while (l < r);
		memmove(&v[l + 1], &v[l], (size_t)(start - l) * sizeof(*v));
		v[l] = pivot;
	}
}

/* The length of the run at v[lo..hi) (lo < hi): non-descending, or strictly descending
 * (*descending set), as long as it goes. */
static idx count_run(struct sorter *s, idx lo, idx hi, int *descending)
{
	void **v = s->v;
	idx i;
	*descending = 0;
	if (lo + 1 == hi)
		return 1;
	if (lt(s, v[lo + 1], v[lo])) {
		*descending = 1;
		for (i = lo + 2; i < hi && lt(s, v[i], v[i - 1]); i++)
			;
	} else {
		for (i = lo + 2; i < hi && !lt(s, v[i], v[i - 1]); i++)
			;
	}
	return i - lo;
}

static void reverse(void **v, idx n)
{
	idx i;
	for (i = 0; i < n / 2; i++) {
		void *t = v[i];
		v[i] = v[n - 1 - i];
		v[n - 1 - i] = t;
	}
}

/* Where key goes in the sorted a[0..n) (n > 0), left of any equal: the k with
 * a[k-1] < key <= a[k]. Searches out from a[hint] by 1, 3, 7, ... then bisects. */
static idx gallop_left(struct sorter *s, const void *key, void *const *a, idx n, idx hint)
{
	idx last = 0, ofs = 1, max;
	if (lt(s, a[hint], key)) {
		max = n - hint;
		while (ofs < max && lt(s, a[hint + ofs], key)) {
			last = ofs;
			ofs = 2 * ofs + 1;
		}
		if (ofs > max)
			ofs = max;
		last += hint;
		ofs += hint;
	} else {
		idx k;
		max = hint + 1;
		while (ofs < max && !lt(s, a[hint - ofs], key)) {
			last = ofs;
			ofs = 2 * ofs + 1;
		}
		if (ofs > max)
			ofs = max;
		k = last;
		last = hint - ofs;
		ofs = hint - k;
	}
	/* a[last] < key <= a[ofs] */
	last++;
	while (last < ofs) {
		idx m = last + ((ofs - last) >> 1);
		if (lt(s, a[m], key))
			last = m + 1;
		else
			ofs = m;
	}
	return ofs;
}

/* As gallop_left(), but right of any equal: the k with a[k-1] <= key < a[k]. */
static idx gallop_right(struct sorter *s, const void *key, void *const *a, idx n, idx hint)
{
	idx last = 0, ofs = 1, max;
	if (lt(s, key, a[hint])) {
		idx k;
		max = hint + 1;
		while (ofs < max && lt(s, key, a[hint - ofs])) {
			last = ofs;
			ofs = 2 * ofs + 1;
		}
		if (ofs > max)
			ofs = max;
		k = last;
		last = hint - ofs;
		ofs = hint - k;
	} else {
		max = n - hint;
		while (ofs < max && !lt(s, key, a[hint + ofs])) {
			last = ofs;
			ofs = 2 * ofs + 1;
		}
		if (ofs > max)
			ofs = max;
		last += hint;
		ofs += hint;
	}
	/* a[last] <= key < a[ofs] */
	last++;
	while (last < ofs) {
		idx m = last + ((ofs - last) >> 1);
		if (lt(s, key, a[m]))
			ofs = m;
		else
			last = m + 1;
	}
	return ofs;
}

/* Merge the runs v[pa..pa+na) and v[pa+na..pa+na+nb), na <= nb, from the left, with A in the
 * scratch array. merge_at() trimmed them so that B's first element goes before all of A and
 * A's last after all of B (for a consistent comparator). */
static void merge_lo(struct sorter *s, idx pa, idx na, idx nb)
{
	void **v = s->v, **a = s->tmp;
	idx ia = 0, ib = pa + na, d = pa, mg = s->min_gallop, k;
	memcpy(a, &v[pa], (size_t)na * sizeof(*v));
	v[d++] = v[ib++];
	if (--nb == 0)
		goto done;
	if (na == 1)
		goto last_a;
	for (;;) {
		idx acount = 0, bcount = 0;
		/* one at a time until a side wins min_gallop times in a row */
		for (;;) {
			if (lt(s, v[ib], a[ia])) {
				v[d++] = v[ib++];
				bcount++;
				acount = 0;
				if (--nb == 0)
					goto done;
				if (bcount >= mg)
					break;
			} else {
				v[d++] = a[ia++];
				acount++;
				bcount = 0;
				if (--na == 1)
					goto last_a;
				if (acount >= mg)
					break;
			}
		}
		/* galloping, while either side keeps winning MIN_GALLOP or more at a time */
		mg++;
		do {
			mg -= mg > 1;
			s->min_gallop = mg;
			k = gallop_right(s, v[ib], &a[ia], na, 0);
			acount = k;
			if (k) {
				memcpy(&v[d], &a[ia], (size_t)k * sizeof(*v));
				d += k;
				ia += k;
				na -= k;
				if (na == 1)
					goto last_a;
				if (na == 0)    /* only an inconsistent comparator gets here */
					goto done;
			}
			v[d++] = v[ib++];
			if (--nb == 0)
				goto done;
			k = gallop_left(s, a[ia], &v[ib], nb, 0);
			bcount = k;
			if (k) {
				memmove(&v[d], &v[ib], (size_t)k * sizeof(*v));
				d += k;
				ib += k;
				nb -= k;
				if (nb == 0)
					goto done;
			}
			v[d++] = a[ia++];
			if (--na == 1)
				goto last_a;
		} while (acount >= MIN_GALLOP || bcount >= MIN_GALLOP);
		mg++;   /* a penalty for leaving galloping mode */
		s->min_gallop = mg;
	}
done:
	if (na)
		memcpy(&v[d], &a[ia], (size_t)na * sizeof(*v));
	return;
last_a:
	/* A's last element goes after what is left of B */
	memmove(&v[d], &v[ib], (size_t)nb * sizeof(*v));
	v[d + nb] = a[ia];
}

/* Merge the runs v[pa..pa+na) and v[pa+na..pa+na+nb), na >= nb, from the right, with B in the
 * scratch array. */
static void merge_hi(struct sorter *s, idx pa, idx na, idx nb)
{
	void **v = s->v, **b = s->tmp;
	idx ia = pa + na - 1, ib = nb - 1, d = pa + na + nb - 1, mg = s->min_gallop, k;
	memcpy(b, &v[pa + na], (size_t)nb * sizeof(*v));
	v[d--] = v[ia--];
	if (--na == 0)
		goto done;
	if (nb == 1)
		goto first_b;
	for (;;) {
		idx acount = 0, bcount = 0;
		for (;;) {
			if (lt(s, b[ib], v[ia])) {
				v[d--] = v[ia--];
				acount++;
				bcount = 0;
				if (--na == 0)
					goto done;
				if (acount >= mg)
					break;
			} else {
				v[d--] = b[ib--];
				bcount++;
				acount = 0;
				if (--nb == 1)
					goto first_b;
				if (bcount >= mg)
					break;
			}
		}
		mg++;
		do {
			mg -= mg > 1;
			s->min_gallop = mg;
			k = na - gallop_right(s, b[ib], &v[pa], na, na - 1);
			acount = k;
			if (k) {
				d -= k;
				ia -= k;
				memmove(&v[d + 1], &v[ia + 1], (size_t)k * sizeof(*v));
				na -= k;
				if (na == 0)
					goto done;
			}
			v[d--] = b[ib--];
			if (--nb == 1)
				goto first_b;
			k = nb - gallop_left(s, v[ia], b, nb, nb - 1);
			bcount = k;
			if (k) {
				d -= k;
				ib -= k;
				memcpy(&v[d + 1], &b[ib + 1], (size_t)k * sizeof(*v));
				nb -= k;
				if (nb == 1)
					goto first_b;
				if (nb == 0)    /* only an inconsistent comparator gets here */
					goto done;
			}
			v[d--] = v[ia--];
			if (--na == 0)
				goto done;
		} while (acount >= MIN_GALLOP || bcount >= MIN_GALLOP);
		mg++;
		s->min_gallop = mg;
	}
done:
	if (nb)
		memcpy(&v[d - (nb - 1)], b, (size_t)nb * sizeof(*v));
	return;
first_b:
	/* B's first element goes before what is left of A */
	d -= na;
	ia -= na;
	memmove(&v[d + 1], &v[ia + 1], (size_t)na * sizeof(*v));
	v[d] = b[ib];
}

/* Merge the runs at stack positions i and i + 1 (i is the second or third from the top). */
static void merge_at(struct sorter *s, int i)
{
	idx pa = s->runs[i].start, na = s->runs[i].len;
	idx pb = s->runs[i + 1].start, nb = s->runs[i + 1].len, k;
	s->runs[i].len = na + nb;
	if (i == s->nruns - 3)
		s->runs[i + 1] = s->runs[i + 2];
	s->nruns--;
	/* what of A is already in place before B's first, and of B after A's last */
	k = gallop_right(s, s->v[pb], &s->v[pa], na, 0);
	pa += k;
	na -= k;
	if (na == 0)
		return;
	nb = gallop_left(s, s->v[pa + na - 1], &s->v[pb], nb, nb - 1);
	if (nb <= 0)
		return;
	if (na <= nb)
		merge_lo(s, pa, na, nb);
	else
		merge_hi(s, pa, na, nb);
}

/* The power of the boundary between adjacent runs [s1, s1+n1) and [s1+n1, s1+n1+n2) of a list
 * of n: the first bit where the binary fractions of their midpoints (over n) differ. */
static int power_of(idx s1, idx n1, idx n2, idx n)
{
	idx a = 2 * s1 + n1, b = a + n1 + n2;   /* twice the midpoints, to stay integral */
	int power = 0;
	for (;;) {
		power++;
		if (a >= n) {
			a -= n;
			b -= n;
		} else if (b >= n) {
			break;
		}
		a <<= 1;
		b <<= 1;
	}
	return power;
}

/* A run of n2 follows the top of the stack: merge what the powersort policy says first. */
static void found_run(struct sorter *s, idx n2)
{
	struct run *top;
	int power;
	if (!s->nruns)
		return;
	top = &s->runs[s->nruns - 1];
	power = power_of(top->start, top->len, n2, s->n);
	while (s->nruns > 1 && s->runs[s->nruns - 2].power > power)
		merge_at(s, s->nruns - 2);
	s->runs[s->nruns - 1].power = power;
}

static void collapse_all(struct sorter *s)
{
	while (s->nruns > 1) {
		int i = s->nruns - 2;
		if (i > 0 && s->runs[i - 1].len < s->runs[i + 1].len)
			i--;
		merge_at(s, i);
	}
}

/* n below 64 as it is; else n shifted right until below 64, plus one if any bit shifted out
 * was set: n / minrun is then a power of two or just below one. */
static idx min_run(idx n)
{
	idx r = 0;
	while (n >= 64) {
		r |= n & 1;
		n >>= 1;
	}
	return n + r;
}

void listsort(void **v, size_t count, listsort_lt_fn *lt_fn, void *ctx)
{
	struct sorter s;
	idx lo = 0, left = (idx)count, minrun;
	if (count < 2)
		return;
	s.v = v;
	s.n = (idx)count;
	s.lt = lt_fn;
	s.ctx = ctx;
	s.tmp = count >= 64 ? xmalloc((count / 2 + 1) * sizeof(void *)) : NULL;
	s.min_gallop = MIN_GALLOP;
	s.nruns = 0;
	minrun = min_run(s.n);
	do {
		int descending;
		idx n = count_run(&s, lo, lo + left, &descending);
		if (descending)
			reverse(&v[lo], n);
		if (n < minrun) {
			idx force = left <= minrun ? left : minrun;
			binary_insertion(&s, lo, lo + force, lo + n);
			n = force;
		}
		found_run(&s, n);
		s.runs[s.nruns].start = lo;
		s.runs[s.nruns].len = n;
		s.runs[s.nruns].power = 0;
		s.nruns++;
		lo += n;
		left -= n;
	} while (left);
	collapse_all(&s);
	free(s.tmp);
}
