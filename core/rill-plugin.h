/* rill-plugin.h — the ABI between rill-backend and its dlopen'd element and source plugins.
 * This is the only header a plugin includes. See docs/plugins.md.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_PLUGIN_H
#define RILL_PLUGIN_H

#include <stddef.h>

/* Bumped on any incompatible change to the structures below; the loader requires an exact match. */
#define RILL_PLUGIN_ABI_VERSION 1

/* The symbol every plugin exports (a const struct rill_plugin). */
#define RILL_PLUGIN_SYMBOL "rill_plugin"

#if defined(__GNUC__)
#define RILL_PLUGIN_EXPORT __attribute__((visibility("default")))
#define RILL_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define RILL_PLUGIN_EXPORT
#define RILL_PRINTF(f, a)
#endif

enum rill_plugin_type {
	RILL_PLUGIN_ELEMENT = 1,
	RILL_PLUGIN_SOURCE = 2,
};

/* Element plugin flags (BuildStream's equivalents in parentheses). */
enum rill_element_flags {
	RILL_ELEMENT_STRICT_REBUILD = 1 << 0,   /* weak key uses dependencies' weak keys (BST_STRICT_REBUILD) */
	RILL_ELEMENT_FORBID_RDEPENDS = 1 << 1,  /* no runtime dependencies allowed (BST_FORBID_RDEPENDS) */
	RILL_ELEMENT_FORBID_BDEPENDS = 1 << 2,  /* no build dependencies allowed (BST_FORBID_BDEPENDS) */
	RILL_ELEMENT_FORBID_SOURCES = 1 << 3,   /* no sources allowed (BST_FORBID_SOURCES) */
	RILL_ELEMENT_REQUIRE_SOURCES = 1 << 4,  /* at least one source (import) */
	RILL_ELEMENT_ONE_BUILD_DEP = 1 << 5,    /* exactly one build-only dependency (filter) */
};

/* Opaque to plugins: a YAML node (scalar, list or map) and the per-call context. */
struct rill_node;
struct rill_ctx;

enum rill_node_type {
	RILL_NODE_SCALAR = 1,
	RILL_NODE_LIST = 2,
	RILL_NODE_MAP = 3,
};

/* Services the backend offers a plugin during a call. Every function taking a ctx may only be
 * used during the call that received that ctx. Strings returned are owned by the backend and
 * live as long as the loaded project. Functions returning int return 0 on success, -1 after
 * recording an error in ctx (the plugin should then return -1 itself). */
struct rill_host {
	unsigned abi_version;

	/* Reading nodes. */
	int (*type)(const struct rill_node *n);
	const char *(*str)(const struct rill_node *n);          /* NULL unless a scalar */
	size_t (*len)(const struct rill_node *n);               /* items of a list or map; 0 otherwise */
	const struct rill_node *(*at)(const struct rill_node *list, size_t i);
	const char *(*key_at)(const struct rill_node *map, size_t i);
	const struct rill_node *(*value_at)(const struct rill_node *map, size_t i);
	const struct rill_node *(*get)(const struct rill_node *map, const char *key); /* NULL if absent */

	/* Checked reading, with BuildStream's error messages and the node's file/line/column. */
	int (*validate_keys)(struct rill_ctx *ctx, const struct rill_node *map, const char *const *allowed);
	int (*get_str)(struct rill_ctx *ctx, const struct rill_node *map, const char *key,
		       const char *def, const char **out);
	int (*get_bool)(struct rill_ctx *ctx, const struct rill_node *map, const char *key, int def,
			int *out);
	int (*get_int)(struct rill_ctx *ctx, const struct rill_node *map, const char *key, long def,
		       long *out);
	/* A list whose items are all scalars; *out = NULL when the key is missing. */
	int (*get_str_list)(struct rill_ctx *ctx, const struct rill_node *map, const char *key,
			    const struct rill_node **out);
	/* Expand %{variables} of the element in a scalar node, exactly as written (no stripping). */
	int (*subst)(struct rill_ctx *ctx, const struct rill_node *scalar, const char **out);
	/* Resolved value of an element variable, NULL if undefined (element calls only). */
	const char *(*variable)(struct rill_ctx *ctx, const char *name);
	/* Record an error at n (n may be NULL); always returns -1. */
	int (*error)(struct rill_ctx *ctx, const struct rill_node *n, const char *fmt, ...) RILL_PRINTF(3, 4);

	/* Building the unique key: a JSON-like value serialized canonically into the cache key. */
	struct rill_node *(*new_map)(struct rill_ctx *ctx);
	struct rill_node *(*new_list)(struct rill_ctx *ctx);
	struct rill_node *(*new_str)(struct rill_ctx *ctx, const char *s);
	struct rill_node *(*new_bool)(struct rill_ctx *ctx, int b);
	struct rill_node *(*new_int)(struct rill_ctx *ctx, long v);
	struct rill_node *(*new_null)(struct rill_ctx *ctx);
	void (*map_put)(struct rill_ctx *ctx, struct rill_node *map, const char *key, const struct rill_node *v);
	void (*list_push)(struct rill_ctx *ctx, struct rill_node *list, const struct rill_node *v);

	/* Environment. */
	const char *(*project_dir)(struct rill_ctx *ctx);       /* absolute */
	/* Lowercase hex SHA-256 of a file's contents; -1 with an error when unreadable. */
	int (*sha256_file)(struct rill_ctx *ctx, const char *path, char hex[65]);

	/* Expand %{variables} of the element in s (e.g. a stripped copy of a node's text); at gives
	 * the provenance for errors (element calls only). */
	int (*subst_str)(struct rill_ctx *ctx, const struct rill_node *at, const char *s, const char **out);
	/* A download URL with its project alias expanded ("alias:rest" -> prefix + rest). A URL
	 * whose alias the project does not define is an error; a URL with no alias (a known scheme
	 * such as https:) draws the `unaliased-url` warning. */
	int (*translate_url)(struct rill_ctx *ctx, const struct rill_node *at, const char *url,
			     const char **out);
	/* Report a warning identified by token (e.g. "unaliased-url", "git:inconsistent-submodule").
	 * When the project lists token in fatal-warnings it is an error instead and this returns -1. */
	int (*warn)(struct rill_ctx *ctx, const struct rill_node *at, const char *token, const char *fmt, ...)
		RILL_PRINTF(4, 5);
};

/* What configure() reports back. */
struct rill_configured {
	/* The unique key (built with host->new_*), or NULL when it cannot be known yet (a source
	 * without a ref). */
	const struct rill_node *unique_key;
	/* Sources only: 1 when the source has everything it needs locally (local, patch). */
	int always_cached;
};

struct rill_plugin {
	unsigned abi_version;           /* RILL_PLUGIN_ABI_VERSION */
	enum rill_plugin_type type;
	const char *kind;               /* must equal the file name without .so */
	unsigned flags;                 /* enum rill_element_flags, elements only */
	int artifact_version;           /* bump when the plugin's output changes for the same key */
	/* Keys allowed in config (elements) or in the source dict besides kind/directory (sources);
	 * NULL-terminated; checked by the core before configure(). NULL: the core checks nothing
	 * (the plugin accepts any key, as some BuildStream kinds do). */
	const char *const *config_keys;

	/* Validate and interpret config (elements: the composed config dict; sources: the
	 * source dict) and fill out. Returns 0, or -1 after host->error(). */
	int (*configure)(const struct rill_host *host, struct rill_ctx *ctx,
			 const struct rill_node *config, struct rill_configured *out);
};

#endif
