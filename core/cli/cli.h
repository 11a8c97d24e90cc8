/* cli — what rill-backend's commands share: global options, loading a project for a command,
 * usage errors. main.c parses global options and dispatches; commands.c holds the build,
 * fetch, track, artifact, source and shell commands.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_CLI_H
#define RILL_CLI_H

#include "graph/project.h"

struct cli {
	const char *directory;
	struct cli_option *options;
	size_t noptions, options_cap;
	int max_jobs;
	const char *default_mirror;     /* --default-mirror NAME */
	int bst_keys;                   /* --bst-keys: BuildStream 1.6.8's keys and artifact names */
	int fetch_subprojects;          /* loading may fetch junction sources (as bst's commands
					 * other than show do) */
};

/* Print a usage error for `rill <cmd>` (cmd includes a trailing space, or NULL) and return 2. */
int cli_usage_error(const char *cmd, const char *fmt, const char *arg);
/* Options accepted before and after the command (-C, -o, --max-jobs, --default-mirror,
 * --bst-keys). Returns the number of
 * arguments used, 0 when argv[i] is not one, -1 after a usage error. */
int cli_common_option(struct cli *c, int argc, char **argv, int i, const char *cmd);
/* A new directory <cache>/build/<prefix>-XXXXXX for a command's scratch work (heap; the caller
 * removes it), or NULL with err. */
char *cli_scratch_dir(const char *prefix, struct error *err);
/* The core plugin directory. Heap. */
char *cli_plugin_dir(void);
/* Load the project and targets with keys resolved. *roots receives the target elements. */
struct project *cli_load(struct cli *c, const char *const *targets, size_t n, struct element ***roots,
			 struct error *err);

#endif
