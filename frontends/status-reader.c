/* status-reader — librillstatus: read-only access to the LMDB status table that rill-backend writes
 * (the only LMDB user on the frontend side). API and layout: rill-status.h, docs/status-table.md.
 * SPDX-License-Identifier: Apache-2.0 */
#include "rill-status.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <lmdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STATUS_MAXREADERS 126           /* must match core/status/status.c */
#define STATUS_MAXDBS 8

enum { DB_META, DB_ELEMENTS, DB_JOBS, DB_QUEUES, DB_MESSAGES, DB_DETAILS, DB_COUNT };
static const char *const db_names[DB_COUNT] = {
	"meta", "elements", "jobs", "queues", "messages", "details",
};

struct rill_status {
	char *dir;
	MDB_env *env;
	MDB_txn *txn;                   /* one read txn handle, reset between reads */
	MDB_dbi dbi[DB_COUNT];
	uint64_t seen;                  /* txnid of the last snapshot read */
	int lock_fd;                    /* <dir>/backend.lock, read-only, -1 until it exists */
	int tick_fd;                    /* inotify on backend.lock (its times change per commit); -1:
					 * not set up yet, -2: unavailable (polling) */
	char err[512];
	/* Records handed to callbacks (the message one is ~10 KB: not on the caller's stack). */
	struct rill_status_session ses;
	struct rill_status_element el;
	struct rill_status_job job;
	struct rill_status_queue queue;
	struct rill_status_message msg;
};

/* ---- Names --------------------------------------------------------------------------------- */

static const char *name_of(const char *const *names, size_t n, unsigned v)
{
	return v < n && names[v] ? names[v] : "unknown";
}

const char *rill_session_state_name(enum rill_session_state state)
{
	static const char *const names[] = {
		NULL, "starting", "loading", "running", "success", "failed", "terminated",
	};
	return name_of(names, sizeof(names) / sizeof(names[0]), (unsigned)state);
}

const char *rill_element_state_name(enum rill_element_state state)
{
	static const char *const names[] = {
		NULL, "waiting", "no reference", "fetch needed", "tracking", "fetching", "buildable",
		"building", "cached", "failed", "skipped",
	};
	return name_of(names, sizeof(names) / sizeof(names[0]), (unsigned)state);
}

const char *rill_job_result_name(enum rill_job_result result)
{
	static const char *const names[] = {"running", "ok", "failed", "skipped", "terminated"};
	return name_of(names, sizeof(names) / sizeof(names[0]), (unsigned)result);
}

const char *rill_message_type_name(enum rill_message_type type)
{
	static const char *const names[] = {
		NULL, "DEBUG", "STATUS", "INFO", "WARNING", "ERROR", "BUG", "LOG", "START", "SUCCESS",
		"FAILURE", "SKIPPED",
	};
	return name_of(names, sizeof(names) / sizeof(names[0]), (unsigned)type);
}

int rill_session_state_is_final(enum rill_session_state state)
{
	return state == RILL_SESSION_SUCCESS || state == RILL_SESSION_FAILED ||
	       state == RILL_SESSION_TERMINATED;
}

int64_t rill_status_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The end of a still-running interval: now, or the start of the current suspension. */
static int64_t running_until(const struct rill_status_session *ses, int64_t now_ns)
{
	return ses && ses->suspended_ns && ses->suspended_ns < now_ns ? ses->suspended_ns : now_ns;
}

/* end - start - paused, 0 when negative or when a corrupt record would overflow it. */
static int64_t span(int64_t end, int64_t start, int64_t paused)
{
	int64_t from, d;
	if (__builtin_add_overflow(start, paused, &from) || __builtin_sub_overflow(end, from, &d))
		return 0;
	return d > 0 ? d : 0;
}

int64_t rill_status_session_elapsed(const struct rill_status_session *ses, int64_t now_ns)
{
	if (!ses->start_ns)
		return 0;
	return span(ses->end_ns ? ses->end_ns : running_until(ses, now_ns), ses->start_ns, ses->paused_ns);
}

int64_t rill_status_job_elapsed(const struct rill_status_job *job, const struct rill_status_session *ses,
				int64_t now_ns)
{
	if (!job->start_ns)
		return 0;
	return span(job->end_ns ? job->end_ns : running_until(ses, now_ns), job->start_ns, job->paused_ns);
}

/* ---- Small helpers ------------------------------------------------------------------------- */

static void fmt(char *buf, size_t size, const char *f, ...) __attribute__((format(printf, 3, 4)));
static void fmt(char *buf, size_t size, const char *f, ...)
{
	va_list ap;
	if (!buf || !size)
		return;
	va_start(ap, f);
	vsnprintf(buf, size, f, ap);
	va_end(ap);
}

#define FAIL(s, ...) (fmt((s)->err, sizeof((s)->err), __VA_ARGS__), -1)

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static void put_be64(unsigned char *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

static uint64_t get_be64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* Copy at most size-1 bytes of p[0..n) into out without splitting a UTF-8 sequence; NUL-terminate. */
static void copy_text(char *out, size_t size, const char *p, size_t n)
{
	if (n > size - 1) {
		n = size - 1;
		while (n > 0 && ((unsigned char)p[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(out, p, n);
	out[n] = '\0';
}

/* A record value: fixed part then NUL-terminated strings. */
struct rec {
	const char *p, *end;
};

/* Copy the fixed part (its own size field says how long it is) into hdr (hsize bytes, zeroed
 * first) and position r at the strings. -1 when the value is not a record of this schema. */
static int rec_open(struct rec *r, const MDB_val *v, void *hdr, size_t hsize)
{
	uint32_t vs[2];
	if (v->mv_size < sizeof(vs))
		return -1;
	memcpy(vs, v->mv_data, sizeof(vs));
	if (vs[0] != RILL_STATUS_SCHEMA_VERSION || vs[1] < sizeof(vs) || vs[1] > v->mv_size)
		return -1;
	memset(hdr, 0, hsize);
	memcpy(hdr, v->mv_data, vs[1] < hsize ? vs[1] : hsize);
	r->p = (const char *)v->mv_data + vs[1];
	r->end = (const char *)v->mv_data + v->mv_size;
	return 0;
}

/* The next string into out; "" when the record has no more. */
static void rec_str(struct rec *r, char *out, size_t size)
{
	const char *nul = r->p < r->end ? memchr(r->p, '\0', (size_t)(r->end - r->p)) : NULL;
	size_t n = nul ? (size_t)(nul - r->p) : (size_t)(r->end - r->p);
	copy_text(out, size, r->p, n);
	r->p = nul ? nul + 1 : r->end;
}

/* ---- Decoding ------------------------------------------------------------------------------ */

static int decode_session(const MDB_val *v, struct rill_status_session *o)
{
	struct rill_status_rec_session h;
	struct rec r;
	if (rec_open(&r, v, &h, sizeof(h)))
		return -1;
	memset(o, 0, sizeof(*o));
	o->schema_version = h.version;
	o->session_id = h.session_id;
	o->backend_pid = h.backend_pid;
	o->state = (enum rill_session_state)h.state;
	o->start_ns = h.start_ns;
	o->heartbeat_ns = h.heartbeat_ns;
	o->end_ns = h.end_ns;
	o->elements_total = h.elements_total;
	o->elements_cached = h.elements_cached;
	o->elements_failed = h.elements_failed;
	o->jobs_running = h.jobs_running;
	memcpy(o->element_states, h.element_states, sizeof(o->element_states));
	o->first_seq = h.first_seq;
	o->last_seq = h.last_seq;
	o->session_seq = h.session_seq;
	o->generation = h.generation;
	o->flags = h.flags;
	o->awaiting_job = h.awaiting_job;
	o->on_error = (enum rill_on_error)h.on_error;
	o->frontends = h.frontends;
	o->paused_ns = h.paused_ns;
	o->suspended_ns = h.suspended_ns;
	o->requests = h.requests;
	rec_str(&r, o->command, sizeof(o->command));
	rec_str(&r, o->project, sizeof(o->project));
	rec_str(&r, o->project_dir, sizeof(o->project_dir));
	rec_str(&r, o->targets, sizeof(o->targets));
	rec_str(&r, o->error, sizeof(o->error));
	return 0;
}

static int decode_element(const MDB_val *v, struct rill_status_element *o)
{
	struct rill_status_rec_element h;
	struct rec r;
	if (rec_open(&r, v, &h, sizeof(h)))
		return -1;
	o->id = h.id;
	o->state = (enum rill_element_state)h.state;
	o->job_id = h.job_id;
	o->failed_job_id = h.failed_job_id;
	o->build_start_ns = h.build_start_ns;
	o->build_end_ns = h.build_end_ns;
	rec_str(&r, o->name, sizeof(o->name));
	rec_str(&r, o->key, sizeof(o->key));
	rec_str(&r, o->action, sizeof(o->action));
	return 0;
}

static int decode_job(const MDB_val *v, struct rill_status_job *o)
{
	struct rill_status_rec_job h;
	struct rec r;
	if (rec_open(&r, v, &h, sizeof(h)))
		return -1;
	o->id = h.id;
	o->element_id = h.element_id;
	o->pid = h.pid;
	o->result = (enum rill_job_result)h.result;
	o->start_ns = h.start_ns;
	o->end_ns = h.end_ns;
	o->paused_ns = h.paused_ns;
	rec_str(&r, o->action, sizeof(o->action));
	rec_str(&r, o->element_name, sizeof(o->element_name));
	rec_str(&r, o->log_path, sizeof(o->log_path));
	rec_str(&r, o->last_line, sizeof(o->last_line));
	return 0;
}

static int decode_queue(const MDB_val *v, struct rill_status_queue *o)
{
	struct rill_status_rec_queue h;
	struct rec r;
	if (rec_open(&r, v, &h, sizeof(h)))
		return -1;
	o->index = h.index;
	o->processed = h.processed;
	o->skipped = h.skipped;
	o->failed = h.failed;
	rec_str(&r, o->action, sizeof(o->action));
	rec_str(&r, o->complete_name, sizeof(o->complete_name));
	return 0;
}

/* The message and its detail chunks (from the same snapshot). */
static int decode_message(struct rill_status *s, const MDB_val *v, struct rill_status_message *o)
{
	struct rill_status_rec_message h;
	struct rec r;
	if (rec_open(&r, v, &h, sizeof(h)))
		return -1;
	o->seq = h.seq;
	o->time_ns = h.time_ns;
	o->type = (enum rill_message_type)h.type;
	o->element_id = h.element_id;
	o->job_id = h.job_id;
	o->elapsed_ns = h.elapsed_ns;
	rec_str(&r, o->element_name, sizeof(o->element_name));
	rec_str(&r, o->action, sizeof(o->action));
	rec_str(&r, o->text, sizeof(o->text));
	size_t len = 0, want = h.detail_len;
	if (want > RILL_STATUS_DETAIL_MAX - 1)
		want = RILL_STATUS_DETAIL_MAX - 1;
	unsigned char k[10];
	put_be64(k, h.seq);
	for (unsigned chunk = 0; len < want; chunk++) {
		MDB_val key = {sizeof(k), k}, val;
		k[8] = (unsigned char)(chunk >> 8);
		k[9] = (unsigned char)chunk;
		if (mdb_get(s->txn, s->dbi[DB_DETAILS], &key, &val) || val.mv_size == 0)
			break;
		size_t n = val.mv_size < want - len ? val.mv_size : want - len;
		memcpy(o->detail + len, val.mv_data, n);
		len += n;
	}
	o->detail[len] = '\0';
	o->detail_len = len;
	return 0;
}

/* ---- Read windows -------------------------------------------------------------------------- */

static int read_begin(struct rill_status *s)
{
	int rc = mdb_txn_renew(s->txn);
	if (rc == MDB_MAP_RESIZED) {
		/* The backend grew the map past ours; our handle is reset, so this is allowed. */
		mdb_env_set_mapsize(s->env, 0);
		rc = mdb_txn_renew(s->txn);
	} else if (rc == MDB_READERS_FULL) {
		int dead;
		mdb_reader_check(s->env, &dead);
		rc = mdb_txn_renew(s->txn);
	}
	if (rc)
		return FAIL(s, "%s: cannot read the status table: %s", s->dir, mdb_strerror(rc));
	s->seen = mdb_txn_id(s->txn);
	return 0;
}

static void read_end(struct rill_status *s)
{
	mdb_txn_reset(s->txn);
}

typedef int (*visit_fn)(struct rill_status *s, const MDB_val *val, struct rill_status_visitor *v, void *ctx);

static uint32_t *grow_u32(uint32_t *p, size_t *cap, size_t need)
{
	if (need <= *cap)
		return p;
	*cap = need * 2 + 16;
	p = realloc(p, *cap * sizeof(*p));
	if (!p)
		abort();
	return p;
}

/* Walk a whole database in key order; stops when visit returns non-zero. */
static int walk(struct rill_status *s, int db, visit_fn visit, struct rill_status_visitor *v, void *ctx)
{
	MDB_cursor *c;
	MDB_val key, val;
	int rc = mdb_cursor_open(s->txn, s->dbi[db], &c);
	if (rc)
		return FAIL(s, "%s: cannot read %s: %s", s->dir, db_names[db], mdb_strerror(rc));
	for (rc = mdb_cursor_get(c, &key, &val, MDB_FIRST); rc == 0; rc = mdb_cursor_get(c, &key, &val, MDB_NEXT))
		if (visit(s, &val, v, ctx))
			break;
	mdb_cursor_close(c);
	if (rc && rc != MDB_NOTFOUND)
		return FAIL(s, "%s: cannot read %s: %s", s->dir, db_names[db], mdb_strerror(rc));
	return 0;
}

static int visit_element(struct rill_status *s, const MDB_val *val, struct rill_status_visitor *v, void *ctx)
{
	return decode_element(val, &s->el) ? 0 : v->element(ctx, &s->el);
}

static int visit_job(struct rill_status *s, const MDB_val *val, struct rill_status_visitor *v, void *ctx)
{
	return decode_job(val, &s->job) ? 0 : v->job(ctx, &s->job);
}

static int visit_queue(struct rill_status *s, const MDB_val *val, struct rill_status_visitor *v, void *ctx)
{
	return decode_queue(val, &s->queue) ? 0 : v->queue(ctx, &s->queue);
}

static int read_messages(struct rill_status *s, struct rill_status_visitor *v, void *ctx)
{
	MDB_cursor *c;
	MDB_val key, val;
	unsigned char k[8];
	uint64_t from = v->messages_after + 1;
	int rc = mdb_cursor_open(s->txn, s->dbi[DB_MESSAGES], &c);
	if (rc)
		return FAIL(s, "%s: cannot read messages: %s", s->dir, mdb_strerror(rc));
	v->gap = 0;
	if (from == 0) {        /* after == UINT64_MAX: nothing can follow */
		mdb_cursor_close(c);
		return 0;
	}
	put_be64(k, from);
	key.mv_size = sizeof(k);
	key.mv_data = k;
	rc = mdb_cursor_get(c, &key, &val, MDB_SET_RANGE);
	if (rc == 0 && key.mv_size == 8 && get_be64(key.mv_data) > from)
		v->gap = get_be64(key.mv_data) - from;
	for (; rc == 0; rc = mdb_cursor_get(c, &key, &val, MDB_NEXT))
		if (decode_message(s, &val, &s->msg) == 0 && v->message(ctx, &s->msg))
			break;
	mdb_cursor_close(c);
	if (rc && rc != MDB_NOTFOUND)
		return FAIL(s, "%s: cannot read messages: %s", s->dir, mdb_strerror(rc));
	return 0;
}

static int read_session(struct rill_status *s, struct rill_status_session *out)
{
	MDB_val key = {7, "session"}, val;
	int rc = mdb_get(s->txn, s->dbi[DB_META], &key, &val);
	if (rc == MDB_NOTFOUND)
		return FAIL(s, "%s: the status table has no session yet", s->dir);
	if (rc)
		return FAIL(s, "%s: cannot read the session: %s", s->dir, mdb_strerror(rc));
	if (decode_session(&val, out))
		return FAIL(s, "%s: the session record is not schema version %d (a different rill rewrote the "
			    "table): reopen it", s->dir, RILL_STATUS_SCHEMA_VERSION);
	return 0;
}

int rill_status_read(struct rill_status *s, struct rill_status_visitor *v, void *ctx)
{
	int rc = 0;
	if (read_begin(s))
		return -1;
	if (v->session) {
		if ((rc = read_session(s, &s->ses)))
			goto out;
		v->session(ctx, &s->ses);
	}
	if ((v->element && (rc = walk(s, DB_ELEMENTS, visit_element, v, ctx))) ||
	    (v->job && (rc = walk(s, DB_JOBS, visit_job, v, ctx))) ||
	    (v->queue && (rc = walk(s, DB_QUEUES, visit_queue, v, ctx))) ||
	    (v->message && (rc = read_messages(s, v, ctx))))
		goto out;
out:
	read_end(s);
	return rc;
}

/* The ids of one generation's change record: 0 and *ids (elements first), 1 when there is none. */
static int changes_of(struct rill_status *s, uint64_t gen, struct rill_status_rec_changes *h, const unsigned char **ids)
{
	unsigned char k[11] = {'c', 'h', 'g'};
	MDB_val key = {sizeof(k), k}, val;
	put_be64(k + 3, gen);
	if (mdb_get(s->txn, s->dbi[DB_META], &key, &val) || val.mv_size < sizeof(*h))
		return 1;
	memcpy(h, val.mv_data, sizeof(*h));
	if (h->version != RILL_STATUS_SCHEMA_VERSION || h->size != sizeof(*h) ||
	    val.mv_size != sizeof(*h) + ((size_t)h->nelements + h->njobs) * 4)
		return 1;
	*ids = (const unsigned char *)val.mv_data + sizeof(*h);
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Visit the records of db whose ids are in ids[0..n) (sorted, duplicates skipped). */
static int visit_ids(struct rill_status *s, int db, const uint32_t *ids, size_t n, visit_fn visit,
		     struct rill_status_visitor *v, void *ctx)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char k[4];
		MDB_val key = {sizeof(k), k}, val;
		if (i && ids[i] == ids[i - 1])
			continue;
		put_be32(k, ids[i]);
		int rc = mdb_get(s->txn, s->dbi[db], &key, &val);
		if (rc == MDB_NOTFOUND)
			continue;
		if (rc)
			return FAIL(s, "%s: cannot read %s: %s", s->dir, db_names[db], mdb_strerror(rc));
		if (visit(s, &val, v, ctx))
			break;
	}
	return 0;
}

int rill_status_generation_seq(struct rill_status *s, uint64_t gen, uint64_t *last_seq)
{
	struct rill_status_rec_changes h;
	const unsigned char *ids;
	int rc;
	if (read_begin(s))
		return -1;
	rc = changes_of(s, gen, &h, &ids);
	if (rc == 0)
		*last_seq = h.last_seq;
	read_end(s);
	return rc;
}

int rill_status_read_changes(struct rill_status *s, struct rill_status_visitor *v, uint64_t since, void *ctx)
{
	uint32_t *el = NULL, *jobs = NULL;
	size_t nel = 0, njob = 0, elcap = 0, jobcap = 0;
	int rc = 0, queues = 0;
	struct rill_status_session ses;
	if (read_begin(s))
		return -1;
	if ((rc = read_session(s, &ses)))
		goto out;
	if (ses.generation < since || ses.generation - since > RILL_STATUS_CHANGES_KEPT) {
		rc = 1;
		goto out;
	}
	for (uint64_t g = since + 1; g <= ses.generation; g++) {
		struct rill_status_rec_changes h;
		const unsigned char *ids;
		if (changes_of(s, g, &h, &ids)) {
			rc = 1;         /* not kept (any more): read everything */
			goto out;
		}
		if (h.nelements) {
			el = grow_u32(el, &elcap, nel + h.nelements);
			memcpy(el + nel, ids, (size_t)h.nelements * 4);
			nel += h.nelements;
		}
		if (h.njobs) {
			jobs = grow_u32(jobs, &jobcap, njob + h.njobs);
			memcpy(jobs + njob, ids + (size_t)h.nelements * 4, (size_t)h.njobs * 4);
			njob += h.njobs;
		}
		queues |= h.queues != 0;
	}
	if (nel)
		qsort(el, nel, sizeof(*el), cmp_u32);
	if (njob)
		qsort(jobs, njob, sizeof(*jobs), cmp_u32);
	s->ses = ses;
	if (v->session)
		v->session(ctx, &s->ses);
	if ((v->element && (rc = visit_ids(s, DB_ELEMENTS, el, nel, visit_element, v, ctx))) ||
	    (v->job && (rc = visit_ids(s, DB_JOBS, jobs, njob, visit_job, v, ctx))) ||
	    (v->queue && queues && (rc = walk(s, DB_QUEUES, visit_queue, v, ctx))) ||
	    (v->message && (rc = read_messages(s, v, ctx))))
		goto out;
out:
	read_end(s);
	free(el);
	free(jobs);
	return rc;
}

/* ---- Convenience reads --------------------------------------------------------------------- */

int rill_status_session(struct rill_status *s, struct rill_status_session *out)
{
	if (read_begin(s))
		return -1;
	int rc = read_session(s, out);
	read_end(s);
	return rc;
}

/* The one-table functions route through rill_status_read with these adapters. */
struct fn_ctx {
	int (*element)(void *ctx, const struct rill_status_element *e);
	int (*job)(void *ctx, const struct rill_status_job *j);
	int (*queue)(void *ctx, const struct rill_status_queue *q);
	int (*message)(void *ctx, const struct rill_status_message *m);
	void *ctx;
};

static int call_element(void *c, const struct rill_status_element *e)
{
	struct fn_ctx *f = c;
	return f->element(f->ctx, e);
}

static int call_job(void *c, const struct rill_status_job *j)
{
	struct fn_ctx *f = c;
	return f->job(f->ctx, j);
}

static int call_queue(void *c, const struct rill_status_queue *q)
{
	struct fn_ctx *f = c;
	return f->queue(f->ctx, q);
}

static int call_message(void *c, const struct rill_status_message *m)
{
	struct fn_ctx *f = c;
	return f->message(f->ctx, m);
}

int rill_status_elements(struct rill_status *s, int (*fn)(void *ctx, const struct rill_status_element *e),
			 void *ctx)
{
	struct fn_ctx f = {.element = fn, .ctx = ctx};
	struct rill_status_visitor v = {.element = call_element};
	return rill_status_read(s, &v, &f);
}

int rill_status_jobs(struct rill_status *s, int (*fn)(void *ctx, const struct rill_status_job *j), void *ctx)
{
	struct fn_ctx f = {.job = fn, .ctx = ctx};
	struct rill_status_visitor v = {.job = call_job};
	return rill_status_read(s, &v, &f);
}

int rill_status_queues(struct rill_status *s, int (*fn)(void *ctx, const struct rill_status_queue *q),
		       void *ctx)
{
	struct fn_ctx f = {.queue = fn, .ctx = ctx};
	struct rill_status_visitor v = {.queue = call_queue};
	return rill_status_read(s, &v, &f);
}

int rill_status_messages(struct rill_status *s, uint64_t after, uint64_t *gap,
			 int (*fn)(void *ctx, const struct rill_status_message *m), void *ctx)
{
	struct fn_ctx f = {.message = fn, .ctx = ctx};
	struct rill_status_visitor v = {.message = call_message, .messages_after = after};
	int rc = rill_status_read(s, &v, &f);
	if (gap)
		*gap = rc ? 0 : v.gap;
	return rc;
}

int rill_status_wait(struct rill_status *s, int timeout_ms)
{
	int64_t deadline = mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	if (s->tick_fd == -1) {
		char *path = malloc(strlen(s->dir) + 16);
		int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		s->tick_fd = -2;
		if (path && fd >= 0) {
			sprintf(path, "%s/backend.lock", s->dir);
			if (inotify_add_watch(fd, path, IN_ATTRIB | IN_MODIFY | IN_DELETE_SELF) >= 0)
				s->tick_fd = fd;
		}
		if (s->tick_fd < 0 && fd >= 0)
			close(fd);
		free(path);
	}
	for (;;) {
		int64_t left;
		if (rill_status_changed(s))
			return 1;
		left = deadline - mono_ms();
		if (left <= 0)
			return 0;
		if (s->tick_fd >= 0) {
			struct pollfd pfd = {s->tick_fd, POLLIN, 0};
			char buf[4096];
			/* woken by the backend's commit; a bounded wait in case a tick was missed */
			if (poll(&pfd, 1, left > 100 ? 100 : (int)left) > 0)
				while (read(s->tick_fd, buf, sizeof(buf)) > 0)
					;
		} else {
			struct timespec ts = {0, 10 * 1000000L};
			nanosleep(&ts, NULL);
		}
	}
}

int rill_status_changed(struct rill_status *s)
{
	MDB_envinfo ei;
	mdb_env_info(s->env, &ei);      /* reads the newest meta page from our map: no syscall */
	return ei.me_last_txnid != s->seen;
}

const char *rill_status_error(const struct rill_status *s)
{
	return s->err;
}

int rill_status_wait_session(struct rill_status *s, uint64_t session_id, int timeout_ms)
{
	int64_t deadline = mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	int first = 1;
	for (;;) {
		if (first || rill_status_changed(s)) {
			struct rill_status_session *ses = &s->ses;
			if (rill_status_session(s, ses) == 0 && ses->session_id == session_id)
				return 0;
			first = 0;
		}
		if (mono_ms() >= deadline)
			return FAIL(s, "%s: session %016llx did not start within %d ms", s->dir,
				    (unsigned long long)session_id, timeout_ms);
		sleep_ms(5);
	}
}

/* ---- Liveness ------------------------------------------------------------------------------ */

int rill_status_backend_alive(struct rill_status *s)
{
	if (s->lock_fd < 0) {
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s/backend.lock", s->dir);
		s->lock_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (s->lock_fd < 0)
			return 0;
	}
	/* Ask whether a write lock on the whole file could be taken; we never lock it ourselves. */
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
	if (fcntl(s->lock_fd, F_GETLK, &fl) < 0)
		return 0;
	return fl.l_type != F_UNLCK;
}

int rill_status_backend_hung(struct rill_status *s, const struct rill_status_session *ses, int64_t *quiet_ns)
{
	int64_t quiet = rill_status_now() - ses->heartbeat_ns;
	if (quiet_ns)
		*quiet_ns = quiet;
	return !rill_session_state_is_final(ses->state) && ses->heartbeat_ns && quiet > RILL_STATUS_HUNG_NS &&
	       rill_status_backend_alive(s);
}

/* ---- Opening ------------------------------------------------------------------------------- */

int rill_status_dir(const char *project_dir, char *out, size_t size)
{
	char real[PATH_MAX];
	if (!realpath(project_dir, real))
		return -1;
	uint64_t h = 14695981039346656037ULL;           /* FNV-1a 64 */
	for (const unsigned char *p = (const unsigned char *)real; *p; p++) {
		h ^= *p;
		h *= 1099511628211ULL;
	}
	const char *base = strrchr(real, '/');
	base = base && base[1] ? base + 1 : "root";
	const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	int n;
	if (x && *x == '/')
		n = snprintf(out, size, "%s/rill/status/%s-%016llx", x, base, (unsigned long long)h);
	else
		n = snprintf(out, size, "%s/.cache/rill/status/%s-%016llx", home && *home ? home : "/tmp", base,
			     (unsigned long long)h);
	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int rill_status_find_project(const char *dir, char *out, size_t size)
{
	char buf[PATH_MAX], conf[PATH_MAX + 16];
	struct stat st;
	if (!realpath(dir ? dir : ".", buf))
		return -1;
	for (;;) {
		char *slash;
		snprintf(conf, sizeof(conf), "%s/project.conf", strcmp(buf, "/") ? buf : "");
		if (stat(conf, &st) == 0 && S_ISREG(st.st_mode))
			break;
		slash = strrchr(buf, '/');
		if (!slash || !strcmp(buf, "/")) {
			errno = ENOENT;
			return -1;
		}
		slash[slash == buf] = '\0';       /* "/a" -> "/", "/a/b" -> "/a" */
	}
	if (strlen(buf) >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(out, buf, strlen(buf) + 1);
	return 0;
}

void rill_status_close(struct rill_status *s)
{
	if (!s)
		return;
	if (s->txn)
		mdb_txn_abort(s->txn);
	if (s->env)
		mdb_env_close(s->env);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	if (s->tick_fd >= 0)
		close(s->tick_fd);
	free(s->dir);
	free(s);
}

static int begin_rdonly(struct rill_status *s, MDB_txn **txn)
{
	int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, txn);
	if (rc == MDB_MAP_RESIZED) {
		mdb_env_set_mapsize(s->env, 0);
		rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, txn);
	}
	return rc;
}

/* Open the databases and check the schema record. 0, or -1 with s->err. */
static int check_schema(struct rill_status *s)
{
	MDB_txn *txn;
	int rc = begin_rdonly(s, &txn);
	if (rc)
		return FAIL(s, "%s: cannot read the status table: %s", s->dir, mdb_strerror(rc));
	for (int i = 0; i < DB_COUNT; i++) {
		if ((rc = mdb_dbi_open(txn, db_names[i], 0, &s->dbi[i]))) {
			mdb_txn_abort(txn);
			if (rc == MDB_NOTFOUND)
				return FAIL(s, "%s: the status table is not set up yet (the backend is starting)",
					    s->dir);
			return FAIL(s, "%s: cannot open %s: %s", s->dir, db_names[i], mdb_strerror(rc));
		}
	}
	struct rill_status_rec_schema sch;
	MDB_val key = {6, "schema"}, val;
	rc = mdb_get(txn, s->dbi[DB_META], &key, &val);
	if (rc) {
		mdb_txn_abort(txn);
		if (rc == MDB_NOTFOUND)
			return FAIL(s, "%s: the status table is not set up yet (the backend is starting)",
				    s->dir);
		return FAIL(s, "%s: cannot read the schema record: %s", s->dir, mdb_strerror(rc));
	}
	memset(&sch, 0, sizeof(sch));
	memcpy(&sch, val.mv_data, val.mv_size < sizeof(sch) ? val.mv_size : sizeof(sch));
	if (sch.magic != RILL_STATUS_MAGIC || sch.version != RILL_STATUS_SCHEMA_VERSION) {
		mdb_txn_abort(txn);
		if (sch.magic != RILL_STATUS_MAGIC)
			return FAIL(s, "%s: not a rill status table (bad schema record)", s->dir);
		return FAIL(s, "%s: status table schema version %u, but this reader understands version %d: "
			    "use the rill that wrote it (or run a build with this one to rewrite the table)",
			    s->dir, sch.version, RILL_STATUS_SCHEMA_VERSION);
	}
	/* Commit, not abort: only a committed txn keeps the DBI handles open. */
	if ((rc = mdb_txn_commit(txn)))
		return FAIL(s, "%s: cannot read the status table: %s", s->dir, mdb_strerror(rc));
	return 0;
}

struct rill_status *rill_status_open(const char *dir, char *errbuf, size_t errsize)
{
	struct rill_status *s = calloc(1, sizeof(*s));
	char path[PATH_MAX];
	struct stat st;
	int rc;
	if (!s) {
		fmt(errbuf, errsize, "%s: out of memory", dir);
		return NULL;
	}
	s->lock_fd = -1;
	s->tick_fd = -1;
	s->dir = strdup(dir);
	if (!s->dir) {
		fmt(s->err, sizeof(s->err), "%s: out of memory", dir);
		goto fail;
	}
	/* Check first: opening would create lock.mdb in a directory no backend set up. */
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (stat(path, &st) < 0) {
		fmt(s->err, sizeof(s->err), "%s: no status table yet (no rill backend has run for this project)",
		    dir);
		goto fail;
	}
	if ((rc = mdb_env_create(&s->env))) {
		fmt(s->err, sizeof(s->err), "%s: %s", dir, mdb_strerror(rc));
		goto fail;
	}
	mdb_env_set_maxdbs(s->env, STATUS_MAXDBS);
	mdb_env_set_maxreaders(s->env, STATUS_MAXREADERS);
	if ((rc = mdb_env_open(s->env, dir, MDB_RDONLY, 0664))) {
		fmt(s->err, sizeof(s->err), "%s: cannot open the status table: %s%s", dir, mdb_strerror(rc),
		    rc == EACCES ? " (readers need write access to lock.mdb)" : "");
		goto fail;
	}
	mdb_filehandle_t fd;
	if (mdb_env_get_fd(s->env, &fd) == 0)
		fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC);
	if (check_schema(s))
		goto fail;
	if ((rc = begin_rdonly(s, &s->txn))) {
		s->txn = NULL;
		fmt(s->err, sizeof(s->err), "%s: cannot read the status table: %s", dir, mdb_strerror(rc));
		goto fail;
	}
	mdb_txn_reset(s->txn);
	snprintf(path, sizeof(path), "%s/backend.lock", dir);
	s->lock_fd = open(path, O_RDONLY | O_CLOEXEC);
	return s;
fail:
	fmt(errbuf, errsize, "%s", s->err);
	rill_status_close(s);
	return NULL;
}

struct rill_status *rill_status_open_session(const char *dir, uint64_t session_id, int timeout_ms,
					     char *errbuf, size_t errsize)
{
	int64_t deadline = mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	for (;;) {
		struct rill_status *s = rill_status_open(dir, errbuf, errsize);
		if (s) {
			int64_t left = deadline - mono_ms();
			if (rill_status_wait_session(s, session_id, left > 0 ? (int)left : 0) == 0)
				return s;
			fmt(errbuf, errsize, "%s", s->err);
			rill_status_close(s);
			return NULL;
		}
		if (mono_ms() >= deadline)
			return NULL;
		sleep_ms(10);
	}
}
