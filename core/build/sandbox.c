/* sandbox — bubblewrap invocation for builds, integration commands and shells.
 * SPDX-License-Identifier: Apache-2.0 */
#include "build/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/osutil.h"

static char *bwrap_path;

int sandbox_check(struct error *err)
{
	if (!bwrap_path)
		bwrap_path = os_which("bwrap");
	if (!bwrap_path)
		return error_set(err, "bwrap (bubblewrap) is not installed: install the Debian package "
				 "bubblewrap (apt-get install bubblewrap)");
	return 0;
}

struct argv {
	const char **v;
	size_t n, cap;
};

static void add(struct argv *a, const char *s)
{
	GROW(a->v, a->cap, a->n + 2);
	a->v[a->n++] = s;
	a->v[a->n] = NULL;
}

/* Mount points made in root for this run, removed again when they are still empty. */
struct made {
	char *paths[32];
	size_t n;
};

static int ensure_dir(const struct sandbox *sb, const char *sub, struct made *m, struct error *err)
{
	const char *root = sb->root;
	char *full = xasprintf("%s/%s", root, sub[0] == '/' ? sub + 1 : sub), *s;
	struct stat st;
	int rc = 0;
	/* create each missing component, remembering the outermost one we made */
	for (s = full + strlen(root) + 1;; s++) {
		if (*s != '/' && *s)
			continue;
		char c = *s;
		*s = '\0';
		if (lstat(full, &st)) {
			if (sb->make_dir ? sb->make_dir(sb->make_dir_ud, AT_FDCWD, full) : mkdir(full, 0755)) {
				rc = error_set(err, "cannot create sandbox directory '%s': %s", full, strerror(errno));
				break;
			}
			if (m && m->n < ARRAY_SIZE(m->paths))
				m->paths[m->n++] = xstrdup(full);
		} else if (!S_ISDIR(st.st_mode)) {
			rc = error_set(err, "cannot create sandbox directory '%s': a file is in the way", full);
			break;
		}
		*s = c;
		if (!c)
			break;
	}
	free(full);
	return rc;
}

static void remove_made(struct made *m)
{
	while (m->n) {
		char *p = m->paths[--m->n];
		rmdir(p);       /* only succeeds when empty: what the command wrote stays */
		free(p);
	}
}

/* One bwrap process: its arguments and the mount points made for it. */
struct launch {
	struct argv a;
	struct made made;
	char uid[24], gid[24];
	pid_t pid;
};

/* Start bwrap on argv: stdio as sandbox_run() says; ctl_fd, when >= 0, becomes fd 3 inside;
 * no other descriptor is inherited. posix_spawn (a vfork) rather than fork: the job process
 * can be large and copying its page tables for every sandbox is measurable. */
static int launch_start(const struct sandbox *sb, const char *const *argv, int out_fd, int ctl_fd,
			struct launch *l, struct error *err)
{
	struct argv *a = &l->a;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t def;
	size_t i;
	int interactive = (sb->flags & SANDBOX_INTERACTIVE) != 0, e;
	static const char *const devs[] = {"/dev/full", "/dev/null", "/dev/urandom", "/dev/random",
					   "/dev/zero"};

	if (sandbox_check(err))
		return -1;
	if (ensure_dir(sb, "dev", &l->made, err) || ensure_dir(sb, "proc", &l->made, err) ||
	    ensure_dir(sb, "tmp", &l->made, err))
		return -1;
	for (i = 0; i < sb->nrw; i++)
		if (ensure_dir(sb, sb->rw_dirs[i], &l->made, err))
			return -1;
	for (i = 0; i < sb->nbind; i++)
		if (ensure_dir(sb, sb->bind_to[i], &l->made, err))
			return -1;
	if (sb->cwd && ensure_dir(sb, sb->cwd, &l->made, err))
		return -1;

	add(a, bwrap_path);
	add(a, "--unshare-pid");
	add(a, "--die-with-parent");
	add(a, "--bind");
	add(a, sb->root);
	add(a, "/");
	if (!(sb->flags & SANDBOX_NETWORK)) {
		add(a, "--unshare-net");
		add(a, "--unshare-uts");
		add(a, "--hostname");
		add(a, "rill");
		add(a, "--unshare-ipc");
	}
	if (sb->cwd) {
		add(a, "--chdir");
		add(a, sb->cwd);
	}
	add(a, "--proc");
	add(a, "/proc");
	add(a, "--tmpfs");
	add(a, "/tmp");
	if (interactive) {
		add(a, "--dev");
		add(a, "/dev");
	} else {
		for (i = 0; i < ARRAY_SIZE(devs); i++) {
			add(a, "--dev-bind");
			add(a, devs[i]);
			add(a, devs[i]);
		}
	}
	if (sb->flags & SANDBOX_DEV_SHM) {
		add(a, "--tmpfs");
		add(a, "/dev/shm");
	}
	for (i = 0; i < sb->nrw; i++) {
		char *host = xasprintf("%s%s", sb->root, sb->rw_dirs[i]);
		add(a, "--bind");
		add(a, host);
		add(a, sb->rw_dirs[i]);
	}
	for (i = 0; i < sb->nbind; i++) {
		add(a, "--bind");
		add(a, sb->bind_from[i]);      /* not below root: launch_release leaves it */
		add(a, sb->bind_to[i]);
	}
	if (sb->flags & SANDBOX_ROOT_READ_ONLY) {
		add(a, "--remount-ro");
		add(a, "/");
	}
	snprintf(l->uid, sizeof(l->uid), "%ld", sb->uid);
	snprintf(l->gid, sizeof(l->gid), "%ld", sb->gid);
	add(a, "--unshare-user");
	add(a, "--uid");
	add(a, l->uid);
	add(a, "--gid");
	add(a, l->gid);
	for (i = 0; argv[i]; i++)
		add(a, argv[i]);

	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	posix_spawnattr_setsigdefault(&attr, &def);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
	if (!interactive) {
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
		posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
		posix_spawn_file_actions_adddup2(&fa, out_fd, 2);
	}
	if (ctl_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, ctl_fd, 3);
	/* nothing else rill inherited reaches the sandbox (as subprocess's close_fds in bst) */
	posix_spawn_file_actions_addclosefrom_np(&fa, ctl_fd >= 0 ? 4 : 3);
	e = posix_spawn(&l->pid, bwrap_path, &fa, &attr, (char *const *)a->v, (char *const *)sb->env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (e) {
		l->pid = -1;
		return error_set(err, "cannot run %s: %s", bwrap_path, strerror(e));
	}
	return 0;
}

/* Wait for the sandbox: *status is its exit status (128+N for signal N). */
static int launch_wait(struct launch *l, int *status, struct error *err)
{
	int ws;
	while (waitpid(l->pid, &ws, 0) < 0) {
		if (errno != EINTR)
			return error_set(err, "waiting for the sandbox: %s", strerror(errno));
	}
	l->pid = -1;
	*status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	return 0;
}

static void launch_release(const struct sandbox *sb, struct launch *l)
{
	size_t i;
	int after_bind;
	for (i = 0, after_bind = 0; i < l->a.n; i++) {
		int is_bind = !strcmp(l->a.v[i], "--bind");     /* read before l->a.v[i] may be freed */
		if (after_bind && l->a.v[i] != sb->root && l->a.v[i][0] == '/' &&
		    str_has_prefix(l->a.v[i], sb->root))
			free((char *)l->a.v[i]);
		after_bind = is_bind;
	}
	free(l->a.v);
	remove_made(&l->made);
}

int sandbox_run(const struct sandbox *sb, const char *const *argv, int out_fd, int *status,
		struct error *err)
{
	struct launch l = {0};
	int rc = launch_start(sb, argv, out_fd, -1, &l, err);
	if (!rc)
		rc = launch_wait(&l, status, err);
	launch_release(sb, &l);
	return rc;
}

/* The driver run by the sandbox's sh for a batch ($1... are the commands). Before each command
 * it says so on fd 3 and waits for the go-ahead, then runs the command exactly as a sandbox of
 * its own would (`sh -c -e CMD`, without fd 3), and stops at the first that fails, exiting
 * with its status; the last command replaces the driver (one process less). Only builtins, so
 * any POSIX sh does, and variables under a prefix that no element environment uses, since
 * assigning an inherited variable would change what the commands see. */
static const char batch_driver[] =
	"while :; do\n"
	"  echo >&3 && read -r __rill_go <&3 || exit 125\n"
	"  case $# in 1) exec sh -c -e \"$1\" 3>&-;; esac\n"
	"  sh -c -e \"$1\" 3>&- || exit $?\n"
	"  shift\n"
	"done\n";

/* bash raises SHLVL when it starts: the driver puts back the value the environment had, so a
 * command run by the driver sees what it would see run alone. */
static char *driver_script(const struct sandbox *sb)
{
	struct buf b = BUF_INIT;
	const char *lvl = NULL;
	size_t i;
	for (i = 0; i < sb->nenv; i++)
		if (str_has_prefix(sb->env[i], "SHLVL="))
			lvl = sb->env[i] + 6;
	if (lvl) {
		buf_adds(&b, "SHLVL='");
		for (; *lvl; lvl++) {
			if (*lvl == '\'')
				buf_adds(&b, "'\\'");
			buf_addch(&b, *lvl);
		}
		buf_adds(&b, "'\n");
	} else {
		buf_adds(&b, "unset SHLVL\n");
	}
	buf_adds(&b, batch_driver);
	return buf_detach(&b);
}

/* Answer the driver: one line per command it is about to start, until it exits. */
static void follow_driver(int fd, size_t n, void (*before)(void *ud, size_t i), void *ud,
			  size_t *started)
{
	char buf[64];
	ssize_t got, k;
	for (;;) {
		got = read(fd, buf, sizeof(buf));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return;
		for (k = 0; k < got; k++) {
			if (buf[k] != '\n')
				continue;
			if (*started < n && before)
				before(ud, *started);
			if (*started < n)
				(*started)++;
			if (send(fd, "\n", 1, MSG_NOSIGNAL) < 0)
				return;
		}
	}
}

static int run_batch(const struct sandbox *sb, const char *const *cmds, size_t base, size_t n,
		     int out_fd, void (*before)(void *ud, size_t i), void *ud, size_t *failed,
		     int *status, struct error *err);

/* All of a batch's commands go on the driver's command line, whose size the kernel limits:
 * a batch larger than this runs in several sandboxes, one after the other. */
#define BATCH_BYTES (256 * 1024)

int sandbox_run_commands(const struct sandbox *sb, const char *const *cmds, size_t n, int out_fd,
			 void (*before)(void *ud, size_t i), void *ud, size_t *failed, int *status,
			 struct error *err)
{
	size_t first = 0;
	*failed = n;
	*status = 0;
	while (first < n) {
		size_t count = 0, bytes = 0;
		while (first + count < n && (!count || bytes + strlen(cmds[first + count]) < BATCH_BYTES))
			bytes += strlen(cmds[first + count++]) + 1;
		if (run_batch(sb, cmds, first, count, out_fd, before, ud, failed, status, err))
			return -1;
		if (*status)
			return 0;
		first += count;
	}
	*failed = n;
	return 0;
}

/* cmds[base .. base+n-1] in one sandbox; *failed is an index into cmds. */
static int run_batch(const struct sandbox *sb, const char *const *cmds, size_t base, size_t n,
		     int out_fd, void (*before)(void *ud, size_t i), void *ud, size_t *failed,
		     int *status, struct error *err)
{
	struct launch l = {0};
	const char **argv = xmalloc((n + 5) * sizeof(*argv));
	char *script = driver_script(sb);
	size_t i, started = base;
	int sv[2] = {-1, -1}, rc = -1;
	*status = 0;
	argv[0] = "sh";
	argv[1] = "-c";
	argv[2] = script;
	argv[3] = "sh";
	for (i = 0; i < n; i++)
		argv[4 + i] = cmds[base + i];
	argv[4 + n] = NULL;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		error_set(err, "cannot create a socket pair: %s", strerror(errno));
		goto out;
	}
	if (launch_start(sb, argv, out_fd, sv[1], &l, err))
		goto out;
	close(sv[1]);
	sv[1] = -1;
	follow_driver(sv[0], base + n, before, ud, &started);
	if (launch_wait(&l, status, err))
		goto out;
	/* a failure before any command started (bwrap could not set up) counts as the first's */
	if (*status)
		*failed = started > base ? started - 1 : base;
	rc = 0;
out:
	if (l.pid > 0) {
		kill(l.pid, SIGKILL);
		waitpid(l.pid, NULL, 0);
	}
	for (i = 0; i < 2; i++)
		if (sv[i] >= 0)
			close(sv[i]);
	launch_release(sb, &l);
	free(script);
	free(argv);
	return rc;
}
