/* test_archive — extraction of tar.gz, tar.xz and zip archives with base-dir, refusal of hostile
 * archives (leaving the destination untouched), and archive_write_tar round trips.
 * SPDX-License-Identifier: Apache-2.0 */
#include "test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cache/archive.h"

#include <archive.h>
#include <archive_entry.h>

enum kind {
	TAR_GZ,
	TAR_XZ,
	ZIP,
};

/* One archive member: type 'f' file (data), 'd' directory, 'l' symlink (data = target),
 * 'h' hard link (data = target name), 'p' fifo, 'c' character device. */
struct member {
	char type;
	const char *name;
	const char *data;
	int mode;
};

static char *tmp_root;

static char *path_in(const char *rel)
{
	return xasprintf("%s/%s", tmp_root, rel);
}

static void write_archive(const char *path, enum kind kind, const struct member *m, size_t n)
{
	struct archive *a = archive_write_new();
	size_t i;
	if (kind == ZIP) {
		archive_write_set_format_zip(a);
	} else {
		archive_write_set_format_pax_restricted(a);
		if (kind == TAR_GZ)
			archive_write_add_filter_gzip(a);
		else
			archive_write_add_filter_xz(a);
	}
	if (archive_write_open_filename(a, path) != ARCHIVE_OK) {
		printf("  cannot write %s: %s\n", path, archive_error_string(a));
		exit(1);
	}
	for (i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		size_t len = m[i].data ? strlen(m[i].data) : 0;
		archive_entry_set_pathname(e, m[i].name);
		archive_entry_set_mtime(e, 1000000000, 0);
		switch (m[i].type) {
		case 'f':
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_perm(e, m[i].mode ? m[i].mode : 0644);
			archive_entry_set_size(e, (la_int64_t)len);
			break;
		case 'd':
			archive_entry_set_filetype(e, AE_IFDIR);
			archive_entry_set_perm(e, m[i].mode ? m[i].mode : 0755);
			break;
		case 'l':
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_perm(e, 0777);
			archive_entry_set_symlink(e, m[i].data);
			len = 0;
			break;
		case 'h':
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_perm(e, 0644);
			archive_entry_set_hardlink(e, m[i].data);
			len = 0;
			break;
		case 'p':
			archive_entry_set_filetype(e, AE_IFIFO);
			archive_entry_set_perm(e, 0644);
			break;
		case 'c':
			archive_entry_set_filetype(e, AE_IFCHR);
			archive_entry_set_perm(e, 0644);
			archive_entry_set_rdev(e, makedev(1, 3));
			break;
		}
		archive_write_header(a, e);
		if (len)
			archive_write_data(a, m[i].data, len);
		archive_entry_free(e);
	}
	archive_write_close(a);
	archive_write_free(a);
}

static void rm_rf(const char *path)
{
	char *cmd = xasprintf("chmod -R u+rwx '%s' 2>/dev/null; rm -rf '%s'", path, path);
	if (system(cmd) != 0)
		printf("  could not remove %s\n", path);
	free(cmd);
}

/* Entries in dir (excluding . and ..), -1 when unreadable. */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;
	if (!d)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static char *slurp(const char *path)
{
	struct buf b = BUF_INIT;
	struct error err = ERROR_INIT;
	if (read_file(path, &b, &err) != 0) {
		error_release(&err);
		return NULL;
	}
	return buf_detach(&b);
}

static int check_file(const char *dir, const char *rel, const char *content)
{
	char *p = xasprintf("%s/%s", dir, rel), *got = slurp(p);
	int ok = got && strcmp(got, content) == 0;
	if (!ok)
		printf("  %s: expected \"%s\", got \"%s\"\n", p, content, got ? got : "(unreadable)");
	free(got);
	free(p);
	return ok;
}

static int mode_of(const char *dir, const char *rel)
{
	char *p = xasprintf("%s/%s", dir, rel);
	struct stat st;
	int r = lstat(p, &st) == 0 ? (int)st.st_mode : -1;
	free(p);
	return r;
}

static char *link_of(const char *dir, const char *rel)
{
	char *p = xasprintf("%s/%s", dir, rel), target[4096];
	ssize_t n = readlink(p, target, sizeof(target) - 1);
	free(p);
	if (n < 0)
		return NULL;
	target[n] = '\0';
	return xstrdup(target);
}

/* A fresh empty directory under tmp_root. */
static char *fresh_dir(const char *name)
{
	char *p = path_in(name);
	rm_rf(p);
	if (mkdir(p, 0755) != 0)
		printf("  mkdir %s: %s\n", p, strerror(errno));
	return p;
}

static const struct member good_tree[] = {
	{'d', "proj-1.0/", NULL, 0},
	{'f', "proj-1.0/a.txt", "A", 0},
	{'d', "proj-1.0/bin", NULL, 0},
	{'f', "proj-1.0/bin/run", "#!/bin/sh\n", 0755},
	{'l', "proj-1.0/lnk", "a.txt", 0},
	{'l', "proj-1.0/abs", "/etc/passwd", 0},
	{'l', "proj-1.0/up", "../../outside", 0},
	{'h', "proj-1.0/hl", "proj-1.0/a.txt", 0},
};

static void check_good_tree(const char *dest, int zip)
{
	char *t;
	CHECK(check_file(dest, "a.txt", "A"));
	CHECK(check_file(dest, "bin/run", "#!/bin/sh\n"));
	CHECK((mode_of(dest, "bin/run") & 0777) == (zip ? 0644 : 0755));
	CHECK((mode_of(dest, "a.txt") & 0777) == 0644);
	CHECK(S_ISDIR(mode_of(dest, "bin")));
	if (!zip) {
		CHECK(S_ISLNK(mode_of(dest, "lnk")));
		CHECK_STR((t = link_of(dest, "lnk")), "a.txt");
		free(t);
		CHECK_STR((t = link_of(dest, "abs")), "/etc/passwd");
		free(t);
		CHECK_STR((t = link_of(dest, "up")), "../../outside");
		free(t);
		CHECK(check_file(dest, "hl", "A"));
	}
}

static void extract_tar_gz_base_dir(void)
{
	char *arch = path_in("good.tar.gz"), *dest = fresh_dir("dest");
	struct error err = ERROR_INIT;
	write_archive(arch, TAR_GZ, good_tree, ARRAY_SIZE(good_tree));
	CHECK(archive_extract(arch, dest, "*", &err) == 0);
	CHECK(err.msg == NULL);
	check_good_tree(dest, 0);
	CHECK(mode_of(dest, "proj-1.0") == -1);
	/* no temporary directory left beside dest */
	CHECK(count_entries(tmp_root) == 2);
	error_release(&err);

	/* a pattern naming the directory explicitly */
	free(dest);
	dest = fresh_dir("dest");
	CHECK(archive_extract(arch, dest, "proj-*", &err) == 0);
	check_good_tree(dest, 0);
	error_release(&err);
	free(dest);
	free(arch);
}

static void extract_whole_archive(void)
{
	char *arch = path_in("good.tar.gz"), *dest = fresh_dir("dest"), *sub;
	struct error err = ERROR_INIT;
	write_archive(arch, TAR_GZ, good_tree, ARRAY_SIZE(good_tree));
	CHECK(archive_extract(arch, dest, "", &err) == 0);
	sub = xasprintf("%s/proj-1.0", dest);
	check_good_tree(sub, 0);
	free(sub);
	CHECK(count_entries(dest) == 1);
	free(dest);
	dest = fresh_dir("dest");
	CHECK(archive_extract(arch, dest, NULL, &err) == 0);
	CHECK(check_file(dest, "proj-1.0/a.txt", "A"));
	error_release(&err);
	free(dest);
	free(arch);
}

static void extract_tar_xz_implied_dirs(void)
{
	/* no directory entries, "./" prefixes: the base directory is implied by the files */
	static const struct member m[] = {
		{'f', "./top/x/y.txt", "Y", 0},
		{'f', "./top/z.txt", "Z", 0},
		{'f', "./aaa.txt", "no dir", 0},
	};
	char *arch = path_in("implied.tar.xz"), *dest = fresh_dir("dest");
	struct error err = ERROR_INIT;
	write_archive(arch, TAR_XZ, m, ARRAY_SIZE(m));
	CHECK(archive_extract(arch, dest, "*", &err) == 0);
	CHECK(check_file(dest, "x/y.txt", "Y"));
	CHECK(check_file(dest, "z.txt", "Z"));
	CHECK(count_entries(dest) == 2);
	/* a pattern one level down picks the first matching directory below top */
	free(dest);
	dest = fresh_dir("dest");
	CHECK(archive_extract(arch, dest, "top/*", &err) == 0);
	CHECK(check_file(dest, "y.txt", "Y"));
	CHECK(count_entries(dest) == 1);
	/* no match */
	free(dest);
	dest = fresh_dir("dest");
	CHECK(archive_extract(arch, dest, "nothing*", &err) == -1);
	CHECK(err.msg && strstr(err.msg, "Could not find base directory matching pattern: nothing*"));
	CHECK(err.msg && strstr(err.msg, arch));
	CHECK(count_entries(dest) == 0);
	error_release(&err);
	free(dest);
	free(arch);
}

static void extract_zip(void)
{
	static const struct member m[] = {
		{'d', "pkg/", NULL, 0},
		{'d', "pkg/bin/", NULL, 0},
		{'f', "pkg/a.txt", "A", 0},
		{'f', "pkg/bin/run", "#!/bin/sh\n", 0755},
	};
	char *arch = path_in("good.zip"), *dest = fresh_dir("dest");
	struct error err = ERROR_INIT;
	write_archive(arch, ZIP, m, ARRAY_SIZE(m));
	CHECK(archive_extract(arch, dest, "*", &err) == 0);
	CHECK(err.msg == NULL);
	check_good_tree(dest, 1);
	CHECK((mode_of(dest, "bin") & 0777) == 0755);
	error_release(&err);
	free(dest);
	free(arch);
}

static void extract_merges_into_existing(void)
{
	char *arch = path_in("good.tar.gz"), *dest = fresh_dir("dest"), *p;
	struct error err = ERROR_INIT;
	FILE *f;
	write_archive(arch, TAR_GZ, good_tree, ARRAY_SIZE(good_tree));
	p = xasprintf("%s/bin", dest);
	mkdir(p, 0755);
	free(p);
	p = xasprintf("%s/bin/other", dest);
	f = fopen(p, "w");
	fputs("O", f);
	fclose(f);
	free(p);
	p = xasprintf("%s/a.txt", dest);
	f = fopen(p, "w");
	fputs("old", f);
	fclose(f);
	free(p);
	CHECK(archive_extract(arch, dest, "*", &err) == 0);
	CHECK(check_file(dest, "bin/other", "O"));
	check_good_tree(dest, 0);
	error_release(&err);
	free(dest);
	free(arch);
}

/* The archive must be refused with a message naming it and the entry; dest keeps exactly its
 * one marker file; nothing appears beside dest or in the outside directory. */
static int refused(const char *name, enum kind kind, const struct member *m, size_t n, const char *base,
		   const char *entry, const char *why)
{
	char *arch = path_in(name), *dest = fresh_dir("dest"), *outside = fresh_dir("outside");
	char *marker = xasprintf("%s/keep", dest);
	struct error err = ERROR_INIT;
	FILE *f = fopen(marker, "w");
	int ok = 1;
	fputs("K", f);
	fclose(f);
	write_archive(arch, kind, m, n);
	if (archive_extract(arch, dest, base, &err) != -1) {
		printf("  %s: extraction succeeded\n", name);
		ok = 0;
	} else if (!err.msg || !strstr(err.msg, arch) || !strstr(err.msg, entry) || !strstr(err.msg, why)) {
		printf("  %s: unexpected message: %s\n", name, err.msg ? err.msg : "(none)");
		ok = 0;
	}
	if (count_entries(dest) != 1 || !check_file(dest, "keep", "K")) {
		printf("  %s: dest changed\n", name);
		ok = 0;
	}
	if (count_entries(outside) != 0) {
		printf("  %s: something was written outside\n", name);
		ok = 0;
	}
	/* tmp_root holds the archives, dest and outside: no temporary directory left */
	{
		DIR *d = opendir(tmp_root);
		struct dirent *de;
		while (d && (de = readdir(d)) != NULL)
			if (strncmp(de->d_name, ".rill-extract", 13) == 0) {
				printf("  %s: temporary directory %s left\n", name, de->d_name);
				ok = 0;
			}
		if (d)
			closedir(d);
	}
	error_release(&err);
	free(marker);
	free(outside);
	free(dest);
	free(arch);
	return ok;
}

static void refuse_dotdot(void)
{
	static const struct member m[] = {
		{'d', "top/", NULL, 0},
		{'f', "top/fine", "F", 0},
		{'f', "../evil", "E", 0},
	};
	static const struct member deep[] = {
		{'f', "top/a/../../outside/evil", "E", 0},
	};
	CHECK(refused("dotdot.tar.gz", TAR_GZ, m, ARRAY_SIZE(m), "", "../evil", "'..'"));
	CHECK(refused("dotdot2.tar.gz", TAR_GZ, m, ARRAY_SIZE(m), "*", "../evil", "'..'"));
	CHECK(refused("deep.tar.xz", TAR_XZ, deep, ARRAY_SIZE(deep), "*", "top/a/../../outside/evil", "'..'"));
	CHECK(refused("dotdot.zip", ZIP, m, ARRAY_SIZE(m), "", "../evil", "'..'"));
}

static void refuse_absolute(void)
{
	char *abs_name = xasprintf("%s/outside/abs", tmp_root);
	struct member m[] = {
		{'f', "top/fine", "F", 0},
		{'f', abs_name, "E", 0},
	};
	CHECK(refused("abs.tar.gz", TAR_GZ, m, ARRAY_SIZE(m), "", abs_name, "absolute"));
	CHECK(refused("abs.zip", ZIP, m, ARRAY_SIZE(m), "", abs_name, "absolute"));
	free(abs_name);
}

static void refuse_through_symlink(void)
{
	char *outside = xasprintf("%s/outside", tmp_root);
	struct member m[] = {
		{'d', "top/", NULL, 0},
		{'l', "top/link", outside, 0},
		{'f', "top/link/file", "E", 0},
	};
	struct member rel[] = {
		{'l', "link", "../outside", 0},
		{'f', "link/file", "E", 0},
	};
	struct member tmp_link[] = {
		{'l', "link", "/tmp", 0},
		{'f', "link/rill-test-archive-evil", "E", 0},
	};
	struct member hard_via[] = {
		{'d', "top/", NULL, 0},
		{'l', "top/link", outside, 0},
		{'h', "top/h", "top/link/x", 0},
	};
	CHECK(refused("symlink.tar.gz", TAR_GZ, m, ARRAY_SIZE(m), "*", "top/link/file", "symbolic link 'link'"));
	CHECK(refused("symlink2.tar.gz", TAR_GZ, m, ARRAY_SIZE(m), "", "top/link/file",
		      "symbolic link 'top/link'"));
	CHECK(refused("symlink3.tar.xz", TAR_XZ, rel, ARRAY_SIZE(rel), "", "link/file", "symbolic link"));
	CHECK(refused("symlink4.tar.gz", TAR_GZ, tmp_link, ARRAY_SIZE(tmp_link), "", "link/rill-test-archive-evil",
		      "symbolic link"));
	CHECK(access("/tmp/rill-test-archive-evil", F_OK) != 0);
	CHECK(refused("hardvia.tar.gz", TAR_GZ, hard_via, ARRAY_SIZE(hard_via), "*", "top/h", "symbolic link"));
	free(outside);
}

static void refuse_hardlink_outside(void)
{
	static const struct member m[] = {
		{'d', "top/", NULL, 0},
		{'h', "top/x", "../x", 0},
	};
	static const struct member abs_target[] = {
		{'h', "x", "/etc/passwd", 0},
	};
	static const struct member outside_base[] = {
		{'f', "other/secret", "S", 0},
		{'d', "top/", NULL, 0},
		{'h', "top/x", "other/secret", 0},
	};
	CHECK(refused("hard.tar.gz", TAR_GZ, m, ARRAY_SIZE(m), "", "top/x", "hard link to '../x'"));
	CHECK(refused("hardabs.tar.gz", TAR_GZ, abs_target, ARRAY_SIZE(abs_target), "", "'x'", "/etc/passwd"));
	CHECK(refused("hardbase.tar.gz", TAR_GZ, outside_base, ARRAY_SIZE(outside_base), "top", "top/x",
		      "outside the extracted tree"));
}

static void refuse_devices(void)
{
	static const struct member fifo[] = {
		{'d', "top/", NULL, 0},
		{'p', "top/fifo", NULL, 0},
	};
	static const struct member dev[] = {
		{'c', "top/null", NULL, 0},
	};
	CHECK(refused("fifo.tar.gz", TAR_GZ, fifo, ARRAY_SIZE(fifo), "*", "top/fifo", "fifo"));
	CHECK(refused("dev.tar.xz", TAR_XZ, dev, ARRAY_SIZE(dev), "", "top/null", "device"));
}

static void not_an_archive(void)
{
	char *arch = path_in("junk.tar.gz"), *dest = fresh_dir("dest");
	struct error err = ERROR_INIT;
	FILE *f = fopen(arch, "w");
	fputs("this is not an archive\n", f);
	fclose(f);
	CHECK(archive_extract(arch, dest, "", &err) == -1);
	CHECK(err.msg && strstr(err.msg, arch));
	CHECK(count_entries(dest) == 0);
	error_release(&err);
	CHECK(archive_extract("/nonexistent/x.tar", dest, "", &err) == -1);
	CHECK(err.msg && strstr(err.msg, "/nonexistent/x.tar"));
	error_release(&err);
	free(dest);
	free(arch);
}

static void write_tar_round_trip(void)
{
	char *src = fresh_dir("tree"), *tarp = path_in("out.tar"), *dest = fresh_dir("dest"), *p, *t;
	struct error err = ERROR_INIT;
	FILE *f;
	int saved, fd;
	p = xasprintf("%s/sub", src);
	mkdir(p, 0750);
	free(p);
	p = xasprintf("%s/sub/tool", src);
	f = fopen(p, "w");
	fputs("T", f);
	fclose(f);
	chmod(p, 0755);
	free(p);
	p = xasprintf("%s/plain", src);
	f = fopen(p, "w");
	fputs("P", f);
	fclose(f);
	chmod(p, 0640);
	free(p);
	p = xasprintf("%s/link", src);
	CHECK(symlink("sub/tool", p) == 0);
	free(p);
	CHECK(archive_write_tar(src, tarp, &err) == 0);
	CHECK(err.msg == NULL);
	CHECK(archive_extract(tarp, dest, "", &err) == 0);
	CHECK(check_file(dest, "sub/tool", "T"));
	CHECK(check_file(dest, "plain", "P"));
	CHECK((mode_of(dest, "sub/tool") & 0777) == 0755);
	CHECK((mode_of(dest, "plain") & 0777) == 0640);
	CHECK((mode_of(dest, "sub") & 0777) == 0750);
	CHECK_STR((t = link_of(dest, "link")), "sub/tool");
	free(t);
	p = xasprintf("%s.tmp.%ld", tarp, (long)getpid());
	CHECK(access(p, F_OK) != 0);
	free(p);

	/* "-" writes to standard output */
	p = path_in("stdout.tar");
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	dup2(fd, STDOUT_FILENO);
	close(fd);
	CHECK(archive_write_tar(src, "-", &err) == 0);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	free(dest);
	dest = fresh_dir("dest");
	CHECK(archive_extract(p, dest, "", &err) == 0);
	CHECK(check_file(dest, "sub/tool", "T"));
	free(p);

	/* a missing directory is an error and leaves no output */
	p = xasprintf("%s/missing", tmp_root);
	CHECK(archive_write_tar(p, tarp, &err) == -1);
	CHECK(err.msg && strstr(err.msg, p));
	free(p);
	error_release(&err);
	free(dest);
	free(tarp);
	free(src);
}

int main(void)
{
	char tmpl[] = "/tmp/rill-test-archive-XXXXXX";
	if (!mkdtemp(tmpl))
		return 1;
	tmp_root = tmpl;
	RUN(extract_tar_gz_base_dir);
	RUN(extract_whole_archive);
	RUN(extract_tar_xz_implied_dirs);
	RUN(extract_zip);
	RUN(extract_merges_into_existing);
	RUN(refuse_dotdot);
	RUN(refuse_absolute);
	RUN(refuse_through_symlink);
	RUN(refuse_hardlink_outside);
	RUN(refuse_devices);
	RUN(not_an_archive);
	RUN(write_tar_round_trip);
	rm_rf(tmp_root);
	TEST_MAIN_END();
}
