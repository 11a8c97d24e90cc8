/* expr — the parser and evaluator of the Jinja2 expression subset of (?) conditionals (the
 * lexer is expr-lex.c),
 * mirroring Jinja 3's token rules and parser and Python's value semantics.
 * SPDX-License-Identifier: Apache-2.0 */
#include "format/expr.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/expr-internal.h"

/* ---- parser (Jinja's grammar, building a tree evaluated afterwards) ---- */

static int advance(struct expr_parser *p)
{
	if (p->has_pushed) {
		p->cur = p->pushed;
		p->has_pushed = 0;
		return 0;
	}
	return expr_lex_next(p, &p->cur);
}

static int peek(struct expr_parser *p, const struct expr_tok **out)
{
	if (!p->has_pushed) {
		if (expr_lex_next(p, &p->pushed) < 0)
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
		return expr_fail(p, "unexpected end of template, expected '%s'.", expr_tok_text[type]);
	if (p->cur.type != type)
		return expr_fail(p, "expected token '%s', got '%s'", expr_tok_text[type], expr_describe(&p->cur));
	return advance(p);
}

static int enter(struct expr_parser *p, size_t off)
{
	if (++p->depth > EXPR_MAX_DEPTH)
		return expr_fail(p, "expression nested too deeply (more than %d levels) at column %zu",
			    EXPR_MAX_DEPTH, expr_column_at(p, off));
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
	expr_note_unsupported(p, off, what);
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
				return expr_fail(p, "invalid syntax for function call expression");
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
					return expr_fail(p, "invalid syntax for function call expression");
				kwargs = 1;
				if (advance(p) < 0 || advance(p) < 0)
					return -1;
			} else if (dyn_args || dyn_kwargs || kwargs) {
				return expr_fail(p, "invalid syntax for function call expression");
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
			return expr_fail(p, "expected name or number");
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
					expr_fail(p, "You cannot chain multiple tests with is");
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
		expr_fail(p, "unexpected '%s'", expr_describe(t));
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
		n->line = expr_line_at(p, line_off);
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
			expr_fail(p, "Expected an expression, got '%s'", expr_describe(&p->cur));
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
		return expr_fail(p, "the inline if-expression on line %zu evaluated to false and no else "
			       "section was defined.", v->line);
	return expr_fail(p, "'%s' is undefined", v->s);
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
			return expr_fail(p, "'in <string>' requires string as left operand, not %s",
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
		return expr_fail(p, "argument of type '%s' is not iterable", type_name(b));
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
		return expr_fail(p, "'%s' not supported between instances of '%s' and '%s'", op_text[op],
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
	return expr_fail(p, "option '%s' has an invalid value", name);
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
			return expr_fail(p, "bad operand type for unary %c: '%s'",
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
	return expr_fail(p, "internal error: unsupported construct evaluated");
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
		return expr_fail(p, "%s", p->unsupported);
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
