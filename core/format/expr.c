/* expr — a lexer, parser and evaluator for the Jinja2 expression subset of (?) conditionals,
 * mirroring Jinja 3's token rules and parser and Python's value semantics.
 * SPDX-License-Identifier: Apache-2.0 */
#include "format/expr.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* BuildStream renders "{% if " TEXT " %} True {% else %} False {% endif %}". Jinja's lexer reports
 * offsets in that whole template, and lexes on into the suffix when brackets are left open. */
#define JINJA_PREFIX_CHARS 6
#define JINJA_SUFFIX " %} True {% else %} False {% endif %}"

enum expr_tok_type {
	TOK_EOF, TOK_BLOCK_END, TOK_NAME, TOK_STRING, TOK_INTEGER, TOK_FLOAT,
	TOK_ADD, TOK_SUB, TOK_DIV, TOK_FLOORDIV, TOK_MUL, TOK_MOD, TOK_POW, TOK_TILDE,
	TOK_LBRACKET, TOK_RBRACKET, TOK_LPAREN, TOK_RPAREN, TOK_LBRACE, TOK_RBRACE,
	TOK_EQ, TOK_NE, TOK_GT, TOK_GTEQ, TOK_LT, TOK_LTEQ, TOK_ASSIGN, TOK_DOT,
	TOK_COLON, TOK_PIPE, TOK_COMMA, TOK_SEMICOLON,
};

static const char *const expr_tok_text[] = {
	[TOK_EOF] = "end of template", [TOK_BLOCK_END] = "end of statement block",
	[TOK_NAME] = "name", [TOK_STRING] = "string", [TOK_INTEGER] = "integer", [TOK_FLOAT] = "float",
	[TOK_ADD] = "+", [TOK_SUB] = "-", [TOK_DIV] = "/", [TOK_FLOORDIV] = "//", [TOK_MUL] = "*",
	[TOK_MOD] = "%", [TOK_POW] = "**", [TOK_TILDE] = "~", [TOK_LBRACKET] = "[",
	[TOK_RBRACKET] = "]", [TOK_LPAREN] = "(", [TOK_RPAREN] = ")", [TOK_LBRACE] = "{",
	[TOK_RBRACE] = "}", [TOK_EQ] = "==", [TOK_NE] = "!=", [TOK_GT] = ">", [TOK_GTEQ] = ">=",
	[TOK_LT] = "<", [TOK_LTEQ] = "<=", [TOK_ASSIGN] = "=", [TOK_DOT] = ".", [TOK_COLON] = ":",
	[TOK_PIPE] = "|", [TOK_COMMA] = ",", [TOK_SEMICOLON] = ";",
};

struct expr_tok {
	enum expr_tok_type type;
	size_t off;             /* byte offset in the source (text, then JINJA_SUFFIX) */
	int synthetic;          /* lexed from JINJA_SUFFIX, not from the user's text */
	const char *s;          /* TOK_NAME: the name; TOK_STRING: the decoded value (arena) */
	size_t slen;
	long long i;            /* TOK_INTEGER */
	int too_big;            /* TOK_INTEGER beyond 64 bits */
};

/* Python values. V_UNDEF is Jinja's StrictUndefined (an unknown name); V_LUNDEF is the plain
 * Undefined of an inline if without else, which is falsy and equal only to itself. */
enum expr_val_kind { V_NONE, V_BOOL, V_INT, V_STR, V_LIST, V_TUPLE, V_UNDEF, V_LUNDEF };

struct expr_val {
	enum expr_val_kind kind;
	long long i;                    /* V_BOOL (0/1), V_INT */
	const char *s;                  /* V_STR (may hold NULs), V_UNDEF: the name */
	size_t len;
	const struct expr_val *items;   /* V_LIST, V_TUPLE */
	size_t n;
	size_t line;                    /* V_LUNDEF: line of the inline if */
};

enum expr_cmp { CMP_EQ, CMP_NE, CMP_LT, CMP_LE, CMP_GT, CMP_GE, CMP_IN, CMP_NOTIN };

enum expr_node_kind {
	EN_CONST, EN_NAME, EN_LIST, EN_TUPLE, EN_OR, EN_AND, EN_NOT, EN_NEG, EN_POS,
	EN_COMPARE, EN_COND, EN_UNSUPPORTED,
};

struct expr_node {
	enum expr_node_kind kind;
	struct expr_val v;              /* EN_CONST */
	const char *name;               /* EN_NAME */
	struct expr_node *first;        /* EN_LIST, EN_TUPLE, EN_OR, EN_AND, EN_COMPARE: children */
	struct expr_node *next;         /* the next sibling */
	enum expr_cmp op;               /* EN_COMPARE operand: the operator before it */
	struct expr_node *sub;          /* EN_NOT, EN_NEG, EN_POS operand; EN_COND value if true */
	struct expr_node *test, *alt;   /* EN_COND: condition and else value (may be NULL) */
	size_t line;                    /* EN_COND */
};

struct expr_parser {
	const char *text;           /* the user's expression */
	size_t text_len;
	char *src;                  /* text + JINJA_SUFFIX, what the lexer reads */
	size_t len;
	size_t pos;                 /* next byte to lex */
	int ended;                  /* a block end or the end of the source was produced */
	struct expr_tok end_tok;    /* ... and this is what every later lex returns */
	struct buf balance;         /* closing brackets the lexer waits for */
	struct expr_tok cur;
	struct expr_tok pushed;
	int has_pushed;
	int depth;
	char *unsupported;          /* first unsupported construct; reported if the parse succeeds */
	struct arena *arena;
	expr_lookup_fn lookup;
	void *ctx;
	struct error *err;
};

/* ---- messages ---- */

static int fail(struct expr_parser *p, const char *fmt, ...) PRINTF_LIKE(2, 3);
static int fail(struct expr_parser *p, const char *fmt, ...)
{
	struct buf msg = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&msg, fmt, ap);
	va_end(ap);
	error_set(p->err, "Failed to evaluate expression (%s): %s", p->text, buf_str(&msg));
	buf_release(&msg);
	return -1;
}

/* Characters (code points, a CR LF pair counting once as Jinja normalizes newlines) before off. */
static size_t char_index(const char *text, size_t off)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i, n = 0;
	for (i = 0; i < off; i++) {
		if ((s[i] & 0xc0) == 0x80)
			continue;
		if (s[i] == '\r' && i + 1 < off && s[i + 1] == '\n')
			continue;
		n++;
	}
	return n;
}

static size_t column_at(const struct expr_parser *p, size_t off)
{
	return char_index(p->src, off) + 1;
}

static size_t line_at(const struct expr_parser *p, size_t off)
{
	size_t i, line = 1;
	for (i = 0; i < off && i < p->len; i++) {
		if (p->src[i] == '\n')
			line++;
		else if (p->src[i] == '\r' && !(i + 1 < p->len && p->src[i + 1] == '\n'))
			line++;
	}
	return line;
}

/* Remember the first construct rill does not implement; syntax errors found later still win. */
static void note_unsupported(struct expr_parser *p, size_t off, const char *what)
{
	if (!p->unsupported)
		p->unsupported = xasprintf("%s is not supported (at column %zu)", what, column_at(p, off));
}

static const char *describe(const struct expr_tok *t)
{
	if (t->type == TOK_NAME)
		return t->s;
	return expr_tok_text[t->type];
}

/* ---- UTF-8 ---- */

static size_t utf8_decode(const unsigned char *s, size_t avail, uint32_t *cp)
{
	size_t n, k;
	uint32_t c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		c &= 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		c &= 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		c &= 0x07;
	} else {
		*cp = 0xfffd;
		return 1;
	}
	if (n > avail) {
		*cp = 0xfffd;
		return 1;
	}
	for (k = 1; k < n; k++) {
		if ((s[k] & 0xc0) != 0x80) {
			*cp = 0xfffd;
			return 1;
		}
		c = (c << 6) | (s[k] & 0x3f);
	}
	*cp = c;
	return n;
}

static void utf8_put(struct buf *b, uint32_t cp)
{
	char o[4];
	if (cp < 0x80) {
		o[0] = (char)cp;
		buf_add(b, o, 1);
	} else if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, o, 2);
	} else if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, o, 3);
	} else {
		o[0] = (char)(0xf0 | (cp >> 18));
		o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[3] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, o, 4);
	}
}

/* Python's str.isspace(), which is what Jinja's \s matches; *n gets the bytes it spans. */
static int is_space_at(const unsigned char *s, size_t avail, size_t *n)
{
	uint32_t cp;
	*n = utf8_decode(s, avail, &cp);
	if (cp < 0x80)
		return cp == ' ' || (cp >= '\t' && cp <= '\r') || (cp >= 0x1c && cp <= 0x1f);
	return cp == 0x85 || cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) ||
	       cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int is_name_char(unsigned char c)
{
	return c == '_' || is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int hex_value(unsigned char c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* ---- lexer ---- */

/* Decode a string literal body like Jinja: newlines normalized, then Python's unicode-escape
 * applied to the text with non-ASCII characters backslash-replaced. */
static int decode_string(struct expr_parser *p, const char *raw, size_t n, struct buf *out)
{
	const unsigned char *s = (const unsigned char *)raw;
	size_t i = 0, k, want;
	uint32_t cp;
	int h;
	while (i < n) {
		if (s[i] == '\r') {
			buf_addch(out, '\n');
			i += (i + 1 < n && s[i + 1] == '\n') ? 2 : 1;
			continue;
		}
		if (s[i] != '\\') {
			buf_addch(out, (char)s[i++]);
			continue;
		}
		i++;                    /* the lexer guarantees a character after each backslash */
		switch (s[i]) {
		case '\n': i++; break;
		case '\r': i += (i + 1 < n && s[i + 1] == '\n') ? 2 : 1; break;
		case '\\': buf_addch(out, '\\'); i++; break;
		case '\'': buf_addch(out, '\''); i++; break;
		case '"': buf_addch(out, '"'); i++; break;
		case 'a': buf_addch(out, '\a'); i++; break;
		case 'b': buf_addch(out, '\b'); i++; break;
		case 'f': buf_addch(out, '\f'); i++; break;
		case 'n': buf_addch(out, '\n'); i++; break;
		case 'r': buf_addch(out, '\r'); i++; break;
		case 't': buf_addch(out, '\t'); i++; break;
		case 'v': buf_addch(out, '\v'); i++; break;
		case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7':
			cp = 0;
			for (k = 0; k < 3 && i < n && s[i] >= '0' && s[i] <= '7'; k++, i++)
				cp = cp * 8 + (uint32_t)(s[i] - '0');
			utf8_put(out, cp);
			break;
		case 'x': case 'u': case 'U':
			want = s[i] == 'x' ? 2 : s[i] == 'u' ? 4 : 8;
			i++;
			cp = 0;
			for (k = 0; k < want; k++) {
				h = i + k < n ? hex_value(s[i + k]) : -1;
				if (h < 0)
					return fail(p, "%s", want == 2 ? "truncated \\xXX escape" :
						    want == 4 ? "truncated \\uXXXX escape" :
								"truncated \\UXXXXXXXX escape");
				cp = cp * 16 + (uint32_t)h;
			}
			if (cp > 0x10ffff)
				return fail(p, "illegal Unicode character");
			utf8_put(out, cp);
			i += want;
			break;
		case 'N':
			if (i + 1 < n && s[i + 1] == '{') {
				int plausible = 1;   /* Unicode names use only [A-Za-z0-9 -] */
				for (k = i + 2; k < n && s[k] != '}'; k++)
					plausible &= (is_name_char(s[k]) && s[k] != '_') ||
						     s[k] == ' ' || s[k] == '-';
				if (k < n && k > i + 2 && !plausible)
					return fail(p, "unknown Unicode character name");
				if (k < n && k > i + 2)
					return fail(p, "\\N{...} escapes are not supported (at column %zu)",
						    column_at(p, (size_t)(raw - p->src) + i - 1));
			}
			return fail(p, "malformed \\N character escape");
		default:
			if (s[i] < 0x80) {      /* unknown escape: Python keeps it */
				buf_addch(out, '\\');
				buf_addch(out, (char)s[i++]);
				break;
			}
			/* A backslash before a non-ASCII character pairs with the backslash of its
			 * backslashreplace form: "\é" becomes the four characters \xe9. */
			i += utf8_decode(s + i, n - i, &cp);
			buf_addf(out, cp < 0x100 ? "\\x%02x" : cp < 0x10000 ? "\\u%04x" : "\\U%08x",
				 (unsigned)cp);
			break;
		}
	}
	return 0;
}

/* Common non-ASCII characters that are neither \w nor \s for Python, so Jinja's lexer rejects them
 * ("unexpected char"); other non-ASCII characters are taken as identifier characters. */
static int is_symbol_cp(uint32_t cp)
{
	static const uint32_t ranges[][2] = {
		{0x80, 0x84}, {0x86, 0x9f}, {0xa1, 0xa9}, {0xab, 0xb1}, {0xb4, 0xb4}, {0xb6, 0xb6},
		{0xb8, 0xb8}, {0xbb, 0xbb}, {0xbf, 0xbf}, {0xd7, 0xd7}, {0xf7, 0xf7}, {0x200b, 0x2027},
		{0x2030, 0x205e}, {0x2060, 0x2064}, {0x2066, 0x206f}, {0x20a0, 0x20c0},
		{0x2190, 0x23ff}, {0x2500, 0x2775}, {0x2794, 0x27ff}, {0x2900, 0x2b73},
		{0x3001, 0x3003}, {0x1f300, 0x1f64f},
	};
	size_t i;
	for (i = 0; i < ARRAY_SIZE(ranges); i++)
		if (cp >= ranges[i][0] && cp <= ranges[i][1])
			return 1;
	return 0;
}

/* Whether the (non-ASCII) character at s can be part of a Jinja name; *n gets its length. */
static int is_name_cp_at(const unsigned char *s, size_t avail, size_t *n)
{
	uint32_t cp;
	if (is_space_at(s, avail, n))
		return 0;
	*n = utf8_decode(s, avail, &cp);
	return !is_symbol_cp(cp);
}

/* Jinja's name pattern takes these, but Python identifiers may not contain them (superscript
 * digits, vulgar fractions) or not start with them (middle dot, combining marks). */
static int bad_in_identifier(uint32_t cp, int first)
{
	if (cp == 0xb2 || cp == 0xb3 || cp == 0xb9 || (cp >= 0xbc && cp <= 0xbe))
		return 1;
	return first && (cp == 0xb7 || (cp >= 0x300 && cp <= 0x36f));
}

/* Python's repr() of the character at s, for "unexpected char" messages. */
static void repr_char(const unsigned char *s, size_t avail, char out[16])
{
	uint32_t cp;
	size_t n = utf8_decode(s, avail, &cp);
	if (cp == '\'')
		strcpy(out, "\"'\"");
	else if (cp == '\\')
		strcpy(out, "'\\\\'");
	else if (cp == '\t')
		strcpy(out, "'\\t'");
	else if (cp == '\n')
		strcpy(out, "'\\n'");
	else if (cp == '\r')
		strcpy(out, "'\\r'");
	else if (cp < 0x20 || (cp >= 0x7f && cp <= 0xa0) || cp == 0xad)
		snprintf(out, 16, "'\\x%02x'", (unsigned)cp);
	else if ((cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2060 && cp <= 0x206f))
		snprintf(out, 16, "'\\u%04x'", (unsigned)cp);
	else {
		out[0] = '\'';
		memcpy(out + 1, s, n);
		out[n + 1] = '\'';
		out[n + 2] = '\0';
	}
}

/* Match (\d+_)*\d+ at i; returns the end, or i when there is no digit. */
static size_t scan_digit_groups(const unsigned char *s, size_t n, size_t i)
{
	size_t j = i;
	if (j >= n || !is_digit(s[j]))
		return i;
	while (j < n && is_digit(s[j]))
		j++;
	while (j + 1 < n && s[j] == '_' && is_digit(s[j + 1])) {
		j++;
		while (j < n && is_digit(s[j]))
			j++;
	}
	return j;
}

/* Length of a Jinja float literal at i (its regex, tried before integers), or 0. */
static size_t scan_float(const unsigned char *s, size_t n, size_t i)
{
	size_t e, f, g, h;
	if (i > 0 && s[i - 1] == '.')
		return 0;
	e = scan_digit_groups(s, n, i);
	if (e == i)
		return 0;
	f = e;
	if (e + 1 < n && s[e] == '.' && is_digit(s[e + 1]))
		f = scan_digit_groups(s, n, e + 1);
	if (f < n && (s[f] == 'e' || s[f] == 'E')) {
		g = f + 1;
		if (g < n && (s[g] == '+' || s[g] == '-'))
			g++;
		h = scan_digit_groups(s, n, g);
		if (h > g)
			return h - i;
	}
	return f > e ? f - i : 0;
}

static int digit_in_base(unsigned char c, int base)
{
	int v = hex_value(c);
	return v >= 0 && v < base;
}

/* Jinja's integer regex at i: 0b.., 0o.., 0x.., [1-9](_?\d)*, 0(_?0)*. Fills t; returns length. */
static size_t scan_integer(const unsigned char *s, size_t n, size_t i, struct expr_tok *t)
{
	size_t j = i, start;
	int base = 10, k;
	unsigned long long v = 0;
	if (s[i] == '0' && i + 1 < n) {
		unsigned char x = s[i + 1] | 0x20;
		base = x == 'b' ? 2 : x == 'o' ? 8 : x == 'x' ? 16 : 10;
		if (base != 10) {
			j = i + 2;
			for (;;) {
				if (j < n && digit_in_base(s[j], base))
					j++;
				else if (j + 1 < n && s[j] == '_' && digit_in_base(s[j + 1], base))
					j += 2;
				else
					break;
			}
			if (j == i + 2) {
				base = 10;
				j = i;
			}
		}
	}
	if (base == 10) {
		int want_zero = s[i] == '0';
		j = i + 1;
		for (;;) {
			if (j < n && is_digit(s[j]) && (!want_zero || s[j] == '0'))
				j++;
			else if (j + 1 < n && s[j] == '_' && is_digit(s[j + 1]) &&
				 (!want_zero || s[j + 1] == '0'))
				j += 2;
			else
				break;
		}
		start = i;
	} else {
		start = i + 2;
	}
	t->too_big = 0;
	for (size_t q = start; q < j; q++) {
		if (s[q] == '_')
			continue;
		k = hex_value(s[q]);
		if (v > (unsigned long long)(INT64_MAX - k) / (unsigned long long)base) {
			t->too_big = 1;
			v = 0;
			break;
		}
		v = v * (unsigned long long)base + (unsigned long long)k;
	}
	t->i = (long long)v;
	return j - i;
}

/* Produce the next token into t. Past the user's text the lexer goes on into JINJA_SUFFIX exactly
 * as Jinja does: a block end when brackets are balanced, otherwise its '%', '}' and so on. */
static int lex_next(struct expr_parser *p, struct expr_tok *t)
{
	const unsigned char *s = (const unsigned char *)p->src;
	size_t n = p->len, i = p->pos, k;
	char rc[16];
	uint32_t cp;
	if (p->ended) {
		*t = p->end_tok;
		return 0;
	}
	memset(t, 0, sizeof(*t));
	for (;;) {
		if (p->balance.len == 0) {
			k = 0;
			if (i + 1 < n && s[i] == '%' && s[i + 1] == '}')
				k = 2;
			else if (i + 2 < n && (s[i] == '-' || s[i] == '+') && s[i + 1] == '%' &&
				 s[i + 2] == '}')
				k = 3;
			if (k) {
				t->type = TOK_BLOCK_END;
				t->off = i;
				t->synthetic = i >= p->text_len;
				p->pos = i + k;
				p->ended = 1;
				p->end_tok = *t;
				return 0;
			}
		}
		if (i < n && is_space_at(s + i, n - i, &k)) {
			i += k;
			continue;
		}
		break;
	}
	t->off = i;
	t->synthetic = i >= p->text_len;
	if (i >= n) {
		t->type = TOK_EOF;
		p->pos = n;
		p->ended = 1;
		p->end_tok = *t;
		return 0;
	}

	if (is_digit(s[i])) {
		k = scan_float(s, n, i);
		if (k) {
			t->type = TOK_FLOAT;
		} else {
			t->type = TOK_INTEGER;
			k = scan_integer(s, n, i, t);
		}
		p->pos = i + k;
		return 0;
	}
	if (is_name_char(s[i]) || (s[i] >= 0x80 && is_name_cp_at(s + i, n - i, &k))) {
		size_t j = i;
		int bad = 0;
		while (j < n) {
			if (is_name_char(s[j])) {
				j++;
			} else if (s[j] >= 0x80 && is_name_cp_at(s + j, n - j, &k)) {
				utf8_decode(s + j, n - j, &cp);
				bad |= bad_in_identifier(cp, j == i);
				j += k;
			} else {
				break;
			}
		}
		if (bad)
			return fail(p, "Invalid character in identifier");
		t->type = TOK_NAME;
		t->s = arena_strndup(p->arena, p->src + i, j - i);
		t->slen = j - i;
		p->pos = j;
		return 0;
	}
	if (s[i] == '\'' || s[i] == '"') {
		size_t j = i + 1;
		struct buf val = BUF_INIT;
		while (j < n && s[j] != s[i])
			j += (s[j] == '\\' && j + 1 < n) ? 2 : 1;
		if (j >= n) {
			repr_char(s + i, n - i, rc);
			return fail(p, "unexpected char %s at %zu", rc,
				     JINJA_PREFIX_CHARS + char_index(p->src, i));
		}
		if (decode_string(p, p->src + i + 1, j - i - 1, &val) < 0) {
			buf_release(&val);
			return -1;
		}
		t->type = TOK_STRING;
		t->slen = val.len;
		t->s = arena_strndup(p->arena, buf_str(&val), val.len);
		buf_release(&val);
		p->pos = j + 1;
		return 0;
	}

	/* operators, longest first */
	static const struct {
		const char *text;
		enum expr_tok_type type;
	} ops[] = {
		{"//", TOK_FLOORDIV}, {"**", TOK_POW}, {"==", TOK_EQ}, {"!=", TOK_NE},
		{">=", TOK_GTEQ}, {"<=", TOK_LTEQ}, {"+", TOK_ADD}, {"-", TOK_SUB}, {"/", TOK_DIV},
		{"*", TOK_MUL}, {"%", TOK_MOD}, {"~", TOK_TILDE}, {"[", TOK_LBRACKET},
		{"]", TOK_RBRACKET}, {"(", TOK_LPAREN}, {")", TOK_RPAREN}, {"{", TOK_LBRACE},
		{"}", TOK_RBRACE}, {">", TOK_GT}, {"<", TOK_LT}, {"=", TOK_ASSIGN}, {".", TOK_DOT},
		{":", TOK_COLON}, {"|", TOK_PIPE}, {",", TOK_COMMA}, {";", TOK_SEMICOLON},
	};
	for (k = 0; k < ARRAY_SIZE(ops); k++) {
		size_t l = strlen(ops[k].text);
		if (i + l > n || memcmp(s + i, ops[k].text, l) != 0)
			continue;
		t->type = ops[k].type;
		p->pos = i + l;
		if (t->type == TOK_LPAREN)
			buf_addch(&p->balance, ')');
		else if (t->type == TOK_LBRACKET)
			buf_addch(&p->balance, ']');
		else if (t->type == TOK_LBRACE)
			buf_addch(&p->balance, '}');
		else if (t->type == TOK_RPAREN || t->type == TOK_RBRACKET || t->type == TOK_RBRACE) {
			if (p->balance.len == 0)
				return fail(p, "unexpected '%c'", s[i]);
			if (p->balance.data[p->balance.len - 1] != (char)s[i])
				return fail(p, "unexpected '%c', expected '%c'", s[i],
					    p->balance.data[p->balance.len - 1]);
			p->balance.len--;
			p->balance.data[p->balance.len] = '\0';
		}
		return 0;
	}
	repr_char(s + i, n - i, rc);
	return fail(p, "unexpected char %s at %zu", rc, JINJA_PREFIX_CHARS + char_index(p->src, i));
}

/* ---- parser (Jinja's grammar, building a tree evaluated afterwards) ---- */

static int advance(struct expr_parser *p)
{
	if (p->has_pushed) {
		p->cur = p->pushed;
		p->has_pushed = 0;
		return 0;
	}
	return lex_next(p, &p->cur);
}

static int peek(struct expr_parser *p, const struct expr_tok **out)
{
	if (!p->has_pushed) {
		if (lex_next(p, &p->pushed) < 0)
			return -1;
		p->has_pushed = 1;
	}
	*out = &p->pushed;
	return 0;
}

static int tok_is_name(const struct expr_tok *t, const char *name)
{
	return t->type == TOK_NAME && strcmp(t->s, name) == 0;
}

static int expect(struct expr_parser *p, enum expr_tok_type type)
{
	if (p->cur.type != type && p->cur.type == TOK_EOF)
		return fail(p, "unexpected end of template, expected '%s'.", expr_tok_text[type]);
	if (p->cur.type != type)
		return fail(p, "expected token '%s', got '%s'", expr_tok_text[type], describe(&p->cur));
	return advance(p);
}

static int enter(struct expr_parser *p, size_t off)
{
	if (++p->depth > EXPR_MAX_DEPTH)
		return fail(p, "expression nested too deeply (more than %d levels) at column %zu",
			    EXPR_MAX_DEPTH, column_at(p, off));
	return 0;
}

static struct expr_node *new_node(struct expr_parser *p, enum expr_node_kind kind)
{
	struct expr_node *n = arena_alloc(p->arena, sizeof(*n));
	n->kind = kind;
	return n;
}

static struct expr_node *new_const(struct expr_parser *p, enum expr_val_kind kind, long long i)
{
	struct expr_node *n = new_node(p, EN_CONST);
	n->v.kind = kind;
	n->v.i = i;
	return n;
}

/* A node whose first child is first; returns it so callers can append to *tail. */
static struct expr_node *new_group(struct expr_parser *p, enum expr_node_kind kind,
				   struct expr_node *first, struct expr_node **tail)
{
	struct expr_node *n = new_node(p, kind);
	n->first = first;
	*tail = first;
	return n;
}

static void append(struct expr_node **tail, struct expr_node *kid)
{
	if (*tail)
		(*tail)->next = kid;
	*tail = kid;
}

static struct expr_node *parse_expression(struct expr_parser *p, int with_cond);
static struct expr_node *parse_tuple(struct expr_parser *p, int explicit_parens, int with_cond);

static struct expr_node *parse_list(struct expr_parser *p)
{
	struct expr_node *list = new_node(p, EN_LIST), *tail = NULL, *item;
	if (advance(p) < 0)
		return NULL;
	while (p->cur.type != TOK_RBRACKET) {
		if (list->first && expect(p, TOK_COMMA) < 0)
			return NULL;
		if (p->cur.type == TOK_RBRACKET)
			break;
		if (!(item = parse_expression(p, 1)))
			return NULL;
		if (!list->first)
			list->first = item;
		append(&tail, item);
	}
	if (expect(p, TOK_RBRACKET) < 0)
		return NULL;
	return list;
}

static struct expr_node *new_unsupported(struct expr_parser *p, size_t off, const char *what)
{
	note_unsupported(p, off, what);
	return new_node(p, EN_UNSUPPORTED);
}

/* The Jinja constructs below are parsed (so that syntax errors are reported as Jinja reports them)
 * but not implemented: they become EN_UNSUPPORTED and the parse fails once complete. */

static int parse_dict(struct expr_parser *p)
{
	int items = 0;
	if (advance(p) < 0)
		return -1;
	while (p->cur.type != TOK_RBRACE) {
		if (items && expect(p, TOK_COMMA) < 0)
			return -1;
		if (p->cur.type == TOK_RBRACE)
			break;
		if (!parse_expression(p, 1) || expect(p, TOK_COLON) < 0 || !parse_expression(p, 1))
			return -1;
		items++;
	}
	return expect(p, TOK_RBRACE);
}

static int parse_call_args(struct expr_parser *p)
{
	int require_comma = 0, dyn_args = 0, dyn_kwargs = 0, kwargs = 0;
	const struct expr_tok *next;
	if (expect(p, TOK_LPAREN) < 0)
		return -1;
	while (p->cur.type != TOK_RPAREN) {
		if (require_comma) {
			if (expect(p, TOK_COMMA) < 0)
				return -1;
			if (p->cur.type == TOK_RPAREN)
				break;
		}
		if (p->cur.type == TOK_MUL || p->cur.type == TOK_POW) {
			int star = p->cur.type == TOK_MUL;
			if (dyn_kwargs || (star && dyn_args))
				return fail(p, "invalid syntax for function call expression");
			if (star)
				dyn_args = 1;
			else
				dyn_kwargs = 1;
			if (advance(p) < 0)
				return -1;
		} else {
			int keyword = 0;
			if (p->cur.type == TOK_NAME) {
				if (peek(p, &next) < 0)
					return -1;
				keyword = next->type == TOK_ASSIGN;
			}
			if (keyword) {
				if (dyn_kwargs)
					return fail(p, "invalid syntax for function call expression");
				kwargs = 1;
				if (advance(p) < 0 || advance(p) < 0)
					return -1;
			} else if (dyn_args || dyn_kwargs || kwargs) {
				return fail(p, "invalid syntax for function call expression");
			}
		}
		if (!parse_expression(p, 1))
			return -1;
		require_comma = 1;
	}
	return expect(p, TOK_RPAREN);
}

/* One item of a subscript: an expression or a slice a:b:c with any part missing. */
static int parse_subscribed(struct expr_parser *p)
{
	if (p->cur.type == TOK_COLON) {
		if (advance(p) < 0)
			return -1;
	} else {
		if (!parse_expression(p, 1))
			return -1;
		if (p->cur.type != TOK_COLON)
			return 0;
		if (advance(p) < 0)
			return -1;
	}
	if (p->cur.type != TOK_COLON && p->cur.type != TOK_RBRACKET && p->cur.type != TOK_COMMA &&
	    !parse_expression(p, 1))
		return -1;
	if (p->cur.type == TOK_COLON) {
		if (advance(p) < 0)
			return -1;
		if (p->cur.type != TOK_RBRACKET && p->cur.type != TOK_COMMA && !parse_expression(p, 1))
			return -1;
	}
	return 0;
}

static int parse_subscript(struct expr_parser *p)
{
	int args = 0;
	if (p->cur.type == TOK_DOT) {
		struct expr_tok attr;
		if (advance(p) < 0)
			return -1;
		attr = p->cur;
		if (advance(p) < 0)
			return -1;
		if (attr.type != TOK_NAME && attr.type != TOK_INTEGER)
			return fail(p, "expected name or number");
		return 0;
	}
	if (advance(p) < 0)             /* '[' */
		return -1;
	while (p->cur.type != TOK_RBRACKET) {
		if (args && expect(p, TOK_COMMA) < 0)
			return -1;
		if (parse_subscribed(p) < 0)
			return -1;
		args++;
	}
	return expect(p, TOK_RBRACKET);
}

/* Attribute access, subscripts and calls after a primary. */
static struct expr_node *parse_postfix(struct expr_parser *p, struct expr_node *n)
{
	size_t off;
	while (n) {
		off = p->cur.off;
		if (p->cur.type == TOK_DOT || p->cur.type == TOK_LBRACKET) {
			n = new_unsupported(p, off, p->cur.type == TOK_DOT ? "attribute access ('.')" :
									  "subscripting ('[')");
			if (enter(p, off) < 0 || parse_subscript(p) < 0)
				return NULL;
		} else if (p->cur.type == TOK_LPAREN) {
			n = new_unsupported(p, off, "calling ('(')");
			if (enter(p, off) < 0 || parse_call_args(p) < 0)
				return NULL;
		} else {
			return n;
		}
		p->depth--;
	}
	return NULL;
}

static struct expr_node *parse_primary(struct expr_parser *p);

/* Filters `|name(args)` and tests `is [not] name [arg]`. */
static struct expr_node *parse_filter_expr(struct expr_parser *p, struct expr_node *n)
{
	size_t off;
	while (n) {
		off = p->cur.off;
		if (p->cur.type != TOK_PIPE && p->cur.type != TOK_LPAREN && !tok_is_name(&p->cur, "is"))
			return n;
		if (enter(p, off) < 0)
			return NULL;
		if (p->cur.type == TOK_PIPE) {
			n = new_unsupported(p, off, "a filter ('|')");
			while (p->cur.type == TOK_PIPE) {
				if (advance(p) < 0 || expect(p, TOK_NAME) < 0)
					return NULL;
				while (p->cur.type == TOK_DOT)
					if (advance(p) < 0 || expect(p, TOK_NAME) < 0)
						return NULL;
				if (p->cur.type == TOK_LPAREN && parse_call_args(p) < 0)
					return NULL;
			}
		} else if (tok_is_name(&p->cur, "is")) {
			n = new_unsupported(p, off, "a test ('is')");
			if (advance(p) < 0)
				return NULL;
			if (tok_is_name(&p->cur, "not") && advance(p) < 0)
				return NULL;
			if (expect(p, TOK_NAME) < 0)
				return NULL;
			while (p->cur.type == TOK_DOT)
				if (advance(p) < 0 || expect(p, TOK_NAME) < 0)
					return NULL;
			switch (p->cur.type) {
			case TOK_LPAREN:
				if (parse_call_args(p) < 0)
					return NULL;
				break;
			case TOK_NAME: case TOK_STRING: case TOK_INTEGER: case TOK_FLOAT:
			case TOK_LBRACKET: case TOK_LBRACE:
				if (tok_is_name(&p->cur, "else") || tok_is_name(&p->cur, "or") ||
				    tok_is_name(&p->cur, "and"))
					break;
				if (tok_is_name(&p->cur, "is")) {
					fail(p, "You cannot chain multiple tests with is");
					return NULL;
				}
				if (!parse_postfix(p, parse_primary(p)))
					return NULL;
				break;
			default:
				break;
			}
		} else {
			n = new_unsupported(p, off, "calling ('(')");
			if (parse_call_args(p) < 0)
				return NULL;
		}
		p->depth--;
	}
	return NULL;
}

static struct expr_node *parse_primary(struct expr_parser *p)
{
	struct expr_tok *t = &p->cur;
	struct expr_node *n;
	size_t off = t->off;
	switch (t->type) {
	case TOK_NAME:
		if (!strcmp(t->s, "true") || !strcmp(t->s, "True"))
			n = new_const(p, V_BOOL, 1);
		else if (!strcmp(t->s, "false") || !strcmp(t->s, "False"))
			n = new_const(p, V_BOOL, 0);
		else if (!strcmp(t->s, "none") || !strcmp(t->s, "None"))
			n = new_const(p, V_NONE, 0);
		else {
			n = new_node(p, EN_NAME);
			n->name = t->s;
		}
		return advance(p) < 0 ? NULL : n;
	case TOK_STRING: {
		struct buf all = BUF_INIT;
		while (p->cur.type == TOK_STRING) {
			buf_add(&all, p->cur.s, p->cur.slen);
			if (advance(p) < 0) {
				buf_release(&all);
				return NULL;
			}
		}
		n = new_const(p, V_STR, 0);
		n->v.len = all.len;
		n->v.s = arena_strndup(p->arena, buf_str(&all), all.len);
		buf_release(&all);
		return n;
	}
	case TOK_INTEGER:
		if (t->too_big)
			n = new_unsupported(p, off, "an integer literal beyond 64 bits");
		else
			n = new_const(p, V_INT, t->i);
		return advance(p) < 0 ? NULL : n;
	case TOK_FLOAT:
		n = new_unsupported(p, off, "a float literal");
		return advance(p) < 0 ? NULL : n;
	case TOK_LPAREN:
		if (advance(p) < 0 || enter(p, off) < 0)
			return NULL;
		if (!(n = parse_tuple(p, 1, 1)) || expect(p, TOK_RPAREN) < 0)
			return NULL;
		p->depth--;
		return n;
	case TOK_LBRACKET:
		if (enter(p, off) < 0 || !(n = parse_list(p)))
			return NULL;
		p->depth--;
		return n;
	case TOK_LBRACE:
		n = new_unsupported(p, off, "a dict literal ('{')");
		if (enter(p, off) < 0 || parse_dict(p) < 0)
			return NULL;
		p->depth--;
		return n;
	default:
		fail(p, "unexpected '%s'", describe(t));
		return NULL;
	}
}

static struct expr_node *parse_unary(struct expr_parser *p, int with_filter)
{
	struct expr_node *n;
	size_t off = p->cur.off;
	if (p->cur.type == TOK_SUB || p->cur.type == TOK_ADD) {
		n = new_node(p, p->cur.type == TOK_SUB ? EN_NEG : EN_POS);
		if (advance(p) < 0 || enter(p, off) < 0 || !(n->sub = parse_unary(p, 0)))
			return NULL;
		p->depth--;
	} else if (!(n = parse_primary(p))) {
		return NULL;
	}
	n = parse_postfix(p, n);
	return with_filter ? parse_filter_expr(p, n) : n;
}

/* Jinja's math1/concat/math2/pow levels: their operators parse but are not implemented. */
static struct expr_node *parse_arith(struct expr_parser *p)
{
	struct expr_node *n = parse_unary(p, 1);
	char what[32];
	while (n) {
		switch (p->cur.type) {
		case TOK_ADD: case TOK_SUB: case TOK_TILDE: case TOK_MUL: case TOK_DIV:
		case TOK_FLOORDIV: case TOK_MOD: case TOK_POW:
			break;
		default:
			return n;
		}
		snprintf(what, sizeof(what), "the '%s' operator", expr_tok_text[p->cur.type]);
		n = new_unsupported(p, p->cur.off, what);
		if (advance(p) < 0 || !parse_unary(p, 1))
			return NULL;
	}
	return NULL;
}

static struct expr_node *parse_compare(struct expr_parser *p)
{
	struct expr_node *left = parse_arith(p), *node = NULL, *tail = NULL, *right;
	const struct expr_tok *next;
	enum expr_cmp op;
	if (!left)
		return NULL;
	for (;;) {
		switch (p->cur.type) {
		case TOK_EQ: op = CMP_EQ; break;
		case TOK_NE: op = CMP_NE; break;
		case TOK_LT: op = CMP_LT; break;
		case TOK_LTEQ: op = CMP_LE; break;
		case TOK_GT: op = CMP_GT; break;
		case TOK_GTEQ: op = CMP_GE; break;
		default:
			if (tok_is_name(&p->cur, "in")) {
				op = CMP_IN;
			} else if (tok_is_name(&p->cur, "not")) {
				if (peek(p, &next) < 0)
					return NULL;
				if (!tok_is_name(next, "in"))
					return node ? node : left;
				if (advance(p) < 0)
					return NULL;
				op = CMP_NOTIN;
			} else {
				return node ? node : left;
			}
			break;
		}
		if (advance(p) < 0 || !(right = parse_arith(p)))
			return NULL;
		right->op = op;
		if (!node)
			node = new_group(p, EN_COMPARE, left, &tail);
		append(&tail, right);
	}
}

static struct expr_node *parse_not(struct expr_parser *p)
{
	struct expr_node *n;
	size_t off = p->cur.off;
	if (!tok_is_name(&p->cur, "not"))
		return parse_compare(p);
	n = new_node(p, EN_NOT);
	if (advance(p) < 0 || enter(p, off) < 0 || !(n->sub = parse_not(p)))
		return NULL;
	p->depth--;
	return n;
}

static struct expr_node *parse_and(struct expr_parser *p)
{
	struct expr_node *left = parse_not(p), *node = NULL, *tail = NULL, *right;
	if (!left)
		return NULL;
	while (tok_is_name(&p->cur, "and")) {
		if (advance(p) < 0 || !(right = parse_not(p)))
			return NULL;
		if (!node)
			node = new_group(p, EN_AND, left, &tail);
		append(&tail, right);
	}
	return node ? node : left;
}

static struct expr_node *parse_or(struct expr_parser *p)
{
	struct expr_node *left = parse_and(p), *node = NULL, *tail = NULL, *right;
	if (!left)
		return NULL;
	while (tok_is_name(&p->cur, "or")) {
		if (advance(p) < 0 || !(right = parse_and(p)))
			return NULL;
		if (!node)
			node = new_group(p, EN_OR, left, &tail);
		append(&tail, right);
	}
	return node ? node : left;
}

static struct expr_node *parse_condexpr(struct expr_parser *p)
{
	size_t line_off = p->cur.off;
	int depth = p->depth;
	struct expr_node *body = parse_or(p), *n;
	while (body && tok_is_name(&p->cur, "if")) {
		/* each link of a chain nests the tree one level deeper */
		if (enter(p, p->cur.off) < 0 || advance(p) < 0)
			return NULL;
		n = new_node(p, EN_COND);
		n->sub = body;
		n->line = line_at(p, line_off);
		if (!(n->test = parse_or(p)))
			return NULL;
		if (tok_is_name(&p->cur, "else")) {
			if (advance(p) < 0 || !(n->alt = parse_condexpr(p)))
				return NULL;
		}
		body = n;
		line_off = p->cur.off;
	}
	p->depth = depth;
	return body;
}

static struct expr_node *parse_expression(struct expr_parser *p, int with_cond)
{
	return with_cond ? parse_condexpr(p) : parse_or(p);
}

static struct expr_node *parse_tuple(struct expr_parser *p, int explicit_parens, int with_cond)
{
	struct expr_node *first = NULL, *tail = NULL, *item, *tuple;
	int is_tuple = 0;
	for (;;) {
		if (first && expect(p, TOK_COMMA) < 0)
			return NULL;
		if (p->cur.type == TOK_BLOCK_END || p->cur.type == TOK_RPAREN)
			break;
		if (!(item = parse_expression(p, with_cond)))
			return NULL;
		if (!first)
			first = item;
		append(&tail, item);
		if (p->cur.type == TOK_COMMA)
			is_tuple = 1;
		else
			break;
	}
	if (!is_tuple) {
		if (first)
			return first;
		if (!explicit_parens) {
			fail(p, "Expected an expression, got '%s'", describe(&p->cur));
			return NULL;
		}
	}
	tuple = new_node(p, EN_TUPLE);
	tuple->first = first;
	return tuple;
}

/* ---- evaluation (Python semantics) ---- */

static const char *type_name(const struct expr_val *v)
{
	switch (v->kind) {
	case V_NONE: return "NoneType";
	case V_BOOL: return "bool";
	case V_INT: return "int";
	case V_STR: return "str";
	case V_LIST: return "list";
	case V_TUPLE: return "tuple";
	case V_UNDEF: return "StrictUndefined";
	case V_LUNDEF: return "Undefined";
	}
	return "object";
}

static int is_undefined(const struct expr_val *v)
{
	return v->kind == V_UNDEF || v->kind == V_LUNDEF;
}

static int is_number(const struct expr_val *v)
{
	return v->kind == V_BOOL || v->kind == V_INT;
}

/* The error Jinja raises when an undefined value is used. */
static int undefined_fail(struct expr_parser *p, const struct expr_val *v)
{
	if (v->kind == V_LUNDEF)
		return fail(p, "the inline if-expression on line %zu evaluated to false and no else "
			       "section was defined.", v->line);
	return fail(p, "'%s' is undefined", v->s);
}

static int truth(struct expr_parser *p, const struct expr_val *v, int *out)
{
	switch (v->kind) {
	case V_NONE: case V_LUNDEF: *out = 0; break;
	case V_BOOL: case V_INT: *out = v->i != 0; break;
	case V_STR: *out = v->len != 0; break;
	case V_LIST: case V_TUPLE: *out = v->n != 0; break;
	case V_UNDEF: return undefined_fail(p, v);
	}
	return 0;
}

/* a == b. StrictUndefined raises from __eq__ and, being a subclass of Undefined, takes priority
 * over it; plain Undefined equals only Undefined; str and the rest defer to an undefined. */
static int val_eq(struct expr_parser *p, const struct expr_val *a, const struct expr_val *b,
		  int *res)
{
	size_t i;
	if (a->kind == V_UNDEF || (a->kind == V_LUNDEF && b->kind == V_UNDEF))
		return undefined_fail(p, a->kind == V_UNDEF ? a : b);
	if (a->kind == V_LUNDEF) {
		*res = b->kind == V_LUNDEF;
		return 0;
	}
	if (b->kind == V_UNDEF)
		return undefined_fail(p, b);
	*res = 0;
	if (is_number(a) && is_number(b))
		*res = a->i == b->i;
	else if (a->kind != b->kind)
		*res = 0;
	else if (a->kind == V_NONE)
		*res = 1;
	else if (a->kind == V_STR)
		*res = a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
	else if (a->kind == V_LIST || a->kind == V_TUPLE) {
		if (a->n != b->n)
			return 0;
		for (i = 0; i < a->n; i++) {
			if (val_eq(p, &a->items[i], &b->items[i], res) < 0)
				return -1;
			if (!*res)
				return 0;
		}
		*res = 1;
	}
	return 0;
}

/* a in b */
static int val_in(struct expr_parser *p, const struct expr_val *a, const struct expr_val *b,
		  int *res)
{
	size_t i;
	*res = 0;
	switch (b->kind) {
	case V_UNDEF:
		return undefined_fail(p, b);
	case V_LUNDEF:
		return 0;           /* iterating Undefined yields nothing */
	case V_STR:
		if (a->kind != V_STR)
			return fail(p, "'in <string>' requires string as left operand, not %s",
				    type_name(a));
		*res = a->len == 0 || (a->len <= b->len && memmem(b->s, b->len, a->s, a->len));
		return 0;
	case V_LIST: case V_TUPLE:
		for (i = 0; i < b->n; i++) {
			if (val_eq(p, &b->items[i], a, res) < 0)
				return -1;
			if (*res)
				return 0;
		}
		return 0;
	default:
		return fail(p, "argument of type '%s' is not iterable", type_name(b));
	}
}

static int apply_order(enum expr_cmp op, int c)
{
	switch (op) {
	case CMP_LT: return c < 0;
	case CMP_LE: return c <= 0;
	case CMP_GT: return c > 0;
	default: return c >= 0;
	}
}

/* a < b and friends */
static int val_order(struct expr_parser *p, enum expr_cmp op, const struct expr_val *a,
		     const struct expr_val *b, int *res)
{
	static const char *const op_text[] = {[CMP_LT] = "<", [CMP_LE] = "<=", [CMP_GT] = ">",
					      [CMP_GE] = ">="};
	size_t i, m;
	int c, eq;
	if (a->kind == V_LUNDEF && b->kind == V_UNDEF)
		return undefined_fail(p, b);
	if (is_undefined(a))
		return undefined_fail(p, a);
	if (is_undefined(b))
		return undefined_fail(p, b);
	if (is_number(a) && is_number(b)) {
		c = (a->i > b->i) - (a->i < b->i);
	} else if (a->kind == V_STR && b->kind == V_STR) {
		m = a->len < b->len ? a->len : b->len;
		c = m ? memcmp(a->s, b->s, m) : 0;
		if (c == 0)
			c = (a->len > b->len) - (a->len < b->len);
	} else if ((a->kind == V_LIST || a->kind == V_TUPLE) && a->kind == b->kind) {
		m = a->n < b->n ? a->n : b->n;
		for (i = 0; i < m; i++) {
			if (val_eq(p, &a->items[i], &b->items[i], &eq) < 0)
				return -1;
			if (!eq)
				return val_order(p, op, &a->items[i], &b->items[i], res);
		}
		c = (a->n > b->n) - (a->n < b->n);
	} else {
		return fail(p, "'%s' not supported between instances of '%s' and '%s'", op_text[op],
			    type_name(a), type_name(b));
	}
	*res = apply_order(op, c);
	return 0;
}

static int val_compare(struct expr_parser *p, enum expr_cmp op, const struct expr_val *a,
		       const struct expr_val *b, int *res)
{
	switch (op) {
	case CMP_EQ: case CMP_NE:
		if (val_eq(p, a, b, res) < 0)
			return -1;
		if (op == CMP_NE)
			*res = !*res;
		return 0;
	case CMP_IN: case CMP_NOTIN:
		if (val_in(p, a, b, res) < 0)
			return -1;
		if (op == CMP_NOTIN)
			*res = !*res;
		return 0;
	default:
		return val_order(p, op, a, b, res);
	}
}

static int lookup_name(struct expr_parser *p, const char *name, struct expr_val *out)
{
	struct expr_value ev;
	struct expr_val *items;
	size_t i;
	memset(&ev, 0, sizeof(ev));
	memset(out, 0, sizeof(*out));
	if (!p->lookup || p->lookup(p->ctx, name, &ev) != 0) {
		out->kind = V_UNDEF;
		out->s = name;
		out->len = strlen(name);
		return 0;
	}
	switch (ev.kind) {
	case EXPR_BOOL:
		out->kind = V_BOOL;
		out->i = ev.b != 0;
		return 0;
	case EXPR_STRING:
		out->kind = V_STR;
		out->s = ev.s ? ev.s : "";
		out->len = strlen(out->s);
		return 0;
	case EXPR_LIST:
		if ((ev.n && !ev.items) || ev.n > SIZE_MAX / sizeof(*items))
			break;
		items = ev.n ? arena_alloc(p->arena, ev.n * sizeof(*items)) : NULL;
		for (i = 0; i < ev.n; i++) {
			items[i].kind = V_STR;
			items[i].s = ev.items[i] ? ev.items[i] : "";
			items[i].len = strlen(items[i].s);
		}
		out->kind = V_LIST;
		out->items = items;
		out->n = ev.n;
		return 0;
	}
	return fail(p, "option '%s' has an invalid value", name);
}

static int eval_node(struct expr_parser *p, const struct expr_node *n, struct expr_val *out)
{
	const struct expr_node *k;
	struct expr_val left, right, *items;
	size_t count, i;
	int t;
	memset(out, 0, sizeof(*out));
	switch (n->kind) {
	case EN_CONST:
		*out = n->v;
		return 0;
	case EN_NAME:
		return lookup_name(p, n->name, out);
	case EN_LIST: case EN_TUPLE:
		for (count = 0, k = n->first; k; k = k->next)
			count++;
		items = count ? arena_alloc(p->arena, count * sizeof(*items)) : NULL;
		for (i = 0, k = n->first; k; k = k->next, i++)
			if (eval_node(p, k, &items[i]) < 0)
				return -1;
		out->kind = n->kind == EN_LIST ? V_LIST : V_TUPLE;
		out->items = items;
		out->n = count;
		return 0;
	case EN_OR: case EN_AND:
		for (k = n->first; k; k = k->next) {
			if (eval_node(p, k, out) < 0)
				return -1;
			if (!k->next)
				break;
			if (truth(p, out, &t) < 0)
				return -1;
			if (t == (n->kind == EN_OR))
				break;
		}
		return 0;
	case EN_NOT:
		if (eval_node(p, n->sub, &left) < 0 || truth(p, &left, &t) < 0)
			return -1;
		out->kind = V_BOOL;
		out->i = !t;
		return 0;
	case EN_NEG: case EN_POS:
		if (eval_node(p, n->sub, &left) < 0)
			return -1;
		if (is_undefined(&left))
			return undefined_fail(p, &left);
		if (!is_number(&left))
			return fail(p, "bad operand type for unary %c: '%s'",
				    n->kind == EN_NEG ? '-' : '+', type_name(&left));
		out->kind = V_INT;
		out->i = n->kind == EN_NEG ? -left.i : left.i;
		return 0;
	case EN_COMPARE:
		if (eval_node(p, n->first, &left) < 0)
			return -1;
		out->kind = V_BOOL;
		for (k = n->first->next; k; k = k->next) {
			if (eval_node(p, k, &right) < 0 || val_compare(p, k->op, &left, &right, &t) < 0)
				return -1;
			if (!t)
				return 0;
			left = right;
		}
		out->i = 1;
		return 0;
	case EN_COND:
		if (eval_node(p, n->test, &left) < 0 || truth(p, &left, &t) < 0)
			return -1;
		if (t)
			return eval_node(p, n->sub, out);
		if (n->alt)
			return eval_node(p, n->alt, out);
		out->kind = V_LUNDEF;
		out->line = n->line;
		return 0;
	case EN_UNSUPPORTED:
		break;
	}
	return fail(p, "internal error: unsupported construct evaluated");
}

/* The user's text closed the Jinja block itself ("... %} ..."): the rest became template data in
 * the `if` body, so a true condition renders neither "True" nor "False" (an error in BuildStream)
 * and a false one renders " False ". Anything with further Jinja tags is not emulated. */
static int user_block_end(struct expr_parser *p, struct expr_node *root, int *truth_out)
{
	struct expr_val v;
	const char *rest = p->src + p->pos;
	size_t n = p->text_len - p->pos;
	int t;
	if (p->pos > p->text_len || memmem(rest, n, "{%", 2) || memmem(rest, n, "{{", 2) ||
	    memmem(rest, n, "{#", 2) || p->unsupported)
		return error_set(p->err, "Failed to evaluate expression: %s", p->text);
	if (eval_node(p, root, &v) < 0 || truth(p, &v, &t) < 0)
		return -1;
	if (t)
		return error_set(p->err, "Failed to evaluate expression: %s", p->text);
	*truth_out = 0;
	return 0;
}

static int parse_and_eval(struct expr_parser *p, int *truth_out)
{
	struct expr_node *root;
	struct expr_val v;
	int t;
	if (advance(p) < 0 || !(root = parse_tuple(p, 0, 0)))
		return -1;
	if (p->cur.type == TOK_COLON && advance(p) < 0)
		return -1;
	if (expect(p, TOK_BLOCK_END) < 0)
		return -1;
	if (!p->cur.synthetic)
		return user_block_end(p, root, truth_out);
	if (p->unsupported)
		return fail(p, "%s", p->unsupported);
	if (eval_node(p, root, &v) < 0 || truth(p, &v, &t) < 0)
		return -1;
	*truth_out = t;
	return 0;
}

int expr_eval(const char *text, expr_lookup_fn lookup, void *ctx, int *truth_out, struct error *err)
{
	struct expr_parser p;
	int rc, ignored;
	if (!truth_out)
		truth_out = &ignored;
	memset(&p, 0, sizeof(p));
	p.text = text ? text : "";
	p.text_len = strlen(p.text);
	p.src = xasprintf("%s%s", p.text, JINJA_SUFFIX);
	p.len = p.text_len + strlen(JINJA_SUFFIX);
	p.lookup = lookup;
	p.ctx = ctx;
	p.err = err;
	p.arena = arena_new();
	buf_init(&p.balance);
	rc = parse_and_eval(&p, truth_out);
	free(p.unsupported);
	free(p.src);
	buf_release(&p.balance);
	arena_free(p.arena);
	return rc;
}
