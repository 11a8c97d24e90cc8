/* deb.c — the deb source: a .deb package downloaded from a URL (alias allowed), checked against
 * its sha256 ref; the files of its data.tar.* are staged, from base-dir when one is given (none
 * by default: the whole tree). The unique key is [url as written, ref, base-dir or null].
 * SPDX-License-Identifier: Apache-2.0 */
#include "../common.h"

#include <dirent.h>
#include <stdlib.h>

static const char *const config_keys[] = {COMMON_DOWNLOADABLE_CONFIG_KEYS, "base-dir", NULL};

static int configure(const struct rill_host *host, struct rill_ctx *ctx, const struct rill_node *config,
		     struct rill_configured *out)
{
	const char *url, *ref, *base_dir;
	struct rill_node *key;
	if (common_downloadable_configure(host, ctx, config, &url, &ref) != 0 ||
	    common_get_str(host, ctx, config, "base-dir", 0, NULL, &base_dir, NULL) != 0)
		return -1;
	key = common_downloadable_key(host, ctx, url, ref);
	/* unlike tar's, an empty base-dir stays "" in the key (bst reads it without `or None`) */
	if (key)
		host->list_push(ctx, key, base_dir ? host->new_str(ctx, base_dir) : host->new_null(ctx));
	out->unique_key = key;
	return 0;
}

static int stage(const struct rill_host *host, struct rill_ctx *ctx, const struct rill_node *node,
		 const char *dir, const char *dest)
{
	const char *base_dir, *file, *data = NULL, *url, *ref;
	char *tmp, magic[8] = "";
	DIR *d;
	struct dirent *en;
	FILE *f;
	int rc = -1;
	if (common_get_str(host, ctx, node, "base-dir", 0, NULL, &base_dir, NULL) != 0 ||
	    common_downloadable_read(host, ctx, node, &url, &ref) != 0 ||
	    !(file = common_fmt(host, ctx, "%s/file", dir)))
		return -1;
	/* a .deb is an ar archive */
	if ((f = fopen(file, "rb"))) {
		if (fread(magic, 1, sizeof(magic), f) != sizeof(magic))
			magic[0] = '\0';
		fclose(f);
	}
	if (memcmp(magic, "!<arch>\n", 8) != 0)
		return host->error(ctx, node, "%s is not a Debian package (not an ar archive)", url);
	if (!(tmp = common_mkdtemp_in(host, ctx, dest, "deb")))
		return -1;
	host->status(ctx, "Staging %s", file);
	/* the package's members (debian-binary, control.tar.*, data.tar.*) first */
	if (host->extract(ctx, file, tmp, NULL) != 0)
		goto out;
	if ((d = opendir(tmp))) {
		while ((en = readdir(d)))
			if (!strncmp(en->d_name, "data.tar", 8) && !data)
				data = common_fmt(host, ctx, "%s/%s", tmp, en->d_name);
		closedir(d);
	}
	if (!data) {
		host->error(ctx, node, "%s is not a Debian package: it has no data.tar member", url);
		goto out;
	}
	rc = host->extract(ctx, data, dest, base_dir && base_dir[0] ? base_dir : NULL);
out:
	common_rm_rf(tmp);
	free(tmp);
	return rc;
}

RILL_PLUGIN_EXPORT const struct rill_plugin rill_plugin = {
	.abi_version = RILL_PLUGIN_ABI_VERSION,
	.type = RILL_PLUGIN_SOURCE,
	.kind = "deb",
	.config_keys = config_keys,
	.configure = configure,
	.fetch = common_downloadable_fetch,
	.stage = stage,
	.track = common_downloadable_track,
};
