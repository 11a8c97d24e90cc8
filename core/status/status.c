/* status — the writer of the LMDB status table: buffers element/job/queue/message changes in memory
 * and writes them in one transaction per scheduler tick. The only LMDB writer; layout in
 * frontends/rill-status.h and docs/status-table.md.
 * SPDX-License-Identifier: Apache-2.0 */
#include "status/status.h"

#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/osutil.h"

#define STATUS_MAPSIZE ((size_t)1 << 30)
#define STATUS_MAPSIZE_LIMIT ((size_t)1 << 40)
#define STATUS_MAXREADERS 126           /* the reader library uses the same value */
#define STATUS_MAXDBS 8
#define STATUS_RING_CAP 10000           /* messages kept */
#define STATUS_JOBS_KEPT 1000           /* finished jobs kept (running ones always are) */
#define STATUS_HEARTBEAT_NS 1000000000LL
#define STATUS_READER_CHECK_NS 3000000000LL
#define STATUS_GROWTH_CHECK_PAGES 256   /* 1 MiB of growth since the last reader check */

enum { DB_META, DB_ELEMENTS, DB_JOBS, DB_QUEUES, DB_MESSAGES, DB_DETAILS, DB_COUNT };
static const char *const db_names[DB_COUNT] = {
	"meta", "elements", "jobs", "queues", "messages", "details",
};

struct st_element {
	char *name, *key;
	uint32_t state, job_id, failed_job_id;
	int64_t build_start_ns, build_end_ns;
	bool known, dirty;
};

struct st_job {
	char *action, *log_path, *last_line;
	uint32_t element_id, result;
	pid_t pid;
	int64_t start_ns, end_ns, paused_ns;
	bool known, dirty;
};

struct st_queue {
	char *action, *complete_name;
	unsigned processed, skipped, failed;
	bool known, dirty;
};

/* A message waiting for the next commit, already encoded. */
struct st_message {
	uint64_t seq;
	char *rec;
	size_t len;
	char *detail;
	size_t detail_len;
};

struct status_writer {
	char *dir;
	int lock_fd;
	dev_t lock_dev;
	ino_t lock_ino;
	struct status_writer *next_open;        /* writers open in this process */
	pid_t owner;                            /* the process that opened it (the list survives fork) */
	MDB_env *env;
	MDB_dbi dbi[DB_COUNT];

	struct rill_status_rec_session ses;
	char *command, *project, *project_dir, *targets, *error;
	bool reset_pending;                     /* new session: empty elements/jobs/queues */
	bool wipe_all;                          /* schema differs: empty everything */
	bool pending;                           /* anything buffered since the last commit */

	struct st_element *el;
	size_t nel, el_cap;
	uint32_t *dirty_el;
	size_t ndirty_el, dirty_el_cap;

	struct st_job *job;
	size_t njob, job_cap;
	uint32_t *dirty_job;
	size_t ndirty_job, dirty_job_cap;
	uint32_t *del_job;                      /* finished jobs to delete from the table */
	size_t ndel_job, del_job_cap;
	uint32_t *finished;                     /* FIFO of finished job ids, oldest at fin_head */
	size_t fin_head, nfinished, finished_cap;

	struct st_queue *queue;
	size_t nqueue, queue_cap;

	struct st_message *msg;                 /* pending messages, oldest first */
	size_t nmsg, msg_cap;
	uint64_t next_seq;

	int64_t last_commit_mono, last_check_mono;
	size_t checked_pgno;                    /* map size in pages at the last reader check */
	struct buf scratch;
};

static struct status_writer *open_writers;

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

/* Length of s cut to at most max bytes without splitting a UTF-8 sequence. */
static size_t cut_len(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n <= max)
		return n;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return max;
}

/* Append s (NULL: "") truncated to fit a reader field of size bytes, and its NUL. */
static void enc_str(struct buf *b, const char *s, size_t size)
{
	if (!s)
		s = "";
	buf_add(b, s, cut_len(s, size - 1));
	buf_addch(b, '\0');
}

/* Replace *slot with a copy of s; NULL keeps the old value (or "" when there is none). */
static bool set_str(char **slot, const char *s)
{
	if (!s) {
		if (!*slot)
			*slot = xstrdup("");
		return false;
	}
	if (*slot && strcmp(*slot, s) == 0)
		return false;
	free(*slot);
	*slot = xstrdup(s);
	return true;
}

static void push_id(uint32_t **arr, size_t *n, size_t *cap, uint32_t id)
{
	GROW(*arr, *cap, *n + 1);
	(*arr)[(*n)++] = id;
}

static struct st_element *element_at(struct status_writer *w, uint32_t id)
{
	if (id >= w->nel) {
		GROW(w->el, w->el_cap, (size_t)id + 1);
		memset(w->el + w->nel, 0, ((size_t)id + 1 - w->nel) * sizeof(*w->el));
		w->nel = (size_t)id + 1;
	}
	return &w->el[id];
}

static void element_dirty(struct status_writer *w, uint32_t id)
{
	struct st_element *e = &w->el[id];
	if (!e->dirty) {
		e->dirty = true;
		push_id(&w->dirty_el, &w->ndirty_el, &w->dirty_el_cap, id);
	}
	w->pending = true;
}

static struct st_job *job_at(struct status_writer *w, uint32_t id)
{
	if (id >= w->njob) {
		GROW(w->job, w->job_cap, (size_t)id + 1);
		memset(w->job + w->njob, 0, ((size_t)id + 1 - w->njob) * sizeof(*w->job));
		w->njob = (size_t)id + 1;
	}
	return &w->job[id];
}

static void job_dirty(struct status_writer *w, uint32_t id)
{
	struct st_job *j = &w->job[id];
	if (!j->dirty) {
		j->dirty = true;
		push_id(&w->dirty_job, &w->ndirty_job, &w->dirty_job_cap, id);
	}
	w->pending = true;
}

static bool state_is_final(enum rill_session_state state)
{
	return state == RILL_SESSION_SUCCESS || state == RILL_SESSION_FAILED || state == RILL_SESSION_TERMINATED;
}

static const char *element_name(struct status_writer *w, uint32_t id)
{
	return id < w->nel && w->el[id].known ? w->el[id].name : "";
}

/* ---- Buffered changes ---------------------------------------------------------------------- */

void status_session_state(struct status_writer *w, enum rill_session_state state)
{
	w->ses.state = state;
	if (state_is_final(state))
		w->ses.end_ns = os_now_real_ns();
	w->pending = true;
}

void status_session_project(struct status_writer *w, const char *name)
{
	set_str(&w->project, name ? name : "");
	w->pending = true;
}

void status_session_error(struct status_writer *w, const char *text)
{
	set_str(&w->error, text ? text : "");
	w->pending = true;
}

void status_session_control(struct status_writer *w, uint32_t flags, uint32_t awaiting_job,
			    enum rill_on_error on_error, unsigned frontends)
{
	flags = (flags & ~RILL_SESSION_SUSPENDED) | (w->ses.flags & RILL_SESSION_SUSPENDED);
	if (w->ses.flags == flags && w->ses.awaiting_job == awaiting_job &&
	    w->ses.on_error == (uint32_t)on_error && w->ses.frontends == frontends)
		return;
	w->ses.flags = flags;
	w->ses.awaiting_job = awaiting_job;
	w->ses.on_error = on_error;
	w->ses.frontends = frontends;
	w->pending = true;
}

void status_request_done(struct status_writer *w)
{
	w->ses.requests++;
	w->pending = true;
}

void status_suspend(struct status_writer *w)
{
	if (w->ses.flags & RILL_SESSION_SUSPENDED)
		return;
	w->ses.flags |= RILL_SESSION_SUSPENDED;
	w->ses.suspended_ns = os_now_real_ns();
	w->pending = true;
}

void status_resume(struct status_writer *w)
{
	int64_t now = os_now_real_ns(), since = w->ses.suspended_ns;
	if (!(w->ses.flags & RILL_SESSION_SUSPENDED))
		return;
	w->ses.flags &= ~RILL_SESSION_SUSPENDED;
	w->ses.paused_ns += now - since;
	w->ses.suspended_ns = 0;
	for (uint32_t id = 0; id < w->njob; id++) {
		struct st_job *j = &w->job[id];
		if (!j->known || j->result != RILL_JOB_RUNNING)
			continue;
		j->paused_ns += now - (j->start_ns > since ? j->start_ns : since);
		job_dirty(w, id);
	}
	w->pending = true;
}

void status_element(struct status_writer *w, uint32_t id, const char *name, const char *key,
		    enum rill_element_state state)
{
	if (id == RILL_STATUS_NONE || (unsigned)state >= RILL_ELEMENT_STATE_COUNT)
		return;
	struct st_element *e = element_at(w, id);
	bool changed = set_str(&e->name, name) | set_str(&e->key, key);
	if (!e->known) {
		e->known = true;
		e->job_id = e->failed_job_id = RILL_STATUS_NONE;
		w->ses.elements_total++;
		w->ses.element_states[state]++;
		changed = true;
	} else if (e->state != (uint32_t)state) {
		w->ses.element_states[e->state]--;
		w->ses.element_states[state]++;
		changed = true;
	}
	if (state == RILL_ELEMENT_BUILDING && e->state != RILL_ELEMENT_BUILDING) {
		if (!e->build_start_ns)
			e->build_start_ns = os_now_real_ns();
		e->build_end_ns = 0;
	} else if (e->state == RILL_ELEMENT_BUILDING && state != RILL_ELEMENT_BUILDING) {
		e->build_end_ns = os_now_real_ns();
	}
	e->state = state;
	if (changed)
		element_dirty(w, id);
}

void status_job_start(struct status_writer *w, uint32_t job_id, const char *action,
		      uint32_t element_id, pid_t pid, const char *log_path)
{
	if (job_id == RILL_STATUS_NONE)
		return;
	struct st_job *j = job_at(w, job_id);
	if (j->known && j->result == RILL_JOB_RUNNING)
		w->ses.jobs_running--;
	j->known = true;
	set_str(&j->action, action ? action : "");
	set_str(&j->log_path, log_path ? log_path : "");
	set_str(&j->last_line, "");
	j->element_id = element_id;
	j->pid = pid;
	j->result = RILL_JOB_RUNNING;
	j->start_ns = os_now_real_ns();
	j->end_ns = 0;
	j->paused_ns = 0;
	w->ses.jobs_running++;
	job_dirty(w, job_id);
	if (element_id < w->nel && w->el[element_id].known) {
		w->el[element_id].job_id = job_id;
		element_dirty(w, element_id);
	}
}

void status_job_output(struct status_writer *w, uint32_t job_id, const char *last_line)
{
	if (job_id >= w->njob || !w->job[job_id].known)
		return;
	if (set_str(&w->job[job_id].last_line, last_line ? last_line : ""))
		job_dirty(w, job_id);
}

/* Forget the oldest finished jobs beyond STATUS_JOBS_KEPT: deleted from the table at the next commit. */
static void jobs_trim(struct status_writer *w)
{
	while (w->nfinished > STATUS_JOBS_KEPT) {
		uint32_t id = w->finished[w->fin_head++];
		w->nfinished--;
		struct st_job *j = &w->job[id];
		if (!j->known || j->result == RILL_JOB_RUNNING)
			continue;       /* restarted since it finished */
		free(j->action);
		free(j->log_path);
		free(j->last_line);
		j->action = j->log_path = j->last_line = NULL;
		j->known = false;
		push_id(&w->del_job, &w->ndel_job, &w->del_job_cap, id);
		w->pending = true;
	}
	if (w->fin_head > 4096 && w->fin_head > w->nfinished) {
		memmove(w->finished, w->finished + w->fin_head, w->nfinished * sizeof(*w->finished));
		w->fin_head = 0;
	}
}

void status_job_end(struct status_writer *w, uint32_t job_id, enum rill_job_result result)
{
	if (job_id >= w->njob || !w->job[job_id].known || w->job[job_id].result != RILL_JOB_RUNNING)
		return;
	struct st_job *j = &w->job[job_id];
	j->result = result == RILL_JOB_RUNNING ? RILL_JOB_TERMINATED : result;
	j->end_ns = os_now_real_ns();
	w->ses.jobs_running--;
	job_dirty(w, job_id);
	if (j->element_id < w->nel && w->el[j->element_id].known) {
		struct st_element *e = &w->el[j->element_id];
		if (e->job_id == job_id)
			e->job_id = RILL_STATUS_NONE;
		if (j->result == RILL_JOB_FAILED)
			e->failed_job_id = job_id;
		element_dirty(w, j->element_id);
	}
	GROW(w->finished, w->finished_cap, w->fin_head + w->nfinished + 1);
	w->finished[w->fin_head + w->nfinished++] = job_id;
	jobs_trim(w);
}

void status_queue(struct status_writer *w, unsigned queue, const char *action,
		  const char *complete_name, unsigned processed, unsigned skipped, unsigned failed)
{
	if (queue >= 64)
		return;         /* a pipeline has a handful of queues */
	if (queue >= w->nqueue) {
		GROW(w->queue, w->queue_cap, (size_t)queue + 1);
		memset(w->queue + w->nqueue, 0, ((size_t)queue + 1 - w->nqueue) * sizeof(*w->queue));
		w->nqueue = (size_t)queue + 1;
	}
	struct st_queue *q = &w->queue[queue];
	bool changed = set_str(&q->action, action) | set_str(&q->complete_name, complete_name);
	if (!q->known || changed || q->processed != processed || q->skipped != skipped ||
	    q->failed != failed) {
		q->known = q->dirty = true;
		q->processed = processed;
		q->skipped = skipped;
		q->failed = failed;
		w->pending = true;
	}
}

static void message_free(struct st_message *m)
{
	free(m->rec);
	free(m->detail);
}

void status_message(struct status_writer *w, enum rill_message_type type, uint32_t element_id,
		    uint32_t job_id, const char *action, int64_t elapsed_ns, const char *text,
		    const char *detail)
{
	/* More pending than the ring holds: the oldest would be trimmed at once, so drop them now
	 * (in bulk, to keep this amortised O(1)). */
	if (w->nmsg >= 2 * STATUS_RING_CAP) {
		size_t drop = w->nmsg - STATUS_RING_CAP;
		for (size_t i = 0; i < drop; i++)
			message_free(&w->msg[i]);
		memmove(w->msg, w->msg + drop, (w->nmsg - drop) * sizeof(*w->msg));
		w->nmsg -= drop;
	}
	GROW(w->msg, w->msg_cap, w->nmsg + 1);
	struct st_message *m = &w->msg[w->nmsg++];
	struct rill_status_rec_message rec;
	memset(&rec, 0, sizeof(rec));
	rec.version = RILL_STATUS_SCHEMA_VERSION;
	rec.size = sizeof(rec);
	rec.seq = m->seq = w->next_seq++;
	rec.time_ns = os_now_real_ns();
	rec.elapsed_ns = elapsed_ns;
	rec.type = type;
	rec.element_id = element_id;
	rec.job_id = job_id;
	m->detail = NULL;
	m->detail_len = 0;
	if (detail && *detail) {
		/* Keep the end: the detail is typically the tail of a log. */
		size_t n = strlen(detail), skip = 0;
		if (n > RILL_STATUS_DETAIL_MAX - 1) {
			skip = n - (RILL_STATUS_DETAIL_MAX - 1);
			while (skip < n && ((unsigned char)detail[skip] & 0xc0) == 0x80)
				skip++;
		}
		m->detail_len = n - skip;
		m->detail = xstrndup(detail + skip, m->detail_len);
	}
	rec.detail_len = (uint32_t)m->detail_len;
	struct buf b = BUF_INIT;
	buf_add(&b, &rec, sizeof(rec));
	enc_str(&b, element_name(w, element_id), RILL_STATUS_NAME_MAX);
	enc_str(&b, action, RILL_STATUS_WORD_MAX);
	enc_str(&b, text, RILL_STATUS_TEXT_MAX);
	m->len = b.len;
	m->rec = buf_detach(&b);
	w->pending = true;
}

/* ---- Writing ------------------------------------------------------------------------------- */

static int put_u32_key(MDB_txn *txn, MDB_dbi dbi, uint32_t id, const struct buf *b)
{
	unsigned char k[4];
	put_be32(k, id);
	MDB_val key = {sizeof(k), k}, val = {b->len, b->data};
	return mdb_put(txn, dbi, &key, &val, 0);
}

static void encode_session(struct status_writer *w, struct buf *b, const struct rill_status_rec_session *r)
{
	buf_reset(b);
	buf_add(b, r, sizeof(*r));
	enc_str(b, w->command, RILL_STATUS_WORD_MAX);
	enc_str(b, w->project, RILL_STATUS_NAME_MAX);
	enc_str(b, w->project_dir, RILL_STATUS_PATH_MAX);
	enc_str(b, w->targets, RILL_STATUS_PATH_MAX);
	enc_str(b, w->error, RILL_STATUS_TEXT_MAX);
}

static int write_element(struct status_writer *w, MDB_txn *txn, uint32_t id)
{
	struct st_element *e = &w->el[id];
	struct rill_status_rec_element r;
	memset(&r, 0, sizeof(r));
	r.version = RILL_STATUS_SCHEMA_VERSION;
	r.size = sizeof(r);
	r.id = id;
	r.state = e->state;
	r.job_id = e->job_id;
	r.failed_job_id = e->failed_job_id;
	r.build_start_ns = e->build_start_ns;
	r.build_end_ns = e->build_end_ns;
	const char *action = e->job_id < w->njob && w->job[e->job_id].known ? w->job[e->job_id].action : "";
	struct buf *b = &w->scratch;
	buf_reset(b);
	buf_add(b, &r, sizeof(r));
	enc_str(b, e->name, RILL_STATUS_NAME_MAX);
	enc_str(b, e->key, RILL_STATUS_KEY_MAX);
	enc_str(b, action, RILL_STATUS_WORD_MAX);
	return put_u32_key(txn, w->dbi[DB_ELEMENTS], id, b);
}

static int write_job(struct status_writer *w, MDB_txn *txn, uint32_t id)
{
	struct st_job *j = &w->job[id];
	struct rill_status_rec_job r;
	memset(&r, 0, sizeof(r));
	r.version = RILL_STATUS_SCHEMA_VERSION;
	r.size = sizeof(r);
	r.id = id;
	r.element_id = j->element_id;
	r.pid = j->pid;
	r.result = j->result;
	r.start_ns = j->start_ns;
	r.end_ns = j->end_ns;
	r.paused_ns = j->paused_ns;
	struct buf *b = &w->scratch;
	buf_reset(b);
	buf_add(b, &r, sizeof(r));
	enc_str(b, j->action, RILL_STATUS_WORD_MAX);
	enc_str(b, element_name(w, j->element_id), RILL_STATUS_NAME_MAX);
	enc_str(b, j->log_path, RILL_STATUS_PATH_MAX);
	enc_str(b, j->last_line, RILL_STATUS_TEXT_MAX);
	return put_u32_key(txn, w->dbi[DB_JOBS], id, b);
}

static int write_queue(struct status_writer *w, MDB_txn *txn, uint32_t index)
{
	struct st_queue *q = &w->queue[index];
	struct rill_status_rec_queue r;
	memset(&r, 0, sizeof(r));
	r.version = RILL_STATUS_SCHEMA_VERSION;
	r.size = sizeof(r);
	r.index = index;
	r.processed = q->processed;
	r.skipped = q->skipped;
	r.failed = q->failed;
	struct buf *b = &w->scratch;
	buf_reset(b);
	buf_add(b, &r, sizeof(r));
	enc_str(b, q->action, RILL_STATUS_WORD_MAX);
	enc_str(b, q->complete_name, RILL_STATUS_WORD_MAX);
	return put_u32_key(txn, w->dbi[DB_QUEUES], index, b);
}

/* Append the pending messages (and their details) to the ring, then trim it to STATUS_RING_CAP.
 * *first_seq: the oldest seq left in the ring (0 if empty). */
static int write_messages(struct status_writer *w, MDB_txn *txn, uint64_t *first_seq)
{
	MDB_cursor *mc = NULL, *dc = NULL;
	MDB_val key, val;
	MDB_stat st;
	unsigned char k[10];
	int rc;
	size_t start = w->nmsg > STATUS_RING_CAP ? w->nmsg - STATUS_RING_CAP : 0;

	*first_seq = 0;
	if ((rc = mdb_cursor_open(txn, w->dbi[DB_MESSAGES], &mc)) ||
	    (rc = mdb_cursor_open(txn, w->dbi[DB_DETAILS], &dc)))
		goto out;
	for (size_t i = start; i < w->nmsg; i++) {
		struct st_message *m = &w->msg[i];
		put_be64(k, m->seq);
		key.mv_size = 8;
		key.mv_data = k;
		val.mv_size = m->len;
		val.mv_data = m->rec;
		if ((rc = mdb_cursor_put(mc, &key, &val, MDB_APPEND)))
			goto out;
		for (size_t off = 0, chunk = 0; off < m->detail_len; off += RILL_STATUS_DETAIL_CHUNK, chunk++) {
			k[8] = (unsigned char)(chunk >> 8);
			k[9] = (unsigned char)chunk;
			key.mv_size = 10;
			key.mv_data = k;
			val.mv_size = m->detail_len - off < RILL_STATUS_DETAIL_CHUNK ? m->detail_len - off
										  : RILL_STATUS_DETAIL_CHUNK;
			val.mv_data = m->detail + off;
			if ((rc = mdb_cursor_put(dc, &key, &val, MDB_APPEND)))
				goto out;
		}
	}
	if ((rc = mdb_stat(txn, w->dbi[DB_MESSAGES], &st)))
		goto out;
	for (size_t n = st.ms_entries; n > STATUS_RING_CAP; n--) {
		if ((rc = mdb_cursor_get(mc, &key, &val, MDB_FIRST)) || (rc = mdb_cursor_del(mc, 0)))
			goto out;
	}
	rc = mdb_cursor_get(mc, &key, &val, MDB_FIRST);
	if (rc == 0 && key.mv_size == 8)
		*first_seq = get_be64(key.mv_data);
	else if (rc != MDB_NOTFOUND && rc != 0)
		goto out;
	/* Details of messages no longer in the ring. */
	while ((rc = mdb_cursor_get(dc, &key, &val, MDB_FIRST)) == 0) {
		if (key.mv_size >= 8 && *first_seq && get_be64(key.mv_data) >= *first_seq)
			break;
		if ((rc = mdb_cursor_del(dc, 0)))
			goto out;
	}
	rc = rc == MDB_NOTFOUND ? 0 : rc;
out:
	if (dc)
		mdb_cursor_close(dc);
	if (mc)
		mdb_cursor_close(mc);
	return rc;
}

/* The change record of this transaction (generation w->ses.generation + 1): the ids of the
 * elements and jobs it writes, so that readers read only those; the one that fell out of the
 * window goes. After a reset (a new session) the old session's records go too. */
static int write_changes(struct status_writer *w, MDB_txn *txn)
{
	uint64_t gen = w->ses.generation + 1;
	unsigned char k[11] = {'c', 'h', 'g'};
	struct rill_status_rec_changes h = {RILL_STATUS_SCHEMA_VERSION, sizeof(h), 0, 0, 0, 0, w->next_seq - 1};
	int rc;
	if (w->reset_pending || gen > RILL_STATUS_CHANGES_KEPT) {
		MDB_cursor *c;
		MDB_val key = {3, "chg"}, val;
		if ((rc = mdb_cursor_open(txn, w->dbi[DB_META], &c)))
			return rc;
		for (rc = mdb_cursor_get(c, &key, &val, MDB_SET_RANGE); rc == 0;
		     rc = mdb_cursor_get(c, &key, &val, MDB_NEXT)) {
			if (key.mv_size != 11 || memcmp(key.mv_data, "chg", 3))
				break;
			if (!w->reset_pending && get_be64((const unsigned char *)key.mv_data + 3) + RILL_STATUS_CHANGES_KEPT > gen)
				break;
			if ((rc = mdb_cursor_del(c, 0)))
				break;
		}
		mdb_cursor_close(c);
		if (rc && rc != MDB_NOTFOUND)
			return rc;
	}
	h.nelements = (uint32_t)w->ndirty_el;
	for (size_t i = 0; i < w->ndirty_job; i++)
		h.njobs += w->job[w->dirty_job[i]].known;
	for (size_t i = 0; i < w->nqueue; i++)
		h.queues |= w->queue[i].dirty;
	buf_reset(&w->scratch);
	buf_add(&w->scratch, &h, sizeof(h));
	buf_add(&w->scratch, w->dirty_el, w->ndirty_el * sizeof(uint32_t));
	for (size_t i = 0; i < w->ndirty_job; i++)
		if (w->job[w->dirty_job[i]].known)
			buf_add(&w->scratch, &w->dirty_job[i], sizeof(uint32_t));
	put_be64(k + 3, gen);
	MDB_val key = {sizeof(k), k}, val = {w->scratch.len, w->scratch.data};
	return mdb_put(txn, w->dbi[DB_META], &key, &val, 0);
}

/* One write transaction with everything buffered. Changes nothing in memory, so a failed batch
 * (MDB_MAP_FULL) can be redone. Returns an LMDB/errno code. */
static int write_batch(struct status_writer *w, int64_t now, struct rill_status_rec_session *ses)
{
	MDB_txn *txn;
	int rc = mdb_txn_begin(w->env, NULL, 0, &txn);
	if (rc)
		return rc;
	if (w->reset_pending) {
		for (int i = 0; i < DB_COUNT; i++) {
			bool ring = i == DB_MESSAGES || i == DB_DETAILS || i == DB_META;
			if ((!ring || w->wipe_all) && (rc = mdb_drop(txn, w->dbi[i], 0)))
				goto fail;
		}
		struct rill_status_rec_schema sch = {RILL_STATUS_SCHEMA_VERSION, sizeof(sch),
						     RILL_STATUS_MAGIC, 0};
		MDB_val key = {6, "schema"}, val = {sizeof(sch), &sch};
		if ((rc = mdb_put(txn, w->dbi[DB_META], &key, &val, 0)))
			goto fail;
	}
	for (size_t i = 0; i < w->ndirty_el; i++)
		if ((rc = write_element(w, txn, w->dirty_el[i])))
			goto fail;
	for (size_t i = 0; i < w->ndirty_job; i++)
		if (w->job[w->dirty_job[i]].known && (rc = write_job(w, txn, w->dirty_job[i])))
			goto fail;
	for (size_t i = 0; i < w->ndel_job; i++) {
		unsigned char k[4];
		put_be32(k, w->del_job[i]);
		MDB_val key = {4, k};
		rc = mdb_del(txn, w->dbi[DB_JOBS], &key, NULL);
		if (rc && rc != MDB_NOTFOUND)
			goto fail;
	}
	for (size_t i = 0; i < w->nqueue; i++)
		if (w->queue[i].dirty && (rc = write_queue(w, txn, (uint32_t)i)))
			goto fail;
	uint64_t first_seq;
	if ((rc = write_messages(w, txn, &first_seq)))
		goto fail;
	if ((rc = write_changes(w, txn)))
		goto fail;

	*ses = w->ses;
	ses->version = RILL_STATUS_SCHEMA_VERSION;
	ses->size = sizeof(*ses);
	ses->heartbeat_ns = now;
	ses->generation++;
	ses->first_seq = first_seq;
	ses->last_seq = w->next_seq - 1;
	ses->elements_cached = ses->element_states[RILL_ELEMENT_CACHED];
	ses->elements_failed = ses->element_states[RILL_ELEMENT_FAILED];
	encode_session(w, &w->scratch, ses);
	MDB_val key = {7, "session"}, val = {w->scratch.len, w->scratch.data};
	if ((rc = mdb_put(txn, w->dbi[DB_META], &key, &val, 0)))
		goto fail;
	return mdb_txn_commit(txn);     /* frees txn even when it fails */
fail:
	mdb_txn_abort(txn);
	return rc;
}

/* The batch is in the table: forget it. */
static void batch_done(struct status_writer *w, const struct rill_status_rec_session *ses)
{
	for (size_t i = 0; i < w->ndirty_el; i++)
		w->el[w->dirty_el[i]].dirty = false;
	for (size_t i = 0; i < w->ndirty_job; i++)
		w->job[w->dirty_job[i]].dirty = false;
	for (size_t i = 0; i < w->nqueue; i++)
		w->queue[i].dirty = false;
	for (size_t i = 0; i < w->nmsg; i++)
		message_free(&w->msg[i]);
	w->ndirty_el = w->ndirty_job = w->ndel_job = w->nmsg = 0;
	w->ses = *ses;
	w->reset_pending = w->wipe_all = w->pending = false;
}


int status_commit(struct status_writer *w, struct error *err)
{
	int64_t mono = os_now_mono_ns();
	if (!w->pending && mono - w->last_commit_mono < STATUS_HEARTBEAT_NS)
		return 0;
	/* A reader that died inside a read txn pins its snapshot and makes every commit allocate new
	 * pages: clear dead slots every few seconds, and at once when the file has grown. */
	MDB_envinfo ei;
	mdb_env_info(w->env, &ei);
	if (mono - w->last_check_mono >= STATUS_READER_CHECK_NS ||
	    ei.me_last_pgno >= w->checked_pgno + STATUS_GROWTH_CHECK_PAGES) {
		int dead;
		mdb_reader_check(w->env, &dead);
		w->last_check_mono = mono;
		w->checked_pgno = ei.me_last_pgno;
	}
	struct rill_status_rec_session ses;
	int rc;
	while ((rc = write_batch(w, os_now_real_ns(), &ses)) == MDB_MAP_FULL) {
		mdb_env_info(w->env, &ei);
		if (ei.me_mapsize >= STATUS_MAPSIZE_LIMIT ||
		    (rc = mdb_env_set_mapsize(w->env, ei.me_mapsize * 2)))
			break;
	}
	if (rc)
		return error_set(err, "%s/data.mdb: cannot write the status table: %s (is the disk full?)",
				 w->dir, rc == MDB_MAP_FULL ? "the table reached its size limit"
							    : mdb_strerror(rc));
	batch_done(w, &ses);
	w->last_commit_mono = mono;
	/* the tick readers wait on (inotify on backend.lock: rill_status_wait); one syscall */
	if (w->lock_fd >= 0)
		futimens(w->lock_fd, NULL);
	return 0;
}

int status_pending(const struct status_writer *w)
{
	return w->pending;
}

/* ---- Opening and closing ------------------------------------------------------------------- */

/* Take <dir>/backend.lock: the single-backend guard and the readers' liveness probe. */
static int lock_take(struct status_writer *w, struct error *err)
{
	char *path = xasprintf("%s/backend.lock", w->dir);
	struct stat st;
	int rc = -1;
	/* fcntl locks never conflict within one process, and closing any fd on the file would drop
	 * ours: so look for this process's own writers before opening it. */
	if (stat(path, &st) == 0) {
		for (struct status_writer *o = open_writers; o; o = o->next_open) {
			if (o->owner == getpid() && o->lock_dev == st.st_dev && o->lock_ino == st.st_ino) {
				error_set(err, "another rill backend (pid %d) is using %s: this process has it "
					  "open already", (int)getpid(), w->dir);
				goto out;
			}
		}
	}
	w->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (w->lock_fd < 0) {
		error_set(err, "%s: cannot open: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(w->lock_fd, &st) == 0) {
		w->lock_dev = st.st_dev;
		w->lock_ino = st.st_ino;
	}
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
	if (fcntl(w->lock_fd, F_SETLK, &fl) < 0) {
		if (errno == EAGAIN || errno == EACCES) {
			struct flock q = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
			int pid = fcntl(w->lock_fd, F_GETLK, &q) == 0 && q.l_type != F_UNLCK ? (int)q.l_pid : 0;
			error_set(err, "another rill backend (pid %d) is using %s: wait for it to finish "
				  "or stop it", pid, w->dir);
		} else {
			error_set(err, "%s: cannot lock: %s", path, strerror(errno));
		}
		goto out;
	}
	char pidline[32];
	int n = snprintf(pidline, sizeof(pidline), "%d\n", (int)getpid());
	if (ftruncate(w->lock_fd, 0) == 0)
		(void)!pwrite(w->lock_fd, pidline, (size_t)n, 0);   /* for humans only */
	rc = 0;
out:
	free(path);
	return rc;
}

static bool env_broken(int rc)
{
	return rc == MDB_INVALID || rc == MDB_CORRUPTED || rc == MDB_VERSION_MISMATCH ||
	       rc == MDB_PAGE_NOTFOUND || rc == MDB_INCOMPATIBLE || rc == MDB_BAD_DBI;
}

/* Open the environment, create the named databases in a committed transaction, read the schema
 * record and the last message seq. Returns an LMDB/errno code. */
static int env_open_once(struct status_writer *w)
{
	MDB_txn *txn;
	int rc;
	if ((rc = mdb_env_create(&w->env)))
		return rc;
	mdb_env_set_maxdbs(w->env, STATUS_MAXDBS);
	mdb_env_set_maxreaders(w->env, STATUS_MAXREADERS);
	mdb_env_set_mapsize(w->env, STATUS_MAPSIZE);
	if ((rc = mdb_env_open(w->env, w->dir, MDB_NOSYNC | MDB_NOMETASYNC, 0664)))
		return rc;
	mdb_filehandle_t fd;
	if (mdb_env_get_fd(w->env, &fd) == 0)
		os_cloexec(fd);         /* LMDB leaves the data fd inheritable; jobs must not get it */
	int dead;
	mdb_reader_check(w->env, &dead);
	if ((rc = mdb_txn_begin(w->env, NULL, 0, &txn)))
		return rc;
	for (int i = 0; i < DB_COUNT; i++)
		if ((rc = mdb_dbi_open(txn, db_names[i], MDB_CREATE, &w->dbi[i])))
			goto fail;
	struct rill_status_rec_schema sch;
	MDB_val key = {6, "schema"}, val;
	rc = mdb_get(txn, w->dbi[DB_META], &key, &val);
	if (rc && rc != MDB_NOTFOUND)
		goto fail;
	memset(&sch, 0, sizeof(sch));
	if (rc == 0)
		memcpy(&sch, val.mv_data, val.mv_size < sizeof(sch) ? val.mv_size : sizeof(sch));
	w->wipe_all = sch.magic != RILL_STATUS_MAGIC || sch.version != RILL_STATUS_SCHEMA_VERSION;
	w->next_seq = 1;
	if (!w->wipe_all) {
		MDB_cursor *c;
		if ((rc = mdb_cursor_open(txn, w->dbi[DB_MESSAGES], &c)))
			goto fail;
		rc = mdb_cursor_get(c, &key, &val, MDB_LAST);
		if (rc == 0 && key.mv_size == 8)
			w->next_seq = get_be64(key.mv_data) + 1;
		mdb_cursor_close(c);
		if (rc && rc != MDB_NOTFOUND)
			goto fail;
	}
	return mdb_txn_commit(txn);     /* commit: the DBI handles stay valid */
fail:
	mdb_txn_abort(txn);
	return rc;
}

static int env_open(struct status_writer *w, struct error *err)
{
	int rc = env_open_once(w);
	if (rc && env_broken(rc)) {
		/* Damaged (OS crash with MDB_NOSYNC) or an incompatible layout: the table holds no
		 * durable data, so rebuild it. We hold backend.lock: no other writer exists. */
		mdb_env_close(w->env);
		w->env = NULL;
		char *data = xasprintf("%s/data.mdb", w->dir), *lock = xasprintf("%s/lock.mdb", w->dir);
		unlink(data);
		unlink(lock);
		free(data);
		free(lock);
		rc = env_open_once(w);
	}
	if (rc)
		return error_set(err, "%s: cannot open the status table: %s", w->dir, mdb_strerror(rc));
	return 0;
}

static void writer_free(struct status_writer *w)
{
	for (struct status_writer **p = &open_writers; *p; p = &(*p)->next_open) {
		if (*p == w) {
			*p = w->next_open;
			break;
		}
	}
	if (w->env)
		mdb_env_close(w->env);
	if (w->lock_fd >= 0)
		close(w->lock_fd);      /* releases the lock: readers now see no backend */
	for (size_t i = 0; i < w->nel; i++) {
		free(w->el[i].name);
		free(w->el[i].key);
	}
	for (size_t i = 0; i < w->njob; i++) {
		free(w->job[i].action);
		free(w->job[i].log_path);
		free(w->job[i].last_line);
	}
	for (size_t i = 0; i < w->nqueue; i++) {
		free(w->queue[i].action);
		free(w->queue[i].complete_name);
	}
	for (size_t i = 0; i < w->nmsg; i++)
		message_free(&w->msg[i]);
	free(w->el);
	free(w->dirty_el);
	free(w->job);
	free(w->dirty_job);
	free(w->del_job);
	free(w->finished);
	free(w->queue);
	free(w->msg);
	free(w->command);
	free(w->project);
	free(w->project_dir);
	free(w->targets);
	free(w->error);
	buf_release(&w->scratch);
	free(w->dir);
	free(w);
}

static uint64_t random_id(void)
{
	uint64_t id = 0;
	if (getrandom(&id, sizeof(id), 0) != (ssize_t)sizeof(id))
		id = (uint64_t)os_now_real_ns() ^ ((uint64_t)getpid() << 32);
	return id ? id : 1;
}

struct status_writer *status_open(const char *dir, const struct status_session_info *info,
				  struct error *err)
{
	struct status_writer *w = xcalloc(1, sizeof(*w));
	w->dir = xstrdup(dir);
	w->lock_fd = -1;
	w->owner = getpid();
	if (os_mkdir_p(dir, err) || lock_take(w, err) || env_open(w, err))
		goto fail;
	w->command = xstrdup(info->command ? info->command : "");
	w->project = xstrdup(info->project ? info->project : "");
	w->project_dir = xstrdup(info->project_dir ? info->project_dir : "");
	w->targets = xstrdup(info->targets ? info->targets : "");
	w->error = xstrdup("");
	w->ses.session_id = info->session_id ? info->session_id : random_id();
	w->ses.backend_pid = (int32_t)getpid();
	w->ses.state = RILL_SESSION_STARTING;
	w->ses.start_ns = os_now_real_ns();
	w->ses.session_seq = w->next_seq;       /* this session's messages start here */
	w->reset_pending = w->pending = true;
	w->last_check_mono = os_now_mono_ns();
	if (status_commit(w, err))
		goto fail;
	w->next_open = open_writers;
	open_writers = w;
	return w;
fail:
	writer_free(w);
	return NULL;
}

uint64_t status_session_id(const struct status_writer *w)
{
	return w->ses.session_id;
}

void status_close(struct status_writer *w)
{
	if (!w)
		return;
	if (w->pending) {
		struct error err = ERROR_INIT;
		status_commit(w, &err);         /* nothing left to report it to */
		error_release(&err);
	}
	/* leave no dead reader's slot behind for the next session to find */
	int dead;
	mdb_reader_check(w->env, &dead);
	mdb_env_sync(w->env, 1);
	writer_free(w);
}
