/* remotes — the remote artifact caches a command uses, configured as bst 1.6.8 configures them:
 * the user configuration's projects: <name>: artifacts:, then project.conf's artifacts:, then
 * the user configuration's top-level artifacts:, duplicates dropped; or only --remote URL.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_REMOTES_H
#define RILL_REMOTES_H

#include "cache/remote.h"
#include "graph/project.h"

/* The specs of the top project p, or with url only that one (push allowed, as bst's
 * --remote). *out is a heap array (free with remotes_free), *n may be 0. Errors name the file,
 * line and column: "project.conf [line 3 column 2]: empty artifact cache URL". */
int remotes_configure(const struct project *p, const char *url, struct remote_spec **out, size_t *n,
		      struct error *err);
void remotes_free(struct remote_spec *v, size_t n);

#endif
