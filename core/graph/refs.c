/* refs — tracked refs written back inline (a line edit of the element file) or to
 * project.refs or junction.refs (loaded, updated and dumped).
 * SPDX-License-Identifier: Apache-2.0 */
#include "graph/refs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/osutil.h"
#include "format/cachekey.h"
#include "format/yamldump.h"
#include "format/yamlload.h"
#include "plugin/rill-plugin.h"

/* 1 when ref can be written as a plain YAML scalar that reads back as the same string. */
static int plain_safe(const char *ref)
{
	size_t n = strlen(ref), i;
	if (!n || strchr("-?:,[]{}#&*!|>'\"%@` \t", ref[0]) || ref[n - 1] == ' ' || ref[n - 1] == ':')
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)ref[i];
		if (c < 0x20 || c == 0x7f || (c == ':' && ref[i + 1] == ' ') || (c == ' ' && ref[i + 1] == '#'))
			return 0;
	}
	return 1;
}

/* The text of ref as a YAML value: flow text as it is, a string plain when it can be, else
 * double-quoted (JSON's escapes are YAML's). */
static void ref_text(struct buf *out, const char *ref)
{
	if (ref[0] == RILL_REF_FLOW)
		buf_adds(out, ref + 1);
	else if (plain_safe(ref))
		buf_adds(out, ref);
	else {
		buf_addch(out, '"');
		cachekey_json_string(out, ref);
		buf_addch(out, '"');
	}
}

/* Offset of the start of line (1-based) in text, or len when past the end. */
static size_t line_start(const char *text, size_t len, uint32_t line)
{
	size_t off = 0;
	while (--line > 0) {
		const char *nl = memchr(text + off, '\n', len - off);
		if (!nl)
			return len;
		off = (size_t)(nl - text) + 1;
	}
	return off;
}

static int write_inline(struct project *p, struct element *e, size_t index, const char *ref,
			struct error *err)
{
	const struct node *sn = e->sources[index].node;
	const struct node_entry *kind = node_map_entry(sn, "kind"), *old = node_map_entry(sn, "ref");
	struct buf text = BUF_INIT, out = BUF_INIT;
	char *path;
	size_t off, end;
	int rc = -1;
	if (!sn->file || !kind)
		return error_set(err, "%s: cannot locate source %zu in a file to write its ref", e->name, index + 1);
	/* an element file is named within the element path, an included file from the project */
	if (e->node && sn->file == e->node->file)
		path = xasprintf("%s/%s/%s", p->dir, p->element_path, sn->file->name);
	else
		path = xasprintf("%s/%s", p->dir, sn->file->name);
	if (read_file(path, &text, err))
		goto out;
	if (old && old->value->line &&
	    (old->value->type != NODE_SCALAR || old->value->style == STYLE_LITERAL ||
	     old->value->style == STYLE_FOLDED || old->value->line != old->key_line)) {
		/* a block value (a list or map, a multi-line scalar): `ref:` and every line below it
		 * indented deeper (or blank) give way to `ref: <value>` */
		size_t next;
		off = line_start(text.data, text.len, old->key_line) + old->key_col;
		if (off > text.len)
			goto bad;
		end = off;
		while (end < text.len && text.data[end] != '\n')
			end++;
		for (next = end + 1; next < text.len;) {
			size_t i = next, indent = 0;
			while (i < text.len && text.data[i] == ' ')
				i++, indent++;
			int content = i < text.len && text.data[i] != '\n' && text.data[i] != '#';
			/* a block sequence may sit at its key's indentation */
			int item = old->value->type == NODE_LIST && indent == old->key_col && i + 1 < text.len &&
				   text.data[i] == '-' && (text.data[i + 1] == ' ' || text.data[i + 1] == '\n');
			if (content && indent <= old->key_col && !item)
				break;
			while (i < text.len && text.data[i] != '\n')
				i++;
			if (content)
				end = i;        /* blank and comment lines only when deeper lines follow */
			next = i + 1;
		}
		buf_add(&out, text.data, off);
		buf_adds(&out, "ref: ");
		ref_text(&out, ref);
		buf_add(&out, text.data + end, text.len - end);
	} else if (old && old->value->line) {
		/* replace the value: from its column to the end of its line */
		off = line_start(text.data, text.len, old->value->line) + old->value->col;
		end = off;
		while (end < text.len && text.data[end] != '\n')
			end++;
		if (off > text.len)
			goto bad;
		buf_add(&out, text.data, off);
		ref_text(&out, ref);
		buf_add(&out, text.data + end, text.len - end);
	} else {
		/* a new `ref:` line after the kind line, indented like kind */
		off = line_start(text.data, text.len, kind->key_line);
		if (off + kind->key_col > text.len || memchr(text.data + off, '{', kind->key_col))
			goto bad;
		end = off;
		while (end < text.len && text.data[end] != '\n')
			end++;
		buf_add(&out, text.data, end);
		if (end == text.len)
			buf_addch(&out, '\n');
		else
			buf_addch(&out, '\n'), end++;
		buf_addf(&out, "%*sref: ", (int)kind->key_col, "");
		ref_text(&out, ref);
		buf_addch(&out, '\n');
		buf_add(&out, text.data + end, text.len - end);
	}
	rc = os_write_file_atomic(path, out.data, out.len, err);
	goto out;
bad:
	rc = error_set(err, "%s [line %u column %u]: cannot write the ref inline here: write the source "
		       "as a block mapping", sn->file->name, sn->line, sn->col);
out:
	free(path);
	buf_release(&text);
	buf_release(&out);
	return rc;
}

static struct node *child_map(struct arena *a, struct node *m, const char *key)
{
	struct node *c = node_map_get(m, key);
	if (!c || c->type != NODE_MAP) {
		c = node_new_map(a, NULL);
		node_map_put(a, m, key, c);
	}
	return c;
}

/* Set the ref in the loaded project's refs file: junction.refs for a junction element's
 * sources, project.refs for the rest, under the name of the element's own project. */
static int write_refs_file(struct project *top, struct element *e, const char *pname, size_t index,
			   const char *ref, struct error *err)
{
	const char *fname = strcmp(e->kind, "junction") == 0 ? "junction.refs" : "project.refs";
	const char *ename = e->local_name ? e->local_name : e->name;
	char *path = xasprintf("%s/%s", top->dir, fname);
	struct arena *a = arena_new();
	struct node *doc = NULL, *proj, *list, *item;
	struct buf out = BUF_INIT;
	size_t i;
	int rc = -1;
	if (access(path, F_OK) == 0) {
		doc = yaml_load_file(a, path, fname, err);
		if (!doc)
			goto out;
	}
	if (!doc || doc->type != NODE_MAP)
		doc = node_new_map(a, NULL);
	proj = child_map(a, child_map(a, doc, "projects"), pname);
	list = node_map_get(proj, ename);
	if (!list || list->type != NODE_LIST) {
		list = node_new_list(a, NULL);
		node_map_put(a, proj, ename, list);
	}
	for (i = list->u.list.n; i <= index; i++)
		node_list_push(a, list, node_new_map(a, NULL));
	item = list->u.list.items[index];
	if (item->type != NODE_MAP) {
		item = node_new_map(a, NULL);
		list->u.list.items[index] = item;
	}
	if (ref[0] == RILL_REF_FLOW) {
		struct node *v = yaml_load_data(a, ref + 1, strlen(ref + 1), "ref", err);
		if (!v)
			goto out;
		node_map_put(a, item, "ref", v);
	} else {
		node_map_put(a, item, "ref", node_new_str(a, NULL, ref));
	}
	yamldump(doc, &out);
	rc = os_write_file_atomic(path, out.data, out.len, err);
out:
	buf_release(&out);
	arena_free(a);
	free(path);
	return rc;
}

int refs_write(struct project *p, struct element *e, size_t index, const char *ref, char **warning,
	       struct error *err)
{
	struct project *q = e->project ? e->project : p, *top = project_top(q);
	const struct node *sn;
	*warning = NULL;
	if (index >= e->nsources)
		return error_set(err, "%s: no source %zu", e->name, index + 1);
	if (top->refs_in_project_refs)
		return write_refs_file(top, e, q->name, index, ref, err);
	if (q != top) {
		/* the subproject's files are a staged copy of the junction's sources */
		*warning = xasprintf("%s: Not persisting new reference in junctioned project", e->name);
		return 0;
	}
	sn = e->sources[index].node;
	if (sn->file && strchr(sn->file->name, ':'))
		return error_set(err, "%s: Cannot track source in a fragment from a junction", sn->file->name);
	return write_inline(top, e, index, ref, err);
}
