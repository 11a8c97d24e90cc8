/* view — what the plain and tty frontends share: an output buffer, elapsed-time and message-line
 * formatting in BuildStream's "[elapsed][key][action:element] TYPE message" shape, the cache-key
 * column, the failure list and the end-of-session summary. Reads only the status table.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_FRONTEND_VIEW_H
#define RILL_FRONTEND_VIEW_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rill-status.h"

/* A growable output buffer: frames are built here and written with one write(). */
struct obuf {
	char *data;
	size_t len, cap;
};
void obuf_add(struct obuf *b, const char *s, size_t n);
void obuf_puts(struct obuf *b, const char *s);
void obuf_printf(struct obuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s with control characters (escape sequences of build output, ...) replaced by '?',
 * except tabs and, when keep_newlines, newlines. */
void obuf_clean(struct obuf *b, const char *s, size_t n, int keep_newlines);
/* Write everything to fd (retrying short writes and EINTR) and empty b. 0, or -1. */
int obuf_flush(struct obuf *b, int fd);
void obuf_release(struct obuf *b);

/* "HH:MM:SS" of ns ("--:--:--" when negative) into b (at least 16 bytes). */
void view_elapsed(char *b, size_t n, int64_t ns);

/* Colors: the tty frontend turns them on; the plain frontend never. */
enum view_color { VIEW_NONE, VIEW_BOLD, VIEW_DIM, VIEW_RED, VIEW_GREEN, VIEW_YELLOW, VIEW_BLUE, VIEW_CYAN };
const char *view_color(int on, enum view_color c);     /* "" when !on */
const char *view_reset(int on);

struct failure {
	char *element;          /* "" for a session-wide failure */
	char *action;
	char *text;
	char *log_tail;         /* the last lines of the job's log, "" if none */
	uint32_t job_id;
};

/* What a frontend remembers about a session. */
struct view {
	uint64_t last_seq;      /* newest message seen */
	int colors;
	char (*keys)[9];        /* element id -> first 8 hex digits of its cache key */
	size_t nkeys;
	struct failure *failures;
	size_t nfailures, failures_cap;
	struct rill_status_session ses;
	int hung;               /* the backend was reported as not responding */
};

/* Start on st's session: only this session's messages (all of them when from_start, else the
 * last VIEW_RECENT for context, then the new ones). */
#define VIEW_RECENT 20
int view_init(struct view *v, struct rill_status *st, int from_start);
void view_release(struct view *v);
/* Refresh the key column after elements appeared (reads the elements). 0, or -1. */
int view_load_keys(struct view *v, struct rill_status *st);
/* Append m as one event line (plus its indented detail) to out; FAILURE messages are also kept
 * for the summary. */
void view_message(struct view *v, struct obuf *out, const struct rill_status_message *m);
/* The end of a session: failures with their log tails, the queues' counts, total time and the
 * final SUCCESS/FAILURE line. */
void view_summary(struct view *v, struct rill_status *st, struct obuf *out);
/* A line when the backend stops responding (no heartbeat for RILL_STATUS_HUNG_NS while it holds
 * its lock: SIGSTOP, ^Z, stuck) and one when it responds again; call after each refresh of ses. */
void view_liveness(struct view *v, struct rill_status *st, struct obuf *out);
/* Lines saying the backend died and what was running. */
void view_dead(struct view *v, struct rill_status *st, struct obuf *out);

#endif
