/* sandbox — runs commands in a bubblewrap sandbox the way BuildStream 1.x does: the staged
 * sysroot as /, no network, minimal /dev, /proc and /tmp, the element's environment only,
 * writable build and install directories. The only module that invokes bwrap.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_SANDBOX_H
#define RILL_SANDBOX_H

#include <sys/types.h>

#include "base/util.h"

enum sandbox_flags {
	SANDBOX_ROOT_READ_ONLY = 1 << 0,
	SANDBOX_DEV_SHM = 1 << 1,
	SANDBOX_INTERACTIVE = 1 << 2,   /* terminal stdio, full /dev (rill shell) */
	SANDBOX_NETWORK = 1 << 3,       /* keep the host network (non-isolated shells) */
};

struct sandbox {
	const char *root;               /* host directory that becomes / */
	const char *const *rw_dirs;     /* sandbox paths bound writable (created below root) */
	size_t nrw;
	const char *const *bind_from;   /* host directories bound writable at bind_to[i] (after the
					 * rw dirs: an open workspace at the build root) */
	const char *const *bind_to;
	size_t nbind;
	const char *const *env;         /* "NAME=value" strings: the whole environment */
	size_t nenv;
	long uid, gid;                  /* ids inside the sandbox */
	const char *cwd;                /* sandbox path, created when missing */
	unsigned flags;                 /* enum sandbox_flags */
	/* Makes the missing mount points and rw dirs instead of mkdir(path, 0755) when not NULL
	 * (mkdirat semantics; dirfd is AT_FDCWD and name an absolute path). */
	int (*make_dir)(void *ud, int dirfd, const char *name);
	void *make_dir_ud;
};

/* The bwrap program, or -1 with "bwrap (bubblewrap) is not installed: install the Debian
 * package bubblewrap (apt-get install bubblewrap)". Cached after the first call. */
int sandbox_check(struct error *err);

/* Run argv in the sandbox, stdout and stderr to out_fd (ignored when INTERACTIVE), stdin
 * /dev/null unless INTERACTIVE. The mount points the sandbox needs (dev, proc, tmp, the rw
 * dirs, cwd) are created in root and those that were created empty are removed afterwards.
 * *status receives the command's exit status (128+N for signal N). Returns 0 when the command
 * ran (whatever its status), -1 with err when the sandbox could not be set up. */
int sandbox_run(const struct sandbox *sb, const char *const *argv, int out_fd, int *status,
		struct error *err);

/* Run the shell commands cmds[0..n-1] in order in one sandbox, each started exactly as
 * sandbox_run() would start `sh -c -e CMD` in a sandbox of its own (same environment, cwd and
 * stdio; it just has a small sh driver as parent), stopping at the first that fails. The
 * sandbox's /tmp (and /dev/shm) is the same for all of them. before(ud, i), when not NULL, is
 * called just before command i starts, so the caller can log it first. Returns 0 when the
 * sandbox ran: *failed is n and *status 0 when every command succeeded, else *failed is the
 * index of the command that failed and *status its exit status (128+N for signal N; a sandbox
 * that could not start counts as the first command failing). -1 with err when it could not
 * be started. Batches of more than 256 KB of commands are split into consecutive sandboxes. */
int sandbox_run_commands(const struct sandbox *sb, const char *const *cmds, size_t n, int out_fd,
			 void (*before)(void *ud, size_t i), void *ud, size_t *failed, int *status,
			 struct error *err);

#endif
