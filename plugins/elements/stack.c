/* stack.c — the stack element: groups dependencies and produces an empty artifact.
 * It has no configuration and its unique key is the integer 1, as in BuildStream.
 * SPDX-License-Identifier: Apache-2.0 */
#include "../common.h"

/* BuildStream's stack element ignores its config without validating it: NULL asks the core
 * not to check keys. */

static int configure(const struct rill_host *host, struct rill_ctx *ctx,
		     const struct rill_node *config, struct rill_configured *out)
{
	(void)config;
	out->unique_key = host->new_int(ctx, 1);
	return 0;
}

/* A stack produces an empty artifact: it only groups its dependencies. */
static int assemble(const struct rill_host *host, struct rill_ctx *ctx, const struct rill_node *config)
{
	(void)config;
	host->collect(ctx, "/output");
	return 0;
}

RILL_PLUGIN_EXPORT const struct rill_plugin rill_plugin = {
	.abi_version = RILL_PLUGIN_ABI_VERSION,
	.type = RILL_PLUGIN_ELEMENT,
	.kind = "stack",
	.flags = 0,
	.artifact_version = 0,
	.config_keys = NULL,
	.configure = configure,
	.assemble = assemble,
};
