/* glob — BuildStream's path globs (split rules, overlap whitelists, filter's include/exclude
 * lists): '**' any characters, '*' and '?' within one path component, [...] classes.
 * SPDX-License-Identifier: Apache-2.0 */
#include "base/glob.h"

int glob_match(const char *pat, const char *s)
{
	for (;;) {
		if (pat[0] == '*' && pat[1] == '*') {
			pat += 2;
			for (;; s++) {
				if (glob_match(pat, s))
					return 1;
				if (!*s)
					return 0;
			}
		}
		if (*pat == '*') {
			pat++;
			for (;; s++) {
				if (glob_match(pat, s))
					return 1;
				if (!*s || *s == '/')
					return 0;
			}
		}
		if (!*pat)
			return !*s;
		if (!*s)
			return 0;
		if (*pat == '?') {
			if (*s == '/')
				return 0;
		} else if (*pat == '[') {
			const char *q = pat + 1;
			int neg = 0, hit = 0;
			if (*q == '!' || *q == '^') {
				neg = 1;
				q++;
			}
			do {
				if (q[1] == '-' && q[2] && q[2] != ']') {
					hit |= *s >= q[0] && *s <= q[2];
					q += 3;
				} else {
					hit |= *s == *q;
					q++;
				}
			} while (*q && *q != ']');
			if (!*q) {      /* no closing bracket: a literal '[' */
				neg = 0;
				hit = *s == '[';
			} else {
				pat = q;
			}
			if (hit == neg)
				return 0;
		} else if (*pat != *s) {
			return 0;
		}
		pat++;
		s++;
	}
}
