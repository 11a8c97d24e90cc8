/* fuzz_status — the status-table reader (librillstatus) on records it did not expect: short,
 * of another size, without their strings' NULs, with huge detail lengths or missing detail
 * chunks. The harness owns a table in a temporary directory; each input is a list of records
 *   [db][flags][key length][key][value length, 2 bytes little-endian][value]
 * (db 0 meta, 1 elements, 2 jobs, 3 queues, 4 messages, 5 details; flags bit 0 puts a correct
 * {version, size} header before the value so that mutations reach the fields and strings).
 * They replace the table's content in one write transaction; then the reader reads it all the
 * ways a frontend does. Invariant: every string handed out is NUL-terminated within its field.
 * SPDX-License-Identifier: Apache-2.0 */
#include "fuzz.h"

#include <lmdb.h>
#include <unistd.h>

#include "rill-status.h"

enum { NDB = 6 };
static const char *const dbs[NDB] = {"meta", "elements", "jobs", "queues", "messages", "details"};
static const uint32_t fixed[NDB] = {
	sizeof(struct rill_status_rec_session), sizeof(struct rill_status_rec_element),
	sizeof(struct rill_status_rec_job), sizeof(struct rill_status_rec_queue),
	sizeof(struct rill_status_rec_message), 0,
};

static MDB_env *env;
static MDB_dbi dbi[NDB];
static struct rill_status *reader;

#define BOUNDED(field) FUZZ_ASSERT(memchr((field), '\0', sizeof(field)) != NULL, "%s not terminated", #field)

static void on_session(void *ctx, const struct rill_status_session *s)
{
	(void)ctx;
	BOUNDED(s->command);
	BOUNDED(s->project);
	BOUNDED(s->project_dir);
	BOUNDED(s->targets);
	BOUNDED(s->error);
	FUZZ_ASSERT(rill_session_state_name(s->state) != NULL, "state name");
	(void)rill_status_session_elapsed(s, rill_status_now());
}

static int on_element(void *ctx, const struct rill_status_element *e)
{
	(void)ctx;
	BOUNDED(e->name);
	BOUNDED(e->key);
	BOUNDED(e->action);
	FUZZ_ASSERT(rill_element_state_name(e->state) != NULL, "element state name");
	return 0;
}

static int on_job(void *ctx, const struct rill_status_job *j)
{
	(void)ctx;
	BOUNDED(j->action);
	BOUNDED(j->element_name);
	BOUNDED(j->log_path);
	BOUNDED(j->last_line);
	FUZZ_ASSERT(rill_job_result_name(j->result) != NULL, "job result name");
	return 0;
}

static int on_queue(void *ctx, const struct rill_status_queue *q)
{
	(void)ctx;
	BOUNDED(q->action);
	BOUNDED(q->complete_name);
	return 0;
}

static int on_message(void *ctx, const struct rill_status_message *m)
{
	(void)ctx;
	BOUNDED(m->element_name);
	BOUNDED(m->action);
	BOUNDED(m->text);
	FUZZ_ASSERT(m->detail_len < sizeof(m->detail) && m->detail[m->detail_len] == '\0', "detail length");
	FUZZ_ASSERT(rill_message_type_name(m->type) != NULL, "message type name");
	return 0;
}

static void setup(void)
{
	char dir[] = "/tmp/rill-fuzz-status-XXXXXX", errbuf[512];
	struct rill_status_rec_schema sch = {0, sizeof(sch), RILL_STATUS_MAGIC, 0};
	MDB_txn *txn;
	MDB_val key = {6, "schema"}, val = {sizeof(sch), &sch};
	int i;
	sch.version = RILL_STATUS_SCHEMA_VERSION;
	FUZZ_ASSERT(mkdtemp(dir), "mkdtemp");
	FUZZ_ASSERT(mdb_env_create(&env) == 0, "env");
	mdb_env_set_maxdbs(env, 8);
	mdb_env_set_maxreaders(env, 126);
	mdb_env_set_mapsize(env, 64 << 20);
	FUZZ_ASSERT(mdb_env_open(env, dir, MDB_NOSYNC, 0600) == 0, "open %s", dir);
	FUZZ_ASSERT(mdb_txn_begin(env, NULL, 0, &txn) == 0, "txn");
	for (i = 0; i < NDB; i++)
		FUZZ_ASSERT(mdb_dbi_open(txn, dbs[i], MDB_CREATE, &dbi[i]) == 0, "dbi");
	FUZZ_ASSERT(mdb_put(txn, dbi[0], &key, &val, 0) == 0, "schema");
	FUZZ_ASSERT(mdb_txn_commit(txn) == 0, "commit");
	reader = rill_status_open(dir, errbuf, sizeof(errbuf));
	FUZZ_ASSERT(reader, "reader: %s", errbuf);
	/* The table lives as long as the process; the directory can go now (the maps stay). */
	{
		char path[sizeof(dir) + 16];
		snprintf(path, sizeof(path), "%s/data.mdb", dir);
		unlink(path);
		snprintf(path, sizeof(path), "%s/lock.mdb", dir);
		unlink(path);
		rmdir(dir);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	MDB_txn *txn;
	struct rill_status_visitor v = {on_session, on_element, on_job, on_queue, on_message, 0, 0};
	struct rill_status_session ses;
	uint8_t value[4096];
	int i;
	if (!env)
		setup();
	FUZZ_ASSERT(mdb_txn_begin(env, NULL, 0, &txn) == 0, "txn");
	for (i = 0; i < NDB; i++)
		mdb_drop(txn, dbi[i], 0);
	{
		struct rill_status_rec_schema sch = {RILL_STATUS_SCHEMA_VERSION, sizeof(sch), RILL_STATUS_MAGIC, 0};
		MDB_val key = {6, "schema"}, val = {sizeof(sch), &sch};
		mdb_put(txn, dbi[0], &key, &val, 0);
	}
	while (end - p >= 5) {
		unsigned db = p[0] % NDB, flags = p[1], klen = p[2] % 17;
		size_t vlen, off = 0;
		MDB_val key, val;
		p += 3;
		if ((size_t)(end - p) < klen + 2)
			break;
		key.mv_data = (void *)p;
		key.mv_size = klen;
		p += klen;
		vlen = (size_t)p[0] | (size_t)p[1] << 8;
		p += 2;
		if (vlen > (size_t)(end - p))
			vlen = (size_t)(end - p);
		if (vlen > sizeof(value) - 8)
			vlen = sizeof(value) - 8;
		if ((flags & 1) && fixed[db]) {
			uint32_t h[2] = {RILL_STATUS_SCHEMA_VERSION, fixed[db]};
			memcpy(value, h, sizeof(h));
			off = sizeof(h);
		}
		memcpy(value + off, p, vlen);
		p += vlen;
		val.mv_data = value;
		val.mv_size = off + vlen;
		if (db == 0 && klen == 0) {     /* the session record, the one a reader always needs */
			key.mv_data = "session";
			key.mv_size = 7;
		}
		if (key.mv_size == 0)
			continue;
		mdb_put(txn, dbi[db], &key, &val, 0);
	}
	FUZZ_ASSERT(mdb_txn_commit(txn) == 0, "commit");
	(void)rill_status_changed(reader);
	if (rill_status_read(reader, &v, NULL) != 0)
		FUZZ_ASSERT(rill_status_error(reader)[0], "a failed read without an error");
	v.session = NULL;       /* the other records, also when the session record is bad */
	v.messages_after = 5;
	(void)rill_status_read(reader, &v, NULL);
	if (rill_status_session(reader, &ses) == 0)
		on_session(NULL, &ses);
	(void)rill_status_backend_alive(reader);
	return 0;
}
