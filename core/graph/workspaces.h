/* workspaces — BuildStream 1.6's workspaces: <project>/.bst/workspaces.yml and the cache key
 * part of an open workspace (see workspaces.c).
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_WORKSPACES_H
#define RILL_WORKSPACES_H

#include "graph/project.h"

struct workspace {
	const char *element;            /* the element's full name */
	const char *path;               /* as stored: relative to the project when inside it */
	const char *abs;                /* absolute */
	int prepared;                   /* configure-commands have run in it */
	const char *last_successful;    /* key of its last successful build, or NULL */
};

/* The workspace open for element in p's top project: 1 and *out, 0 when none, -1 with err
 * (an unreadable state file). */
int workspace_find(struct project *p, const char *element, struct workspace *out, struct error *err);
/* The elements with an open workspace, in the file's order (*n of them). */
const char *const *workspace_list(struct project *p, size_t *n, struct error *err);
/* Record (open, or update) element's workspace at path, and save the state file. */
int workspace_put(struct project *p, const char *element, const char *path, int prepared, const char *last_successful,
		  struct error *err);
/* Forget element's workspace (the directory stays) and save. */
int workspace_remove(struct project *p, const char *element, struct error *err);
/* The workspace's part of the key dictionary: JSON [[relative path, mtime in ns], ...]. */
int workspace_key_json(const char *abs, struct buf *out, struct error *err);

#endif
