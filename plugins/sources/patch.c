/* patch.c — the patch source: applies a patch file from the project to the staged sources.
 * The key is [path as written, sha256 of the file, strip-level]. Patches are applied with
 * `git apply` (all or nothing, no fuzz) rather than patch(1), which rill does not require.
 * SPDX-License-Identifier: Apache-2.0 */
#include "../common.h"

#include <dirent.h>

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

static int dir_is_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int empty = 1;
	if (!d)
		return 1;
	while (empty && (de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			empty = 0;
	closedir(d);
	return empty;
}

static int stage(const struct rill_host *host, struct rill_ctx *ctx, const struct rill_node *node,
		 const char *dir, const char *dest)
{
	const char *path, *full, *strip, *ceiling, *real_dest;
	char *resolved, *slash;
	long strip_level;
	(void)dir;
	if (common_project_path(host, ctx, node, "path", 1, &path) != 0 ||
	    common_get_int(host, ctx, node, "strip-level", 1, &strip_level) != 0)
		return -1;
	if (dir_is_empty(dest))
		return host->error(ctx, NULL, "Nothing to patch in directory '%s'", dest);
	resolved = realpath(dest, NULL);
	if (!resolved)
		return host->error(ctx, NULL, "Cannot resolve '%s': %s", dest, strerror(errno));
	real_dest = host->str(host->new_str(ctx, resolved));
	slash = strrchr(resolved, '/');
	if (slash)
		slash[slash == resolved ? 1 : 0] = '\0';
	/* git apply outside a repository acts like patch; the ceiling keeps git from finding a
	 * repository above the staging directory (paths would then be taken relative to it) */
	ceiling = common_fmt(host, ctx, "GIT_CEILING_DIRECTORIES=%s", resolved);
	free(resolved);
	full = path[0] == '/' ? path : common_fmt(host, ctx, "%s/%s", host->project_dir(ctx), path);
	strip = common_fmt(host, ctx, "-p%ld", strip_level);
	if (!ceiling || !full || !strip)
		return -1;
	host->status(ctx, "Applying local patch: %s", path);
	{
		const char *argv[] = {"env", ceiling, "git", "-C", real_dest, "apply", strip, full, NULL};
		return host->run_host(ctx, argv, NULL, NULL);
	}
}

RILL_PLUGIN_EXPORT const struct rill_plugin rill_plugin = {
	.abi_version = RILL_PLUGIN_ABI_VERSION,
	.type = RILL_PLUGIN_SOURCE,
	.kind = "patch",
	.flags = 0,
	.artifact_version = 0,
	.config_keys = NULL,
	.configure = configure,
	.stage = stage,
};
