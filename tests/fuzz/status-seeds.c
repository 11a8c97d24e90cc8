/* status-seeds — writes seed inputs for fuzz_status from a real status table: every record of
 * every database in the harness's framing (see fuzz_status.c), one file for the whole table and
 * one per database. Usage: status-seeds STATUS_DIR OUT_DIR.
 * SPDX-License-Identifier: Apache-2.0 */
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const dbs[] = {"meta", "elements", "jobs", "queues", "messages", "details"};

static void frame(FILE *f, unsigned db, const MDB_val *k, const MDB_val *v)
{
	size_t n = v->mv_size > 65535 ? 65535 : v->mv_size;
	if (db == 0 && k->mv_size == 7 && memcmp(k->mv_data, "session", 7) == 0) {
		fputc(0, f), fputc(0, f), fputc(0, f);  /* key length 0: the session record */
	} else {
		fputc((int)db, f), fputc(0, f), fputc((int)k->mv_size, f);
		fwrite(k->mv_data, 1, k->mv_size, f);
	}
	fputc((int)(n & 0xff), f), fputc((int)(n >> 8), f);
	fwrite(v->mv_data, 1, n, f);
}

int main(int argc, char **argv)
{
	MDB_env *env;
	MDB_txn *txn;
	char path[4096];
	FILE *all, *one;
	unsigned i;
	if (argc != 3) {
		fprintf(stderr, "usage: status-seeds STATUS_DIR OUT_DIR\n");
		return 2;
	}
	if (mdb_env_create(&env) || (mdb_env_set_maxdbs(env, 8), mdb_env_set_maxreaders(env, 126),
				     mdb_env_open(env, argv[1], MDB_RDONLY, 0)) ||
	    mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) {
		fprintf(stderr, "status-seeds: cannot open %s\n", argv[1]);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/table", argv[2]);
	if (!(all = fopen(path, "wb")))
		return 1;
	for (i = 0; i < sizeof(dbs) / sizeof(dbs[0]); i++) {
		MDB_dbi dbi;
		MDB_cursor *c;
		MDB_val k, v;
		int rc, count = 0;
		if (mdb_dbi_open(txn, dbs[i], 0, &dbi) || mdb_cursor_open(txn, dbi, &c))
			continue;
		snprintf(path, sizeof(path), "%s/%s", argv[2], dbs[i]);
		if (!(one = fopen(path, "wb")))
			return 1;
		for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0 && k.mv_size <= 16;
		     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
			if (count++ < 40)
				frame(all, i, &k, &v);
			frame(one, i, &k, &v);
		}
		fclose(one);
		mdb_cursor_close(c);
	}
	fclose(all);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return 0;
}
