/* driver — runs a fuzz harness over files without libFuzzer, so that `make check` replays the
 * seed corpus and every input that once found a bug (tests/fuzz/regress/NAME/) with gcc and the
 * sanitizers of the build. Usage: PROG [FILE|DIR]...; with none, the program's own
 * tests/fuzz/corpus/NAME and tests/fuzz/regress/NAME, NAME from its file name (regress-NAME).
 * A harness that aborts fails the run; otherwise one "ok" line per directory.
 * SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data;
	long n;
	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		printf("FAIL %s: cannot read\n", path);
		if (f)
			fclose(f);
		return -1;
	}
	data = malloc((size_t)n + 1);
	if (fread(data, 1, (size_t)n, f) != (size_t)n) {
		printf("FAIL %s: cannot read\n", path);
		fclose(f);
		free(data);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(data, (size_t)n);
	free(data);
	return 0;
}

static int cmp(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Every regular file of dir (sorted, so that a failure is reproducible); -1 when dir is missing. */
static long run_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL, path[PATH_MAX];
	size_t n = 0, cap = 0, i;
	long done = 0;
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap)
			names = realloc(names, (cap = cap ? 2 * cap : 64) * sizeof(*names));
		names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp);
	for (i = 0; i < n; i++) {
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && run_file(path) == 0)
			done++;
		free(names[i]);
	}
	free(names);
	return done;
}

int main(int argc, char **argv)
{
	const char *base = strrchr(argv[0], '/');
	const char *name = base ? base + 1 : argv[0];
	char dir[PATH_MAX];
	int i;
	if (strncmp(name, "regress-", 8) == 0)
		name += 8;
	if (argc > 1) {
		for (i = 1; i < argc; i++) {
			struct stat st;
			if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
				printf("ok %s: %ld inputs of %s\n", name, run_dir(argv[i]), argv[i]);
			else if (run_file(argv[i]) == 0)
				printf("ok %s: %s\n", name, argv[i]);
		}
		return 0;
	}
	static const char *const kinds[] = {"corpus", "regress"};
	for (i = 0; i < 2; i++) {
		long done;
		const char *top = getenv("RILL_TOP");
		snprintf(dir, sizeof(dir), "%s/tests/fuzz/%s/%s", top ? top : ".", kinds[i], name);
		done = run_dir(dir);
		if (done < 0)
			printf("FAIL %s: no directory %s\n", name, dir);
		else
			printf("ok fuzz-%s: the %ld %s inputs run clean\n", name, done, kinds[i]);
	}
	return 0;
}
