/* bzr.c — the bzr source: a revision (ref, a revno) of the branch `track` of a Bazaar repository
 * (url, alias allowed), branched with the host's `bzr` into the source cache and checked out
 * lightweight when staged; `track` gives the tip revno. Unique key [url as written, track, ref],
 * as bst's.
 * SPDX-License-Identifier: Apache-2.0 */
#include "../common.h"

static const char *const config_keys[] = {"url", "track", "ref", NULL};

/* The url as written, its translation, the branch to track (required, as bst requires it:
 * bzr cannot name a revision outside its branch) and the ref (NULL when absent). */
static int read_config(const struct rill_host *host, struct rill_ctx *ctx, const struct rill_node *node,
		       const char **url, const char **translated, const char **branch, const char **ref)
{
	if (common_get_str(host, ctx, node, "url", 1, NULL, url, NULL) != 0 ||
	    common_get_str(host, ctx, node, "track", 1, NULL, branch, NULL) != 0 ||
	    common_get_str(host, ctx, node, "ref", 0, NULL, ref, NULL) != 0 ||
	    host->translate_url(ctx, host->get(node, "url"), *url, translated) != 0)
		return -1;
	return 0;
}

static int configure(const struct rill_host *host, struct rill_ctx *ctx, const struct rill_node *config,
		     struct rill_configured *out)
{
	const char *url, *translated, *branch, *ref;
	struct rill_node *key = NULL;
	if (read_config(host, ctx, config, &url, &translated, &branch, &ref) != 0 ||
	    common_host_tool(host, ctx, config, "bzr", "bzr") != 0)
		return -1;
	/* bst's consistency is INCONSISTENT only when ref is None: an empty ref is a ref */
	if (ref) {
		key = host->new_list(ctx);
		host->list_push(ctx, key, host->new_str(ctx, url));
		host->list_push(ctx, key, host->new_str(ctx, branch));
		host->list_push(ctx, key, host->new_str(ctx, ref));
	}
	out->unique_key = key;
	return 0;
}

/* bst's mirror in repo: a shared repository without trees holding the branch at
 * <repo>/<track>, branched from <url>/<track>. */
static int mirror(const struct rill_host *host, struct rill_ctx *ctx, const char *repo, const char *url,
		  const char *branch, const char **branch_dir)
{
	const char *init[] = {"bzr", "init-repo", "--no-trees", repo, NULL};
	const char *branch_url = common_fmt(host, ctx, "%s/%s", url, branch);
	if (!branch_url || !(*branch_dir = common_fmt(host, ctx, "%s/%s", repo, branch)))
		return -1;
	if (host->run_host(ctx, init, NULL, NULL) != 0)
		return host->error(ctx, NULL, "Failed to initialize bzr repository");
	{
		const char *argv[] = {"bzr", "branch", branch_url, *branch_dir, NULL};
		if (host->run_host(ctx, argv, NULL, NULL) != 0)
			return host->error(ctx, NULL, "Failed to branch from %s to %s", branch_url, *branch_dir);
	}
	return 0;
}

/* fetch: the branch into the cache entry; the ref must be one of its revisions. The entry is
 * fresh (keyed by the ref), so there is never a mirror to `bzr pull` into as bst's may be. */
static int fetch(const struct rill_host *host, struct rill_ctx *ctx, const struct rill_node *node, const char *dir)
{
	const char *url, *translated, *branch, *ref, *branch_dir, *rev;
	if (read_config(host, ctx, node, &url, &translated, &branch, &ref) != 0)
		return -1;
	if (!ref)
		return host->error(ctx, node, "No ref to fetch: run 'rill track' first");
	host->status(ctx, "Fetching %s", translated);
	if (mirror(host, ctx, dir, translated, branch, &branch_dir) != 0 ||
	    !(rev = common_fmt(host, ctx, "--revision=revno:%s", ref)))
		return -1;
	{
		const char *argv[] = {"bzr", "revno", rev, branch_dir, NULL};
		const char *out;
		if (host->run_host(ctx, argv, NULL, &out) != 0)
			return host->error(ctx, node, "Failed to ensure ref '%s' was mirrored", ref);
	}
	return 0;
}

/* stage: a lightweight checkout of the ref, as bst's (its .bzr points into the cache). */
static int stage(const struct rill_host *host, struct rill_ctx *ctx, const struct rill_node *node,
		 const char *dir, const char *dest)
{
	const char *url, *translated, *branch, *ref, *branch_dir, *rev;
	if (read_config(host, ctx, node, &url, &translated, &branch, &ref) != 0 ||
	    !(branch_dir = common_fmt(host, ctx, "%s/%s", dir, branch)) ||
	    !(rev = common_fmt(host, ctx, "--revision=revno:%s", ref)))
		return -1;
	host->status(ctx, "Staging revision %s of %s", ref, translated);
	{
		const char *argv[] = {"bzr", "checkout", "--lightweight", rev, branch_dir, dest, NULL};
		if (host->run_host(ctx, argv, NULL, NULL) != 0)
			return host->error(ctx, node, "Failed to checkout revision %s from branch %s to %s", ref,
					   branch_dir, dest);
	}
	return 0;
}

/* track: branch into a scratch repository and read the tip's revno. */
static int track(const struct rill_host *host, struct rill_ctx *ctx, const struct rill_node *node, const char **ref)
{
	const char *url, *translated, *branch, *cur, *branch_dir, *tmpdir = getenv("TMPDIR");
	char *tmp;
	int rc = -1;
	*ref = NULL;
	if (read_config(host, ctx, node, &url, &translated, &branch, &cur) != 0 ||
	    !(tmp = common_mkdtemp_in(host, ctx, tmpdir && tmpdir[0] ? tmpdir : "/tmp", "bzr-track")))
		return -1;
	host->status(ctx, "Tracking %s", translated);
	if (mirror(host, ctx, tmp, translated, branch, &branch_dir) == 0) {
		const char *argv[] = {"bzr", "version-info", "--custom", "--template={revno}", branch_dir, NULL};
		if (host->run_host(ctx, argv, NULL, ref) != 0)
			host->error(ctx, node, "Failed to read the revision number at '%s'", branch_dir);
		else
			rc = 0;
	}
	common_rm_rf(tmp);
	free(tmp);
	return rc;
}

RILL_PLUGIN_EXPORT const struct rill_plugin rill_plugin = {
	.abi_version = RILL_PLUGIN_ABI_VERSION,
	.type = RILL_PLUGIN_SOURCE,
	.kind = "bzr",
	.config_keys = config_keys,
	.configure = configure,
	.fetch = fetch,
	.stage = stage,
	.track = track,
};
