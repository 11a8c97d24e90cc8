/* common.h — static inline helpers shared by rill's bundled plugins: BuildStream-style typed
 * config reading (with its messages and whitespace stripping) and the BuildElement logic.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_PLUGINS_COMMON_H
#define RILL_PLUGINS_COMMON_H

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rill-plugin.h"

/* ---------------------------------------------------------------------------------------------
 * Python's str.strip(): BuildStream strips every string it reads with node_get() (but not list
 * items read as a whole list, nor variable-expanded values). The whitespace set is Python's
 * str.isspace() over the UTF-8 encoding. */

/* Length in bytes of the whitespace character starting at s, or 0. */
static inline size_t common_space_len(const unsigned char *s)
{
	if ((s[0] >= 0x09 && s[0] <= 0x0d) || (s[0] >= 0x1c && s[0] <= 0x20))
		return 1;
	if (s[0] == 0xc2 && (s[1] == 0x85 || s[1] == 0xa0))
		return 2;
	if (s[0] == 0xe1 && s[1] == 0x9a && s[2] == 0x80)
		return 3;
	if (s[0] == 0xe2 && s[1] == 0x80 &&
	    ((s[2] >= 0x80 && s[2] <= 0x8a) || s[2] == 0xa8 || s[2] == 0xa9 || s[2] == 0xaf))
		return 3;
	if (s[0] == 0xe2 && s[1] == 0x81 && s[2] == 0x9f)
		return 3;
	if (s[0] == 0xe3 && s[1] == 0x80 && s[2] == 0x80)
		return 3;
	return 0;
}

/* Bounds [*start, *end) of s without leading and trailing whitespace. */
static inline void common_strip_bounds(const char *s, size_t *start, size_t *end)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len = strlen(s), b = 0, e = 0, i = 0, n;
	while ((n = common_space_len(u + b)) > 0)
		b += n;
	/* scan forward so multi-byte characters are recognised; e ends the last non-space */
	e = b;
	i = b;
	while (i < len) {
		n = common_space_len(u + i);
		if (n) {
			i += n;
		} else {
			i++;
			while (i < len && (u[i] & 0xc0) == 0x80)
				i++;
			e = i;
		}
	}
	*start = b;
	*end = e;
}

/* s stripped, as a backend-owned string (a copy made through host->new_str), or s itself when
 * nothing needs stripping. NULL only when out of memory. */
static inline const char *common_strip(const struct rill_host *host, struct rill_ctx *ctx,
				       const char *s)
{
	size_t b, e;
	char *tmp;
	const char *r;
	if (!s)
		return NULL;
	common_strip_bounds(s, &b, &e);
	if (b == 0 && s[e] == '\0')
		return s;
	tmp = malloc(e - b + 1);
	if (!tmp)
		return NULL;
	memcpy(tmp, s + b, e - b);
	tmp[e - b] = '\0';
	r = host->str(host->new_str(ctx, tmp));
	free(tmp);
	return r;
}

/* ---------------------------------------------------------------------------------------------
 * Typed reading with BuildStream's node_get() semantics and messages. These check presence
 * themselves (so they never depend on how the host treats a NULL default) and report errors
 * through host->error(), which prefixes the node's provenance like BuildStream does. */

static inline int common_missing(const struct rill_host *host, struct rill_ctx *ctx,
				 const struct rill_node *map, const char *key)
{
	return host->error(ctx, map, "Dictionary did not contain expected key '%s'", key);
}

static inline int common_wrong_type(const struct rill_host *host, struct rill_ctx *ctx,
				    const struct rill_node *at, const char *path, const char *type)
{
	return host->error(ctx, at, "Value of '%s' is not of the expected type '%s'", path, type);
}

/* A string member, stripped. Missing: error when required, else *out = def (not stripped
 * further; pass what BuildStream would return) and *node = NULL. node may be NULL. */
static inline int common_get_str(const struct rill_host *host, struct rill_ctx *ctx,
				 const struct rill_node *map, const char *key, int required,
				 const char *def, const char **out, const struct rill_node **node)
{
	const struct rill_node *v = host->get(map, key);
	*out = def;
	if (node)
		*node = v;
	if (!v) {
		if (required)
			return common_missing(host, ctx, map, key);
		*out = def;
		return 0;
	}
	if (host->type(v) != RILL_NODE_SCALAR)
		return common_wrong_type(host, ctx, v, key, "str");
	*out = common_strip(host, ctx, host->str(v));
	return *out ? 0 : host->error(ctx, v, "Out of memory");
}

/* A boolean member: only true/True/false/False, like BuildStream. */
static inline int common_get_bool(const struct rill_host *host, struct rill_ctx *ctx,
				  const struct rill_node *map, const char *key, int required, int def,
				  int *out)
{
	const struct rill_node *v = host->get(map, key);
	const char *s;
	*out = def;
	if (!v) {
		if (required)
			return common_missing(host, ctx, map, key);
		*out = def;
		return 0;
	}
	s = host->str(v);
	if (s && (strcmp(s, "true") == 0 || strcmp(s, "True") == 0)) {
		*out = 1;
		return 0;
	}
	if (s && (strcmp(s, "false") == 0 || strcmp(s, "False") == 0)) {
		*out = 0;
		return 0;
	}
	return common_wrong_type(host, ctx, v, key, "bool");
}

/* Python's int() of a string: surrounding whitespace, an optional sign, ASCII digits with
 * single underscores between them. Returns 0 on success. */
static inline int common_parse_int(const char *s, long *out)
{
	size_t b, e, i;
	int neg = 0, digits = 0, prev_us = 0;
	unsigned long v = 0, lim;
	common_strip_bounds(s, &b, &e);
	i = b;
	if (i < e && (s[i] == '+' || s[i] == '-'))
		neg = s[i++] == '-';
	lim = neg ? (unsigned long)LONG_MAX + 1ul : (unsigned long)LONG_MAX;
	for (; i < e; i++) {
		if (s[i] == '_') {
			if (!digits || prev_us)
				return -1;
			prev_us = 1;
			continue;
		}
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (lim - (unsigned long)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
		digits++;
		prev_us = 0;
	}
	if (!digits || prev_us)
		return -1;
	*out = neg ? (long)(0ul - v) : (long)v;
	return 0;
}

static inline int common_get_int(const struct rill_host *host, struct rill_ctx *ctx,
				 const struct rill_node *map, const char *key, long def, long *out)
{
	const struct rill_node *v = host->get(map, key);
	const char *s;
	*out = def;
	if (!v)
		return 0;
	s = host->str(v);
	if (!s || common_parse_int(s, out) != 0)
		return common_wrong_type(host, ctx, v, key, "int");
	return 0;
}

/* A list member. Missing: error when required, else *out = NULL. */
static inline int common_get_list(const struct rill_host *host, struct rill_ctx *ctx,
				  const struct rill_node *map, const char *key, int required,
				  const struct rill_node **out)
{
	const struct rill_node *v = host->get(map, key);
	*out = NULL;
	if (!v)
		return required ? common_missing(host, ctx, map, key) : 0;
	if (host->type(v) != RILL_NODE_LIST)
		return common_wrong_type(host, ctx, v, key, "list");
	*out = v;
	return 0;
}

/* A mapping member (BuildStream names the type 'Mapping' where a plugin asks for one). */
static inline int common_get_map(const struct rill_host *host, struct rill_ctx *ctx,
				 const struct rill_node *map, const char *key, const char *type_name,
				 const struct rill_node **out)
{
	const struct rill_node *v = host->get(map, key);
	*out = NULL;
	if (!v)
		return 0;
	if (host->type(v) != RILL_NODE_MAP)
		return common_wrong_type(host, ctx, v, key, type_name);
	*out = v;
	return 0;
}

/* Item i of list (read from map[key]) must be a scalar; message names "key[i]". */
static inline int common_list_item_str(const struct rill_host *host, struct rill_ctx *ctx,
				       const struct rill_node *list, const char *key, size_t i,
				       const struct rill_node **item)
{
	char path[256];
	*item = host->at(list, i);
	if (*item && host->type(*item) == RILL_NODE_SCALAR)
		return 0;
	snprintf(path, sizeof(path), "%s[%zu]", key, i);
	return common_wrong_type(host, ctx, *item, path, "str");
}

/* ---------------------------------------------------------------------------------------------
 * Variable substitution. host->subst expands the scalar exactly as written; BuildStream strips
 * the string first when it was read with node_get() (node_subst_member,
 * node_subst_list_element) but not for node_subst_list(). Stripping never changes which
 * variables are referenced, so we expand the original node first (errors then carry its
 * provenance) and, when stripping matters, expand the stripped copy. */
static inline int common_subst(const struct rill_host *host, struct rill_ctx *ctx,
			       const struct rill_node *scalar, int strip, const char **out)
{
	const char *raw = host->str(scalar), *stripped;
	if (host->subst(ctx, scalar, out) != 0)
		return -1;
	if (!strip)
		return 0;
	stripped = common_strip(host, ctx, raw);
	if (!stripped)
		return host->error(ctx, scalar, "Out of memory");
	if (stripped == raw)
		return 0;
	return host->subst(ctx, host->new_str(ctx, stripped), out);
}

/* node_subst_member(): a string member, stripped then substituted. Missing: error when
 * required, else *out = NULL. */
static inline int common_subst_member(const struct rill_host *host, struct rill_ctx *ctx,
				      const struct rill_node *map, const char *key, int required,
				      const char **out)
{
	const struct rill_node *v = host->get(map, key);
	*out = NULL;
	if (!v)
		return required ? common_missing(host, ctx, map, key) : 0;
	if (host->type(v) != RILL_NODE_SCALAR)
		return common_wrong_type(host, ctx, v, key, "str");
	return common_subst(host, ctx, v, 1, out);
}

/* A list of command strings as a new key list: each item substituted, stripped first when
 * strip is set (node_subst_list_element) or as written (node_subst_list). A missing key gives
 * an error when required, else an empty list. */
static inline int common_subst_list(const struct rill_host *host, struct rill_ctx *ctx,
				    const struct rill_node *map, const char *key, int required,
				    int strip, struct rill_node **out)
{
	const struct rill_node *list, *item;
	const char *s;
	size_t i, n;
	*out = NULL;
	if (common_get_list(host, ctx, map, key, required, &list) != 0)
		return -1;
	*out = host->new_list(ctx);
	n = list ? host->len(list) : 0;
	for (i = 0; i < n; i++) {
		if (common_list_item_str(host, ctx, list, key, i, &item) != 0)
			return -1;
		if (common_subst(host, ctx, item, strip, &s) != 0)
			return -1;
		host->list_push(ctx, *out, host->new_str(ctx, s));
	}
	return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Sorting strings the way Python sorts str: by code point. Valid UTF-8 compares like bytes;
 * file names that are not valid UTF-8 are decoded with surrogateescape by Python (each bad
 * byte b becomes U+DC00+b), which we reproduce. */

/* Decode the code point at s (len bytes left) like Python's utf-8 + surrogateescape. */
static inline unsigned long common_py_codepoint(const unsigned char *s, size_t len, size_t *used)
{
	unsigned char c = s[0];
	size_t n = 0, k;
	unsigned long cp = 0;
	unsigned char lo = 0x80, hi = 0xbf;
	if (c < 0x80) {
		*used = 1;
		return c;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	}
	if (n == 0 || len < n)
		goto bad;
	for (k = 1; k < n; k++) {
		unsigned char lo_k = k == 1 ? lo : 0x80, hi_k = k == 1 ? hi : 0xbf;
		if (s[k] < lo_k || s[k] > hi_k)
			goto bad;
		cp = (cp << 6) | (s[k] & 0x3f);
	}
	*used = n;
	return cp;
bad:
	*used = 1;
	return 0xdc00ul + c;
}

static inline int common_py_strcmp(const char *a, const char *b)
{
	const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
	size_t lx = strlen(a), ly = strlen(b), ux, uy;
	while (lx && ly) {
		unsigned long cx = common_py_codepoint(x, lx, &ux), cy = common_py_codepoint(y, ly, &uy);
		if (cx != cy)
			return cx < cy ? -1 : 1;
		x += ux;
		y += uy;
		lx -= ux;
		ly -= uy;
	}
	return lx ? 1 : ly ? -1 : 0;
}

static inline int common_qsort_py_strcmp(const void *a, const void *b)
{
	return common_py_strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* sorted(list) of a list member read raw (node_get_member(node, list, key)): every item must
 * be a string (Python could not sort mixed items). Builds the sorted key list in *out. */
static inline int common_sorted_str_list(const struct rill_host *host, struct rill_ctx *ctx,
					 const struct rill_node *map, const char *key,
					 struct rill_node **out)
{
	const struct rill_node *list, *item;
	const char **v;
	size_t i, n;
	*out = NULL;
	if (common_get_list(host, ctx, map, key, 1, &list) != 0)
		return -1;
	n = host->len(list);
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return host->error(ctx, list, "Out of memory");
	for (i = 0; i < n; i++) {
		if (common_list_item_str(host, ctx, list, key, i, &item) != 0) {
			free(v);
			return -1;
		}
		v[i] = host->str(item);
	}
	qsort(v, n, sizeof(*v), common_qsort_py_strcmp);
	*out = host->new_list(ctx);
	for (i = 0; i < n; i++)
		host->list_push(ctx, *out, host->new_str(ctx, v[i]));
	free(v);
	return 0;
}

/* ---------------------------------------------------------------------------------------------
 * BuildElement (manual, autotools, cmake, make, meson): the configurable command steps, the
 * legacy steps that always appear in the key as [], and notparallel. */

#define COMMON_BUILD_ELEMENT_CONFIG_KEYS \
	"configure-commands", "build-commands", "install-commands", "strip-commands", \
	"create-dev-shm", NULL

static inline int common_build_element_configure(const struct rill_host *host, struct rill_ctx *ctx,
						 const struct rill_node *config,
						 struct rill_configured *out)
{
	/* every legacy step is in the key; only these four are read from config */
	static const char *const legacy_steps[] = {
		"bootstrap-commands", "configure-commands", "build-commands",
		"test-commands", "install-commands", "strip-commands",
	};
	static const char *const steps[] = {
		"configure-commands", "build-commands", "install-commands", "strip-commands",
	};
	struct rill_node *key = host->new_map(ctx), *cmds;
	const char *notparallel;
	int dev_shm;
	size_t i, j;
	if (common_get_bool(host, ctx, config, "create-dev-shm", 0, 0, &dev_shm) != 0)
		return -1;
	for (i = 0; i < sizeof(legacy_steps) / sizeof(legacy_steps[0]); i++) {
		int configurable = 0;
		for (j = 0; j < sizeof(steps) / sizeof(steps[0]); j++)
			if (strcmp(steps[j], legacy_steps[i]) == 0)
				configurable = 1;
		if (configurable) {
			if (common_subst_list(host, ctx, config, legacy_steps[i], 0, 1, &cmds) != 0)
				return -1;
		} else {
			cmds = host->new_list(ctx);
		}
		host->map_put(ctx, key, legacy_steps[i], cmds);
	}
	/* Python truthiness of the resolved variable: any non-empty string, "False" included */
	notparallel = host->variable(ctx, "notparallel");
	if (notparallel && notparallel[0] != '\0')
		host->map_put(ctx, key, "notparallel", host->new_bool(ctx, 1));
	out->unique_key = key;
	return 0;
}

/* ---------------------------------------------------------------------------------------------
 * node_get_project_path(): a path member that must name something inside the project. Checks
 * and messages follow BuildStream's _yaml.node_get_project_path() in its order: not a symlink,
 * first component not '..', exists, stays inside the project, not a socket/fifo/block device,
 * and (check_is_file) a regular file. *out is the path as written (stripped). */

/* pathlib's normalisation of a relative or absolute path: no empty or '.' components. Returns
 * a malloc'd string ("." when nothing is left of a relative path); *first_dotdot is set when
 * the first component is "..". */
static inline char *common_pathlib_norm(const char *s, int *first_dotdot)
{
	size_t len = strlen(s), i = 0, o = 0;
	char *r = malloc(len + 2);
	int first = 1;
	if (!r)
		return NULL;
	*first_dotdot = 0;
	if (s[0] == '/')
		r[o++] = '/';
	while (i < len) {
		size_t j = i;
		while (j < len && s[j] != '/')
			j++;
		if (j > i && !(j - i == 1 && s[i] == '.')) {
			if (first && s[0] != '/' && j - i == 2 && s[i] == '.' && s[i + 1] == '.')
				*first_dotdot = 1;
			if (o > 0 && r[o - 1] != '/')
				r[o++] = '/';
			memcpy(r + o, s + i, j - i);
			o += j - i;
			first = 0;
		}
		i = j + 1;
	}
	if (o == 0)
		r[o++] = '.';
	r[o] = '\0';
	return r;
}

static inline int common_project_path(const struct rill_host *host, struct rill_ctx *ctx,
				      const struct rill_node *map, const char *key, int check_is_file,
				      const char **out)
{
	const struct rill_node *v;
	const char *path, *project = host->project_dir(ctx);
	char *rel = NULL, *proj = NULL, *joined = NULL, *full = NULL, *proj_real = NULL;
	struct stat st;
	int dotdot, proj_dotdot, rc = -1;
	size_t plen;
	if (common_get_str(host, ctx, map, key, 1, NULL, &path, &v) != 0)
		return -1;
	*out = path;
	rel = common_pathlib_norm(path, &dotdot);
	proj = common_pathlib_norm(project, &proj_dotdot);
	if (!rel || !proj)
		goto oom;
	if (rel[0] == '/') {
		joined = strdup(rel);
	} else if (strcmp(rel, ".") == 0) {
		joined = strdup(proj);
	} else {
		joined = malloc(strlen(proj) + strlen(rel) + 2);
		if (joined)
			sprintf(joined, "%s%s%s", proj, strcmp(proj, "/") == 0 ? "" : "/", rel);
	}
	if (!joined)
		goto oom;
	if (lstat(joined, &st) == 0 && S_ISLNK(st.st_mode)) {
		host->error(ctx, v, "Specified path '%s' must not point to symbolic links ", path);
		goto done;
	}
	if (dotdot) {
		host->error(ctx, v, "Specified path '%s' first component must not be '..'", path);
		goto done;
	}
	full = realpath(joined, NULL);
	if (!full) {
		host->error(ctx, v, "Specified path '%s' does not exist", path);
		goto done;
	}
	proj_real = realpath(proj, NULL);
	if (!proj_real && !(proj_real = strdup(proj)))
		goto oom;
	plen = strlen(proj_real);
	/* inside: the resolved project directory is a parent, or it is the project directory */
	if (rel[0] == '/' ||
	    !((strcmp(proj_real, "/") == 0 && strcmp(full, "/") != 0) ||
	      (strncmp(full, proj_real, plen) == 0 && full[plen] == '/') ||
	      strcmp(full, proj) == 0)) {
		host->error(ctx, v, "Specified path '%s' must not lead outside of the project directory",
			    path);
		goto done;
	}
	if (stat(full, &st) == 0 && (S_ISSOCK(st.st_mode) || S_ISFIFO(st.st_mode) || S_ISBLK(st.st_mode))) {
		host->error(ctx, v, "Specified path '%s' points to an unsupported file kind", path);
		goto done;
	}
	if (check_is_file && !(stat(full, &st) == 0 && S_ISREG(st.st_mode))) {
		host->error(ctx, v, "Specified path '%s' is not a regular file", path);
		goto done;
	}
	rc = 0;
	goto done;
oom:
	host->error(ctx, v, "Out of memory");
done:
	free(rel);
	free(proj);
	free(joined);
	free(full);
	free(proj_real);
	return rc;
}

/* ---------------------------------------------------------------------------------------------
 * DownloadableFileSource (tar, zip, remote): `url` (required), `ref` and the deprecated,
 * ignored `etag` (strings when present). The key starts with the URL as written (alias
 * included) and the ref; *ref is NULL when the source has none. */

#define COMMON_DOWNLOADABLE_CONFIG_KEYS "url", "ref", "etag"

static inline int common_downloadable_configure(const struct rill_host *host, struct rill_ctx *ctx,
						const struct rill_node *config, const char **url,
						const char **ref)
{
	const char *etag, *translated;
	if (common_get_str(host, ctx, config, "url", 1, NULL, url, NULL) != 0 ||
	    common_get_str(host, ctx, config, "ref", 0, NULL, ref, NULL) != 0 ||
	    common_get_str(host, ctx, config, "etag", 0, NULL, &etag, NULL) != 0)
		return -1;
	/* checks the alias (an unknown one is an error, none at all a warning) */
	return host->translate_url(ctx, host->get(config, "url"), *url, &translated);
}

/* [url, ref] of a downloadable source, or NULL without a ref. */
static inline struct rill_node *common_downloadable_key(const struct rill_host *host,
							struct rill_ctx *ctx, const char *url,
							const char *ref)
{
	struct rill_node *key;
	if (!ref)
		return NULL;
	key = host->new_list(ctx);
	host->list_push(ctx, key, host->new_str(ctx, url));
	host->list_push(ctx, key, host->new_str(ctx, ref));
	return key;
}

/* "a/b" from a and b, malloc'd (NULL when out of memory). */
static inline char *common_join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *r = malloc(la + lb + 2);
	if (!r)
		return NULL;
	memcpy(r, a, la);
	if (la == 0 || a[la - 1] != '/')
		r[la++] = '/';
	memcpy(r + la, b[0] == '/' ? b + 1 : b, lb + (b[0] == '/' ? 0 : 1));
	return r;
}

/* Commands gathered from one or more lists for host->run_commands(). */
struct common_commands {
	const char **cmds, **notes;
	char **owned;           /* the notes, freed by common_commands_release() */
	size_t n, cap;
};

static inline void common_commands_release(struct common_commands *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->owned[i]);
	free(b->cmds);
	free(b->notes);
	free(b->owned);
	memset(b, 0, sizeof(*b));
}

/* Append cmd (backend-owned) with note (copied, may be NULL). -1 when out of memory. */
static inline int common_commands_add(struct common_commands *b, const char *cmd, const char *note)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 16;
		const char **c, **nt;
		char **o;
		if ((c = realloc(b->cmds, cap * sizeof(*c))))
			b->cmds = c;
		if ((nt = realloc(b->notes, cap * sizeof(*nt))))
			b->notes = nt;
		if ((o = realloc(b->owned, cap * sizeof(*o))))
			b->owned = o;
		if (!c || !nt || !o)
			return -1;
		b->cap = cap;
	}
	b->owned[b->n] = note ? strdup(note) : NULL;
	if (note && !b->owned[b->n])
		return -1;
	b->notes[b->n] = b->owned[b->n];
	b->cmds[b->n++] = cmd;
	return 0;
}

/* Append every command of the list config[key] (variables expanded), the first with the
 * status "Running <key>". */
static inline int common_commands_add_list(const struct rill_host *host, struct rill_ctx *ctx,
					   struct common_commands *b, const struct rill_node *config,
					   const char *key)
{
	struct rill_node *cmds;
	char note[128];
	size_t i, n;
	if (common_subst_list(host, ctx, config, key, 0, 0, &cmds) != 0)
		return -1;
	n = host->len(cmds);
	snprintf(note, sizeof(note), "Running %s", key);
	for (i = 0; i < n; i++)
		if (common_commands_add(b, host->str(host->at(cmds, i)), i ? NULL : note) != 0)
			return host->error(ctx, NULL, "Out of memory");
	return 0;
}

/* Run every command of the list config[key] (variables expanded) in one sandbox. */
static inline int common_run_commands(const struct rill_host *host, struct rill_ctx *ctx,
				      const struct rill_node *config, const char *key, unsigned flags,
				      const char *cwd)
{
	struct common_commands b = {0};
	int rc = common_commands_add_list(host, ctx, &b, config, key);
	if (rc == 0)
		rc = host->run_commands(ctx, b.cmds, b.notes, b.n, flags, cwd);
	common_commands_release(&b);
	return rc;
}

/* BuildElement's assemble: stage the build dependencies at /, integrate them, stage the
 * sources in %{build-root}, run the configure, build, install and strip commands in
 * %{build-root}[/%{command-subdir}] with a read-only root, collect %{install-root}. All the
 * commands run in one sandbox: starting bubblewrap costs more than a small command. */
static inline int common_build_element_assemble(const struct rill_host *host, struct rill_ctx *ctx,
						const struct rill_node *config)
{
	static const char *const steps[] = {"configure-commands", "build-commands", "install-commands",
					    "strip-commands"};
	const char *build_root = host->variable(ctx, "build-root");
	const char *install_root = host->variable(ctx, "install-root");
	const char *subdir = host->variable(ctx, "command-subdir");
	struct common_commands b = {0};
	char *cwd;
	int dev_shm, rc = 0;
	size_t i;
	if (!build_root || !install_root)
		return host->error(ctx, NULL, "build-root and install-root must be defined");
	if (common_get_bool(host, ctx, config, "create-dev-shm", 0, 0, &dev_shm) != 0)
		return -1;
	if (host->stage_deps(ctx, "/") || host->integrate(ctx) || host->stage_sources(ctx, build_root))
		return -1;
	cwd = subdir && subdir[0] ? common_join(build_root, subdir) : strdup(build_root);
	if (!cwd)
		return host->error(ctx, NULL, "Out of memory");
	/* in a workspace, configure-commands run once (bst's prepare()) */
	for (i = host->workspace_prepared(ctx) ? 1 : 0; i < sizeof(steps) / sizeof(steps[0]) && !rc; i++)
		rc = common_commands_add_list(host, ctx, &b, config, steps[i]);
	if (rc == 0)
		rc = host->run_commands(ctx, b.cmds, b.notes, b.n,
					RILL_RUN_ROOT_READ_ONLY | (dev_shm ? RILL_RUN_DEV_SHM : 0), cwd);
	common_commands_release(&b);
	free(cwd);
	host->collect(ctx, install_root);
	return rc;
}

/* The whole plugin for a BuildElement kind whose only difference is its name and default YAML
 * (manual, autotools, cmake, make, meson). */
#define COMMON_BUILD_ELEMENT_PLUGIN(KIND)                                                         \
	static const char *const config_keys[] = {COMMON_BUILD_ELEMENT_CONFIG_KEYS};                  \
	static int configure(const struct rill_host *host, struct rill_ctx *ctx,                      \
			     const struct rill_node *config, struct rill_configured *out)                \
	{                                                                                             \
		return common_build_element_configure(host, ctx, config, out);                        \
	}                                                                                             \
	RILL_PLUGIN_EXPORT const struct rill_plugin rill_plugin = {                                   \
		.abi_version = RILL_PLUGIN_ABI_VERSION,                                                   \
		.type = RILL_PLUGIN_ELEMENT,                                                              \
		.kind = KIND,                                                                             \
		.config_keys = config_keys,                                                               \
		.configure = configure,                                                                   \
		.assemble = common_build_element_assemble,                                                \
	}

/* ---------------------------------------------------------------------------------------------
 * Host tools, checked when the source is loaded as BuildStream's preflight() checks them. */

/* 0 when tool is an executable in PATH; else BuildStream's error, for a source of kind at node. */
static inline int common_host_tool(const struct rill_host *host, struct rill_ctx *ctx, const struct rill_node *node,
				   const char *kind, const char *tool)
{
	const char *path = getenv("PATH"), *p;
	char buf[PATH_MAX];
	for (p = path; p && *p;) {
		const char *end = strchr(p, ':');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n && snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, p, tool) < (int)sizeof(buf) &&
		    access(buf, X_OK) == 0)
			return 0;
		p = end ? end + 1 : p + n;
	}
	return host->error(ctx, NULL, "%s source at %s: Did not find '%s' in PATH: %s", kind,
			   host->provenance(ctx, node), tool, path ? path : "");
}

/* An archive source (tar, zip): a download with a sha256 ref, staged from base-dir; unique key
 * [url as written, ref, base-dir or null]. */
static inline int common_archive_configure(const struct rill_host *host, struct rill_ctx *ctx,
					   const struct rill_node *config, struct rill_configured *out)
{
	const char *url, *ref, *base_dir;
	struct rill_node *key;
	if (common_downloadable_configure(host, ctx, config, &url, &ref) != 0)
		return -1;
	if (common_get_str(host, ctx, config, "base-dir", 0, "*", &base_dir, NULL) != 0)
		return -1;
	{
		/* the URL as written ends as the translated one does (an alias stands for a prefix) */
		const char *kind = host->plugin(ctx)->kind;
		size_t n = strlen(url);
		if (strcmp(kind, "tar") == 0 && n >= 3 && strcmp(url + n - 3, ".lz") == 0 &&
		    common_host_tool(host, ctx, config, kind, "lzip") != 0)
			return -1;
	}
	key = common_downloadable_key(host, ctx, url, ref);
	if (key) {
		/* an empty base-dir means "none" (Python's `or None`) */
		host->list_push(ctx, key, base_dir[0] ? host->new_str(ctx, base_dir) : host->new_null(ctx));
	}
	out->unique_key = key;
	return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Source hooks of the downloadable kinds (tar, zip, remote). fetch() keeps the download as
 * `<dir>/file`; stage() reads it from there. */

/* printf into a backend-owned string; NULL only when out of memory (an error is recorded). */
static inline const char *common_fmt(const struct rill_host *host, struct rill_ctx *ctx, const char *fmt, ...)
	RILL_PRINTF(3, 4);
static inline const char *common_fmt(const struct rill_host *host, struct rill_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	char *tmp;
	const char *r;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	tmp = n < 0 ? NULL : malloc((size_t)n + 1);
	if (!tmp) {
		host->error(ctx, NULL, "Out of memory");
		return NULL;
	}
	va_start(ap, fmt);
	vsnprintf(tmp, (size_t)n + 1, fmt, ap);
	va_end(ap);
	r = host->str(host->new_str(ctx, tmp));
	free(tmp);
	return r;
}

/* The translated URL and the ref (NULL when absent) of a downloadable source's node. */
static inline int common_downloadable_read(const struct rill_host *host, struct rill_ctx *ctx,
					   const struct rill_node *node, const char **url, const char **ref)
{
	const char *written;
	if (common_get_str(host, ctx, node, "url", 1, NULL, &written, NULL) != 0 ||
	    common_get_str(host, ctx, node, "ref", 0, NULL, ref, NULL) != 0)
		return -1;
	return host->translate_url(ctx, host->get(node, "url"), written, url);
}

/* fetch: download the URL to <dir>/file and check its SHA-256 against the ref. */
static inline int common_downloadable_fetch(const struct rill_host *host, struct rill_ctx *ctx,
					    const struct rill_node *node, const char *dir)
{
	const char *url, *ref, *file;
	char hex[65];
	if (common_downloadable_read(host, ctx, node, &url, &ref) != 0)
		return -1;
	if (!ref)
		return host->error(ctx, node, "%s: no ref to fetch; track the source first", url);
	if (!(file = common_fmt(host, ctx, "%s/file", dir)))
		return -1;
	host->status(ctx, "Fetching %s", url);
	if (host->download(ctx, url, file) != 0 || host->sha256_file(ctx, file, hex) != 0)
		return -1;
	if (strcmp(hex, ref) != 0)
		return host->error(ctx, NULL, "%s: checksum mismatch: expected %s, got %s", url, ref, hex);
	return 0;
}

/* track: download to a temporary directory; the new ref is the SHA-256 of the file. */
static inline int common_downloadable_track(const struct rill_host *host, struct rill_ctx *ctx,
					    const struct rill_node *node, const char **ref)
{
	const char *url, *old, *tmpdir = getenv("TMPDIR");
	char dir[PATH_MAX], file[PATH_MAX + 8], hex[65];
	int rc;
	*ref = NULL;
	if (common_downloadable_read(host, ctx, node, &url, &old) != 0)
		return -1;
	snprintf(dir, sizeof(dir), "%s/rill-track-XXXXXX", tmpdir && tmpdir[0] ? tmpdir : "/tmp");
	if (!mkdtemp(dir))
		return host->error(ctx, NULL, "%s: cannot create a temporary directory '%s': %s", url, dir,
				   strerror(errno));
	snprintf(file, sizeof(file), "%s/file", dir);
	host->status(ctx, "Tracking %s", url);
	rc = host->download(ctx, url, file) == 0 && host->sha256_file(ctx, file, hex) == 0 ? 0 : -1;
	unlink(file);
	rmdir(dir);
	if (rc == 0)
		*ref = host->str(host->new_str(ctx, hex));
	return rc;
}

/* An archive source's stage: extract <dir>/file into dest from its base-dir. */
static inline int common_archive_stage(const struct rill_host *host, struct rill_ctx *ctx,
				       const struct rill_node *node, const char *dir, const char *dest)
{
	const char *base_dir, *file;
	if (common_get_str(host, ctx, node, "base-dir", 0, "*", &base_dir, NULL) != 0)
		return -1;
	if (!(file = common_fmt(host, ctx, "%s/file", dir)))
		return -1;
	host->status(ctx, "Staging %s", file);
	return host->extract(ctx, file, dest, base_dir);
}

#define COMMON_ARCHIVE_SOURCE_PLUGIN(KIND)                                                        \
	static const char *const config_keys[] = {COMMON_DOWNLOADABLE_CONFIG_KEYS, "base-dir", NULL}; \
	RILL_PLUGIN_EXPORT const struct rill_plugin rill_plugin = {                                   \
		.abi_version = RILL_PLUGIN_ABI_VERSION,                                                   \
		.type = RILL_PLUGIN_SOURCE,                                                               \
		.kind = KIND,                                                                             \
		.config_keys = config_keys,                                                               \
		.configure = common_archive_configure,                                                    \
		.fetch = common_downloadable_fetch,                                                       \
		.stage = common_archive_stage,                                                            \
		.track = common_downloadable_track,                                                       \
	}

/* ---------------------------------------------------------------------------------------------
 * Scratch directories of sources that unpack in steps (deb, ostree). */

/* A new directory dir/.rill-<what>-XXXXXX (heap; free it), or NULL after host->error(). */
static inline char *common_mkdtemp_in(const struct rill_host *host, struct rill_ctx *ctx, const char *dir,
				      const char *what)
{
	size_t n = strlen(dir) + strlen(what) + 16;
	char *tmp = malloc(n);
	if (tmp)
		snprintf(tmp, n, "%s/.rill-%s-XXXXXX", dir, what);
	if (!tmp || !mkdtemp(tmp)) {
		free(tmp);
		host->error(ctx, NULL, "Failed to create a directory in '%s': %s", dir, strerror(errno));
		return NULL;
	}
	return tmp;
}

static inline int common_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

/* Remove path and everything below it (best effort). */
static inline void common_rm_rf(const char *path)
{
	nftw(path, common_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
