/* tty — the terminal frontend: event lines scroll above a live status area (header, queue
 * counters, one line per running job) redrawn at most 10 times a second, whatever the number of
 * events in between; interactive failure handling, ^C and ^Z, detaching. Reads only the status
 * table; acts only through the control socket.
 * SPDX-License-Identifier: Apache-2.0 */
#include "frontend.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "view.h"

#define BURST_MESSAGES 16               /* more per frame: routine ones are summarized */
#define MAX_QUEUES 8

struct tty {
	struct view v;
	struct obuf out;
	const struct follow_opts *o;
	struct rill_status *st;
	int fd;                         /* the terminal we draw on (stderr) */
	int width, height;
	int area;                       /* lines of the status area on the screen now */
	int ctl;                        /* our control connection, -1 when none */
	struct termios saved;
	int raw;                        /* stdin is in key mode (no echo, no line editing) */
	uint32_t prompted;              /* the awaiting job already prompted about */
	int64_t last_frame, last_second;

	/* the frame being drawn */
	struct rill_status_job *jobs;
	size_t njobs, jobs_cap;
	struct rill_status_job awaiting;        /* the failed job awaiting a decision, if found */
	int have_awaiting;
	struct rill_status_queue queues[MAX_QUEUES];
	size_t nqueues;
	int burst;                      /* too many messages this frame: summarize routine ones */
	unsigned started, succeeded;    /* routine messages summarized */
	uint64_t gap;
};

/* ---- Terminal --------------------------------------------------------------------------- */

static void term_size(struct tty *t)
{
	struct winsize ws;
	t->width = 80;
	t->height = 24;
	if (ioctl(t->fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
		t->width = ws.ws_col;
		t->height = ws.ws_row > 0 ? ws.ws_row : 24;
	}
}

static void keys_on(struct tty *t)
{
	struct termios k;
	if (!t->o->interactive || t->raw)
		return;
	k = t->saved;
	k.c_lflag &= (tcflag_t) ~(ICANON | ECHO);
	k.c_cc[VMIN] = 0;
	k.c_cc[VTIME] = 0;
	if (tcsetattr(0, TCSANOW, &k) == 0)
		t->raw = 1;
}

static void keys_off(struct tty *t)
{
	if (t->raw) {
		tcsetattr(0, TCSANOW, &t->saved);
		t->raw = 0;
	}
}

/* Move back to the first line of the status area and clear it and everything below. */
static void erase_area(struct tty *t)
{
	if (t->area > 0)
		obuf_printf(&t->out, "\r\033[%dA\033[J", t->area);
	t->area = 0;
}

static void flush(struct tty *t)
{
	obuf_flush(&t->out, t->fd);
}

/* Append s, cut to the columns left (UTF-8 sequences count as one column), control
 * characters replaced. Returns the columns used. */
static int put_fit(struct obuf *b, const char *s, int cols)
{
	int used = 0;
	size_t i = 0, start;
	while (s[i] && used < cols) {
		start = i++;
		while ((s[i] & 0xc0) == 0x80)
			i++;
		obuf_clean(b, s + start, i - start, 0);
		used++;
	}
	return used;
}

/* ---- Reading a frame ---------------------------------------------------------------------- */

static void take_session(void *ctx, const struct rill_status_session *s)
{
	struct tty *t = ctx;
	t->v.ses = *s;
	t->burst = s->last_seq > t->v.last_seq + BURST_MESSAGES;
}

static int take_job(void *ctx, const struct rill_status_job *j)
{
	struct tty *t = ctx;
	if (j->id == t->v.ses.awaiting_job) {
		t->awaiting = *j;
		t->have_awaiting = 1;
	}
	if (j->result != RILL_JOB_RUNNING)
		return 0;
	if (t->njobs == t->jobs_cap) {
		t->jobs_cap = t->jobs_cap ? t->jobs_cap * 2 : 16;
		t->jobs = realloc(t->jobs, t->jobs_cap * sizeof(*t->jobs));
		if (!t->jobs)
			abort();
	}
	t->jobs[t->njobs++] = *j;
	return 0;
}

static int take_queue(void *ctx, const struct rill_status_queue *q)
{
	struct tty *t = ctx;
	if (t->nqueues < MAX_QUEUES)
		t->queues[t->nqueues++] = *q;
	return 0;
}

static int take_message(void *ctx, const struct rill_status_message *m)
{
	struct tty *t = ctx;
	if (t->burst && (m->type == RILL_MSG_START || m->type == RILL_MSG_SUCCESS || m->type == RILL_MSG_STATUS ||
			 m->type == RILL_MSG_LOG || m->type == RILL_MSG_DEBUG)) {
		if (m->type == RILL_MSG_START)
			t->started++;
		else if (m->type == RILL_MSG_SUCCESS)
			t->succeeded++;
		if (m->seq > t->v.last_seq)
			t->v.last_seq = m->seq;
		return 0;
	}
	view_message(&t->v, &t->out, m);
	return 0;
}

/* ---- Drawing ------------------------------------------------------------------------------ */

static void draw_area(struct tty *t, int64_t now)
{
	const struct rill_status_session *s = &t->v.ses;
	int c = t->v.colors, cols = t->width - 1, used, room;
	unsigned done = s->element_states[RILL_ELEMENT_CACHED] + s->element_states[RILL_ELEMENT_FAILED] +
			s->element_states[RILL_ELEMENT_SKIPPED];
	char el[16], line[RILL_STATUS_WORD_MAX + RILL_STATUS_NAME_MAX + 2];
	struct obuf h = {0};
	size_t i;
	if (cols < 20)
		cols = 20;
	view_elapsed(el, sizeof(el), rill_status_session_elapsed(s, now));
	obuf_printf(&h, "[%s] %s %s: %u/%u elements, %u running", el, s->project, s->command, done,
		    s->elements_total, s->jobs_running);
	if (s->elements_failed)
		obuf_printf(&h, ", %u failed", s->elements_failed);
	if (s->flags & RILL_SESSION_SUSPENDED)
		obuf_puts(&h, " (suspended)");
	if (s->flags & RILL_SESSION_QUITTING)
		obuf_puts(&h, " (quitting)");
	if (s->flags & RILL_SESSION_AWAITING)
		obuf_puts(&h, " (waiting for a decision)");
	obuf_puts(&t->out, view_color(c, VIEW_BOLD));
	put_fit(&t->out, h.data, cols);
	obuf_printf(&t->out, "%s\n", view_reset(c));
	h.len = 0;
	for (i = 0; i < t->nqueues; i++) {
		const struct rill_status_queue *q = &t->queues[i];
		obuf_printf(&h, "%s%s %u", i ? " | " : "  ", q->complete_name, q->processed);
		if (q->skipped)
			obuf_printf(&h, ", %u skipped", q->skipped);
		if (q->failed)
			obuf_printf(&h, ", %u failed", q->failed);
	}
	put_fit(&t->out, h.len ? h.data : "", cols);
	obuf_release(&h);
	obuf_puts(&t->out, "\n");
	t->area = 2;
	room = t->height - 4 > 1 ? t->height - 4 : 1;
	for (i = 0; i < t->njobs; i++) {
		const struct rill_status_job *j = &t->jobs[i];
		if ((int)i == room - 1 && t->njobs > (size_t)room) {
			obuf_printf(&t->out, "  ... and %zu more jobs\n", t->njobs - i);
			t->area++;
			break;
		}
		view_elapsed(el, sizeof(el), rill_status_job_elapsed(j, s, now));
		obuf_printf(&t->out, "  %s[%s]%s ", view_color(c, VIEW_DIM), el, view_reset(c));
		snprintf(line, sizeof(line), "%s:%s", j->action, j->element_name);
		used = 13 + put_fit(&t->out, line, cols - 13);
		if (j->last_line[0] && used + 3 < cols) {
			obuf_printf(&t->out, "  %s", view_color(c, VIEW_DIM));
			put_fit(&t->out, j->last_line, cols - used - 2);
			obuf_puts(&t->out, view_reset(c));
		}
		obuf_puts(&t->out, "\n");
		t->area++;
	}
	if ((s->flags & RILL_SESSION_AWAITING) && !t->o->interactive) {
		obuf_printf(&t->out, "  %swaiting for a decision about a failure ('rill attach' on a terminal)%s\n",
			    view_color(c, VIEW_YELLOW), view_reset(c));
		t->area++;
	}
}

/* Read the table and redraw: new event lines above, the status area below. */
static int frame(struct tty *t)
{
	struct rill_status_visitor vis = {0};
	int64_t now = rill_status_now();
	uint32_t total = t->v.ses.elements_total;
	char el[16];
	t->njobs = t->nqueues = 0;
	t->have_awaiting = 0;
	t->started = t->succeeded = 0;
	vis.session = take_session;
	vis.job = take_job;
	vis.queue = take_queue;
	vis.message = take_message;
	vis.messages_after = t->v.last_seq;
	{
		/* the key column: element keys are known once the project is loaded */
		struct rill_status_session now_ses;
		if (!rill_status_session(t->st, &now_ses) && now_ses.elements_total != total)
			view_load_keys(&t->v, t->st);
	}
	/* event lines are built after the erase sequence */
	erase_area(t);
	if (rill_status_read(t->st, &vis, t))
		return -1;
	if (vis.gap)
		obuf_printf(&t->out, "[--:--:--][][] WARNING %llu messages were missed (the reader fell behind)\n",
			    (unsigned long long)vis.gap);
	view_liveness(&t->v, t->st, &t->out);
	if (t->started || t->succeeded) {
		view_elapsed(el, sizeof(el), rill_status_session_elapsed(&t->v.ses, now));
		obuf_printf(&t->out, "[%s][][] %sSTATUS%s  %u jobs started, %u succeeded since the last update\n", el,
			    view_color(t->v.colors, VIEW_DIM), view_reset(t->v.colors), t->started, t->succeeded);
	}
	if (!rill_session_state_is_final(t->v.ses.state))
		draw_area(t, now);
	flush(t);
	t->last_frame = now;
	t->last_second = now / 1000000000;
	return 0;
}

/* ---- Prompts ------------------------------------------------------------------------------ */

struct choice {
	const char *name;
	const char *help;
};

/* Send a request on our control connection (or a new one). */
static void request(struct tty *t, const char *req)
{
	char reply[256];
	int rc = t->ctl >= 0 ? rill_control_request(t->ctl, req, reply, sizeof(reply), 3000)
			     : rill_control(t->o->dir, req, reply, sizeof(reply), 3000);
	if (rc)
		obuf_printf(&t->out, "rill: %s: %s\n", req, rc < 0 ? "the backend does not answer" : reply);
}

/* Is the question still open? For the failure prompt: the backend still awaits that job. */
typedef int (*still_fn)(struct tty *t);

/* Ask until a valid answer: returns the index of the choice, -1 when the question went away,
 * -2 on ^C, SIGHUP or SIGTERM. The default (empty answer) is choice 0. */
static int ask(struct tty *t, const char *title, const struct choice *ch, size_t n, still_fn still)
{
	char line[128];
	size_t i, len = 0;
	erase_area(t);
	obuf_printf(&t->out, "\n%s%s%s\n", view_color(t->v.colors, VIEW_BOLD), title, view_reset(t->v.colors));
	for (i = 0; i < n; i++)
		obuf_printf(&t->out, "  %-9s - %s\n", ch[i].name, ch[i].help);
	obuf_printf(&t->out, "\nChoice: [%s]: ", ch[0].name);
	flush(t);
	keys_off(t);
	tcflush(0, TCIFLUSH);
	for (;;) {
		struct pollfd p = {0, POLLIN, 0};
		int r = poll(&p, 1, 100);
		if (frontend_sig.intr || frontend_sig.hup || frontend_sig.term) {
			frontend_sig.intr = 0;
			obuf_puts(&t->out, "\n");
			flush(t);
			return -2;
		}
		if (r <= 0) {
			if (still && rill_status_changed(t->st) && !still(t)) {
				obuf_puts(&t->out, "\n(decided by another frontend)\n");
				flush(t);
				return -1;
			}
			continue;
		}
		ssize_t got = read(0, line + len, sizeof(line) - 1 - len);
		if (got <= 0) {
			obuf_puts(&t->out, "\n");
			flush(t);
			return -2;      /* the terminal is gone */
		}
		len += (size_t)got;
		line[len] = '\0';
		if (!strchr(line, '\n') && len < sizeof(line) - 1)
			continue;
		line[strcspn(line, " \t\r\n")] = '\0';
		len = 0;
		if (!line[0])
			return 0;
		for (i = 0; i < n; i++)
			if (!strncmp(ch[i].name, line, strlen(line)))
				return (int)i;
		obuf_printf(&t->out, "Error: invalid choice '%s'.\nChoice: [%s]: ", line, ch[0].name);
		flush(t);
	}
}

static int still_awaiting(struct tty *t)
{
	struct rill_status_session s;
	if (rill_status_session(t->st, &s))
		return 0;
	return (s.flags & RILL_SESSION_AWAITING) && s.awaiting_job == t->prompted;
}

/* Run argv with the terminal as the user left it; wait for it. */
static void run_on_terminal(struct tty *t, char *const argv[])
{
	pid_t pid, fg = tcgetpgrp(0);
	int ws;
	flush(t);
	keys_off(t);
	pid = fork();
	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTSTP, SIG_DFL);
		execvp(argv[0], argv);
		dprintf(2, "rill: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (pid > 0)
		while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
			;
	if (fg > 0 && tcgetpgrp(0) != fg) {
		/* an interactive shell took the terminal for its own process group: take it back */
		struct sigaction ign, old;
		memset(&ign, 0, sizeof(ign));
		ign.sa_handler = SIG_IGN;
		sigaction(SIGTTOU, &ign, &old);
		tcsetpgrp(0, fg);
		sigaction(SIGTTOU, &old, NULL);
	}
	frontend_sig.intr = 0;
}

static void failure_prompt(struct tty *t)
{
	static const struct choice ch[] = {
		{"continue", "Continue processing jobs"},
		{"quit", "Quit after all ongoing jobs complete"},
		{"terminate", "Terminate any ongoing jobs and exit"},
		{"retry", "Retry this job"},
		{"log", "View the full log file"},
		{"shell", "Drop into a shell in the failed build's sandbox"},
	};
	const struct rill_status_job *j = &t->awaiting;
	char title[1200], req[600];
	size_t n = strcmp(j->action, "build") ? 5 : 6;
	t->prompted = t->v.ses.awaiting_job;
	snprintf(title, sizeof(title), "%s:%s failed. Choose an action:", j->action, j->element_name);
	for (;;) {
		int a = ask(t, title, ch, n, still_awaiting);
		if (a == -1)
			break;
		if (a == -2) {
			request(t, "terminate");
			break;
		}
		if (a == 4) {
			char *argv[] = {"sh", "-c", "if [ -n \"$PAGER\" ]; then exec $PAGER \"$1\"; "
				"elif command -v less >/dev/null; then exec less \"$1\"; else exec more \"$1\"; fi",
				"sh", (char *)j->log_path, NULL};
			run_on_terminal(t, argv);
			continue;
		}
		if (a == 5) {
			char *argv[] = {(char *)t->o->self, "-C", t->v.ses.project_dir, "shell", "--build",
					(char *)j->element_name, NULL};
			obuf_printf(&t->out, "Opening a shell in the sandbox of %s; exit it to return here.\n",
				    j->element_name);
			run_on_terminal(t, argv);
			continue;
		}
		if (a == 3)
			snprintf(req, sizeof(req), "retry %s", j->element_name);
		else
			snprintf(req, sizeof(req), "%s", ch[a].name);
		request(t, req);
		break;
	}
	keys_on(t);
	flush(t);
}

static void interrupt_prompt(struct tty *t)
{
	static const struct choice ch[] = {
		{"continue", "Continue processing jobs"},
		{"quit", "Quit after all ongoing jobs complete"},
		{"terminate", "Terminate any ongoing jobs and exit"},
	};
	int a;
	frontend_sig.intr = 0;
	request(t, "suspend");
	a = ask(t, "User interrupted with ^C. Choose an action:", ch, 3, NULL);
	if (a == -2 || a == 2) {
		request(t, "terminate");
	} else {
		request(t, "resume");
		if (a == 1)
			request(t, "quit");
	}
	keys_on(t);
	flush(t);
}

/* ^Z: stop every job, then ourselves; `fg` continues both. */
static void suspend_all(struct tty *t)
{
	struct sigaction sa, old;
	frontend_sig.tstp = 0;
	request(t, "suspend");
	erase_area(t);
	obuf_puts(&t->out, "rill: suspended every job; 'fg' resumes the build\n");
	flush(t);
	keys_off(t);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGTSTP, &sa, &old);
	raise(SIGTSTP);
	/* continued */
	sigaction(SIGTSTP, &old, NULL);
	keys_on(t);
	term_size(t);
	request(t, "resume");
}

/* ---- Main loop ---------------------------------------------------------------------------- */

static void restore(struct tty *t)
{
	erase_area(t);
	flush(t);
	keys_off(t);
}

/* Keys typed while following: 'd' detaches. Returns 1 to detach. */
static int read_keys(struct tty *t)
{
	char k[32];
	ssize_t n;
	if (!t->raw)
		return 0;
	while ((n = read(0, k, sizeof(k))) > 0)
		if (memchr(k, 'd', (size_t)n))
			return 1;
	return 0;
}

/* How long the main loop may sleep: until the next frame may be drawn, or (when one is due
 * but nothing has changed) a fraction of the frame interval; keys, signals and the backend's
 * exit wake it earlier. */
static int wait_ms(const struct tty *t, int64_t now)
{
	int64_t due = t->last_frame + t->o->frame_ns - now;
	int64_t tick = t->o->frame_ns / 4;
	if (tick > 20 * 1000000LL)
		tick = 20 * 1000000LL;
	if (due < tick)
		due = tick;
	return (int)(due / 1000000) + 1;
}

int tty_follow(struct rill_status *st, const struct follow_opts *o)
{
	struct tty *t = calloc(1, sizeof(*t));
	int rc = 1, exited = 0, detach = 0, pidfd = frontend_backend_fd(o->backend);
	if (!t)
		abort();
	t->o = o;
	t->st = st;
	t->fd = 2;
	t->ctl = -1;
	t->prompted = RILL_STATUS_NONE;
	if (view_init(&t->v, st, !o->attached))
		goto out;
	t->v.colors = o->colors;
	term_size(t);
	if (o->interactive && tcgetattr(0, &t->saved) == 0) {
		/* the backend listens a moment after its session appears in the table */
		struct timespec pause = {0, 20 * 1000 * 1000};
		int tries;
		for (tries = 0; tries < 150 && t->ctl < 0; tries++) {
			t->ctl = rill_control_open(o->dir);
			if (t->ctl >= 0 && rill_control_request(t->ctl, "interactive", NULL, 0, 3000) < 0) {
				close(t->ctl);
				t->ctl = -1;
			}
			if (t->ctl < 0 && (!rill_status_backend_alive(st) || frontend_sig.intr || frontend_sig.term))
				break;
			if (t->ctl < 0)
				nanosleep(&pause, NULL);
		}
		keys_on(t);
	}
	if (o->attached) {
		char el[16];
		view_elapsed(el, sizeof(el), rill_status_session_elapsed(&t->v.ses, rill_status_now()));
		obuf_printf(&t->out, "[%s][][] STATUS  Attached to the %s of %s (backend pid %d)%s\n", el,
			    t->v.ses.command, t->v.ses.targets, (int)t->v.ses.backend_pid,
			    o->interactive ? "; press d to detach" : "");
	}
	for (;;) {
		int64_t now = rill_status_now();
		if (frontend_sig.hup || frontend_sig.term || detach) {
			detach = 1;
			break;
		}
		if (frontend_sig.tstp)
			suspend_all(t);
		if (frontend_sig.intr) {
			if (o->interactive)
				interrupt_prompt(t);
			else {
				frontend_sig.intr = 0;
				request(t, "terminate");
			}
		}
		if (frontend_sig.winch) {
			frontend_sig.winch = 0;
			term_size(t);
			t->last_frame = 0;
		}
		detach = read_keys(t);
		/* the backend's exit is looked at before the frame rate: its final state is drawn at
		 * once, not up to a frame interval later */
		if ((exited || now - t->last_frame >= o->frame_ns) &&
		    (rill_status_changed(st) || now / 1000000000 != t->last_second || !t->last_frame)) {
			if (frame(t))
				break;
		}
		if (rill_session_state_is_final(t->v.ses.state))
			break;
		if (o->interactive && (t->v.ses.flags & RILL_SESSION_AWAITING) &&
		    t->v.ses.awaiting_job != t->prompted && t->have_awaiting) {
			failure_prompt(t);
			t->last_frame = 0;
			continue;
		}
		if ((exited || (o->backend <= 0 && !rill_status_backend_alive(st))) && !rill_status_changed(st)) {
			frame(t);
			if (rill_session_state_is_final(t->v.ses.state))
				break;
			restore(t);
			view_dead(&t->v, st, &t->out);
			frontend_detached = 1;
			flush(t);
			goto out;
		}
		frontend_wait(exited ? -1 : pidfd, t->raw ? 0 : -1, wait_ms(t, rill_status_now()));
	}
	if (detach) {
		frontend_detached = 1;
		restore(t);
		if (!frontend_sig.hup)
			obuf_puts(&t->out, "rill: detached; the build goes on. 'rill attach' shows it again, "
					   "'rill status' summarizes it.\n");
		flush(t);
		rc = 0;
		goto out;
	}
	frame(t);
	restore(t);
	view_summary(&t->v, st, &t->out);
	flush(t);
	rc = t->v.ses.state == RILL_SESSION_SUCCESS ? 0 : 1;
out:
	keys_off(t);
	if (pidfd >= 0)
		close(pidfd);
	if (t->ctl >= 0)
		close(t->ctl);
	view_release(&t->v);
	obuf_release(&t->out);
	free(t->jobs);
	free(t);
	return rc;
}
