/* junction.c — the junction element: its sources hold a subproject whose elements the
 * loader makes available as "junction.bst:element.bst". It produces no artifact.
 * SPDX-License-Identifier: Apache-2.0 */
#include "../common.h"

static const char *const config_keys[] = {"path", "options", NULL};

/* The loader reads path and options itself (core/graph/loader.c); like BuildStream's, the unique
 * key is the integer 1. */
static int configure(const struct rill_host *host, struct rill_ctx *ctx,
		     const struct rill_node *config, struct rill_configured *out)
{
	(void)config;
	out->unique_key = host->new_int(ctx, 1);
	return 0;
}

static int assemble(const struct rill_host *host, struct rill_ctx *ctx, const struct rill_node *config)
{
	(void)config;
	return host->error(ctx, NULL, "Cannot build junction elements");
}

RILL_PLUGIN_EXPORT const struct rill_plugin rill_plugin = {
	.abi_version = RILL_PLUGIN_ABI_VERSION,
	.type = RILL_PLUGIN_ELEMENT,
	.kind = "junction",
	.flags = RILL_ELEMENT_FORBID_RDEPENDS | RILL_ELEMENT_FORBID_BDEPENDS,
	.artifact_version = 0,
	.config_keys = config_keys,
	.configure = configure,
	.assemble = assemble,
};
