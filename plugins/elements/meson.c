/* meson.c — the meson element: a BuildElement running meson and ninja.
 * Defaults live in meson.yaml; validation and the unique key are the shared BuildElement logic.
 * SPDX-License-Identifier: Apache-2.0 */
#include "../common.h"

static const char *const config_keys[] = {COMMON_BUILD_ELEMENT_CONFIG_KEYS};

static int configure(const struct rill_host *host, struct rill_ctx *ctx,
		     const struct rill_node *config, struct rill_configured *out)
{
	return common_build_element_configure(host, ctx, config, out);
}

RILL_PLUGIN_EXPORT const struct rill_plugin rill_plugin = {
	.abi_version = RILL_PLUGIN_ABI_VERSION,
	.type = RILL_PLUGIN_ELEMENT,
	.kind = "meson",
	.flags = 0,
	.artifact_version = 0,
	.config_keys = config_keys,
	.configure = configure,
};
