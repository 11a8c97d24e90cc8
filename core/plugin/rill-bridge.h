/* rill-bridge.h — the interface between the plugin loader and a bridge: one shared object that
 * hosts plugins written in another language (plugins/python: BuildStream's Python plugins) and
 * hands the loader one descriptor of rill-plugin.h per kind it loads.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_BRIDGE_H
#define RILL_BRIDGE_H

#include "rill-plugin.h"

#define RILL_BRIDGE_ABI_VERSION 1
#define RILL_BRIDGE_SYMBOL "rill_bridge"

struct rill_bridge_request {
	enum rill_plugin_type type;
	const char *kind;
	const char *origin;             /* "local" or "pip" */
	const char *where;              /* local: the plugin directory (absolute); pip: the package name */
	const char *project_dir;
};

struct rill_bridge {
	unsigned abi_version;           /* RILL_BRIDGE_ABI_VERSION */
	/* Start the bridge once per process; dir is the bridge's own directory (its support
	 * files). Returns 0, or -1 with a message in err. */
	int (*init)(const struct rill_host *host, const char *dir, char *err, size_t errlen);
	/* Load one kind. Returns its descriptor (the bridge's, valid until exit) and in *defaults
	 * the path of its default YAML (NULL: none), or NULL with BuildStream's message in err. */
	const struct rill_plugin *(*load)(const struct rill_bridge_request *req, const char **defaults,
					  char *err, size_t errlen);
	/* Around fork() of a process that may call plugins afterwards (jobs). */
	void (*before_fork)(void);
	void (*after_fork)(int child);
};

#endif
