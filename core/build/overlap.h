/* overlap — BuildStream's check of one staging of dependencies into a sysroot: which staged
 * file replaced a file an earlier dependency of the same staging wrote, whether the replacing
 * element's `overlap-whitelist` (public bst data) allows it, and bst's warning text.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_OVERLAP_H
#define RILL_OVERLAP_H

#include "graph/project.h"

struct overlaps;

struct overlaps *overlaps_new(void);
void overlaps_free(struct overlaps *o);

/* Record that staging dependency number dep (its position in the staging) replaced the
 * non-directory at path (relative to the staging directory, no leading '/'). */
void overlaps_note(struct overlaps *o, const char *path, size_t dep);

/* How the report finds out who wrote a path before: calls seen(sud, path) for every file and
 * symbolic link dependency number dep staged. 0, or -1 with err. */
typedef int (*overlaps_files_fn)(void *ud, size_t dep, void (*seen)(void *sud, const char *path), void *sud,
				 struct error *err);

/* BuildStream's report of what was noted, deps being the staged elements in order: each
 * replaced path whose replacing elements do not all whitelist it becomes a line
 * "/<path>: <a> [and <b>] is|are not permitted to overlap other elements, order <last> above
 * ... above <first> " of *detail, after "Staged files overwrite existing files in staging
 * area:". A path that no earlier dependency of this staging wrote is not an overlap (it came
 * from elsewhere). Returns 1 when detail holds non-whitelisted overlaps, 0 when there are
 * none, -1 with err (e.g. a malformed whitelist). Clears what was noted. */
int overlaps_report(struct overlaps *o, struct arena *scratch, struct element *const *deps, size_t ndeps,
		    overlaps_files_fn files, void *ud, struct buf *detail, struct error *err);

#endif
