/* show — `rill show`: the --format language of BuildStream's show, applied to elements.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_SHOW_H
#define RILL_SHOW_H

#include "graph/project.h"

/* Check fmt: unknown %{symbols} or bad format specs are an error naming them. */
int show_check_format(const char *fmt, struct error *err);
/* Append one line (without newline) for e rendered with fmt. Returns the length of out just
 * after the last symbol substituted, SIZE_MAX when fmt has none: bst strips the newlines that
 * end its whole report, but not those of a symbol's value (see cmd_show). */
size_t show_format(struct project *p, struct element *e, const char *fmt, struct buf *out);

#endif
