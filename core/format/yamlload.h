/* yamlload — loads YAML files into node trees with provenance. The only user of libyaml.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_YAMLLOAD_H
#define RILL_YAMLLOAD_H

#include "format/node.h"

/* Parse data (len bytes) as one YAML document whose top level must be a mapping (an empty
 * document or one holding only comments gives an empty mapping). name is what errors print and
 * what the nodes' provenance refers to; it is copied into a. All scalars load as strings.
 * Duplicate keys, non-scalar keys, multiple documents, nesting deeper than YAML_MAX_DEPTH and
 * malformed input are errors "<name> [line L column C]: ...". Returns the map or NULL with err. */
#define YAML_MAX_DEPTH 512
struct node *yaml_load_data(struct arena *a, const char *data, size_t len, const char *name,
			    struct error *err);

/* Read path and parse it as above. Missing file: "Could not find file at <name>". */
struct node *yaml_load_file(struct arena *a, const char *path, const char *name, struct error *err);

#endif
