/* plain — plain-log rendering of the status table: no escape codes, one line per event, a
 * heartbeat line when nothing happened for a while, then the summary.
 * SPDX-License-Identifier: Apache-2.0 */
#include "frontend.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "view.h"

struct plain {
	struct view v;
	struct obuf out;
	FILE *file;
	int64_t last_print;     /* monotonic-ish realtime of the last line printed */
};

static int print_message(void *ctx, const struct rill_status_message *m)
{
	struct plain *p = ctx;
	view_message(&p->v, &p->out, m);
	return 0;
}

/* New messages (keys first when elements appeared), then the session. */
static int refresh(struct rill_status *st, struct plain *p)
{
	uint64_t gap = 0;
	uint32_t total = p->v.ses.elements_total;
	if (rill_status_session(st, &p->v.ses))
		return -1;
	if (p->v.ses.elements_total != total && view_load_keys(&p->v, st))
		return -1;
	if (rill_status_messages(st, p->v.last_seq, &gap, print_message, p))
		return -1;
	if (gap)
		obuf_printf(&p->out, "[--:--:--][][] WARNING %llu messages were missed (the reader fell behind)\n",
			    (unsigned long long)gap);
	view_liveness(&p->v, st, &p->out);
	if (p->out.len) {
		fwrite(p->out.data, 1, p->out.len, p->file);
		fflush(p->file);
		p->out.len = 0;
		p->last_print = rill_status_now();
	}
	return 0;
}

struct running {
	struct obuf *out;
	unsigned n;
};

static int heartbeat_job(void *ctx, const struct rill_status_job *j)
{
	struct running *r = ctx;
	if (j->result != RILL_JOB_RUNNING)
		return 0;
	if (r->n < 3)
		obuf_printf(r->out, "%s%s:%s", r->n ? ", " : " (", j->action, j->element_name);
	r->n++;
	return 0;
}

/* "still running" line for CI systems that kill quiet jobs. */
static void heartbeat(struct rill_status *st, struct plain *p)
{
	const struct rill_status_session *s = &p->v.ses;
	struct running r = {&p->out, 0};
	char el[16];
	view_elapsed(el, sizeof(el), rill_status_session_elapsed(s, rill_status_now()));
	obuf_printf(&p->out, "[%s][][] STATUS  Still %s: %u of %u elements done, %u running", el,
		    s->command[0] ? "working" : "running",
		    s->element_states[RILL_ELEMENT_CACHED] + s->element_states[RILL_ELEMENT_FAILED] +
			    s->element_states[RILL_ELEMENT_SKIPPED],
		    s->elements_total, s->jobs_running);
	rill_status_jobs(st, heartbeat_job, &r);
	obuf_printf(&p->out, "%s%s\n", r.n > 3 ? ", ..." : "", r.n ? ")" : "");
	fwrite(p->out.data, 1, p->out.len, p->file);
	fflush(p->file);
	p->out.len = 0;
	p->last_print = rill_status_now();
}

void frontend_terminate(const struct follow_opts *o, pid_t pid)
{
	if (rill_control(o->dir, "terminate", NULL, 0, 2000) < 0 && pid > 0)
		kill(pid, SIGTERM);
}

int frontend_backend_fd(pid_t pid)
{
#ifdef SYS_pidfd_open
	if (pid > 0)
		return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
#endif
	return -1;
}

void frontend_wait(int backend_fd, int key_fd, int ms)
{
	struct pollfd p[2] = {{backend_fd, POLLIN, 0}, {key_fd, POLLIN, 0}};
	poll(p, 2, ms < 1 ? 1 : ms);
}

int plain_follow(struct rill_status *st, FILE *out, const struct follow_opts *o)
{
	struct plain *p = calloc(1, sizeof(*p));
	int asked = 0, rc = 1, exited = 0, pidfd = frontend_backend_fd(o->backend);
	if (!p)
		abort();
	p->file = out;
	if (view_init(&p->v, st, !o->attached))
		goto out;
	p->last_print = rill_status_now();
	for (;;) {
		if ((frontend_sig.intr || frontend_sig.term) && !asked) {
			frontend_terminate(o, p->v.ses.backend_pid);
			asked = 1;
		}
		if (frontend_sig.hup) {
			rc = 0;         /* detached: the build goes on */
			frontend_detached = 1;
			goto out;
		}
		if ((rill_status_changed(st) || p->v.hung ||
		     rill_status_now() - p->v.ses.heartbeat_ns > RILL_STATUS_HUNG_NS) && refresh(st, p))
			break;
		if (rill_session_state_is_final(p->v.ses.state))
			break;
		if (o->backend > 0 && !exited) {
			int ws;
			if (waitpid(o->backend, &ws, WNOHANG) == o->backend)
				exited = 1;
		}
		if ((exited || (o->backend <= 0 && !rill_status_backend_alive(st))) && !rill_status_changed(st)) {
			refresh(st, p);
			if (rill_session_state_is_final(p->v.ses.state))
				break;
			view_dead(&p->v, st, &p->out);
			frontend_detached = 1;
			fwrite(p->out.data, 1, p->out.len, out);
			goto out;
		}
		if (o->heartbeat_s > 0 && rill_status_now() - p->last_print >= (int64_t)o->heartbeat_s * 1000000000)
			heartbeat(st, p);
		/* a log needs no animation: 10 looks a second batch the build's events into few
		 * read transactions and writes; signals and the backend's exit wake it at once */
		frontend_wait(exited ? -1 : pidfd, -1, 100);
	}
	refresh(st, p);
	view_summary(&p->v, st, &p->out);
	fwrite(p->out.data, 1, p->out.len, out);
	fflush(out);
	rc = p->v.ses.state == RILL_SESSION_SUCCESS ? 0 : 1;
out:
	fflush(out);
	if (pidfd >= 0)
		close(pidfd);
	view_release(&p->v);
	obuf_release(&p->out);
	free(p);
	return rc;
}
