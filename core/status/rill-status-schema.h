/* rill-status-schema.h — the status table's schema, owned by its only writer (the backend's
 * status subsystem, core/status/status.c): states, records as readers get them, the helpers that
 * name them, and the on-disk layout of the LMDB databases. Readers include it through
 * rill-status.h (frontends/, the reader library). Full description: docs/status-table.md.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_STATUS_SCHEMA_H
#define RILL_STATUS_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

/* Readers refuse a table whose schema version differs from the one they were built with. */
#define RILL_STATUS_SCHEMA_VERSION 2
#define RILL_STATUS_MAGIC 0x534c4952u        /* "RILS" in the "schema" record */
#define RILL_STATUS_NONE 0xffffffffu          /* no element / no job */

enum rill_session_state { RILL_SESSION_STARTING = 1, RILL_SESSION_LOADING, RILL_SESSION_RUNNING,
	RILL_SESSION_SUCCESS, RILL_SESSION_FAILED, RILL_SESSION_TERMINATED };
enum rill_element_state { RILL_ELEMENT_WAITING = 1, RILL_ELEMENT_NO_REFERENCE, RILL_ELEMENT_FETCH_NEEDED,
	RILL_ELEMENT_TRACKING, RILL_ELEMENT_FETCHING, RILL_ELEMENT_BUILDABLE, RILL_ELEMENT_BUILDING,
	RILL_ELEMENT_CACHED, RILL_ELEMENT_FAILED, RILL_ELEMENT_SKIPPED };
enum rill_job_result { RILL_JOB_RUNNING = 0, RILL_JOB_OK, RILL_JOB_FAILED, RILL_JOB_SKIPPED,
	RILL_JOB_TERMINATED };
enum rill_message_type { RILL_MSG_DEBUG = 1, RILL_MSG_STATUS, RILL_MSG_INFO, RILL_MSG_WARN,
	RILL_MSG_ERROR, RILL_MSG_BUG, RILL_MSG_LOG, RILL_MSG_START, RILL_MSG_SUCCESS, RILL_MSG_FAILURE,
	RILL_MSG_SKIPPED };
#define RILL_ELEMENT_STATE_COUNT (RILL_ELEMENT_SKIPPED + 1)    /* size of arrays indexed by state */

/* Session flags (schema 2). */
#define RILL_SESSION_QUITTING 0x1u      /* finishing the running jobs, starting no more */
#define RILL_SESSION_SUSPENDED 0x2u     /* every job is stopped until a frontend resumes them */
#define RILL_SESSION_AWAITING 0x4u      /* a failure waits for a decision (see awaiting_job) */
/* What the backend does when a job fails. ASK: wait for a decision from an interactive frontend
 * (continue, quit, terminate or retry), or quit when none is attached. */
enum rill_on_error { RILL_ON_ERROR_QUIT = 1, RILL_ON_ERROR_CONTINUE, RILL_ON_ERROR_TERMINATE,
	RILL_ON_ERROR_ASK };

/* Names for display: "running", "no reference", "ok", "WARNING", ...; "unknown" when out of range.
 * The strings are static. */
const char *rill_session_state_name(enum rill_session_state state);
const char *rill_element_state_name(enum rill_element_state state);
const char *rill_job_result_name(enum rill_job_result result);
const char *rill_message_type_name(enum rill_message_type type);
/* 1 for SUCCESS, FAILED and TERMINATED: the backend is done with the session. */
int rill_session_state_is_final(enum rill_session_state state);

/* Size limits of the copied-out strings (including the NUL). Longer values are truncated. */
#define RILL_STATUS_WORD_MAX 32          /* command, action */
#define RILL_STATUS_KEY_MAX 128          /* cache key */
#define RILL_STATUS_NAME_MAX 512         /* element and project names */
#define RILL_STATUS_PATH_MAX 4096        /* project dir, log path, targets */
#define RILL_STATUS_TEXT_MAX 1024        /* message text, last output line, session error */
#define RILL_STATUS_DETAIL_MAX 8192      /* message detail (e.g. the tail of a failed log) */

/* The session record: one per backend run; the one record a status bar needs. Times are
 * CLOCK_REALTIME nanoseconds, 0 when not set. */
struct rill_status_session {
	uint32_t schema_version;
	uint64_t session_id;
	int32_t backend_pid;
	enum rill_session_state state;
	int64_t start_ns;
	int64_t heartbeat_ns;           /* refreshed at least about once per second while the backend runs */
	int64_t end_ns;                 /* set when the state became final */
	uint32_t elements_total;        /* elements the backend has reported */
	uint32_t elements_cached;
	uint32_t elements_failed;
	uint32_t jobs_running;
	uint32_t element_states[RILL_ELEMENT_STATE_COUNT];     /* elements per state */
	uint64_t first_seq;             /* oldest message the ring holds (0: ring empty) */
	uint64_t last_seq;              /* newest message written (sequence numbers start at 1) */
	uint64_t session_seq;           /* the seq this session's first message gets (earlier ones
					 * belong to earlier sessions) */
	uint64_t generation;            /* +1 per committed write transaction */
	uint32_t flags;                 /* RILL_SESSION_QUITTING | SUSPENDED | AWAITING */
	uint32_t awaiting_job;          /* the failed job waiting for a decision, or RILL_STATUS_NONE */
	enum rill_on_error on_error;
	uint32_t frontends;             /* interactive frontends connected to the control socket */
	int64_t paused_ns;              /* time spent suspended by pauses that have ended */
	int64_t suspended_ns;           /* when the current suspension began; 0 when not suspended */
	uint64_t requests;              /* control requests the backend acted on */
	char command[RILL_STATUS_WORD_MAX];             /* "build", "fetch", "track", ... */
	char project[RILL_STATUS_NAME_MAX];
	char project_dir[RILL_STATUS_PATH_MAX];
	char targets[RILL_STATUS_PATH_MAX];             /* separated by spaces */
	char error[RILL_STATUS_TEXT_MAX];               /* what ended the session, "" if nothing */
};

struct rill_status_element {
	uint32_t id;                    /* dense, chosen by the backend */
	enum rill_element_state state;
	uint32_t job_id;                /* the job running for it, or RILL_STATUS_NONE */
	uint32_t failed_job_id;         /* the job that failed for it, or RILL_STATUS_NONE */
	int64_t build_start_ns;         /* first entered BUILDING; 0 if never */
	int64_t build_end_ns;           /* left BUILDING; 0 while building or if never built */
	char name[RILL_STATUS_NAME_MAX];
	char key[RILL_STATUS_KEY_MAX];  /* cache key, "" while unknown */
	char action[RILL_STATUS_WORD_MAX];      /* action of job_id, "" when none */
};

struct rill_status_job {
	uint32_t id;
	uint32_t element_id;            /* or RILL_STATUS_NONE */
	int32_t pid;
	enum rill_job_result result;    /* RILL_JOB_RUNNING until it ends */
	int64_t start_ns;
	int64_t end_ns;                 /* 0 while running */
	int64_t paused_ns;              /* time this job spent suspended (ended pauses) */
	char action[RILL_STATUS_WORD_MAX];
	char element_name[RILL_STATUS_NAME_MAX];
	char log_path[RILL_STATUS_PATH_MAX];
	char last_line[RILL_STATUS_TEXT_MAX];   /* the job's last output line */
};

struct rill_status_queue {
	uint32_t index;                 /* position in the pipeline, from 0 */
	uint32_t processed;
	uint32_t skipped;
	uint32_t failed;
	char action[RILL_STATUS_WORD_MAX];      /* "fetch", "build", ... */
	char complete_name[RILL_STATUS_WORD_MAX];       /* "Fetched", "Built", ... */
};

struct rill_status_message {
	uint64_t seq;                   /* increasing, never reused in a table */
	int64_t time_ns;
	enum rill_message_type type;
	uint32_t element_id;            /* or RILL_STATUS_NONE */
	uint32_t job_id;                /* or RILL_STATUS_NONE */
	int64_t elapsed_ns;             /* SUCCESS/FAILURE: the job's duration; else -1 */
	size_t detail_len;              /* strlen(detail) */
	char element_name[RILL_STATUS_NAME_MAX];        /* "" when element_id is NONE */
	char action[RILL_STATUS_WORD_MAX];
	char text[RILL_STATUS_TEXT_MAX];
	char detail[RILL_STATUS_DETAIL_MAX];
};

/* Elapsed times without the pauses (suspensions): of the session, and of one of its jobs, at
 * now_ns (CLOCK_REALTIME nanoseconds, e.g. rill_status_now()). */
int64_t rill_status_now(void);
int64_t rill_status_session_elapsed(const struct rill_status_session *ses, int64_t now_ns);
int64_t rill_status_job_elapsed(const struct rill_status_job *job, const struct rill_status_session *ses,
				int64_t now_ns);

/* Where a project's table lives (the backend writes there, readers derive it the same way;
 * implemented in the reader library, which the backend links too). */
/* Write the table directory of the project at project_dir into out (size bytes):
 * $XDG_CACHE_HOME/rill/status/<basename>-<16 hex digits of FNV-1a 64 of realpath(project_dir)>,
 * XDG_CACHE_HOME defaulting to $HOME/.cache. Returns 0, or -1 with errno (ENOENT: project_dir
 * does not exist; ENAMETOOLONG: out too small). */
int rill_status_dir(const char *project_dir, char *out, size_t size);

/* ---- On-disk layout (schema version 1) ------------------------------------------------------
 * For the writer and for readers in other languages; C frontends use the functions above.
 * Named databases (keys big-endian so that byte order is numeric order):
 *   "meta"      "schema" -> struct rill_status_rec_schema; "session" -> rec_session + strings;
 *               "chg" ++ u64 generation -> struct rill_status_rec_changes + u32 ids: what that
 *               write transaction changed (the last RILL_STATUS_CHANGES_KEPT generations)
 *   "elements"  u32 id -> rec_element + strings
 *   "jobs"      u32 id -> rec_job + strings
 *   "queues"    u32 index -> rec_queue + strings
 *   "messages"  u64 seq -> rec_message + strings (the ring)
 *   "details"   u64 seq ++ u16 chunk -> up to RILL_STATUS_DETAIL_CHUNK bytes of that message's detail
 * Every value starts with {u32 version, u32 size}: size is the byte size of the fixed part, after
 * which the listed strings follow, each NUL-terminated, in order. Values are only 2-byte aligned:
 * copy them out with memcpy. Native byte order for the fields (the table never leaves the host). */
#define RILL_STATUS_DETAIL_CHUNK 1900
#define RILL_STATUS_CHANGES_KEPT 4096

/* followed by nelements element ids, then njobs job ids (native u32) */
struct rill_status_rec_changes {
	uint32_t version;
	uint32_t size;
	uint32_t nelements;
	uint32_t njobs;
	uint32_t queues;                /* 1 when any queue record changed */
	uint32_t reserved;
	uint64_t last_seq;              /* the last message's seq once it committed */
};

struct rill_status_rec_schema {
	uint32_t version;
	uint32_t size;
	uint32_t magic;                 /* RILL_STATUS_MAGIC */
	uint32_t reserved;
};

/* strings: command, project, project_dir, targets, error */
struct rill_status_rec_session {
	uint32_t version;
	uint32_t size;
	uint64_t session_id;
	int64_t start_ns;
	int64_t heartbeat_ns;
	int64_t end_ns;
	uint64_t first_seq;
	uint64_t last_seq;
	uint64_t session_seq;
	uint64_t generation;
	int64_t paused_ns;
	int64_t suspended_ns;
	uint64_t requests;
	int32_t backend_pid;
	uint32_t state;
	uint32_t elements_total;
	uint32_t elements_cached;
	uint32_t elements_failed;
	uint32_t jobs_running;
	uint32_t element_states[RILL_ELEMENT_STATE_COUNT];
	uint32_t flags;
	uint32_t awaiting_job;
	uint32_t on_error;
	uint32_t frontends;
	uint32_t reserved;
};

/* strings: name, key, action */
struct rill_status_rec_element {
	uint32_t version;
	uint32_t size;
	uint32_t id;
	uint32_t state;
	uint32_t job_id;
	uint32_t failed_job_id;
	int64_t build_start_ns;
	int64_t build_end_ns;
};

/* strings: action, element_name, log_path, last_line */
struct rill_status_rec_job {
	uint32_t version;
	uint32_t size;
	uint32_t id;
	uint32_t element_id;
	int32_t pid;
	uint32_t result;
	int64_t start_ns;
	int64_t end_ns;
	int64_t paused_ns;
};

/* strings: action, complete_name */
struct rill_status_rec_queue {
	uint32_t version;
	uint32_t size;
	uint32_t index;
	uint32_t processed;
	uint32_t skipped;
	uint32_t failed;
};

/* strings: element_name, action, text. detail_len bytes of detail live in "details". */
struct rill_status_rec_message {
	uint32_t version;
	uint32_t size;
	uint64_t seq;
	int64_t time_ns;
	int64_t elapsed_ns;
	uint32_t type;
	uint32_t element_id;
	uint32_t job_id;
	uint32_t detail_len;
};


#endif
