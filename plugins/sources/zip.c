/* zip.c — the zip source: a zip archive downloaded from a URL (alias allowed), checked against its sha256 ref,
 * staged from its base-dir. The unique key is [url as written, ref, base-dir or null].
 * SPDX-License-Identifier: Apache-2.0 */
#include "../common.h"

static const char *const config_keys[] = {COMMON_DOWNLOADABLE_CONFIG_KEYS, "base-dir", NULL};

static int configure(const struct rill_host *host, struct rill_ctx *ctx,
		     const struct rill_node *config, struct rill_configured *out)
{
	const char *url, *ref, *base_dir;
	struct rill_node *key;
	if (common_downloadable_configure(host, ctx, config, &url, &ref) != 0)
		return -1;
	if (common_get_str(host, ctx, config, "base-dir", 0, "*", &base_dir, NULL) != 0)
		return -1;
	key = common_downloadable_key(host, ctx, url, ref);
	if (key) {
		/* an empty base-dir means "none" (Python's `or None`) */
		host->list_push(ctx, key, base_dir[0] ? host->new_str(ctx, base_dir) : host->new_null(ctx));
	}
	out->unique_key = key;
	return 0;
}

RILL_PLUGIN_EXPORT const struct rill_plugin rill_plugin = {
	.abi_version = RILL_PLUGIN_ABI_VERSION,
	.type = RILL_PLUGIN_SOURCE,
	.kind = "zip",
	.flags = 0,
	.artifact_version = 0,
	.config_keys = config_keys,
	.configure = configure,
};
