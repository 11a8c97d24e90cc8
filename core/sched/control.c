/* control — the backend's control socket: a listening Unix socket and a few non-blocking
 * connections, each a line-based request/answer stream. Never blocks the scheduler: a peer that
 * does not read its answers loses them, one that floods is cut off.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sched/control.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/osutil.h"

#define CONTROL_MAX_CONNS 64
#define CONTROL_LINE_MAX 1024

struct conn {
	int fd;
	pid_t pid;
	int interactive;
	size_t len;
	char in[CONTROL_LINE_MAX];
};

struct control {
	int listen_fd;
	char *path;
	struct conn conns[CONTROL_MAX_CONNS];
	size_t nconns;
	int polled[CONTROL_MAX_CONNS + 1];      /* fd order of the last control_pollfds */
};

/* sun_path for path, or for it reached through dirfd when it is too long. */
static int socket_addr(const char *dir, struct sockaddr_un *sa, int *dirfd)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	*dirfd = -1;
	if ((size_t)snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/control.sock", dir) < sizeof(sa->sun_path))
		return 0;
	*dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*dirfd < 0)
		return -1;
	snprintf(sa->sun_path, sizeof(sa->sun_path), "/proc/self/fd/%d/control.sock", *dirfd);
	return 0;
}

struct control *control_open(const char *dir, struct error *err)
{
	struct control *c = xcalloc(1, sizeof(*c));
	struct sockaddr_un sa;
	int dirfd;
	c->path = xasprintf("%s/control.sock", dir);
	c->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->listen_fd < 0 || socket_addr(dir, &sa, &dirfd)) {
		error_set(err, "cannot create the control socket %s: %s", c->path, strerror(errno));
		goto fail;
	}
	unlink(c->path);
	if (bind(c->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(c->listen_fd, 16)) {
		error_set(err, "cannot listen on %s: %s", c->path, strerror(errno));
		if (dirfd >= 0)
			close(dirfd);
		goto fail;
	}
	if (dirfd >= 0)
		close(dirfd);
	chmod(c->path, 0600);
	return c;
fail:
	if (c->listen_fd >= 0)
		close(c->listen_fd);
	free(c->path);
	free(c);
	return NULL;
}

void control_close(struct control *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nconns; i++)
		close(c->conns[i].fd);
	close(c->listen_fd);
	unlink(c->path);
	free(c->path);
	free(c);
}

size_t control_pollfds(struct control *c, struct pollfd *p, size_t max)
{
	size_t n = 0;
	if (!c || !max)
		return 0;
	p[n].fd = c->listen_fd;
	p[n].events = POLLIN;
	p[n].revents = 0;
	c->polled[n++] = c->listen_fd;
	for (size_t i = 0; i < c->nconns && n < max; i++) {
		p[n].fd = c->conns[i].fd;
		p[n].events = POLLIN;
		p[n].revents = 0;
		c->polled[n++] = c->conns[i].fd;
	}
	return n;
}

static void accept_all(struct control *c)
{
	for (;;) {
		int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		struct ucred cred;
		socklen_t len = sizeof(cred);
		if (fd < 0)
			return;
		if (c->nconns == CONTROL_MAX_CONNS) {
			static const char busy[] = "error: too many control connections\n";
			(void)!write(fd, busy, sizeof(busy) - 1);
			close(fd);
			continue;
		}
		struct conn *k = &c->conns[c->nconns++];
		memset(k, 0, sizeof(*k));
		k->fd = fd;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
			k->pid = cred.pid;
	}
}

/* Read what the peer sent and answer every complete line. 0, or -1 when the connection is done. */
static int serve(struct conn *k, control_handler fn, void *ctx)
{
	struct buf reply = BUF_INIT;
	int rc = 0;
	for (;;) {
		ssize_t got = read(k->fd, k->in + k->len, sizeof(k->in) - 1 - k->len);
		if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
			rc = -1;
			break;
		}
		if (got < 0)
			break;
		k->len += (size_t)got;
		char *start = k->in, *nl;
		while ((nl = memchr(start, '\n', k->len - (size_t)(start - k->in)))) {
			struct control_request req = {start, k->pid, k->interactive};
			*nl = '\0';
			if (nl > start && nl[-1] == '\r')
				nl[-1] = '\0';
			buf_reset(&reply);
			if (!strcmp(start, "interactive")) {
				k->interactive = 1;
				req.interactive = 1;
			}
			fn(ctx, &req, &reply);
			buf_addch(&reply, '\n');
			if (os_write_all(k->fd, reply.data, reply.len))
				rc = -1;
			start = nl + 1;
		}
		k->len -= (size_t)(start - k->in);
		memmove(k->in, start, k->len);
		if (k->len == sizeof(k->in) - 1) {
			static const char big[] = "error: request too long\n";
			(void)!write(k->fd, big, sizeof(big) - 1);
			rc = -1;
		}
		if (rc)
			break;
	}
	buf_release(&reply);
	return rc;
}

void control_handle(struct control *c, const struct pollfd *p, size_t n, control_handler fn, void *ctx)
{
	if (!c)
		return;
	for (size_t i = 1; i < n; i++) {
		if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		for (size_t k = 0; k < c->nconns; k++) {
			if (c->conns[k].fd != c->polled[i])
				continue;
			if (serve(&c->conns[k], fn, ctx)) {
				close(c->conns[k].fd);
				c->conns[k] = c->conns[--c->nconns];
			}
			break;
		}
	}
	if (n && (p[0].revents & POLLIN))
		accept_all(c);
}

unsigned control_interactive(const struct control *c)
{
	unsigned n = 0;
	for (size_t i = 0; c && i < c->nconns; i++)
		n += c->conns[i].interactive != 0;
	return n;
}
