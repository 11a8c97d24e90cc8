/* refs — writes tracked source refs back into the project: inline in the element's .bst file
 * (a targeted text edit that keeps the file's formatting) or in project.refs.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_REFS_H
#define RILL_REFS_H

#include "graph/project.h"

/* Set the ref of source number index of e to ref where BuildStream keeps it: in the loaded
 * project's project.refs or junction.refs when it uses them, else inline in e's file. A ref of
 * a subproject's element is not persisted under inline storage: *warning (caller frees) says
 * so. 0, or -1 with err (the file is untouched). */
int refs_write(struct project *p, struct element *e, size_t index, const char *ref, char **warning,
	       struct error *err);

#endif
