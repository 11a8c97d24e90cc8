/* spare — empty directories of finished builds reused by the next builds' sysroots.
 *
 * Why: a build stages its dependencies into a new sysroot, one directory per directory of
 * every artifact, and removes it all when it is done. Creating a directory allocates an inode
 * and removing it frees one, and on ext4 without a journal each allocation skips, one by one,
 * every inode of its block group freed in the last minutes: on a machine that builds, that is
 * thousands, and a mkdir costs 50-100 us and more, an rmdir about 65 us (a rename of an empty
 * directory: about 17 us). So a finished build's sysroot directories are emptied and kept,
 * and the next build renames them into place where it would have made new ones.
 *
 * Safety: a pile becomes visible under .spare only by one rename, once it holds nothing but
 * empty directories; a build claims one by renaming it to its own build directory, so two
 * builds never share one and a killed build leaves an ordinary build directory behind. Only
 * directories of mode 0755 owned by us are kept (what staging makes); the caller parks only
 * sysroots that no command could write to.
 * SPDX-License-Identifier: Apache-2.0 */
#include "cache/spare.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/osutil.h"

#define SPARE_MAX_PILES 8       /* about the number of builders: enough for each to find one */
#define SPARE_MAX_DIRS 8192     /* a pile keeps at most this many */
#define SPARE_MAX_DEPTH 512

static void random_suffix(char out[7])
{
	static const char set[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	unsigned char r[6];
	size_t i;
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		for (i = 0; i < sizeof(r); i++)
			r[i] = (unsigned char)(rand() ^ getpid());
	for (i = 0; i < 6; i++)
		out[i] = set[r[i] % (sizeof(set) - 1)];
	out[6] = '\0';
}

/* The parked pile with the most spares (its name in *best, its count in *n); the number of
 * piles, or -1 when there is no .spare directory. */
static int best_pile(const char *spare, char **best, unsigned *n)
{
	DIR *d = opendir(spare);
	struct dirent *de;
	int piles = 0;
	*best = NULL;
	*n = 0;
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		char *end;
		unsigned long k;
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		k = strtoul(de->d_name, &end, 10);
		if (*end != '.' || k > SPARE_MAX_DIRS)
			continue;
		piles++;
		if (!*best || k > *n) {
			free(*best);
			*best = xstrdup(de->d_name);
			*n = (unsigned)k;
		}
	}
	closedir(d);
	return piles;
}

int spare_new_dir(const char *parent, const char *prefix, struct spare_dirs *sd, char **dir,
		  struct error *err)
{
	char *spare = xasprintf("%s/.spare", parent), sfx[7];
	int tries;
	sd->dirfd = -1;
	sd->n = 0;
	*dir = NULL;
	for (tries = 0; tries < 4; tries++) {
		char *best, *from;
		unsigned n;
		if (best_pile(spare, &best, &n) <= 0 || !best)
			break;
		random_suffix(sfx);
		from = xasprintf("%s/%s", spare, best);
		*dir = xasprintf("%s/%s-%s", parent, prefix, sfx);
		/* another build may take it first (ENOENT): then look again */
		if (renameat2(AT_FDCWD, from, AT_FDCWD, *dir, RENAME_NOREPLACE) == 0) {
			sd->dirfd = open(*dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			sd->n = sd->dirfd >= 0 ? n : 0;
			free(from);
			free(best);
			break;
		}
		free(from);
		free(best);
		free(*dir);
		*dir = NULL;
	}
	free(spare);
	if (*dir)
		return 0;
	*dir = xasprintf("%s/%s-XXXXXX", parent, prefix);
	if (!mkdtemp(*dir)) {
		error_set(err, "cannot create a build directory in '%s': %s", parent, strerror(errno));
		free(*dir);
		*dir = NULL;
		return -1;
	}
	sd->dirfd = open(*dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return 0;
}

/* Spares are 0755, which is what mkdir(0755) makes only under a umask that leaves it alone. */
static int umask_keeps_0755(void)
{
	static int keeps = -1;
	if (keeps < 0) {
		mode_t m = umask(0);
		umask(m);
		keeps = (0755 & ~m) == 0755;
	}
	return keeps;
}

int spare_mkdirat(void *ud, int dirfd, const char *name)
{
	struct spare_dirs *sd = ud;
	char num[16];
	while (sd && sd->n && umask_keeps_0755()) {
		snprintf(num, sizeof(num), "%u", sd->n - 1);
		if (renameat2(sd->dirfd, num, dirfd, name, RENAME_NOREPLACE) == 0) {
			sd->n--;
			return 0;
		}
		if (errno == EEXIST)
			return -1;
		/* the pile is not what it should be: stop using it */
		sd->n = 0;
	}
	return mkdirat(dirfd, name, 0755);
}

/* Names in the directory open as fd (heap array of heap strings), with d_type. */
struct entry {
	char *name;
	unsigned char type;
};

static int list_entries(int fd, struct entry **out, size_t *n)
{
	size_t cap = 0;
	int dup_fd = dup(fd);
	DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	struct dirent *de;
	*out = NULL;
	*n = 0;
	if (!d) {
		if (dup_fd >= 0)
			close(dup_fd);
		return -1;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		GROW(*out, cap, *n + 1);
		(*out)[*n].name = xstrdup(de->d_name);
		(*out)[(*n)++].type = de->d_type;
	}
	closedir(d);
	return 0;
}

/* Empty the directory open as fd: directories into spares (after emptying them), the rest
 * removed. */
static int empty_into_spares(struct spare_dirs *sd, int fd, int depth)
{
	struct entry *ents;
	size_t n, i;
	int rc;
	if (depth > SPARE_MAX_DEPTH || list_entries(fd, &ents, &n))
		return -1;
	for (i = 0, rc = 0; i < n && !rc; i++) {
		struct stat st;
		char num[16];
		int sub;
		if (ents[i].type != DT_DIR && ents[i].type != DT_UNKNOWN) {
			rc = unlinkat(fd, ents[i].name, 0);
			continue;
		}
		if (fstatat(fd, ents[i].name, &st, AT_SYMLINK_NOFOLLOW)) {
			rc = -1;
		} else if (!S_ISDIR(st.st_mode)) {
			rc = unlinkat(fd, ents[i].name, 0);
		} else if ((st.st_mode & 07777) != 0755 || st.st_uid != geteuid()) {
			rc = -1;        /* not one of ours as staging makes them */
		} else if ((sub = openat(fd, ents[i].name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
			rc = -1;
		} else {
			rc = empty_into_spares(sd, sub, depth + 1);
			close(sub);
			snprintf(num, sizeof(num), "%u", sd->n);
			if (!rc && sd->n < SPARE_MAX_DIRS &&
			    renameat2(fd, ents[i].name, sd->dirfd, num, RENAME_NOREPLACE) == 0)
				sd->n++;
			else if (!rc)
				rc = unlinkat(fd, ents[i].name, AT_REMOVEDIR);
		}
	}
	for (i = 0; i < n; i++)
		free(ents[i].name);
	free(ents);
	return rc;
}

int spare_park(struct spare_dirs *sd, const char *parent, const char *dir, const char *root_name)
{
	char *spare = xasprintf("%s/.spare", parent), *best = NULL, *to = NULL, num[16];
	const char *base = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
	unsigned n;
	int rc = -1, root;
	if (sd->dirfd < 0 || !umask_keeps_0755() || best_pile(spare, &best, &n) >= SPARE_MAX_PILES)
		goto out;
	root = openat(sd->dirfd, root_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (root < 0)
		goto out;
	rc = empty_into_spares(sd, root, 0);
	close(root);
	snprintf(num, sizeof(num), "%u", sd->n);
	if (rc || renameat2(sd->dirfd, root_name, sd->dirfd, num, RENAME_NOREPLACE)) {
		rc = -1;
		goto out;
	}
	sd->n++;
	if (os_mkdir_p(spare, NULL))
		goto fail;
	to = xasprintf("%s/%u.%s", spare, sd->n, base);
	if (renameat2(AT_FDCWD, dir, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		goto out;
fail:
	rc = -1;
out:
	free(best);
	free(spare);
	free(to);
	spare_close(sd, 0);
	return rc;
}

void spare_close(struct spare_dirs *sd, int drop)
{
	char num[16];
	if (sd->dirfd < 0)
		return;
	while (drop && sd->n) {
		snprintf(num, sizeof(num), "%u", --sd->n);
		unlinkat(sd->dirfd, num, AT_REMOVEDIR);
	}
	close(sd->dirfd);
	sd->dirfd = -1;
	sd->n = 0;
}
