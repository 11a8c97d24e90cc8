/* status-cmd — `rill status [--json] [--follow]`: the state of the project's build (running, or
 * the last one) read from the status table, once or as a stream of changes until the build ends.
 * Never starts or talks to a backend. Output formats: docs/status-table.md, "JSON output".
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_FRONTEND_STATUS_CMD_H
#define RILL_FRONTEND_STATUS_CMD_H

/* Exit statuses of `rill status` (also listed in its --help). */
enum status_exit {
	STATUS_EXIT_OK = 0,             /* a build is running, or the last one succeeded */
	STATUS_EXIT_FAILED = 1,         /* the last build failed or was terminated, or its backend died */
	STATUS_EXIT_ERROR = 2,          /* usage error, no project, unreadable table */
	STATUS_EXIT_NONE = 3,           /* no build has run in this project */
};

/* Run `rill status`: argv[0] is "status", argc counts it. directory is the -C value (NULL: the
 * current directory; the project is found upwards from it); help is non-zero when -h/--help
 * appeared anywhere on the command line. Prints to stdout (errors to stderr) and returns the exit
 * status. */
int status_command(int argc, char **argv, const char *directory, int help);

#endif
