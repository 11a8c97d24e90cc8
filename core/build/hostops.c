/* hostops — the job-time host functions of source plugins: download, extract, run a host
 * command with its output in the job log, copy a tree.
 * SPDX-License-Identifier: Apache-2.0 */
#include "build/hostops.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "build/download.h"
#include "cache/archive.h"
#include "graph/pluginctx.h"

static void log_write(struct rill_ctx *ctx, const char *s, size_t n)
{
	while (ctx->log_fd >= 0 && n > 0) {
		ssize_t w = write(ctx->log_fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void log_note(struct rill_ctx *ctx, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void log_note(struct rill_ctx *ctx, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	buf_addch(&b, '\n');
	log_write(ctx, b.data, b.len);
	buf_release(&b);
}

int hostops_download(struct rill_ctx *ctx, const char *url, const char *path)
{
	char hex[65];
	if (download_file(url, path, hex, ctx->err) != 0)
		return -1;
	log_note(ctx, "Downloaded %s to %s (sha256 %s)", url, path, hex);
	return 0;
}

int hostops_extract(struct rill_ctx *ctx, const char *archive, const char *dest, const char *base_dir)
{
	if (archive_extract(archive, dest, base_dir, ctx->err) != 0)
		return -1;
	return 0;
}

/* ---- running host commands -------------------------------------------------------------------- */

static char *join_argv(const char *const *argv)
{
	struct buf b = BUF_INIT;
	size_t i;
	for (i = 0; argv[i]; i++) {
		if (i)
			buf_addch(&b, ' ');
		buf_adds(&b, argv[i]);
	}
	return buf_detach(&b);
}

/* In the child between fork and exec: only async-signal-safe calls. report is a close-on-exec
 * pipe that receives errno when exec (or the set-up before it) fails. */
static void child(const char *const *argv, const char *cwd, int null_fd, int out_fd, int err_fd, int report)
{
	sigset_t none;
	int e;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (dup2(null_fd, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0 || dup2(err_fd, STDERR_FILENO) < 0)
		goto fail;
	if (cwd && chdir(cwd) != 0)
		goto fail;
	execvp(argv[0], (char *const *)argv);
fail:
	e = errno;
	if (write(report, &e, sizeof(e)) < 0) {
		/* nothing more we can do */
	}
	_exit(127);
}

int hostops_run_host(struct rill_ctx *ctx, const char *const *argv, const char *cwd, const char **out)
{
	int null_fd = -1, capture[2] = {-1, -1}, report[2] = {-1, -1}, out_fd, err_fd, status, exec_errno = 0;
	struct buf captured = BUF_INIT;
	char *cmd = join_argv(argv);
	pid_t pid;
	ssize_t n;
	int rc = -1;
	if (out)
		*out = NULL;
	if (!argv[0]) {
		error_set(ctx->err, "Cannot run an empty command");
		goto out;
	}
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null_fd < 0 || pipe2(report, O_CLOEXEC) != 0 || (out && pipe2(capture, O_CLOEXEC) != 0)) {
		error_set(ctx->err, "Failed to run '%s': %s", cmd, strerror(errno));
		goto out;
	}
	err_fd = ctx->log_fd >= 0 ? ctx->log_fd : null_fd;
	out_fd = out ? capture[1] : err_fd;
	pid = fork();
	if (pid < 0) {
		error_set(ctx->err, "Failed to run '%s': fork: %s", cmd, strerror(errno));
		goto out;
	}
	if (pid == 0)
		child(argv, cwd, null_fd, out_fd, err_fd, report[1]);
	close(report[1]);
	report[1] = -1;
	if (out) {
		char block[4096];
		close(capture[1]);
		capture[1] = -1;
		while ((n = read(capture[0], block, sizeof(block))) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				break;
			buf_add(&captured, block, (size_t)n);
		}
	}
	while ((n = read(report[0], &exec_errno, sizeof(exec_errno))) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(exec_errno))
		exec_errno = 0;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			error_set(ctx->err, "Failed to run '%s': waitpid: %s", cmd, strerror(errno));
			goto out;
		}
	}
	if (exec_errno) {
		error_set(ctx->err, "Failed to run '%s': %s: %s", cmd, argv[0], strerror(exec_errno));
		goto out;
	}
	if (WIFSIGNALED(status)) {
		error_set(ctx->err, "Command '%s' terminated by signal %d", cmd, WTERMSIG(status));
		goto out;
	}
	if (WEXITSTATUS(status) != 0) {
		error_set(ctx->err, "Command '%s' failed with exitcode %d", cmd, WEXITSTATUS(status));
		goto out;
	}
	if (out) {
		while (captured.len && captured.data[captured.len - 1] == '\n')
			captured.data[--captured.len] = '\0';
		*out = arena_strndup(ctx->a, buf_str(&captured), captured.len);
	}
	rc = 0;
out:
	if (null_fd >= 0)
		close(null_fd);
	if (report[0] >= 0)
		close(report[0]);
	if (report[1] >= 0)
		close(report[1]);
	if (capture[0] >= 0)
		close(capture[0]);
	if (capture[1] >= 0)
		close(capture[1]);
	buf_release(&captured);
	free(cmd);
	return rc;
}

/* ---- copying trees ---------------------------------------------------------------------------- */

static void copy_times(const char *dest, const struct stat *st)
{
	struct timespec t[2] = {st->st_atim, st->st_mtim};
	utimensat(AT_FDCWD, dest, t, AT_SYMLINK_NOFOLLOW);
}

/* Remove dest when it exists and is not a directory (we replace, never write through links). */
static int clear_non_dir(const char *dest, struct error *err)
{
	struct stat st;
	if (lstat(dest, &st) == 0 && !S_ISDIR(st.st_mode) && unlink(dest) != 0)
		return error_set(err, "Failed to replace '%s': %s", dest, strerror(errno));
	return 0;
}

static int copy_file(const char *src, const char *dest, const struct stat *st, struct error *err)
{
	char block[65536];
	int in = -1, out = -1, rc = -1;
	ssize_t n;
	if (clear_non_dir(dest, err) != 0)
		return -1;
	in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (in < 0) {
		error_set(err, "Failed to read file '%s': %s", src, strerror(errno));
		goto out;
	}
	out = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (out < 0) {
		error_set(err, "Failed to create '%s': %s", dest, strerror(errno));
		goto out;
	}
	while ((n = read(in, block, sizeof(block))) != 0) {
		char *p = block;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			error_set(err, "Failed to read file '%s': %s", src, strerror(errno));
			goto out;
		}
		while (n > 0) {
			ssize_t w = write(out, p, (size_t)n);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				error_set(err, "Failed to write '%s': %s", dest, strerror(errno));
				goto out;
			}
			p += w;
			n -= w;
		}
	}
	if (fchmod(out, st->st_mode & 07777) != 0) {
		error_set(err, "Failed to set the mode of '%s': %s", dest, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (out >= 0 && close(out) != 0 && rc == 0)
		rc = error_set(err, "Failed to write '%s': %s", dest, strerror(errno));
	if (in >= 0)
		close(in);
	if (rc == 0)
		copy_times(dest, st);
	return rc;
}

static int copy_any(const char *src, const char *dest, struct error *err)
{
	struct stat st, dst;
	if (lstat(src, &st) != 0)
		return error_set(err, "Failed to copy '%s': %s", src, strerror(errno));
	if (S_ISREG(st.st_mode))
		return copy_file(src, dest, &st, err);
	if (S_ISLNK(st.st_mode)) {
		char *target = xmalloc((size_t)st.st_size + 1);
		ssize_t n = readlink(src, target, (size_t)st.st_size + 1);
		int rc = 0;
		if (n < 0 || n > st.st_size)
			rc = error_set(err, "Failed to read symbolic link '%s': %s", src,
				       n < 0 ? strerror(errno) : "it changed while being read");
		if (rc == 0) {
			target[n] = '\0';
			if (clear_non_dir(dest, err) != 0)
				rc = -1;
			else if (symlink(target, dest) != 0)
				rc = error_set(err, "Failed to create symbolic link '%s': %s", dest, strerror(errno));
		}
		free(target);
		if (rc == 0)
			copy_times(dest, &st);
		return rc;
	}
	if (S_ISDIR(st.st_mode)) {
		DIR *d;
		struct dirent *de;
		int rc = 0, created = 0;
		if (clear_non_dir(dest, err) != 0)
			return -1;
		if (lstat(dest, &dst) != 0) {
			/* writable while we fill it; its own mode is set at the end */
			if (mkdir(dest, 0700) != 0)
				return error_set(err, "Failed to create directory '%s': %s", dest, strerror(errno));
			created = 1;
		}
		d = opendir(src);
		if (!d)
			return error_set(err, "Failed to read directory '%s': %s", src, strerror(errno));
		while (rc == 0 && (de = readdir(d)) != NULL) {
			char *s, *t;
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			s = xasprintf("%s/%s", src, de->d_name);
			t = xasprintf("%s/%s", dest, de->d_name);
			rc = copy_any(s, t, err);
			free(s);
			free(t);
		}
		closedir(d);
		/* a directory that existed (the staging root, or one shared with an earlier source)
		 * keeps its mode and times */
		if (rc == 0 && created && chmod(dest, st.st_mode & 07777) != 0)
			rc = error_set(err, "Failed to set the mode of '%s': %s", dest, strerror(errno));
		if (rc == 0 && created)
			copy_times(dest, &st);
		return rc;
	}
	return error_set(err, "Failed to copy '%s': only files, directories and symbolic links can be copied",
			 src);
}

int hostops_copy_tree(struct rill_ctx *ctx, const char *src, const char *dest)
{
	if (copy_any(src, dest, ctx->err) != 0)
		return -1;
	return 0;
}
