/* fuzz_expr — the (?) option expression evaluator: any text gives a truth value or one error
 * line with BuildStream's prefix, never a crash, a hang or unbounded recursion.
 * SPDX-License-Identifier: Apache-2.0 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;
	struct error err = ERROR_INIT;
	int truth = -1;
	if (size > 4096)
		return 0;
	text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	if (expr_eval(text, fuzz_lookup, NULL, &truth, &err) == 0) {
		FUZZ_ASSERT(truth == 0 || truth == 1, "truth %d", truth);
		FUZZ_ASSERT(err.msg == NULL, "an error message on success: %s", err.msg);
	} else {
		FUZZ_ASSERT(truth == -1, "*truth changed on failure");
		FUZZ_ASSERT(err.msg && strncmp(err.msg, "Failed to evaluate expression", 29) == 0,
			    "error without BuildStream's prefix: %s", err.msg ? err.msg : "(none)");
		FUZZ_ASSERT(strlen(err.msg) < 2 * size + 200, "error of %zu bytes", strlen(err.msg));
	}
	/* the same text again gives the same answer (no hidden state) */
	{
		struct error err2 = ERROR_INIT;
		int truth2 = -1, rc2 = expr_eval(text, fuzz_lookup, NULL, &truth2, &err2);
		FUZZ_ASSERT((rc2 == 0) == (err.msg == NULL) && truth2 == truth &&
				    (!err.msg || strcmp(err.msg, err2.msg) == 0),
			    "a second evaluation differs");
		error_release(&err2);
	}
	error_release(&err);
	free(text);
	return 0;
}
