/* status-cmd — `rill status [--json] [--follow]` (see status-cmd.h). Every read copies the state
 * out of one read transaction into memory (formatted JSON or copies of records) and prints only
 * after the transaction ended: a slow consumer of our stdout must never pin a table snapshot.
 * SPDX-License-Identifier: Apache-2.0 */
#include "status-cmd.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "rill-status.h"
#include "status-json.h"

#define POLL_MS 10              /* a change shows within this (plus the backend's commit tick) */
#define GATHER_MS 40            /* after a change is printed, changes are gathered this long: the
				 * reads (and lines) of a busy build stay few; latency stays < 50 ms */
#define LIVENESS_MS 100         /* how often a follower asks whether the backend still runs */

static const char usage[] =
	"Usage: rill status [OPTIONS]\n"
	"\n"
	"  Show the state of the project's build: the build running now or else the last one, its\n"
	"  element counts, running jobs and failed elements, or that its backend died. Works from\n"
	"  any directory inside the project and for builds started elsewhere; it only reads the\n"
	"  status table and never starts a backend.\n"
	"\n"
	"Options:\n"
	"  --json                  Print the state as one JSON object (a \"snapshot\" record)\n"
	"  -f, --follow            Print the state, then its changes as they happen, until the build\n"
	"                          ends or its backend dies; with --json one JSON object per line:\n"
	"                          a \"snapshot\", then changes, then an \"end\" record\n"
	"  --since GEN             With --follow --json: no snapshot; first every record changed and\n"
	"                          every message after generation GEN (the \"generation\" of the last\n"
	"                          line read before a reconnect), then changes as --follow does\n"
	"  --element NAME          Only the element, job and message records of element NAME\n"
	"                          (repeatable)\n"
	"  --jobs, --messages      Only these kinds of change records (besides element and session\n"
	"                          records); without either, all of them\n"
	"  -C, --directory DIR     Project directory (default: the current directory; project.conf\n"
	"                          is searched upwards from it)\n"
	"  -h, --help              Show this message and exit\n"
	"\n"
	"  The JSON format (schema 1) is described in docs/status-table.md, \"JSON output\".\n"
	"\n"
	"Exit status:\n"
	"  0  a build is running, or the last build succeeded (--follow: the build succeeded)\n"
	"  1  the last build failed or was terminated, or its backend died or does not respond\n"
	"     (no heartbeat for 5 s while it holds its lock: stopped with SIGSTOP or ^Z, or stuck)\n"
	"  2  usage error, no project.conf found, or the status table cannot be read\n"
	"  3  no build has run in this project\n";

/* What a reader makes of the table: the session's state, and whether its backend still lives. */
enum verdict { V_NONE, V_RUNNING, V_SUCCESS, V_FAILED, V_TERMINATED, V_DEAD, V_REPLACED, V_HUNG };
static const char *const verdict_names[] = {
	"none", "running", "success", "failed", "terminated", "dead", "replaced", "hung",
};

static enum verdict verdict_of(const struct rill_status_session *ses)
{
	switch (ses->state) {
	case RILL_SESSION_SUCCESS:
		return V_SUCCESS;
	case RILL_SESSION_FAILED:
		return V_FAILED;
	case RILL_SESSION_TERMINATED:
		return V_TERMINATED;
	default:
		return V_RUNNING;
	}
}

static int exit_of(enum verdict v)
{
	if (v == V_NONE)
		return STATUS_EXIT_NONE;
	return v == V_RUNNING || v == V_SUCCESS ? STATUS_EXIT_OK : STATUS_EXIT_FAILED;
}

static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return p;
	*cap = need * 2 + 8;
	p = realloc(p, *cap * size);
	if (!p)
		abort();
	return p;
}

static int64_t now_ns(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* ---- Which records were printed: a hash of each one's JSON text, by id ------------------ */

struct seen {
	uint64_t *hash;                 /* 0: not printed */
	size_t cap;
};

static uint64_t text_hash(const char *p, size_t n)
{
	uint64_t h = 14695981039346656037ULL ^ n, w;
	/* eight bytes a step (a multiply and a rotation each): records are hundreds of bytes */
	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
	}
	for (; n; p++, n--)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	h ^= h >> 32;
	return h ? h : 1;
}

/* Record the hash for id; 1 when it differs from the one recorded before. */
static int seen_update(struct seen *s, uint32_t id, uint64_t h)
{
	if (id >= s->cap) {
		size_t old = s->cap;
		s->hash = grow(s->hash, &s->cap, (size_t)id + 1, sizeof(*s->hash));
		memset(s->hash + old, 0, (s->cap - old) * sizeof(*s->hash));
	}
	if (s->hash[id] == h)
		return 0;
	s->hash[id] = h;
	return 1;
}

static void seen_clear(struct seen *s)
{
	if (s->hash)
		memset(s->hash, 0, s->cap * sizeof(*s->hash));
}

/* ---- Reading the table ------------------------------------------------------------------- */

struct failed_element {
	char name[RILL_STATUS_NAME_MAX];
	uint32_t job_id;
};

struct job_log {
	uint32_t id;
	char path[RILL_STATUS_PATH_MAX];
};

struct reader {
	int json;                       /* print JSON, else text for humans */
	int hung;                       /* follow: the backend was reported as not responding */
	int snapshot;                   /* this read collects the whole state, else prints changes */
	FILE *out;                      /* changes mode for people: what this read prints (a memory
					 * stream) */
	struct json rec, line;          /* one record; one output line */
	struct json pending;            /* JSON lines not yet written to stdout (kept: no allocation
					 * once it has grown to a busy read's size) */
	int in_read;                    /* inside read_state: pending is written when the read ends */
	struct json elements, jobs, queues;     /* snapshot: the arrays' text */
	struct rill_status_session ses; /* from the latest read */
	uint64_t session_id;            /* the session followed */
	uint64_t last_gen;              /* the session's generation at the last read */
	int gen_known;
	/* filters (--element, --jobs, --messages) */
	char **only_elements;
	size_t nonly, only_cap;
	int want_jobs, want_messages;   /* both 1 unless --jobs or --messages was given */
	int replaced;                   /* the latest read found another session */
	struct seen element_seen, job_seen, queue_seen;
	uint64_t session_hash;
	uint64_t last_seq;              /* the newest message printed (or skipped as history) */
	/* snapshot, for people: running jobs, failed elements and the logs of failed jobs */
	struct rill_status_job *running;
	size_t nrunning, running_cap;
	struct failed_element *failed;
	size_t nfailed, failed_cap;
	struct job_log *logs;
	size_t nlogs, logs_cap;
};

static void reader_release(struct reader *r)
{
	json_release(&r->rec);
	json_release(&r->line);
	json_release(&r->pending);
	json_release(&r->elements);
	json_release(&r->jobs);
	json_release(&r->queues);
	free(r->element_seen.hash);
	free(r->job_seen.hash);
	free(r->queue_seen.hash);
	free(r->running);
	free(r->failed);
	free(r->logs);
}

static int element_wanted(const struct reader *r, const char *name)
{
	for (size_t i = 0; i < r->nonly; i++)
		if (!strcmp(r->only_elements[i], name))
			return 1;
	return r->nonly == 0;
}

/* Write the pending JSON lines to stdout. */
static void flush_pending(struct reader *r)
{
	if (r->pending.len)
		fwrite(r->pending.buf, 1, r->pending.len, stdout);
	r->pending.len = 0;
}

/* {"type": TYPE, "generation": G, TYPE: <r->rec>} as one line: pending until the read that
 * found it ends (a read that fails prints nothing), at once outside a read. */
static void emit_change(struct reader *r, const char *type)
{
	json_reset(&r->line);
	json_object_begin(&r->line);
	json_field_string(&r->line, "type", type);
	/* the generation of the table this line comes from: resume after it with --since */
	json_field_int(&r->line, "generation", (int64_t)r->ses.generation);
	json_key(&r->line, type);
	json_raw(&r->line, r->rec.buf, r->rec.len);
	json_object_end(&r->line);
	json_put(&r->pending, r->line.buf, r->line.len);
	json_put(&r->pending, "\n", 1);
	if (!r->in_read)
		flush_pending(r);
}

/* After r->rec holds a record's JSON: add it to the snapshot section, or print it as a change
 * when it differs from what was printed for it before. */
static void take_record(struct reader *r, struct seen *seen, uint32_t id, struct json *section,
			const char *type)
{
	int changed = seen_update(seen, id, text_hash(r->rec.buf, r->rec.len));
	if (r->snapshot)
		json_raw(section, r->rec.buf, r->rec.len);
	else if (changed)
		emit_change(r, type);
}

static void on_session(void *ctx, const struct rill_status_session *ses)
{
	struct reader *r = ctx;
	r->ses = *ses;
	r->replaced = !r->snapshot && ses->session_id != r->session_id;
}

static int on_element(void *ctx, const struct rill_status_element *e)
{
	struct reader *r = ctx;
	if (r->replaced)
		return 1;
	if (r->snapshot && !r->json && e->state == RILL_ELEMENT_FAILED) {
		r->failed = grow(r->failed, &r->failed_cap, r->nfailed + 1, sizeof(*r->failed));
		snprintf(r->failed[r->nfailed].name, sizeof(r->failed[0].name), "%s", e->name);
		r->failed[r->nfailed++].job_id = e->failed_job_id;
	}
	if (!r->json || !element_wanted(r, e->name))
		return 0;
	json_reset(&r->rec);
	status_json_element(&r->rec, e);
	take_record(r, &r->element_seen, e->id, &r->elements, "element");
	return 0;
}

static int on_job(void *ctx, const struct rill_status_job *j)
{
	struct reader *r = ctx;
	if (r->replaced)
		return 1;
	if (r->snapshot && j->result == RILL_JOB_RUNNING) {
		r->running = grow(r->running, &r->running_cap, r->nrunning + 1, sizeof(*r->running));
		r->running[r->nrunning++] = *j;
	} else if (r->snapshot && !r->json && j->result != RILL_JOB_OK) {
		r->logs = grow(r->logs, &r->logs_cap, r->nlogs + 1, sizeof(*r->logs));
		r->logs[r->nlogs].id = j->id;
		snprintf(r->logs[r->nlogs++].path, sizeof(r->logs[0].path), "%s", j->log_path);
	}
	if (!r->json || !element_wanted(r, j->element_name) || (!r->snapshot && !r->want_jobs))
		return 0;
	json_reset(&r->rec);
	status_json_job(&r->rec, j);
	take_record(r, &r->job_seen, j->id, &r->jobs, "job");
	return 0;
}

static int on_queue(void *ctx, const struct rill_status_queue *q)
{
	struct reader *r = ctx;
	if (r->replaced)
		return 1;
	if (!r->json)
		return 0;
	json_reset(&r->rec);
	status_json_queue(&r->rec, q);
	take_record(r, &r->queue_seen, q->index, &r->queues, "queue");
	return 0;
}

static void fmt_clock(char *buf, size_t size, int64_t ns, const char *format)
{
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;
	if (!ns || !localtime_r(&t, &tm) || !strftime(buf, size, format, &tm))
		snprintf(buf, size, "--:--:--");
}

/* n bytes of text from a build log for a terminal: control characters (escape sequences!)
 * become '?', tabs stay. */
static void put_text(FILE *f, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		fputc((c < 0x20 && c != '\t') || c == 0x7f ? '?' : c, f);
	}
}

static void print_human_message(FILE *f, const struct rill_status_message *m)
{
	char when[32];
	fmt_clock(when, sizeof(when), m->time_ns, "%H:%M:%S");
	fprintf(f, "[%s] %-7s ", when, rill_message_type_name(m->type));
	if (m->element_name[0])
		fprintf(f, "%s%s%s  ", m->action, m->action[0] ? ":" : "", m->element_name);
	put_text(f, m->text, strlen(m->text));
	fputc('\n', f);
	for (const char *p = m->detail; *p;) {
		size_t n = strcspn(p, "\n");
		fputs("    ", f);
		put_text(f, p, n);
		fputc('\n', f);
		p += n + (p[n] == '\n');
	}
}

static int on_message(void *ctx, const struct rill_status_message *m)
{
	struct reader *r = ctx;
	if (r->replaced && m->seq >= r->ses.session_seq)
		return 1;       /* the new session's: the followed one's last messages are all out */
	if (m->seq > r->last_seq + 1) {
		/* the ring was overrun: the reader fell behind by more than the ring holds */
		uint64_t missed = m->seq - r->last_seq - 1;
		char gap[64];
		if (r->json)
			json_put(&r->pending, gap,
				 (size_t)snprintf(gap, sizeof(gap), "{\"type\":\"gap\",\"missed\":%llu}\n",
						  (unsigned long long)missed));
		else
			fprintf(r->out, "[--:--:--] WARNING %llu messages were missed (this reader fell behind)\n",
				(unsigned long long)missed);
	}
	r->last_seq = m->seq;
	if (!r->json) {
		print_human_message(r->out, m);
		return 0;
	}
	if (!r->want_messages || !element_wanted(r, m->element_name))
		return 0;
	json_reset(&r->rec);
	status_json_message(&r->rec, m);
	emit_change(r, "message");
	return 0;
}

/* Read the table in one transaction. snapshot: collect the whole state (sections, copies for
 * people) and forget what was printed; else print the changes since the last read to stdout.
 * 0, or -1 with the reader library's error. */
static int read_state(struct rill_status *st, struct reader *r, int snapshot)
{
	struct rill_status_visitor v = {0};
	char *text = NULL;
	size_t size = 0;
	int rc;
	r->snapshot = snapshot;
	if (snapshot) {
		json_reset(&r->elements);
		json_reset(&r->jobs);
		json_reset(&r->queues);
		json_array_begin(&r->elements);
		json_array_begin(&r->jobs);
		json_array_begin(&r->queues);
		seen_clear(&r->element_seen);
		seen_clear(&r->job_seen);
		seen_clear(&r->queue_seen);
		r->nrunning = r->nfailed = r->nlogs = 0;
	} else {
		v.message = on_message;
		v.messages_after = r->last_seq;
	}
	v.session = on_session;
	v.element = on_element;
	v.job = on_job;
	v.queue = on_queue;
	r->pending.len = 0;
	r->in_read = 1;
	if (!r->json && !(r->out = open_memstream(&text, &size)))
		abort();
	/* after the snapshot, only the records written since the last read (a follower's cost
	 * follows the build's changes, not the size of the table) */
	rc = snapshot || !r->gen_known ? 1 : rill_status_read_changes(st, &v, r->last_gen, r);
	if (rc == 1)
		rc = rill_status_read(st, &v, r);
	if (rc == 0) {
		r->last_gen = r->ses.generation;
		r->gen_known = 1;
	}
	r->in_read = 0;
	if (r->out)
		fclose(r->out);
	r->out = NULL;
	if (snapshot) {
		json_array_end(&r->elements);
		json_array_end(&r->jobs);
		json_array_end(&r->queues);
	}
	if (rc == 0 && text)
		fwrite(text, 1, size, stdout);
	if (rc == 0)
		flush_pending(r);
	r->pending.len = 0;
	free(text);
	return rc;
}

/* Read the whole state and judge it. A non-final session with no backend holding the lock means
 * the backend died, unless it finished (or a new one started) between the read and the lock
 * check: a backend commits its final state before it lets the lock go and takes the lock before
 * it writes a new session, so one more read after seeing the lock free tells them apart. */
static int take_snapshot(struct rill_status *st, struct reader *r, enum verdict *out)
{
	if (read_state(st, r, 1))
		return -1;
	for (int tries = 0; tries < 10; tries++) {
		if (rill_session_state_is_final(r->ses.state) || rill_status_backend_alive(st))
			break;
		if (read_state(st, r, 1))
			return -1;
		if (!rill_session_state_is_final(r->ses.state) && !rill_status_backend_alive(st)) {
			*out = V_DEAD;
			goto done;
		}
	}
	*out = verdict_of(&r->ses);
	if (*out == V_RUNNING && rill_status_backend_hung(st, &r->ses, NULL))
		*out = V_HUNG;
done:
	r->session_id = r->ses.session_id;
	r->last_seq = r->ses.last_seq;  /* history stays history: changes start after this */
	return 0;
}

/* ---- Output for people ------------------------------------------------------------------- */

static void fmt_duration(char *buf, size_t size, int64_t ns)
{
	double s = (double)ns / 1e9;
	if (ns < 0)
		snprintf(buf, size, "?");
	else if (s < 60)
		snprintf(buf, size, "%.1f s", s);
	else if (s < 3600)
		snprintf(buf, size, "%dm%02ds", (int)s / 60, (int)s % 60);
	else
		snprintf(buf, size, "%dh%02dm", (int)s / 3600, (int)s / 60 % 60);
}

/* "build of a.bst b.bst" */
static void fmt_what(char *buf, size_t size, const struct rill_status_session *s)
{
	snprintf(buf, size, "%s%s%s", s->command[0] ? s->command : "session", s->targets[0] ? " of " : "",
		 s->targets);
}

static const char *log_of(const struct reader *r, uint32_t job_id)
{
	for (size_t i = 0; i < r->nlogs; i++)
		if (r->logs[i].id == job_id)
			return r->logs[i].path;
	return NULL;
}

static void print_headline(FILE *f, const struct reader *r, enum verdict v, const char *pdir)
{
	const struct rill_status_session *s = &r->ses;
	int64_t now = now_ns(CLOCK_REALTIME);
	char what[RILL_STATUS_PATH_MAX + 64], when[64], ago[32], took[32];
	const char *project = s->project[0] ? s->project : strrchr(pdir, '/') + 1;
	fmt_what(what, sizeof(what), s);
	switch (v) {
	case V_NONE:
		fprintf(f, "no build has run in this project (%s)\n", pdir);
		return;
	case V_RUNNING:
		fmt_clock(when, sizeof(when), s->start_ns, "%H:%M:%S");
		fmt_duration(ago, sizeof(ago), rill_status_session_elapsed(s, now));
		fprintf(f, "%s: %s: %s%s%s%s (started %s, running for %s; backend pid %d)\n", project, what,
			rill_session_state_name(s->state),
			(s->flags & RILL_SESSION_SUSPENDED) ? ", suspended" : "",
			(s->flags & RILL_SESSION_QUITTING) ? ", quitting" : "",
			(s->flags & RILL_SESSION_AWAITING) ? ", a failure waits for a decision" : "",
			when, ago, (int)s->backend_pid);
		break;
	case V_HUNG:
		fmt_clock(when, sizeof(when), s->heartbeat_ns, "%H:%M:%S");
		fmt_duration(ago, sizeof(ago), now - s->heartbeat_ns);
		fprintf(f, "%s: %s: NOT RESPONDING: the backend (pid %d) has had no heartbeat for %s (last %s): "
			"it is stopped (SIGSTOP, ^Z) or stuck\n", project, what, (int)s->backend_pid, ago, when);
		break;
	case V_DEAD:
		fmt_clock(when, sizeof(when), s->heartbeat_ns, "%H:%M:%S");
		fmt_duration(ago, sizeof(ago), now - s->heartbeat_ns);
		fprintf(f, "%s: %s: the backend (pid %d) died while %s (last heartbeat %s, %s ago)\n",
			project, what, (int)s->backend_pid, rill_session_state_name(s->state), when, ago);
		break;
	case V_REPLACED:
		fprintf(f, "%s: %s: ended unseen (a new session replaced it)\n", project, what);
		break;
	default:
		fmt_clock(when, sizeof(when), s->end_ns, "%Y-%m-%d %H:%M:%S");
		fmt_duration(took, sizeof(took), s->end_ns && s->start_ns ? rill_status_session_elapsed(s, now) : -1);
		fprintf(f, "%s: no build running; the last %s finished at %s with %s after %s\n", project,
			what, when, rill_session_state_name(s->state), took);
	}
	if (s->error[0])
		fprintf(f, "  error: %s\n", s->error);
}

static void print_summary(FILE *f, const struct reader *r, enum verdict v, const char *pdir)
{
	const struct rill_status_session *s = &r->ses;
	int64_t now = now_ns(CLOCK_REALTIME);
	char took[32];
	print_headline(f, r, v, pdir);
	if (v == V_NONE || v == V_REPLACED)
		return;
	if (s->elements_total) {
		fprintf(f, "elements: %u total", s->elements_total);
		const char *sep = ": ";
		for (int st = 1; st < RILL_ELEMENT_STATE_COUNT; st++) {
			if (!s->element_states[st])
				continue;
			fprintf(f, "%s%u %s", sep, s->element_states[st],
				rill_element_state_name((enum rill_element_state)st));
			sep = ", ";
		}
		fputc('\n', f);
	}
	if (r->nrunning)
		fprintf(f, "%s (%zu):\n", v == V_DEAD ? "jobs running when the backend died" : "running jobs",
			r->nrunning);
	for (size_t i = 0; i < r->nrunning; i++) {
		const struct rill_status_job *j = &r->running[i];
		fmt_duration(took, sizeof(took), rill_status_job_elapsed(j, s, now));
		fprintf(f, "  %s:%s  pid %d, %s, log %s\n", j->action, j->element_name, (int)j->pid, took,
			j->log_path);
		if (j->last_line[0]) {
			fputs("      last output: ", f);
			put_text(f, j->last_line, strlen(j->last_line));
			fputc('\n', f);
		}
	}
	if (r->nfailed)
		fprintf(f, "failed elements (%zu):\n", r->nfailed);
	for (size_t i = 0; i < r->nfailed; i++) {
		const char *log = log_of(r, r->failed[i].job_id);
		fprintf(f, "  %s%s%s\n", r->failed[i].name, log ? "  log " : "", log ? log : "");
	}
}

/* ---- Output for programs ----------------------------------------------------------------- */

static void json_session_or_null(struct json *j, const struct reader *r, enum verdict v)
{
	json_key(j, "session");
	if (v == V_NONE)
		json_null(j);
	else
		status_json_session(j, &r->ses);
}

static void print_snapshot_json(struct reader *r, enum verdict v, const char *pdir)
{
	struct json *j = &r->line;
	json_reset(j);
	json_object_begin(j);
	json_field_string(j, "type", "snapshot");
	json_field_int(j, "schema", STATUS_JSON_SCHEMA);
	json_field_string(j, "status", verdict_names[v]);
	json_field_int(j, "time_ns", now_ns(CLOCK_REALTIME));
	json_field_string(j, "project_dir", pdir);
	json_field_int(j, "generation", v == V_NONE ? 0 : (int64_t)r->ses.generation);
	json_session_or_null(j, r, v);
	json_key(j, "elements");
	json_raw(j, v == V_NONE ? "[]" : r->elements.buf, v == V_NONE ? 2 : r->elements.len);
	json_key(j, "jobs");
	json_raw(j, v == V_NONE ? "[]" : r->jobs.buf, v == V_NONE ? 2 : r->jobs.len);
	json_key(j, "queues");
	json_raw(j, v == V_NONE ? "[]" : r->queues.buf, v == V_NONE ? 2 : r->queues.len);
	json_object_end(j);
	fwrite(j->buf, 1, j->len, stdout);
	fputc('\n', stdout);
}

static void print_end_json(struct reader *r, enum verdict v)
{
	struct json *j = &r->line;
	json_reset(j);
	json_object_begin(j);
	json_field_string(j, "type", "end");
	json_field_string(j, "status", verdict_names[v]);
	json_field_int(j, "exit", exit_of(v));
	json_field_int(j, "time_ns", now_ns(CLOCK_REALTIME));
	json_session_or_null(j, r, v);
	json_key(j, "running_jobs");
	json_array_begin(j);
	for (size_t i = 0; i < r->nrunning && v != V_REPLACED; i++)
		status_json_job(j, &r->running[i]);
	json_array_end(j);
	json_object_end(j);
	fwrite(j->buf, 1, j->len, stdout);
	fputc('\n', stdout);
}

/* The hash of the session record without what changes on every commit (heartbeat, commit
 * and message counters): a session change line is printed when it differs. */
static uint64_t session_hash(struct reader *r)
{
	struct rill_status_session quiet = r->ses;
	quiet.heartbeat_ns = 0;
	quiet.generation = quiet.first_seq = quiet.last_seq = 0;
	json_reset(&r->rec);
	status_json_session(&r->rec, &quiet);
	return text_hash(r->rec.buf, r->rec.len);
}

static void print_session_change(struct reader *r, const struct rill_status_session *before)
{
	uint64_t h = session_hash(r);
	if (h == r->session_hash)
		return;
	r->session_hash = h;
	if (r->json) {
		json_reset(&r->rec);
		status_json_session(&r->rec, &r->ses);
		emit_change(r, "session");
	} else if (before->state != r->ses.state || strcmp(before->error, r->ses.error)) {
		char when[32];
		fmt_clock(when, sizeof(when), now_ns(CLOCK_REALTIME), "%H:%M:%S");
		printf("[%s] session %s%s%s\n", when, rill_session_state_name(r->ses.state),
		       r->ses.error[0] ? ": " : "", r->ses.error);
	}
}

/* ---- The command ------------------------------------------------------------------------- */

static void print_end(struct reader *r, enum verdict v, const char *pdir)
{
	if (r->json)
		print_end_json(r, v);
	else
		print_summary(stdout, r, v, pdir);
	fflush(stdout);
}

/* A line when the backend stops responding and one when it responds again: for people a
 * sentence, in JSON {"type": "backend", "backend": {"responding": B, "pid": P, "quiet_ns": N}}. */
static void follow_liveness(struct rill_status *st, struct reader *r)
{
	int64_t quiet;
	int hung = rill_status_backend_hung(st, &r->ses, &quiet);
	if (hung == r->hung || (!hung && quiet > RILL_STATUS_HUNG_NS))
		return;
	r->hung = hung;
	if (r->json) {
		json_reset(&r->rec);
		json_object_begin(&r->rec);
		json_field_bool(&r->rec, "responding", !hung);
		json_field_int(&r->rec, "pid", r->ses.backend_pid);
		json_field_int(&r->rec, "quiet_ns", quiet);
		json_object_end(&r->rec);
		emit_change(r, "backend");
	} else {
		char when[32];
		fmt_clock(when, sizeof(when), now_ns(CLOCK_REALTIME), "%H:%M:%S");
		if (hung)
			printf("[%s] the backend (pid %d) has not responded for %.0f s: stopped (SIGSTOP, ^Z) or stuck\n",
			       when, (int)r->ses.backend_pid, (double)quiet / 1e9);
		else
			printf("[%s] the backend (pid %d) responds again\n", when, (int)r->ses.backend_pid);
	}
	fflush(stdout);
}

/* The follow loop after the snapshot: print changes until the session is final, replaced by
 * another or its backend is gone. Returns the verdict. */
static int follow(struct rill_status *st, struct reader *r, enum verdict *out)
{
	struct rill_status_session before;
	int64_t next_check = 0;
	r->session_hash = session_hash(r);     /* the snapshot's session is the reference */
	for (;;) {
		if (rill_status_changed(st)) {
			before = r->ses;
			if (read_state(st, r, 0))
				return -1;
			if (r->replaced) {
				r->ses = before;
				*out = V_REPLACED;
				return 0;
			}
			print_session_change(r, &before);
			fflush(stdout);
			if (rill_session_state_is_final(r->ses.state)) {
				*out = verdict_of(&r->ses);
				return 0;
			}
			sleep_ms(GATHER_MS);
			continue;
		} else if (now_ns(CLOCK_MONOTONIC) < next_check) {
			rill_status_wait(st, (int)((next_check - now_ns(CLOCK_MONOTONIC)) / 1000000) + 1);
			continue;
		} else {
			next_check = now_ns(CLOCK_MONOTONIC) + LIVENESS_MS * 1000000LL;
			follow_liveness(st, r);
			/* lock first, then changes: a backend that finished committed before unlocking */
			if (!rill_status_backend_alive(st) && !rill_status_changed(st)) {
				*out = V_DEAD;
				return 0;
			}
		}
		sleep_ms(POLL_MS);
	}
}

/* Open the table of the project; *none set when no backend ever created it. A table that exists
 * but cannot be opened yet (a first backend is setting it up) is retried for a moment. */
static struct rill_status *open_table(const char *sdir, int *none)
{
	char path[PATH_MAX + 16], err[1024];
	struct stat sb;
	*none = 0;
	for (int tries = 0;; tries++) {
		snprintf(path, sizeof(path), "%s/data.mdb", sdir);
		if (stat(path, &sb) < 0) {
			*none = 1;
			return NULL;
		}
		struct rill_status *st = rill_status_open(sdir, err, sizeof(err));
		if (st)
			return st;
		if (tries == 20) {
			fprintf(stderr, "rill: %s\n", err);
			return NULL;
		}
		sleep_ms(50);
	}
}

static int parse_args(int argc, char **argv, int *json, int *follow_, struct reader *r, int64_t *since)
{
	int jobs = 0, messages = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *msg = "No such option: %s";
		if (!strcmp(a, "--jobs") || !strcmp(a, "--messages")) {
			*(a[2] == 'j' ? &jobs : &messages) = 1;
			continue;
		}
		if ((!strcmp(a, "--element") || !strcmp(a, "--since")) && i + 1 < argc) {
			if (a[2] == 'e') {
				r->only_elements = grow(r->only_elements, &r->only_cap, r->nonly + 1, sizeof(char *));
				r->only_elements[r->nonly++] = argv[++i];
				continue;
			}
			char *end;
			errno = 0;
			long long g = strtoll(argv[++i], &end, 10);
			if (!*argv[i] || *end || g < 0 || errno) {
				fprintf(stderr, "Usage: rill status [OPTIONS]\nTry 'rill status --help' for help.\n\n"
					"Error: Invalid value for '--since': '%s' is not a generation (a number)\n", argv[i]);
				return -1;
			}
			*since = g;
			continue;
		}
		if (!strcmp(a, "--element") || !strcmp(a, "--since")) {
			fprintf(stderr, "Usage: rill status [OPTIONS]\nTry 'rill status --help' for help.\n\n"
				"Error: Option '%s' requires an argument.\n", a);
			return -1;
		}
		if (!strcmp(a, "--json")) {
			*json = 1;
			continue;
		}
		if (!strcmp(a, "-f") || !strcmp(a, "--follow")) {
			*follow_ = 1;
			continue;
		}
		if ((!strcmp(a, "-C") || !strcmp(a, "--directory")) && i + 1 < argc) {
			i++;            /* rill's main() took it */
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			continue;
		if (a[0] != '-')
			msg = "Got unexpected extra argument (%s)";
		else if (!strcmp(a, "-C") || !strcmp(a, "--directory"))
			msg = "Option '%s' requires an argument.";
		fprintf(stderr, "Usage: rill status [OPTIONS]\nTry 'rill status --help' for help.\n\nError: ");
		fprintf(stderr, msg, a);
		fputc('\n', stderr);
		return -1;
	}
	r->want_jobs = jobs || !messages;
	r->want_messages = messages || !jobs;
	if (*since >= 0 && !(*json && *follow_)) {
		fprintf(stderr, "Usage: rill status [OPTIONS]\nTry 'rill status --help' for help.\n\n"
			"Error: --since needs --follow and --json\n");
		return -1;
	}
	return 0;
}

int status_command(int argc, char **argv, const char *directory, int help)
{
	char pdir[PATH_MAX], sdir[PATH_MAX];
	struct reader r = {0};
	struct rill_status *st;
	enum verdict v = V_NONE;
	int json = 0, follow_ = 0, none, rc = STATUS_EXIT_ERROR;
	int64_t since = -1;
	if (help) {
		fputs(usage, stdout);
		return 0;
	}
	if (parse_args(argc, argv, &json, &follow_, &r, &since)) {
		free(r.only_elements);
		return STATUS_EXIT_ERROR;
	}
	if (rill_status_find_project(directory, pdir, sizeof(pdir))) {
		fprintf(stderr, "rill: no project.conf found in '%s' or any directory above it\n",
			directory ? directory : ".");
		return STATUS_EXIT_ERROR;
	}
	if (rill_status_dir(pdir, sdir, sizeof(sdir))) {
		fprintf(stderr, "rill: %s: cannot name the status table: %s\n", pdir, strerror(errno));
		return STATUS_EXIT_ERROR;
	}
	r.json = json;
	st = open_table(sdir, &none);
	if (!st && !none)
		return STATUS_EXIT_ERROR;
	if (st && take_snapshot(st, &r, &v)) {
		fprintf(stderr, "rill: %s\n", rill_status_error(st));
		goto out;
	}
	if (since >= 0 && st && v != V_NONE) {
		/* a reconnect: what changed after generation `since`, then on as a follower */
		uint64_t seq;
		struct rill_status_session cur = r.ses;
		int k = (uint64_t)since == cur.generation ? (seq = cur.last_seq, 0)
							   : rill_status_generation_seq(st, (uint64_t)since, &seq);
		if (k) {
			fprintf(stderr, "rill: generation %lld is not in the status table (another session, or "
				"more than %d commits ago): follow without --since\n", (long long)since,
				RILL_STATUS_CHANGES_KEPT);
			goto out;
		}
		seen_clear(&r.element_seen);
		seen_clear(&r.job_seen);
		seen_clear(&r.queue_seen);
		r.last_seq = seq;
		r.last_gen = (uint64_t)since;
		r.gen_known = 1;
		r.session_id = cur.session_id;
		if (read_state(st, &r, 0)) {
			fprintf(stderr, "rill: %s\n", rill_status_error(st));
			goto out;
		}
		fflush(stdout);
		v = rill_session_state_is_final(r.ses.state) ? verdict_of(&r.ses) : v;
	} else if (json) {
		print_snapshot_json(&r, v, pdir);
	} else {
		print_summary(stdout, &r, v, pdir);
	}
	fflush(stdout);
	if (follow_ && (v == V_RUNNING || v == V_HUNG)) {
		r.hung = v == V_HUNG;   /* the snapshot said so already */
		if (follow(st, &r, &v)) {
			fprintf(stderr, "rill: %s\n", rill_status_error(st));
			goto out;
		}
		/* the final state's summary: running jobs (a dead backend's) and failures */
		if (v != V_REPLACED && read_state(st, &r, 1)) {
			fprintf(stderr, "rill: %s\n", rill_status_error(st));
			goto out;
		}
		print_end(&r, v, pdir);
	} else if (follow_ && json) {
		print_end(&r, v, pdir);
	}
	rc = exit_of(v);
out:
	rill_status_close(st);
	reader_release(&r);
	free(r.only_elements);
	return rc;
}
