/* job — what runs inside a job process (forked by the scheduler): the job-time plugin
 * context, messages to the log file and to the backend, source caching, fetch and track.
 * Job processes never touch the status table; they report over a pipe (see job_report).
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_JOB_H
#define RILL_JOB_H

#include "graph/project.h"
#include "graph/pluginctx.h"
#include "status/rill-status-schema.h"

/* Where the job writes: its log file and the pipe to the backend (-1 when none). */
struct job_io {
	int log_fd;
	int report_fd;
	const char *cache_dir;          /* rill's cache directory (os_cache_dir) */
};

/* A context for plugin hook calls in a job. */
void job_ctx_init(struct rill_ctx *c, struct project *p, struct element *e, const struct job_io *io,
		  struct error *err);

/* Write a message: to the log ("[HH:MM:SS] TYPE    element: text") and, for types other than
 * LOG, to the backend as one line "<type>\t<text>\n" (newlines in text escaped as \n). */
void job_report(struct rill_ctx *c, enum rill_message_type type, const char *fmt, ...) PRINTF_LIKE(3, 4);
void job_vreport(struct rill_ctx *c, enum rill_message_type type, const char *fmt, va_list ap);
/* Tell the backend a source's new ref: "REF\t<index>\t<ref>\n". */
void job_report_ref(struct rill_ctx *c, size_t index, const char *ref);

/* The cache directory of a source with a unique key: <cache>/sources/<kind>/<sha256 of the
 * key JSON>. Heap. NULL for always-cached sources and sources without a ref. */
char *job_source_dir(const char *cache_dir, const struct source *s);
/* 1 when every source of e is cached (always-cached, or its directory exists). */
int job_sources_cached(const char *cache_dir, const struct element *e);

/* Fetch every source of e that is not cached yet, each into a temporary directory renamed
 * into place on success. 0, or -1 with err (nothing left behind for the failed source). */
int job_fetch(struct project *p, struct element *e, const struct job_io *io, struct error *err);
/* Track every source of e: reports each new ref with job_report_ref. 0, or -1 with err. */
int job_track(struct project *p, struct element *e, const struct job_io *io, struct error *err);
/* Stage every source of e below the host directory dest (each in its `directory`). */
int job_stage_sources(struct rill_ctx *c, const char *dest);

/* What loading needs to open junctions: load_params.junction_sources. */
extern const struct junction_sources job_junction_sources;

/* The table of host functions for plugin calls in a job (fetch, track, stage). */
const struct rill_host *job_host(void);
void job_host_status(struct rill_ctx *c, const char *fmt, ...) PRINTF_LIKE(2, 3);

#endif
