/* frontend — the two renderers of a session's status table, plain (one line per event) and tty
 * (live status area, interactive failure handling), and what rill.c hands them.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_FRONTEND_H
#define RILL_FRONTEND_H

#include <signal.h>
#include <stdio.h>
#include <sys/types.h>

#include "rill-status.h"

/* Set by rill.c's signal handlers, consumed by the renderers. */
struct frontend_signals {
	volatile sig_atomic_t intr;     /* SIGINT (^C) */
	volatile sig_atomic_t term;     /* SIGTERM */
	volatile sig_atomic_t hup;      /* SIGHUP: the terminal went away */
	volatile sig_atomic_t winch;    /* the terminal was resized */
	volatile sig_atomic_t tstp;     /* ^Z */
};
extern struct frontend_signals frontend_sig;
/* Set by a renderer that left the session running (detached, or the backend died). */
extern int frontend_detached;

struct follow_opts {
	const char *dir;                /* the status table directory (and control socket) */
	pid_t backend;                  /* the backend this process started, 0 when attached */
	int attached;                   /* joined a running build (rill attach) */
	int heartbeat_s;                /* plain: a line after this many quiet seconds, 0: never */
	long long frame_ns;             /* tty: at least this long between two redraws */
	int colors;                     /* tty: escape codes for colors */
	int interactive;                /* tty: stdin is a terminal we may prompt on */
	const char *self;               /* the rill executable, for "shell" */
};

/* Follow the session in st until it ends (or the frontend detaches). Both return the exit
 * status for the command: 0 success (or detached), 1 failure, termination or a dead backend.
 * plain: SIGINT/SIGTERM ask the backend to terminate, SIGHUP detaches. */
int plain_follow(struct rill_status *st, FILE *out, const struct follow_opts *o);
/* tty: renders on stderr; see docs/frontends.md for keys and prompts. */
int tty_follow(struct rill_status *st, const struct follow_opts *o);

/* Ask the backend to terminate: over the control socket, else SIGTERM to pid. */
void frontend_terminate(const struct follow_opts *o, pid_t pid);

/* A descriptor that becomes readable when the child pid exits (a pidfd), -1 when pid <= 0 or
 * the kernel has none; the renderers sleep on it so a finished build is shown at once. */
int frontend_backend_fd(pid_t pid);
/* Sleep up to ms milliseconds; wake early when backend_fd or key_fd (either may be -1) is
 * readable or a signal arrives. */
void frontend_wait(int backend_fd, int key_fd, int ms);

#endif
