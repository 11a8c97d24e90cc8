/* view — formatting shared by the plain and tty frontends. See view.h.
 * SPDX-License-Identifier: Apache-2.0 */
#include "view.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *xrealloc_or_die(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		fputs("rill: out of memory\n", stderr);
		exit(70);
	}
	return p;
}

static char *dup_or_die(const char *s)
{
	size_t n = strlen(s) + 1;
	return memcpy(xrealloc_or_die(NULL, n), s, n);
}

static void obuf_reserve(struct obuf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return;
	while (b->cap < b->len + extra + 1)
		b->cap = b->cap ? b->cap * 2 : 4096;
	b->data = xrealloc_or_die(b->data, b->cap);
}

void obuf_add(struct obuf *b, const char *s, size_t n)
{
	obuf_reserve(b, n);
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void obuf_puts(struct obuf *b, const char *s)
{
	obuf_add(b, s, strlen(s));
}

void obuf_printf(struct obuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	obuf_reserve(b, 256);
	va_start(ap, fmt);
	n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= b->cap - b->len) {
		/* did not fit: grow and format again */
		obuf_reserve(b, (size_t)n);
		va_start(ap, fmt);
		vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
	b->data[b->len] = '\0';
}

void obuf_clean(struct obuf *b, const char *s, size_t n, int keep_newlines)
{
	size_t i;
	obuf_reserve(b, n);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\t' && !(c == '\n' && keep_newlines)) || c == 0x7f)
			c = '?';
		b->data[b->len++] = (char)c;
	}
	b->data[b->len] = '\0';
}

int obuf_flush(struct obuf *b, int fd)
{
	size_t off = 0;
	while (off < b->len) {
		ssize_t n = write(fd, b->data + off, b->len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			b->len = 0;
			return -1;
		}
		off += (size_t)n;
	}
	b->len = 0;
	return 0;
}

void obuf_release(struct obuf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

void view_elapsed(char *b, size_t n, int64_t ns)
{
	if (ns < 0) {
		snprintf(b, n, "--:--:--");
	} else {
		long s = (long)(ns / 1000000000);
		snprintf(b, n, "%02ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
	}
}

const char *view_color(int on, enum view_color c)
{
	static const char *const codes[] = {"", "\033[1m", "\033[2m", "\033[31m", "\033[32m", "\033[33m",
					    "\033[34m", "\033[36m"};
	return on && c < sizeof(codes) / sizeof(codes[0]) ? codes[c] : "";
}

const char *view_reset(int on)
{
	return on ? "\033[0m" : "";
}

static int take_key(void *ctx, const struct rill_status_element *e)
{
	struct view *v = ctx;
	if (e->id >= v->nkeys) {
		size_t n = e->id + 256;
		v->keys = xrealloc_or_die(v->keys, n * sizeof(*v->keys));
		memset(v->keys + v->nkeys, 0, (n - v->nkeys) * sizeof(*v->keys));
		v->nkeys = n;
	}
	snprintf(v->keys[e->id], sizeof(v->keys[e->id]), "%.8s", e->key);
	return 0;
}

int view_load_keys(struct view *v, struct rill_status *st)
{
	return rill_status_elements(st, take_key, v);
}

int view_init(struct view *v, struct rill_status *st, int from_start)
{
	memset(v, 0, sizeof(*v));
	if (rill_status_session(st, &v->ses))
		return -1;
	/* this session's messages only, never an earlier session's */
	if (from_start)
		v->last_seq = v->ses.session_seq ? v->ses.session_seq - 1 : v->ses.last_seq;
	else if (v->ses.last_seq > VIEW_RECENT && v->ses.last_seq - VIEW_RECENT >= v->ses.session_seq)
		v->last_seq = v->ses.last_seq - VIEW_RECENT;
	else
		v->last_seq = v->ses.session_seq ? v->ses.session_seq - 1 : v->ses.last_seq;
	return view_load_keys(v, st);
}

void view_release(struct view *v)
{
	size_t i;
	for (i = 0; i < v->nfailures; i++) {
		free(v->failures[i].element);
		free(v->failures[i].action);
		free(v->failures[i].text);
		free(v->failures[i].log_tail);
	}
	free(v->failures);
	free(v->keys);
	memset(v, 0, sizeof(*v));
}

static enum view_color type_color(enum rill_message_type t)
{
	switch (t) {
	case RILL_MSG_FAILURE:
	case RILL_MSG_ERROR:
	case RILL_MSG_BUG:
		return VIEW_RED;
	case RILL_MSG_SUCCESS:
		return VIEW_GREEN;
	case RILL_MSG_WARN:
		return VIEW_YELLOW;
	case RILL_MSG_START:
		return VIEW_BLUE;
	default:
		return VIEW_NONE;
	}
}

static void keep_failure(struct view *v, const struct rill_status_message *m)
{
	struct failure *f;
	if (v->nfailures == v->failures_cap) {
		v->failures_cap = v->failures_cap ? v->failures_cap * 2 : 8;
		v->failures = xrealloc_or_die(v->failures, v->failures_cap * sizeof(*v->failures));
	}
	f = &v->failures[v->nfailures++];
	f->element = dup_or_die(m->element_name);
	f->action = dup_or_die(m->action);
	f->text = dup_or_die(m->text);
	f->log_tail = dup_or_die(m->detail);
	f->job_id = m->job_id;
}

void view_message(struct view *v, struct obuf *out, const struct rill_status_message *m)
{
	char el[16];
	const char *key = "", *p;
	int c = v->colors;
	if (m->seq > v->last_seq)
		v->last_seq = m->seq;
	view_elapsed(el, sizeof(el), m->elapsed_ns);
	if (m->element_id != RILL_STATUS_NONE && m->element_id < v->nkeys)
		key = v->keys[m->element_id];
	obuf_printf(out, "%s[%s]%s[%s%s%s][", view_color(c, VIEW_DIM), el, view_reset(c), view_color(c, VIEW_CYAN),
		    key, view_reset(c));
	if (m->element_id != RILL_STATUS_NONE)
		obuf_printf(out, "%5s:%-30s", m->action, m->element_name);
	obuf_printf(out, "] %s%-7s%s ", view_color(c, type_color(m->type)), rill_message_type_name(m->type),
		    view_reset(c));
	obuf_clean(out, m->text, strlen(m->text), 1);
	obuf_puts(out, "\n");
	if (m->detail_len) {
		obuf_puts(out, "\n");
		for (p = m->detail; *p;) {
			const char *nl = strchr(p, '\n');
			size_t len = nl ? (size_t)(nl - p) : strlen(p);
			obuf_puts(out, "    ");
			obuf_clean(out, p, len, 0);
			obuf_puts(out, "\n");
			p += len + (nl ? 1 : 0);
		}
		obuf_puts(out, "\n");
	}
	if (m->type == RILL_MSG_FAILURE)
		keep_failure(v, m);
}

static int summary_queue(void *ctx, const struct rill_status_queue *q)
{
	struct obuf *out = ctx;
	char name[64];
	snprintf(name, sizeof(name), "%c%s Queue:", q->action[0] ? q->action[0] - 32 : ' ',
		 q->action[0] ? q->action + 1 : "");
	obuf_printf(out, "  %-14s processed %u, skipped %u, failed %u\n", name, q->processed, q->skipped,
		    q->failed);
	return 0;
}

/* The last `lines` lines of text. */
static const char *tail_lines(const char *text, int lines)
{
	const char *p = text + strlen(text);
	while (p > text && p[-1] == '\n')
		p--;
	while (p > text) {
		if (p[-1] == '\n' && --lines == 0)
			break;
		p--;
	}
	return p;
}

void view_summary(struct view *v, struct rill_status *st, struct obuf *out)
{
	const struct rill_status_session *s = &v->ses;
	const char *what = s->command[0] ? s->command : "build";
	char el[16];
	size_t i;
	int c = v->colors, ok = s->state == RILL_SESSION_SUCCESS;
	if (s->error[0])
		obuf_printf(out, "rill: %s\n", s->error);
	if (v->nfailures)
		obuf_printf(out, "\n%sFailure Summary%s\n", view_color(c, VIEW_BOLD), view_reset(c));
	for (i = 0; i < v->nfailures; i++) {
		const struct failure *f = &v->failures[i];
		/* bst's --message-lines (RILL_MESSAGE_LINES): 10 here by default */
		const char *ml = getenv("RILL_MESSAGE_LINES");
		const char *t = tail_lines(f->log_tail, ml && atoi(ml) > 0 ? atoi(ml) : 10), *p;
		obuf_printf(out, "  %s:\n    %s%s %s%s\n", f->element[0] ? f->element : "(session)",
			    view_color(c, VIEW_RED), f->action, f->text, view_reset(c));
		for (p = t; *p;) {
			const char *nl = strchr(p, '\n');
			size_t len = nl ? (size_t)(nl - p) : strlen(p);
			obuf_puts(out, "      | ");
			obuf_clean(out, p, len, 0);
			obuf_puts(out, "\n");
			p += len + (nl ? 1 : 0);
		}
	}
	obuf_printf(out, "\n%sPipeline Summary%s\n", view_color(c, VIEW_BOLD), view_reset(c));
	obuf_printf(out, "  Total:         %u\n", s->elements_total);
	rill_status_queues(st, summary_queue, out);
	view_elapsed(el, sizeof(el), s->end_ns ? rill_status_session_elapsed(s, s->end_ns) : -1);
	obuf_printf(out, "\n[%s][][] %s%-7s%s %c%s\n", el, view_color(c, ok ? VIEW_GREEN : VIEW_RED),
		    ok ? "SUCCESS" : "FAILURE", view_reset(c), what[0] >= 'a' && what[0] <= 'z' ? what[0] - 32 : what[0],
		    what + 1);
}

static int dead_job(void *ctx, const struct rill_status_job *j)
{
	struct obuf *out = ctx;
	if (j->result == RILL_JOB_RUNNING)
		obuf_printf(out, "    %s:%s (pid %d), log %s\n", j->action, j->element_name, (int)j->pid, j->log_path);
	return 0;
}

void view_liveness(struct view *v, struct rill_status *st, struct obuf *out)
{
	int64_t quiet;
	if (rill_status_backend_hung(st, &v->ses, &quiet)) {
		if (!v->hung)
			obuf_printf(out, "[--:--:--][][] WARNING The backend (pid %d) has not responded for %.0f s: it is "
				    "stopped (SIGSTOP, ^Z) or stuck; waiting for it\n", (int)v->ses.backend_pid,
				    (double)quiet / 1e9);
		v->hung = 1;
	} else if (v->hung && quiet <= RILL_STATUS_HUNG_NS) {
		obuf_printf(out, "[--:--:--][][] INFO    The backend (pid %d) responds again\n", (int)v->ses.backend_pid);
		v->hung = 0;
	}
}

void view_dead(struct view *v, struct rill_status *st, struct obuf *out)
{
	obuf_printf(out, "rill: the backend (pid %d) died while the %s was running; it was running:\n",
		    (int)v->ses.backend_pid, v->ses.command);
	rill_status_jobs(st, dead_job, out);
	if (!v->ses.jobs_running)
		obuf_puts(out, "    no job\n");
}
