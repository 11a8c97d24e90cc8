/* test_spare — spare directories: a parked sysroot becomes a pile of empty directories, the
 * next build directory is that pile, mkdir takes from it, and what is not ours is refused.
 * SPDX-License-Identifier: Apache-2.0 */
#include "test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/osutil.h"
#include "cache/spare.h"

static char base[64];

static void put(const char *path, const char *content)
{
	FILE *f = fopen(path, "w");
	if (!f || fputs(content, f) < 0)
		printf("  cannot write %s\n", path);
	if (f)
		fclose(f);
}

/* Entries of dir, sorted by the shell's rules enough for these tests: "a b c " (static). */
static const char *ls(const char *dir)
{
	static char out[4096];
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort), i;
	out[0] = '\0';
	for (i = 0; i < n; i++) {
		if (strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, "..")) {
			strncat(out, names[i]->d_name, sizeof(out) - strlen(out) - 2);
			strcat(out, " ");
		}
		free(names[i]);
	}
	if (n >= 0)
		free(names);
	return n < 0 ? "(missing)" : out;
}

/* A sysroot as staging leaves it: directories 0755, files and a symlink. */
static void make_root(const char *dir)
{
	char *p;
	struct error err = ERROR_INIT;
	p = xasprintf("%s/root/usr/share/doc", dir);
	CHECK(os_mkdir_p(p, &err) == 0);
	free(p);
	p = xasprintf("%s/root/usr/share/doc/readme", dir);
	put(p, "hi");
	free(p);
	p = xasprintf("%s/root/bin", dir);
	CHECK(mkdir(p, 0755) == 0);
	free(p);
	p = xasprintf("%s/root/bin/sh", dir);
	CHECK(symlink("busybox", p) == 0);
	free(p);
	error_release(&err);
}

static void park_and_reuse(void)
{
	char *parent = xasprintf("%s/build", base), *dir = NULL, *dir2 = NULL, *p;
	struct spare_dirs sd, sd2;
	struct error err = ERROR_INIT;
	int fd;
	CHECK(os_mkdir_p(parent, &err) == 0);
	/* no pile yet: a new, empty build directory */
	CHECK(spare_new_dir(parent, "el", &sd, &dir, &err) == 0);
	CHECK(dir && strncmp(dir, parent, strlen(parent)) == 0 && strstr(dir, "/el-"));
	CHECK(sd.n == 0 && sd.dirfd >= 0);
	CHECK_STR(ls(dir), "");
	make_root(dir);
	/* root, usr, usr/share, usr/share/doc, bin: five spares, the files are gone */
	CHECK(spare_park(&sd, parent, dir, "root") == 0);
	CHECK(sd.dirfd < 0);
	CHECK_STR(ls(dir), "(missing)");
	p = xasprintf("%s/.spare", parent);
	CHECK(strncmp(ls(p), "5.el-", 5) == 0);
	free(p);

	/* the next build directory is the pile */
	CHECK(spare_new_dir(parent, "next", &sd2, &dir2, &err) == 0);
	CHECK(sd2.n == 5 && strstr(dir2, "/next-"));
	CHECK_STR(ls(dir2), "0 1 2 3 4 ");
	p = xasprintf("%s/.spare", parent);
	CHECK_STR(ls(p), "");
	free(p);
	fd = open(dir2, O_RDONLY | O_DIRECTORY);
	CHECK(spare_mkdirat(&sd2, fd, "root") == 0);
	CHECK(sd2.n == 4);
	/* something in the way: EEXIST, and the spare stays */
	CHECK(spare_mkdirat(&sd2, fd, "root") == -1 && errno == EEXIST);
	CHECK(sd2.n == 4);
	p = xasprintf("%s/root", dir2);
	CHECK_STR(ls(p), "");
	free(p);
	close(fd);
	/* a failed build keeps its directory, without the spares */
	spare_close(&sd2, 1);
	CHECK_STR(ls(dir2), "root ");
	free(dir);
	free(dir2);
	free(parent);
	error_release(&err);
}

static void refuses_foreign(void)
{
	char *parent = xasprintf("%s/build2", base), *dir = NULL, *p;
	struct spare_dirs sd;
	struct error err = ERROR_INIT;
	CHECK(os_mkdir_p(parent, &err) == 0);
	CHECK(spare_new_dir(parent, "el", &sd, &dir, &err) == 0);
	make_root(dir);
	/* a directory that staging would not have made (another mode) */
	p = xasprintf("%s/root/usr/private", dir);
	CHECK(mkdir(p, 0700) == 0);
	free(p);
	CHECK(spare_park(&sd, parent, dir, "root") == -1);
	p = xasprintf("%s/.spare", parent);
	CHECK(strcmp(ls(p), "") == 0 || strcmp(ls(p), "(missing)") == 0);
	free(p);
	CHECK(os_rm_rf(dir, &err) == 0);
	free(dir);
	free(parent);
	error_release(&err);
}

static void pile_limit(void)
{
	char *parent = xasprintf("%s/build3", base), *dirs[10], *p;
	struct spare_dirs sd[10];
	struct error err = ERROR_INIT;
	int i, parked = 0;
	CHECK(os_mkdir_p(parent, &err) == 0);
	/* ten builds at once: all make new directories; at most 8 piles are kept */
	for (i = 0; i < 10; i++) {
		CHECK(spare_new_dir(parent, "el", &sd[i], &dirs[i], &err) == 0);
		make_root(dirs[i]);
	}
	for (i = 0; i < 10; i++) {
		if (spare_park(&sd[i], parent, dirs[i], "root") == 0)
			parked++;
		else
			CHECK(os_rm_rf(dirs[i], &err) == 0);
		free(dirs[i]);
	}
	CHECK(parked == 8);
	p = xasprintf("%s/.spare", parent);
	CHECK(strlen(ls(p)) > 0);
	free(p);
	free(parent);
	error_release(&err);
}

int main(void)
{
	struct error err = ERROR_INIT;
	snprintf(base, sizeof(base), "/tmp/rill-test-spare-XXXXXX");
	if (!mkdtemp(base)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(park_and_reuse);
	RUN(refuses_foreign);
	RUN(pile_limit);
	if (os_rm_rf(base, &err))
		printf("  cleanup: %s\n", err.msg);
	error_release(&err);
	TEST_MAIN_END();
}
