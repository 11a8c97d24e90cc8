/* git.c — the git source: a commit of a git repository (URL alias allowed), optionally tracked
 * from a branch, with submodule overrides. The key is [url as written, ref] plus submodule
 * settings when they differ from the defaults. fetch keeps a bare repository with the remote's
 * branches and tags in <dir>/repo; stage clones it (like BuildStream 1.x, the staged tree keeps
 * a .git sharing the cached objects) and checks the commit out, then the submodules that
 * .gitmodules declares at that commit (one level, like BuildStream 1.x; `checkout-submodules`
 * and `submodules:` overrides apply). track returns a plain commit even with ref-format:
 * git-describe.
 * SPDX-License-Identifier: Apache-2.0 */
#include "../common.h"

static const char *const config_keys[] = {
	"url", "track", "ref", "submodules", "checkout-submodules", "ref-format", NULL,
};

/* submodules: {path: {url: str, checkout: bool}}; fills the override maps of the key. */
static int read_submodules(const struct rill_host *host, struct rill_ctx *ctx,
			   const struct rill_node *config, struct rill_node *urls,
			   struct rill_node *checkouts, size_t *n_urls, size_t *n_checkouts)
{
	const struct rill_node *modules;
	size_t i, n;
	*n_urls = *n_checkouts = 0;
	if (common_get_map(host, ctx, config, "submodules", "Mapping", &modules) != 0)
		return -1;
	n = modules ? host->len(modules) : 0;
	for (i = 0; i < n; i++) {
		const char *path = host->key_at(modules, i), *url;
		const struct rill_node *sub;
		if (common_get_map(host, ctx, modules, path, "Mapping", &sub) != 0)
			return -1;
		if (common_get_str(host, ctx, sub, "url", 0, NULL, &url, NULL) != 0)
			return -1;
		if (url) {
			const char *translated;
			if (host->translate_url(ctx, host->get(sub, "url"), url, &translated) != 0)
				return -1;
		}
		host->map_put(ctx, urls, path, url ? host->new_str(ctx, url) : host->new_null(ctx));
		(*n_urls)++;
		if (host->get(sub, "checkout")) {
			int checkout;
			if (common_get_bool(host, ctx, sub, "checkout", 1, 0, &checkout) != 0)
				return -1;
			host->map_put(ctx, checkouts, path, host->new_bool(ctx, checkout));
			(*n_checkouts)++;
		}
	}
	return 0;
}

static int configure(const struct rill_host *host, struct rill_ctx *ctx,
		     const struct rill_node *config, struct rill_configured *out)
{
	const char *ref, *url, *track, *ref_format;
	const struct rill_node *ref_format_node;
	struct rill_node *key, *urls, *checkouts;
	size_t n_urls, n_checkouts;
	int checkout_submodules;
	if (common_get_str(host, ctx, config, "ref", 0, NULL, &ref, NULL) != 0 ||
	    common_get_str(host, ctx, config, "url", 1, NULL, &url, NULL) != 0 ||
	    common_get_str(host, ctx, config, "track", 0, NULL, &track, NULL) != 0 ||
	    common_get_str(host, ctx, config, "ref-format", 0, "sha1", &ref_format, &ref_format_node) != 0)
		return -1;
	{
		const char *translated;
		if (host->translate_url(ctx, host->get(config, "url"), url, &translated) != 0)
			return -1;
	}
	if (strcmp(ref_format, "sha1") != 0 && strcmp(ref_format, "git-describe") != 0)
		return host->error(ctx, ref_format_node, "Unexpected value for ref-format: %s", ref_format);
	if (!ref && !track)
		return host->error(ctx, config, "Git sources require a ref and/or track");
	if (common_host_tool(host, ctx, config, "git", "git") != 0)
		return -1;
	if (common_get_bool(host, ctx, config, "checkout-submodules", 0, 1, &checkout_submodules) != 0)
		return -1;
	urls = host->new_map(ctx);
	checkouts = host->new_map(ctx);
	if (read_submodules(host, ctx, config, urls, checkouts, &n_urls, &n_checkouts) != 0)
		return -1;
	out->unique_key = NULL;
	if (!ref)
		return 0;
	key = host->new_list(ctx);
	host->list_push(ctx, key, host->new_str(ctx, url));
	host->list_push(ctx, key, host->new_str(ctx, ref));
	if (!checkout_submodules) {
		struct rill_node *m = host->new_map(ctx);
		host->map_put(ctx, m, "checkout_submodules", host->new_bool(ctx, 0));
		host->list_push(ctx, key, m);
	}
	if (n_urls)
		host->list_push(ctx, key, urls);
	if (n_checkouts) {
		struct rill_node *m = host->new_map(ctx);
		host->map_put(ctx, m, "submodule_checkout_overrides", checkouts);
		host->list_push(ctx, key, m);
	}
	out->unique_key = key;
	return 0;
}

/* The commit a ref names: the ref itself, or the hash after the last "-g" of a git-describe
 * ref ("v1.0-3-g<sha>"). Backend-owned. */
static const char *ref_commit(const struct rill_host *host, struct rill_ctx *ctx, const char *ref)
{
	const char *g = NULL, *p;
	for (p = strstr(ref, "-g"); p; p = strstr(p + 1, "-g"))
		g = p;
	if (g && g[2] && strspn(g + 2, "0123456789abcdef") == strlen(g + 2))
		return host->str(host->new_str(ctx, g + 2));
	return ref;
}

static int read_url(const struct rill_host *host, struct rill_ctx *ctx, const struct rill_node *node,
		    const char **url)
{
	const char *written;
	if (common_get_str(host, ctx, node, "url", 1, NULL, &written, NULL) != 0)
		return -1;
	return host->translate_url(ctx, host->get(node, "url"), written, url);
}

static int have_commit(const struct rill_host *host, struct rill_ctx *ctx, const char *repo, const char *commit)
{
	const char *spec = common_fmt(host, ctx, "%s^{commit}", commit);
	const char *argv[] = {"git", "-C", repo, "cat-file", "-e", spec, NULL};
	return spec && host->run_host(ctx, argv, NULL, NULL) == 0;
}

/* Fetch the branches and tags of url into the bare repository repo (created when missing),
 * then make sure commit is there (asking for it by name when no branch or tag reaches it).
 * 0, or -1 with an error naming url and what. */
static int fetch_repo(const struct rill_host *host, struct rill_ctx *ctx, const char *url, const char *repo,
		      const char *commit, const char *what)
{
	const char *init[] = {"git", "init", "-q", "--bare", repo, NULL};
	const char *all[] = {"git", "-C", repo, "fetch", "-q", "--no-tags", url,
			     "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*", NULL};
	const char *one[] = {"git", "-C", repo, "fetch", "-q", "--no-tags", url, commit, NULL};
	if (host->run_host(ctx, init, NULL, NULL) != 0 || host->run_host(ctx, all, NULL, NULL) != 0)
		return -1;
	if (have_commit(host, ctx, repo, commit))
		return 0;
	/* a commit no branch or tag reaches: servers that allow it send it when asked */
	if (host->run_host(ctx, one, NULL, NULL) == 0 && have_commit(host, ctx, repo, commit))
		return 0;
	return host->error(ctx, NULL, "%s: %s %s not found", url, what, commit);
}

/* ---- submodules, as BuildStream 1.x's git source handles them: those that .gitmodules
 * declares at the ref (one level, not recursive), each fetched into its own repository next
 * to the main one and checked out at the commit the main tree records for its path. */

struct submodule {
	const char *name, *path, *url;  /* url: the `submodules:` override, else .gitmodules' */
	const char *commit;             /* NULL: not recorded in the tree (inconsistent) */
	int checkout;
};

/* A .gitmodules path must stay inside the checkout. */
static int safe_path(const char *path)
{
	const char *p = path;
	if (!*path || *path == '/')
		return 0;
	while (*p) {
		size_t n = strcspn(p, "/");
		if ((n == 2 && p[0] == '.' && p[1] == '.') || n == 0)
			return 0;
		p += n;
		if (*p == '/')
			p++;
	}
	return 1;
}

/* The submodule.<name>.path and .url entries of `git config --list` output ("key=value"
 * lines) into mods (by name, in the order first seen). Returns the count, or -1. */
static long parse_gitmodules(const struct rill_host *host, struct rill_ctx *ctx, const char *listing,
			     struct submodule *mods, size_t max)
{
	size_t n = 0, i;
	while (*listing) {
		const char *eol = strchr(listing, '\n'), *sp = strchr(listing, '=');
		size_t len = eol ? (size_t)(eol - listing) : strlen(listing);
		if (sp && sp < listing + len && !strncmp(listing, "submodule.", 10)) {
			const char *key = listing + 10, *dot = sp;
			while (dot > key && *dot != '.')
				dot--;
			if (dot > key) {
				char *name = strndup(key, (size_t)(dot - key));
				char *field = strndup(dot + 1, (size_t)(sp - dot - 1));
				char *value = strndup(sp + 1, len - (size_t)(sp + 1 - listing));
				if (!name || !field || !value) {
					free(name), free(field), free(value);
					return host->error(ctx, NULL, "Out of memory");
				}
				for (i = 0; i < n && strcmp(mods[i].name, name); i++)
					;
				if (i == n && n < max) {
					memset(&mods[n], 0, sizeof(mods[n]));
					mods[n++].name = host->str(host->new_str(ctx, name));
				}
				if (i < n && !strcmp(field, "path"))
					mods[i].path = host->str(host->new_str(ctx, value));
				else if (i < n && !strcmp(field, "url"))
					mods[i].url = host->str(host->new_str(ctx, value));
				free(name), free(field), free(value);
			}
		}
		listing += len;
		if (*listing)
			listing++;
	}
	return (long)n;
}

#define MAX_SUBMODULES 256

/* The submodules of commit in repo, with the source's overrides applied (url translated, alias
 * allowed); *n = 0 when there is no .gitmodules. Inconsistent ones (no commit in the tree) draw
 * the git:inconsistent-submodule warning and are left out. */
static int list_submodules(const struct rill_host *host, struct rill_ctx *ctx, const struct rill_node *node,
			   const char *repo, const char *commit, struct submodule *mods, size_t *n)
{
	const struct rill_node *overrides, *ov;
	const char *blob = common_fmt(host, ctx, "%s:.gitmodules", commit), *listing;
	int checkout_all;
	size_t i, kept = 0;
	long count;
	*n = 0;
	if (!blob || common_get_map(host, ctx, node, "submodules", "Mapping", &overrides) != 0 ||
	    common_get_bool(host, ctx, node, "checkout-submodules", 0, 1, &checkout_all) != 0)
		return -1;
	{
		const char *probe[] = {"git", "-C", repo, "ls-tree", commit, "--", ".gitmodules", NULL};
		const char *cfg[] = {"git", "-C", repo, "config", "--blob", blob, "--list", NULL};
		if (host->run_host(ctx, probe, NULL, &listing) != 0)
			return -1;
		if (!*listing)
			return 0;       /* no .gitmodules at this commit */
		if (host->run_host(ctx, cfg, NULL, &listing) != 0)
			return -1;
	}
	if ((count = parse_gitmodules(host, ctx, listing, mods, MAX_SUBMODULES)) < 0)
		return -1;
	for (i = 0; i < (size_t)count; i++) {
		struct submodule m = mods[i];
		const char *tree, *url = NULL;
		if (!m.path || !m.url)
			continue;
		if (!safe_path(m.path))
			return host->error(ctx, node, "%s: submodule '%s' has an unsafe path '%s'", commit, m.name, m.path);
		m.checkout = checkout_all;
		ov = overrides ? host->get(overrides, m.path) : NULL;
		if (ov && (common_get_str(host, ctx, ov, "url", 0, NULL, &url, NULL) != 0 ||
			   common_get_bool(host, ctx, ov, "checkout", 0, m.checkout, &m.checkout) != 0))
			return -1;
		if (!m.checkout)
			continue;
		if (host->translate_url(ctx, ov ? host->get(ov, "url") : node, url ? url : m.url, &m.url) != 0)
			return -1;
		{
			const char *lstree[] = {"git", "-C", repo, "ls-tree", commit, "--", m.path, NULL};
			if (host->run_host(ctx, lstree, NULL, &tree) != 0)
				return -1;
		}
		/* "160000 commit <sha>\t<path>" */
		if (strncmp(tree, "160000 commit ", 14) != 0 || strcspn(tree + 14, "\t") != 40) {
			if (host->warn(ctx, node, "git:inconsistent-submodule",
				       "Ignoring inconsistent submodule '%s': it is in .gitmodules but was never "
				       "added to the repository with `git submodule add`", m.path) != 0)
				return -1;
			continue;
		}
		m.commit = common_fmt(host, ctx, "%.40s", tree + 14);
		if (!m.commit)
			return -1;
		mods[kept++] = m;
	}
	*n = kept;
	return 0;
}

/* Where submodule m's repository lives in the cache entry dir. */
static const char *submodule_repo(const struct rill_host *host, struct rill_ctx *ctx, const char *dir,
				  const struct submodule *m)
{
	char *flat = strdup(m->path), *c;
	const char *r;
	if (!flat) {
		host->error(ctx, NULL, "Out of memory");
		return NULL;
	}
	for (c = flat; *c; c++)
		if (*c == '/')
			*c = '%';
	r = common_fmt(host, ctx, "%s/submodules/%s", dir, flat);
	free(flat);
	return r;
}

static int fetch(const struct rill_host *host, struct rill_ctx *ctx, const struct rill_node *node,
		 const char *dir)
{
	struct submodule *mods;
	const char *url, *ref, *commit, *repo;
	size_t n, i;
	int rc = 0;
	if (read_url(host, ctx, node, &url) != 0 ||
	    common_get_str(host, ctx, node, "ref", 0, NULL, &ref, NULL) != 0)
		return -1;
	if (!ref)
		return host->error(ctx, node, "%s: no ref to fetch; track the source first", url);
	commit = ref_commit(host, ctx, ref);
	if (!(repo = common_fmt(host, ctx, "%s/repo", dir)))
		return -1;
	host->status(ctx, "Fetching %s", url);
	if (fetch_repo(host, ctx, url, repo, commit, "ref") != 0)
		return -1;
	mods = calloc(MAX_SUBMODULES, sizeof(*mods));
	if (!mods)
		return host->error(ctx, NULL, "Out of memory");
	rc = list_submodules(host, ctx, node, repo, commit, mods, &n);
	for (i = 0; !rc && i < n; i++) {
		const char *sub = submodule_repo(host, ctx, dir, &mods[i]);
		host->status(ctx, "Fetching submodule %s from %s", mods[i].path, mods[i].url);
		rc = sub ? fetch_repo(host, ctx, mods[i].url, sub, mods[i].commit, "submodule commit") : -1;
	}
	free(mods);
	return rc;
}

static int stage(const struct rill_host *host, struct rill_ctx *ctx, const struct rill_node *node,
		 const char *dir, const char *dest)
{
	struct submodule *mods;
	const char *ref, *repo, *commit;
	size_t n, i;
	int rc;
	if (common_get_str(host, ctx, node, "ref", 1, NULL, &ref, NULL) != 0)
		return -1;
	if (!(repo = common_fmt(host, ctx, "%s/repo", dir)))
		return -1;
	commit = ref_commit(host, ctx, ref);
	host->status(ctx, "Checking out %s", ref);
	{
		const char *clone[] = {"git", "clone", "-q", "--no-checkout", "--shared", repo, dest, NULL};
		const char *checkout[] = {"git", "-C", dest, "checkout", "-q", "--force", commit, NULL};
		if (host->run_host(ctx, clone, NULL, NULL) != 0 || host->run_host(ctx, checkout, NULL, NULL) != 0)
			return -1;
	}
	mods = calloc(MAX_SUBMODULES, sizeof(*mods));
	if (!mods)
		return host->error(ctx, NULL, "Out of memory");
	rc = list_submodules(host, ctx, node, repo, commit, mods, &n);
	for (i = 0; !rc && i < n; i++) {
		const char *sub = submodule_repo(host, ctx, dir, &mods[i]);
		const char *to = common_fmt(host, ctx, "%s/%s", dest, mods[i].path);
		struct stat st;
		if (!sub || !to) {
			rc = -1;
			break;
		}
		if (stat(sub, &st) != 0) {
			rc = host->error(ctx, NULL, "submodule %s is not in the source cache entry %s (fetched by an "
					 "older rill?): remove that directory and fetch again", mods[i].path, dir);
			break;
		}
		host->status(ctx, "Checking out submodule %s at %s", mods[i].path, mods[i].commit);
		{
			const char *clone[] = {"git", "clone", "-q", "--no-checkout", "--shared", sub, to, NULL};
			const char *checkout[] = {"git", "-C", to, "checkout", "-q", "--force", mods[i].commit, NULL};
			rc = host->run_host(ctx, clone, NULL, NULL) != 0 || host->run_host(ctx, checkout, NULL, NULL) != 0
				     ? -1 : 0;
		}
	}
	free(mods);
	return rc;
}

/* The commit of track in `git ls-remote` output: a branch first, then a tag (peeled when
 * annotated), then a full ref name, then the first line. NULL when nothing matched. */
static const char *pick_commit(const struct rill_host *host, struct rill_ctx *ctx, const char *listing,
			       const char *track)
{
	char *want[4];
	const char *found = NULL;
	size_t i;
	int best = 4;
	want[0] = malloc(strlen(track) + 16);
	want[1] = malloc(strlen(track) + 16);
	want[2] = malloc(strlen(track) + 16);
	want[3] = malloc(strlen(track) + 16);
	if (!want[0] || !want[1] || !want[2] || !want[3])
		goto out;
	sprintf(want[0], "refs/heads/%s", track);
	sprintf(want[1], "refs/tags/%s^{}", track);
	sprintf(want[2], "refs/tags/%s", track);
	sprintf(want[3], "%s", track);
	while (*listing) {
		const char *eol = strchr(listing, '\n'), *tab = strchr(listing, '\t');
		size_t len = eol ? (size_t)(eol - listing) : strlen(listing);
		if (tab && tab < listing + len) {
			size_t name_len = len - (size_t)(tab + 1 - listing);
			for (i = 0; i < 4; i++)
				if ((int)i < best && strlen(want[i]) == name_len &&
				    strncmp(tab + 1, want[i], name_len) == 0) {
					best = (int)i;
					found = listing;
				}
			if (!found)
				found = listing;
		}
		listing += len;
		if (*listing)
			listing++;
	}
out:
	for (i = 0; i < 4; i++)
		free(want[i]);
	if (found) {
		const char *tab = strchr(found, '\t');
		char *sha = tab ? strndup(found, (size_t)(tab - found)) : NULL;
		const char *r = sha ? host->str(host->new_str(ctx, sha)) : NULL;
		free(sha);
		return r;
	}
	return NULL;
}

static int track(const struct rill_host *host, struct rill_ctx *ctx, const struct rill_node *node,
		 const char **ref)
{
	const char *url, *branch, *listing;
	*ref = NULL;
	if (read_url(host, ctx, node, &url) != 0 ||
	    common_get_str(host, ctx, node, "track", 0, NULL, &branch, NULL) != 0)
		return -1;
	/* like BuildStream: without a branch to follow there is nothing to update */
	if (!branch)
		return 0;
	host->status(ctx, "Tracking %s from %s", branch, url);
	{
		/* ls-remote lists an annotated tag's peeled commit only when asked for it */
		char *peeled = malloc(strlen(branch) + 4);
		int rc;
		if (!peeled)
			return host->error(ctx, NULL, "Out of memory");
		sprintf(peeled, "%s^{}", branch);
		{
			const char *argv[] = {"git", "ls-remote", url, branch, peeled, NULL};
			rc = host->run_host(ctx, argv, NULL, &listing);
		}
		free(peeled);
		if (rc != 0)
			return -1;
	}
	if (!(*ref = pick_commit(host, ctx, listing, branch)))
		return host->error(ctx, NULL, "%s: track %s not found", url, branch);
	return 0;
}

RILL_PLUGIN_EXPORT const struct rill_plugin rill_plugin = {
	.abi_version = RILL_PLUGIN_ABI_VERSION,
	.type = RILL_PLUGIN_SOURCE,
	.kind = "git",
	.flags = 0,
	.artifact_version = 0,
	.config_keys = config_keys,
	.configure = configure,
	.fetch = fetch,
	.stage = stage,
	.track = track,
};
