/* remote.c — the remote source: a single file downloaded from a URL (alias allowed), checked
 * against its sha256 ref and staged as `filename`. The key is [url as written, ref, filename].
 * SPDX-License-Identifier: Apache-2.0 */
#include "../common.h"

#include <strings.h>

static const char *const config_keys[] = {COMMON_DOWNLOADABLE_CONFIG_KEYS, "filename", NULL};

static const char *const uri_schemes[] = {"http", "https", "ftp", "file", "git", "sftp", "ssh", NULL};

/* os.path.basename() of the URL after alias translation. The alias ("name:" where name is not
 * a URI scheme) is replaced by the project's alias URL, which rill does not pass to plugins;
 * the result is the same whenever the rest of the URL contains a '/' or the alias URL ends
 * with '/', as alias URLs conventionally do. */
static const char *url_basename(const char *url)
{
	const char *colon = strchr(url, ':'), *body = url, *slash;
	if (colon) {
		size_t n = (size_t)(colon - url), i;
		int scheme = 0;
		for (i = 0; uri_schemes[i]; i++)
			if (strlen(uri_schemes[i]) == n && strncasecmp(url, uri_schemes[i], n) == 0)
				scheme = 1;
		if (!scheme)
			body = colon + 1;
	}
	slash = strrchr(body, '/');
	return slash ? slash + 1 : body;
}

static int configure(const struct rill_host *host, struct rill_ctx *ctx,
		     const struct rill_node *config, struct rill_configured *out)
{
	const char *url, *ref, *filename;
	struct rill_node *key;
	if (common_downloadable_configure(host, ctx, config, &url, &ref) != 0)
		return -1;
	if (common_get_str(host, ctx, config, "filename", 0, NULL, &filename, NULL) != 0)
		return -1;
	if (!filename)
		filename = common_strip(host, ctx, url_basename(url));
	if (!filename)
		return host->error(ctx, config, "Out of memory");
	if (strchr(filename, '/'))
		return host->error(ctx, config, "filename parameter cannot contain directories");
	key = common_downloadable_key(host, ctx, url, ref);
	if (key)
		host->list_push(ctx, key, host->new_str(ctx, filename));
	out->unique_key = key;
	return 0;
}

RILL_PLUGIN_EXPORT const struct rill_plugin rill_plugin = {
	.abi_version = RILL_PLUGIN_ABI_VERSION,
	.type = RILL_PLUGIN_SOURCE,
	.kind = "remote",
	.flags = 0,
	.artifact_version = 0,
	.config_keys = config_keys,
	.configure = configure,
};
