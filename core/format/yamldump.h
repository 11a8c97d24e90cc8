/* yamldump — writes node trees as block-style YAML.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_YAMLDUMP_H
#define RILL_YAMLDUMP_H

#include "format/node.h"

/* Append n to out as block YAML: plain scalars where safe, single-quoted otherwise, multi-line
 * strings as literal blocks; empty maps/lists as {} / []. Always ends with a newline. */
void yamldump(const struct node *n, struct buf *out);

#endif
