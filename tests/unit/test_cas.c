/* test_cas — the artifact cache: commit, walk, stage (copy, hardlink, want/overlap), metadata,
 * dedup, fsck and repair, and commits SIGKILLed at random instants.
 * SPDX-License-Identifier: Apache-2.0 */
#include "test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cache/cas.h"
#include "base/osutil.h"

static char base[64];

static void put(const char *dir, const char *rel, const char *content, mode_t mode)
{
	char *path = xasprintf("%s/%s", dir, rel), *slash = strrchr(path, '/');
	struct error err = ERROR_INIT;
	int fd;
	*slash = '\0';
	if (os_mkdir_p(path, &err))
		printf("  %s\n", err.msg);
	*slash = '/';
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || os_write_all(fd, content, strlen(content)) || fchmod(fd, mode))
		printf("  cannot write %s\n", path);
	if (fd >= 0)
		close(fd);
	error_release(&err);
	free(path);
}

static void mkdirs(const char *dir, const char *rel)
{
	char *path = xasprintf("%s/%s", dir, rel);
	struct error err = ERROR_INIT;
	if (os_mkdir_p(path, &err))
		printf("  %s\n", err.msg);
	error_release(&err);
	free(path);
}

/* Contents of dir/rel, or "(missing)"; static buffer. */
static const char *slurp(const char *dir, const char *rel)
{
	static struct buf b = BUF_INIT;
	struct error err = ERROR_INIT;
	char *path = xasprintf("%s/%s", dir, rel);
	buf_reset(&b);
	if (read_file(path, &b, &err)) {
		buf_reset(&b);
		buf_adds(&b, "(missing)");
	}
	error_release(&err);
	free(path);
	return buf_str(&b);
}

static mode_t mode_of(const char *dir, const char *rel)
{
	char *path = xasprintf("%s/%s", dir, rel);
	struct stat st;
	mode_t m = lstat(path, &st) ? 0 : st.st_mode;
	free(path);
	return m;
}

static int count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		char *sub;
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		sub = xasprintf("%s/%s", dir, de->d_name);
		if (!lstat(sub, &st))
			n += S_ISDIR(st.st_mode) ? count_files(sub) : 1;
		free(sub);
	}
	closedir(d);
	return n;
}

static struct cas *open_store(const char *name)
{
	struct error err = ERROR_INIT;
	char *root = xasprintf("%s/%s", base, name);
	struct cas *c = cas_open(root, &err);
	if (!c)
		printf("  cas_open: %s\n", err.msg);
	error_release(&err);
	free(root);
	return c;
}

static int commit(struct cas *c, const char *element, const char *dir, const char *strong,
		  const char *weak)
{
	struct cas_meta m = {strong, weak, NULL, NULL, 0, NULL, NULL};
	struct error err = ERROR_INIT;
	int rc = cas_commit(c, "proj", element, dir, &m, &err);
	if (rc)
		printf("  cas_commit: %s\n", err.msg);
	error_release(&err);
	return rc;
}

static struct cas_artifact *open_art(struct cas *c, const char *element, const char *key)
{
	struct cas_artifact *a = NULL;
	struct error err = ERROR_INIT;
	if (cas_artifact_open(c, "proj", element, key, &a, &err))
		printf("  cas_artifact_open: %s\n", err.msg);
	error_release(&err);
	return a;
}

static int walk_line(void *ud, const struct cas_entry *e)
{
	struct buf *b = ud;
	static const char types[] = "fxld";
	buf_addf(b, "%c %s", types[e->type], e->path);
	if (e->type == CAS_SYMLINK)
		buf_addf(b, " -> %s", e->target);
	if (e->type == CAS_FILE || e->type == CAS_EXEC)
		buf_addf(b, " %llu", e->size);
	buf_addch(b, '\n');
	return 0;
}

static char *walk_text(struct cas *c, const struct cas_artifact *a)
{
	struct buf b = BUF_INIT;
	struct error err = ERROR_INIT;
	if (cas_artifact_walk(c, a, walk_line, &b, &err)) {
		buf_reset(&b);
		buf_addf(&b, "ERROR: %s", err.msg);
	}
	error_release(&err);
	return buf_detach(&b);
}

/* When set, stage() adds to this stager (whose dest is then the one that counts). */
static struct cas_stager *cur_stager;

static int stage(struct cas *c, const struct cas_artifact *a, const char *dest, int link,
		 int (*want)(void *, const char *), void (*overlap)(void *, const char *), void *ud,
		 char **errmsg)
{
	struct error err = ERROR_INIT;
	int rc = cur_stager ? cas_stager_add(cur_stager, a, link, want, overlap, ud, &err)
			    : cas_artifact_stage(c, a, dest, link, want, overlap, ud, &err);
	if (errmsg)
		*errmsg = rc ? xstrdup(err.msg) : NULL;
	else if (rc)
		printf("  cas_artifact_stage: %s\n", err.msg);
	error_release(&err);
	return rc;
}

/* The sample tree: files, an executable, a symlink, nested and empty directories, and a name
 * that needs escaping. */
static void sample_tree(const char *dir)
{
	put(dir, "a.txt", "hello\n", 0644);
	put(dir, "bin/tool", "#!/bin/sh\necho hi\n", 0755);
	char *link = xasprintf("%s/bin/link", dir);
	if (symlink("tool", link) != 0)
		printf("  symlink failed\n");
	free(link);
	mkdirs(dir, "empty");
	put(dir, "nested/deep/er/file.txt", "deep", 0600);
	put(dir, "we ird\tname\n", "odd\n", 0644);
}

static const char sample_walk[] =
	"f a.txt 6\n"
	"d bin\n"
	"l bin/link -> tool\n"
	"x bin/tool 18\n"
	"d empty\n"
	"d nested\n"
	"d nested/deep\n"
	"d nested/deep/er\n"
	"f nested/deep/er/file.txt 4\n"
	"f we ird\tname\n 4\n";

static int find_object(void *ud, const struct cas_entry *e)
{
	char **want = ud;   /* [0] path to look for, [1] receives the object path */
	if (!strcmp(e->path, want[0]) && e->object)
		want[1] = xstrdup(e->object);
	return 0;
}

static char *object_of(struct cas *c, const struct cas_artifact *a, const char *path)
{
	char *q[2] = {(char *)path, NULL};
	struct error err = ERROR_INIT;
	cas_artifact_walk(c, a, find_object, q, &err);
	error_release(&err);
	return q[1];
}

static void commit_walk_stage(void)
{
	char *src = xasprintf("%s/src1", base), *d1 = xasprintf("%s/copy", base);
	char *d2 = xasprintf("%s/link", base), *objs = xasprintf("%s/s1/objects", base), *text, *obj;
	struct cas *c = open_store("s1");
	struct cas_artifact *a;
	struct stat st1, st2;
	int before;
	sample_tree(src);
	CHECK(c && commit(c, "base/one.bst", src, "k1", "k1") == 0);
	cas_close(c);
	c = open_store("s1");
	CHECK(cas_has(c, "proj", "base/one.bst", "k1") == 1);
	CHECK(cas_has(c, "proj", "base/one.bst", "k2") == 0);
	a = open_art(c, "base/one.bst", "k1");
	CHECK(a != NULL);
	if (!a)
		goto out;
	text = walk_text(c, a);
	CHECK_STR(text, sample_walk);
	free(text);

	mkdirs(d1, "");
	mkdirs(d2, "");
	CHECK(stage(c, a, d1, 0, NULL, NULL, NULL, NULL) == 0);
	CHECK(stage(c, a, d2, 1, NULL, NULL, NULL, NULL) == 0);
	CHECK_STR(slurp(d1, "a.txt"), "hello\n");
	CHECK_STR(slurp(d1, "bin/tool"), "#!/bin/sh\necho hi\n");
	CHECK_STR(slurp(d1, "nested/deep/er/file.txt"), "deep");
	CHECK_STR(slurp(d1, "we ird\tname\n"), "odd\n");
	CHECK((mode_of(d1, "a.txt") & 07777) == 0644);
	CHECK((mode_of(d1, "bin/tool") & 07777) == 0755);
	CHECK(S_ISLNK(mode_of(d1, "bin/link")));
	CHECK_STR(slurp(d1, "bin/link"), "#!/bin/sh\necho hi\n");
	CHECK(S_ISDIR(mode_of(d1, "empty")));
	CHECK_STR(slurp(d2, "a.txt"), "hello\n");
	CHECK_STR(slurp(d2, "bin/tool"), "#!/bin/sh\necho hi\n");
	CHECK((mode_of(d2, "a.txt") & 07777) == 0444);
	CHECK((mode_of(d2, "bin/tool") & 07777) == 0555);
	CHECK(S_ISLNK(mode_of(d2, "bin/link")));
	CHECK(S_ISDIR(mode_of(d2, "empty")));
	obj = object_of(c, a, "bin/tool");
	text = xasprintf("%s/bin/tool", d2);
	CHECK(obj && stat(obj, &st1) == 0 && stat(text, &st2) == 0 && st1.st_ino == st2.st_ino);
	free(text);
	text = xasprintf("%s/bin/tool", d1);
	CHECK(obj && stat(text, &st2) == 0 && st1.st_ino != st2.st_ino);
	free(text);
	free(obj);

	/* the same files under another element and key: only the new manifest is added */
	before = count_files(objs);
	CHECK(before == 11);    /* 4 file contents, 6 trees, 1 manifest */
	CHECK(commit(c, "base/two.bst", src, "k2", "k2") == 0);
	CHECK(count_files(objs) == before + 1);
	cas_artifact_free(a);
out:
	cas_close(c);
	free(objs);
	free(d2);
	free(d1);
	free(src);
}

static int list_ref(void *ud, const char *project, const char *name, const char *key)
{
	buf_addf(ud, "%s/%s/%s\n", project, name, key);
	return 0;
}

static void meta_round_trip(void)
{
	char *src = xasprintf("%s/src2", base), *log = xasprintf("%s/job.log", base);
	const char *names[] = {"base/alpine.bst", "odd\tname\\.bst"}, *keys[] = {"abc", "def"};
	struct cas_meta m = {"strongkey", "weakkey", names, keys, 2, "bst:\n  split-rules: {}\n", log};
	struct error err = ERROR_INIT;
	struct cas *c = open_store("s2");
	struct cas_artifact *a = NULL;
	struct buf refs = BUF_INIT;
	char *s;
	put(src, "f", "x", 0644);
	put(base, "job.log", "[00:00:01] building\n", 0644);
	CHECK(cas_commit(c, "proj", "sub/dir/el ü.bst", src, &m, &err) == 0);
	cas_close(c);
	c = open_store("s2");
	CHECK(cas_artifact_open(c, "proj", "sub/dir/el ü.bst", "weakkey", &a, &err) == 0);
	if (!a) {
		printf("  %s\n", err.msg);
		test_failed_now = 1;
		goto out;
	}
	CHECK_STR(cas_artifact_strong_key(a), "strongkey");
	CHECK_STR(cas_artifact_weak_key(a), "weakkey");
	CHECK_STR(cas_artifact_public_yaml(a), "bst:\n  split-rules: {}\n");
	CHECK(cas_artifact_ndeps(a) == 2);
	CHECK_STR(cas_artifact_dep_name(a, 0), "base/alpine.bst");
	CHECK_STR(cas_artifact_dep_key(a, 0), "abc");
	CHECK_STR(cas_artifact_dep_name(a, 1), "odd\tname\\.bst");
	CHECK_STR(cas_artifact_dep_key(a, 1), "def");
	CHECK(cas_artifact_log_path(a) != NULL);
	CHECK(cas_artifact_log_path(a) && read_file(cas_artifact_log_path(a), &refs, &err) == 0);
	CHECK_STR(buf_str(&refs), "[00:00:01] building\n");
	buf_reset(&refs);
	CHECK(cas_artifact_log_path(a) && access(cas_artifact_log_path(a), F_OK) == 0);
	cas_artifact_free(a);
	a = NULL;
	CHECK(cas_has(c, "proj", "sub/dir/el ü.bst", "strongkey") == 1);
	CHECK(cas_list_refs(c, list_ref, &refs, &err) == 0);
	CHECK_STR(buf_str(&refs), "proj/sub-dir-el__/strongkey\nproj/sub-dir-el__/weakkey\n");

	/* no public data, no log */
	m.public_yaml = NULL;
	m.log_path = NULL;
	m.ndeps = 0;
	m.weak_key = "strongkey2";
	m.strong_key = "strongkey2";
	CHECK(cas_commit(c, "proj", "plain.bst", src, &m, &err) == 0);
	CHECK(cas_artifact_open(c, "proj", "plain.bst", "strongkey2", &a, &err) == 0);
	CHECK(a && !cas_artifact_public_yaml(a) && !cas_artifact_log_path(a) && !cas_artifact_ndeps(a));

	s = cas_normal_name("base/alpine.bst");
	CHECK_STR(s, "base-alpine");
	free(s);
	s = cas_normal_name("a b/x+y.bst.bst");
	CHECK_STR(s, "a_b-x_y.bst");
	free(s);
	/* invalid key: refused with an error, nothing stored */
	m.strong_key = "../../x";
	CHECK(cas_commit(c, "proj", "bad.bst", src, &m, &err) == -1);
	CHECK(err.msg && strstr(err.msg, "bad.bst"));
out:
	cas_artifact_free(a);
	cas_close(c);
	buf_release(&refs);
	error_release(&err);
	free(log);
	free(src);
}

struct calls {
	struct buf overlaps;
};

static int want_no_doc(void *ud, const char *path)
{
	(void)ud;
	return strncmp(path, "usr/share", 9) != 0;
}

static void note_overlap(void *ud, const char *path)
{
	struct calls *k = ud;
	buf_addf(&k->overlaps, "%s\n", path);
}

/* make_dir hook of a stager: mkdirat, counted. */
static int counted_mkdir(void *ud, int dirfd, const char *name)
{
	int rc = mkdirat(dirfd, name, 0755);
	if (rc == 0)
		++*(int *)ud;
	return rc;
}

/* The same artifacts staged one cas_artifact_stage() call each, or all through one stager
 * (which remembers the directories it has seen): the same tree, overlaps and errors. */
static void stage_callbacks_with(int one_stager)
{
	char *sa = xasprintf("%s/srcA%d", base, one_stager), *sb = xasprintf("%s/srcB%d", base, one_stager);
	char *sc = xasprintf("%s/srcC%d", base, one_stager), *sd = xasprintf("%s/srcD%d", base, one_stager);
	char *se = xasprintf("%s/srcE%d", base, one_stager), *msg = NULL;
	char *dest = xasprintf("%s/stage%d", base, one_stager);
	struct cas *c = open_store(one_stager ? "s3b" : "s3");
	struct error err = ERROR_INIT;
	int made = 0;
	struct cas_artifact *a = NULL, *b = NULL, *cc = NULL, *d = NULL, *e = NULL;
	struct calls k = {BUF_INIT};
	put(sa, "usr/bin/a", "A1", 0755);
	put(sa, "usr/share/doc/readme", "doc", 0644);
	put(sa, "etc/conf", "conf", 0644);
	put(sb, "usr/bin/a", "B1", 0755);
	put(sb, "usr/bin/b", "B2", 0755);
	put(sc, "usr/bin", "not a dir", 0644);
	put(sd, "usr/lib/libd.so", "D", 0644);
	msg = xasprintf("%s/lib", sd);
	if (symlink("/usr/lib", msg))
		printf("  symlink failed\n");
	free(msg);
	msg = NULL;
	put(se, "lib/libe.so", "E", 0644);
	CHECK(commit(c, "a.bst", sa, "ka", "ka") == 0);
	CHECK(commit(c, "b.bst", sb, "kb", "kb") == 0);
	CHECK(commit(c, "c.bst", sc, "kc", "kc") == 0);
	CHECK(commit(c, "d.bst", sd, "kd", "kd") == 0);
	CHECK(commit(c, "e.bst", se, "ke", "ke") == 0);
	a = open_art(c, "a.bst", "ka");
	b = open_art(c, "b.bst", "kb");
	cc = open_art(c, "c.bst", "kc");
	d = open_art(c, "d.bst", "kd");
	e = open_art(c, "e.bst", "ke");
	CHECK(a && b && cc && d && e);
	if (!a || !b || !cc || !d || !e)
		goto out;
	mkdirs(dest, "");
	if (one_stager) {
		cur_stager = cas_stager_new(c, dest, counted_mkdir, &made, &err);
		CHECK(cur_stager != NULL);
	}
	CHECK(stage(c, a, dest, 1, want_no_doc, note_overlap, &k, NULL) == 0);
	CHECK_STR(slurp(dest, "usr/bin/a"), "A1");
	CHECK_STR(slurp(dest, "etc/conf"), "conf");
	CHECK(mode_of(dest, "usr/share") == 0);
	CHECK_STR(buf_str(&k.overlaps), "");
	CHECK(stage(c, b, dest, 0, NULL, note_overlap, &k, NULL) == 0);
	CHECK_STR(slurp(dest, "usr/bin/a"), "B1");
	CHECK_STR(slurp(dest, "usr/bin/b"), "B2");
	CHECK_STR(buf_str(&k.overlaps), "usr/bin/a\n");
	/* a file where a directory exists */
	CHECK(stage(c, cc, dest, 1, NULL, NULL, NULL, &msg) == -1);
	CHECK(msg && strstr(msg, "/usr/bin") && strstr(msg, dest) && strstr(msg, "directory"));
	free(msg);
	/* an absolute symlink to a directory is followed inside dest, never on the host */
	CHECK(stage(c, d, dest, 1, NULL, NULL, NULL, NULL) == 0);
	CHECK(stage(c, e, dest, 1, NULL, NULL, NULL, NULL) == 0);
	CHECK_STR(slurp(dest, "usr/lib/libe.so"), "E");
	CHECK(S_ISLNK(mode_of(dest, "lib")));
	CHECK(access("/usr/lib/libe.so", F_OK) != 0);
	/* a later artifact still replaces a file in a directory the stager knows */
	CHECK(stage(c, a, dest, 1, want_no_doc, note_overlap, &k, NULL) == 0);
	CHECK_STR(slurp(dest, "usr/bin/a"), "A1");
	CHECK_STR(slurp(dest, "usr/bin/b"), "B2");
	CHECK_STR(buf_str(&k.overlaps), "usr/bin/a\netc/conf\nusr/bin/a\n");
	if (one_stager) /* usr, usr/bin, etc, usr/lib: each made once, through the hook */
		CHECK(made == 4);
out:
	cas_stager_free(cur_stager);
	cur_stager = NULL;
	error_release(&err);
	cas_artifact_free(e);
	cas_artifact_free(d);
	cas_artifact_free(cc);
	cas_artifact_free(b);
	cas_artifact_free(a);
	cas_close(c);
	buf_release(&k.overlaps);
	free(dest);
	free(se);
	free(sd);
	free(sc);
	free(sb);
	free(sa);
}

static void stage_callbacks(void)
{
	stage_callbacks_with(0);
}

static void stage_callbacks_one_stager(void)
{
	stage_callbacks_with(1);
}

static void collect(void *ud, const char *msg)
{
	buf_addf(ud, "%s\n", msg);
}

static void fsck_and_repair(void)
{
	char *src = xasprintf("%s/src4", base), *obj = NULL;
	struct cas *c = open_store("s4");
	struct cas_artifact *a;
	struct buf msgs = BUF_INIT;
	struct error err = ERROR_INIT;
	int fd;
	sample_tree(src);
	CHECK(commit(c, "x.bst", src, "strong1", "weak1") == 0);
	put(src, "other", "unrelated\n", 0644);
	CHECK(commit(c, "y.bst", src, "strong2", "strong2") == 0);
	CHECK(cas_fsck(c, 0, collect, &msgs, &err) == 0);
	CHECK_STR(buf_str(&msgs), "");
	a = open_art(c, "x.bst", "strong1");
	if (a)
		obj = object_of(c, a, "a.txt");
	CHECK(obj != NULL);
	if (!obj)
		goto out;
	/* same size, different bytes, mode restored: only the content check can see it */
	CHECK(chmod(obj, 0644) == 0);
	fd = open(obj, O_WRONLY);
	CHECK(fd >= 0 && write(fd, "HELLO\n", 6) == 6);
	close(fd);
	CHECK(chmod(obj, 0444) == 0);
	/* x.bst has two refs (strong, weak), y.bst one: all three use the object */
	CHECK(cas_fsck(c, 0, collect, &msgs, &err) == 3);
	CHECK(strstr(buf_str(&msgs), "proj/x/strong1: object ") != NULL);
	CHECK(strstr(buf_str(&msgs), " is corrupt\n") != NULL);
	CHECK(cas_has(c, "proj", "x.bst", "strong1") == 1);
	buf_reset(&msgs);
	CHECK(cas_fsck(c, 1, collect, &msgs, &err) == 3);
	CHECK(cas_has(c, "proj", "x.bst", "strong1") == 0);
	CHECK(cas_has(c, "proj", "x.bst", "weak1") == 0);
	CHECK(cas_has(c, "proj", "y.bst", "strong2") == 0);
	CHECK(access(obj, F_OK) != 0);
	buf_reset(&msgs);
	CHECK(cas_fsck(c, 0, collect, &msgs, &err) == 0);
	CHECK_STR(buf_str(&msgs), "");
	/* rebuilt: the object comes back */
	CHECK(commit(c, "x.bst", src, "strong1", "weak1") == 0);
	CHECK(cas_fsck(c, 0, collect, &msgs, &err) == 0);
	CHECK(access(obj, F_OK) == 0);
out:
	cas_artifact_free(a);
	cas_close(c);
	error_release(&err);
	buf_release(&msgs);
	free(obj);
	free(src);
}

static void errors(void)
{
	char *src = xasprintf("%s/src5", base), *fifo = xasprintf("%s/src5/sub/pipe", base);
	struct cas_meta m = {"k", "k", NULL, NULL, 0, NULL, NULL};
	struct cas *c = open_store("s5");
	struct cas_artifact *a = NULL;
	struct error err = ERROR_INIT;
	put(src, "sub/file", "x", 0644);
	CHECK(mkfifo(fifo, 0644) == 0);
	CHECK(cas_commit(c, "proj", "f.bst", src, &m, &err) == -1);
	CHECK(err.msg && strstr(err.msg, fifo) && strstr(err.msg, "fifo"));
	CHECK(cas_has(c, "proj", "f.bst", "k") == 0);
	CHECK(cas_artifact_open(c, "proj", "hello.bst", "deadbeef", &a, &err) == -1);
	CHECK_STR(err.msg, "hello.bst: no artifact with key deadbeef in the cache");
	CHECK(a == NULL);
	m.log_path = "/nonexistent/log";
	unlink(fifo);
	CHECK(cas_commit(c, "proj", "f.bst", src, &m, &err) == -1);
	CHECK(err.msg && strstr(err.msg, "/nonexistent/log"));
	CHECK(cas_has(c, "proj", "f.bst", "k") == 0);
	cas_close(c);
	error_release(&err);
	free(fifo);
	free(src);
}

static long long now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int count_entries(void *ud, const struct cas_entry *e)
{
	(void)e;
	++*(int *)ud;
	return 0;
}

struct refcheck {
	struct cas *c;
	int refs, bad, expect_entries;
};

static int check_ref(void *ud, const char *project, const char *name, const char *key)
{
	struct refcheck *r = ud;
	struct cas_artifact *a = NULL;
	struct error err = ERROR_INIT;
	int n = 0;
	(void)project;
	r->refs++;
	if (cas_artifact_open(r->c, "proj", name, key, &a, &err) ||
	    cas_artifact_walk(r->c, a, count_entries, &n, &err) || n != r->expect_entries) {
		printf("  ref %s/%s: %s (%d entries)\n", name, key, err.msg ? err.msg : "", n);
		r->bad++;
	}
	cas_artifact_free(a);
	error_release(&err);
	return 0;
}

static int tmpfile_supported(const char *dir)
{
	int fd = open(dir, O_WRONLY | O_TMPFILE, 0600);
	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

static void child_commits(const char *src, int round)
{
	char *root = xasprintf("%s/s6", base), stamp[64];
	struct error err = ERROR_INIT;
	struct cas *c = cas_open(root, &err);
	if (!c)
		_exit(1);
	for (int i = 0; i < 1000; i++) {
		char key[32], weak[32];
		snprintf(key, sizeof(key), "s%dx%d", round, i);
		snprintf(weak, sizeof(weak), "w%dx%d", round, i);
		snprintf(stamp, sizeof(stamp), "%s\n", key);
		put(src, "stamp", stamp, 0644);
		struct cas_meta m = {key, weak, NULL, NULL, 0, "public: yes\n", NULL};
		if (cas_commit(c, "proj", "big.bst", src, &m, &err))
			_exit(2);
	}
	_exit(0);
}

static void crash_safety(void)
{
	char *src = xasprintf("%s/src6", base), *tmp = xasprintf("%s/s6/tmp", base);
	size_t bigsize = 3 << 19;       /* 1.5 MB: above the in-memory import size */
	char *big = xmalloc(bigsize);
	struct error err = ERROR_INIT;
	struct cas *c = open_store("s6");
	long long t0, commit_us;
	int leftovers = 0, total_refs = 0, rounds = 24;
	/* 2,000 small files in 20 directories (hardlinks to 40 contents: creating 2,000 inodes is
	 * slow on some disks and the child's commits only find existing objects anyway), 3 big
	 * files, one file that changes per commit */
	for (int d = 0; d < 20; d++) {
		char rel[64], content[64];
		for (int x = 0; x < 2; x++) {
			snprintf(rel, sizeof(rel), "d%02d/f%03d", d, x);
			snprintf(content, sizeof(content), "file %d %d\n", d, x);
			put(src, rel, content, x ? 0644 : 0755);
		}
		for (int f = 2; f < 100; f++) {
			char *from = xasprintf("%s/d%02d/f%03d", src, d, f % 10 ? 1 : 0);
			char *to = xasprintf("%s/d%02d/f%03d", src, d, f);
			CHECK(link(from, to) == 0);
			free(to);
			free(from);
		}
	}
	for (int i = 0; i < 3; i++) {
		char rel[16];
		memset(big, 'a' + i, bigsize);
		big[bigsize - 1] = '\0';
		snprintf(rel, sizeof(rel), "big%d", i);
		put(src, rel, big, 0644);
	}
	put(src, "stamp", "first\n", 0644);
	/* the first commit stores every object; time the second, like the child's commits */
	CHECK(commit(c, "calibrate.bst", src, "calibrate", "calibrate") == 0);
	put(src, "stamp", "second\n", 0644);
	t0 = now_us();
	CHECK(commit(c, "calibrate.bst", src, "calibrate2", "calibrate2") == 0);
	commit_us = now_us() - t0;
	srand(12345);
	for (int round = 0; round < rounds; round++) {
		struct refcheck r = {NULL, 0, 0, 2000 + 20 + 4};
		pid_t pid = fork();
		int status, broken;
		if (pid < 0) {
			CHECK(pid > 0);
			break;
		}
		if (pid == 0)
			child_commits(src, round);
		usleep((useconds_t)(rand() % (2 * commit_us + 1)));
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		CHECK(WIFSIGNALED(status));
		leftovers += count_files(tmp);
		cas_close(c);
		c = open_store("s6");
		CHECK(count_files(tmp) == 0);
		broken = cas_fsck(c, 0, NULL, NULL, &err);
		CHECK(broken == 0);
		r.c = c;
		CHECK(cas_list_refs(c, check_ref, &r, &err) == 0);
		CHECK(r.bad == 0);
		total_refs = r.refs;
	}
	/* the kills hit finished commits (refs) and halfway ones: where the filesystem has
	 * O_TMPFILE these leave nothing behind in tmp/, elsewhere named files that cas_open()
	 * removed (checked above) */
	CHECK(total_refs > 1);
	if (tmpfile_supported(tmp))
		CHECK(leftovers == 0);
	else
		CHECK(leftovers > 0);
	cas_close(c);
	error_release(&err);
	free(big);
	free(tmp);
	free(src);
}

int main(void)
{
	struct error err = ERROR_INIT;
	snprintf(base, sizeof(base), "/tmp/rill-test-cas-XXXXXX");
	if (!mkdtemp(base)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(commit_walk_stage);
	RUN(meta_round_trip);
	RUN(stage_callbacks);
	RUN(stage_callbacks_one_stager);
	RUN(fsck_and_repair);
	RUN(errors);
	RUN(crash_safety);
	if (os_rm_rf(base, &err))
		printf("  cleanup: %s\n", err.msg);
	error_release(&err);
	TEST_MAIN_END();
}
