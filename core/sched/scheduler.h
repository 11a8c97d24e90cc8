/* scheduler — runs the track, pull, fetch, build and push queues over a build plan: one process per job
 * (its own log file; messages back over a pipe), limits per queue, retries of network jobs,
 * on-error policies and clean termination. Everything it knows goes into the status table,
 * one write transaction per tick; it never writes to a terminal.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_SCHEDULER_H
#define RILL_SCHEDULER_H

#include "cache/cas.h"
#include "cache/remote.h"
#include "graph/project.h"
#include "sched/control.h"
#include "status/status.h"

/* ASK: a failure waits for a decision from an interactive frontend on the control socket
 * (continue, quit, terminate, retry); with none connected it is QUIT. */
enum on_error { ON_ERROR_QUIT = 0, ON_ERROR_CONTINUE, ON_ERROR_TERMINATE, ON_ERROR_ASK };

struct sched_params {
	int track, pull, fetch, build, push;    /* which queues run (in this order) */
	const unsigned char *track_mask; /* with track: 1 for the plan positions to track (NULL: all) */
	uint32_t first_job_id;          /* job ids start here (a second run in the same session) */
	int fetchers, builders;         /* job limits (DOWNLOAD and PROCESS resources; pulls are
					 * downloads) */
	int pushers;                    /* push job limit (UPLOAD) */
	struct remote *const *remotes;  /* pull: tried in order; push: those with can_push[i] */
	const int *can_push;
	size_t nremotes;
	int retries;                    /* extra attempts of failed fetch and track jobs */
	enum on_error on_error;
	const char *log_dir;            /* <logdir>/<project>/<element>/<key>-<action>.<pid>.log */
	struct control *control;        /* requests from frontends, or NULL */
	unsigned long long quota;       /* the cache's quota in bytes (0: none): after each build,
					 * least recently used artifacts outside the plan go */
};

struct sched_result {
	unsigned failed;                /* elements that failed */
	int terminated;                 /* SIGTERM/SIGINT/SIGHUP ended the session */
	uint32_t next_job_id;           /* the first job id a later run may use */
};

/* Run the queues over plan (elements in build order, all resolved with keys). Tracked refs
 * are written back to the project as each track job succeeds. Returns 0 when the scheduler
 * ran (res says how it went), -1 with err when it could not (e.g. the table failed). */
int scheduler_run(struct project *p, struct element **plan, size_t n, struct cas *cas,
		  struct status_writer *w, const struct sched_params *sp, struct sched_result *res,
		  struct error *err);

/* Element ids in the status table are plan positions; RILL_STATUS_NONE otherwise. */

#endif
