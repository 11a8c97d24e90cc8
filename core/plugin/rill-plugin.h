/* rill-plugin.h — the ABI between rill-backend and its dlopen'd element and source plugins.
 * This is the only header a plugin includes. See docs/plugins.md.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_PLUGIN_H
#define RILL_PLUGIN_H

#include <stddef.h>

/* Bumped on any incompatible change to the structures below; the loader requires an exact match. */
#define RILL_PLUGIN_ABI_VERSION 4

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

/* Flags of host->run(). */
enum rill_run_flags {
	RILL_RUN_ROOT_READ_ONLY = 1 << 0,       /* the staged sysroot is read-only (build commands) */
	RILL_RUN_DEV_SHM = 1 << 1,              /* mount a tmpfs on /dev/shm */
};

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

	/* ---- ABI 2: job-time services, only during fetch/stage/track/assemble (which run in a
	 * job process forked by the backend; the job's log file receives all their output). ---- */

	/* A STATUS message for the running job (its log file and the status table). */
	void (*status)(struct rill_ctx *ctx, const char *fmt, ...) RILL_PRINTF(2, 3);
	/* Download url (already translated) to the file path (written atomically); http, https
	 * and file URLs. One attempt: the scheduler retries failed network jobs. */
	int (*download)(struct rill_ctx *ctx, const char *url, const char *path);
	/* Extract the tar (any compression) or zip archive into the existing directory dest.
	 * base_dir follows BuildStream's base-dir: a glob naming the directory to extract ("*": the
	 * first matching directory; "": the archive root). Entries that would escape dest (../,
	 * absolute paths, through symbolic links) and device files are refused. */
	int (*extract)(struct rill_ctx *ctx, const char *archive, const char *dest, const char *base_dir);
	/* Run argv (argv[0] found in PATH) on the host, stdin /dev/null, stderr to the job log, in
	 * cwd (NULL: unchanged). With out, stdout is captured into *out (trailing newlines
	 * stripped, backend-owned); otherwise it goes to the log. A non-zero exit is an error
	 * naming the command. */
	int (*run_host)(struct rill_ctx *ctx, const char *const *argv, const char *cwd, const char **out);
	/* Copy the file or directory src to dest (created; parents must exist), keeping modes and
	 * symbolic links. */
	int (*copy_tree)(struct rill_ctx *ctx, const char *src, const char *dest);

	/* Element builds (assemble only). Paths below are absolute paths inside the sandbox. */
	/* Stage the build-scope dependencies at path, in staging order (overlaps are warned
	 * about, fatal with the `overlaps` token). */
	int (*stage_deps)(struct rill_ctx *ctx, const char *path);
	/* Stage one build dependency by element name, with its runtime dependencies, at path. */
	int (*stage_dep)(struct rill_ctx *ctx, const char *element, const char *path);
	/* Stage the files of the build dependencies (element NULL) or of one, selected by their
	 * public bst.split-rules: files in any domain of include (a list of names; NULL: all
	 * domains) and in no domain of exclude, plus files in no domain at all when orphans. */
	int (*stage_split)(struct rill_ctx *ctx, const char *element, const struct rill_node *include,
			   const struct rill_node *exclude, int orphans, const char *path);
	/* Run the integration-commands of every staged dependency (root writable, cwd /). */
	int (*integrate)(struct rill_ctx *ctx);
	/* Stage the element's sources at path (each in its `directory` below it). */
	int (*stage_sources)(struct rill_ctx *ctx, const char *path);
	/* Run `sh -c -e "cmd"` in the sandbox in cwd (NULL: %{build-root}, or %{cwd} when the
	 * element defines it). A non-zero exit gives "Command '<cmd>' failed with exitcode N". */
	int (*run)(struct rill_ctx *ctx, const char *cmd, unsigned flags, const char *cwd);
	/* The host path of a sandbox path (for plugins that move files themselves: import). */
	const char *(*host_path)(struct rill_ctx *ctx, const char *sandbox_path);
	/* The sandbox directory whose contents become the artifact (default: %{install-root}). */
	void (*collect)(struct rill_ctx *ctx, const char *path);

	/* ---- ABI 3 ---- */

	/* Run cmds[0..n-1] in order as run() would, stopping at the first that fails (same
	 * error), but all in one sandbox: much cheaper than n calls of run(). The commands share
	 * the sandbox's /tmp and /dev/shm; everything else each sees as it would alone. notes[i],
	 * when notes and notes[i] are not NULL, is reported as a status message just before
	 * cmds[i] starts (e.g. "Running build-commands"). */
	int (*run_commands)(struct rill_ctx *ctx, const char *const *cmds, const char *const *notes,
			    size_t n, unsigned flags, const char *cwd);

	/* ---- ABI 4: what plugins hosted by a bridge (plugins/python) need ---- */

	/* The descriptor this call was made through (a bridge serves many kinds). */
	const struct rill_plugin *(*plugin)(struct rill_ctx *ctx);
	/* The element being configured or built, e.g. "base/hello.bst". */
	const char *(*element_name)(struct rill_ctx *ctx);
	/* BuildStream's provenance of n, "file.bst [line L column C]" ("" when it has none). */
	const char *(*provenance)(struct rill_ctx *ctx, const struct rill_node *n);
	/* 1 when n is a scalar written with no value (`key:` or `~`). */
	int (*is_null)(const struct rill_node *n);
	/* rill's cache directory (absolute; created). */
	const char *(*cache_dir)(struct rill_ctx *ctx);
	/* Run argv in the sandbox (job time, assemble only) in cwd (NULL: as run()) with env
	 * (NULL-terminated "K=V" strings; NULL: the element's environment); *status receives the
	 * exit code, which is not an error. */
	int (*run_argv)(struct rill_ctx *ctx, const char *const *argv, unsigned flags, const char *cwd,
			const char *const *env, int *status);
	/* A message of the plugin (kind: "debug", "status", "info", "log") at job or load time. */
	void (*message)(struct rill_ctx *ctx, const char *kind, const char *text, const char *detail);
	/* The element's public data, environment (a map of strings) and sandbox configuration. */
	const struct rill_node *(*element_public)(struct rill_ctx *ctx);
	const struct rill_node *(*element_environment)(struct rill_ctx *ctx);
	/* Dependencies of element (NULL: the element called for; scope: 1 all, 2 build, 3 run;
	 * recurse as BuildStream's dependencies()), in staging order, as element names; *n
	 * receives the count. Load time too. */
	const char *const *(*dependencies)(struct rill_ctx *ctx, const char *element, int scope, int recurse,
					   size_t *n);
	/* Kind, public data and top-level node (its provenance) of an element of the project, or
	 * of the element being called for when element is NULL (NULL when unknown). */
	const char *(*element_kind)(struct rill_ctx *ctx, const char *element);
	const struct rill_node *(*public_of)(struct rill_ctx *ctx, const char *element);
	const struct rill_node *(*element_node)(struct rill_ctx *ctx, const char *element);
	/* The error the last failing host function recorded (NULL: none), and forgetting it (a
	 * plugin that handles the failure goes on). */
	const char *(*last_error)(struct rill_ctx *ctx);
	void (*clear_error)(struct rill_ctx *ctx);
	/* A sandbox directory that the commands of this build may write, besides the build and
	 * install roots (BuildStream's Sandbox.mark_directory); created (assemble only). */
	int (*mark_directory)(struct rill_ctx *ctx, const char *path);
	/* The sources of element (NULL: the element called for): a list of maps {kind: KIND,
	 * config: NODE}, where NODE is the very node the source's configure() received. */
	const struct rill_node *(*sources_of)(struct rill_ctx *ctx, const char *element);
	/* 1 when the element is built in an open workspace whose configure-commands have run
	 * (BuildStream runs prepare() once per workspace); assemble only. */
	int (*workspace_prepared)(struct rill_ctx *ctx);
};

/* A ref that track() returns starting with this byte is YAML flow text after it (a list or map,
 * e.g. JSON), written into the element as that structure rather than as a string. */
#define RILL_REF_FLOW '\x01'

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
	/* BuildStream's BST_FORMAT_VERSION: a project may require at least this (plugins: kind: N). */
	int format_version;
	/* Opaque to the core: for a bridge's own use (the descriptor is the bridge's). */
	void *data;

	/* Validate and interpret config (elements: the composed config dict; sources: the
	 * source dict) and fill out. Returns 0, or -1 after host->error(). */
	int (*configure)(const struct rill_host *host, struct rill_ctx *ctx,
			 const struct rill_node *config, struct rill_configured *out);

	/* ---- ABI 2. Each may be NULL when the kind has nothing to do. All run in a job process;
	 * node is the element's config (elements) or the source dict (sources), as configure()
	 * saw it. Return 0, or -1 after host->error(). ---- */

	/* Sources: fetch into dir, a fresh directory that becomes this source's cache entry
	 * (keyed by its unique key) when fetch succeeds; dir is removed when it fails. */
	int (*fetch)(const struct rill_host *host, struct rill_ctx *ctx, const struct rill_node *node,
		     const char *dir);
	/* Sources: stage into the existing directory dest. dir is the cache entry fetch filled
	 * (NULL for always-cached kinds, which read the project directly). */
	int (*stage)(const struct rill_host *host, struct rill_ctx *ctx, const struct rill_node *node,
		     const char *dir, const char *dest);
	/* Sources: find the newest ref (remote: sha256 of the download; git: the commit of
	 * `track`). *ref receives it (backend-owned), or NULL when the kind has no refs. */
	int (*track)(const struct rill_host *host, struct rill_ctx *ctx, const struct rill_node *node,
		     const char **ref);
	/* Elements: build in the job's sandbox with host->stage_*, run and collect. */
	int (*assemble)(const struct rill_host *host, struct rill_ctx *ctx, const struct rill_node *config);
};

#endif
