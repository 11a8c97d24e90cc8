/* workspaces — BuildStream 1.6's workspaces: the state file <project>/.bst/workspaces.yml
 * (format-version 3, shared with bst), and an open workspace's part of the cache key: every
 * file below its directory with its modification time, in bst's list_relative_paths() order.
 * SPDX-License-Identifier: Apache-2.0 */
#include "graph/workspaces.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/osutil.h"
#include "format/cachekey.h"
#include "format/yamldump.h"
#include "format/yamlload.h"

#define WORKSPACE_FORMAT_VERSION 3

static char *state_path(const struct project *p)
{
	return xasprintf("%s/.bst/workspaces.yml", p->dir);
}

/* The `workspaces` map of the state file (loaded once; empty when there is none). */
static struct node *state(struct project *p, struct error *err)
{
	char *path;
	struct node *doc, *ws;
	long version = 0;
	p = project_top(p);
	if (p->workspaces)
		return p->workspaces;
	path = state_path(p);
	if (access(path, F_OK) != 0) {
		free(path);
		p->workspaces = node_new_map(p->a, NULL);
		return p->workspaces;
	}
	doc = yaml_load_file(p->a, path, ".bst/workspaces.yml", err);
	free(path);
	if (!doc)
		return NULL;
	if (doc->type != NODE_MAP) {
		node_error(err, doc, "Workspace configuration is not a mapping");
		return NULL;
	}
	if (node_get_int(doc, "format-version", 0, &version, err))
		return NULL;
	if (version == 0) {
		/* bst's format before versions: ELEMENT: PATH, or ELEMENT: {SOURCE-INDEX: PATH} for
		 * one source (an empty file is no workspace at all) */
		size_t i;
		ws = node_new_map(p->a, NULL);
		for (i = 0; i < doc->u.map.n; i++) {
			const char *element = doc->u.map.entries[i].key;
			const struct node *v = doc->u.map.entries[i].value;
			struct node *w = node_new_map(p->a, NULL);
			if (v->type == NODE_MAP) {
				if (v->u.map.n > 1) {
					node_error(err, v, "There are multiple workspaces open for '%s'.\nThis is not supported anymore.\nPlease remove this element from '%s/.bst/workspaces.yml'.",
						   element, p->dir);
					return NULL;
				}
				v = v->u.map.n ? v->u.map.entries[0].value : NULL;
			}
			if (!v || v->type != NODE_SCALAR) {
				node_error(err, doc->u.map.entries[i].value, "Workspace config is in unexpected format.");
				return NULL;
			}
			node_map_put(p->a, w, "path", (struct node *)v);
			node_map_put(p->a, ws, element, w);
		}
		p->workspaces = ws;
		return ws;
	}
	/* versions 1 to 3 have the same shape (bst reads them alike) */
	if (version > WORKSPACE_FORMAT_VERSION) {
		node_error(err, doc, "Workspace configuration format version %ld not supported. Your version of buildstream may be too old. Max supported version: %d",
			   version, WORKSPACE_FORMAT_VERSION);
		return NULL;
	}
	if (node_get_map(doc, "workspaces", &ws, err))
		return NULL;
	p->workspaces = ws ? ws : node_new_map(p->a, NULL);
	return p->workspaces;
}

int workspace_find(struct project *p, const char *element, struct workspace *out, struct error *err)
{
	struct node *ws = state(p, err), *w;
	const char *path = NULL, *last = NULL;
	int prepared = 0;
	memset(out, 0, sizeof(*out));
	if (!ws)
		return -1;
	w = node_map_get(ws, element);
	if (!w)
		return 0;
	if (w->type != NODE_MAP)
		return node_error(err, w, "Value of '%s' is not of the expected type 'dict'", element);
	if (node_get_required_str(w, "path", &path, err) || node_get_bool(w, "prepared", 0, &prepared, err) ||
	    node_get_str(w, "last_successful", NULL, &last, err))
		return -1;
	p = project_top(p);
	out->element = element;
	out->path = path;
	if (path[0] == '/') {
		out->abs = arena_strdup(p->a, path);
	} else {
		char *t = xasprintf("%s/%s", p->dir, path);
		out->abs = arena_strdup(p->a, t);
		free(t);
	}
	out->prepared = prepared;
	out->last_successful = last;
	return 1;
}

const char *const *workspace_list(struct project *p, size_t *n, struct error *err)
{
	struct node *ws = state(p, err);
	const char **names;
	size_t i;
	*n = 0;
	if (!ws)
		return NULL;
	p = project_top(p);
	names = arena_alloc(p->a, (ws->u.map.n + 1) * sizeof(*names));
	for (i = 0; i < ws->u.map.n; i++)
		names[i] = ws->u.map.entries[i].key;
	names[ws->u.map.n] = NULL;
	*n = ws->u.map.n;
	return names;
}

/* The state file as bst writes it: format-version, then workspaces with each one's prepared,
 * path, running_files and (when known) last_successful. */
static int save(struct project *p, struct error *err)
{
	struct node *doc = node_new_map(p->a, NULL), *ws = node_new_map(p->a, NULL);
	struct buf out = BUF_INIT;
	char *dir, *path;
	size_t i;
	int rc;
	node_map_put(p->a, doc, "format-version", node_new_kind(p->a, SCALAR_INT, "3"));
	for (i = 0; i < p->workspaces->u.map.n; i++) {
		const struct node *w = p->workspaces->u.map.entries[i].value;
		struct node *o = node_new_map(p->a, NULL);
		const struct node *last = node_map_get(w, "last_successful");
		int b = 0;
		/* bst's order (its node_sanitize sorts the keys) and its booleans */
		node_get_bool(w, "prepared", 0, &b, NULL);
		if (last && node_str(last) && *node_str(last))
			node_map_put(p->a, o, "last_successful", (struct node *)last);
		node_map_put(p->a, o, "path", (struct node *)node_map_get(w, "path"));
		node_map_put(p->a, o, "prepared", node_new_str(p->a, NULL, b ? "True" : "False"));
		node_map_put(p->a, o, "running_files", node_new_map(p->a, NULL));
		node_map_put(p->a, ws, p->workspaces->u.map.entries[i].key, o);
	}
	node_map_put(p->a, doc, "workspaces", ws);
	yamldump(doc, &out);
	dir = xasprintf("%s/.bst", p->dir);
	path = state_path(p);
	rc = os_mkdir_p(dir, err) || os_write_file_atomic(path, out.data, out.len, err) ? -1 : 0;
	free(dir);
	free(path);
	buf_release(&out);
	return rc;
}

int workspace_put(struct project *p, const char *element, const char *path, int prepared, const char *last_successful,
		  struct error *err)
{
	struct node *ws = state(p, err), *w;
	size_t i, plen;
	if (!ws)
		return -1;
	p = project_top(p);
	/* a directory inside the project is stored relative to it, as bst stores it */
	plen = strlen(p->dir);
	if (strncmp(path, p->dir, plen) == 0 && path[plen] == '/')
		path += plen + 1;
	w = node_new_map(p->a, NULL);
	node_map_put(p->a, w, "prepared", node_new_kind(p->a, SCALAR_BOOL, prepared ? "true" : "false"));
	node_map_put(p->a, w, "path", node_new_str(p->a, NULL, path));
	if (last_successful)
		node_map_put(p->a, w, "last_successful", node_new_str(p->a, NULL, last_successful));
	for (i = 0; i < ws->u.map.n; i++)
		if (strcmp(ws->u.map.entries[i].key, element) == 0) {
			ws->u.map.entries[i].value = w;
			return save(p, err);
		}
	node_map_put(p->a, ws, arena_strdup(p->a, element), w);
	return save(p, err);
}

int workspace_remove(struct project *p, const char *element, struct error *err)
{
	struct node *ws = state(p, err);
	size_t i;
	if (!ws)
		return -1;
	p = project_top(p);
	for (i = 0; i < ws->u.map.n; i++)
		if (strcmp(ws->u.map.entries[i].key, element) == 0) {
			memmove(&ws->u.map.entries[i], &ws->u.map.entries[i + 1],
				(ws->u.map.n - i - 1) * sizeof(ws->u.map.entries[0]));
			ws->u.map.n--;
			return save(p, err);
		}
	return 0;
}

/* ---- the key: [[relative path, st_mtime_ns], ...] ---------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void add_entry(struct buf *out, int *first, const char *rel, const struct stat *st)
{
	buf_adds(out, *first ? "[\"" : ",[\"");
	*first = 0;
	cachekey_json_string(out, rel);
	buf_addf(out, "\",%lld]", (long long)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec);
}

/* bst's utils.list_relative_paths() walk of dir (rel: its path below the top, "" at the top):
 * per directory, the symbolic links to directories, the directory itself when it has no
 * files, then its files; then the subdirectories, all sorted by name. */
static int walk(const char *top, const char *rel, struct buf *out, int *first, struct error *err)
{
	char *full = *rel ? xasprintf("%s/%s", top, rel) : xstrdup(top);
	DIR *d = opendir(full);
	struct dirent *en;
	char **names = NULL, **dirs = NULL, **files = NULL;
	size_t n = 0, cap = 0, nd = 0, nf = 0, i;
	int rc = 0;
	if (!d) {
		rc = error_set(err, "Failed to stat file in workspace: %s: %s", full, strerror(errno));
		free(full);
		return rc;
	}
	while ((en = readdir(d))) {
		if (!strcmp(en->d_name, ".") || !strcmp(en->d_name, ".."))
			continue;
		GROW(names, cap, n + 1);
		names[n++] = xstrdup(en->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	dirs = xmalloc((n + 1) * sizeof(*dirs));
	files = xmalloc((n + 1) * sizeof(*files));
	for (i = 0; i < n; i++) {
		char *path = xasprintf("%s/%s", full, names[i]);
		struct stat st, lst;
		if (lstat(path, &lst) == 0 && S_ISDIR(lst.st_mode))
			dirs[nd++] = names[i];
		else if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode) && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			/* os.walk lists it among the directories without entering it: bst yields it first */
			char *r = *rel ? xasprintf("%s/%s", rel, names[i]) : xstrdup(names[i]);
			add_entry(out, first, r, &lst);
			free(r);
		} else
			files[nf++] = names[i];
		free(path);
	}
	if (!nf) {
		struct stat st;
		if (lstat(full, &st) == 0)
			add_entry(out, first, *rel ? rel : ".", &st);
	}
	for (i = 0; i < nf && !rc; i++) {
		char *r = *rel ? xasprintf("%s/%s", rel, files[i]) : xstrdup(files[i]);
		char *path = xasprintf("%s/%s", top, r);
		struct stat st;
		if (lstat(path, &st) != 0)
			rc = error_set(err, "Failed to stat file in workspace: %s: %s", path, strerror(errno));
		else
			add_entry(out, first, r, &st);
		free(r);
		free(path);
	}
	for (i = 0; i < nd && !rc; i++) {
		char *r = *rel ? xasprintf("%s/%s", rel, dirs[i]) : xstrdup(dirs[i]);
		rc = walk(top, r, out, first, err);
		free(r);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(dirs);
	free(files);
	free(full);
	return rc;
}

int workspace_key_json(const char *abs, struct buf *out, struct error *err)
{
	struct stat st;
	int first = 1;
	if (lstat(abs, &st) != 0)
		return error_set(err, "Failed to stat file in workspace: %s: %s", abs, strerror(errno));
	buf_addch(out, '[');
	if (S_ISDIR(st.st_mode)) {
		if (walk(abs, "", out, &first, err))
			return -1;
	} else {
		add_entry(out, &first, abs, &st);
	}
	buf_addch(out, ']');
	return 0;
}
