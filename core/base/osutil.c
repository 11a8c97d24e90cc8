/* osutil — directories, removal, atomic writes, clocks and PATH lookup for the backend.
 * SPDX-License-Identifier: Apache-2.0 */
#include "base/osutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int os_mkdir_p(const char *path, struct error *err)
{
	char *p = xstrdup(path), *s;
	struct stat st;
	int rc = 0;
	for (s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, 0755) && errno != EEXIST) {
			rc = error_set(err, "cannot create directory '%s': %s", p, strerror(errno));
			break;
		}
		*s = c;
		if (!c)
			break;
	}
	if (!rc && (stat(path, &st) || !S_ISDIR(st.st_mode)))
		rc = error_set(err, "cannot create directory '%s': %s", path,
			       errno ? strerror(errno) : "not a directory");
	free(p);
	return rc;
}

void os_spread_subdirs(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), flags;
	if (fd < 0)
		return;
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 && !(flags & FS_TOPDIR_FL)) {
		flags |= FS_TOPDIR_FL;
		if (ioctl(fd, FS_IOC_SETFLAGS, &flags)) {
			/* a hint only: filesystems without it lose nothing */
		}
	}
	close(fd);
}

static int rm_at(int at, const char *name, const char *shown, struct error *err)
{
	struct stat st;
	int fd, rc = 0;
	DIR *d;
	struct dirent *de;
	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW))
		return errno == ENOENT ? 0 : error_set(err, "cannot remove '%s': %s", shown, strerror(errno));
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(at, name, 0) && errno != ENOENT)
			return error_set(err, "cannot remove '%s': %s", shown, strerror(errno));
		return 0;
	}
	if ((st.st_mode & 0700) != 0700)
		fchmodat(at, name, st.st_mode | 0700, 0);
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return error_set(err, "cannot open '%s': %s", shown, strerror(errno));
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return error_set(err, "cannot open '%s': %s", shown, strerror(errno));
	}
	while (!rc && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		rc = rm_at(dirfd(d), de->d_name, shown, err);
	}
	closedir(d);
	if (!rc && unlinkat(at, name, AT_REMOVEDIR) && errno != ENOENT)
		rc = error_set(err, "cannot remove '%s': %s", shown, strerror(errno));
	return rc;
}

int os_rm_rf(const char *path, struct error *err)
{
	return rm_at(AT_FDCWD, path, path, err);
}

int os_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int os_write_file_atomic(const char *path, const void *data, size_t len, struct error *err)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), rc = -1;
	if (fd < 0) {
		error_set(err, "cannot write '%s': %s", path, strerror(errno));
		goto out;
	}
	if (os_write_all(fd, data, len) || close(fd)) {
		error_set(err, "cannot write '%s': %s", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, path)) {
		error_set(err, "cannot write '%s': %s", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	free(tmp);
	return rc;
}

static int64_t now_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t os_now_mono_ns(void)
{
	return now_ns(CLOCK_MONOTONIC);
}

int64_t os_now_real_ns(void)
{
	return now_ns(CLOCK_REALTIME);
}

char *os_cache_dir(void)
{
	const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	if (x && *x == '/')
		return xasprintf("%s/rill", x);
	return xasprintf("%s/.cache/rill", home && *home ? home : "/tmp");
}

char *os_which(const char *prog)
{
	const char *path = getenv("PATH"), *s, *e;
	if (strchr(prog, '/'))
		return access(prog, X_OK) == 0 ? xstrdup(prog) : NULL;
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (s = path;; s = e + 1) {
		e = strchr(s, ':');
		if (!e)
			e = s + strlen(s);
		if (e > s) {
			char *c = xasprintf("%.*s/%s", (int)(e - s), s, prog);
			if (access(c, X_OK) == 0)
				return c;
			free(c);
		}
		if (!*e)
			break;
	}
	return NULL;
}

void os_cloexec(int fd)
{
	int f = fcntl(fd, F_GETFD);
	if (f >= 0)
		fcntl(fd, F_SETFD, f | FD_CLOEXEC);
}

int os_dir_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *en;
	int empty = 1;
	if (!d)
		return 1;
	while (empty && (en = readdir(d)))
		if (strcmp(en->d_name, ".") && strcmp(en->d_name, ".."))
			empty = 0;
	closedir(d);
	return empty;
}
