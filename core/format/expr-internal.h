/* expr-internal.h — what expr.c (parser and evaluator) and expr-lex.c (messages, UTF-8 and
 * the lexer) share: tokens, values, the syntax tree and the parser's state.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_EXPR_INTERNAL_H
#define RILL_EXPR_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "base/util.h"
#include "format/expr.h"
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


/* expr-lex.c */
int expr_fail(struct expr_parser *p, const char *fmt, ...) PRINTF_LIKE(2, 3);
size_t expr_column_at(const struct expr_parser *p, size_t off);
size_t expr_line_at(const struct expr_parser *p, size_t off);
void expr_note_unsupported(struct expr_parser *p, size_t off, const char *what);
const char *expr_describe(const struct expr_tok *t);
int expr_lex_next(struct expr_parser *p, struct expr_tok *t);

#endif
