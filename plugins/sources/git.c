/* git.c — the git source: a commit of a git repository (URL alias allowed), optionally tracked
 * from a branch, with submodule overrides. The key is [url as written, ref] plus submodule
 * settings when they differ from the defaults. fetch keeps a bare repository with the remote's
 * branches and tags in <dir>/repo; stage clones it (like BuildStream 1.x, the staged tree keeps
 * a .git sharing the cached objects) and checks the commit out. Submodules are not fetched or
 * staged yet; track returns a plain commit even with ref-format: git-describe.
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

static int fetch(const struct rill_host *host, struct rill_ctx *ctx, const struct rill_node *node,
		 const char *dir)
{
	const char *url, *ref, *commit, *repo;
	if (read_url(host, ctx, node, &url) != 0 ||
	    common_get_str(host, ctx, node, "ref", 0, NULL, &ref, NULL) != 0)
		return -1;
	if (!ref)
		return host->error(ctx, node, "%s: no ref to fetch; track the source first", url);
	commit = ref_commit(host, ctx, ref);
	if (!(repo = common_fmt(host, ctx, "%s/repo", dir)))
		return -1;
	host->status(ctx, "Fetching %s", url);
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
	}
	return host->error(ctx, NULL, "%s: ref %s not found", url, ref);
}

static int stage(const struct rill_host *host, struct rill_ctx *ctx, const struct rill_node *node,
		 const char *dir, const char *dest)
{
	const char *ref, *repo;
	if (common_get_str(host, ctx, node, "ref", 1, NULL, &ref, NULL) != 0)
		return -1;
	if (!(repo = common_fmt(host, ctx, "%s/repo", dir)))
		return -1;
	host->status(ctx, "Checking out %s", ref);
	{
		const char *clone[] = {"git", "clone", "-q", "--no-checkout", "--shared", repo, dest, NULL};
		const char *checkout[] = {"git", "-C", dest, "checkout", "-q", "--force",
					  ref_commit(host, ctx, ref), NULL};
		if (host->run_host(ctx, clone, NULL, NULL) != 0 || host->run_host(ctx, checkout, NULL, NULL) != 0)
			return -1;
	}
	return 0;
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
