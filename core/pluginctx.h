/* pluginctx — the context behind the opaque struct rill_ctx of rill-plugin.h, shared by the
 * modules that implement host functions (plugin.c at load time, the job modules at job time).
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_PLUGINCTX_H
#define RILL_PLUGINCTX_H

#include "project.h"
#include "util.h"

struct build;

struct rill_ctx {
	struct project *p;
	struct element *e;      /* the element being configured or built, or owning the source */
	struct error *err;
	int failed;
	/* job time only */
	struct build *b;        /* the element build (assemble), NULL otherwise */
	int log_fd;             /* the job's log file, -1 outside jobs */
	int report_fd;          /* pipe to the backend for messages, -1 when none */
	struct arena *a;        /* per-job allocations that live until the job ends */
};

#endif
