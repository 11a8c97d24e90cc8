/* project — the loaded project: project.conf composed over the built-in defaults, options,
 * plugins, and the element graph. The data model every backend module shares.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_PROJECT_H
#define RILL_PROJECT_H

#include <stdatomic.h>

#include "format/node.h"
#include "format/options.h"

struct plugin;
struct variables;

#define BST_FORMAT_VERSION 18

/* One option given on the command line (-o NAME VALUE). */
struct cli_option {
	const char *name;
	const char *value;
};

/* What the caller (command line, user config) asks of the loader. */
struct load_params {
	const char *directory;          /* where to start looking for project.conf (NULL: cwd) */
	const struct cli_option *options;
	size_t noptions;
	const char *plugin_dir;         /* core plugins directory (elements/, sources/ below it) */
	int max_jobs;                   /* 0: automatic (min(cpus, 8)) */
	int bst_keys;                   /* compute keys exactly as BuildStream 1.6.8 does */
	int threads;                    /* threads the loader may use; 0: one per CPU, at most 2 */
	const char *default_mirror;     /* --default-mirror: the mirror tried first (NULL: the user
					 * config's projects.<name>.default-mirror, else the first) */
	const char *cache_dir;          /* rill's cache (NULL: the default), for junction sources */
	int fetch_subprojects;          /* fetch a junction's sources when loading needs them */
	/* Opens the subproject behind junction jname of project q (the loader's junction lookup;
	 * top is the loaded project). Needed for junction includes ("junction.bst:file.yml"):
	 * NULL makes them an error. */
	struct project *(*open_junction)(struct project *top, struct project *q, const char *jname,
					 struct error *err);
	const struct junction_sources *junction_sources;   /* NULL: junctions cannot be opened */
};

/* What opening a junction needs from the build subsystem, which the graph does not call
 * directly (the command line passes build/job.c's job_junction_sources): whether junction
 * element je's sources are in the source cache, fetching them there, staging them into dir. */
struct element;
struct junction_sources {
	int (*cached)(const char *cache_dir, const struct element *je);
	int (*fetch)(struct project *p, struct element *je, const char *cache_dir, struct error *err);
	int (*stage)(struct project *p, struct element *je, const char *dir, struct error *err);
};

/* Per element kind: its plugin and defaults composed with the project's elements: override. */
/* The JSON of the last environment and public data element_resolve() put in a key: elements
 * of a kind mostly share those nodes, so the text is made once (element.c). */
struct key_cache {
	const struct node *env, *nocache, *public;
	struct buf env_json, public_json;
};

/* What one thread resolving elements allocates with and keeps between elements (element.c):
 * the project's own (res, id 0) on the main thread, and its own on the helper thread when a
 * big graph is resolved on two. */
#define RESOLVERS_MAX 2
struct resolver_warning {
	size_t index;                   /* of the element in the list being resolved */
	char *text;                     /* heap */
};
struct resolver {
	int id;                         /* 0: the main thread; the index of the kinds' shared nodes */
	struct arena *a;                /* what elements keep: the project's arena or the helper's */
	struct arena *scratch;          /* reset between steps */
	struct arena *key_arena;
	struct buf key_json, key_scratch;
	struct key_cache key_cache;
	/* on a helper: warnings wait here, in order, until the main thread merges them */
	int collect;
	size_t current;                 /* the element being resolved */
	struct resolver_warning *warnings;
	size_t nwarnings, warnings_cap;
};

struct kind_info {
	const char *kind;
	const struct plugin *plugin;
	struct node *defaults;          /* plugin YAML ∘ project `elements: <kind>:` */
	struct variables *vars;         /* project variables ∘ defaults.variables */
	struct node *environment;       /* project environment ∘ defaults.environment (unexpanded) */
	struct node *split_rules;       /* project split-rules ∘ defaults public.bst.split-rules */
	/* per resolver: the last expanded environment and public data, shared when equal */
	struct node *env_shared[RESOLVERS_MAX];
	struct node *public_shared[RESOLVERS_MAX];
	struct kind_info *next;
};

enum dep_type { DEP_ALL = 0, DEP_BUILD = 1, DEP_RUNTIME = 2 };

struct dep {
	struct element *element;
	const char *name;               /* the element's full name ("sub.bst:x.bst" across a junction) */
	const char *filename;           /* the name as written, within its project (sorting uses it) */
	const char *junction;           /* the junction it is reached through, NULL when local */
	enum dep_type type;
	int strict;
	const struct node *at;          /* provenance of the dependency entry */
};

enum consistency { CONSISTENCY_INCONSISTENT = 0, CONSISTENCY_RESOLVED = 1, CONSISTENCY_CACHED = 2 };

struct source {
	const char *kind;
	const char *directory;          /* NULL when not given */
	const struct node *node;        /* the source dict as written (ref injected from project.refs) */
	const struct plugin *plugin;
	const char *unique_json;        /* canonical JSON of the unique key; NULL: no ref yet */
	int always_cached;
	const char *alias;              /* alias of the primary URL (the first the plugin translated at
					 * configure time) when the project defines it; mirrors replace
					 * it at fetch and track time. NULL: none */
};

struct element {
	const char *name;               /* path relative to the element path, e.g. "base/a.bst";
					 * "junction.bst:a.bst" for an element of a subproject */
	const char *local_name;         /* the name within its own project (element-name) */
	struct project *project;        /* the project it belongs to: the loaded one or a subproject */
	const struct node *node;        /* after includes and conditionals */
	const char *kind;
	struct kind_info *ki;
	struct dep *deps;               /* sorted as BuildStream sorts them (see loader_finish_sort) */
	size_t ndeps;
	struct element **build_deps;    /* direct, in dep order */
	size_t nbuild_deps;
	struct element **run_deps;
	size_t nrun_deps;
	unsigned char *run_in_build;    /* run_in_build[i]: run_deps[i] is also in build_deps */
	struct source *sources;
	size_t nsources;

	/* resolved by element_resolve() */
	int resolved;
	struct variables *vars;
	struct node *environment;       /* map of expanded strings */
	struct node *env_nocache;       /* list */
	struct node *config;            /* composed config (unexpanded; plugins expand) */
	struct node *public;            /* with expanded bst.split-rules */
	struct node *sandbox;
	const char *build_os, *build_arch;
	long build_uid, build_gid;
	const char *unique_json;        /* canonical JSON of the plugin's unique key; NULL once
					 * key_base is known */
	char *key_base;                 /* rill's keys: digest of the dictionary without
					 * dependencies, made as the element is resolved */
	enum consistency consistency;
	const char *workspace;          /* an open workspace's directory (absolute), or NULL */
	int workspace_prepared;         /* its configure-commands have run */
	const char *workspace_key;      /* its part of the key dictionary (JSON) */

	/* cache keys, "" when unknown */
	char weak_key[65];
	char strict_key[65];
	int keys_done;
	/* rill keys: digests standing for the element and its whole runtime closure, so a
	 * dependent's key covers its build scope in O(direct dependencies) */
	char run_strict[65];            /* strict key + run_strict of each runtime dep */
	char run_weak[65];              /* weak key + run_weak of each runtime dep */
	char run_names[65];             /* name + run_names of each runtime dep */

	/* graph bookkeeping */
	unsigned depth;                 /* longest dependency path to a leaf (for reachability) */
	int sorted;                     /* deps sorted and split into build/run lists */
	unsigned index;                 /* position in project->elements */
	struct element **kids;          /* dependencies in file order, never reordered (searches) */
	unsigned char *kid_types;       /* enum dep_type of each kid */
	unsigned mark;
	unsigned walk_gen;              /* loader_walk visit generation */
	unsigned walk_bits;             /* scopes visited in that generation */
	int state;                      /* loader traversal state */
	struct element *hnext;          /* hash chain */
};

struct project {
	struct arena *a;
	/* junctions: a subproject has a parent; the top project owns every subproject (subs) and
	 * the whole element graph, subprojects only their configuration */
	struct project *parent;         /* NULL for the loaded project */
	const char *junction;           /* subproject: the junction element's name in parent */
	struct project *subs;           /* top project: the loaded subprojects (linked by next_sub) */
	struct project *next_sub;
	int fetch_subprojects;          /* fetch a junction's sources when loading needs them */
	struct project *(*open_junction)(struct project *top, struct project *q, const char *jname,
					 struct error *err);    /* see load_params */
	const struct junction_sources *junction_sources;        /* see load_params */
	/* Whether e's artifact is in the local cache under its key (the command line asks the
	 * CAS; NULL: nothing is cached), and element_state()'s memo of it per element index. */
	int (*artifact_cached)(void *ctx, const struct element *e);
	void *artifact_ctx;
	unsigned char *state_memo;
	char *dir;                      /* absolute project directory */
	const char *name;
	long format_version;
	const char *element_path;       /* as configured, relative to dir */
	char *element_dir;              /* absolute */
	int element_dirfd;              /* element_dir, open (element files are read relative to it) */
	int refs_in_project_refs;       /* ref-storage: project.refs */
	struct node *refs;              /* project.refs: its `projects` map, or NULL */
	struct node *junction_refs;     /* junction.refs (the refs of junction elements' sources):
					 * its `projects` map, or NULL */
	struct node *config;            /* final composed configuration */
	struct options options;
	struct node *base_variables;
	struct node *environment;
	struct node *env_nocache;
	struct node *sandbox;
	struct node *split_rules;
	struct node *element_overrides;
	struct node *source_overrides;
	struct node *aliases;
	struct node *mirrors;           /* the validated `mirrors:` list, NULL when none */
	const char *default_mirror;     /* name of the mirror tried first, NULL when no mirrors */
	const char *cache_quota;        /* the user configuration's cache: quota: (bst's syntax), or NULL */
	struct node *user_artifacts;    /* the user configuration's artifacts: (one map or a list), or NULL */
	struct node *user_project_artifacts;    /* its projects: <name>: artifacts:, or NULL */
	struct node *fatal_warnings;    /* sorted list node */
	struct kind_info *kinds;
	const char *plugin_dir;
	const char *cache_dir;          /* rill's cache (artifacts, sources, logs, builds); set by commands */
	struct node *local_plugins;     /* list from `plugins:` (every origin, in order) */
	int python_plugins;             /* it declares Python plugins: resolve on one thread */
	struct node *workspaces;        /* top project: .bst/workspaces.yml's map, once read */
	unsigned char *unstable_memo;   /* element_key_unstable()'s, per element index */
	struct plugin *plugins;         /* loaded plugins (linked) */
	/* project_free() calls these first: set by the loader once it sorts (joins its sorting
	 * thread) and by the plugin loader once it opens one (closes them) */
	void (*finish_sort)(struct project *p);
	void (*unload_plugins)(struct plugin *list);
	const char *host_os, *host_arch;
	int bst_keys;                   /* see load_params */
	int debug_keys;                 /* RILL_DEBUG_KEYS is set: print every key's JSON on stderr */
	struct resolver res;            /* the main thread's (element.c) */
	int threads;                    /* see load_params */

	/* elements */
	struct sort_state *sorting;     /* dependency sort still running (loader.c) */
	struct element **topo;          /* loaded elements, each after its dependencies */
	size_t ntopo, topo_cap;
	struct element **table;         /* hash table by name */
	size_t table_size;
	struct element **elements;      /* load order */
	size_t nelements, elements_cap;
	size_t ndeps_total;             /* dependencies listed by all elements (RILL_MAX_TOTAL_DEPENDENCIES) */

	struct node *include_cache;     /* name -> loaded include tree */
	struct node *empty;             /* an empty map, shared wherever one is needed */
	struct arena *scratch;          /* per-element temporaries, reset often */
	struct node *warnings;          /* list of warning texts, in order */
	unsigned post_counter;
	struct reach_node *reach;       /* what reachability searches read, by element (loader.c) */
	size_t reach_cap;
	struct prefetch *prefetch;      /* helper parsing element files ahead of the loader */
	struct arena **parsed;          /* the helper's arenas: trees of element files */
	size_t nparsed, nparsed_cap;
	void **heap_blocks;             /* what threads beside the main one allocated (loader.c) */
	size_t nheap_blocks, heap_blocks_cap;
	unsigned walk_gen;
};

/* Find project.conf from params->directory upwards and load it with its options, includes and
 * conditionals. Returns NULL with err set. The project owns everything it loads. */
struct project *project_load(const struct load_params *params, struct error *err);

/* Load the subproject in dir for the junction element named junction of parent. options (a map,
 * may be NULL) are the junction's config.options, already expanded: they apply after the
 * subproject's defaults and before the user configuration; command line options do not apply.
 * The top project owns the result (freed with it). NULL with err set. */
struct project *project_load_sub(struct project *parent, const char *dir, const char *junction,
				 const struct node *options, struct error *err);

/* The loaded (top) project that owns p's elements: p itself unless p is a subproject. */
struct project *project_top(struct project *p);
void project_free(struct project *p);

/* Record a warning (token as in fatal-warnings). Warnings are printed by the command after
 * loading, each once. */
void project_warning(struct project *p, const char *token, const char *fmt, ...) PRINTF_LIKE(3, 4);
/* The same for a warning already formatted ("[token]: text"). */
void project_warning_text(struct project *p, const char *text);
/* A warning met while r resolves its current element: recorded in p at once on the main
 * thread, kept in r on a helper (text is copied). */
void resolver_warning(struct project *p, struct resolver *r, const char *text);
/* Free what r owns besides its arenas' contents (the arenas themselves when free_arenas). */
void resolver_release(struct resolver *r, int free_arenas);

/* The URIs that may stand for alias, in BuildStream's order (get_alias_uris): the default
 * mirror's URIs, then every other mirror's in the order written, then the alias's own value
 * last. Sets *n; 0 when alias is NULL or not a project alias. The array is heap (caller frees
 * it), the strings belong to the project. */
const char **project_alias_uris(const struct project *p, const char *alias, size_t *n);

/* Reject a definition of project-name, element-name or max-jobs in vars (a variables map from
 * a file): "<prov>: invalid redefinition of protected variable 'x'". */
int project_check_protected(const struct node *vars, struct error *err);

/* include_load_fn for include files of project ctx: "file.yml" relative to its directory,
 * "junction.bst:file.yml" in that junction's subproject (through open_junction). */
struct node *project_include_loader(void *project, const char *name, const struct node *at,
				    const char **path, void **next_ctx, struct error *err);

#endif
