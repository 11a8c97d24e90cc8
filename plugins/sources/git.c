/* git.c — the git source: a commit of a git repository (URL alias allowed), optionally tracked
 * from a branch, with submodule overrides. The key is [url as written, ref] plus submodule
 * settings when they differ from the defaults.
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

RILL_PLUGIN_EXPORT const struct rill_plugin rill_plugin = {
	.abi_version = RILL_PLUGIN_ABI_VERSION,
	.type = RILL_PLUGIN_SOURCE,
	.kind = "git",
	.flags = 0,
	.artifact_version = 0,
	.config_keys = config_keys,
	.configure = configure,
};
