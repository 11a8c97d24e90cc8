#!/usr/bin/python3
# listsort_ref.py — the reference side of test_listsort: Python's own list.sort() with the test's
# comparators. Reads "MODE SEED N" lines, prints "COMPARISONS P0 P1 ..." (the sorted permutation).
# SPDX-License-Identifier: Apache-2.0
import sys
from functools import cmp_to_key

M = (1 << 64) - 1


def h(a, b, c):
    z = (a * 0x9E3779B97F4A7C15 + b * 0xC2B2AE3D27D4EB4F + c * 0x165667B19E3779F9
         + 0x27D4EB2F165667C5) & M
    z ^= z >> 33
    z = (z * 0xFF51AFD7ED558CCD) & M
    z ^= z >> 33
    z = (z * 0xC4CEB9FE1A85EC53) & M
    z ^= z >> 33
    return z


def comparator(mode, seed, n):
    """Returns lt(x, y) for items 0..n-1: the same functions as test_listsort.c."""
    if mode == 0:       # random answers: neither antisymmetric nor transitive
        return lambda x, y: h(seed, x, y) & 1 == 1
    if mode == 1:       # a random tournament: antisymmetric, full of cycles
        def lt(x, y):
            if x == y:
                return False
            r = h(seed, min(x, y), max(x, y)) & 1
            return r == 1 if x < y else r == 0
        return lt
    if mode == 2:       # a few distinct keys: a total preorder with many equal items
        k = 1 + h(seed, n, 1) % 8
        key = [h(seed, x, 0) % k for x in range(n)]
        return lambda x, y: key[x] < key[y]
    if mode == 3:       # rock-paper-scissors
        key = [h(seed, x, 0) % 3 for x in range(n)]
        return lambda x, y: (key[y] - key[x]) % 3 == 1
    if mode == 4:       # BuildStream's dependency comparator on a random DAG
        rank = [h(seed, x, 77) for x in range(n)]
        order = sorted(range(n), key=lambda x: rank[x])
        reach = [0] * n
        for x in order:
            c = 0
            for t in range(h(seed, x, 78) % 4):
                y = h(seed, x, 100 + t) % n
                if rank[y] < rank[x]:
                    c |= reach[y] | (1 << y)
            reach[x] = c
        typ = [h(seed, x, 79) % 3 for x in range(n)]
        name = [h(seed, x, 80) % (n // 2 + 1) for x in range(n)]

        def cmp(x, y):
            if reach[x] >> y & 1:
                return 1
            if reach[y] >> x & 1:
                return -1
            if typ[x] != typ[y]:
                if typ[x] == 2:
                    return 1
                if typ[y] == 2:
                    return -1
            if name[x] != name[y]:
                return 1 if name[x] > name[y] else -1
            return 0
        return lambda x, y: cmp(x, y) < 0
    if mode == 5:       # long ascending and descending runs, with a little noise
        span = 1 + h(seed, 0, 2) % 200
        def key(x):
            piece = x // span
            off = h(seed, piece, 3) % 1000
            return off + (x % span if piece % 2 else span - x % span)
        keys = [key(x) for x in range(n)]
        def lt(x, y):
            if h(seed, x, y) % 64 == 0:
                return h(seed, y, x) & 1 == 1
            return keys[x] < keys[y]
        return lt
    if mode == 6:       # two interleaved sorted halves (galloping), a little noise
        half = n // 2
        keys = [2 * x if x < half else 2 * (x - half) + 1 for x in range(n)]
        def lt(x, y):
            if h(seed, x, y) % 97 == 0:
                return True
            return keys[x] < keys[y]
        return lt
    raise SystemExit("listsort_ref.py: unknown mode %d" % mode)


def main():
    for line in sys.stdin:
        mode, seed, n = (int(f) for f in line.split())
        lt = comparator(mode, seed, n)
        count = 0

        def cmp(x, y):
            nonlocal count
            count += 1
            return -1 if lt(x, y) else 1
        items = list(range(n))
        items.sort(key=cmp_to_key(cmp))
        print(count, *items)


main()
