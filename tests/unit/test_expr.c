/* test_expr — the (?) conditional expression evaluator against BuildStream 1.6.8's behaviour
 * (expected results and messages were taken from bst's own OptionPool._evaluate).
 * SPDX-License-Identifier: Apache-2.0 */
#include <stdint.h>

#include "format/expr.h"
#include "test.h"

/* The options of a small project: bool, enum, arch, flags (sorted) and element-mask. */
static const char *const flags_value[] = {"a", "b"};
static const char *const mask_value[] = {"app.bst", "lib/x.bst"};

static int lookup_options(void *ctx, const char *name, struct expr_value *out)
{
	int *calls = ctx;
	if (calls)
		(*calls)++;
	if (!strcmp(name, "debug") || !strcmp(name, "nodebug")) {
		out->kind = EXPR_BOOL;
		out->b = name[0] == 'd';
	} else if (!strcmp(name, "arch")) {
		out->kind = EXPR_STRING;
		out->s = "x86_64";
	} else if (!strcmp(name, "build_type")) {
		out->kind = EXPR_STRING;
		out->s = "release";
	} else if (!strcmp(name, "empty")) {
		out->kind = EXPR_STRING;
		out->s = "";
	} else if (!strcmp(name, "flags")) {
		out->kind = EXPR_LIST;
		out->items = flags_value;
		out->n = 2;
	} else if (!strcmp(name, "noflags")) {
		out->kind = EXPR_LIST;
		out->items = NULL;
		out->n = 0;
	} else if (!strcmp(name, "mask")) {
		out->kind = EXPR_LIST;
		out->items = mask_value;
		out->n = 2;
	} else {
		return -1;
	}
	return 0;
}

static char *last_error;     /* the message of the last failing ev(), "" otherwise */

/* 1 or 0 for a result, -1 on error (message in last_error, and then *truth must be untouched). */
static int ev(const char *text)
{
	struct error err = ERROR_INIT;
	int truth = 42, rc = expr_eval(text, lookup_options, NULL, &truth, &err);
	free(last_error);
	last_error = xstrdup("");
	if (rc == 0) {
		if (err.msg || (truth != 0 && truth != 1))
			return -2;
		return truth;
	}
	if (rc != -1 || !err.msg || truth != 42)
		return -3;
	free(last_error);
	last_error = err.msg;       /* take over the message */
	err.msg = NULL;
	return -1;
}

/* The error text of a failing expression, or "(no error)". */
static const char *ev_err(const char *text)
{
	if (ev(text) != -1)
		return "(no error)";
	return last_error;
}

static void test_literals(void)
{
	CHECK(ev("true") == 1);
	CHECK(ev("True") == 1);
	CHECK(ev("false") == 0);
	CHECK(ev("False") == 0);
	CHECK(ev("none") == 0);
	CHECK(ev("None == none") == 1);
	CHECK(ev("'x'") == 1);
	CHECK(ev("''") == 0);
	CHECK(ev("0") == 0);
	CHECK(ev("7") == 1);
	CHECK(ev("0b101 == 5") == 1);
	CHECK(ev("0o17 == 15") == 1);
	CHECK(ev("0x_ff == 255") == 1);
	CHECK(ev("1_000 == 1000") == 1);
	CHECK(ev("-1 < 0") == 1);
	CHECK(ev("-- 1 == 1") == 1);
	CHECK(ev("+true == 1") == 1);
	/* TRUE is not a literal in Jinja: just an unknown name */
	CHECK_STR(ev_err("TRUE"), "Failed to evaluate expression (TRUE): 'TRUE' is undefined");
}

static void test_eq_ne(void)
{
	CHECK(ev("arch == \"x86_64\"") == 1);
	CHECK(ev("arch == 'x86_64'") == 1);
	CHECK(ev("arch != 'aarch64'") == 1);
	CHECK(ev("arch != 'x86_64'") == 0);
	CHECK(ev("'x86_64' == arch") == 1);
	CHECK(ev("1 == 1") == 1);
	CHECK(ev("1 == '1'") == 0);
	CHECK(ev("1 != '1'") == 1);
	CHECK(ev("none == 0") == 0);
	CHECK(ev("[] == ()") == 0);
	CHECK(ev("[[1], [2]] == [[1], [2]]") == 1);
	CHECK(ev("[[1], [2]] == [[1], [3]]") == 0);
	CHECK(ev("(none,) == (None,)") == 1);
}

/* A bool option is a Python bool: equal to true/True and 1, never to the strings. */
static void test_bool_option(void)
{
	CHECK(ev("debug") == 1);
	CHECK(ev("nodebug") == 0);
	CHECK(ev("not nodebug") == 1);
	CHECK(ev("debug == true") == 1);
	CHECK(ev("debug == True") == 1);
	CHECK(ev("debug == 1") == 1);
	CHECK(ev("nodebug == 0") == 1);
	CHECK(ev("debug == 'true'") == 0);
	CHECK(ev("debug == \"True\"") == 0);
	CHECK(ev("debug != 'True'") == 1);
	CHECK(ev("nodebug == false") == 1);
	CHECK(ev("debug and not nodebug") == 1);
}

static void test_enum_option(void)
{
	CHECK(ev("build_type == 'release'") == 1);
	CHECK(ev("build_type == 'debug'") == 0);
	CHECK(ev("build_type in ['debug', 'release']") == 1);
	CHECK(ev("arch in ('x86_64', 'aarch64')") == 1);
	CHECK(ev("arch in ['i686']") == 0);
	CHECK(ev("arch not in ['i686', 'armv7']") == 1);
	CHECK(ev("empty") == 0);
	CHECK(ev("empty == ''") == 1);
	/* `in` on a string is a substring test, as in Python */
	CHECK(ev("'x86' in arch") == 1);
	CHECK(ev("'' in empty") == 1);
	CHECK(ev("'arm' in arch") == 0);
}

/* Flags and element-mask values are lists: `in` is membership, == compares lists (not tuples). */
static void test_flags_option(void)
{
	CHECK(ev("'a' in flags") == 1);
	CHECK(ev("\"b\" in flags") == 1);
	CHECK(ev("'c' in flags") == 0);
	CHECK(ev("'c' not in flags") == 1);
	CHECK(ev("'ab' in flags") == 0);
	CHECK(ev("flags") == 1);
	CHECK(ev("noflags") == 0);
	CHECK(ev("'a' in noflags") == 0);
	CHECK(ev("flags == ['a', 'b']") == 1);
	CHECK(ev("flags == ['b', 'a']") == 0);
	CHECK(ev("flags == ('a', 'b')") == 0);
	CHECK(ev("noflags == []") == 1);
	CHECK(ev("'app.bst' in mask") == 1);
	CHECK(ev("'lib/x.bst' in mask and 'other.bst' not in mask") == 1);
	CHECK(ev("flags in flags") == 0);
	CHECK(ev("flags in [flags]") == 1);
}

static void test_and_or_not(void)
{
	CHECK(ev("true and true") == 1);
	CHECK(ev("true and false") == 0);
	CHECK(ev("false or true") == 1);
	CHECK(ev("false or false") == 0);
	CHECK(ev("not true") == 0);
	CHECK(ev("not not debug") == 1);
	/* and/or yield an operand, not a bool */
	CHECK(ev("(nodebug or 'x') == 'x'") == 1);
	CHECK(ev("(debug and 'y') == 'y'") == 1);
	CHECK(ev("('' or flags) == ['a', 'b']") == 1);
	CHECK(ev("(debug or 'x') == true") == 1);
	/* long flat chains are iterative */
	CHECK(ev("false or false or false or false or false or true") == 1);
	CHECK(ev("true and true and true and true and false") == 0);
}

/* not binds tighter than and, which binds tighter than or. */
static void test_precedence(void)
{
	CHECK(ev("true or false and false") == 1);
	CHECK(ev("(true or false) and false") == 0);
	CHECK(ev("false and false or true") == 1);
	CHECK(ev("false and (false or true)") == 0);
	CHECK(ev("not true or true") == 1);
	CHECK(ev("not (true or true)") == 0);
	CHECK(ev("not false and false") == 0);
	CHECK(ev("not (false and false)") == 1);
	/* not applies to the whole comparison */
	CHECK(ev("not arch in ['x86_64']") == 0);
	CHECK(ev("not arch == 'aarch64'") == 1);
	CHECK(ev("arch == 'x86_64' and 'a' in flags or nodebug") == 1);
	CHECK(ev("debug and (arch == 'aarch64' or 'b' in flags)") == 1);
}

/* Comparisons chain like Python's: a op b op c means (a op b) and (b op c). */
static void test_chained_and_ordering(void)
{
	CHECK(ev("'a' == 'a' == 'a'") == 1);
	CHECK(ev("'a' in flags == true") == 0);
	CHECK(ev("'a' in ['a', 'b'] in [true]") == 0);
	CHECK(ev("1 < 2 < 3") == 1);
	CHECK(ev("3 > 2 > 2") == 0);
	CHECK(ev("1 == 2 == undefined_name") == 0);
	CHECK(ev("'a' < 'b'") == 1);
	CHECK(ev("'a' < 'ab'") == 1);
	CHECK(ev("'b' <= 'ab'") == 0);
	CHECK(ev("[1, 2] < [1, 2, 3]") == 1);
	CHECK(ev("(1, 2) >= (1, 2)") == 1);
	CHECK(ev("true < 2") == 1);
	CHECK(ev("[] < []") == 0);
	CHECK_STR(ev_err("1 < 'a'"), "Failed to evaluate expression (1 < 'a'): "
				     "'<' not supported between instances of 'int' and 'str'");
	CHECK_STR(ev_err("[1] < (2,)"), "Failed to evaluate expression ([1] < (2,)): "
					"'<' not supported between instances of 'list' and 'tuple'");
}

static void test_quoting(void)
{
	CHECK(ev("'it\\'s' == \"it's\"") == 1);
	CHECK(ev("\"a\\\"b\" == 'a\"b'") == 1);
	CHECK(ev("\"\\x41\" == 'A'") == 1);
	CHECK(ev("'\\101' == \"A\"") == 1);
	CHECK(ev("'\\u00e9' == '\xc3\xa9'") == 1);
	CHECK(ev("'\\U0001F600' == '\xf0\x9f\x98\x80'") == 1);
	CHECK(ev("'\\n' == 'n'") == 0);
	CHECK(ev("'\\n' == '\n'") == 1);
	CHECK(ev("'\\q' == '\\\\q'") == 1);           /* unknown escapes keep the backslash */
	CHECK(ev("'\\0' == '\\x00'") == 1);
	CHECK(ev("'\\0' == ''") == 0);
	CHECK(ev("'a\\\nb' == 'ab'") == 1);           /* backslash-newline vanishes */
	CHECK(ev("'a' \"b\" == 'ab'") == 1);          /* adjacent literals concatenate */
	CHECK(ev("'x86' '_64' == arch") == 1);
	CHECK(ev("'\\\xc3\xa9' == '\\\\xe9'") == 1);   /* Python's backslashreplace quirk */
	CHECK(ev("'%}' == '%' '}'") == 1);
	CHECK_STR(ev_err("'\\x4'"), "Failed to evaluate expression ('\\x4'): truncated \\xXX escape");
	CHECK_STR(ev_err("'\\u12'"), "Failed to evaluate expression ('\\u12'): "
				     "truncated \\uXXXX escape");
	CHECK_STR(ev_err("'\\U00110000'"), "Failed to evaluate expression ('\\U00110000'): "
					   "illegal Unicode character");
	CHECK_STR(ev_err("'\\N'"), "Failed to evaluate expression ('\\N'): "
				   "malformed \\N character escape");
}

static void test_tuples_lists_and_trailers(void)
{
	CHECK(ev("()") == 0);
	CHECK(ev("[]") == 0);
	CHECK(ev("(0,)") == 1);
	CHECK(ev("[0]") == 1);
	CHECK(ev("(nodebug)") == 0);
	CHECK(ev("((((debug))))") == 1);
	CHECK(ev("['a', 'b',] == ['a', 'b']") == 1);
	CHECK(ev("nodebug,") == 1);                   /* a top-level tuple is never empty */
	CHECK(ev("nodebug, false") == 1);
	CHECK(ev("debug:") == 1);                     /* Jinja allows `{% if x: %}` */
	CHECK(ev("  debug\n") == 1);
	CHECK(ev("\tnodebug ==\r\nfalse") == 1);
}

/* Unknown names are StrictUndefined: using them fails, skipping them does not. */
static void test_undefined(void)
{
	int calls = 0, truth = -1;
	struct error err = ERROR_INIT;
	CHECK_STR(ev_err("undef"), "Failed to evaluate expression (undef): 'undef' is undefined");
	CHECK_STR(ev_err("undef == 'x'"),
		  "Failed to evaluate expression (undef == 'x'): 'undef' is undefined");
	CHECK_STR(ev_err("'x' != undef"),
		  "Failed to evaluate expression ('x' != undef): 'undef' is undefined");
	CHECK_STR(ev_err("not undef"), "Failed to evaluate expression (not undef): 'undef' is undefined");
	CHECK_STR(ev_err("'x' in undef"),
		  "Failed to evaluate expression ('x' in undef): 'undef' is undefined");
	CHECK_STR(ev_err("undef in flags"),
		  "Failed to evaluate expression (undef in flags): 'undef' is undefined");
	CHECK_STR(ev_err("undef or true"),
		  "Failed to evaluate expression (undef or true): 'undef' is undefined");
	CHECK(ev("false and undef") == 0);
	CHECK(ev("true or undef") == 1);
	CHECK(ev("debug or undef") == 1);
	CHECK(ev("nodebug and undef") == 0);
	CHECK(ev("undef in []") == 0);
	CHECK(ev("[undef]") == 1);
	/* keywords out of place are plain names too */
	CHECK_STR(ev_err("and"), "Failed to evaluate expression (and): 'and' is undefined");
	/* a NULL lookup means no options at all */
	CHECK(expr_eval("true", NULL, NULL, &truth, &err) == 0 && truth == 1);
	CHECK(expr_eval("debug", NULL, NULL, &truth, &err) == -1 && err.msg &&
	      !strcmp(err.msg, "Failed to evaluate expression (debug): 'debug' is undefined"));
	error_release(&err);
	/* short-circuited names are not even looked up */
	CHECK(expr_eval("nodebug and arch", lookup_options, &calls, &truth, &err) == 0);
	CHECK(calls == 1 && truth == 0);
}

static void test_inline_if(void)
{
	CHECK(ev("('a' if debug else 'b') == 'a'") == 1);
	CHECK(ev("(1 if nodebug else 2 if debug else 3) == 2") == 1);
	CHECK(ev("(undef if false else 2) == 2") == 1);
	/* without else it is a plain (lenient) Undefined: falsy, equal only to itself */
	CHECK(ev("(1 if false)") == 0);
	CHECK(ev("(1 if false) == (1 if false)") == 1);
	CHECK(ev("(1 if false) == none") == 0);
	CHECK(ev("'a' in (1 if false)") == 0);
	CHECK_STR(ev_err("(1 if false) < 1"),
		  "Failed to evaluate expression ((1 if false) < 1): the inline if-expression on "
		  "line 1 evaluated to false and no else section was defined.");
	CHECK_STR(ev_err("\n(1 if false) < 1"),
		  "Failed to evaluate expression (\n(1 if false) < 1): the inline if-expression on "
		  "line 2 evaluated to false and no else section was defined.");
	/* at top level Jinja's `if` statement takes no inline if */
	CHECK_STR(ev_err("a if b else c"), "Failed to evaluate expression (a if b else c): "
					   "expected token 'end of statement block', got 'if'");
}

/* What makes BuildStream crash with a Python TypeError is an error here, with Python's words. */
static void test_type_errors(void)
{
	CHECK_STR(ev_err("'a' in debug"), "Failed to evaluate expression ('a' in debug): "
					  "argument of type 'bool' is not iterable");
	CHECK_STR(ev_err("'a' in none"), "Failed to evaluate expression ('a' in none): "
					 "argument of type 'NoneType' is not iterable");
	CHECK_STR(ev_err("1 in arch"), "Failed to evaluate expression (1 in arch): "
				       "'in <string>' requires string as left operand, not int");
	CHECK_STR(ev_err("flags in arch"), "Failed to evaluate expression (flags in arch): "
					   "'in <string>' requires string as left operand, not list");
	CHECK_STR(ev_err("-'a'"), "Failed to evaluate expression (-'a'): "
				  "bad operand type for unary -: 'str'");
}

/* Malformed expressions: errors with Jinja's wording (as BuildStream shows them), never a crash. */
static void test_syntax_errors(void)
{
	CHECK_STR(ev_err(""), "Failed to evaluate expression (): "
			      "Expected an expression, got 'end of statement block'");
	CHECK_STR(ev_err("   "), "Failed to evaluate expression (   ): "
				 "Expected an expression, got 'end of statement block'");
	CHECK_STR(ev_err("debug =="), "Failed to evaluate expression (debug ==): "
				      "unexpected 'end of statement block'");
	CHECK_STR(ev_err("== debug"), "Failed to evaluate expression (== debug): unexpected '=='");
	CHECK_STR(ev_err("(debug"), "Failed to evaluate expression ((debug): "
				    "unexpected '}', expected ')'");
	CHECK_STR(ev_err("(debug =="), "Failed to evaluate expression ((debug ==): unexpected '%'");
	CHECK_STR(ev_err("debug)"), "Failed to evaluate expression (debug)): unexpected ')'");
	CHECK_STR(ev_err("(]"), "Failed to evaluate expression ((]): unexpected ']', expected ')'");
	CHECK_STR(ev_err("[1, 2"), "Failed to evaluate expression ([1, 2): "
				   "unexpected '}', expected ']'");
	CHECK_STR(ev_err("[,]"), "Failed to evaluate expression ([,]): unexpected ','");
	CHECK_STR(ev_err("\"abc"), "Failed to evaluate expression (\"abc): unexpected char '\"' at 6");
	CHECK_STR(ev_err("'abc"), "Failed to evaluate expression ('abc): unexpected char \"'\" at 6");
	CHECK_STR(ev_err("debug !"), "Failed to evaluate expression (debug !): "
				     "unexpected char '!' at 12");
	CHECK_STR(ev_err("debug\r\n!"), "Failed to evaluate expression (debug\r\n!): "
					"unexpected char '!' at 12");
	CHECK_STR(ev_err("\"\xc3\xa9\" @"), "Failed to evaluate expression (\"\xc3\xa9\" @): "
					    "unexpected char '@' at 10");
	CHECK_STR(ev_err("\xe2\x82\xac"), "Failed to evaluate expression (\xe2\x82\xac): "
					  "unexpected char '\xe2\x82\xac' at 6");
	CHECK_STR(ev_err("a b"), "Failed to evaluate expression (a b): "
				 "expected token 'end of statement block', got 'b'");
	CHECK_STR(ev_err("1 2"), "Failed to evaluate expression (1 2): "
				 "expected token 'end of statement block', got 'integer'");
	CHECK_STR(ev_err("debug = 1"), "Failed to evaluate expression (debug = 1): "
				       "expected token 'end of statement block', got '='");
	CHECK_STR(ev_err("not"), "Failed to evaluate expression (not): "
				 "unexpected 'end of statement block'");
	CHECK_STR(ev_err("and debug"), "Failed to evaluate expression (and debug): "
				       "expected token 'end of statement block', got 'debug'");
	CHECK_STR(ev_err("'a' not flags"), "Failed to evaluate expression ('a' not flags): "
					   "expected token 'end of statement block', got 'not'");
	CHECK_STR(ev_err("(1 2)"), "Failed to evaluate expression ((1 2)): "
				   "expected token ')', got 'integer'");
	CHECK_STR(ev_err("007"), "Failed to evaluate expression (007): "
				 "expected token 'end of statement block', got 'integer'");
}

/* Jinja syntax rill does not implement fails clearly; Jinja's own syntax errors take priority. */
static void test_unsupported(void)
{
	CHECK_STR(ev_err("1 + 1"), "Failed to evaluate expression (1 + 1): "
				   "the '+' operator is not supported (at column 3)");
	CHECK_STR(ev_err("arch|upper"), "Failed to evaluate expression (arch|upper): "
					"a filter ('|') is not supported (at column 5)");
	CHECK_STR(ev_err("arch is defined"), "Failed to evaluate expression (arch is defined): "
					     "a test ('is') is not supported (at column 6)");
	CHECK_STR(ev_err("flags[0]"), "Failed to evaluate expression (flags[0]): "
				      "subscripting ('[') is not supported (at column 6)");
	CHECK_STR(ev_err("1.5"), "Failed to evaluate expression (1.5): "
				 "a float literal is not supported (at column 1)");
	CHECK_STR(ev_err("{}"), "Failed to evaluate expression ({}): "
				"a dict literal ('{') is not supported (at column 1)");
	CHECK_STR(ev_err("1 +"), "Failed to evaluate expression (1 +): "
				 "unexpected 'end of statement block'");
	CHECK_STR(ev_err("a.("), "Failed to evaluate expression (a.(): expected name or number");
	CHECK_STR(ev_err("a.1.b"), "Failed to evaluate expression (a.1.b): "
				   "attribute access ('.') is not supported (at column 2)");
	CHECK_STR(ev_err("f(*a, b)"), "Failed to evaluate expression (f(*a, b)): "
				      "invalid syntax for function call expression");
}

/* Text that closes the Jinja block itself behaves as in BuildStream's template. */
static void test_block_end_in_text(void)
{
	CHECK_STR(ev_err("debug %} x"), "Failed to evaluate expression: debug %} x");
	CHECK_STR(ev_err("debug -%}"), "Failed to evaluate expression: debug -%}");
	CHECK(ev("nodebug %} x") == 0);
	CHECK_STR(ev_err("undef %} x"), "Failed to evaluate expression (undef %} x): "
					"'undef' is undefined");
	CHECK_STR(ev_err("%}"), "Failed to evaluate expression (%}): "
				"Expected an expression, got 'end of statement block'");
	CHECK(ev("('%}' == '%}')") == 1);
}

static char *repeat(const char *head, size_t times, const char *mid, const char *tail)
{
	struct buf b = BUF_INIT;
	size_t i;
	for (i = 0; i < times; i++)
		buf_adds(&b, head);
	buf_adds(&b, mid);
	for (i = 0; i < times; i++)
		buf_adds(&b, tail);
	return buf_detach(&b);
}

static void test_nesting_limit(void)
{
	char *s;
	s = repeat("(", EXPR_MAX_DEPTH, "debug", ")");
	CHECK(ev(s) == 1);
	free(s);
	s = repeat("(", EXPR_MAX_DEPTH + 1, "debug", ")");
	CHECK(ev(s) == -1 && strstr(last_error, "nested too deeply (more than 64 levels) at column 65"));
	free(s);
	s = repeat("[", 100000, "x", "]");
	CHECK(ev(s) == -1 && strstr(last_error, "nested too deeply"));
	free(s);
	s = repeat("not ", EXPR_MAX_DEPTH, "nodebug", "");
	CHECK(ev(s) == 0);
	free(s);
	s = repeat("not ", 200000, "debug", "");
	CHECK(ev(s) == -1 && strstr(last_error, "nested too deeply"));
	free(s);
	s = repeat("-", 100000, "1", "");
	CHECK(ev(s) == -1 && strstr(last_error, "nested too deeply"));
	free(s);
	s = repeat("(1 if ", 5000, "true", ")");
	CHECK(ev(s) == -1 && strstr(last_error, "nested too deeply"));
	free(s);
	s = repeat("", 0, "(1 if true if true if true if true)", "");
	CHECK(ev(s) == 1);
	free(s);
	s = repeat(" if true", 70, "", "");        /* a long chain of inline ifs nests too */
	{
		char *t = xasprintf("(1%s)", s);
		CHECK(ev(t) == -1 && strstr(last_error, "nested too deeply"));
		free(t);
	}
	free(s);
	s = repeat("a(", 100000, "", ")");
	CHECK(ev(s) == -1 && strstr(last_error, "nested too deeply"));
	free(s);
}

static void test_long_input(void)
{
	char *s = repeat("nodebug or ", 200000, "debug", "");
	CHECK(ev(s) == 1);
	free(s);
	s = repeat("'a' in flags and ", 100000, "'c' in flags", "");
	CHECK(ev(s) == 0);
	free(s);
	s = repeat("'x' ", 100000, "== 'x'", "");
	CHECK(ev(s) == 0);
	free(s);
	s = repeat("", 0, "", "");
	CHECK(ev(s) == -1);
	free(s);
}

/* Garbage never crashes: every call returns 0 with truth 0/1, or -1 with a message. */
static void test_garbage(void)
{
	static const char alphabet[] = "()[]{}'\"\\ ,.:|%~+-*/=!<>#@$?&^`;\n\r\txyz019_"
				       "\xc3\xa9\xe2\x82\xac\xff\x80";
	static const char *const words[] = {"not ", " in ", " and ", " or ", " if ", " else ",
					    "debug", "flags", "'a'", "%}", "-%}", "\\x4", "0x",
					    "1e5", "is ", "==", "!="};
	static const char *const valid[] = {
		"'a' in flags and not (arch == 'aarch64' or nodebug)",
		"(1 if debug else [2, (3,)]) != none",
		"\"\\u00e9\\x41\" 'b' not in ['\\101', flags]",
	};
	uint32_t seed = 12345;
	char text[200];
	size_t i, j, len;
	int ok = 1, r;
	for (i = 0; i < 30000 && ok; i++) {
		len = 0;
		while (len < sizeof(text) - 16) {
			seed = seed * 1103515245u + 12345u;
			if ((seed >> 16) % 23 == 0)
				break;
			if ((seed >> 8) % 4 == 0) {
				const char *w = words[(seed >> 20) % ARRAY_SIZE(words)];
				memcpy(text + len, w, strlen(w));
				len += strlen(w);
			} else {
				text[len++] = alphabet[(seed >> 12) % (sizeof(alphabet) - 1)];
			}
		}
		text[len] = '\0';
		r = ev(text);
		ok = r >= -1 && (r != -1 || !strncmp(last_error, "Failed to evaluate expression", 29));
		if (!ok)
			printf("  garbage input %zu gave %d\n", i, r);
	}
	CHECK(ok);
	/* every prefix of valid expressions */
	for (i = 0; i < ARRAY_SIZE(valid); i++) {
		for (j = 0; j <= strlen(valid[i]); j++) {
			memcpy(text, valid[i], j);
			text[j] = '\0';
			r = ev(text);
			CHECK(r >= -1);
		}
		CHECK(ev(valid[i]) == 1);
	}
}

static void test_error_struct_reuse(void)
{
	struct error err = ERROR_INIT;
	int truth = 7;
	CHECK(expr_eval("(", lookup_options, NULL, &truth, &err) == -1 && err.msg && truth == 7);
	/* a second failure replaces the message; success leaves err as it was */
	CHECK(expr_eval(")", lookup_options, NULL, &truth, &err) == -1);
	CHECK_STR(err.msg, "Failed to evaluate expression ()): unexpected ')'");
	CHECK(expr_eval("debug", lookup_options, NULL, &truth, &err) == 0 && truth == 1);
	error_release(&err);
	CHECK(err.msg == NULL);
	CHECK(expr_eval("undef", lookup_options, NULL, NULL, NULL) == -1);
}

int main(void)
{
	test_prog = "expr";
	RUN(test_literals);
	RUN(test_eq_ne);
	RUN(test_bool_option);
	RUN(test_enum_option);
	RUN(test_flags_option);
	RUN(test_and_or_not);
	RUN(test_precedence);
	RUN(test_chained_and_ordering);
	RUN(test_quoting);
	RUN(test_tuples_lists_and_trailers);
	RUN(test_undefined);
	RUN(test_inline_if);
	RUN(test_type_errors);
	RUN(test_syntax_errors);
	RUN(test_unsupported);
	RUN(test_block_end_in_text);
	RUN(test_nesting_limit);
	RUN(test_long_input);
	RUN(test_garbage);
	RUN(test_error_struct_reuse);
	free(last_error);
	TEST_MAIN_END();
}
