/* sandbox — bubblewrap invocation for builds, integration commands and shells.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "osutil.h"

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

static int ensure_dir(const char *root, const char *sub, struct made *m, struct error *err)
{
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
			if (mkdir(full, 0755)) {
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

int sandbox_run(const struct sandbox *sb, const char *const *argv, int out_fd, int *status,
		struct error *err)
{
	struct argv a = {0};
	struct made made = {0};
	char uid[24], gid[24];
	size_t i;
	pid_t pid;
	int rc = -1, ws, interactive = (sb->flags & SANDBOX_INTERACTIVE) != 0;
	static const char *const devs[] = {"/dev/full", "/dev/null", "/dev/urandom", "/dev/random",
					   "/dev/zero"};

	if (sandbox_check(err))
		return -1;
	if (ensure_dir(sb->root, "dev", &made, err) || ensure_dir(sb->root, "proc", &made, err) ||
	    ensure_dir(sb->root, "tmp", &made, err))
		goto out;
	for (i = 0; i < sb->nrw; i++)
		if (ensure_dir(sb->root, sb->rw_dirs[i], &made, err))
			goto out;
	if (sb->cwd && ensure_dir(sb->root, sb->cwd, &made, err))
		goto out;

	add(&a, bwrap_path);
	add(&a, "--unshare-pid");
	add(&a, "--die-with-parent");
	add(&a, "--bind");
	add(&a, sb->root);
	add(&a, "/");
	if (!(sb->flags & SANDBOX_NETWORK)) {
		add(&a, "--unshare-net");
		add(&a, "--unshare-uts");
		add(&a, "--hostname");
		add(&a, "rill");
		add(&a, "--unshare-ipc");
	}
	if (sb->cwd) {
		add(&a, "--chdir");
		add(&a, sb->cwd);
	}
	add(&a, "--proc");
	add(&a, "/proc");
	add(&a, "--tmpfs");
	add(&a, "/tmp");
	if (interactive) {
		add(&a, "--dev");
		add(&a, "/dev");
	} else {
		for (i = 0; i < ARRAY_SIZE(devs); i++) {
			add(&a, "--dev-bind");
			add(&a, devs[i]);
			add(&a, devs[i]);
		}
	}
	if (sb->flags & SANDBOX_DEV_SHM) {
		add(&a, "--tmpfs");
		add(&a, "/dev/shm");
	}
	for (i = 0; i < sb->nrw; i++) {
		char *host = xasprintf("%s%s", sb->root, sb->rw_dirs[i]);
		add(&a, "--bind");
		add(&a, host);
		add(&a, sb->rw_dirs[i]);
	}
	if (sb->flags & SANDBOX_ROOT_READ_ONLY) {
		add(&a, "--remount-ro");
		add(&a, "/");
	}
	snprintf(uid, sizeof(uid), "%ld", sb->uid);
	snprintf(gid, sizeof(gid), "%ld", sb->gid);
	add(&a, "--unshare-user");
	add(&a, "--uid");
	add(&a, uid);
	add(&a, "--gid");
	add(&a, gid);
	for (i = 0; argv[i]; i++)
		add(&a, argv[i]);

	pid = fork();
	if (pid < 0) {
		error_set(err, "cannot start the sandbox: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		if (!interactive) {
			int nul = open("/dev/null", O_RDONLY);
			if (nul >= 0) {
				dup2(nul, 0);
				close(nul);
			}
			dup2(out_fd, 1);
			dup2(out_fd, 2);
		}
		signal(SIGPIPE, SIG_DFL);
		execve(bwrap_path, (char *const *)a.v, (char *const *)sb->env);
		dprintf(interactive ? 2 : out_fd, "rill: cannot run %s: %s\n", bwrap_path, strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &ws, 0) < 0) {
		if (errno != EINTR) {
			error_set(err, "waiting for the sandbox: %s", strerror(errno));
			goto out;
		}
	}
	*status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	rc = 0;
out:
	/* backwards: an entry freed here is never read again as the option before another */
	for (i = a.n; i-- > 1;)
		if (!strcmp(a.v[i - 1], "--bind") && a.v[i] != sb->root && a.v[i][0] == '/' &&
		    str_has_prefix(a.v[i], sb->root))
			free((char *)a.v[i]);
	free(a.v);
	remove_made(&made);
	return rc;
}
