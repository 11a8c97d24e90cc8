/* test_hostops — the job-time host functions (run a host command, copy a tree, download,
 * extract) and, through a minimal host table, the fetch/stage/track hooks of the bundled source
 * plugins (plugins/sources/KIND.so, dlopen'd from $RILL_TOP or beside this test's directory).
 * SPDX-License-Identifier: Apache-2.0 */
#include "test.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache/archive.h"
#include "format/cachekey.h"
#include "build/hostops.h"
#include "format/node.h"
#include "graph/pluginctx.h"
#include "plugin/rill-plugin.h"

static char *tmp_root;
static struct arena *arena;
static struct error err;
static struct rill_ctx ctx;
static char *log_path;

static void ctx_reset(void)
{
	error_release(&err);
	memset(&ctx, 0, sizeof(ctx));
	ctx.err = &err;
	ctx.a = arena;
	ctx.log_fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ctx.report_fd = -1;
}

static void ctx_done(void)
{
	if (ctx.log_fd >= 0)
		close(ctx.log_fd);
	ctx.log_fd = -1;
}

static char *slurp(const char *path)
{
	struct buf b = BUF_INIT;
	struct error e = ERROR_INIT;
	if (read_file(path, &b, &e) != 0) {
		error_release(&e);
		return NULL;
	}
	return buf_detach(&b);
}

static int log_has(const char *s)
{
	char *l = slurp(log_path);
	int r = l && strstr(l, s) != NULL;
	if (!r)
		printf("  log lacks \"%s\": %s\n", s, l ? l : "(none)");
	free(l);
	return r;
}

static void write_text(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		printf("  cannot write %s\n", path);
		return;
	}
	fputs(s, f);
	fclose(f);
}

static int file_is(const char *path, const char *want)
{
	char *got = slurp(path);
	int ok = got && strcmp(got, want) == 0;
	if (!ok)
		printf("  %s: expected \"%s\", got \"%s\"\n", path, want, got ? got : "(unreadable)");
	free(got);
	return ok;
}

static int mode_of(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 ? (int)st.st_mode : -1;
}

static char *fresh_dir(const char *name)
{
	char *p = xasprintf("%s/%s", tmp_root, name), *cmd = xasprintf("rm -rf '%s'", p);
	if (system(cmd) != 0 || mkdir(p, 0755) != 0)
		printf("  cannot make %s\n", p);
	free(cmd);
	return p;
}

/* ---- hostops ----------------------------------------------------------------------------------- */

static void run_host_output(void)
{
	const char *out = NULL;
	const char *echo[] = {"echo", "hello", "world", NULL};
	const char *both[] = {"sh", "-c", "echo to-out; echo to-err >&2", NULL};
	const char *pwd[] = {"pwd", NULL};
	char *real = realpath(tmp_root, NULL);
	ctx_reset();
	CHECK(hostops_run_host(&ctx, echo, NULL, &out) == 0);
	CHECK_STR(out, "hello world");
	CHECK(hostops_run_host(&ctx, both, NULL, NULL) == 0);
	CHECK(log_has("to-out\n"));
	CHECK(log_has("to-err\n"));
	CHECK(hostops_run_host(&ctx, both, NULL, &out) == 0);
	CHECK_STR(out, "to-out");
	CHECK(hostops_run_host(&ctx, pwd, tmp_root, &out) == 0);
	CHECK_STR(out, real);
	CHECK(err.msg == NULL);
	ctx_done();
	free(real);
}

static void run_host_failures(void)
{
	const char *out = "unset";
	const char *exit3[] = {"sh", "-c", "exit 3", NULL};
	const char *killed[] = {"sh", "-c", "kill -TERM $$", NULL};
	const char *missing[] = {"rill-no-such-command", "x", NULL};
	const char *stdin_null[] = {"sh", "-c", "read x && echo got", NULL};
	ctx_reset();
	CHECK(hostops_run_host(&ctx, exit3, NULL, &out) == -1);
	CHECK_STR(err.msg, "Command 'sh -c exit 3' failed with exitcode 3");
	CHECK(out == NULL);
	CHECK(hostops_run_host(&ctx, killed, NULL, NULL) == -1);
	CHECK_STR(err.msg, "Command 'sh -c kill -TERM $$' terminated by signal 15");
	CHECK(hostops_run_host(&ctx, missing, NULL, NULL) == -1);
	CHECK(err.msg && strstr(err.msg, "rill-no-such-command") && strstr(err.msg, "No such file"));
	/* stdin is /dev/null: read fails at once instead of hanging */
	CHECK(hostops_run_host(&ctx, stdin_null, NULL, NULL) == -1);
	CHECK(err.msg && strstr(err.msg, "failed with exitcode 1"));
	CHECK(hostops_run_host(&ctx, exit3, "/nonexistent-dir", NULL) == -1);
	CHECK(err.msg && strstr(err.msg, "/nonexistent-dir") == NULL && strstr(err.msg, "No such file"));
	ctx_done();
}

static void copy_tree_modes_links(void)
{
	char *src = fresh_dir("src"), *dest = xasprintf("%s/copy", tmp_root), *p, *q;
	char target[64];
	ssize_t n;
	p = xasprintf("%s/sub", src);
	mkdir(p, 0755);
	free(p);
	p = xasprintf("%s/sub/tool", src);
	write_text(p, "T");
	chmod(p, 0750);
	free(p);
	p = xasprintf("%s/ro", src);
	mkdir(p, 0755);
	free(p);
	p = xasprintf("%s/ro/f", src);
	write_text(p, "R");
	free(p);
	p = xasprintf("%s/ro", src);
	chmod(p, 0555);
	free(p);
	p = xasprintf("%s/link", src);
	symlink("/etc/passwd", p);
	free(p);
	ctx_reset();
	CHECK(hostops_copy_tree(&ctx, src, dest) == 0);
	p = xasprintf("%s/sub/tool", dest);
	CHECK(file_is(p, "T"));
	CHECK((mode_of(p) & 0777) == 0750);
	free(p);
	p = xasprintf("%s/ro/f", dest);
	CHECK(file_is(p, "R"));
	free(p);
	p = xasprintf("%s/ro", dest);
	CHECK((mode_of(p) & 0777) == 0555);
	chmod(p, 0755);
	free(p);
	p = xasprintf("%s/link", dest);
	n = readlink(p, target, sizeof(target) - 1);
	CHECK(n == 11 && memcmp(target, "/etc/passwd", 11) == 0);
	free(p);
	/* a single file, and copying over an existing tree merges and replaces */
	p = xasprintf("%s/sub/tool", src);
	q = xasprintf("%s/single", tmp_root);
	CHECK(hostops_copy_tree(&ctx, p, q) == 0);
	CHECK(file_is(q, "T"));
	CHECK((mode_of(q) & 0777) == 0750);
	free(q);
	q = xasprintf("%s/sub/tool", dest);
	write_text(q, "changed");
	CHECK(hostops_copy_tree(&ctx, src, dest) == 0);
	CHECK(file_is(q, "T"));
	free(q);
	free(p);
	/* errors name the path */
	CHECK(hostops_copy_tree(&ctx, "/nonexistent/src", dest) == -1);
	CHECK(err.msg && strstr(err.msg, "/nonexistent/src"));
	ctx_done();
	p = xasprintf("%s/ro", src);
	chmod(p, 0755);
	free(p);
	free(dest);
	free(src);
}

static void download_and_extract(void)
{
	char *tree = fresh_dir("tree"), *p, *url, *arch = xasprintf("%s/t.tar", tmp_root), *dl;
	char *dest = fresh_dir("dest");
	p = xasprintf("%s/top", tree);
	mkdir(p, 0755);
	free(p);
	p = xasprintf("%s/top/f", tree);
	write_text(p, "F");
	free(p);
	ctx_reset();
	CHECK(archive_write_tar(tree, arch, &err) == 0);
	url = xasprintf("file://%s", arch);
	dl = xasprintf("%s/dl.tar", tmp_root);
	CHECK(hostops_download(&ctx, url, dl) == 0);
	CHECK(log_has("Downloaded file://"));
	CHECK(hostops_extract(&ctx, dl, dest, "*") == 0);
	p = xasprintf("%s/f", dest);
	CHECK(file_is(p, "F"));
	free(p);
	CHECK(hostops_extract(&ctx, dl, dest, "nothing") == -1);
	CHECK(err.msg && strstr(err.msg, "Could not find base directory"));
	free(url);
	url = xasprintf("file://%s/absent", tmp_root);
	CHECK(hostops_download(&ctx, url, dl) == -1);
	CHECK(err.msg && strstr(err.msg, url));
	ctx_done();
	free(url);
	free(dl);
	free(dest);
	free(arch);
	free(tree);
}

/* ---- a minimal host table for the source plugins ---------------------------------------------- */

#define N(x) ((const struct node *)(x))
static char *project_dir;

static int t_type(const struct rill_node *n)
{
	return n ? N(n)->type : 0;
}

static const char *t_str(const struct rill_node *n)
{
	return n ? node_str(N(n)) : NULL;
}

static size_t t_len(const struct rill_node *n)
{
	if (!n)
		return 0;
	return N(n)->type == NODE_LIST ? N(n)->u.list.n : N(n)->type == NODE_MAP ? N(n)->u.map.n : 0;
}

static const struct rill_node *t_get(const struct rill_node *m, const char *key)
{
	return (const struct rill_node *)node_map_get(N(m), key);
}

static int t_error(struct rill_ctx *c, const struct rill_node *n, const char *fmt, ...)
{
	va_list ap;
	(void)n;
	va_start(ap, fmt);
	error_vset(c->err, fmt, ap);
	va_end(ap);
	c->failed = 1;
	return -1;
}

static struct rill_node *t_new_str(struct rill_ctx *c, const char *s)
{
	return (struct rill_node *)node_new_str(c->a, NULL, s);
}

static const char *t_project_dir(struct rill_ctx *c)
{
	(void)c;
	return project_dir;
}

static int t_sha256_file(struct rill_ctx *c, const char *path, char hex[65])
{
	return cachekey_sha256_file(path, hex, c->err);
}

static int t_translate_url(struct rill_ctx *c, const struct rill_node *at, const char *url, const char **out)
{
	(void)c;
	(void)at;
	*out = url;
	return 0;
}

static void t_status(struct rill_ctx *c, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	buf_addch(&b, '\n');
	if (write(c->log_fd, b.data, b.len) < 0)
		printf("  cannot write the log\n");
	buf_release(&b);
}

static const struct rill_host test_host = {
	.abi_version = RILL_PLUGIN_ABI_VERSION,
	.type = t_type,
	.str = t_str,
	.len = t_len,
	.get = t_get,
	.error = t_error,
	.new_str = t_new_str,
	.project_dir = t_project_dir,
	.sha256_file = t_sha256_file,
	.translate_url = t_translate_url,
	.status = t_status,
	.download = hostops_download,
	.extract = hostops_extract,
	.run_host = hostops_run_host,
	.copy_tree = hostops_copy_tree,
};

/* plugins/sources/KIND.so under $RILL_TOP, or two levels above this binary's directory. */
static const struct rill_plugin *load_source(const char *kind)
{
	const char *top = getenv("RILL_TOP");
	char self[PATH_MAX], *so, *slash;
	const struct rill_plugin *pl = NULL;
	void *h;
	ssize_t n;
	if (top && top[0]) {
		so = xasprintf("%s/plugins/sources/%s.so", top, kind);
	} else {
		n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		self[n < 0 ? 0 : n] = '\0';
		if ((slash = strrchr(self, '/')))
			*slash = '\0';
		so = xasprintf("%s/../../plugins/sources/%s.so", self, kind);
	}
	h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		printf("  cannot load %s: %s\n", so, dlerror());
	else
		pl = dlsym(h, RILL_PLUGIN_SYMBOL);
	free(so);
	/* the handle stays open: plugins are used until the test ends */
	return pl;
}

/* A source node {k1: v1, k2: v2, ...} (NULL-terminated pairs). */
static const struct rill_node *source_node(const char *k, ...)
{
	struct node *m = node_new_map(arena, NULL);
	va_list ap;
	va_start(ap, k);
	while (k) {
		const char *v = va_arg(ap, const char *);
		node_map_put(arena, m, arena_strdup(arena, k), node_new_str(arena, NULL, v));
		k = va_arg(ap, const char *);
	}
	va_end(ap);
	return (const struct rill_node *)m;
}

static void plugin_tar_remote(void)
{
	const struct rill_plugin *tar = load_source("tar"), *remote = load_source("remote");
	const struct rill_plugin *zip = load_source("zip");
	char *tree = fresh_dir("tree"), *arch = xasprintf("%s/src.tar", tmp_root), *p, *url, *want;
	char hex[65];
	const struct rill_node *node;
	const char *ref = NULL;
	char *dir, *dest;
	CHECK(tar && remote && zip);
	if (!tar || !remote || !zip)
		return;
	CHECK(zip->fetch && zip->stage && zip->track);
	p = xasprintf("%s/proj-2.0", tree);
	mkdir(p, 0755);
	free(p);
	p = xasprintf("%s/proj-2.0/README", tree);
	write_text(p, "read me");
	free(p);
	ctx_reset();
	CHECK(archive_write_tar(tree, arch, &err) == 0);
	CHECK(cachekey_sha256_file(arch, hex, &err) == 0);
	url = xasprintf("file://%s", arch);

	/* track: the sha256 of the download */
	node = source_node("url", url, NULL);
	CHECK(tar->track(&test_host, &ctx, node, &ref) == 0);
	CHECK_STR(ref, hex);
	CHECK(log_has("Tracking file://"));

	/* fetch with the right ref, then stage from base-dir "*" */
	node = source_node("url", url, "ref", hex, NULL);
	dir = fresh_dir("cache");
	CHECK(tar->fetch(&test_host, &ctx, node, dir) == 0);
	CHECK(log_has("Fetching file://"));
	dest = fresh_dir("dest");
	CHECK(tar->stage(&test_host, &ctx, node, dir, dest) == 0);
	p = xasprintf("%s/README", dest);
	CHECK(file_is(p, "read me"));
	free(p);
	/* base-dir "" keeps the top directory */
	free(dest);
	dest = fresh_dir("dest");
	node = source_node("url", url, "ref", hex, "base-dir", "", NULL);
	CHECK(tar->stage(&test_host, &ctx, node, dir, dest) == 0);
	p = xasprintf("%s/proj-2.0/README", dest);
	CHECK(file_is(p, "read me"));
	free(p);

	/* remote: staged as the URL's basename, mode 0644, or as filename */
	free(dest);
	dest = fresh_dir("dest");
	node = source_node("url", url, "ref", hex, NULL);
	CHECK(remote->stage(&test_host, &ctx, node, dir, dest) == 0);
	p = xasprintf("%s/src.tar", dest);
	CHECK((mode_of(p) & 07777) == 0644);
	free(p);
	node = source_node("url", url, "ref", hex, "filename", "renamed.tar", NULL);
	CHECK(remote->stage(&test_host, &ctx, node, dir, dest) == 0);
	p = xasprintf("%s/renamed.tar", dest);
	CHECK(S_ISREG(mode_of(p)));
	free(p);

	/* a wrong ref: checksum mismatch naming both sums */
	free(dir);
	dir = fresh_dir("cache");
	node = source_node("url", url, "ref", "0000", NULL);
	CHECK(remote->fetch(&test_host, &ctx, node, dir) == -1);
	want = xasprintf("%s: checksum mismatch: expected 0000, got %s", url, hex);
	CHECK_STR(err.msg, want);
	free(want);
	/* a download failure */
	free(url);
	url = xasprintf("file://%s/absent.tar", tmp_root);
	node = source_node("url", url, "ref", hex, NULL);
	CHECK(tar->fetch(&test_host, &ctx, node, dir) == -1);
	CHECK(err.msg && strstr(err.msg, url));
	ctx_done();
	free(url);
	free(dir);
	free(dest);
	free(arch);
	free(tree);
}

static void plugin_local_patch(void)
{
	const struct rill_plugin *local = load_source("local"), *patch = load_source("patch");
	char *p, *dest;
	const struct rill_node *node;
	CHECK(local && patch);
	if (!local || !patch)
		return;
	free(project_dir);
	project_dir = fresh_dir("project");
	p = xasprintf("%s/files", project_dir);
	mkdir(p, 0755);
	free(p);
	p = xasprintf("%s/files/sub", project_dir);
	mkdir(p, 0755);
	free(p);
	p = xasprintf("%s/files/f", project_dir);
	write_text(p, "a\nb\nc\n");
	free(p);
	p = xasprintf("%s/files/sub/g", project_dir);
	write_text(p, "G");
	free(p);
	p = xasprintf("%s/fix.diff", project_dir);
	write_text(p, "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n");
	free(p);
	ctx_reset();
	dest = fresh_dir("dest");
	/* patching nothing is an error */
	node = source_node("path", "fix.diff", NULL);
	CHECK(patch->stage(&test_host, &ctx, node, NULL, dest) == -1);
	CHECK(err.msg && strstr(err.msg, "Nothing to patch"));
	node = source_node("path", "files", NULL);
	CHECK(local->stage(&test_host, &ctx, node, NULL, dest) == 0);
	p = xasprintf("%s/sub/g", dest);
	CHECK(file_is(p, "G"));
	free(p);
	node = source_node("path", "files/sub/g", "directory", "x", NULL);
	CHECK(local->stage(&test_host, &ctx, node, NULL, dest) == 0);
	p = xasprintf("%s/g", dest);
	CHECK(file_is(p, "G"));
	free(p);
	node = source_node("path", "fix.diff", NULL);
	CHECK(patch->stage(&test_host, &ctx, node, NULL, dest) == 0);
	p = xasprintf("%s/f", dest);
	CHECK(file_is(p, "a\nB\nc\n"));
	/* a patch that does not apply */
	CHECK(patch->stage(&test_host, &ctx, node, NULL, dest) == -1);
	CHECK(err.msg && strstr(err.msg, "git -C") && strstr(err.msg, "failed with exitcode"));
	CHECK(file_is(p, "a\nB\nc\n"));
	free(p);
	/* strip-level 0 */
	p = xasprintf("%s/fix0.diff", project_dir);
	write_text(p, "--- f\n+++ f\n@@ -1,3 +1,3 @@\n-a\n+A\n B\n c\n");
	free(p);
	node = source_node("path", "fix0.diff", "strip-level", "0", NULL);
	CHECK(patch->stage(&test_host, &ctx, node, NULL, dest) == 0);
	p = xasprintf("%s/f", dest);
	CHECK(file_is(p, "A\nB\nc\n"));
	free(p);
	ctx_done();
	free(dest);
}

static void plugin_git(void)
{
	const struct rill_plugin *git = load_source("git");
	char *repo = fresh_dir("upstream"), *cmd, *p, *dest, *dir;
	const struct rill_node *node;
	const char *ref = NULL, *head = NULL;
	const char *rev[] = {"git", "-C", repo, "rev-parse", "HEAD", NULL};
	CHECK(git != NULL);
	if (!git)
		return;
	cmd = xasprintf("cd '%s' && git init -q -b main && echo hi > file && git add file && "
			"git -c user.name=t -c user.email=t@example.com commit -q -m one && "
			"git -c user.name=t -c user.email=t@example.com tag -a -m tag v1",
			repo);
	CHECK(system(cmd) == 0);
	free(cmd);
	ctx_reset();
	CHECK(hostops_run_host(&ctx, rev, NULL, &head) == 0);
	/* track a branch and an annotated tag (the peeled commit) */
	node = source_node("url", repo, "track", "main", NULL);
	CHECK(git->track(&test_host, &ctx, node, &ref) == 0);
	CHECK_STR(ref, head);
	node = source_node("url", repo, "track", "v1", NULL);
	CHECK(git->track(&test_host, &ctx, node, &ref) == 0);
	CHECK_STR(ref, head);
	/* no branch to follow: nothing to track, the ref stays (as in BuildStream) */
	node = source_node("url", repo, "ref", head, NULL);
	CHECK(git->track(&test_host, &ctx, node, &ref) == 0);
	CHECK(ref == NULL);
	node = source_node("url", repo, "track", "nope", NULL);
	CHECK(git->track(&test_host, &ctx, node, &ref) == -1);
	CHECK(err.msg && strstr(err.msg, "track nope not found"));

	/* fetch and stage */
	dir = fresh_dir("cache");
	node = source_node("url", repo, "ref", head, NULL);
	CHECK(git->fetch(&test_host, &ctx, node, dir) == 0);
	dest = fresh_dir("dest");
	CHECK(git->stage(&test_host, &ctx, node, dir, dest) == 0);
	p = xasprintf("%s/file", dest);
	CHECK(file_is(p, "hi\n"));
	free(p);
	/* a git-describe ref names the same commit */
	free(dest);
	dest = fresh_dir("dest");
	p = xasprintf("v1-0-g%s", head);
	node = source_node("url", repo, "ref", p, NULL);
	free(p);
	CHECK(git->stage(&test_host, &ctx, node, dir, dest) == 0);
	p = xasprintf("%s/file", dest);
	CHECK(file_is(p, "hi\n"));
	free(p);
	/* a ref the repository does not have */
	free(dir);
	dir = fresh_dir("cache");
	node = source_node("url", repo, "ref", "0123456789012345678901234567890123456789", NULL);
	CHECK(git->fetch(&test_host, &ctx, node, dir) == -1);
	p = xasprintf("%s: ref 0123456789012345678901234567890123456789 not found", repo);
	CHECK_STR(err.msg, p);
	free(p);
	ctx_done();
	free(dir);
	free(dest);
	free(repo);
}

int main(void)
{
	char tmpl[] = "/tmp/rill-test-hostops-XXXXXX";
	char *cmd;
	int failures;
	if (!mkdtemp(tmpl))
		return 1;
	tmp_root = tmpl;
	arena = arena_new();
	log_path = xasprintf("%s/job.log", tmp_root);
	project_dir = xstrdup(tmp_root);
	ctx.log_fd = -1;
	RUN(run_host_output);
	RUN(run_host_failures);
	RUN(copy_tree_modes_links);
	RUN(download_and_extract);
	RUN(plugin_tar_remote);
	RUN(plugin_local_patch);
	RUN(plugin_git);
	cmd = xasprintf("chmod -R u+rwx '%s'; rm -rf '%s'", tmp_root, tmp_root);
	if (system(cmd) != 0)
		printf("  could not remove %s\n", tmp_root);
	free(cmd);
	error_release(&err);
	arena_free(arena);
	free(log_path);
	free(project_dir);
	failures = test_failures;
	return failures ? 1 : 0;
}
