/* listsort.h — the sort of CPython 3.11's list.sort(), comparison for comparison, so that a
 * comparator that is not a total order gives exactly the permutation Python gives.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_LISTSORT_H
#define RILL_LISTSORT_H

#include <stddef.h>

/* "x sorts strictly before y": Python's `x < y` (for a cmp_to_key comparator, cmp(x, y) < 0). */
typedef int listsort_lt_fn(void *ctx, const void *x, const void *y);

/* Sorts v[0..n) in place as CPython 3.11's list.sort() sorts a list (timsort with the powersort
 * merge policy, galloping with the adaptive min_gallop): it asks lt() the same questions in the
 * same order, so the result is Python's for any lt(), even one that is not transitive or not
 * consistent. Stable. Always returns a permutation of the input. Allocates a scratch array of
 * n/2 pointers for lists of 64 or more; out of memory is fatal. */
void listsort(void **v, size_t n, listsort_lt_fn *lt, void *ctx);

#endif
