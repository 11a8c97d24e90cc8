/* expr — evaluates the Jinja2 expressions of BuildStream's (?) conditionals against option
 * values, with BuildStream 1.6.8's value semantics (Python's) and its error messages.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_EXPR_H
#define RILL_EXPR_H

#include <stddef.h>

#include "base/util.h"

/* How an option's value looks to an expression. BuildStream hands the raw option values to Jinja:
 *   bool                 -> EXPR_BOOL   (a Python bool: == true/True, == 1; never == 'true')
 *   enum, arch           -> EXPR_STRING (the chosen value)
 *   flags, element-mask  -> EXPR_LIST   (the chosen values, sorted as BuildStream sorts them, so
 *                                        "'x' in opt" is membership and "opt == ['a','b']" is
 *                                        element-wise; a list never equals a tuple literal) */
enum expr_kind { EXPR_BOOL, EXPR_STRING, EXPR_LIST };

struct expr_value {
	enum expr_kind kind;
	int b;                      /* EXPR_BOOL: 0 or non-zero */
	const char *s;              /* EXPR_STRING: UTF-8, NUL-terminated */
	const char *const *items;   /* EXPR_LIST: n NUL-terminated UTF-8 strings */
	size_t n;
};

/* Look up an option by name: fill *out and return 0, or return -1 when no such option.
 * Strings and arrays put in *out are borrowed and must stay valid until expr_eval returns. */
typedef int (*expr_lookup_fn)(void *ctx, const char *name, struct expr_value *out);

/* Deepest nesting accepted: parentheses, list brackets, `not`, unary +/- and inline ifs each count
 * one level. BuildStream itself crashes (Python RecursionError) at roughly 80 parentheses. */
#define EXPR_MAX_DEPTH 64

/* Evaluate text as BuildStream does, i.e. as `{% if TEXT %}True{% else %}False{% endif %}`, and
 * set *truth to 0 or 1. lookup may be NULL (no options). No global state; thread-safe.
 *
 * Supported: `==` `!=` `<` `<=` `>` `>=` (chainable, Python style), `in`, `not in`, `and`, `or`,
 * `not`, parentheses, tuples `(a, b)` / `(a,)`, lists `[a, b]`, strings in '' or "" with Python
 * escapes (adjacent strings concatenate), true/True/false/False, none/None, integers (decimal,
 * 0x, 0o, 0b, with `_`), unary `-`/`+`, inline `a if b else c`, a top-level trailing `:` or `,`.
 * `and`/`or` yield an operand, not a bool, exactly like Python: (opt or 'x') == 'x' works.
 *
 * Names that lookup does not know are Jinja StrictUndefined: any use of their value (truth,
 * comparison, `in`) is an error "'NAME' is undefined", but an operand that is never evaluated
 * (false and NAME, true or NAME) is fine — as in BuildStream.
 *
 * On failure returns -1, leaves *truth alone and sets err to one line. Where BuildStream reports
 * the problem the text is its text, "Failed to evaluate expression (TEXT): MESSAGE", e.g.
 *   "Failed to evaluate expression (debug ==): unexpected 'end of statement block'"
 *   "Failed to evaluate expression (x @ y): unexpected char '@' at 8"   (Jinja's offset: +6)
 *   "Failed to evaluate expression (foo): 'foo' is undefined"
 * Type errors that crash BuildStream with a Python TypeError use Python's message after the same
 * prefix ("argument of type 'bool' is not iterable"). Jinja syntax rill does not implement
 * (arithmetic, `~`, float literals, filters, tests, attributes, subscripts, calls, dicts,
 * \N{...} escapes, integers beyond 64 bits) and nesting beyond EXPR_MAX_DEPTH fail with the same
 * prefix and a message naming the construct and its 1-based character column. Text that closes
 * the Jinja block itself ("x %} y") behaves as in BuildStream's template: false when x is false,
 * otherwise "Failed to evaluate expression: TEXT" (also used when y holds further Jinja tags). */
int expr_eval(const char *text, expr_lookup_fn lookup, void *ctx, int *truth, struct error *err);

#endif
