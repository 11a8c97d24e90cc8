/* control — the backend's end of the control socket (<status dir>/control.sock): frontends send
 * one request per line and get one answer line. The scheduler polls the descriptors this module
 * gives it and acts on each complete request through a callback. Protocol: rill-status.h.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_CONTROL_H
#define RILL_CONTROL_H

#include <poll.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/util.h"

struct control;

/* A request from a peer; the handler writes its answer ("ok ..." or "error: ...") into reply. */
struct control_request {
	const char *line;               /* without the newline */
	pid_t pid;                      /* the peer's pid (SO_PEERCRED), 0 if unknown */
	int interactive;                /* the connection said "interactive" before */
};
typedef void (*control_handler)(void *ctx, const struct control_request *req, struct buf *reply);

/* Listen on <dir>/control.sock (a stale socket there is replaced: the caller holds the backend
 * lock of dir). NULL with err on failure. */
struct control *control_open(const char *dir, struct error *err);
/* Stop listening, close every connection, remove the socket. NULL is fine. */
void control_close(struct control *c);

/* Fill up to max pollfds (the listener and every connection); returns how many. */
size_t control_pollfds(struct control *c, struct pollfd *p, size_t max);
/* Handle the events of the pollfds filled by the last control_pollfds (n of them): accept,
 * read, call fn for every complete line, write answers, drop closed connections. */
void control_handle(struct control *c, const struct pollfd *p, size_t n, control_handler fn, void *ctx);
/* Connections that declared themselves interactive frontends and are still open. */
unsigned control_interactive(const struct control *c);

#endif
