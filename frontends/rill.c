/* rill — the command users type. Pipeline commands (build, fetch, ...) will start the backend
 * and render its status table; every other command runs in rill-backend, which this execs.
 * SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char exe[PATH_MAX], backend[PATH_MAX + 16], *slash;
	const char *env = getenv("RILL_BACKEND");
	ssize_t n;
	(void)argc;
	if (env && *env) {
		snprintf(backend, sizeof(backend), "%s", env);
	} else {
		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (n <= 0) {
			fprintf(stderr, "rill: cannot locate myself: %s\n", strerror(errno));
			return 1;
		}
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		*slash = '\0';
		snprintf(backend, sizeof(backend), "%s/rill-backend", exe);
	}
	argv[0] = backend;
	execv(backend, argv);
	fprintf(stderr, "rill: cannot run the backend %s: %s\n", backend, strerror(errno));
	return 1;
}
