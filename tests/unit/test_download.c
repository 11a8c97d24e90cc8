/* test_download — download_file against tests/tools/flaky-httpd (good, 404, failing then
 * succeeding, dropped connections, redirects), file: URLs and an unreachable port.
 * SPDX-License-Identifier: Apache-2.0 */
#include "test.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "format/cachekey.h"
#include "build/download.h"

static char *tmp_root;
static const char content[] = "the payload of a source\n";

/* $RILL_TOP/tests/tools/flaky-httpd, or ../tools/flaky-httpd beside this test binary. */
static char *httpd_path(void)
{
	const char *top = getenv("RILL_TOP");
	char self[PATH_MAX];
	ssize_t n;
	char *slash;
	if (top && top[0])
		return xasprintf("%s/tests/tools/flaky-httpd", top);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return xstrdup("tests/tools/flaky-httpd");
	self[n] = '\0';
	if ((slash = strrchr(self, '/')))
		*slash = '\0';
	return xasprintf("%s/../tools/flaky-httpd", self);
}

struct server {
	pid_t pid;
	int port;
};

/* Start flaky-httpd serving tmp_root/www with extra arguments; waits for its port file. */
static int server_start(struct server *s, const char *a1, const char *a2)
{
	char *bin = httpd_path(), *www = xasprintf("%s/www", tmp_root), *portfile = xasprintf("%s/port", tmp_root);
	char *log = xasprintf("%s/httpd.log", tmp_root);
	int i, ok = 0;
	unlink(portfile);
	s->port = 0;
	s->pid = fork();
	if (s->pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		dup2(fd, STDERR_FILENO);
		execl(bin, bin, www, portfile, a1, a2, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 500 && !ok; i++) {
		FILE *f = fopen(portfile, "r");
		if (f) {
			ok = fscanf(f, "%d", &s->port) == 1;
			fclose(f);
		}
		if (!ok) {
			struct timespec ts = {0, 10 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
	}
	if (!ok)
		printf("  could not start %s\n", bin);
	free(log);
	free(portfile);
	free(www);
	free(bin);
	return ok;
}

static void server_stop(struct server *s)
{
	int status;
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, &status, 0);
	}
	s->pid = 0;
}

/* Number of entries in tmp_root/out (temporary files included). */
static int out_entries(void)
{
	char *p = xasprintf("%s/out", tmp_root);
	DIR *d = opendir(p);
	struct dirent *de;
	int n = 0;
	free(p);
	if (!d)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static int file_is(const char *path, const char *want)
{
	struct buf b = BUF_INIT;
	struct error err = ERROR_INIT;
	int ok = read_file(path, &b, &err) == 0 && strcmp(buf_str(&b), want) == 0;
	buf_release(&b);
	error_release(&err);
	return ok;
}

static void good_download(void)
{
	struct server s;
	struct error err = ERROR_INIT;
	char hex[65], want[65], *url, *dest = xasprintf("%s/out/src.tar", tmp_root);
	cachekey_sha256_hex(content, strlen(content), want);
	CHECK(server_start(&s, NULL, NULL));
	url = xasprintf("http://127.0.0.1:%d/src.tar", s.port);
	CHECK(download_file(url, dest, hex, &err) == 0);
	CHECK(err.msg == NULL);
	CHECK_STR(hex, want);
	CHECK(file_is(dest, content));
	CHECK(out_entries() == 1);
	unlink(dest);
	free(url);
	/* a redirect is followed */
	url = xasprintf("http://127.0.0.1:%d/redirect/src.tar", s.port);
	CHECK(download_file(url, dest, hex, &err) == 0);
	CHECK_STR(hex, want);
	CHECK(file_is(dest, content));
	unlink(dest);
	server_stop(&s);
	error_release(&err);
	free(url);
	free(dest);
}

static void not_found(void)
{
	struct server s;
	struct error err = ERROR_INIT;
	char hex[65], *url, *dest = xasprintf("%s/out/missing", tmp_root), *want;
	CHECK(server_start(&s, NULL, NULL));
	url = xasprintf("http://127.0.0.1:%d/missing", s.port);
	CHECK(download_file(url, dest, hex, &err) == -1);
	want = xasprintf("%s: HTTP 404", url);
	CHECK_STR(err.msg, want);
	CHECK(out_entries() == 0);
	server_stop(&s);
	error_release(&err);
	free(want);
	free(url);
	free(dest);
}

static void fails_then_succeeds(void)
{
	struct server s;
	struct error err = ERROR_INIT;
	char hex[65], want[65], *url, *dest = xasprintf("%s/out/src.tar", tmp_root);
	cachekey_sha256_hex(content, strlen(content), want);
	CHECK(server_start(&s, "--fail", "1"));
	url = xasprintf("http://127.0.0.1:%d/src.tar", s.port);
	CHECK(download_file(url, dest, hex, &err) == -1);
	CHECK(err.msg && strstr(err.msg, "HTTP 503") && strstr(err.msg, url));
	CHECK(out_entries() == 0);
	error_release(&err);
	CHECK(download_file(url, dest, hex, &err) == 0);
	CHECK_STR(hex, want);
	CHECK(file_is(dest, content));
	unlink(dest);
	server_stop(&s);
	error_release(&err);
	free(url);

	/* a dropped connection is a curl error naming the URL, then the retry works */
	CHECK(server_start(&s, "--drop", "1"));
	url = xasprintf("http://127.0.0.1:%d/src.tar", s.port);
	CHECK(download_file(url, dest, hex, &err) == -1);
	CHECK(err.msg && strncmp(err.msg, url, strlen(url)) == 0 && strlen(err.msg) > strlen(url) + 2);
	CHECK(out_entries() == 0);
	error_release(&err);
	CHECK(download_file(url, dest, hex, &err) == 0);
	CHECK_STR(hex, want);
	unlink(dest);
	server_stop(&s);
	error_release(&err);
	free(url);
	free(dest);
}

static void file_url(void)
{
	struct error err = ERROR_INIT;
	char hex[65], want[65], *url = xasprintf("file://%s/www/src.tar", tmp_root);
	char *dest = xasprintf("%s/out/copy", tmp_root);
	cachekey_sha256_hex(content, strlen(content), want);
	CHECK(download_file(url, dest, hex, &err) == 0);
	CHECK_STR(hex, want);
	CHECK(file_is(dest, content));
	unlink(dest);
	free(url);
	url = xasprintf("file://%s/www/absent", tmp_root);
	CHECK(download_file(url, dest, hex, &err) == -1);
	CHECK(err.msg && strncmp(err.msg, url, strlen(url)) == 0);
	CHECK(out_entries() == 0);
	error_release(&err);
	/* other schemes are not allowed */
	CHECK(download_file("ftp://127.0.0.1/x", dest, hex, &err) == -1);
	CHECK(err.msg && strstr(err.msg, "ftp://127.0.0.1/x: "));
	CHECK(out_entries() == 0);
	error_release(&err);
	free(url);
	free(dest);
}

static void unreachable(void)
{
	struct sockaddr_in addr;
	socklen_t len = sizeof(addr);
	struct error err = ERROR_INIT;
	char hex[65], *url, *dest = xasprintf("%s/out/never", tmp_root);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;
	/* a port that was free a moment ago: nothing listens there */
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(fd, (struct sockaddr *)&addr, sizeof(addr));
	getsockname(fd, (struct sockaddr *)&addr, &len);
	port = ntohs(addr.sin_port);
	close(fd);
	url = xasprintf("http://127.0.0.1:%d/x", port);
	CHECK(download_file(url, dest, hex, &err) == -1);
	CHECK(err.msg && strncmp(err.msg, url, strlen(url)) == 0);
	CHECK(err.msg && strstr(err.msg, "onnect"));
	CHECK(out_entries() == 0);
	/* the destination directory does not exist */
	error_release(&err);
	free(dest);
	dest = xasprintf("%s/no/such/dir/f", tmp_root);
	CHECK(download_file(url, dest, hex, &err) == -1);
	CHECK(err.msg && strstr(err.msg, "/no/such/dir/f.tmp."));
	error_release(&err);
	free(url);
	free(dest);
}

int main(void)
{
	char tmpl[] = "/tmp/rill-test-download-XXXXXX";
	char *p, *cmd;
	FILE *f;
	signal(SIGPIPE, SIG_IGN);
	if (!mkdtemp(tmpl))
		return 1;
	tmp_root = tmpl;
	p = xasprintf("%s/www", tmp_root);
	mkdir(p, 0755);
	free(p);
	p = xasprintf("%s/out", tmp_root);
	mkdir(p, 0755);
	free(p);
	p = xasprintf("%s/www/src.tar", tmp_root);
	f = fopen(p, "w");
	fputs(content, f);
	fclose(f);
	free(p);
	RUN(good_download);
	RUN(not_found);
	RUN(fails_then_succeeds);
	RUN(file_url);
	RUN(unreachable);
	cmd = xasprintf("rm -rf '%s'", tmp_root);
	if (system(cmd) != 0)
		printf("  could not remove %s\n", tmp_root);
	free(cmd);
	TEST_MAIN_END();
}
