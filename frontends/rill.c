/* rill — the command users type. Pipeline commands (build, fetch, track) start rill-backend
 * in its own session, then render its status table with the plain-log frontend; every other
 * command runs in rill-backend, which this execs. Links only the status reader library.
 * SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "plain.h"
#include "rill-status.h"

static volatile int interrupted;

static void on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

static int backend_path(char *out, size_t size)
{
	const char *env = getenv("RILL_BACKEND");
	char exe[PATH_MAX], *slash;
	ssize_t n;
	if (env && *env) {
		snprintf(out, size, "%s", env);
		return 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0) {
		fprintf(stderr, "rill: cannot locate myself: %s\n", strerror(errno));
		return -1;
	}
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	*slash = '\0';
	snprintf(out, size, "%s/rill-backend", exe);
	return 0;
}

/* The project directory: dir (or the cwd) upwards to the first project.conf. */
static int find_project(const char *dir, char *out, size_t size)
{
	char buf[PATH_MAX], *s;
	struct stat st;
	if (!realpath(dir ? dir : ".", buf))
		return -1;
	for (;;) {
		char conf[PATH_MAX + 16];
		snprintf(conf, sizeof(conf), "%s/project.conf", buf);
		if (stat(conf, &st) == 0) {
			snprintf(out, size, "%s", buf);
			return 0;
		}
		s = strrchr(buf, '/');
		if (!s || s == buf)
			return -1;
		*s = '\0';
	}
}

static int mkdir_p(char *path)
{
	char *s;
	for (s = path + 1;; s++) {
		if (*s != '/' && *s)
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(path, 0755) && errno != EEXIST)
			return -1;
		*s = c;
		if (!c)
			return 0;
	}
}

static uint64_t random_id(void)
{
	uint64_t id = 0;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, &id, sizeof(id)) != (ssize_t)sizeof(id))
		id = (uint64_t)time(NULL) * 2654435761u ^ (uint64_t)getpid();
	if (fd >= 0)
		close(fd);
	return id ? id : 1;
}

static void print_file(const char *path, FILE *to)
{
	char buf[4096];
	size_t n;
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, to);
	fclose(f);
}

/* Start the backend for a pipeline command and follow it. */
static int run_pipeline(const char *backend, int argc, char **argv, int cmd, const char *directory)
{
	char pdir[PATH_MAX], sdir[PATH_MAX], logpath[PATH_MAX + 32], sid[32], err[512];
	char **args;
	struct rill_status *st = NULL;
	struct sigaction sa;
	uint64_t id = random_id();
	pid_t pid;
	int i, ws, rc;
	if (find_project(directory, pdir, sizeof(pdir)) || rill_status_dir(pdir, sdir, sizeof(sdir)) ||
	    mkdir_p(sdir))
		return -1;      /* let the backend report it */
	snprintf(logpath, sizeof(logpath), "%s/backend.log", sdir);
	snprintf(sid, sizeof(sid), "%llx", (unsigned long long)id);
	args = calloc((size_t)argc + 6, sizeof(*args));
	if (!args)
		abort();
	/* ours go right after the command, so an option missing its argument at the end of the
	 * user's line cannot take one of them */
	for (i = 0; i <= cmd; i++)
		args[i] = argv[i];
	args[0] = (char *)backend;
	args[i++] = "--status-dir";
	args[i++] = sdir;
	args[i++] = "--session";
	args[i++] = sid;
	for (; i < argc + 4; i++)
		args[i] = argv[i - 4];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_interrupt;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "rill: cannot start the backend: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		int nul = open("/dev/null", O_RDONLY), log = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		setsid();
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		if (nul >= 0)
			dup2(nul, 0);
		if (log >= 0) {
			dup2(log, 1);
			dup2(log, 2);
		}
		execv(backend, args);
		dprintf(2, "rill: cannot run the backend %s: %s\n", backend, strerror(errno));
		_exit(127);
	}
	free(args);
	/* wait for our session to appear in the table, or for the backend to give up early */
	for (;;) {
		if (!st)
			st = rill_status_open(sdir, err, sizeof(err));
		if (st && rill_status_wait_session(st, id, 50) == 0)
			break;
		if (waitpid(pid, &ws, WNOHANG) == pid) {
			if (st && rill_status_wait_session(st, id, 0) == 0)
				break;
			print_file(logpath, stderr);
			if (st)
				rill_status_close(st);
			return WIFEXITED(ws) ? WEXITSTATUS(ws) : 1;
		}
		if (!st) {
			struct timespec t = {0, 20 * 1000 * 1000};
			nanosleep(&t, NULL);
		}
	}
	rc = plain_follow(st, stderr, pid, &interrupted);
	rill_status_close(st);
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	return rc;
}

int main(int argc, char **argv)
{
	char backend[PATH_MAX + 16];
	const char *directory = NULL;
	int i, cmd = 0, help = 0, rc;
	if (backend_path(backend, sizeof(backend)))
		return 1;
	/* find the command after the global options, and -C wherever it is */
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if ((!strcmp(a, "-C") || !strcmp(a, "--directory")) && i + 1 < argc)
			directory = argv[++i];
		else if ((!strcmp(a, "-o") || !strcmp(a, "--option")) && i + 2 < argc && !cmd)
			i += 2;
		else if ((!strcmp(a, "--max-jobs") || !strcmp(a, "--default-mirror")) && i + 1 < argc && !cmd)
			i++;
		else if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			help = 1;
		else if (!cmd && a[0] != '-')
			cmd = i;
	}
	if (cmd && !help && (!strcmp(argv[cmd], "build") || !strcmp(argv[cmd], "fetch") ||
			     !strcmp(argv[cmd], "track"))) {
		rc = run_pipeline(backend, argc, argv, cmd, directory);
		if (rc >= 0)
			return rc;
	}
	argv[0] = backend;
	execv(backend, argv);
	fprintf(stderr, "rill: cannot run the backend %s: %s\n", backend, strerror(errno));
	return 1;
}
