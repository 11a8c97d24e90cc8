/* yamldump — writes node trees as BuildStream 1.6.8 writes YAML (show's %{config}, %{vars},
 * %{env}, %{public}, project.refs, an artifact's public data): block style, two-space indents,
 * sequences under a key not indented, empty collections as {} and [], lines folded at 80
 * columns. bst dumps with ruamel.yaml's round-trip emitter, and every plain scalar reads back as
 * a string there, so a scalar is quoted only where the syntax needs it; a scalar keeps the style
 * it had in its file (quoted, literal, folded). The rules below follow that emitter's, decision
 * for decision; tests/unit/test_yamldump checks them against bst's own dumps.
 * SPDX-License-Identifier: Apache-2.0 */
#include "format/yamldump.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BEST_WIDTH 80
#define INDENT_STEP 2
#define MAX_SIMPLE_KEY 128
#define NONE (-1)

/* ---- Characters ----------------------------------------------------------------------------- */

/* The code point at s[*i] (UTF-8), advancing *i; an invalid byte is itself, marked invalid. */
static uint32_t next_cp(const char *s, size_t n, size_t *i, int *invalid)
{
	const unsigned char *p = (const unsigned char *)s + *i;
	size_t left = n - *i, len;
	uint32_t cp;
	*invalid = 0;
	if (p[0] < 0x80) {
		(*i)++;
		return p[0];
	}
	if ((p[0] & 0xe0) == 0xc0)
		len = 2, cp = p[0] & 0x1f;
	else if ((p[0] & 0xf0) == 0xe0)
		len = 3, cp = p[0] & 0x0f;
	else if ((p[0] & 0xf8) == 0xf0)
		len = 4, cp = p[0] & 0x07;
	else
		len = 0, cp = 0;
	if (!len || len > left) {
		*invalid = 1;
		(*i)++;
		return p[0];
	}
	for (size_t k = 1; k < len; k++) {
		if ((p[k] & 0xc0) != 0x80) {
			*invalid = 1;
			(*i)++;
			return p[0];
		}
		cp = cp << 6 | (p[k] & 0x3f);
	}
	*i += len;
	return cp;
}

struct text {
	uint32_t *cp;           /* code points */
	unsigned char *bad;     /* the byte was not UTF-8: always escaped */
	size_t n;
};

static void text_of(const char *s, size_t len, struct text *t)
{
	size_t i = 0;
	t->cp = xmalloc((len + 1) * sizeof(*t->cp));
	t->bad = xmalloc(len + 1);
	t->n = 0;
	while (i < len) {
		int bad;
		t->cp[t->n] = next_cp(s, len, &i, &bad);
		t->bad[t->n++] = (unsigned char)bad;
	}
}

static void text_release(struct text *t)
{
	free(t->cp);
	free(t->bad);
}

static int is_break(uint32_t c)
{
	return c == '\n' || c == 0x85 || c == 0x2028 || c == 0x2029;
}

static int is_space_or_break0(uint32_t c)
{
	return c == 0 || c == ' ' || c == '\t' || c == '\r' || is_break(c);
}

static int in(uint32_t c, const char *set)
{
	return c < 0x80 && c && strchr(set, (int)c) != NULL;
}

/* ---- The emitter's state -------------------------------------------------------------------- */

struct em {
	struct buf *out;
	int indent;                     /* NONE at the top */
	int *ind_val;                   /* the stack of indents (NONE allowed) */
	unsigned char *ind_seq;         /* ... and whether each was pushed for a sequence */
	size_t nind, capind;
	int column;
	int whitespace, indention, no_newline;
	int open_ended;                 /* a block kept its final breaks: the document ends with ... */
	int flow_level;
	int root_ctx, seq_ctx, map_ctx, simple_key_ctx;
};

static void put_cp(struct em *e, uint32_t c)
{
	char b[4];
	if (c < 0x80) {
		buf_addch(e->out, (char)c);
		return;
	}
	if (c < 0x800) {
		b[0] = (char)(0xc0 | c >> 6), b[1] = (char)(0x80 | (c & 0x3f));
		buf_add(e->out, b, 2);
	} else if (c < 0x10000) {
		b[0] = (char)(0xe0 | c >> 12), b[1] = (char)(0x80 | (c >> 6 & 0x3f)), b[2] = (char)(0x80 | (c & 0x3f));
		buf_add(e->out, b, 3);
	} else {
		b[0] = (char)(0xf0 | c >> 18), b[1] = (char)(0x80 | (c >> 12 & 0x3f));
		b[2] = (char)(0x80 | (c >> 6 & 0x3f)), b[3] = (char)(0x80 | (c & 0x3f));
		buf_add(e->out, b, 4);
	}
}

/* Write t's code points [from, to) as they are (invalid bytes only reach escaped writers). */
static void put_span(struct em *e, const struct text *t, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		put_cp(e, t->cp[i]);
	e->column += (int)(to - from);
}

static void put_str(struct em *e, const char *s)
{
	buf_adds(e->out, s);
	e->column += (int)strlen(s);
}

static void push_indent(struct em *e, int seq)
{
	GROW(e->ind_val, e->capind, e->nind + 1);
	e->ind_seq = xrealloc(e->ind_seq, e->capind);
	e->ind_val[e->nind] = e->indent;
	e->ind_seq[e->nind++] = (unsigned char)seq;
}

static void pop_indent(struct em *e)
{
	e->indent = e->ind_val[--e->nind];
}

static void increase_indent(struct em *e, int flow, int seq, int indentless)
{
	push_indent(e, seq);
	if (e->indent == NONE)
		e->indent = flow ? NONE : 0;    /* no requested indent: a flow root stays at NONE */
	else if (!indentless)
		e->indent += INDENT_STEP;
}

static void write_indicator(struct em *e, const char *ind, int need_ws, int ws, int indention)
{
	if (!e->whitespace && need_ws)
		put_str(e, " ");
	put_str(e, ind);
	e->whitespace = ws;
	e->indention = e->indention && indention;
	e->open_ended = 0;
}

static void line_break(struct em *e)
{
	buf_addch(e->out, '\n');
	e->whitespace = 1;
	e->indention = 1;
	e->column = 0;
}

static void write_indent(struct em *e)
{
	int indent = e->indent == NONE ? 0 : e->indent;
	if (!e->indention || e->column > indent || (e->column == indent && !e->whitespace)) {
		if (e->no_newline)
			e->no_newline = 0;
		else
			line_break(e);
	}
	if (e->column < indent) {
		e->whitespace = 1;
		while (e->column < indent) {
			buf_addch(e->out, ' ');
			e->column++;
		}
	}
}

/* A break character as the writers put it out: a line feed, or the character itself. */
static void write_break(struct em *e, uint32_t c)
{
	if (c == '\n') {
		line_break(e);
	} else {
		put_cp(e, c);
		e->whitespace = 1;
		e->indention = 1;
		e->column = 0;
	}
}

/* ---- Analysis ------------------------------------------------------------------------------- */

struct analysis {
	int empty, multiline;
	int flow_plain, block_plain, single_quoted, double_quoted, block;
};

static int printable(uint32_t c, int bad)
{
	if (bad)
		return 0;
	if (c == '\n' || (c >= 0x20 && c <= 0x7e))
		return 1;
	return (c == 0x85 || (c >= 0xa0 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) ||
		(c >= 0x10000 && c <= 0x10ffff)) && c != 0xfeff;
}

static void analyze(const struct text *t, struct analysis *a)
{
	int block_ind = 0, flow_ind = 0, breaks = 0, special = 0;
	int lead_space = 0, lead_break = 0, trail_space = 0, trail_break = 0, break_space = 0, space_break = 0;
	int preceded_ws = 1, followed_ws, prev_space = 0, prev_break = 0;
	size_t i, n = t->n;
	memset(a, 0, sizeof(*a));
	if (!n) {
		a->empty = 1;
		a->block_plain = a->single_quoted = a->double_quoted = 1;
		return;
	}
	if (n >= 3 && ((t->cp[0] == '-' && t->cp[1] == '-' && t->cp[2] == '-') ||
		       (t->cp[0] == '.' && t->cp[1] == '.' && t->cp[2] == '.')))
		block_ind = flow_ind = 1;
	followed_ws = n == 1 || is_space_or_break0(t->cp[1]);
	for (i = 0; i < n; i++) {
		uint32_t c = t->cp[i];
		if (i == 0) {
			if (in(c, "#,[]{}&*!|>'\"%@`"))
				flow_ind = block_ind = 1;
			if (in(c, "?:")) {
				if (n == 1)
					flow_ind = 1;
				if (followed_ws)
					block_ind = 1;
			}
			if (c == '-' && followed_ws)
				flow_ind = block_ind = 1;
		} else {
			if (in(c, ",[]{}"))
				flow_ind = 1;
			if (c == ':' && followed_ws)
				flow_ind = block_ind = 1;
			if (c == '#' && preceded_ws)
				flow_ind = block_ind = 1;
		}
		if (is_break(c))
			breaks = 1;
		if (!printable(c, t->bad[i]))
			special = 1;
		if (c == ' ') {
			if (i == 0)
				lead_space = 1;
			if (i == n - 1)
				trail_space = 1;
			if (prev_break)
				break_space = 1;
			prev_space = 1;
			prev_break = 0;
		} else if (is_break(c)) {
			if (i == 0)
				lead_break = 1;
			if (i == n - 1)
				trail_break = 1;
			if (prev_space)
				space_break = 1;
			prev_space = 0;
			prev_break = 1;
		} else {
			prev_space = prev_break = 0;
		}
		preceded_ws = is_space_or_break0(c);
		followed_ws = i + 2 >= n || is_space_or_break0(t->cp[i + 2]);
	}
	a->multiline = breaks;
	a->flow_plain = a->block_plain = a->single_quoted = a->double_quoted = a->block = 1;
	if (lead_space || lead_break || trail_space || trail_break)
		a->flow_plain = a->block_plain = 0;
	if (trail_space)
		a->block = 0;
	if (break_space)
		a->flow_plain = a->block_plain = a->single_quoted = 0;
	if (special) {
		a->flow_plain = a->block_plain = a->single_quoted = a->block = 0;
	} else if (space_break) {
		a->flow_plain = a->block_plain = a->single_quoted = 0;
		a->block = 0;   /* the emitter does not allow a space before a break in blocks */
	}
	if (breaks)
		a->flow_plain = a->block_plain = 0;
	if (flow_ind)
		a->flow_plain = 0;
	if (block_ind)
		a->block_plain = 0;
}

/* '"', '\'', '|', '>' or 0 for plain. */
static int choose_style(const struct em *e, const struct node *n, const struct text *t, struct analysis *a)
{
	int style = n->style == STYLE_SINGLE ? '\'' : n->style == STYLE_DOUBLE ? '"' : n->style == STYLE_LITERAL ? '|'
		  : n->style == STYLE_FOLDED ? '>' : 0;
	if (style == '"')
		return '"';
	if (!style && !(e->simple_key_ctx && (a->empty || a->multiline)) &&
	    ((e->flow_level && a->flow_plain) || (!e->flow_level && a->block_plain)))
		return 0;
	a->block = 1;
	if ((style == '|' || style == '>') && !e->flow_level && !e->simple_key_ctx && a->block)
		return style;
	if (!style && a->double_quoted) {
		for (size_t i = 0; i < t->n; i++)
			if (t->cp[i] == '\'' || t->cp[i] == '\n')
				return '"';
	}
	if (!style || style == '\'') {
		if (a->single_quoted && !(e->simple_key_ctx && a->multiline))
			return '\'';
	}
	return '"';
}

/* ---- Writers -------------------------------------------------------------------------------- */

static void write_plain(struct em *e, const struct text *t, int split)
{
	int spaces = 0, breaks = 0;
	size_t start = 0, end = 0, n = t->n;
	if (!n)
		return;
	if (!e->whitespace)
		put_str(e, " ");
	e->whitespace = e->indention = 0;
	while (end <= n) {
		uint32_t c = end < n ? t->cp[end] : 0;
		int none = end == n;
		if (spaces) {
			if (none || c != ' ') {
				if (start + 1 == end && e->column > BEST_WIDTH && split) {
					write_indent(e);
					e->whitespace = e->indention = 0;
				} else {
					put_span(e, t, start, end);
				}
				start = end;
			}
		} else if (breaks) {
			if (none || !is_break(c)) {
				if (t->cp[start] == '\n')
					line_break(e);
				for (size_t k = start; k < end; k++)
					write_break(e, t->cp[k]);
				write_indent(e);
				e->whitespace = e->indention = 0;
				start = end;
			}
		} else if (none || c == ' ' || is_break(c)) {
			put_span(e, t, start, end);
			start = end;
		}
		if (!none) {
			spaces = c == ' ';
			breaks = is_break(c);
		}
		end++;
	}
}

static void write_single_quoted(struct em *e, const struct text *t, int split)
{
	int spaces = 0, breaks = 0;
	size_t start = 0, end = 0, n = t->n;
	write_indicator(e, "'", 1, 0, 0);
	while (end <= n) {
		uint32_t c = end < n ? t->cp[end] : 0;
		int none = end == n;
		if (spaces) {
			if (none || c != ' ') {
				if (start + 1 == end && e->column > BEST_WIDTH && split && start != 0 && end != n)
					write_indent(e);
				else
					put_span(e, t, start, end);
				start = end;
			}
		} else if (breaks) {
			if (none || !is_break(c)) {
				if (t->cp[start] == '\n')
					line_break(e);
				for (size_t k = start; k < end; k++)
					write_break(e, t->cp[k]);
				write_indent(e);
				start = end;
			}
		} else if (none || c == ' ' || is_break(c) || c == '\'') {
			if (start < end) {
				put_span(e, t, start, end);
				start = end;
			}
		}
		if (!none && c == '\'') {
			put_str(e, "''");
			start = end + 1;
		}
		if (!none) {
			spaces = c == ' ';
			breaks = is_break(c);
		}
		end++;
	}
	write_indicator(e, "'", 0, 0, 0);
}

static const char *escape_of(uint32_t c)
{
	switch (c) {
	case 0: return "0";
	case 0x07: return "a";
	case 0x08: return "b";
	case 0x09: return "t";
	case 0x0a: return "n";
	case 0x0b: return "v";
	case 0x0c: return "f";
	case 0x0d: return "r";
	case 0x1b: return "e";
	case '"': return "\"";
	case '\\': return "\\";
	case 0x85: return "N";
	case 0xa0: return "_";
	case 0x2028: return "L";
	case 0x2029: return "P";
	default: return NULL;
	}
}

static void write_double_quoted(struct em *e, const struct text *t, int split)
{
	size_t start = 0, end = 0, n = t->n;
	write_indicator(e, "\"", 1, 0, 0);
	while (end <= n) {
		uint32_t c = end < n ? t->cp[end] : 0;
		int none = end == n;
		int bad = !none && t->bad[end];
		if (none || bad || c == '"' || c == '\\' || c == 0x85 || c == 0x2028 || c == 0x2029 || c == 0xfeff ||
		    !((c >= 0x20 && c <= 0x7e) || (c >= 0xa0 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd))) {
			if (start < end) {
				put_span(e, t, start, end);
				start = end;
			}
			if (!none) {
				char esc[16];
				const char *r = bad ? NULL : escape_of(c);
				if (r)
					snprintf(esc, sizeof(esc), "\\%s", r);
				else if (c <= 0xff)
					snprintf(esc, sizeof(esc), "\\x%02X", (unsigned)c);
				else if (c <= 0xffff)
					snprintf(esc, sizeof(esc), "\\u%04X", (unsigned)c);
				else
					snprintf(esc, sizeof(esc), "\\U%08X", (unsigned)c);
				put_str(e, esc);
				start = end + 1;
			}
		}
		if (end > 0 && end + 1 < n && (c == ' ' || start >= end) &&
		    e->column + (int)(end - start) > BEST_WIDTH && split) {
			put_span(e, t, start, end);
			put_str(e, "\\");
			if (start < end)
				start = end;
			write_indent(e);
			e->whitespace = e->indention = 0;
			if (t->cp[start] == ' ')
				put_str(e, "\\");
		}
		end++;
	}
	write_indicator(e, "\"", 0, 0, 0);
}

/* The indentation indicator and chomping of a block scalar. */
static void block_hints(const struct em *e, const struct text *t, char *hints, int *indent, char *chomp)
{
	size_t n = t->n;
	*indent = 0;
	*chomp = 0;
	hints[0] = '\0';
	if (!n)
		return;
	if (t->cp[0] == ' ' || is_break(t->cp[0])) {
		*indent = INDENT_STEP;
		strcpy(hints, "2");
	} else if (e->root_ctx) {
		/* a document marker at the start of a line of a root block needs an indent */
		for (size_t i = 0; i + 4 <= n; i++)
			if (t->cp[i] == '\n' && ((t->cp[i + 1] == '-' && t->cp[i + 2] == '-' && t->cp[i + 3] == '-') ||
						 (t->cp[i + 1] == '.' && t->cp[i + 2] == '.' && t->cp[i + 3] == '.')) &&
			    (i + 4 == n || t->cp[i + 4] == ' ' || t->cp[i + 4] == '\r' || t->cp[i + 4] == '\n')) {
				*indent = INDENT_STEP;
				break;
			}
	}
	if (!is_break(t->cp[n - 1]))
		*chomp = '-';
	else if (n == 1 || is_break(t->cp[n - 2]))
		*chomp = '+';
	if (*chomp)
		strncat(hints, chomp, 1);
}

static void write_literal(struct em *e, const struct text *t)
{
	char hints[4], chomp, ind[8];
	int extra, breaks = 1;
	size_t start = 0, end = 0, n = t->n;
	block_hints(e, t, hints, &extra, &chomp);
	snprintf(ind, sizeof(ind), "|%s", hints);
	write_indicator(e, ind, 1, 0, 0);
	if (chomp == '+')
		e->open_ended = 1;
	line_break(e);
	while (end <= n) {
		uint32_t c = end < n ? t->cp[end] : 0;
		int none = end == n;
		if (breaks) {
			if (none || !is_break(c)) {
				for (size_t k = start; k < end; k++)
					write_break(e, t->cp[k]);
				if (!none) {
					if (e->root_ctx) {
						int sp = extra + (e->indent == NONE ? 0 : e->indent);
						while (sp-- > 0)
							buf_addch(e->out, ' ');
					} else {
						write_indent(e);
					}
				}
				start = end;
			}
		} else if (none || is_break(c)) {
			put_span(e, t, start, end);
			if (none)
				line_break(e);
			start = end;
		}
		if (!none)
			breaks = is_break(c);
		end++;
	}
}

static void write_folded(struct em *e, const struct text *t)
{
	char hints[4], chomp, ind[8];
	int extra, leading_space = 1, spaces = 0, breaks = 1;
	size_t start = 0, end = 0, n = t->n;
	block_hints(e, t, hints, &extra, &chomp);
	snprintf(ind, sizeof(ind), ">%s", hints);
	write_indicator(e, ind, 1, 0, 0);
	if (chomp == '+')
		e->open_ended = 1;
	line_break(e);
	while (end <= n) {
		uint32_t c = end < n ? t->cp[end] : 0;
		int none = end == n;
		if (breaks) {
			if (none || !is_break(c)) {
				if (!leading_space && !none && c != ' ' && t->cp[start] == '\n')
					line_break(e);
				leading_space = !none && c == ' ';
				for (size_t k = start; k < end; k++)
					write_break(e, t->cp[k]);
				if (!none)
					write_indent(e);
				start = end;
			}
		} else if (spaces) {
			if (none || c != ' ') {
				if (start + 1 == end && e->column > BEST_WIDTH)
					write_indent(e);
				else
					put_span(e, t, start, end);
				start = end;
			}
		} else if (none || c == ' ' || is_break(c)) {
			put_span(e, t, start, end);
			if (none)
				line_break(e);
			start = end;
		}
		if (!none) {
			breaks = is_break(c);
			spaces = c == ' ';
		}
		end++;
	}
}

/* ---- Nodes ---------------------------------------------------------------------------------- */

static void emit_node(struct em *e, const struct node *n, int root, int seq, int map, int simple_key);

static void emit_scalar_text(struct em *e, const struct node *n, const char *s, size_t len)
{
	struct text t;
	struct analysis a;
	int style, split = !e->simple_key_ctx;
	text_of(s, len, &t);
	analyze(&t, &a);
	increase_indent(e, 1, 0, 0);
	style = choose_style(e, n, &t, &a);
	if (e->seq_ctx && !e->flow_level)
		write_indent(e);
	if (style == '"')
		write_double_quoted(e, &t, split);
	else if (style == '\'')
		write_single_quoted(e, &t, split);
	else if (style == '>')
		write_folded(e, &t);
	else if (style == '|')
		write_literal(e, &t);
	else
		write_plain(e, &t, split);
	pop_indent(e);
	text_release(&t);
}

/* Whether a key can be written as a simple key: short and on one line. */
static int simple_key(const char *k)
{
	struct text t;
	struct analysis a;
	int ok;
	text_of(k, strlen(k), &t);
	analyze(&t, &a);
	ok = t.n + 5 < MAX_SIMPLE_KEY && !a.multiline;     /* 5: the length of its tag, !!str */
	text_release(&t);
	return ok;
}

static void emit_key(struct em *e, const char *k, int simple)
{
	struct node key = {0};
	key.type = NODE_SCALAR;
	e->root_ctx = 0;
	e->seq_ctx = 0;
	e->map_ctx = 1;
	e->simple_key_ctx = simple;
	emit_scalar_text(e, &key, k, strlen(k));
}

static void emit_empty(struct em *e, const char *open, const char *close)
{
	write_indicator(e, open, 1, 1, 0);
	increase_indent(e, 1, open[0] == '[', 0);
	e->flow_level++;
	pop_indent(e);
	e->flow_level--;
	write_indicator(e, close, 0, 0, 0);
	if (e->flow_level == 0)
		line_break(e);
}

static void emit_map(struct em *e, const struct node *n)
{
	/* a mapping in a sequence starts on the dash's line (ruamel's compact_seq_map) */
	increase_indent(e, 0, 0, 0);
	for (size_t i = 0; i < n->u.map.n; i++) {
		const char *k = n->u.map.entries[i].key;
		int simple = simple_key(k);
		write_indent(e);
		if (simple) {
			emit_key(e, k, 1);
			write_indicator(e, ":", 0, 0, 0);
		} else {
			write_indicator(e, "?", 1, 0, 1);
			emit_key(e, k, 0);
			write_indent(e);
			write_indicator(e, ":", 1, 0, 1);
		}
		emit_node(e, n->u.map.entries[i].value, 0, 0, 1, 0);
	}
	pop_indent(e);
}

static void emit_seq(struct em *e, const struct node *n)
{
	int indentless = e->map_ctx ? !e->indention : 0;
	increase_indent(e, 0, 1, indentless);
	for (size_t i = 0; i < n->u.list.n; i++) {
		int nonl = e->column == 0 ? e->no_newline : 0;
		write_indent(e);
		write_indicator(e, "-", 1, 0, 1);
		if (nonl)
			e->no_newline = 1;
		emit_node(e, n->u.list.items[i], 0, 1, 0, 0);
	}
	pop_indent(e);
	e->no_newline = 0;
}

static void emit_node(struct em *e, const struct node *n, int root, int seq, int map, int simple)
{
	e->root_ctx = root;
	e->seq_ctx = seq;
	e->map_ctx = map;
	e->simple_key_ctx = simple;
	if (n->type == NODE_SCALAR) {
		if (root)
			write_indent(e);
		emit_scalar_text(e, n, node_str(n), n->u.scalar.len);
	} else if (n->type == NODE_LIST) {
		if (e->flow_level || !n->u.list.n)
			emit_empty(e, "[", "]");
		else
			emit_seq(e, n);
	} else {
		if (e->flow_level || !n->u.map.n)
			emit_empty(e, "{", "}");
		else
			emit_map(e, n);
	}
}

void yamldump(const struct node *n, struct buf *out)
{
	struct em e;
	memset(&e, 0, sizeof(e));
	e.out = out;
	e.indent = NONE;
	e.whitespace = e.indention = 1;
	emit_node(&e, n, 1, 0, 0, 0);
	write_indent(&e);       /* the document's end */
	if (e.open_ended) {
		write_indicator(&e, "...", 1, 0, 0);
		write_indent(&e);
	}
	free(e.ind_val);
	free(e.ind_seq);
}
