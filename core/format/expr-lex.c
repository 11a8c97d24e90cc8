/* expr-lex — the messages, UTF-8 handling and lexer of option expressions (expr.c), after
 * Jinja 3's token rules.
 * SPDX-License-Identifier: Apache-2.0 */
#include "format/expr.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/expr-internal.h"

/* ---- messages ---- */

int expr_fail(struct expr_parser *p, const char *fmt, ...)
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

size_t expr_column_at(const struct expr_parser *p, size_t off)
{
	return char_index(p->src, off) + 1;
}

size_t expr_line_at(const struct expr_parser *p, size_t off)
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
void expr_note_unsupported(struct expr_parser *p, size_t off, const char *what)
{
	if (!p->unsupported)
		p->unsupported = xasprintf("%s is not supported (at column %zu)", what, expr_column_at(p, off));
}

const char *expr_describe(const struct expr_tok *t)
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
					return expr_fail(p, "%s", want == 2 ? "truncated \\xXX escape" :
						    want == 4 ? "truncated \\uXXXX escape" :
								"truncated \\UXXXXXXXX escape");
				cp = cp * 16 + (uint32_t)h;
			}
			if (cp > 0x10ffff)
				return expr_fail(p, "illegal Unicode character");
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
					return expr_fail(p, "unknown Unicode character name");
				if (k < n && k > i + 2)
					return expr_fail(p, "\\N{...} escapes are not supported (at column %zu)",
						    expr_column_at(p, (size_t)(raw - p->src) + i - 1));
			}
			return expr_fail(p, "malformed \\N character escape");
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
int expr_lex_next(struct expr_parser *p, struct expr_tok *t)
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
			return expr_fail(p, "Invalid character in identifier");
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
			return expr_fail(p, "unexpected char %s at %zu", rc,
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
				return expr_fail(p, "unexpected '%c'", s[i]);
			if (p->balance.data[p->balance.len - 1] != (char)s[i])
				return expr_fail(p, "unexpected '%c', expected '%c'", s[i],
					    p->balance.data[p->balance.len - 1]);
			p->balance.len--;
			p->balance.data[p->balance.len] = '\0';
		}
		return 0;
	}
	repr_char(s + i, n - i, rc);
	return expr_fail(p, "unexpected char %s at %zu", rc, JINJA_PREFIX_CHARS + char_index(p->src, i));
}
