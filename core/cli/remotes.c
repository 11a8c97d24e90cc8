/* remotes — see remotes.h.
 * SPDX-License-Identifier: Apache-2.0 */
#include "cli/remotes.h"

#include <stdlib.h>
#include <string.h>

#include "format/node.h"

static char *joined(const char *base, const char *path)
{
	if (!base || path[0] == '/')
		return xstrdup(path);
	return xasprintf("%s/%s", base, path);
}

static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* One spec mapping (bst's ArtifactCacheSpec._new_from_config_node); paths joined to base. */
static int spec_from(const struct node *m, const char *base, struct remote_spec *s, struct error *err)
{
	static const char *const allowed[] = {"url", "push", "server-cert", "client-key", "client-cert", NULL};
	const char *url, *cert = NULL, *key = NULL, *ccert = NULL;
	memset(s, 0, sizeof(*s));
	if (m->type != NODE_MAP)
		return node_error(err, m, "'artifacts' must be a single 'url:' mapping, or a list of mappings");
	if (node_validate(m, allowed, err) || node_get_str(m, "url", "", &url, err) ||
	    node_get_bool(m, "push", 0, &s->push, err) || node_get_str(m, "server-cert", NULL, &cert, err) ||
	    node_get_str(m, "client-key", NULL, &key, err) || node_get_str(m, "client-cert", NULL, &ccert, err))
		return -1;
	if (!*url)
		return node_error(err, node_map_get(m, "url") ? node_map_get(m, "url") : m, "empty artifact cache URL");
	if (key && *key && !(ccert && *ccert))
		return node_error(err, node_map_get(m, "client-key"), "'client-key' was specified without 'client-cert'");
	if (ccert && *ccert && !(key && *key))
		return node_error(err, node_map_get(m, "client-cert"), "'client-cert' was specified without 'client-key'");
	if (!str_has_prefix(url, "http://") && !str_has_prefix(url, "https://"))
		return node_error(err, node_map_get(m, "url"), "Unsupported URL: %s (a remote artifact cache is http:// or https://)", url);
	s->url = xstrdup(url);
	s->server_cert = cert && *cert ? joined(base, cert) : NULL;
	s->client_key = key && *key ? joined(base, key) : NULL;
	s->client_cert = ccert && *ccert ? joined(base, ccert) : NULL;
	return 0;
}

static void add(struct remote_spec **v, size_t *n, size_t *cap, struct remote_spec *s)
{
	for (size_t i = 0; i < *n; i++) {
		struct remote_spec *o = &(*v)[i];
		if (!strcmp(o->url, s->url) && o->push == s->push && same(o->server_cert, s->server_cert) &&
		    same(o->client_key, s->client_key) && same(o->client_cert, s->client_cert)) {
			free(s->url);
			free(s->server_cert);
			free(s->client_key);
			free(s->client_cert);
			return;
		}
	}
	GROW(*v, *cap, *n + 1);
	(*v)[(*n)++] = *s;
}

static int specs_from(const struct node *a, const char *base, struct remote_spec **v, size_t *n, size_t *cap,
		      struct error *err)
{
	struct remote_spec s;
	if (!a)
		return 0;
	if (a->type == NODE_LIST) {
		for (size_t i = 0; i < a->u.list.n; i++) {
			if (spec_from(a->u.list.items[i], base, &s, err))
				return -1;
			add(v, n, cap, &s);
		}
		return 0;
	}
	if (a->type != NODE_MAP)
		return node_error(err, a, "'artifacts' must be a single 'url:' mapping, or a list of mappings");
	if (spec_from(a, base, &s, err))
		return -1;
	add(v, n, cap, &s);
	return 0;
}

int remotes_configure(const struct project *p, const char *url, struct remote_spec **out, size_t *n,
		      struct error *err)
{
	struct remote_spec *v = NULL;
	size_t cap = 0;
	*out = NULL;
	*n = 0;
	if (url) {
		if (!str_has_prefix(url, "http://") && !str_has_prefix(url, "https://"))
			return error_set(err, "Unsupported URL: %s (a remote artifact cache is http:// or https://)", url);
		v = xcalloc(1, sizeof(*v));
		v->url = xstrdup(url);
		v->push = 1;
		*out = v;
		*n = 1;
		return 0;
	}
	if (specs_from(p->user_project_artifacts, NULL, &v, n, &cap, err) ||
	    specs_from(node_map_get(p->config, "artifacts"), p->dir, &v, n, &cap, err) ||
	    specs_from(p->user_artifacts, NULL, &v, n, &cap, err)) {
		remotes_free(v, *n);
		*n = 0;
		return -1;
	}
	*out = v;
	return 0;
}

void remotes_free(struct remote_spec *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].url);
		free(v[i].server_cert);
		free(v[i].client_key);
		free(v[i].client_cert);
	}
	if (n)
		free(v);
}
