/* test.h — the unit test harness: one line per test case, "ok NAME" or "FAIL NAME: why".
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_TEST_H
#define RILL_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failed_now;
static int test_failures;
static const char *test_prog = "unit";

#define CHECK(cond)                                                                          \
	do {                                                                                     \
		if (!(cond)) {                                                                       \
			if (!test_failed_now)                                                            \
				printf("  %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);           \
			test_failed_now = 1;                                                             \
		}                                                                                    \
	} while (0)

#define CHECK_STR(a, b)                                                                      \
	do {                                                                                     \
		const char *a_ = (a), *b_ = (b);                                                     \
		if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                             \
			if (!test_failed_now)                                                            \
				printf("  %s:%d: expected \"%s\", got \"%s\"\n", __FILE__, __LINE__,        \
				       b_ ? b_ : "(null)", a_ ? a_ : "(null)");                              \
			test_failed_now = 1;                                                             \
		}                                                                                    \
	} while (0)

#define RUN(fn)                                                                              \
	do {                                                                                     \
		test_failed_now = 0;                                                                 \
		fn();                                                                                \
		printf("%s %s: %s\n", test_failed_now ? "FAIL" : "ok", test_prog, #fn);             \
		test_failures += test_failed_now;                                                    \
	} while (0)

#define TEST_MAIN_END() return test_failures ? 1 : 0

#endif
