/* script.c — the script element: stages dependencies (optionally per a layout) and runs a
 * list of commands in the sandbox, collecting %{install-root}.
 * SPDX-License-Identifier: Apache-2.0 */
#include "../common.h"

static const char *const config_keys[] = {
	"commands", "root-read-only", "layout", "create-dev-shm", NULL,
};

/* layout: a list of {element, destination}; both substituted; element may be absent (null). */
static int read_layout(const struct rill_host *host, struct rill_ctx *ctx,
		       const struct rill_node *config, struct rill_node **out)
{
	const struct rill_node *list;
	size_t i, n;
	*out = host->new_list(ctx);
	if (common_get_list(host, ctx, config, "layout", 0, &list) != 0)
		return -1;
	n = list ? host->len(list) : 0;
	for (i = 0; i < n; i++) {
		const struct rill_node *entry = host->at(list, i);
		struct rill_node *item;
		const char *dst, *elm;
		if (host->type(entry) != RILL_NODE_MAP) {
			char path[64];
			snprintf(path, sizeof(path), "layout[%zu]", i);
			return common_wrong_type(host, ctx, entry, path, "dict");
		}
		if (common_subst_member(host, ctx, entry, "destination", 1, &dst) != 0 ||
		    common_subst_member(host, ctx, entry, "element", 0, &elm) != 0)
			return -1;
		item = host->new_map(ctx);
		host->map_put(ctx, item, "element", elm ? host->new_str(ctx, elm) : host->new_null(ctx));
		host->map_put(ctx, item, "destination", host->new_str(ctx, dst));
		host->list_push(ctx, *out, item);
	}
	return 0;
}

/* A variable's value, or "/" when it is undefined or empty. */
static const char *dir_variable(const struct rill_host *host, struct rill_ctx *ctx, const char *name)
{
	const char *v = host->variable(ctx, name);
	return v && v[0] ? v : "/";
}

static int configure(const struct rill_host *host, struct rill_ctx *ctx,
		     const struct rill_node *config, struct rill_configured *out)
{
	struct rill_node *key, *layout, *cmds, *groups;
	int read_only, dev_shm;
	if (read_layout(host, ctx, config, &layout) != 0)
		return -1;
	/* node_subst_list(): the commands are substituted as written, not stripped */
	if (common_subst_list(host, ctx, config, "commands", 1, 0, &cmds) != 0)
		return -1;
	if (common_get_bool(host, ctx, config, "root-read-only", 0, 0, &read_only) != 0 ||
	    common_get_bool(host, ctx, config, "create-dev-shm", 0, 0, &dev_shm) != 0)
		return -1;
	groups = host->new_map(ctx);
	host->map_put(ctx, groups, "commands", cmds);
	key = host->new_map(ctx);
	host->map_put(ctx, key, "commands", groups);
	host->map_put(ctx, key, "cwd", host->new_str(ctx, dir_variable(host, ctx, "cwd")));
	host->map_put(ctx, key, "install-root",
		      host->new_str(ctx, dir_variable(host, ctx, "install-root")));
	host->map_put(ctx, key, "layout", layout);
	host->map_put(ctx, key, "root-read-only", host->new_bool(ctx, read_only));
	out->unique_key = key;
	return 0;
}

/* Stage the layout (or every build dependency at /), integrate what sits at /, run the
 * commands in %{cwd} and collect %{install-root}. */
static int assemble(const struct rill_host *host, struct rill_ctx *ctx, const struct rill_node *config)
{
	const struct rill_node *list;
	const char *install_root = dir_variable(host, ctx, "install-root");
	const char *cwd = dir_variable(host, ctx, "cwd");
	int read_only, dev_shm;
	size_t i, n;
	if (common_get_bool(host, ctx, config, "root-read-only", 0, 0, &read_only) != 0 ||
	    common_get_bool(host, ctx, config, "create-dev-shm", 0, 0, &dev_shm) != 0 ||
	    common_get_list(host, ctx, config, "layout", 0, &list) != 0)
		return -1;
	n = list ? host->len(list) : 0;
	if (n == 0) {
		if (host->stage_deps(ctx, "/") != 0 || host->integrate(ctx) != 0)
			return -1;
	}
	for (i = 0; i < n; i++) {
		const struct rill_node *entry = host->at(list, i);
		const char *dst, *elm;
		if (common_subst_member(host, ctx, entry, "destination", 1, &dst) != 0 ||
		    common_subst_member(host, ctx, entry, "element", 0, &elm) != 0)
			return -1;
		if (elm && elm[0]) {
			if (host->stage_dep(ctx, elm, dst) != 0)
				return -1;
		} else if (!host->host_path(ctx, dst)) {
			return -1;
		} else {
			char *d = strdup(host->host_path(ctx, dst));
			if (!d)
				return host->error(ctx, NULL, "Out of memory");
			mkdir(d, 0755);
			free(d);
		}
	}
	if (n && host->integrate(ctx) != 0)
		return -1;
	if (common_run_commands(host, ctx, config, "commands",
				(read_only ? RILL_RUN_ROOT_READ_ONLY : 0) | (dev_shm ? RILL_RUN_DEV_SHM : 0),
				cwd) != 0)
		return -1;
	host->collect(ctx, install_root);
	return 0;
}

RILL_PLUGIN_EXPORT const struct rill_plugin rill_plugin = {
	.abi_version = RILL_PLUGIN_ABI_VERSION,
	.type = RILL_PLUGIN_ELEMENT,
	.kind = "script",
	/* BuildStream's ScriptElement sets BST_STRICT_REBUILD, BST_FORBID_RDEPENDS and
	 * BST_FORBID_SOURCES */
	.flags = RILL_ELEMENT_STRICT_REBUILD | RILL_ELEMENT_FORBID_RDEPENDS | RILL_ELEMENT_FORBID_SOURCES,
	.artifact_version = 0,
	.config_keys = config_keys,
	.configure = configure,
	.assemble = assemble,
};
