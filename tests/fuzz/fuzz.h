/* fuzz.h — what every harness in tests/fuzz/ shares: the libFuzzer entry point, an oracle that
 * aborts (so that libFuzzer, and the regression driver in `make check`, report it), and the
 * options the expression and composition harnesses look up.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_FUZZ_H
#define RILL_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/expr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant the code under test must keep, checked on every input. */
#define FUZZ_ASSERT(cond, ...)                                                                  \
	do {                                                                                    \
		if (!(cond)) {                                                                  \
			fprintf(stderr, "fuzz: %s:%d: %s: ", __FILE__, __LINE__, #cond);        \
			fprintf(stderr, __VA_ARGS__);                                           \
			fputc('\n', stderr);                                                    \
			abort();                                                                \
		}                                                                               \
	} while (0)

/* Options as a project would declare them: a bool, an enum, an arch and a flags option. */
static inline int fuzz_lookup(void *ctx, const char *name, struct expr_value *out)
{
	static const char *const flags[] = {"docs", "tests"};
	(void)ctx;
	if (strcmp(name, "debug") == 0) {
		*out = (struct expr_value){.kind = EXPR_BOOL, .b = 1};
	} else if (strcmp(name, "flavour") == 0) {
		*out = (struct expr_value){.kind = EXPR_STRING, .s = "fancy"};
	} else if (strcmp(name, "arch") == 0) {
		*out = (struct expr_value){.kind = EXPR_STRING, .s = "x86_64"};
	} else if (strcmp(name, "extras") == 0) {
		*out = (struct expr_value){.kind = EXPR_LIST, .items = flags, .n = 2};
	} else {
		return -1;
	}
	return 0;
}

#endif
