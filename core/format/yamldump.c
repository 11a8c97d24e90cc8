/* yamldump — writes node trees as block-style YAML (for show's %{config}, %{vars}, ...).
 * SPDX-License-Identifier: Apache-2.0 */
#include "format/yamldump.h"

#include <string.h>

/* The byte length of a character at p that YAML cannot hold unescaped (a control character
 * other than tab and line feed, DEL, a C1 control such as NEL, the line and paragraph
 * separators, the byte-order mark, U+FFFE/U+FFFF), else 0. */
static size_t unprintable(const unsigned char *p)
{
	if ((*p < 0x20 && *p != '\t' && *p != '\n') || *p == 0x7f)
		return 1;
	if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
		return 2;
	if ((p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)) ||
	    (p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf) || (p[0] == 0xef && p[1] == 0xbf && p[2] >= 0xbe))
		return 3;
	return 0;
}

static int has_unprintable(const char *s)
{
	const unsigned char *p;
	for (p = (const unsigned char *)s; *p; p++)
		if (unprintable(p))
			return 1;
	return 0;
}

/* YAML emission: plain scalars when safe, else single-quoted; multi-line strings as '|'. */
static int plain_ok(const char *s)
{
	const char *p;
	if (!*s || has_unprintable(s))
		return 0;
	if (strchr(",[]{}#&*!|>'\"%@` ", s[0]))
		return 0;
	if (strchr("-?:", s[0]) && (s[1] == ' ' || s[1] == '\0'))
		return 0;
	for (p = s; *p; p++) {
		if (*p == '\n' || *p == '\t' || (*p == ':' && (p[1] == ' ' || !p[1])) || (*p == ' ' && p[1] == '#'))
			return 0;
	}
	if (s[strlen(s) - 1] == ' ')
		return 0;
	/* strings that would read back as numbers stay quoted */
	p = s + (*s == '-' || *s == '+');
	if (*p >= '0' && *p <= '9' && strspn(p, "0123456789._eExXoObBabcdefABCDEF") == strlen(p))
		return 0;
	if (*s == '.' || !strcmp(s, "-"))
		return 0;
	if (!strcmp(s, "true") || !strcmp(s, "false") || !strcmp(s, "True") || !strcmp(s, "False") ||
	    !strcmp(s, "null") || !strcmp(s, "~") || !strcmp(s, "yes") || !strcmp(s, "no"))
		return 0;
	return 1;
}

static void indent(struct buf *out, int n)
{
	while (n-- > 0)
		buf_addch(out, ' ');
}

/* Double-quoted, for what neither plain, single-quoted nor literal style can hold (a key with a
 * line break, a block whose first line starts with a space, a carriage return). */
static void double_quoted(struct buf *out, const char *s)
{
	const unsigned char *p;
	size_t n;
	buf_addch(out, '"');
	for (p = (const unsigned char *)s; *p; p++) {
		if ((n = unprintable(p)) > 1) {
			/* the code point, from its 2 or 3 UTF-8 bytes */
			unsigned cp = n == 2 ? (unsigned)(p[0] & 0x1f) << 6 | (p[1] & 0x3f)
					     : (unsigned)(p[0] & 0x0f) << 12 | (unsigned)(p[1] & 0x3f) << 6 | (p[2] & 0x3f);
			buf_addf(out, "\\u%04x", cp);
			p += n - 1;
		} else if (*p == '"' || *p == '\\') {
			buf_addch(out, '\\');
			buf_addch(out, (char)*p);
		} else if (*p == '\n') {
			buf_adds(out, "\\n");
		} else if (*p == '\t') {
			buf_adds(out, "\\t");
		} else if (*p < 0x20 || *p == 0x7f) {
			buf_addf(out, "\\x%02x", *p);
		} else {
			buf_addch(out, (char)*p);
		}
	}
	buf_addch(out, '"');
}

/* A key or one-line scalar: plain, else single-quoted, else double-quoted. */
static void inline_scalar(struct buf *out, const char *s)
{
	const char *p;
	if (plain_ok(s)) {
		buf_adds(out, s);
		return;
	}
	if (strpbrk(s, "\n\r") || strspn(s, " \t") || (*s && strchr(" \t", s[strlen(s) - 1])) || has_unprintable(s)) {
		double_quoted(out, s);
		return;
	}
	buf_addch(out, '\'');
	for (p = s; *p; p++) {
		if (*p == '\'')
			buf_addch(out, '\'');
		buf_addch(out, *p);
	}
	buf_addch(out, '\'');
}

/* A literal block reads back as written when its first non-empty line does not start with a
 * space (the indentation would be taken from it) and no character needs an escape. */
static int literal_ok(const char *s)
{
	const char *p = s + strspn(s, "\n");
	return *p && *p != ' ' && *p != '\t' && !has_unprintable(s);
}

static void scalar(struct buf *out, const char *s, int ind)
{
	if (strchr(s, '\n') && literal_ok(s)) {
		const char *line = s;
		size_t len = strlen(s);
		/* clip keeps one final line break, strip none, keep all of them */
		buf_adds(out, s[len - 1] != '\n' ? "|-\n" : len > 1 && s[len - 2] == '\n' ? "|+\n" : "|\n");
		while (*line) {
			const char *nl = strchr(line, '\n');
			size_t n = nl ? (size_t)(nl - line) : strlen(line);
			if (n) {
				indent(out, ind);
				buf_add(out, line, n);
			}
			buf_addch(out, '\n');
			if (!nl)
				break;
			line = nl + 1;
		}
		return;
	}
	inline_scalar(out, s);
	buf_addch(out, '\n');
}

static void emit(const struct node *n, struct buf *out, int ind);

static void emit_value(const struct node *v, struct buf *out, int ind)
{
	if (v->type == NODE_SCALAR) {
		buf_addch(out, ' ');
		scalar(out, node_str(v), ind + 2);
	} else if ((v->type == NODE_LIST && !v->u.list.n) || (v->type == NODE_MAP && !v->u.map.n)) {
		buf_adds(out, v->type == NODE_LIST ? " []\n" : " {}\n");
	} else {
		buf_addch(out, '\n');
		emit(v, out, v->type == NODE_LIST ? ind : ind + 2);
	}
}

static void emit(const struct node *n, struct buf *out, int ind)
{
	size_t i;
	if (n->type == NODE_MAP) {
		for (i = 0; i < n->u.map.n; i++) {
			indent(out, ind);
			struct buf key = BUF_INIT;
			inline_scalar(&key, n->u.map.entries[i].key);
			if (key.len > 1000) {
				/* YAML allows an implicit key of at most 1024 characters: an explicit one */
				buf_adds(out, "? ");
				buf_add(out, key.data, key.len);
				buf_addch(out, '\n');
				indent(out, ind);
			} else {
				buf_add(out, key.data, key.len);
			}
			buf_release(&key);
			buf_addch(out, ':');
			emit_value(n->u.map.entries[i].value, out, ind);
		}
	} else if (n->type == NODE_LIST) {
		for (i = 0; i < n->u.list.n; i++) {
			const struct node *v = n->u.list.items[i];
			indent(out, ind);
			buf_addch(out, '-');
			if (v->type == NODE_SCALAR) {
				buf_addch(out, ' ');
				scalar(out, node_str(v), ind + 2);
			} else if (v->type == NODE_MAP && v->u.map.n) {
				struct buf sub = BUF_INIT;
				emit(v, &sub, ind + 2);
				buf_adds(out, buf_str(&sub) + ind + 1);
				buf_release(&sub);
			} else if (v->type == NODE_LIST && v->u.list.n) {
				/* a list in a list: indented under its dash */
				buf_addch(out, '\n');
				emit(v, out, ind + 2);
			} else {
				emit_value(v, out, ind);
			}
		}
	} else {
		scalar(out, node_str(n), ind);
	}
}

void yamldump(const struct node *n, struct buf *out)
{
	if ((n->type == NODE_MAP && !n->u.map.n) || (n->type == NODE_LIST && !n->u.list.n)) {
		buf_adds(out, n->type == NODE_MAP ? "{}\n" : "[]\n");
		return;
	}
	emit(n, out, 0);
}

