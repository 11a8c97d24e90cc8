/* plain — plain-log rendering of the status table (no escape codes, one line per event).
 * SPDX-License-Identifier: Apache-2.0 */
#include "plain.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct keys {
	char (*key)[9];
	size_t n;
};

struct view {
	FILE *out;
	struct keys keys;
	uint64_t last_seq;
	struct rill_status_session ses;
	char failures[1 << 15];        /* "Failure Summary" text */
	size_t flen;
};

static int take_element(void *ctx, const struct rill_status_element *e)
{
	struct view *v = ctx;
	if (e->id >= v->keys.n) {
		size_t n = e->id + 64;
		v->keys.key = realloc(v->keys.key, n * sizeof(*v->keys.key));
		if (!v->keys.key)
			abort();
		memset(v->keys.key + v->keys.n, 0, (n - v->keys.n) * sizeof(*v->keys.key));
		v->keys.n = n;
	}
	snprintf(v->keys.key[e->id], sizeof(v->keys.key[e->id]), "%.8s", e->key);
	return 0;
}

static void fmt_elapsed(char *b, size_t n, int64_t ns)
{
	if (ns < 0) {
		snprintf(b, n, "--:--:--");
	} else {
		long s = (long)(ns / 1000000000);
		snprintf(b, n, "%02ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
	}
}

static int print_message(void *ctx, const struct rill_status_message *m)
{
	struct view *v = ctx;
	char el[16], col[600];
	const char *key = "";
	const char *p;
	v->last_seq = m->seq;
	fmt_elapsed(el, sizeof(el), m->elapsed_ns);
	if (m->element_id != RILL_STATUS_NONE && m->element_id < v->keys.n)
		key = v->keys.key[m->element_id];
	if (m->element_id != RILL_STATUS_NONE)
		snprintf(col, sizeof(col), "%5s:%-30s", m->action[0] ? m->action : "", m->element_name);
	else
		col[0] = '\0';
	fprintf(v->out, "[%s][%s][%s] %-7s %s\n", el, key, col, rill_message_type_name(m->type), m->text);
	if (m->detail_len) {
		fputc('\n', v->out);
		for (p = m->detail; *p;) {
			const char *nl = strchr(p, '\n');
			size_t len = nl ? (size_t)(nl - p) : strlen(p);
			fprintf(v->out, "    %.*s\n", (int)len, p);
			p += len + (nl ? 1 : 0);
		}
		fputc('\n', v->out);
	}
	if (m->type == RILL_MSG_FAILURE && v->flen < sizeof(v->failures) - 1) {
		int w = snprintf(v->failures + v->flen, sizeof(v->failures) - v->flen, "  %s:\n    %s %s\n",
				 m->element_name[0] ? m->element_name : "(session)", m->action, m->text);
		if (w > 0)
			v->flen += (size_t)w < sizeof(v->failures) - v->flen ? (size_t)w : sizeof(v->failures) - v->flen - 1;
	}
	return 0;
}

static int print_queue(void *ctx, const struct rill_status_queue *q)
{
	struct view *v = ctx;
	char name[64];
	snprintf(name, sizeof(name), "%c%s Queue:", q->action[0] ? q->action[0] - 32 : ' ',
		 q->action[0] ? q->action + 1 : "");
	fprintf(v->out, "  %-14s processed %u, skipped %u, failed %u\n", name, q->processed, q->skipped,
		q->failed);
	return 0;
}

static int print_running(void *ctx, const struct rill_status_job *j)
{
	struct view *v = ctx;
	if (j->result == RILL_JOB_RUNNING)
		fprintf(v->out, "    %s:%s (pid %d), log %s\n", j->action, j->element_name, (int)j->pid, j->log_path);
	return 0;
}

/* Read what changed: element keys, new messages, the session. */
static int refresh(struct rill_status *st, struct view *v)
{
	struct rill_status_visitor vis = {0};
	uint64_t gap = 0;
	vis.element = take_element;
	if (rill_status_read(st, &vis, v))
		return -1;
	if (rill_status_messages(st, v->last_seq, &gap, print_message, v))
		return -1;
	if (gap)
		fprintf(v->out, "[--:--:--][][] WARNING %llu messages were missed (the reader fell behind)\n",
			(unsigned long long)gap);
	fflush(v->out);
	return rill_status_session(st, &v->ses);
}

static void summary(struct rill_status *st, struct view *v)
{
	const struct rill_status_session *s = &v->ses;
	char el[16];
	const char *what = s->command[0] ? s->command : "Build";
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "%c%s", what[0] >= 'a' && what[0] <= 'z' ? what[0] - 32 : what[0], what + 1);
	if (v->flen) {
		fprintf(v->out, "\nFailure Summary\n%s", v->failures);
	}
	fprintf(v->out, "\nPipeline Summary\n");
	fprintf(v->out, "  Total:         %u\n", s->elements_total);
	rill_status_queues(st, print_queue, v);
	fmt_elapsed(el, sizeof(el), s->end_ns && s->start_ns ? s->end_ns - s->start_ns : -1);
	fprintf(v->out, "\n[%s][][] %-7s %s\n", el, s->state == RILL_SESSION_SUCCESS ? "SUCCESS" : "FAILURE", cmd);
	fflush(v->out);
}

int plain_follow(struct rill_status *st, FILE *out, pid_t backend, volatile int *interrupted)
{
	struct view *v = calloc(1, sizeof(*v));
	int asked = 0, rc = 1, exited = 0;
	struct timespec tick = {0, 20 * 1000 * 1000};
	if (!v)
		abort();
	v->out = out;
	rill_status_session(st, &v->ses);
	/* this session's messages only, never an earlier session's */
	v->last_seq = v->ses.session_seq ? v->ses.session_seq - 1 : v->ses.last_seq;
	for (;;) {
		if (*interrupted && !asked && backend > 0) {
			kill(backend, SIGTERM);
			asked = 1;
		}
		if (rill_status_changed(st) && refresh(st, v))
			break;
		if (rill_session_state_is_final(v->ses.state))
			break;
		if (backend > 0 && !exited) {
			int ws;
			if (waitpid(backend, &ws, WNOHANG) == backend)
				exited = 1;
		}
		if ((exited || (backend <= 0 && !rill_status_backend_alive(st))) && !rill_status_changed(st)) {
			refresh(st, v);
			if (rill_session_state_is_final(v->ses.state))
				break;
			fprintf(out, "rill: the backend (pid %d) died while the %s was running; it was running:\n",
				(int)v->ses.backend_pid, v->ses.command);
			rill_status_jobs(st, print_running, v);
			free(v->keys.key);
			free(v);
			return 1;
		}
		nanosleep(&tick, NULL);
	}
	refresh(st, v);
	if (v->ses.error[0])
		fprintf(out, "rill: %s\n", v->ses.error);
	summary(st, v);
	rc = v->ses.state == RILL_SESSION_SUCCESS ? 0 : 1;
	free(v->keys.key);
	free(v);
	return rc;
}
