/* spare — empty directories kept from finished builds' sysroots and renamed into place by the
 * next builds instead of being made afresh. A pile of them is a build directory whose only
 * entries are empty directories named 0, 1, ..., parked as <build parent>/.spare/<n>.<name>.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_SPARE_H
#define RILL_SPARE_H

#include "base/util.h"

struct spare_dirs {
	int dirfd;              /* the build directory, which holds the spares; -1 when none */
	unsigned n;             /* spares "0" .. "n-1" */
};

/* A new build directory parent/<prefix>-XXXXXX (*dir, heap): a parked pile renamed to that
 * name when there is one (sd then holds its spares), else a new empty directory. 0, or -1
 * with err when neither can be had. Release sd with spare_close(). */
int spare_new_dir(const char *parent, const char *prefix, struct spare_dirs *sd, char **dir,
		  struct error *err);

/* mkdirat(dirfd, name, 0755), by renaming a spare into place while there are any: the same
 * result (an empty directory of mode 0755, or -1 with errno, EEXIST when something is in the
 * way). sd is a struct spare_dirs (the hook shape of cas_stager_new()). */
int spare_mkdirat(void *sd, int dirfd, const char *name);

/* Turn the tree root_name inside the build directory dir into spares (directories of mode
 * 0755 that we own; every other file is removed) and park dir as a pile under parent/.spare
 * for the next build. Only for trees that nothing but staging wrote to: directories are
 * reused as they are. 0, or -1 when the tree holds something else or a step failed: the
 * caller then removes dir. Closes sd. */
int spare_park(struct spare_dirs *sd, const char *parent, const char *dir, const char *root_name);

/* Remove the spares still in the build directory (a failed build kept for debugging) when
 * drop, and close sd. */
void spare_close(struct spare_dirs *sd, int drop);

#endif
