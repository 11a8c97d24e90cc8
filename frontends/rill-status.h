/* rill-status.h — the read-only reader library (librillstatus) of the status table, which every
 * frontend, editor and script links; the schema it reads is rill-status-schema.h, owned by the
 * only writer, rill-backend (core/status/status.c). Full description: docs/status-table.md.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_STATUS_PUBLIC_H
#define RILL_STATUS_PUBLIC_H

#include <stddef.h>
#include <stdint.h>

#include "rill-status-schema.h"

/* ---- The reader library ---------------------------------------------------------------------
 * Use one handle per table per process, from one thread. Every read opens one read transaction,
 * copies out and ends it; nothing is held between calls. Callbacks run inside that transaction:
 * copy what you need and return quickly; never call other rill_status functions from one. */
struct rill_status;

/* rill_status_dir() (where a project's table lives) is in rill-status-schema.h. */

/* The project directory for dir (NULL: the current directory): dir or its nearest parent that
 * holds a project.conf, as an absolute path without symlinks, into out (size bytes); the
 * argument rill_status_dir wants when a reader starts from a file or directory in the project.
 * Returns 0, or -1 with errno (ENOENT: no project.conf in dir or any parent, or dir does not
 * exist; ENAMETOOLONG: out too small). */
int rill_status_find_project(const char *dir, char *out, size_t size);

/* Open the table in dir read-only. NULL when there is no table yet (no backend ever ran, or the
 * first one is still creating it), it cannot be opened, or its schema version differs; errbuf
 * (errsize bytes, may be 0) then says why. Free with rill_status_close(). */
struct rill_status *rill_status_open(const char *dir, char *errbuf, size_t errsize);
/* Like rill_status_open, but retry for up to timeout_ms until the table exists and its session
 * is session_id (the one the caller passed to the backend it started). NULL on timeout. */
struct rill_status *rill_status_open_session(const char *dir, uint64_t session_id, int timeout_ms,
					     char *errbuf, size_t errsize);
void rill_status_close(struct rill_status *s);

/* The message of the last failed call on s ("" if none). Owned by s. */
const char *rill_status_error(const struct rill_status *s);

/* Wait until the table changed (then 1) or timeout_ms passed (0), at no cost while nothing
 * changes: the backend touches backend.lock once per commit and this waits on it with inotify
 * (polling every 10 ms where that is unavailable). Returns at once when a change is unread. */
int rill_status_wait(struct rill_status *s, int timeout_ms);

/* 1 when the backend committed something since this handle last read (any read), else 0.
 * No syscall, no lock: a few nanoseconds; call it every frame. */
int rill_status_changed(struct rill_status *s);

/* Copy the session record into *out. 0, or -1 (see rill_status_error). */
int rill_status_session(struct rill_status *s, struct rill_status_session *out);

/* Wait up to timeout_ms for the session record to carry session_id. 0 when it does, -1 on
 * timeout or error. */
int rill_status_wait_session(struct rill_status *s, uint64_t session_id, int timeout_ms);

/* Walk the elements (by id), jobs (by id), or queues (by index). The callback gets a record
 * owned by s, valid during the call; a non-zero return stops the walk. 0, or -1 on error. */
int rill_status_elements(struct rill_status *s,
			 int (*fn)(void *ctx, const struct rill_status_element *e), void *ctx);
int rill_status_jobs(struct rill_status *s, int (*fn)(void *ctx, const struct rill_status_job *j),
		     void *ctx);
int rill_status_queues(struct rill_status *s, int (*fn)(void *ctx, const struct rill_status_queue *q),
		       void *ctx);

/* Deliver the messages with seq > after, oldest first. *gap (may be NULL) is set to the number of
 * messages after `after` that the ring no longer holds (the reader was overrun; 0 normally). A
 * reader that starts late passes session.session_seq - 1 for this session's messages (first_seq - 1
 * for the whole ring), later the last seq it has seen. A non-zero return from fn stops the walk.
 * 0, or -1 on error. */
int rill_status_messages(struct rill_status *s, uint64_t after, uint64_t *gap,
			 int (*fn)(void *ctx, const struct rill_status_message *m), void *ctx);

/* Everything in one read transaction (one consistent snapshot): any callback may be NULL. */
struct rill_status_visitor {
	void (*session)(void *ctx, const struct rill_status_session *ses);
	int (*element)(void *ctx, const struct rill_status_element *e);
	int (*job)(void *ctx, const struct rill_status_job *j);
	int (*queue)(void *ctx, const struct rill_status_queue *q);
	int (*message)(void *ctx, const struct rill_status_message *m);
	uint64_t messages_after;        /* in: deliver messages with seq > this */
	uint64_t gap;                   /* out: as *gap of rill_status_messages */
};
int rill_status_read(struct rill_status *s, struct rill_status_visitor *v, void *ctx);

/* rill_status_read(), but of the elements, jobs and queues only those written after generation
 * `since` (the session's `generation` when the caller last read it): the cost of a read follows
 * what changed, not the size of the table. Returns 1, having delivered nothing, when that is
 * not known (the session changed, or more than RILL_STATUS_CHANGES_KEPT generations passed):
 * then read everything with rill_status_read(). */
int rill_status_read_changes(struct rill_status *s, struct rill_status_visitor *v, uint64_t since, void *ctx);
/* The seq of the last message committed with generation gen: 0, or 1 when the table no longer
 * knows that generation (-1 on a read error). */
int rill_status_generation_seq(struct rill_status *s, uint64_t gen, uint64_t *last_seq);

/* 1 when a backend holds <dir>/backend.lock, 0 when none does (no backend running). A session
 * whose state is not final while this returns 0 means the backend died. */
int rill_status_backend_alive(struct rill_status *s);

/* A backend commits its heartbeat at least once a second while it runs. One that holds the lock
 * but whose session (not final) has no heartbeat for RILL_STATUS_HUNG_NS is stopped (SIGSTOP,
 * ^Z) or stuck: rill_status_backend_hung() returns 1 then, with *quiet_ns the time since its
 * last heartbeat (may be NULL), and 0 when it is responding, finished or dead. */
#define RILL_STATUS_HUNG_NS 5000000000LL
int rill_status_backend_hung(struct rill_status *s, const struct rill_status_session *ses, int64_t *quiet_ns);

/* ---- The control socket -----------------------------------------------------------------------
 * <dir>/control.sock takes requests, one line each, and answers each with one line starting with
 * "ok" or "error: ". Requests: "continue" (a failure awaiting a decision: go on), "quit" (finish
 * running jobs, start no more), "terminate", "retry ELEMENT" (run the failed job again),
 * "suspend", "resume" (stop and continue every job), "interactive" (this connection is an
 * interactive frontend that can answer failures; the backend counts them while connected),
 * "ping". The backend records every request it acts on as a message in the table.
 * rill_control_open() connects (-1 with errno when no backend listens); rill_control_request()
 * sends one request and waits up to timeout_ms for its answer, copied into reply (may be NULL):
 * 0 when the answer is "ok...", 1 when it is an error, -1 when the connection failed. */
int rill_control_open(const char *dir);
int rill_control_request(int fd, const char *request, char *reply, size_t size, int timeout_ms);
/* One request on a connection of its own. */
int rill_control(const char *dir, const char *request, char *reply, size_t size, int timeout_ms);

#endif
