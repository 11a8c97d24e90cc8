/* ostree.c — the ostree source: a commit of an OSTree repository (url, alias allowed), pulled
 * with the host's `ostree` into the source cache and checked out (in user mode) when staged;
 * `track` follows a branch. The unique key is [url as written, ref], as bst's.
 * SPDX-License-Identifier: Apache-2.0 */
#include "../common.h"

#include <dirent.h>
#include <stdlib.h>

static const char *const config_keys[] = {"url", "ref", "track", "gpg-key", NULL};

static int configure(const struct rill_host *host, struct rill_ctx *ctx, const struct rill_node *config,
		     struct rill_configured *out)
{
	const char *url, *ref, *track, *gpg, *translated;
	struct rill_node *key = NULL;
	if (common_get_str(host, ctx, config, "url", 1, NULL, &url, NULL) != 0 ||
	    common_get_str(host, ctx, config, "ref", 0, NULL, &ref, NULL) != 0 ||
	    common_get_str(host, ctx, config, "track", 0, NULL, &track, NULL) != 0 ||
	    common_get_str(host, ctx, config, "gpg-key", 0, NULL, &gpg, NULL) != 0 ||
	    host->translate_url(ctx, host->get(config, "url"), url, &translated) != 0)
		return -1;
	if (!ref && !track)
		return host->error(ctx, config, "OSTree sources require a ref and/or track");
	if (common_host_tool(host, ctx, config, "ostree", "ostree") != 0)
		return -1;
	if (gpg && gpg[0] && common_project_path(host, ctx, config, "gpg-key", 1, &gpg) != 0)
		return -1;
	if (ref) {
		key = host->new_list(ctx);
		host->list_push(ctx, key, host->new_str(ctx, url));
		host->list_push(ctx, key, host->new_str(ctx, ref));
	}
	out->unique_key = key;
	return 0;
}

/* The translated url, the ref, and the gpg key's absolute path (or NULL). */
static int read_config(const struct rill_host *host, struct rill_ctx *ctx, const struct rill_node *node,
		       const char **url, const char **ref, const char **gpg)
{
	const char *written, *key;
	if (common_get_str(host, ctx, node, "url", 1, NULL, &written, NULL) != 0 ||
	    common_get_str(host, ctx, node, "ref", 0, NULL, ref, NULL) != 0 ||
	    common_get_str(host, ctx, node, "gpg-key", 0, NULL, &key, NULL) != 0 ||
	    host->translate_url(ctx, host->get(node, "url"), written, url) != 0)
		return -1;
	*gpg = NULL;
	if (key && key[0] && !(*gpg = key[0] == '/' ? key : common_fmt(host, ctx, "%s/%s", host->project_dir(ctx), key)))
		return -1;
	return 0;
}

/* An archive repository at repo with the remote "origin" for url, as bst sets its mirror up. */
static int init_repo(const struct rill_host *host, struct rill_ctx *ctx, const char *repo, const char *url,
		     const char *gpg)
{
	const char *init[] = {"ostree", "init", "--repo", repo, "--mode", "archive-z2", NULL};
	const char *cfg[] = {"ostree", "config", "--repo", repo, "set", "core.min-free-space-percent", "0", NULL};
	const char *gpg_arg = gpg ? common_fmt(host, ctx, "--gpg-import=%s", gpg) : "--no-gpg-verify";
	const char *remote[] = {"ostree", "remote", "add", "--if-not-exists", "--repo", repo, gpg_arg, "origin", url, NULL};
	if (!gpg_arg)
		return -1;
	return host->run_host(ctx, init, NULL, NULL) || host->run_host(ctx, cfg, NULL, NULL) ||
	       host->run_host(ctx, remote, NULL, NULL) ? -1 : 0;
}

static int fetch(const struct rill_host *host, struct rill_ctx *ctx, const struct rill_node *node, const char *dir)
{
	const char *url, *ref, *gpg, *repo;
	if (read_config(host, ctx, node, &url, &ref, &gpg) != 0 || !(repo = common_fmt(host, ctx, "%s/repo", dir)))
		return -1;
	if (!ref)
		return host->error(ctx, node, "No ref to fetch: run 'rill track' first");
	host->status(ctx, "Fetching remote ref: %s from origin: %s", ref, url);
	if (init_repo(host, ctx, repo, url, gpg) != 0)
		return -1;
	{
		const char *pull[] = {"ostree", "pull", "--repo", repo, "origin", ref, NULL};
		const char *show[] = {"ostree", "show", "--repo", repo, ref, NULL};
		const char *out;
		if (host->run_host(ctx, pull, NULL, NULL) != 0)
			return host->error(ctx, node, "Failed to fetch ref '%s' from origin: %s", ref, url);
		/* what was pulled is the commit asked for (a branch name as ref is not a ref) */
		if (host->run_host(ctx, show, NULL, &out) != 0)
			return host->error(ctx, node, "%s: ref '%s' is not in the repository", url, ref);
	}
	return 0;
}

static int stage(const struct rill_host *host, struct rill_ctx *ctx, const struct rill_node *node,
		 const char *dir, const char *dest)
{
	const char *url, *ref, *gpg, *repo, *co;
	char *tmp;
	DIR *d;
	struct dirent *en;
	int rc = -1;
	if (read_config(host, ctx, node, &url, &ref, &gpg) != 0 || !(repo = common_fmt(host, ctx, "%s/repo", dir)) ||
	    !(tmp = common_mkdtemp_in(host, ctx, dest, "ostree")))
		return -1;
	host->status(ctx, "Staging ref: %s from origin: %s", ref, url);
	if (!(co = common_fmt(host, ctx, "%s/checkout", tmp)))
		goto out;
	{
		const char *argv[] = {"ostree", "checkout", "--repo", repo, "--user-mode", ref, co, NULL};
		if (host->run_host(ctx, argv, NULL, NULL) != 0) {
			host->error(ctx, node, "Failed to checkout ref '%s' from origin: %s", ref, url);
			goto out;
		}
	}
	/* the checkout's entries move into dest, as bst moves them */
	if (!(d = opendir(co))) {
		host->error(ctx, NULL, "Failed to read '%s': %s", co, strerror(errno));
		goto out;
	}
	rc = 0;
	while ((en = readdir(d))) {
		const char *from, *to;
		if (!strcmp(en->d_name, ".") || !strcmp(en->d_name, ".."))
			continue;
		if (!(from = common_fmt(host, ctx, "%s/%s", co, en->d_name)) ||
		    !(to = common_fmt(host, ctx, "%s/%s", dest, en->d_name)) || rename(from, to) != 0) {
			rc = host->error(ctx, NULL, "Failed to move ostree checkout %s from '%s' to '%s': %s", url, co,
					 dest, strerror(errno));
			break;
		}
	}
	closedir(d);
out:
	common_rm_rf(tmp);
	free(tmp);
	return rc;
}

static int track(const struct rill_host *host, struct rill_ctx *ctx, const struct rill_node *node, const char **ref)
{
	const char *url, *cur, *gpg, *branch, *repo, *out;
	char *tmp;
	int rc = -1;
	*ref = NULL;
	if (read_config(host, ctx, node, &url, &cur, &gpg) != 0 ||
	    common_get_str(host, ctx, node, "track", 0, NULL, &branch, NULL) != 0)
		return -1;
	if (!branch)
		return 0;       /* like bst: nothing to follow */
	if (!(tmp = common_mkdtemp_in(host, ctx, "/tmp", "ostree-track")))
		return -1;
	host->status(ctx, "Fetching tracking ref '%s' from origin: %s", branch, url);
	if (!(repo = common_fmt(host, ctx, "%s/repo", tmp)) || init_repo(host, ctx, repo, url, gpg) != 0)
		goto out;
	{
		const char *pull[] = {"ostree", "pull", "--commit-metadata-only", "--repo", repo, "origin", branch, NULL};
		const char *parse[] = {"ostree", "rev-parse", "--repo", repo, branch, NULL};
		const char *originb = common_fmt(host, ctx, "origin:%s", branch);
		const char *parse2[] = {"ostree", "rev-parse", "--repo", repo, originb, NULL};
		if (host->run_host(ctx, pull, NULL, NULL) != 0) {
			host->error(ctx, node, "Failed to fetch tracking ref '%s' from origin %s", branch, url);
			goto out;
		}
		if (host->run_host(ctx, parse2, NULL, &out) != 0 && host->run_host(ctx, parse, NULL, &out) != 0) {
			host->error(ctx, node, "Failed to compute checksum of '%s' on '%s'", branch, url);
			goto out;
		}
	}
	*ref = out;
	rc = 0;
out:
	common_rm_rf(tmp);
	free(tmp);
	return rc;
}

RILL_PLUGIN_EXPORT const struct rill_plugin rill_plugin = {
	.abi_version = RILL_PLUGIN_ABI_VERSION,
	.type = RILL_PLUGIN_SOURCE,
	.kind = "ostree",
	.config_keys = config_keys,
	.configure = configure,
	.fetch = fetch,
	.stage = stage,
	.track = track,
};
