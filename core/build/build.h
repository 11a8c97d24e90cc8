/* build — builds one element inside a job process: stages its dependencies' artifacts and
 * its sources into a fresh sysroot, runs the element plugin's assemble() (which drives the
 * sandbox through the host functions here) and commits what it collected to the artifact
 * cache. Also stages sysroots for `rill shell`.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_BUILD_H
#define RILL_BUILD_H

#include "build/job.h"
#include "cache/cas.h"
#include "graph/project.h"

struct rill_ctx;
struct rill_node;

/* Build e (all its build-scope dependencies must be cached in cas under their keys) and
 * commit the artifact. On failure the build directory is kept and the error ends with
 * "Sandbox directory: <dir>". log_path is stored with the artifact. 0, or -1 with err. */
int build_element(struct project *p, struct element *e, struct cas *cas, const struct job_io *io,
		  const char *log_path, struct error *err);

/* Load what building e will stage (its build scope's artifacts) into cas's memory, in the
 * backend before it forks e's job: every job forked afterwards finds it there, instead of
 * each reading the same refs, manifests and trees again (cas_preload). */
void build_prepare(struct project *p, struct element *e, struct cas *cas);

/* Stage a sysroot for e under a new directory in <cache>/build: its run-scope closure
 * (build = 0) or its build scope plus its sources in %{build-root} (build = 1). *root
 * receives the host directory of / (heap). Artifacts are staged as hardlinks into the
 * cache (as for builds), so the shell must run with a read-only root, only %{build-root},
 * %{install-root} and /tmp writable, like BuildStream's. 0, or -1 with err (a missing
 * artifact says to build first). */
int build_stage_shell(struct project *p, struct element *e, struct cas *cas, int build,
		      char **root, struct error *err);

/* Host functions of rill-plugin.h for element builds (plugin.c puts them in the table). */
int build_host_stage_deps(struct rill_ctx *c, const char *path);
int build_host_stage_dep(struct rill_ctx *c, const char *element, const char *path);
int build_host_stage_split(struct rill_ctx *c, const char *element, const struct rill_node *include,
			   const struct rill_node *exclude, int orphans, const char *path);
int build_host_integrate(struct rill_ctx *c);
/* The integration commands (public bst: integration-commands) of els[0..n-1], in order, each
 * expanded with its element's variables, into *cmds (heap array of arena strings, *ncmds);
 * notes, when not NULL, gets "Running integration commands of X" (heap) at each element's
 * first command and NULL elsewhere. 0, or -1 with err. */
int build_integration_commands(struct element *const *els, size_t n, const char ***cmds, char ***notes,
			       size_t *ncmds, struct error *err);
int build_host_stage_sources(struct rill_ctx *c, const char *path);
int build_host_run(struct rill_ctx *c, const char *cmd, unsigned flags, const char *cwd);
int build_host_run_commands(struct rill_ctx *c, const char *const *cmds, const char *const *notes,
			    size_t n, unsigned flags, const char *cwd);
const char *build_host_path(struct rill_ctx *c, const char *sandbox_path);
void build_host_collect(struct rill_ctx *c, const char *path);

/* The table of host functions for the plugin calls of an element's build (assemble). */
const struct rill_host *build_host(void);

#endif
