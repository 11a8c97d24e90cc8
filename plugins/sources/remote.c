/* remote.c — the remote source: a single file downloaded from a URL (alias allowed), checked
 * against its sha256 ref and staged as `filename` with mode 0644. The key is [url as written,
 * ref, filename].
 * SPDX-License-Identifier: Apache-2.0 */
#include "../common.h"


static const char *const config_keys[] = {COMMON_DOWNLOADABLE_CONFIG_KEYS, "filename", NULL};

/* os.path.basename() of the URL after alias translation, as BuildStream names the file. */
static const char *url_basename(const char *url)
{
	const char *slash = strrchr(url, '/');
	return slash ? slash + 1 : url;
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
	if (!filename) {
		const char *translated;
		if (host->translate_url(ctx, host->get(config, "url"), url, &translated) != 0)
			return -1;
		filename = common_strip(host, ctx, url_basename(translated));
	}
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

/* filename as configure() computed it. */
static int read_filename(const struct rill_host *host, struct rill_ctx *ctx, const struct rill_node *node,
			 const char *url, const char **filename)
{
	if (common_get_str(host, ctx, node, "filename", 0, NULL, filename, NULL) != 0)
		return -1;
	if (!*filename)
		*filename = common_strip(host, ctx, url_basename(url));
	return *filename ? 0 : host->error(ctx, node, "Out of memory");
}

static int stage(const struct rill_host *host, struct rill_ctx *ctx, const struct rill_node *node,
		 const char *dir, const char *dest)
{
	const char *url, *ref, *filename, *src, *target;
	if (common_downloadable_read(host, ctx, node, &url, &ref) != 0 ||
	    read_filename(host, ctx, node, url, &filename) != 0)
		return -1;
	if (!(src = common_fmt(host, ctx, "%s/file", dir)) ||
	    !(target = common_fmt(host, ctx, "%s/%s", dest, filename)))
		return -1;
	host->status(ctx, "Staging remote file to %s", filename);
	if (host->copy_tree(ctx, src, target) != 0)
		return -1;
	/* the same mode whatever the umask or the cache entry's mode */
	if (chmod(target, 0644) != 0)
		return host->error(ctx, NULL, "Failed to set the mode of '%s': %s", target, strerror(errno));
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
	.fetch = common_downloadable_fetch,
	.stage = stage,
	.track = common_downloadable_track,
};
