/* status — the writer of the LMDB status table (the only LMDB writer; see docs/status-table.md
 * and status/rill-status-schema.h for the schema readers see). Changes are buffered in memory and
 * written by status_commit(), one write transaction per scheduler tick.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_STATUS_H
#define RILL_STATUS_H

#include <stdint.h>
#include <sys/types.h>

#include "base/util.h"
#include "status/rill-status-schema.h"

struct status_writer;

/* What a session is about (strings are copied). */
struct status_session_info {
	const char *command;            /* "build", "fetch", "track" */
	const char *project;            /* project name */
	const char *project_dir;        /* absolute */
	const char *targets;            /* target names separated by spaces */
	uint64_t session_id;            /* chosen by the caller (the frontend passes it), 0: random */
};

/* Create dir if needed, take the backend lock (error "another rill backend (pid N) is using
 * <dir>" when held), open or create the environment, clear stale reader slots, and start a new
 * session: elements, jobs and queues emptied, the message sequence continued, state STARTING.
 * That first state is committed before returning, so a reader sees the new session at once. */
struct status_writer *status_open(const char *dir, const struct status_session_info *info,
				  struct error *err);

/* The session id (info->session_id, or the random one chosen when that was 0). */
uint64_t status_session_id(const struct status_writer *w);

/* Buffered changes; none of these fail (out of memory is fatal). Ids are dense, chosen by the
 * caller. Strings are copied. */
void status_session_state(struct status_writer *w, enum rill_session_state state);
/* The project's name, once it is loaded. */
void status_session_project(struct status_writer *w, const char *name);
/* The error that ended the session (load error, ...), shown by every reader. */
void status_session_error(struct status_writer *w, const char *text);
/* Control state: session flags (QUITTING, AWAITING; SUSPENDED is kept by status_suspend and
 * status_resume), the failed job awaiting a decision (RILL_STATUS_NONE), the on-error policy and
 * the number of interactive frontends connected. */
void status_session_control(struct status_writer *w, uint32_t flags, uint32_t awaiting_job,
			    enum rill_on_error on_error, unsigned frontends);
/* Count one control request acted on. */
void status_request_done(struct status_writer *w);
/* Every job is stopped / continued: the pause is left out of the session's and the running
 * jobs' elapsed times (paused_ns). */
void status_suspend(struct status_writer *w);
void status_resume(struct status_writer *w);
/* The element's current state; name or key NULL keeps the value given before. The last call per
 * element before a commit wins. */
void status_element(struct status_writer *w, uint32_t id, const char *name, const char *key,
		    enum rill_element_state state);
void status_job_start(struct status_writer *w, uint32_t job_id, const char *action,
		      uint32_t element_id, pid_t pid, const char *log_path);
void status_job_output(struct status_writer *w, uint32_t job_id, const char *last_line);
void status_job_end(struct status_writer *w, uint32_t job_id, enum rill_job_result result);
void status_queue(struct status_writer *w, unsigned queue, const char *action,
		  const char *complete_name, unsigned processed, unsigned skipped, unsigned failed);
/* A message for the ring. element_id/job_id RILL_STATUS_NONE when not about one; action is the
 * job action ("build", "fetch", ...) or NULL; elapsed_ns for SUCCESS/FAILURE, else -1; detail
 * (may be NULL) is extra text such as the tail of a failed job's log. */
void status_message(struct status_writer *w, enum rill_message_type type, uint32_t element_id,
		    uint32_t job_id, const char *action, int64_t elapsed_ns, const char *text,
		    const char *detail);

/* Write everything buffered since the last commit in one write transaction (plus the session
 * heartbeat). Grows the map on MDB_MAP_FULL. Runs mdb_reader_check every few seconds.
 * Returns 0, or -1 with err. */
int status_commit(struct status_writer *w, struct error *err);

/* 1 when changes are buffered that no commit has written yet (the scheduler then wakes up in
 * time to commit them: readers must see a change within 50 ms). */
int status_pending(const struct status_writer *w);

/* Commit what is buffered, sync, release the lock and close. */
void status_close(struct status_writer *w);

#endif
