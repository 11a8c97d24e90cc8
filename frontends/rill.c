/* rill — the command users type. Pipeline commands (build, fetch, track) start rill-backend
 * in its own session, then render its status table with the tty or plain-log frontend; attach
 * and control talk to a running backend; `status` reads the table itself (status-cmd.c); every
 * other command runs in rill-backend, which this execs. Links only the status reader library.
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

#include "frontend.h"
#include "rill-status.h"
#include "status-cmd.h"

struct frontend_signals frontend_sig;
int frontend_detached;

static void on_signal(int sig)
{
	if (sig == SIGINT)
		frontend_sig.intr = 1;
	else if (sig == SIGTERM)
		frontend_sig.term = 1;
	else if (sig == SIGHUP)
		frontend_sig.hup = 1;
	else if (sig == SIGWINCH)
		frontend_sig.winch = 1;
	else if (sig == SIGTSTP)
		frontend_sig.tstp = 1;
}

static void catch_signals(int tty)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;      /* no SA_RESTART: waits end early so the flags are seen */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGWINCH, &sa, NULL);
	if (tty)
		sigaction(SIGTSTP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* How the frontend shows a session, from the command line and the environment. */
struct frontend_choice {
	int tty;                        /* the tty frontend, else plain */
	int detach;
	int no_colors;
	int heartbeat_s;
	int redraw_rate;                /* tty: redraws per second at most */
	int on_error_given;
};

/* Take the frontend's own options out of argv (they never reach the backend); *cmdi (may be
 * NULL), the command's index in argv, follows. Returns 0, or 2 after printing a usage error. */
static int frontend_options(const char *cmd, int *argc, char **argv, int *cmdi, struct frontend_choice *fc)
{
	const char *term = getenv("TERM"), *want = NULL;
	int i, o = 0, new_cmdi = cmdi ? *cmdi : 0;
	memset(fc, 0, sizeof(*fc));
	fc->heartbeat_s = 30;
	fc->redraw_rate = 10;
	for (i = 0; i < *argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--")) {
			while (i < *argc)
				argv[o++] = argv[i++];
			break;
		}
		if ((!strcmp(a, "--frontend") || !strcmp(a, "--heartbeat") || !strcmp(a, "--redraw-rate")) &&
		    i + 1 < *argc) {
			const char *v = argv[++i];
			char *end;
			if (!strcmp(a, "--frontend")) {
				if (strcmp(v, "tty") && strcmp(v, "plain")) {
					fprintf(stderr, "Usage: rill %s [OPTIONS] TARGETS...\n\nError: Invalid value for "
						"'--frontend': '%s' is not one of 'tty', 'plain'.\n", cmd, v);
					return 2;
				}
				want = v;
			} else if (!strcmp(a, "--redraw-rate")) {
				long n = strtol(v, &end, 10);
				if (*end || end == v || n < 1 || n > 60) {
					fprintf(stderr, "Usage: rill %s [OPTIONS] TARGETS...\n\nError: Invalid value for "
						"'--redraw-rate': '%s' is not a number of redraws per second from 1 to 60.\n",
						cmd, v);
					return 2;
				}
				fc->redraw_rate = (int)n;
			} else {
				long n = strtol(v, &end, 10);
				if (*end || end == v || n < 0 || n > 86400) {
					fprintf(stderr, "Usage: rill %s [OPTIONS] TARGETS...\n\nError: Invalid value for "
						"'--heartbeat': '%s' is not a number of seconds.\n", cmd, v);
					return 2;
				}
				fc->heartbeat_s = (int)n;
			}
			continue;
		}
		if (!strcmp(a, "--detach"))
			fc->detach = 1;
		else if (!strcmp(a, "--no-colors"))
			fc->no_colors = 1;
		else {
			if (!strcmp(a, "--on-error"))
				fc->on_error_given = 1;
			if (cmdi && i == *cmdi)
				new_cmdi = o;
			argv[o++] = argv[i];
		}
	}
	if (cmdi)
		*cmdi = new_cmdi;
	*argc = o;
	argv[o] = NULL;
	if (want)
		fc->tty = !strcmp(want, "tty");
	else
		fc->tty = isatty(2) && !(term && !strcmp(term, "dumb"));
	if (getenv("NO_COLOR") && *getenv("NO_COLOR"))
		fc->no_colors = 1;
	return 0;
}

static int follow(struct rill_status *st, const char *sdir, pid_t backend, int attached,
		  const struct frontend_choice *fc, const char *self)
{
	struct follow_opts o;
	memset(&o, 0, sizeof(o));
	o.dir = sdir;
	o.backend = backend;
	o.attached = attached;
	o.heartbeat_s = fc->heartbeat_s;
	o.frame_ns = 1000000000LL / fc->redraw_rate;
	o.colors = fc->tty && !fc->no_colors;
	o.interactive = fc->tty && isatty(0) && isatty(2);
	o.self = self;
	catch_signals(fc->tty);
	return fc->tty ? tty_follow(st, &o) : plain_follow(st, stderr, &o);
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

/* --log-file (RILL_LOG_FILE): a second reader of the session, a plain-log frontend writing
 * to the file from the session's start while this one shows it (the tty, usually). It ends
 * with the session; ^C and hang-ups are this frontend's business, not its. -1: none. */
static pid_t start_log_file(const char *sdir, uint64_t id)
{
	const char *path = getenv("RILL_LOG_FILE");
	pid_t pid;
	if (!path || !*path)
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		char err[512];
		struct follow_opts o;
		struct rill_status *st;
		FILE *f = fopen(path, "w");
		signal(SIGINT, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		signal(SIGTSTP, SIG_IGN);
		if (!f) {
			fprintf(stderr, "rill: cannot write the log file %s: %s\n", path, strerror(errno));
			_exit(1);
		}
		if (!(st = rill_status_open_session(sdir, id, 5000, err, sizeof(err))))
			_exit(1);
		memset(&o, 0, sizeof(o));
		o.dir = sdir;
		_exit(plain_follow(st, f, &o) < 0 ? 1 : 0);
	}
	return pid;
}

/* Start the backend for a pipeline command and follow it. */
static int run_pipeline(const char *backend, int argc, char **argv, int cmdi, const char *directory,
			const char *self)
{
	struct frontend_choice fc;
	char pdir[PATH_MAX], sdir[PATH_MAX], logpath[PATH_MAX + 32], sid[32], err[512];
	char **args;
	struct rill_status *st = NULL;
	uint64_t id = random_id();
	pid_t pid;
	int i, k, ws, rc;
	const char *cmd = argv[cmdi];
	if ((rc = frontend_options(cmd, &argc, argv, &cmdi, &fc)))
		return rc;
	if (rill_status_find_project(directory, pdir, sizeof(pdir)) || rill_status_dir(pdir, sdir, sizeof(sdir)) ||
	    mkdir_p(sdir))
		return -1;      /* let the backend report it */
	snprintf(logpath, sizeof(logpath), "%s/backend.log", sdir);
	snprintf(sid, sizeof(sid), "%llx", (unsigned long long)id);
	args = calloc((size_t)argc + 8, sizeof(*args));
	if (!args)
		abort();
	/* ours go right after the command, so an option missing its argument at the end of the
	 * user's line cannot take one of them */
	for (i = 0; i <= cmdi; i++)
		args[i] = argv[i];
	args[0] = (char *)backend;
	args[i++] = "--status-dir";
	args[i++] = sdir;
	args[i++] = "--session";
	args[i++] = sid;
	if (!fc.on_error_given && fc.tty && !fc.detach && isatty(0)) {
		/* this interactive frontend decides (or another one attached then) */
		args[i++] = "--on-error";
		args[i++] = "ask";
	}
	for (k = cmdi + 1; k < argc; k++)
		args[i++] = argv[k];
	catch_signals(fc.tty);
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
	if (fc.detach) {
		printf("Started the %s in the background (backend pid %d).\n'rill attach' shows it, "
		       "'rill status' summarizes it, its log: %s\n", cmd, (int)pid, logpath);
		rill_status_close(st);
		return 0;
	}
	{
		pid_t logger = start_log_file(sdir, id);
		rc = follow(st, sdir, pid, 0, &fc, self);
		if (logger > 0 && !frontend_detached)
			while (waitpid(logger, &ws, 0) < 0 && errno == EINTR)
				;
	}
	rill_status_close(st);
	/* a finished session's backend is closing its caches: wait, so that the next command does
	 * not find them busy; a detached frontend leaves the backend running */
	if (!frontend_detached)
		while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
			;
	return rc;
}

static const char usage_attach[] =
	"Usage: rill attach [OPTIONS]\n"
	"\n"
	"  Show the build running in this project (started elsewhere, or with 'rill build --detach')\n"
	"  with the tty frontend, or the plain one when stderr is not a terminal. Several frontends\n"
	"  may watch one build; detaching (press d, close the terminal, or kill this process) never\n"
	"  stops it. An interactive terminal is offered the choices when a job fails.\n"
	"\n"
	"Options:\n"
	"  --frontend [tty|plain]  How to show the build\n"
	"  --no-colors             No colors (also: NO_COLOR set)\n"
	"  --heartbeat SECONDS     plain frontend: a line after this many quiet seconds (default 30)\n"
	"  --redraw-rate N         tty frontend: at most N redraws per second (default 10)\n"
	"  -h, --help              Show this message and exit\n";

static const char usage_control[] =
	"Usage: rill control REQUEST [ELEMENT]\n"
	"\n"
	"  Send a request to the build running in this project and print the answer.\n"
	"\n"
	"Requests:\n"
	"  continue        A failed job waits for a decision: go on with the other jobs\n"
	"  quit            Finish the running jobs, start no more\n"
	"  terminate       Stop every running job and end the build\n"
	"  retry ELEMENT   Run the failed job of ELEMENT again\n"
	"  suspend         Stop every running job until 'resume'\n"
	"  resume          Continue the jobs stopped by 'suspend'\n"
	"  ping            Check that the backend answers\n"
	"\n"
	"  Exit status: 0 done, 1 refused or no build running, 2 usage error.\n";

/* The status table of the project around directory, open; NULL after printing why. */
static struct rill_status *open_project_table(const char *directory, char *sdir, size_t size)
{
	char pdir[PATH_MAX], err[512];
	struct rill_status *st;
	if (rill_status_find_project(directory, pdir, sizeof(pdir))) {
		fprintf(stderr, "rill: no project.conf found in '%s' or any directory above it\n",
			directory ? directory : ".");
		return NULL;
	}
	if (rill_status_dir(pdir, sdir, size)) {
		fprintf(stderr, "rill: cannot derive the status table directory: %s\n", strerror(errno));
		return NULL;
	}
	st = rill_status_open(sdir, err, sizeof(err));
	if (!st)
		fprintf(stderr, "rill: no build has run in %s yet (%s)\n", pdir, err);
	return st;
}

static void print_time(FILE *f, int64_t ns)
{
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;
	char b[64];
	localtime_r(&t, &tm);
	strftime(b, sizeof(b), "%Y-%m-%d %H:%M:%S", &tm);
	fputs(b, f);
}

static int print_dead_job(void *ctx, const struct rill_status_job *j)
{
	(void)ctx;
	if (j->result == RILL_JOB_RUNNING)
		fprintf(stderr, "    %s:%s (pid %d), log %s\n", j->action, j->element_name, (int)j->pid, j->log_path);
	return 0;
}

static int cmd_attach(int argc, char **argv, const char *directory, const char *self)
{
	struct frontend_choice fc;
	struct rill_status_session ses;
	struct rill_status *st;
	char sdir[PATH_MAX];
	int i, rc;
	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(usage_attach, stdout);
			return 0;
		}
	if ((rc = frontend_options("attach", &argc, argv, NULL, &fc)))
		return rc;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-C") || !strcmp(argv[i], "--directory")) {
			i++;
		} else if (strcmp(argv[i], "attach")) {
			fprintf(stderr, "Usage: rill attach [OPTIONS]\n\nError: unexpected argument '%s'.\n", argv[i]);
			return 2;
		}
	}
	st = open_project_table(directory, sdir, sizeof(sdir));
	if (!st)
		return 1;
	if (rill_status_session(st, &ses)) {
		fprintf(stderr, "rill: cannot read the status table: %s\n", rill_status_error(st));
		rill_status_close(st);
		return 1;
	}
	if (rill_session_state_is_final(ses.state) || !rill_status_backend_alive(st)) {
		if (rill_session_state_is_final(ses.state)) {
			fprintf(stderr, "rill: no build is running in %s; the last one (%s %s) ended at ",
				ses.project_dir, ses.command, ses.targets);
			print_time(stderr, ses.end_ns);
			fprintf(stderr, ": %s\n", rill_session_state_name(ses.state));
		} else {
			fprintf(stderr, "rill: the backend (pid %d) of the %s of %s died; it was running:\n",
				(int)ses.backend_pid, ses.command, ses.targets);
			rill_status_jobs(st, print_dead_job, NULL);
			if (!ses.jobs_running)
				fprintf(stderr, "    no job\n");
		}
		rill_status_close(st);
		return 1;
	}
	rc = follow(st, sdir, 0, 1, &fc, self);
	rill_status_close(st);
	return rc;
}

static int cmd_control(int argc, char **argv, int cmd, const char *directory)
{
	char sdir[PATH_MAX], pdir[PATH_MAX], req[1024] = "", reply[1024];
	int i, rc;
	size_t len = 0;
	for (i = cmd + 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(usage_control, stdout);
			return 0;
		}
		if (!strcmp(argv[i], "-C") || !strcmp(argv[i], "--directory")) {
			i++;
			continue;
		}
		len += (size_t)snprintf(req + len, sizeof(req) - len, "%s%s", len ? " " : "", argv[i]);
		if (len >= sizeof(req) - 1) {
			fprintf(stderr, "Usage: rill control REQUEST [ELEMENT]\n\nError: request too long.\n");
			return 2;
		}
	}
	if (!len) {
		fprintf(stderr, "Usage: rill control REQUEST [ELEMENT]\n\nError: Missing argument 'REQUEST'.\n");
		return 2;
	}
	if (rill_status_find_project(directory, pdir, sizeof(pdir)) || rill_status_dir(pdir, sdir, sizeof(sdir))) {
		fprintf(stderr, "rill: no project.conf found in '%s' or any directory above it\n",
			directory ? directory : ".");
		return 1;
	}
	rc = rill_control(sdir, req, reply, sizeof(reply), 5000);
	if (rc < 0) {
		fprintf(stderr, "rill: no build is running in %s\n", pdir);
		return 1;
	}
	fprintf(rc ? stderr : stdout, "%s\n", reply);
	return rc ? 1 : 0;
}

/* bst's global options, written before the command. Those of the project (-C, -o, --max-jobs,
 * --default-mirror) stay where they are; the scheduler's (--fetchers, --builders,
 * --network-retries, --on-error, --no-colors, --no-interactive) are handed to build, fetch and
 * track after their name (the command's own options, later, win); --config, --log-file,
 * --error-lines and --message-lines become environment variables the backend and frontends
 * read; --pushers goes to build and push; --verbose, --debug and --strict are accepted (rill
 * logs everything and builds strictly: --no-strict is refused). Rewrites *argv; returns
 * 0, or 2 after a usage error. */
/* global_options()' argv, reachable for the rest of the process (volatile: a store nobody
 * reads is otherwise dropped, and leak checkers would call it lost) */
static char **volatile rewritten_argv;

static int global_options(int *argcp, char ***argvp)
{
	int argc = *argcp, i = 1, n = 1, m = 0, no_interactive = 0;
	char **argv = *argvp, **out = calloc((size_t)argc + 4, sizeof(*out)), **moved = calloc((size_t)argc + 4, sizeof(*moved));
	if (!out || !moved)
		abort();
	out[0] = argv[0];
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		int has = i + 1 < argc;
		if ((!strcmp(a, "-C") || !strcmp(a, "--directory") || !strcmp(a, "--max-jobs") ||
		     !strcmp(a, "--default-mirror")) && has) {
			out[n++] = argv[i++];
			out[n++] = argv[i];
		} else if ((!strcmp(a, "-o") || !strcmp(a, "--option")) && i + 2 < argc) {
			out[n++] = argv[i++];
			out[n++] = argv[i++];
			out[n++] = argv[i];
		} else if ((!strcmp(a, "--fetchers") || !strcmp(a, "--builders") || !strcmp(a, "--network-retries") ||
			    !strcmp(a, "--on-error") || !strcmp(a, "--pushers")) && has) {
			moved[m++] = argv[i++];
			moved[m++] = argv[i];
		} else if (!strcmp(a, "--bst-keys")) {
			out[n++] = argv[i];
		} else if (!strcmp(a, "--no-colors")) {
			setenv("NO_COLOR", "1", 1);
		} else if (!strcmp(a, "--colors")) {
			unsetenv("NO_COLOR");
		} else if (!strcmp(a, "--no-interactive")) {
			no_interactive = 1;
		} else if (!strcmp(a, "--config") && has) {
			setenv("RILL_CONFIG", argv[++i], 1);
		} else if (!strcmp(a, "--log-file") && has) {
			setenv("RILL_LOG_FILE", argv[++i], 1);
		} else if ((!strcmp(a, "--error-lines") || !strcmp(a, "--message-lines")) && has) {
			char *end;
			long v = strtol(argv[i + 1], &end, 10);
			if (*end || v <= 0) {
				fprintf(stderr, "Usage: rill [OPTIONS] COMMAND [ARGS]...\nTry 'rill --help' for help.\n\n"
					"Error: Invalid value for '%s': '%s' is not a valid integer.\n", a, argv[i + 1]);
				free(out);
				free(moved);
				return 2;
			}
			setenv(a[2] == 'e' ? "RILL_ERROR_LINES" : "RILL_MESSAGE_LINES", argv[++i], 1);
		} else if (!strcmp(a, "--verbose") || !strcmp(a, "--no-verbose") || !strcmp(a, "--debug") ||
			   !strcmp(a, "--no-debug") || !strcmp(a, "--strict")) {
			;
		} else if (!strcmp(a, "--no-strict")) {
			fprintf(stderr, "rill: --no-strict: rill builds in strict mode only\n");
			free(out);
			free(moved);
			return 2;
		} else if (!has && (!strcmp(a, "--fetchers") || !strcmp(a, "--builders") || !strcmp(a, "--network-retries") ||
				    !strcmp(a, "--on-error") || !strcmp(a, "--config") || !strcmp(a, "--log-file") ||
				    !strcmp(a, "--error-lines") || !strcmp(a, "--message-lines") || !strcmp(a, "--pushers"))) {
			fprintf(stderr, "Usage: rill [OPTIONS] COMMAND [ARGS]...\nTry 'rill --help' for help.\n\n"
				"Error: Option '%s' requires an argument.\n", a);
			free(out);
			free(moved);
			return 2;
		} else {
			break;  /* --help, --version, or an unknown option: the usual parsing reports it */
		}
	}
	if (i < argc && (!strcmp(argv[i], "build") || !strcmp(argv[i], "fetch") || !strcmp(argv[i], "track") ||
			 !strcmp(argv[i], "pull") || !strcmp(argv[i], "push"))) {
		out[n++] = argv[i++];
		if (no_interactive) {
			out[n++] = "--on-error";
			out[n++] = "quit";
		}
		for (int k = 0; k < m; k++)
			out[n++] = moved[k];
	}
	for (; i < argc; i++)
		out[n++] = argv[i];
	out[n] = NULL;
	free(moved);
	*argcp = n;
	*argvp = rewritten_argv = out;
	return 0;
}

int main(int argc, char **argv)
{
	char backend[PATH_MAX + 16], self[PATH_MAX];
	const char *directory = NULL;
	int i, cmd = 0, help = 0, rc;
	if (global_options(&argc, &argv))
		return 2;
	if (backend_path(backend, sizeof(backend)))
		return 1;
	{
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		self[n > 0 ? n : 0] = '\0';
	}
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
	if (cmd && !strcmp(argv[cmd], "attach"))
		return cmd_attach(argc, argv, directory, self);
	if (cmd && !strcmp(argv[cmd], "control"))
		return cmd_control(argc, argv, cmd, directory);
	if (cmd && !strcmp(argv[cmd], "status"))
		return status_command(argc - cmd, argv + cmd, directory, help);
	if (cmd && !help && (!strcmp(argv[cmd], "build") || !strcmp(argv[cmd], "fetch") ||
			     !strcmp(argv[cmd], "track") || !strcmp(argv[cmd], "pull") || !strcmp(argv[cmd], "push"))) {
		rc = run_pipeline(backend, argc, argv, cmd, directory, self);
		if (rc >= 0)
			return rc;
	}
	argv[0] = backend;
	execv(backend, argv);
	fprintf(stderr, "rill: cannot run the backend %s: %s\n", backend, strerror(errno));
	return 1;
}
