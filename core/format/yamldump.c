/* yamldump — writes node trees as block-style YAML (for show's %{config}, %{vars}, ...).
 * SPDX-License-Identifier: Apache-2.0 */
#include "format/yamldump.h"

#include <string.h>

/* YAML emission: plain scalars when safe, else single-quoted; multi-line strings as '|'. */
static int plain_ok(const char *s)
{
	const char *p;
	if (!*s)
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

static void scalar(struct buf *out, const char *s, int ind)
{
	const char *p;
	if (strchr(s, '\n')) {
		const char *line = s;
		buf_adds(out, s[strlen(s) - 1] == '\n' ? "|\n" : "|-\n");
		while (*line) {
			const char *nl = strchr(line, '\n');
			size_t len = nl ? (size_t)(nl - line) : strlen(line);
			if (len) {
				indent(out, ind);
				buf_add(out, line, len);
			}
			buf_addch(out, '\n');
			if (!nl)
				break;
			line = nl + 1;
		}
		return;
	}
	if (plain_ok(s)) {
		buf_adds(out, s);
	} else {
		buf_addch(out, '\'');
		for (p = s; *p; p++) {
			if (*p == '\'')
				buf_addch(out, '\'');
			buf_addch(out, *p);
		}
		buf_addch(out, '\'');
	}
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
			if (plain_ok(n->u.map.entries[i].key))
				buf_adds(out, n->u.map.entries[i].key);
			else {
				buf_addf(out, "'%s'", n->u.map.entries[i].key);
			}
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

