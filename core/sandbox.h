/* sandbox — runs commands in a bubblewrap sandbox the way BuildStream 1.x does: the staged
 * sysroot as /, no network, minimal /dev, /proc and /tmp, the element's environment only,
 * writable build and install directories. The only module that invokes bwrap.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_SANDBOX_H
#define RILL_SANDBOX_H

#include <sys/types.h>

#include "util.h"

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
	const char *const *env;         /* "NAME=value" strings: the whole environment */
	size_t nenv;
	long uid, gid;                  /* ids inside the sandbox */
	const char *cwd;                /* sandbox path, created when missing */
	unsigned flags;                 /* enum sandbox_flags */
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

#endif
