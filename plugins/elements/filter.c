/* filter.c — the filter element: stages the artifact of its single build dependency keeping
 * only the chosen split domains.
 * SPDX-License-Identifier: Apache-2.0 */
#include "../common.h"

static const char *const config_keys[] = {
	"include", "exclude", "include-orphans", NULL,
};

static int configure(const struct rill_host *host, struct rill_ctx *ctx,
		     const struct rill_node *config, struct rill_configured *out)
{
	struct rill_node *key, *include, *exclude;
	int orphans;
	if (common_sorted_str_list(host, ctx, config, "include", &include) != 0 ||
	    common_sorted_str_list(host, ctx, config, "exclude", &exclude) != 0 ||
	    common_get_bool(host, ctx, config, "include-orphans", 1, 0, &orphans) != 0)
		return -1;
	key = host->new_map(ctx);
	host->map_put(ctx, key, "include", include);
	host->map_put(ctx, key, "exclude", exclude);
	host->map_put(ctx, key, "orphans", host->new_bool(ctx, orphans));
	out->unique_key = key;
	return 0;
}

/* Stage the selected split domains of the single build dependency and collect them. */
static int assemble(const struct rill_host *host, struct rill_ctx *ctx, const struct rill_node *config)
{
	const struct rill_node *include, *exclude;
	int orphans;
	if (common_get_list(host, ctx, config, "include", 0, &include) != 0 ||
	    common_get_list(host, ctx, config, "exclude", 0, &exclude) != 0 ||
	    common_get_bool(host, ctx, config, "include-orphans", 1, 0, &orphans) != 0)
		return -1;
	if (include && host->len(include) == 0)
		include = NULL;
	if (host->stage_split(ctx, NULL, include, exclude, orphans, "/") != 0)
		return -1;
	host->collect(ctx, "/");
	return 0;
}

RILL_PLUGIN_EXPORT const struct rill_plugin rill_plugin = {
	.abi_version = RILL_PLUGIN_ABI_VERSION,
	.type = RILL_PLUGIN_ELEMENT,
	.kind = "filter",
	.flags = RILL_ELEMENT_STRICT_REBUILD | RILL_ELEMENT_FORBID_SOURCES | RILL_ELEMENT_ONE_BUILD_DEP,
	/* BuildStream's filter has BST_ARTIFACT_VERSION = 1 */
	.artifact_version = 1,
	.config_keys = config_keys,
	.configure = configure,
	.assemble = assemble,
};
