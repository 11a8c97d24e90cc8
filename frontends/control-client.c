/* control-client — the frontends' side of the backend's control socket (<dir>/control.sock):
 * one request line out, one answer line back. Part of librillstatus.
 * SPDX-License-Identifier: Apache-2.0 */
#include "rill-status.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int rill_control_open(const char *dir)
{
	struct sockaddr_un sa;
	int fd, dfd = -1, rc;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/control.sock", dir) >= sizeof(sa.sun_path)) {
		/* too long for sun_path: reach it through the directory's descriptor */
		dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0)
			return -1;
		snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/control.sock", dfd);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		if (dfd >= 0)
			close(dfd);
		return -1;
	}
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (dfd >= 0) {
		int saved = errno;
		close(dfd);
		errno = saved;
	}
	if (rc) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int rill_control_request(int fd, const char *request, char *reply, size_t size, int timeout_ms)
{
	char line[1024];
	size_t len = 0, n = strlen(request);
	int64_t deadline = mono_ms() + timeout_ms;
	if (reply && size)
		reply[0] = '\0';
	if (n + 2 > sizeof(line) || strchr(request, '\n')) {
		errno = EINVAL;
		return -1;
	}
	memcpy(line, request, n);
	line[n++] = '\n';
	if (send(fd, line, n, MSG_NOSIGNAL) != (ssize_t)n)
		return -1;
	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		int64_t left = deadline - mono_ms();
		ssize_t got;
		char *nl;
		if (left <= 0 || poll(&p, 1, (int)left) <= 0) {
			if (left > 0 && errno == EINTR)
				continue;
			errno = ETIMEDOUT;
			return -1;
		}
		got = read(fd, line + len, sizeof(line) - 1 - len);
		if (got <= 0) {
			errno = got ? errno : ECONNRESET;
			return -1;
		}
		len += (size_t)got;
		line[len] = '\0';
		nl = strchr(line, '\n');
		if (!nl && len < sizeof(line) - 1)
			continue;
		if (nl)
			*nl = '\0';
		if (reply && size)
			snprintf(reply, size, "%s", line);
		return strncmp(line, "ok", 2) == 0 ? 0 : 1;
	}
}

int rill_control(const char *dir, const char *request, char *reply, size_t size, int timeout_ms)
{
	int fd = rill_control_open(dir), rc;
	if (fd < 0) {
		if (reply && size)
			snprintf(reply, size, "no backend is listening on %s/control.sock: %s", dir, strerror(errno));
		return -1;
	}
	rc = rill_control_request(fd, request, reply, size, timeout_ms);
	close(fd);
	return rc;
}
