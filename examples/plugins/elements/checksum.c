/* checksum.c — example third-party element kind: records checksums of chosen files of its
 * dependencies in a manifest. Shows config validation, substitution and the unique key.
 * SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include <rill-plugin.h>

/* The keys this kind accepts in `config:`; the core rejects any other key before configure(). */
static const char *const config_keys[] = {"algorithm", "files", "manifest", NULL};

static const char *const algorithms[] = {"sha256", "sha512", NULL};

/* algorithm: one of algorithms[], read as written. */
static int read_algorithm(const struct rill_host *host, struct rill_ctx *ctx,
			  const struct rill_node *config, const char **out)
{
	const struct rill_node *n = host->get(config, "algorithm");
	size_t i;
	if (!n)
		return host->error(ctx, config, "Dictionary did not contain expected key 'algorithm'");
	if (host->type(n) != RILL_NODE_SCALAR)
		return host->error(ctx, n, "Value of 'algorithm' is not of the expected type 'str'");
	for (i = 0; algorithms[i]; i++) {
		if (strcmp(host->str(n), algorithms[i]) == 0) {
			*out = algorithms[i];
			return 0;
		}
	}
	return host->error(ctx, n, "Unknown checksum algorithm '%s': expected sha256 or sha512",
			   host->str(n));
}

/* files: a list of strings, each with %{variables} expanded, kept in the order given. */
static int read_files(const struct rill_host *host, struct rill_ctx *ctx,
		      const struct rill_node *config, struct rill_node **out)
{
	const struct rill_node *list = host->get(config, "files");
	size_t i;
	*out = host->new_list(ctx);
	if (!list)
		return 0;
	if (host->type(list) != RILL_NODE_LIST)
		return host->error(ctx, list, "Value of 'files' is not of the expected type 'list'");
	for (i = 0; i < host->len(list); i++) {
		const struct rill_node *item = host->at(list, i);
		const char *path;
		if (host->type(item) != RILL_NODE_SCALAR)
			return host->error(ctx, item, "Value of 'files[%zu]' is not of the expected type 'str'",
					   i);
		if (host->subst(ctx, item, &path) != 0)
			return -1;
		if (path[0] == '\0')
			return host->error(ctx, item, "An entry of 'files' is empty");
		host->list_push(ctx, *out, host->new_str(ctx, path));
	}
	return 0;
}

static int configure(const struct rill_host *host, struct rill_ctx *ctx,
		     const struct rill_node *config, struct rill_configured *out)
{
	const struct rill_node *manifest_node;
	const char *algorithm = NULL, *manifest = NULL;
	struct rill_node *files, *key;

	if (read_algorithm(host, ctx, config, &algorithm) != 0 ||
	    read_files(host, ctx, config, &files) != 0)
		return -1;
	manifest_node = host->get(config, "manifest");
	if (!manifest_node)
		return host->error(ctx, config, "Dictionary did not contain expected key 'manifest'");
	if (host->type(manifest_node) != RILL_NODE_SCALAR)
		return host->error(ctx, manifest_node, "Value of 'manifest' is not of the expected type 'str'");
	if (host->subst(ctx, manifest_node, &manifest) != 0)
		return -1;

	/* Everything that changes the artifact goes into the key; a different algorithm, file
	 * list or manifest location gives a different cache key. */
	key = host->new_map(ctx);
	host->map_put(ctx, key, "algorithm", host->new_str(ctx, algorithm));
	host->map_put(ctx, key, "files", files);
	host->map_put(ctx, key, "manifest", host->new_str(ctx, manifest));
	out->unique_key = key;
	return 0;
}

RILL_PLUGIN_EXPORT const struct rill_plugin rill_plugin = {
	.abi_version = RILL_PLUGIN_ABI_VERSION,
	.type = RILL_PLUGIN_ELEMENT,
	.kind = "checksum",
	.flags = 0,
	.artifact_version = 0,
	.config_keys = config_keys,
	.configure = configure,
};
