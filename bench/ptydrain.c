/* ptydrain — run a command on a new pseudo-terminal and read its output no faster than a slow
 * terminal would (default 20,000 bytes/s), then report its wall time, its own CPU time and how
 * much it wrote. Usage: ptydrain [-n] [-r BYTES_PER_S] [-s COLSxROWS] [-o FILE] [-R FILE] [-q] COMMAND...
 * SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TICK_NS 10000000LL              /* the reader wakes up every 10 ms */
#define QUIET_AFTER_EXIT_NS 2000000000LL /* command gone and nothing to read this long: stop */

static const char usage[] =
	"Usage: ptydrain [-n] [-r BYTES_PER_S] [-s COLSxROWS] [-o FILE] [-R FILE] [-q] COMMAND [ARG...]\n"
	"  Run COMMAND on a new pseudo-terminal (TERM=xterm-256color) and read what it writes at\n"
	"  most BYTES_PER_S bytes per second, like a slow terminal: a command that writes faster\n"
	"  fills the kernel's pty buffer (about 64 KB on Linux) and then blocks in write().\n"
	"  After COMMAND exits, the rest is drained at the same rate. Then one line on stderr:\n"
	"    ptydrain: status S exit_s E drained_s D bytes B bytes_at_exit X cpu_s C\n"
	"              children_cpu_s K start_real T0 exit_real T1\n"
	"  E: seconds from start to COMMAND's exit; D: to the last byte read; B: bytes read in\n"
	"  all; X: bytes read by the time COMMAND exited; C: COMMAND's own CPU time (user +\n"
	"  system, without its children), K: its children's that it waited for; T0, T1: start\n"
	"  and exit as seconds since the epoch. Exit status: COMMAND's (128+signal).\n"
	"Options:\n"
	"  -n              No terminal: COMMAND keeps ptydrain's stdin, stdout and stderr (its\n"
	"                  own session all the same), to measure it the same way without a pty\n"
	"  -r BYTES_PER_S  Reading rate, 'k' suffix for 1000 (default: 20k; 0: unlimited)\n"
	"  -s COLSxROWS    Window size (default: 120x40)\n"
	"  -o FILE         Save what was read to FILE (default: discard it)\n"
	"  -R FILE         Write the report line to FILE instead of stderr\n"
	"  -q              No report line\n";

static volatile sig_atomic_t child_exited, forward_sig;
static struct timespec exit_time;

static int64_t ns_of(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000LL + t->tv_nsec;
}

static int64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return ns_of(&t);
}

static double real_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void on_chld(int sig)
{
	(void)sig;
	if (!child_exited)
		clock_gettime(CLOCK_MONOTONIC, &exit_time);
	child_exited = 1;
}

static void on_term(int sig)
{
	forward_sig = sig;
}

static int parse_rate(const char *s, long long *out)
{
	char *end;
	long long v;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (end != s && (*end == 'k' || *end == 'K')) {
		v *= 1000;
		end++;
	}
	if (errno || end == s || *end || v < 0)
		return -1;
	*out = v;
	return 0;
}

struct drain {
	int master;
	FILE *save;
	long long rate;                 /* bytes per second, 0: unlimited */
	double credit;                  /* bytes we may read now; never more than one tick's worth */
	uint64_t bytes;
};

/* Read what this tick allows. Returns bytes read, 0 when nothing was there, -1 at EOF (EIO:
 * every writer closed the terminal and its buffer is empty). */
static ssize_t drain_tick(struct drain *d, double tick_s)
{
	char buf[65536];
	size_t want = sizeof(buf);
	ssize_t n, total = 0;
	if (d->rate) {
		double cap = (double)d->rate * TICK_NS / 1e9;
		d->credit += (double)d->rate * tick_s;
		if (d->credit > cap)
			d->credit = cap;        /* a line does not save up unused time */
		if (d->credit < 1)
			return 0;
		want = (size_t)d->credit < want ? (size_t)d->credit : want;
	}
	for (;;) {
		n = read(d->master, buf, want - (size_t)total);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0)
			return total ? total : -1;
		if (d->save && fwrite(buf, 1, (size_t)n, d->save) != (size_t)n) {
			perror("ptydrain: writing the output file");
			d->save = NULL;
		}
		total += n;
		if (d->rate || (size_t)total == want)
			break;
	}
	d->bytes += (uint64_t)total;
	if (d->rate)
		d->credit -= (double)total;
	return total;
}

/* Fork and exec argv: on a new terminal (its master in *master), or, master NULL, in a new
 * session with our stdio. */
static pid_t start(char **argv, int cols, int rows, int *master, const sigset_t *unblocked)
{
	struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
	pid_t pid = master ? forkpty(master, NULL, NULL, &ws) : fork();
	if (pid == 0) {
		if (master)
			setenv("TERM", "xterm-256color", 1);
		else
			setsid();
		signal(SIGPIPE, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		sigprocmask(SIG_SETMASK, unblocked, NULL);
		execvp(argv[0], argv);
		fprintf(stderr, "ptydrain: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (pid < 0)
		perror("ptydrain: forkpty");
	return pid;
}

/* What we learn about the command. */
struct run {
	pid_t pid;
	int ws;                         /* wait status, once reaped */
	int reaped;
	int64_t t0, exited, drained;    /* monotonic ns */
	uint64_t bytes_at_exit;
	double cpu, children_cpu;       /* seconds; -1 when unknown */
};

/* The command has exited: read its CPU times from /proc while it is a zombie, then reap it. */
static void reap(struct run *r)
{
	siginfo_t si;
	char path[64], buf[1024], *p;
	unsigned long long v[4];
	double tck = (double)sysconf(_SC_CLK_TCK);
	int fd;
	ssize_t n;
	r->cpu = r->children_cpu = -1;
	while (waitid(P_PID, (id_t)r->pid, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR)
		;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)r->pid);
	fd = open(path, O_RDONLY);
	n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n > 0) {
		buf[n] = '\0';
		/* after "pid (comm)": state is field 3, utime 14, stime 15, cutime 16, cstime 17 */
		p = strrchr(buf, ')');
		if (p && sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %llu %llu",
				&v[0], &v[1], &v[2], &v[3]) == 4) {
			r->cpu = (double)(v[0] + v[1]) / tck;
			r->children_cpu = (double)(v[2] + v[3]) / tck;
		}
	}
	while (waitpid(r->pid, &r->ws, 0) < 0 && errno == EINTR)
		;
	r->reaped = 1;
	r->exited = child_exited ? ns_of(&exit_time) : now_ns();
}

static void forward_signal(pid_t pid)
{
	if (forward_sig) {
		/* the command is a session leader: its whole group gets it */
		kill(-pid, forward_sig);
		forward_sig = 0;
	}
}

/* -n: nothing to read, wait for the command. SIGCHLD is blocked but while suspended. */
static void wait_command(struct run *r, const sigset_t *unblocked)
{
	while (!child_exited) {
		forward_signal(r->pid);
		sigsuspend(unblocked);
	}
	forward_signal(r->pid);
	reap(r);
	r->drained = r->exited;
}

/* Read the terminal tick by tick until the command has exited and its output is drained. */
static void drain_command(struct run *r, struct drain *d, const sigset_t *unblocked)
{
	int64_t prev = r->t0, next = r->t0 + TICK_NS, last_data = 0, now;
	ssize_t got;
	sigprocmask(SIG_SETMASK, unblocked, NULL);
	fcntl(d->master, F_SETFL, fcntl(d->master, F_GETFL) | O_NONBLOCK);
	for (;;) {
		struct timespec until = {(time_t)(next / 1000000000LL), (long)(next % 1000000000LL)};
		forward_signal(r->pid);
		if (child_exited && !r->reaped) {
			reap(r);
			r->bytes_at_exit = d->bytes;
			last_data = now_ns();
		}
		now = now_ns();
		got = drain_tick(d, (double)(now - prev) / 1e9);
		prev = now;
		if (got > 0)
			last_data = now_ns();
		if (got < 0 || (r->reaped && now - last_data > QUIET_AFTER_EXIT_NS))
			break;
		if (!d->rate) {
			struct pollfd p = {d->master, POLLIN, 0};
			if (!got)
				poll(&p, 1, 10);
			continue;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == EINTR && !child_exited &&
		       !forward_sig)
			;
		next += TICK_NS;
		if (next < now)
			next = now + TICK_NS;
	}
	if (!r->reaped) {
		/* the terminal closed before the command exited (it closed it itself) */
		reap(r);
		r->bytes_at_exit = d->bytes;
	}
	r->drained = last_data > r->exited ? last_data : r->exited;
}

int main(int argc, char **argv)
{
	struct drain d = {.master = -1, .rate = 20000};
	struct run r = {0};
	const char *save_path = NULL, *report_path = NULL;
	FILE *report = stderr;
	int cols = 120, rows = 40, quiet = 0, no_pty = 0, opt, status;
	double real0;
	struct sigaction sa;
	sigset_t chld, unblocked;

	while ((opt = getopt(argc, argv, "+nr:s:o:R:qh")) != -1) {
		switch (opt) {
		case 'n':
			no_pty = 1;
			break;
		case 'r':
			if (parse_rate(optarg, &d.rate)) {
				fprintf(stderr, "ptydrain: -r: '%s' is not a rate in bytes per second\n", optarg);
				return 2;
			}
			break;
		case 's':
			if (sscanf(optarg, "%dx%d", &cols, &rows) != 2 || cols < 1 || rows < 1 || cols > 9999 ||
			    rows > 9999) {
				fprintf(stderr, "ptydrain: -s: '%s' is not COLSxROWS\n", optarg);
				return 2;
			}
			break;
		case 'o':
			save_path = optarg;
			break;
		case 'R':
			report_path = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		fputs(usage, stderr);
		return 2;
	}
	if (no_pty && save_path) {
		fputs("ptydrain: -o reads the terminal's output: it needs one (not with -n)\n", stderr);
		return 2;
	}
	if (report_path && !(report = fopen(report_path, "w"))) {
		fprintf(stderr, "ptydrain: %s: %s\n", report_path, strerror(errno));
		return 2;
	}
	if (save_path && !(d.save = fopen(save_path, "w"))) {
		fprintf(stderr, "ptydrain: %s: %s\n", save_path, strerror(errno));
		return 2;
	}
	/* SIGCHLD stays blocked until we wait, so that its handler cannot run before pid is known */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &unblocked);
	sigdelset(&unblocked, SIGCHLD);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_chld;
	sa.sa_flags = SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
	sa.sa_handler = on_term;
	sa.sa_flags = 0;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	real0 = real_s();
	r.t0 = now_ns();
	r.pid = start(argv + optind, cols, rows, no_pty ? NULL : &d.master, &unblocked);
	if (r.pid < 0)
		return 2;
	if (no_pty)
		wait_command(&r, &unblocked);
	else
		drain_command(&r, &d, &unblocked);
	if (d.save && fclose(d.save))
		perror("ptydrain: writing the output file");
	status = WIFEXITED(r.ws) ? WEXITSTATUS(r.ws) : 128 + WTERMSIG(r.ws);
	if (!quiet)
		fprintf(report, "ptydrain: status %d exit_s %.3f drained_s %.3f bytes %llu bytes_at_exit %llu "
			"cpu_s %.2f children_cpu_s %.2f start_real %.3f exit_real %.3f\n",
			status, (double)(r.exited - r.t0) / 1e9, (double)(r.drained - r.t0) / 1e9,
			(unsigned long long)d.bytes, (unsigned long long)r.bytes_at_exit, r.cpu, r.children_cpu, real0,
			real0 + (double)(r.exited - r.t0) / 1e9);
	if (report != stderr && fclose(report))
		perror("ptydrain: writing the report");
	return status;
}
