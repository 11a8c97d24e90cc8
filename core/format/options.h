/* options — project options (bool, enum, flags, arch, element-mask): definitions, values from
 * defaults, user config and the command line, and their use in (?) expressions and variables.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_OPTIONS_H
#define RILL_OPTIONS_H

#include "format/expr.h"
#include "format/node.h"

enum option_type { OPTION_BOOL, OPTION_ENUM, OPTION_FLAGS, OPTION_ARCH, OPTION_ELEMENT_MASK };

struct option {
	const char *name;
	enum option_type type;
	const char *description;
	const char *variable;           /* exported variable name or NULL */
	const char **values;            /* enum/flags/arch/element-mask: valid values */
	size_t nvalues;
	int bool_value;                 /* bool */
	const char *str_value;          /* enum, arch */
	const char **flags;             /* flags, element-mask (sorted once set by a user) */
	size_t nflags;
	const struct node *decl;        /* the declaration in project.conf (for errors) */
};

struct options {
	struct arena *a;
	struct option *opts;
	size_t n;
};

/* Load definitions from the project's `options` map. element_dir is the element path on disk
 * (element-mask values are every .bst below it). Errors name the offending node. */
int options_load(struct options *o, struct arena *a, const struct node *defs,
		 const char *element_dir, struct error *err);
/* Apply values from a YAML map (user config projects.<name>.options). */
int options_load_yaml_values(struct options *o, const struct node *values, struct error *err);
/* Apply one -o NAME VALUE. ignore_unknown: silently skip unknown names. */
int options_set_cli(struct options *o, const char *name, const char *value, int ignore_unknown,
		    struct error *err);
/* Final validation (arch value must be one of its values). */
int options_resolve(struct options *o, struct error *err);
/* expr_lookup_fn over the options; ctx is the struct options. */
int options_lookup(void *ctx, const char *name, struct expr_value *out);
/* The exported text value: bool "1"/"0", flags comma-joined; arena-owned. */
const char *options_export_value(struct options *o, const struct option *opt);

/* BuildStream's symbol rules (assert_symbol_name): non-empty, letters, digits, '_' (and '-' when
 * allow_dashes), not starting with a digit. what names the thing in the message. */
int symbol_check(const struct node *at, const char *name, const char *what, int allow_dashes,
		 struct error *err);

#endif
