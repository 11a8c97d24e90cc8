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

/* Stage the sources in /input, move input/<source> to output/<target>, collect /output. Nothing
 * runs in a sandbox. */
static int assemble(const struct rill_host *host, struct rill_ctx *ctx, const struct rill_node *config)
{
	const char *source, *target, *in, *out;
	char *from, *to;
	struct stat st;
	int rc;
	if (common_subst_member(host, ctx, config, "source", 1, &source) != 0 ||
	    common_subst_member(host, ctx, config, "target", 1, &target) != 0)
		return -1;
	if (host->stage_sources(ctx, "/input") != 0)
		return -1;
	in = host->host_path(ctx, "/input");
	out = host->host_path(ctx, "/output");
	from = common_join(in, source);
	to = common_join(out, target);
	if (!from || !to) {
		free(from);
		free(to);
		return host->error(ctx, NULL, "Out of memory");
	}
	if (lstat(from, &st) != 0) {
		rc = host->error(ctx, config, "Source directory '%s' does not exist in the sources", source);
	} else {
		host->status(ctx, "Importing %s to %s", source, target);
		/* BuildStream moves the directory. The staged sources are this build's own files,
		 * so a rename does it without copying them (a Debian sysroot: 20k files, seconds);
		 * where it cannot (a non-empty target, a missing parent), they are copied. */
		rc = rename(from, to) == 0 ? 0 : host->copy_tree(ctx, from, to);
	}
	free(from);
	free(to);
	host->collect(ctx, "/output");
	return rc;
}

RILL_PLUGIN_EXPORT const struct rill_plugin rill_plugin = {
	.abi_version = RILL_PLUGIN_ABI_VERSION,
	.type = RILL_PLUGIN_ELEMENT,
	.kind = "import",
	.flags = RILL_ELEMENT_REQUIRE_SOURCES,
	.artifact_version = 0,
	.config_keys = NULL,
	.configure = configure,
	.assemble = assemble,
};
