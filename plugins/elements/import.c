/* import.c — the import element: stages its sources and collects a subdirectory of them
 * (config `source`) into the artifact at `target`. Both are substituted like BuildStream.
 * SPDX-License-Identifier: Apache-2.0 */
#include "../common.h"

/* BuildStream's import element does not validate its config keys: NULL asks the core not to. */

static int configure(const struct rill_host *host, struct rill_ctx *ctx,
		     const struct rill_node *config, struct rill_configured *out)
{
	const char *source, *target;
	struct rill_node *key;
	if (common_subst_member(host, ctx, config, "source", 1, &source) != 0)
		return -1;
	if (common_subst_member(host, ctx, config, "target", 1, &target) != 0)
		return -1;
	key = host->new_map(ctx);
	host->map_put(ctx, key, "source", host->new_str(ctx, source));
	host->map_put(ctx, key, "target", host->new_str(ctx, target));
	out->unique_key = key;
	return 0;
}

RILL_PLUGIN_EXPORT const struct rill_plugin rill_plugin = {
	.abi_version = RILL_PLUGIN_ABI_VERSION,
	.type = RILL_PLUGIN_ELEMENT,
	.kind = "import",
	.flags = RILL_ELEMENT_REQUIRE_SOURCES,
	.artifact_version = 0,
	.config_keys = NULL,
	.configure = configure,
};
