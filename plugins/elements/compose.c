/* compose.c — the compose element: stages its build dependencies, optionally integrates them,
 * and keeps the files of the chosen split domains.
 * SPDX-License-Identifier: Apache-2.0 */
#include "../common.h"

static const char *const config_keys[] = {
	"integrate", "include", "exclude", "include-orphans", NULL,
};

static int configure(const struct rill_host *host, struct rill_ctx *ctx,
		     const struct rill_node *config, struct rill_configured *out)
{
	struct rill_node *key, *include, *exclude;
	int integrate, orphans;
	if (common_get_bool(host, ctx, config, "integrate", 1, 0, &integrate) != 0 ||
	    common_sorted_str_list(host, ctx, config, "include", &include) != 0 ||
	    common_sorted_str_list(host, ctx, config, "exclude", &exclude) != 0 ||
	    common_get_bool(host, ctx, config, "include-orphans", 1, 0, &orphans) != 0)
		return -1;
	key = host->new_map(ctx);
	host->map_put(ctx, key, "integrate", host->new_bool(ctx, integrate));
	host->map_put(ctx, key, "include", include);
	host->map_put(ctx, key, "orphans", host->new_bool(ctx, orphans));
	/* an empty exclude list is left out of the key, as BuildStream does */
	if (host->len(exclude) > 0)
		host->map_put(ctx, key, "exclude", exclude);
	out->unique_key = key;
	return 0;
}

/* Stage the selected split domains of every build dependency at /, run their integration
 * commands there when integrate is set, and collect / (the mount points the sandbox made are
 * removed again). An empty include list means every domain. */
static int assemble(const struct rill_host *host, struct rill_ctx *ctx, const struct rill_node *config)
{
	const struct rill_node *include, *exclude;
	int integrate, orphans;
	if (common_get_bool(host, ctx, config, "integrate", 1, 0, &integrate) != 0 ||
	    common_get_list(host, ctx, config, "include", 0, &include) != 0 ||
	    common_get_list(host, ctx, config, "exclude", 0, &exclude) != 0 ||
	    common_get_bool(host, ctx, config, "include-orphans", 1, 0, &orphans) != 0)
		return -1;
	if (include && host->len(include) == 0)
		include = NULL;
	if (host->stage_split(ctx, NULL, include, exclude, orphans, "/") != 0)
		return -1;
	if (integrate && host->integrate(ctx) != 0)
		return -1;
	host->collect(ctx, "/");
	return 0;
}

RILL_PLUGIN_EXPORT const struct rill_plugin rill_plugin = {
	.abi_version = RILL_PLUGIN_ABI_VERSION,
	.type = RILL_PLUGIN_ELEMENT,
	.kind = "compose",
	.flags = RILL_ELEMENT_STRICT_REBUILD | RILL_ELEMENT_FORBID_RDEPENDS | RILL_ELEMENT_FORBID_SOURCES,
	.artifact_version = 0,
	.config_keys = config_keys,
	.configure = configure,
	.assemble = assemble,
};
