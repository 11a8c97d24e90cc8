/* test_options — option definitions, defaults, values from the command line and user config,
 * their messages, lookup for expressions, exported values and symbol rules.
 * SPDX-License-Identifier: Apache-2.0 */
#include "test.h"

#include "format/options.h"
#include "format/yamlload.h"

static struct arena *A;

static struct node *load(const char *s)
{
	struct error err = ERROR_INIT;
	struct node *n = yaml_load_data(A, s, strlen(s), "project.conf", &err);
	if (!n)
		printf("  load failed: %s\n", err.msg);
	error_release(&err);
	return n;
}

static const char DEFS[] =
	"options:\n"
	"  debug:\n"
	"    type: bool\n"
	"    description: Debug build\n"
	"    default: False\n"
	"    variable: debug-build\n"
	"  flavour:\n"
	"    type: enum\n"
	"    description: The flavour\n"
	"    values: [plain, fancy]\n"
	"    default: plain\n"
	"  extras:\n"
	"    type: flags\n"
	"    description: Extras\n"
	"    values: [c, a, b]\n"
	"    default: [c, a]\n";

static struct option *opt_named(struct options *o, const char *name)
{
	size_t i;
	for (i = 0; i < o->n; i++)
		if (strcmp(o->opts[i].name, name) == 0)
			return &o->opts[i];
	return NULL;
}

static int load_defs(struct options *o, const char *text, struct error *err)
{
	struct node *doc = load(text);
	if (!doc)
		return -1;
	return options_load(o, A, node_map_get(doc, "options"), "/nonexistent", err);
}

static void defaults(void)
{
	struct options o;
	struct error err = ERROR_INIT;
	struct option *d, *f, *x;
	CHECK(load_defs(&o, DEFS, &err) == 0);
	CHECK(err.msg == NULL);
	CHECK(o.n == 3);
	d = opt_named(&o, "debug");
	f = opt_named(&o, "flavour");
	x = opt_named(&o, "extras");
	CHECK(d && f && x);
	if (!d || !f || !x)
		return;
	CHECK(d->type == OPTION_BOOL && d->bool_value == 0);
	CHECK_STR(d->variable, "debug-build");
	CHECK_STR(d->description, "Debug build");
	CHECK(f->type == OPTION_ENUM);
	CHECK_STR(f->str_value, "plain");
	CHECK(f->nvalues == 2);
	CHECK_STR(f->values[1], "fancy");
	CHECK(f->variable == NULL);
	CHECK(x->type == OPTION_FLAGS && x->nflags == 2 && x->nvalues == 3);
	CHECK_STR(options_export_value(&o, d), "0");
	CHECK_STR(options_export_value(&o, f), "plain");
	/* defaults keep the order they were written in */
	CHECK_STR(options_export_value(&o, x), "c,a");
	CHECK(options_resolve(&o, &err) == 0);
	error_release(&err);
}

static void cli_values(void)
{
	struct options o;
	struct error err = ERROR_INIT;
	struct option *x;
	CHECK(load_defs(&o, DEFS, &err) == 0);
	CHECK(options_set_cli(&o, "debug", "True", 0, &err) == 0);
	CHECK_STR(options_export_value(&o, opt_named(&o, "debug")), "1");
	CHECK(options_set_cli(&o, "debug", "false", 0, &err) == 0);
	CHECK_STR(options_export_value(&o, opt_named(&o, "debug")), "0");
	CHECK(options_set_cli(&o, "debug", "true", 0, &err) == 0);
	CHECK_STR(options_export_value(&o, opt_named(&o, "debug")), "1");
	CHECK(options_set_cli(&o, "flavour", "fancy", 0, &err) == 0);
	CHECK_STR(options_export_value(&o, opt_named(&o, "flavour")), "fancy");
	/* flags: whitespace stripped, sorted */
	CHECK(options_set_cli(&o, "extras", "b, a", 0, &err) == 0);
	x = opt_named(&o, "extras");
	CHECK(x->nflags == 2);
	CHECK_STR(x->flags[0], "a");
	CHECK_STR(x->flags[1], "b");
	CHECK_STR(options_export_value(&o, x), "a,b");
	CHECK(options_set_cli(&o, "extras", " c ,b,a ", 0, &err) == 0);
	CHECK_STR(options_export_value(&o, x), "a,b,c");
	CHECK(options_set_cli(&o, "extras", "b", 0, &err) == 0);
	CHECK_STR(options_export_value(&o, x), "b");
	CHECK(err.msg == NULL);
	/* unknown names */
	CHECK(options_set_cli(&o, "nosuch", "1", 1, &err) == 0);
	CHECK(err.msg == NULL);
	CHECK(options_set_cli(&o, "nosuch", "1", 0, &err) == -1);
	CHECK_STR(err.msg, "Unknown option 'nosuch' specified on the command line");
	error_release(&err);
}

static void invalid_values(void)
{
	struct options o;
	struct error err = ERROR_INIT;
	CHECK(load_defs(&o, DEFS, &err) == 0);
	CHECK(options_set_cli(&o, "flavour", "spicy", 0, &err) == -1);
	CHECK_STR(err.msg, "Invalid value for enum option 'flavour': spicy\nValid values: plain, fancy");
	CHECK_STR(opt_named(&o, "flavour")->str_value, "plain");
	CHECK(options_set_cli(&o, "debug", "yes", 0, &err) == -1);
	CHECK_STR(err.msg, "Invalid value for boolean option debug: yes");
	CHECK(opt_named(&o, "debug")->bool_value == 0);
	CHECK(options_set_cli(&o, "extras", "a,zz", 0, &err) == -1);
	CHECK_STR(err.msg, "Invalid value for flags option 'extras': ['a', 'zz']\nValid values: c, a, b");
	CHECK_STR(options_export_value(&o, opt_named(&o, "extras")), "c,a");
	error_release(&err);
}

static void yaml_values(void)
{
	struct options o;
	struct error err = ERROR_INIT;
	struct node *v;
	CHECK(load_defs(&o, DEFS, &err) == 0);
	v = load("debug: 'True'\nflavour: fancy\nextras: [b, c]\n");
	CHECK(options_load_yaml_values(&o, v, &err) == 0);
	CHECK_STR(options_export_value(&o, opt_named(&o, "debug")), "1");
	CHECK_STR(options_export_value(&o, opt_named(&o, "flavour")), "fancy");
	CHECK_STR(options_export_value(&o, opt_named(&o, "extras")), "b,c");
	v = load("\nflavour: sour\n");
	CHECK(options_load_yaml_values(&o, v, &err) == -1);
	CHECK_STR(err.msg, "project.conf [line 2 column 9]: Invalid value for enum option 'flavour': sour\n"
			   "Valid values: plain, fancy");
	v = load("colour: red\n");
	CHECK(options_load_yaml_values(&o, v, &err) == -1);
	CHECK_STR(err.msg, "project.conf [line 1 column 8]: Unknown option 'colour' specified");
	v = load("extras: a\n");
	CHECK(options_load_yaml_values(&o, v, &err) == -1);
	CHECK_STR(err.msg, "project.conf [line 1 column 8]: Value of 'extras' is not of the expected type 'list'");
	error_release(&err);
}

static void lookup(void)
{
	struct options o;
	struct error err = ERROR_INIT;
	struct expr_value v;
	CHECK(load_defs(&o, DEFS, &err) == 0);
	CHECK(options_set_cli(&o, "debug", "true", 0, &err) == 0);
	CHECK(options_set_cli(&o, "extras", "b,a", 0, &err) == 0);
	CHECK(options_lookup(&o, "debug", &v) == 0);
	CHECK(v.kind == EXPR_BOOL && v.b);
	CHECK(options_lookup(&o, "flavour", &v) == 0);
	CHECK(v.kind == EXPR_STRING);
	CHECK_STR(v.s, "plain");
	CHECK(options_lookup(&o, "extras", &v) == 0);
	CHECK(v.kind == EXPR_LIST && v.n == 2);
	CHECK_STR(v.items[0], "a");
	CHECK(options_lookup(&o, "missing", &v) == -1);
	/* and through the expression evaluator */
	{
		int truth = -1;
		CHECK(expr_eval("debug and flavour == 'plain' and 'b' in extras", options_lookup, &o, &truth, &err) == 0);
		CHECK(truth == 1);
		CHECK(expr_eval("'c' in extras", options_lookup, &o, &truth, &err) == 0);
		CHECK(truth == 0);
	}
	error_release(&err);
}

static void bad_definitions(void)
{
	struct options o;
	struct error err = ERROR_INIT;
	CHECK(load_defs(&o, "options:\n  e:\n    type: enum\n    description: d\n    values: [a, b]\n"
			    "    default: c\n", &err) == -1);
	CHECK_STR(err.msg, "project.conf [line 6 column 13]: Invalid value for enum option 'e': c\nValid values: a, b");
	CHECK(load_defs(&o, "options:\n  e:\n    type: enum\n    description: d\n    default: c\n", &err) == -1);
	CHECK_STR(err.msg, "project.conf [line 3 column 4]: No values specified for enum option 'e'");
	CHECK(load_defs(&o, "options:\n  b:\n    type: bool\n    description: d\n", &err) == -1);
	CHECK_STR(err.msg, "project.conf [line 3 column 4]: Dictionary did not contain expected key 'default'");
	CHECK(load_defs(&o, "options:\n  b:\n    type: bool\n    description: d\n    default: maybe\n", &err) == -1);
	CHECK_STR(err.msg, "project.conf [line 5 column 13]: Value of 'default' is not of the expected type 'bool'");
	CHECK(load_defs(&o, "options:\n  b:\n    type: number\n    description: d\n", &err) == -1);
	CHECK_STR(err.msg, "project.conf [line 3 column 10]: Invalid option type 'number'");
	CHECK(load_defs(&o, "options:\n  b:\n    type: bool\n    default: true\n", &err) == -1);
	CHECK_STR(err.msg, "project.conf [line 3 column 4]: Dictionary did not contain expected key 'description'");
	CHECK(load_defs(&o, "options:\n  b:\n    type: bool\n    description: d\n    default: true\n"
			    "    values: [x]\n", &err) == -1);
	CHECK_STR(err.msg, "project.conf [line 6 column 12]: Unexpected key: values");
	CHECK(load_defs(&o, "options:\n  f:\n    type: flags\n    description: d\n    values: [a]\n"
			    "    default: [a, q]\n", &err) == -1);
	CHECK_STR(err.msg, "project.conf [line 6 column 13]: Invalid value for flags option 'f': ['a', 'q']\n"
			   "Valid values: a");
	CHECK(load_defs(&o, "options:\n  1st:\n    type: bool\n    description: d\n    default: true\n", &err) == -1);
	CHECK(err.msg && strstr(err.msg, "Invalid option name '1st': Symbols must start with a letter or underscore"));
	CHECK(load_defs(&o, "options:\n  b:\n    type: bool\n    description: d\n    default: true\n"
			    "    variable: 'has space'\n", &err) == -1);
	CHECK(err.msg && strstr(err.msg, "[line 6 column 14]: Invalid variable name 'has space'"));
	error_release(&err);
}

static void symbols(void)
{
	struct error err = ERROR_INIT;
	CHECK(symbol_check(NULL, "abc", "x", 0, &err) == 0);
	CHECK(symbol_check(NULL, "_a1_B2", "x", 0, &err) == 0);
	CHECK(symbol_check(NULL, "a-b", "x", 1, &err) == 0);
	CHECK(symbol_check(NULL, "a9", "x", 1, &err) == 0);
	CHECK(err.msg == NULL);
	CHECK(symbol_check(NULL, "a-b", "option name", 0, &err) == -1);
	CHECK_STR(err.msg, "Invalid option name 'a-b': Symbols must start with a letter or underscore, and may only "
			   "contain alphanumeric characters or underscores");
	CHECK(symbol_check(NULL, "9a", "variable name", 1, &err) == -1);
	CHECK_STR(err.msg, "Invalid variable name '9a': Symbols must start with a letter or underscore, and may only "
			   "contain alphanumeric characters, underscores or dashes");
	CHECK(symbol_check(NULL, "", "x", 1, &err) == -1);
	CHECK(symbol_check(NULL, "a.b", "x", 1, &err) == -1);
	CHECK(symbol_check(NULL, "a b", "x", 1, &err) == -1);
	{
		struct node *m = load("k: v\n");
		CHECK(symbol_check(node_map_get(m, "k"), "-x", "thing", 0, &err) == -1);
		CHECK(err.msg && strncmp(err.msg, "project.conf [line 1 column 3]: Invalid thing '-x': ", 52) == 0);
	}
	error_release(&err);
}

static void no_options(void)
{
	struct options o;
	struct error err = ERROR_INIT;
	struct expr_value v;
	CHECK(options_load(&o, A, NULL, "/nonexistent", &err) == 0);
	CHECK(o.n == 0);
	CHECK(options_lookup(&o, "x", &v) == -1);
	CHECK(load_defs(&o, "options: [a]\n", &err) == -1);
	CHECK_STR(err.msg, "project.conf [line 1 column 9]: Value of 'options' is not of the expected type 'dict'");
	error_release(&err);
}

int main(void)
{
	test_prog = "options";
	A = arena_new();
	RUN(defaults);
	RUN(cli_values);
	RUN(invalid_values);
	RUN(yaml_values);
	RUN(lookup);
	RUN(bad_definitions);
	RUN(symbols);
	RUN(no_options);
	arena_free(A);
	TEST_MAIN_END();
}
