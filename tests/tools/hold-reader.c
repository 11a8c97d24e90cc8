/* hold-reader — test helper for the status table. `hold-reader DIR` opens the table read-only,
 * begins a read transaction, prints "held" and waits (to be SIGKILLed inside it).
 * `hold-reader --slots DIR` prints how many reader slots belong to processes that are gone
 * (stale slots, which pin old pages until the writer clears them).
 * SPDX-License-Identifier: Apache-2.0 */
#include <lmdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int stale;

/* mdb_reader_list lines: "    pid     thread     txnid" */
static int count_stale(const char *line, void *ctx)
{
	long pid;
	(void)ctx;
	if (sscanf(line, "%ld", &pid) == 1 && pid > 0 && kill((pid_t)pid, 0) != 0)
		stale++;
	return 0;
}

int main(int argc, char **argv)
{
	MDB_env *env;
	MDB_txn *txn;
	int slots = argc == 3 && strcmp(argv[1], "--slots") == 0;
	const char *dir = argv[argc - 1];
	if (argc != 2 && !slots) {
		fprintf(stderr, "usage: hold-reader [--slots] STATUS_DIR\n");
		return 2;
	}
	if (mdb_env_create(&env) || (mdb_env_set_maxdbs(env, 8), mdb_env_set_maxreaders(env, 126),
				     mdb_env_open(env, dir, MDB_RDONLY, 0664))) {
		fprintf(stderr, "hold-reader: cannot open %s\n", dir);
		return 1;
	}
	if (slots) {
		mdb_reader_list(env, count_stale, NULL);
		printf("%d\n", stale);
		mdb_env_close(env);
		return 0;
	}
	if (mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) {
		fprintf(stderr, "hold-reader: cannot begin a read transaction\n");
		return 1;
	}
	printf("held\n");
	fflush(stdout);
	for (;;)
		pause();
}
