/* flaky-httpd — a tiny single-threaded HTTP/1.0 file server for tests, able to fail on purpose.
 * Usage: flaky-httpd DIR PORTFILE [--fail N] [--status CODE] [--drop N]
 *   serves GET /path from DIR on 127.0.0.1 (port chosen by the kernel, written to PORTFILE);
 *   GET /redirect/path answers 302 to /path; absent files give 404;
 *   --fail N: the first N requests get CODE (--status, default 503) instead;
 *   --drop N: the first N requests are answered by closing the connection without a response.
 * Each request line is logged to stderr. Exits 0 on SIGTERM or SIGINT.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void die(const char *what)
{
	fprintf(stderr, "flaky-httpd: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n > 0) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		c += w;
		n -= (size_t)w;
	}
}

static const char *reason(int code)
{
	switch (code) {
	case 200: return "OK";
	case 302: return "Found";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Error";
	}
}

static void respond_status(int fd, int code, const char *location)
{
	char head[1024];
	char body[128];
	int blen = snprintf(body, sizeof(body), "%d %s\n", code, reason(code));
	int hlen = snprintf(head, sizeof(head),
			    "HTTP/1.0 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n%s%s%s\r\n",
			    code, reason(code), blen, location ? "Location: " : "", location ? location : "",
			    location ? "\r\n" : "");
	write_all(fd, head, (size_t)hlen);
	write_all(fd, body, (size_t)blen);
}

static void serve_file(int fd, const char *dir, const char *path)
{
	char *full, head[256], block[65536];
	struct stat st;
	ssize_t n;
	int f, hlen;
	if (strstr(path, "..")) {
		respond_status(fd, 403, NULL);
		return;
	}
	if (asprintf(&full, "%s/%s", dir, path) < 0)
		die("asprintf");
	f = open(full, O_RDONLY);
	free(full);
	if (f < 0 || fstat(f, &st) != 0 || !S_ISREG(st.st_mode)) {
		if (f >= 0)
			close(f);
		respond_status(fd, 404, NULL);
		return;
	}
	hlen = snprintf(head, sizeof(head),
			"HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %lld\r\n\r\n",
			(long long)st.st_size);
	write_all(fd, head, (size_t)hlen);
	while ((n = read(f, block, sizeof(block))) > 0)
		write_all(fd, block, (size_t)n);
	close(f);
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr;
	socklen_t alen = sizeof(addr);
	struct sigaction sa;
	long fail = 0, drop = 0, requests = 0;
	int status = 503, i, s, one = 1;
	char *tmp;
	FILE *pf;
	if (argc < 3) {
		fprintf(stderr, "usage: flaky-httpd DIR PORTFILE [--fail N] [--status CODE] [--drop N]\n");
		return 2;
	}
	for (i = 3; i < argc; i++) {
		if (i + 1 < argc && strcmp(argv[i], "--fail") == 0)
			fail = atol(argv[++i]);
		else if (i + 1 < argc && strcmp(argv[i], "--status") == 0)
			status = atoi(argv[++i]);
		else if (i + 1 < argc && strcmp(argv[i], "--drop") == 0)
			drop = atol(argv[++i]);
		else {
			fprintf(stderr, "flaky-httpd: unknown argument '%s'\n", argv[i]);
			return 2;
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: accept() returns EINTR */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		die("socket");
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = 0;
	if (bind(s, (struct sockaddr *)&addr, sizeof(addr)) != 0)
		die("bind");
	if (listen(s, 16) != 0)
		die("listen");
	if (getsockname(s, (struct sockaddr *)&addr, &alen) != 0)
		die("getsockname");
	/* written whole then renamed: a reader polling PORTFILE never sees half a number */
	if (asprintf(&tmp, "%s.tmp", argv[2]) < 0)
		die("asprintf");
	pf = fopen(tmp, "w");
	if (!pf)
		die(tmp);
	fprintf(pf, "%d\n", ntohs(addr.sin_port));
	if (fclose(pf) != 0 || rename(tmp, argv[2]) != 0)
		die(argv[2]);
	free(tmp);

	while (!stop) {
		char req[8192], method[16], path[4096], *eol;
		size_t got = 0;
		int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0) {
			if (errno == EINTR)
				continue;
			die("accept");
		}
		/* read the request head (we ignore headers and bodies) */
		while (got < sizeof(req) - 1) {
			ssize_t n = read(c, req + got, sizeof(req) - 1 - got);
			if (n <= 0)
				break;
			got += (size_t)n;
			req[got] = '\0';
			if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
				break;
		}
		req[got] = '\0';
		eol = strpbrk(req, "\r\n");
		if (eol)
			*eol = '\0';
		requests++;
		fprintf(stderr, "flaky-httpd: request %ld: %s\n", requests, req);
		if (requests <= drop) {
			close(c);
			continue;
		}
		if (requests <= drop + fail) {
			respond_status(c, status, NULL);
		} else if (sscanf(req, "%15s %4095s", method, path) != 2 || strcmp(method, "GET") != 0 ||
			   path[0] != '/') {
			respond_status(c, 400, NULL);
		} else if (strncmp(path, "/redirect/", 10) == 0) {
			respond_status(c, 302, path + 9);
		} else {
			serve_file(c, argv[1], path + 1);
		}
		shutdown(c, SHUT_WR);
		close(c);
	}
	close(s);
	return 0;
}
