/* options — BuildStream project options, with BuildStream's validation and messages.
 * SPDX-License-Identifier: Apache-2.0 */
#include "format/options.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>

/* Symbol rules of BuildStream's assert_symbol_name: non-empty, [A-Za-z0-9_-], no leading digit. */
int symbol_check(const struct node *at, const char *name, const char *what, int allow_dashes,
		 struct error *err)
{
	const char *p;
	int ok = *name && !(name[0] >= '0' && name[0] <= '9');
	for (p = name; ok && *p; p++) {
		char c = *p;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
		      (allow_dashes && c == '-')))
			ok = 0;
	}
	if (ok)
		return 0;
	return node_error(err, at, "Invalid %s '%s': %s", what, name,
			  allow_dashes ? "Symbols must start with a letter or underscore, and may only contain alphanumeric characters, underscores or dashes"
				       : "Symbols must start with a letter or underscore, and may only contain alphanumeric characters or underscores");
}

static int has_value(const struct option *opt, const char *v)
{
	size_t i;
	for (i = 0; i < opt->nvalues; i++)
		if (strcmp(opt->values[i], v) == 0)
			return 1;
	return 0;
}

static void join_values(struct buf *b, const char **v, size_t n, const char *sep)
{
	size_t i;
	for (i = 0; i < n; i++) {
		if (i)
			buf_adds(b, sep);
		buf_adds(b, v[i]);
	}
}

static int enum_validate(const struct option *opt, const char *v, const struct node *at, struct error *err)
{
	struct buf b = BUF_INIT;
	if (has_value(opt, v))
		return 0;
	join_values(&b, opt->values, opt->nvalues, ", ");
	node_error(err, at, "Invalid value for %s option '%s': %s\nValid values: %s",
		   opt->type == OPTION_ARCH ? "arch" : "enum", opt->name, v, buf_str(&b));
	buf_release(&b);
	return -1;
}

static int flags_validate(const struct option *opt, const char **v, size_t n, const struct node *at,
			  struct error *err)
{
	size_t i;
	for (i = 0; i < n; i++) {
		if (!has_value(opt, v[i])) {
			struct buf b = BUF_INIT, vals = BUF_INIT;
			size_t j;
			buf_addch(&vals, '[');
			for (j = 0; j < n; j++)
				buf_addf(&vals, "%s'%s'", j ? ", " : "", v[j]);
			buf_addch(&vals, ']');
			join_values(&b, opt->values, opt->nvalues, ", ");
			node_error(err, at, "Invalid value for flags option '%s': %s\nValid values: %s", opt->name,
				   buf_str(&vals), buf_str(&b));
			buf_release(&b);
			buf_release(&vals);
			return -1;
		}
	}
	return 0;
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static int str_list(struct arena *a, const struct node *l, const char ***out, size_t *n, struct error *err)
{
	size_t i;
	*out = arena_alloc(a, (l->u.list.n + 1) * sizeof(char *));
	for (i = 0; i < l->u.list.n; i++) {
		const char *s = node_str(l->u.list.items[i]);
		if (!s)
			return node_error(err, l->u.list.items[i], "List item is not of the expected type 'str'");
		(*out)[i] = s;
	}
	*n = l->u.list.n;
	return 0;
}

/* Every .bst file below dir, relative, sorted walk like BuildStream's list_relative_paths. */
static void list_bst(struct arena *a, const char *dir, const char *rel, struct option *opt, size_t *cap)
{
	struct dirent **ents = NULL;
	int i, n = scandir(dir, &ents, NULL, alphasort);
	for (i = 0; i < n; i++) {
		const char *nm = ents[i]->d_name;
		char *path, *r;
		struct stat st;
		if (strcmp(nm, ".") == 0 || strcmp(nm, "..") == 0) {
			free(ents[i]);
			continue;
		}
		path = xasprintf("%s/%s", dir, nm);
		r = *rel ? xasprintf("%s/%s", rel, nm) : xstrdup(nm);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			list_bst(a, path, r, opt, cap);
		} else if (str_has_suffix(nm, ".bst")) {
			GROW(opt->values, *cap, opt->nvalues + 1);
			opt->values[opt->nvalues++] = arena_strdup(a, r);
		}
		free(path);
		free(r);
		free(ents[i]);
	}
	free(ents);
}

static int load_one(struct options *o, struct option *opt, const struct node *def,
		    const char *element_dir, struct error *err)
{
	const char *type, *dflt;
	struct node *values, *dl;
	if (def->type != NODE_MAP)
		return node_error(err, def, "Value of '%s' is not of the expected type 'dict'", opt->name);
	opt->decl = def;
	if (node_get_required_str(def, "type", &type, err))
		return -1;
	if (strcmp(type, "bool") == 0)
		opt->type = OPTION_BOOL;
	else if (strcmp(type, "enum") == 0)
		opt->type = OPTION_ENUM;
	else if (strcmp(type, "flags") == 0)
		opt->type = OPTION_FLAGS;
	else if (strcmp(type, "arch") == 0)
		opt->type = OPTION_ARCH;
	else if (strcmp(type, "element-mask") == 0)
		opt->type = OPTION_ELEMENT_MASK;
	else
		return node_error(err, node_map_get(def, "type"), "Invalid option type '%s'", type);
	if (node_get_required_str(def, "description", &opt->description, err) ||
	    node_get_str(def, "variable", NULL, &opt->variable, err))
		return -1;
	if (opt->variable && symbol_check(node_map_get(def, "variable"), opt->variable, "variable name", 1, err))
		return -1;
	{
		/* allowed keys per type */
		const char *keys[6];
		size_t k = 0;
		keys[k++] = "type";
		keys[k++] = "description";
		keys[k++] = "variable";
		if (opt->type != OPTION_ARCH)
			keys[k++] = "default";
		if (opt->type != OPTION_BOOL && opt->type != OPTION_ELEMENT_MASK)
			keys[k++] = "values";
		keys[k] = NULL;
		if (node_validate(def, keys, err))
			return -1;
	}
	switch (opt->type) {
	case OPTION_BOOL:
		if (!node_map_get(def, "default"))
			return node_error(err, def, "Dictionary did not contain expected key 'default'");
		return node_get_bool(def, "default", 0, &opt->bool_value, err);
	case OPTION_ENUM:
	case OPTION_ARCH:
		if (node_get_list(def, "values", &values, err))
			return -1;
		if (!values || !values->u.list.n)
			return node_error(err, def, "No values specified for %s option '%s'",
					  opt->type == OPTION_ARCH ? "arch" : "enum", opt->name);
		if (str_list(o->a, values, &opt->values, &opt->nvalues, err))
			return -1;
		if (opt->type == OPTION_ARCH) {
			struct utsname u;
			uname(&u);
			opt->str_value = arena_strdup(o->a, u.machine);
			return 0;
		}
		if (node_get_required_str(def, "default", &dflt, err))
			return -1;
		opt->str_value = dflt;
		return enum_validate(opt, dflt, node_map_get(def, "default"), err);
	case OPTION_FLAGS:
	case OPTION_ELEMENT_MASK:
		if (opt->type == OPTION_FLAGS) {
			if (node_get_list(def, "values", &values, err))
				return -1;
			if (values && str_list(o->a, values, &opt->values, &opt->nvalues, err))
				return -1;
		} else {
			size_t cap = 0;
			const char **v = NULL;
			list_bst(o->a, element_dir, "", opt, &cap);
			v = arena_alloc(o->a, (opt->nvalues + 1) * sizeof(char *));
			if (opt->nvalues)
				memcpy(v, opt->values, opt->nvalues * sizeof(char *));
			free(opt->values);
			opt->values = v;
		}
		if (!opt->nvalues)
			return node_error(err, def, "No values specified for %s option '%s'",
					  opt->type == OPTION_FLAGS ? "flags" : "element-mask", opt->name);
		if (node_get_list(def, "default", &dl, err))
			return -1;
		if (dl && str_list(o->a, dl, &opt->flags, &opt->nflags, err))
			return -1;
		return flags_validate(opt, opt->flags, opt->nflags, node_map_get(def, "default"), err);
	}
	return 0;
}

int options_load(struct options *o, struct arena *a, const struct node *defs,
		 const char *element_dir, struct error *err)
{
	size_t i;
	memset(o, 0, sizeof(*o));
	o->a = a;
	if (!defs)
		return 0;
	if (defs->type != NODE_MAP)
		return node_error(err, defs, "Value of 'options' is not of the expected type 'dict'");
	o->opts = arena_alloc(a, (defs->u.map.n + 1) * sizeof(struct option));
	for (i = 0; i < defs->u.map.n; i++) {
		const struct node_entry *e = &defs->u.map.entries[i];
		struct option *opt = &o->opts[o->n++];
		opt->name = e->key;
		if (symbol_check(e->value, e->key, "option name", 0, err))
			return -1;
		if (load_one(o, opt, e->value, element_dir, err))
			return -1;
	}
	return 0;
}

static struct option *find(struct options *o, const char *name)
{
	size_t i;
	for (i = 0; i < o->n; i++)
		if (strcmp(o->opts[i].name, name) == 0)
			return &o->opts[i];
	return NULL;
}

static int set_text(struct options *o, struct option *opt, const char *value, const struct node *at,
		    struct error *err)
{
	switch (opt->type) {
	case OPTION_BOOL:
		if (!strcmp(value, "true") || !strcmp(value, "True"))
			opt->bool_value = 1;
		else if (!strcmp(value, "false") || !strcmp(value, "False"))
			opt->bool_value = 0;
		else
			return node_error(err, at, "Invalid value for boolean option %s: %s", opt->name, value);
		return 0;
	case OPTION_ENUM:
	case OPTION_ARCH:
		if (enum_validate(opt, value, at, err))
			return -1;
		opt->str_value = arena_strdup(o->a, value);
		return 0;
	default: {
		/* comma separated, whitespace removed */
		char *s = arena_alloc(o->a, strlen(value) + 1), *p, *tok;
		const char **list;
		size_t n = 0, i = 0;
		for (p = (char *)value; *p; p++)
			if (*p != ' ' && *p != '\t' && *p != '\n')
				s[i++] = *p;
		s[i] = '\0';
		for (p = s, n = 1; *p; p++)
			n += *p == ',';
		list = arena_alloc(o->a, (n + 1) * sizeof(char *));
		for (i = 0, tok = s;; i++) {
			char *c = strchr(tok, ',');
			if (c)
				*c = '\0';
			list[i] = tok;
			if (!c)
				break;
			tok = c + 1;
		}
		if (flags_validate(opt, list, n, at, err))
			return -1;
		qsort(list, n, sizeof(char *), cmp_str);
		opt->flags = list;
		opt->nflags = n;
		return 0;
	}
	}
}

int options_load_yaml_values(struct options *o, const struct node *values, struct error *err)
{
	size_t i;
	if (!values)
		return 0;
	for (i = 0; i < values->u.map.n; i++) {
		const struct node_entry *e = &values->u.map.entries[i];
		struct option *opt = find(o, e->key);
		if (!opt)
			return node_error(err, e->value, "Unknown option '%s' specified", e->key);
		if (opt->type == OPTION_FLAGS || opt->type == OPTION_ELEMENT_MASK) {
			const char **list;
			size_t n;
			if (e->value->type != NODE_LIST)
				return node_error(err, e->value, "Value of '%s' is not of the expected type 'list'", e->key);
			if (str_list(o->a, e->value, &list, &n, err))
				return -1;
			qsort(list, n, sizeof(char *), cmp_str);
			if (flags_validate(opt, list, n, e->value, err))
				return -1;
			opt->flags = list;
			opt->nflags = n;
		} else {
			if (e->value->type != NODE_SCALAR)
				return node_error(err, e->value, "Value of '%s' is not of the expected type 'str'", e->key);
			if (set_text(o, opt, node_str(e->value), e->value, err))
				return -1;
		}
	}
	return 0;
}

int options_set_cli(struct options *o, const char *name, const char *value, int ignore_unknown,
		    struct error *err)
{
	struct option *opt = find(o, name);
	if (!opt) {
		if (ignore_unknown)
			return 0;
		return error_set(err, "Unknown option '%s' specified on the command line", name);
	}
	return set_text(o, opt, value, NULL, err);
}

int options_resolve(struct options *o, struct error *err)
{
	size_t i;
	for (i = 0; i < o->n; i++)
		/* the host's architecture, not among the values the project declares */
		if (o->opts[i].type == OPTION_ARCH &&
		    enum_validate(&o->opts[i], o->opts[i].str_value, o->opts[i].decl, err))
			return -1;
	return 0;
}

int options_lookup(void *ctx, const char *name, struct expr_value *out)
{
	struct option *opt = find(ctx, name);
	if (!opt)
		return -1;
	memset(out, 0, sizeof(*out));
	switch (opt->type) {
	case OPTION_BOOL:
		out->kind = EXPR_BOOL;
		out->b = opt->bool_value;
		break;
	case OPTION_ENUM:
	case OPTION_ARCH:
		out->kind = EXPR_STRING;
		out->s = opt->str_value;
		break;
	default:
		out->kind = EXPR_LIST;
		out->items = opt->flags;
		out->n = opt->nflags;
		break;
	}
	return 0;
}

const char *options_export_value(struct options *o, const struct option *opt)
{
	struct buf b = BUF_INIT;
	const char *r;
	switch (opt->type) {
	case OPTION_BOOL:
		return opt->bool_value ? "1" : "0";
	case OPTION_ENUM:
	case OPTION_ARCH:
		return opt->str_value;
	default:
		join_values(&b, opt->flags, opt->nflags, ",");
		r = arena_strdup(o->a, buf_str(&b));
		buf_release(&b);
		return r;
	}
}
