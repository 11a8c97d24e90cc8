/* init — `rill init`: a new project.conf (and its element directory) in the project directory
 * (-C DIR, default the current one), as `bst init` writes it: the same text, the same checks of
 * the name, format version and element path, the same refusal to overwrite without --force.
 * Without --project-name it asks on a terminal, and is an error otherwise.
 * SPDX-License-Identifier: Apache-2.0 */
#include "cli/commands.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/osutil.h"
#include "base/util.h"
#include "cli/cli.h"

/* The newest format version rill reads, the one `init` writes by default (bst 1.6.8's). */
#define FORMAT_VERSION 18

static const char usage_init[] =
	"Usage: rill init [OPTIONS]\n"
	"\n"
	"  Initialize a new BuildStream project: write project.conf in the project directory\n"
	"  (-C DIR before the command, default: the current directory) and create its element\n"
	"  directory. Without --project-name, asks for the values on a terminal.\n"
	"\n"
	"Options:\n"
	"  --project-name TEXT     The project name to use\n"
	"  --format-version N      The required format version (default: 18)\n"
	"  --element-path PATH     The subdirectory to store elements in (default: elements)\n"
	"  -f, --force             Allow overwriting an existing project.conf\n"
	"  -h, --help              Show this message and exit\n";

static int init_error(const char *msg, const char *arg)
{
	fprintf(stderr, "rill: ");
	fprintf(stderr, msg, arg);
	fputc('\n', stderr);
	return 1;
}

/* bst's symbol names: letters, digits, '_' and '-', not starting with a digit. */
static int valid_name(const char *s)
{
	if (!*s || isdigit((unsigned char)*s))
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return 0;
	return 1;
}

static int check_values(const char *name, const char *version, const char *path)
{
	char *end;
	long v;
	const char *p;
	if (!valid_name(name))
		return init_error("Invalid symbol name for project name: '%s'\n\nSymbol names must contain only "
				  "alphanumeric characters, may not start with a digit, and may contain underscores or "
				  "dashes", name);
	errno = 0;
	v = strtol(version, &end, 10);
	if (!*version || *end || errno || v < 0 || v > FORMAT_VERSION)
		return init_error("The version must be supported by this version of rill (0 - %s)", "18");
	if (path[0] == '/')
		return init_error("%s", "The element path cannot be an absolute path or contain any '..' components");
	for (p = path; (p = strstr(p, "..")); p += 2)
		if ((p == path || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
			return init_error("%s", "The element path cannot be an absolute path or contain any '..' components");
	return 0;
}

/* Python's os.path.abspath(): absolute, with ".", ".." and doubled slashes resolved as text. */
static char *abspath(const char *path)
{
	char cwd[PATH_MAX], *joined, *out, *save = NULL, *tok;
	size_t n = 0;
	if (path[0] != '/' && !getcwd(cwd, sizeof(cwd)))
		strcpy(cwd, "/");
	joined = path[0] == '/' ? xstrdup(path) : xasprintf("%s/%s", cwd, path);
	out = xmalloc(strlen(joined) + 2);
	for (tok = strtok_r(joined, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		if (!strcmp(tok, "."))
			continue;
		if (!strcmp(tok, "..")) {
			while (n > 0 && out[n - 1] != '/')
				n--;
			if (n > 0)
				n--;
			continue;
		}
		out[n++] = '/';
		memcpy(out + n, tok, strlen(tok));
		n += strlen(tok);
	}
	if (!n)
		out[n++] = '/';
	out[n] = '\0';
	free(joined);
	return out;
}

/* One answer from the terminal, def when empty; NULL at end of input. */
static char *ask(const char *question, const char *def)
{
	char line[1024];
	size_t n;
	fprintf(stderr, "%s%s%s%s: ", question, def ? " [" : "", def ? def : "", def ? "]" : "");
	if (!fgets(line, sizeof(line), stdin))
		return NULL;
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	return xstrdup(n ? line : def ? def : "");
}

int cmd_init(struct cli *c, int argc, char **argv)
{
	const char *name = NULL, *version = "18", *path = "elements";
	char *asked_name = NULL, *asked_version = NULL, *asked_path = NULL, *dir, *conf, *elements, *text;
	int force = 0, k, rc = 1;
	struct stat st;
	struct error err = ERROR_INIT;
	FILE *f;
	for (k = 1; k < argc; k++) {
		const char *a = argv[k];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage_init, stdout);
			return 0;
		}
		if (!strcmp(a, "-f") || !strcmp(a, "--force")) {
			force = 1;
			continue;
		}
		if (!strcmp(a, "--project-name") || !strcmp(a, "--format-version") || !strcmp(a, "--element-path")) {
			if (k + 1 >= argc)
				return cli_usage_error("init ", "Option '%s' requires an argument.", a);
			if (a[2] == 'p')
				name = argv[++k];
			else if (a[2] == 'f')
				version = argv[++k];
			else
				path = argv[++k];
			continue;
		}
		if (!strncmp(a, "--project-name=", 15))
			name = a + 15;
		else if (!strncmp(a, "--format-version=", 17))
			version = a + 17;
		else if (!strncmp(a, "--element-path=", 15))
			path = a + 15;
		else if (a[0] == '-')
			return cli_usage_error("init ", "No such option: %s", a);
		else
			return cli_usage_error("init ", "Got unexpected extra argument (%s)", a);
	}
	dir = abspath(c->directory ? c->directory : ".");
	conf = xasprintf("%s/project.conf", dir);
	elements = xasprintf("%s/%s", dir, path);
	if (!force && stat(conf, &st) == 0) {
		init_error("A project.conf already exists at: %s", conf);
		goto out;
	}
	if (!name) {
		if (!isatty(0) || !isatty(2)) {
			init_error("%s", "Cannot initialize a new project without specifying the project name");
			goto out;
		}
		fprintf(stderr, "A new project in %s\n", dir);
		if (!(asked_name = ask("Project name", NULL)) || !(asked_version = ask("Format version", version)) ||
		    !(asked_path = ask("Element path", path)))
			goto out;
		name = asked_name, version = asked_version, path = asked_path;
		free(elements);
		elements = xasprintf("%s/%s", dir, path);
	}
	if (check_values(name, version, path))
		goto out;
	if (os_mkdir_p(dir, &err) || os_mkdir_p(elements, &err)) {
		init_error("%s", err.msg);
		goto out;
	}
	text = xasprintf("# Unique project name\nname: %s\n\n# Required BuildStream format version\n"
			 "format-version: %ld\n\n# Subdirectory where elements are stored\nelement-path: %s\n",
			 name, strtol(version, NULL, 10), path);
	if (!(f = fopen(conf, "w")) || fputs(text, f) == EOF || fclose(f) != 0) {
		init_error("Error writing %s", conf);
		free(text);
		goto out;
	}
	free(text);
	fprintf(stderr, "\nCreated project.conf at: %s\n", conf);
	rc = 0;
out:
	error_release(&err);
	free(asked_name);
	free(asked_version);
	free(asked_path);
	free(dir);
	free(conf);
	free(elements);
	return rc;
}
