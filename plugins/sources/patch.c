/* patch.c — the patch source: applies a patch file from the project to the staged sources.
 * The key is [path as written, sha256 of the file, strip-level].
 * SPDX-License-Identifier: Apache-2.0 */
#include "../common.h"

/* BuildStream's patch source does not validate its keys: NULL asks the core not to. */

static int configure(const struct rill_host *host, struct rill_ctx *ctx,
		     const struct rill_node *config, struct rill_configured *out)
{
	const char *path, *project = host->project_dir(ctx);
	char hex[65], *full;
	long strip_level;
	struct rill_node *key;
	int rc;
	if (common_project_path(host, ctx, config, "path", 1, &path) != 0)
		return -1;
	if (common_get_int(host, ctx, config, "strip-level", 1, &strip_level) != 0)
		return -1;
	full = malloc(strlen(project) + strlen(path) + 2);
	if (!full)
		return host->error(ctx, config, "Out of memory");
	sprintf(full, "%s/%s", project, path);
	rc = host->sha256_file(ctx, full, hex);
	free(full);
	if (rc != 0)
		return -1;
	key = host->new_list(ctx);
	host->list_push(ctx, key, host->new_str(ctx, path));
	host->list_push(ctx, key, host->new_str(ctx, hex));
	host->list_push(ctx, key, host->new_int(ctx, strip_level));
	out->unique_key = key;
	out->always_cached = 1;
	return 0;
}

RILL_PLUGIN_EXPORT const struct rill_plugin rill_plugin = {
	.abi_version = RILL_PLUGIN_ABI_VERSION,
	.type = RILL_PLUGIN_SOURCE,
	.kind = "patch",
	.flags = 0,
	.artifact_version = 0,
	.config_keys = NULL,
	.configure = configure,
};
