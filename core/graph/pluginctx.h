/* pluginctx — the context behind the opaque struct rill_ctx of rill-plugin.h, shared by the
 * modules that implement host functions (plugin.c at load time, the job modules at job time).
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_PLUGINCTX_H
#define RILL_PLUGINCTX_H

#include "base/util.h"
#include "graph/project.h"

struct build;

struct rill_ctx {
	struct project *p;
	struct element *e;      /* the element being configured or built, or owning the source */
	struct error *err;
	int failed;
	const struct rill_plugin *pl;   /* the descriptor being called */
	/* job time only */
	struct build *b;        /* the element build (assemble), NULL otherwise */
	int log_fd;             /* the job's log file, -1 outside jobs */
	int report_fd;          /* pipe to the backend for messages, -1 when none */
	struct arena *a;        /* per-job allocations that live until the job ends; at load
				 * time, scratch memory */
	struct arena *keep;     /* load time: what the element keeps (NULL: the project's arena) */
	struct resolver *res;   /* load time: whose warnings these are (NULL: the project's) */
	/* job time: how a plugin's warning is reported (where: its provenance, may be "");
	 * NULL at load time, when warnings are the project's */
	void (*job_warn)(struct rill_ctx *c, const char *token, const char *where, const char *text);
	/* source URLs and mirrors */
	struct source *src;     /* configure: the source whose primary alias is recorded */
	int src_marked;         /* its primary URL was seen */
	const char *alias;      /* fetch/track from a mirror: this alias stands for alias_uri */
	const char *alias_uri;
	const char *last_url;   /* the last URL translated through alias_uri (for messages) */
};

#endif
