/* cas — the content-addressed artifact cache (objects, trees, manifests, refs) with commits that
 * survive SIGKILL at any instant, staging by hardlink or copy, and a checker that can repair.
 * SPDX-License-Identifier: Apache-2.0 */
#include "cache/cas.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "base/osutil.h"
#include "base/sha256.h"
#include "cache/cas-internal.h"
#include "format/cachekey.h"

/*
 * Layout under root:
 *   objects/<2 hex>/<62 hex>     a regular file's content, mode 0444 (also trees, manifests,
 *                                logs and public data)
 *   objects/<2 hex>/<62 hex>.x   an executable's content, mode 0555, so that a hardlink to the
 *                                object carries the right mode
 *   refs/<project>/<normal name>/<key>   "<manifest digest>\n"
 *   tmp/<pid>.<counter>          in-progress writes of process pid
 *
 * Crash safety: every object is written completely in tmp/, given its final mode, then linked
 * into place (link() never replaces, so an object that exists is never touched; when it exists
 * the tmp file is dropped). The refs are renamed into place last. A process killed anywhere
 * leaves at most tmp files (removed by the next cas_open() once their pid is dead) and
 * unreferenced objects; a ref is only ever present once everything it names is. This covers
 * process death, not power loss (nothing is fsync'ed: builds are cheaper to redo than to sync).
 *
 * Tree object (one directory):
 *   rill-tree 1
 *   <type>\t<digest>\t<size>\t<name>[\t<target>]
 * one line per entry, sorted by name (byte order); type f (file), x (executable), l (symlink,
 * digest "-", size = target length, then the target), d (directory, digest of its tree, size 0).
 * Names and targets escape '\\', newline and tab as \\, \n and \t.
 *
 * Manifest object:
 *   rill-artifact 1
 *   strong\t<key>
 *   weak\t<key>
 *   files\t<tree digest>
 *   log\t<digest>          (optional)
 *   public\t<digest>       (optional)
 *   dep\t<name>\t<key>     (one per dependency, escaped like tree names)
 */

static unsigned long tmp_counter;

/* ---- small helpers ---- */

int cas_is_digest(const char *s, size_t n)
{
	if (n != 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* Keys and project names become file names: keep them to a safe alphabet. */
static int is_safe_name(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > 200 || s[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '-' || ch == '_' || ch == '.'))
			return 0;
	}
	return 1;
}

static void add_escaped(struct buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			buf_adds(b, "\\\\");
		else if (*s == '\n')
			buf_adds(b, "\\n");
		else if (*s == '\t')
			buf_adds(b, "\\t");
		else
			buf_addch(b, *s);
	}
}

/* Unescape s (NUL-terminated field); heap string, or NULL on a bad escape or an embedded NUL. */
char *cas_unescape(const char *s)
{
	struct buf b = BUF_INIT;
	for (; *s; s++) {
		if (*s != '\\') {
			buf_addch(&b, *s);
			continue;
		}
		s++;
		if (*s == '\\')
			buf_addch(&b, '\\');
		else if (*s == 'n')
			buf_addch(&b, '\n');
		else if (*s == 't')
			buf_addch(&b, '\t');
		else {
			buf_release(&b);
			return NULL;
		}
	}
	buf_addch(&b, '\0');
	b.len--;
	return buf_detach(&b);
}

/* Split the line at *pos (ending at '\n', which must be present) into tab-separated fields,
 * in place. Returns the number of fields (at most max; more is reported as max + 1), or -1 when
 * there is no complete line; *pos moves past the line. */
int cas_split_line(char **pos, char **f, int max)
{
	char *s = *pos, *nl = strchr(s, '\n');
	int n = 0;
	if (!nl)
		return -1;
	*nl = '\0';
	*pos = nl + 1;
	for (;;) {
		char *tab = strchr(s, '\t');
		if (n == max)
			return max + 1;
		f[n++] = s;
		if (!tab)
			return n;
		*tab = '\0';
		s = tab + 1;
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void cas_free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* The names in the directory open as dirfd (not consumed) except "." and "..", sorted by
 * byte order. 0, or -1 with errno. */
int cas_list_dir(int dirfd, char ***out, size_t *nout)
{
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		int saved = errno;
		if (fd >= 0)
			close(fd);
		errno = saved;
		return -1;
	}
	errno = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		GROW(names, cap, n + 1);
		names[n++] = xstrdup(de->d_name);
		errno = 0;
	}
	if (errno) {
		int saved = errno;
		closedir(d);
		cas_free_names(names, n);
		errno = saved;
		return -1;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	*out = names;
	*nout = n;
	return 0;
}

/* Copy in to out from their current offsets to the end of in. 0, or -1 with errno. */
int cas_copy_fd(int in, int out)
{
	char chunk[1 << 16];
	for (;;) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)1 << 30, 0);
		if (n == 0)
			return 0;
		if (n > 0)
			continue;
		if (errno == EINTR)
			continue;
		if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP &&
		    errno != EPERM)
			return -1;
		break;
	}
	for (;;) {
		ssize_t n = read(in, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		if (os_write_all(out, chunk, (size_t)n))
			return -1;
	}
}

char *cas_object_path(const struct cas *c, const char *digest, int exec)
{
	return xasprintf("%s/%.2s/%s%s", c->objects, digest, digest + 2, exec ? ".x" : "");
}

/* A file being written before it gets its name. Anonymous (O_TMPFILE) where the filesystem
 * can: no name to create and remove in tmp/, so concurrent jobs do not queue on tmp/'s lock
 * while an inode is allocated (slow on ext4 without a journal), and nothing is left behind by
 * a killed process. Else a file named tmp/<pid>.<counter>, as cas_open() cleans up. */
struct tmpf {
	int fd;
	int anon;
	struct buf path;        /* the named file, or /proc/self/fd/<fd> to link an anonymous one */
};

/* A new "<pid>.<counter>" name in tmp/ for a link or a file (path reset first). */
static void tmp_name(struct cas *c, struct buf *path)
{
	unsigned long n = __atomic_fetch_add(&tmp_counter, 1, __ATOMIC_RELAXED);
	buf_reset(path);
	buf_addf(path, "%s/%ld.%lu", c->tmp, (long)getpid(), n);
}

/* Open a new file for writing (mode 0600). 0, or -1 with err. */
static int tmpf_open(struct cas *c, struct tmpf *t, struct error *err)
{
	t->fd = open(c->tmp, O_WRONLY | O_TMPFILE | O_CLOEXEC, 0600);
	t->anon = t->fd >= 0;
	buf_init(&t->path);
	if (t->anon) {
		buf_addf(&t->path, "/proc/self/fd/%d", t->fd);
		return 0;
	}
	for (;;) {
		tmp_name(c, &t->path);
		t->fd = open(t->path.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (t->fd >= 0)
			return 0;
		if (errno != EEXIST)
			return error_set(err, "cannot create a file in '%s': %s", c->tmp, strerror(errno));
	}
}

/* Give the finished file the name final: a new name (EEXIST when something is there), or with
 * replace, atomically replacing what is there. 0, or -1 with errno. */
static int tmpf_name(struct cas *c, struct tmpf *t, const char *final, int replace)
{
	struct buf tmp = BUF_INIT;
	int rc;
	if (!t->anon)
		return replace ? rename(t->path.data, final) : link(t->path.data, final);
	if (!replace)
		return linkat(AT_FDCWD, t->path.data, AT_FDCWD, final, AT_SYMLINK_FOLLOW);
	do {
		tmp_name(c, &tmp);
		rc = linkat(AT_FDCWD, t->path.data, AT_FDCWD, tmp.data, AT_SYMLINK_FOLLOW);
	} while (rc && errno == EEXIST);
	if (!rc && rename(tmp.data, final)) {
		int saved = errno;
		unlink(tmp.data);
		errno = saved;
		rc = -1;
	}
	buf_release(&tmp);
	return rc;
}

/* Close the file (its last error in the return value, -1 with errno) and remove its tmp/ name
 * if it still has one. */
static int tmpf_close(struct tmpf *t)
{
	int rc = t->fd >= 0 ? close(t->fd) : 0, saved = errno;
	if (!t->anon && t->path.len)
		unlink(t->path.data);
	t->fd = -1;
	buf_release(&t->path);
	errno = saved;
	return rc;
}

/* Make sure objects/<xx> exists for digest. */
static int object_dir(struct cas *c, const char *digest, struct error *err)
{
	unsigned v = (unsigned)strtoul((char[3]){digest[0], digest[1], '\0'}, NULL, 16);
	char *dir;
	if (c->made_dirs[v / 8] & (1u << (v % 8)))
		return 0;
	dir = xasprintf("%s/%.2s", c->objects, digest);
	if (mkdir(dir, 0755) && errno != EEXIST) {
		error_set(err, "cannot create directory '%s': %s", dir, strerror(errno));
		free(dir);
		return -1;
	}
	free(dir);
	c->made_dirs[v / 8] |= (unsigned char)(1u << (v % 8));
	return 0;
}

/* An existing object that can be kept: a regular file of the expected size and mode. Its
 * content is trusted (cas_fsck() is what checks content). */
static int object_ok(const char *path, unsigned long long size, int exec)
{
	struct stat st;
	return !lstat(path, &st) && S_ISREG(st.st_mode) && (unsigned long long)st.st_size == size &&
	       (st.st_mode & 07777) == (exec ? 0555u : 0444u);
}

/* Put the finished file (final mode already set) in place as the object digest, then close
 * it. An intact existing object wins and the file is dropped; a damaged one is replaced. Only
 * a file that closes without error becomes the object. */
static int place_object(struct cas *c, struct tmpf *t, const char *digest, int exec,
			unsigned long long size, struct error *err)
{
	char *final = NULL;
	int rc = 0, named = 0;
	if (object_dir(c, digest, err)) {
		tmpf_close(t);
		return -1;
	}
	final = cas_object_path(c, digest, exec);
	if (tmpf_name(c, t, final, 0) == 0)
		named = 1;
	else if (errno != EEXIST || !object_ok(final, size, exec)) {
		if (tmpf_name(c, t, final, 1) == 0)
			named = 1;
		else
			rc = error_set(err, "cannot store object '%s': %s", final, strerror(errno));
	}
	if (tmpf_close(t) && !rc) {
		rc = error_set(err, "cannot write object '%s': %s", final, strerror(errno));
		if (named)
			unlink(final);
	}
	free(final);
	return rc;
}

/* Store data as an object (mode 0444, or 0555 when exec); digest receives its name. When an
 * intact object of that name exists, nothing is written. */
static int store_data(struct cas *c, const void *data, size_t len, int exec, char digest[65],
		      struct error *err)
{
	struct tmpf t;
	char *final;
	int rc = -1;
	cachekey_sha256_hex(data, len, digest);
	final = cas_object_path(c, digest, exec);
	if (object_ok(final, len, exec)) {
		rc = 0;
		goto out;
	}
	if (tmpf_open(c, &t, err))
		goto out;
	if (os_write_all(t.fd, data, len) || fchmod(t.fd, exec ? 0555 : 0444)) {
		error_set(err, "cannot write a file in '%s': %s", c->tmp, strerror(errno));
		tmpf_close(&t);
		goto out;
	}
	rc = place_object(c, &t, digest, exec, len, err);
out:
	free(final);
	return rc;
}

static int store_blob(struct cas *c, const void *data, size_t len, char digest[65],
		      struct error *err)
{
	return store_data(c, data, len, 0, digest, err);
}

/* Read all of fd into b (reset first). 0, or -1 with errno. */
static int read_all(int fd, struct buf *b, size_t hint)
{
	buf_reset(b);
	for (;;) {
		ssize_t n;
		buf_grow(b, hint + 1);
		n = read(fd, b->data + b->len, b->cap - b->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		b->len += (size_t)n;
		hint = 65536;
	}
}

/* Files up to this size are imported through memory: read once, hashed from the bytes that are
 * (or already were) written to the store, so an unchanged file costs no new inode. */
#define SMALL_FILE (1 << 20)

/* Copy the file name (relative to dirfd; shown is its path for messages) into the store. The
 * digest is always that of the bytes stored, never of the source (which may change underneath):
 * small files are read into memory, hashed and written from there; big ones are copied to tmp/
 * and the copy is hashed, then linked into place. */
static int import_file(struct cas *c, int dirfd, const char *name, const char *shown, int exec,
		       char digest[65], unsigned long long *size, struct error *err)
{
	struct tmpf t;
	struct stat st;
	int in, rc = -1;
	/* O_NONBLOCK: a file swapped for a fifo after the caller's lstat must not hang us. Inside
	 * an install root (dirfd given) a symlink is never followed; a log path (AT_FDCWD) may be. */
	in = openat(dirfd, name,
		    O_RDONLY | O_NONBLOCK | O_CLOEXEC | (dirfd == AT_FDCWD ? 0 : O_NOFOLLOW));
	if (in < 0)
		return error_set(err, "cannot read '%s': %s", shown, strerror(errno));
	if (fstat(in, &st)) {
		error_set(err, "cannot read '%s': %s", shown, strerror(errno));
		goto out_in;
	}
	if (!S_ISREG(st.st_mode)) {
		error_set(err, "cannot read '%s': not a regular file", shown);
		goto out_in;
	}
	if (st.st_size <= SMALL_FILE) {
		if (read_all(in, &c->scratch, (size_t)st.st_size)) {
			error_set(err, "cannot read '%s': %s", shown, strerror(errno));
			goto out_in;
		}
		*size = c->scratch.len;
		rc = store_data(c, c->scratch.data, c->scratch.len, exec, digest, err);
		goto out_in;
	}
	if (tmpf_open(c, &t, err))
		goto out_in;
	if (cas_copy_fd(in, t.fd)) {
		error_set(err, "cannot copy '%s' into the artifact cache: %s", shown, strerror(errno));
		goto fail;
	}
	if (fchmod(t.fd, exec ? 0555 : 0444) || fstat(t.fd, &st)) {
		error_set(err, "cannot write a file in '%s': %s", c->tmp, strerror(errno));
		goto fail;
	}
	*size = (unsigned long long)st.st_size;
	/* hashed from what was stored, read back through the file's own path */
	if (cachekey_sha256_file(t.path.data, digest, err))
		goto fail;
	rc = place_object(c, &t, digest, exec, *size, err);
	goto out_in;
fail:
	tmpf_close(&t);
out_in:
	close(in);
	return rc;
}

static const char *file_type_name(mode_t m)
{
	if (S_ISFIFO(m))
		return "a fifo";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	return "of an unknown file type";
}

/* Store the directory open as dirfd (shown: its path, for messages) and its contents; digest
 * receives the tree object's name. */
static int commit_dir(struct cas *c, int dirfd, struct buf *shown, char digest[65], int depth,
		      struct error *err)
{
	struct buf tree = BUF_INIT, target = BUF_INIT;
	size_t base = shown->len, n = 0;
	char **names = NULL, sub[65];
	int rc = -1;
	if (depth > MAX_TREE_DEPTH)
		return error_set(err, "%s: directories nested too deeply", shown->data);
	if (cas_list_dir(dirfd, &names, &n))
		return error_set(err, "cannot read directory '%s': %s", shown->data, strerror(errno));
	buf_adds(&tree, TREE_HEADER);
	for (size_t i = 0; i < n; i++) {
		const char *name = names[i];
		unsigned long long size = 0;
		struct stat st;
		shown->len = base;
		buf_addf(shown, "/%s", name);
		if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW)) {
			error_set(err, "cannot read '%s': %s", shown->data, strerror(errno));
			goto out;
		}
		if (S_ISREG(st.st_mode)) {
			int exec = (st.st_mode & S_IXUSR) != 0;
			if (import_file(c, dirfd, name, shown->data, exec, sub, &size, err))
				goto out;
			buf_addf(&tree, "%c\t%s\t%llu\t", exec ? 'x' : 'f', sub, size);
			add_escaped(&tree, name);
		} else if (S_ISLNK(st.st_mode)) {
			ssize_t got;
			buf_reset(&target);
			buf_grow(&target, (size_t)st.st_size + 256);
			got = readlinkat(dirfd, name, target.data, target.cap - 1);
			if (got < 0 || (size_t)got >= target.cap - 1) {
				error_set(err, "cannot read symlink '%s': %s", shown->data,
					  got < 0 ? strerror(errno) : "it changed while being read");
				goto out;
			}
			target.data[got] = '\0';
			target.len = (size_t)got;
			buf_addf(&tree, "l\t-\t%zu\t", target.len);
			add_escaped(&tree, name);
			buf_addch(&tree, '\t');
			add_escaped(&tree, target.data);
		} else if (S_ISDIR(st.st_mode)) {
			int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0) {
				error_set(err, "cannot open directory '%s': %s", shown->data,
					  strerror(errno));
				goto out;
			}
			rc = commit_dir(c, fd, shown, sub, depth + 1, err);
			close(fd);
			if (rc)
				goto out;
			rc = -1;
			buf_addf(&tree, "d\t%s\t0\t", sub);
			add_escaped(&tree, name);
		} else {
			error_set(err, "%s: is %s; an artifact can only hold regular files, symlinks and "
				  "directories (remove it from the install root)", shown->data,
				  file_type_name(st.st_mode));
			goto out;
		}
		buf_addch(&tree, '\n');
	}
	shown->len = base;
	shown->data[base] = '\0';
	rc = store_blob(c, tree.data, tree.len, digest, err);
out:
	shown->len = base;
	if (shown->data)
		shown->data[base] = '\0';
	cas_free_names(names, n);
	buf_release(&target);
	buf_release(&tree);
	return rc;
}

/* refs/<project>/<normal name>/<key>, or NULL when a part cannot be a file name. */
char *cas_ref_path(const struct cas *c, const char *project, const char *element, const char *key)
{
	char *normal, *path = NULL;
	if (!is_safe_name(project) || !is_safe_name(key) || !element)
		return NULL;
	normal = cas_normal_name(element);
	if (normal[0] && strcmp(normal, ".") && strcmp(normal, ".."))
		path = xasprintf("%s/%s/%s/%s", c->refs, project, normal, key);
	free(normal);
	return path;
}

/* Write refpath = "<digest>\n" atomically. */
static int write_ref(struct cas *c, const char *refpath, const char *digest, struct error *err)
{
	struct tmpf t;
	char line[66], *dir = xstrdup(refpath);
	int rc = -1;
	*strrchr(dir, '/') = '\0';
	if (os_mkdir_p(dir, err) || tmpf_open(c, &t, err))
		goto out;
	snprintf(line, sizeof(line), "%s\n", digest);
	if (os_write_all(t.fd, line, 65) || fchmod(t.fd, 0644)) {
		error_set(err, "cannot write ref '%s': %s", refpath, strerror(errno));
		tmpf_close(&t);
		goto out;
	}
	/* a new ref is linked in place; one being replaced (a weak key built again) is renamed */
	if (tmpf_name(c, &t, refpath, 0) && (errno != EEXIST || tmpf_name(c, &t, refpath, 1))) {
		error_set(err, "cannot write ref '%s': %s", refpath, strerror(errno));
		tmpf_close(&t);
		goto out;
	}
	if (tmpf_close(&t)) {
		error_set(err, "cannot write ref '%s': %s", refpath, strerror(errno));
		unlink(refpath);
		goto out;
	}
	rc = 0;
out:
	free(dir);
	return rc;
}

/* Read the manifest digest a ref names. 0 (digest filled), or -1 with errno (EINVAL: the ref
 * file is not a digest). */
int cas_read_ref(const char *refpath, char digest[65])
{
	char line[80];
	ssize_t n;
	int fd = open(refpath, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, line, sizeof(line) - 1);
	close(fd);
	if (n < 0)
		return -1;
	line[n] = '\0';
	if (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	if (!cas_is_digest(line, (size_t)n)) {
		errno = EINVAL;
		return -1;
	}
	memcpy(digest, line, 65);
	return 0;
}

/* ---- open / close ---- */

static void clean_tmp(struct cas *c)
{
	char **names = NULL;
	size_t n = 0;
	int fd = open(c->tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (cas_list_dir(fd, &names, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			char *end;
			long pid = strtol(names[i], &end, 10);
			if (end == names[i] || *end != '.' || pid <= 0 || pid > INT_MAX)
				continue;
			if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
				continue;
			if (unlinkat(fd, names[i], 0) && errno == EISDIR) {
				char *path = xasprintf("%s/%s", c->tmp, names[i]);
				struct error ignored = ERROR_INIT;
				os_rm_rf(path, &ignored);
				error_release(&ignored);
				free(path);
			}
		}
		cas_free_names(names, n);
	}
	close(fd);
}

static struct memo_entry *memo_slot(const struct memo *m, const char *key)
{
	size_t i = (size_t)hash_bytes(key, strlen(key)) & (m->cap - 1);
	while (m->e[i].key && strcmp(m->e[i].key, key))
		i = (i + 1) & (m->cap - 1);
	return &m->e[i];
}

void *cas_memo_get(const struct memo *m, const char *key)
{
	return m->n ? memo_slot(m, key)->val : NULL;
}

/* Add key (copied) -> val; key must not be there yet. */
void cas_memo_put(struct memo *m, const char *key, void *val)
{
	if (2 * (m->n + 1) > m->cap) {
		struct memo old = *m;
		m->cap = old.cap ? 2 * old.cap : 256;
		m->e = xcalloc(m->cap, sizeof(*m->e));
		for (size_t i = 0; i < old.cap; i++)
			if (old.e[i].key)
				*memo_slot(m, old.e[i].key) = old.e[i];
		free(old.e);
	}
	memo_slot(m, key)->val = val;
	memo_slot(m, key)->key = xstrdup(key);
	m->n++;
}

static void memo_release(struct memo *m, void (*free_val)(void *))
{
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->e[i].key)
			continue;
		free(m->e[i].key);
		free_val(m->e[i].val);
	}
	free(m->e);
	memset(m, 0, sizeof(*m));
}

struct cas *cas_open(const char *root, struct error *err)
{
	struct cas *c = xcalloc(1, sizeof(*c));
	c->root = xstrdup(root);
	c->objects = xasprintf("%s/objects", root);
	c->refs = xasprintf("%s/refs", root);
	c->tmp = xasprintf("%s/tmp", root);
	c->lock_fd = -1;
	if (os_mkdir_p(c->objects, err) || os_mkdir_p(c->refs, err) || os_mkdir_p(c->tmp, err)) {
		error_prefix(err, "cannot open the artifact cache at '%s'", root);
		cas_close(c);
		return NULL;
	}
	clean_tmp(c);
	return c;
}

void cas_close(struct cas *c)
{
	if (!c)
		return;
	free(c->root);
	free(c->objects);
	free(c->refs);
	free(c->tmp);
	if (c->lock_fd >= 0)
		close(c->lock_fd);
	buf_release(&c->scratch);
	memo_release(&c->refs_seen, free);
	memo_release(&c->manifests, cas_free_shared_artifact);
	memo_release(&c->trees, cas_free_tree);
	free(c);
}

const char *cas_root(const struct cas *c)
{
	return c->root;
}

char *cas_normal_name(const char *element)
{
	size_t n = strlen(element);
	struct buf b = BUF_INIT;
	if (str_has_suffix(element, ".bst"))
		n -= 4;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)element[i];
		if (ch == '/')
			buf_addch(&b, '-');
		else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
			 ch == '-' || ch == '.' || ch == '_')
			buf_addch(&b, (char)ch);
		else if ((ch & 0xc0) != 0x80)   /* one '_' per character: skip UTF-8 continuations */
			buf_addch(&b, '_');
	}
	buf_addch(&b, '\0');
	b.len--;
	return buf_detach(&b);
}

/* ---- commit ---- */

int cas_commit(struct cas *c, const char *project, const char *element, const char *dir,
	       const struct cas_meta *m, struct error *err)
{
	struct buf shown = BUF_INIT, man = BUF_INIT;
	char files[65], log[65] = "", pub[65] = "", mdigest[65];
	char *strong_ref = NULL, *weak_ref = NULL;
	int fd = -1, rc = -1, locked = 0;
	strong_ref = cas_ref_path(c, project, element, m->strong_key ? m->strong_key : "");
	weak_ref = cas_ref_path(c, project, element, m->weak_key ? m->weak_key : "");
	if (!strong_ref || !weak_ref) {
		error_set(err, "%s: cannot commit artifact: invalid project name '%s' or key '%s'/'%s'",
			  element, project, m->strong_key ? m->strong_key : "",
			  m->weak_key ? m->weak_key : "");
		goto out;
	}
	/* shared with other commits, exclusive of a sweep (casgc.c), from the first object to the
	 * ref: an object found present cannot be swept before the ref naming it exists */
	if (cas_lock(c, LOCK_SH)) {
		error_set(err, "%s: cannot lock the artifact cache at '%s': %s", element, c->root, strerror(errno));
		goto out;
	}
	locked = 1;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		error_set(err, "%s: cannot open artifact directory '%s': %s", element, dir, strerror(errno));
		goto out;
	}
	buf_adds(&shown, dir);
	while (shown.len > 1 && shown.data[shown.len - 1] == '/')
		shown.data[--shown.len] = '\0';
	if (commit_dir(c, fd, &shown, files, 0, err))
		goto out;
	if (m->log_path) {
		unsigned long long size;
		if (import_file(c, AT_FDCWD, m->log_path, m->log_path, 0, log, &size, err))
			goto out;
	}
	if (m->public_yaml && store_blob(c, m->public_yaml, strlen(m->public_yaml), pub, err))
		goto out;
	buf_adds(&man, MANIFEST_HEADER);
	buf_addf(&man, "strong\t%s\nweak\t%s\nfiles\t%s\n", m->strong_key, m->weak_key, files);
	if (log[0])
		buf_addf(&man, "log\t%s\n", log);
	if (pub[0])
		buf_addf(&man, "public\t%s\n", pub);
	for (size_t i = 0; i < m->ndeps; i++) {
		buf_adds(&man, "dep\t");
		add_escaped(&man, m->dep_names[i]);
		buf_addch(&man, '\t');
		add_escaped(&man, m->dep_keys[i]);
		buf_addch(&man, '\n');
	}
	if (store_blob(c, man.data, man.len, mdigest, err))
		goto out;
	if (write_ref(c, strong_ref, mdigest, err))
		goto out;
	if (strcmp(strong_ref, weak_ref) && write_ref(c, weak_ref, mdigest, err))
		goto out;
	rc = 0;
out:
	if (locked)
		cas_lock(c, LOCK_UN);
	if (rc && err->msg && !str_has_prefix(err->msg, element))
		error_prefix(err, "%s", element);
	if (fd >= 0)
		close(fd);
	buf_release(&man);
	buf_release(&shown);
	free(weak_ref);
	free(strong_ref);
	return rc;
}

/* ---- lookup ---- */

int cas_has(struct cas *c, const char *project, const char *element, const char *key)
{
	char *ref = cas_ref_path(c, project, element, key), digest[65], *obj;
	int has;
	if (!ref)
		return 0;
	has = cas_read_ref(ref, digest) == 0;
	free(ref);
	if (!has)
		return 0;
	obj = cas_object_path(c, digest, 0);
	has = access(obj, F_OK) == 0;
	free(obj);
	return has;
}

/* Read object digest into out (reset first) and check its content against the digest.
 * what names the object kind for messages. -2 (with err) when the object does not exist. */
int cas_load_object(struct cas *c, const char *digest, const char *what, struct buf *out,
		       struct error *err)
{
	char *path = cas_object_path(c, digest, 0), got[65];
	int rc = -1;
	buf_reset(out);
	if (read_file(path, out, err)) {
		int missing = errno == ENOENT;
		error_set(err, "%s: cannot read %s object: %s", path, what,
			  missing ? "it is missing from the artifact cache" : strerror(errno));
		rc = missing ? -2 : -1;
		goto out;
	}
	cachekey_sha256_hex(buf_str(out), out->len, got);
	if (strcmp(got, digest)) {
		error_set(err, "%s: %s object is corrupt (its content does not match its name); "
			  "check the artifact cache with repair", path, what);
		goto out;
	}
	if (out->len != strlen(buf_str(out))) {
		error_set(err, "%s: %s object is corrupt (it holds a NUL byte)", path, what);
		goto out;
	}
	rc = 0;
out:
	free(path);
	return rc;
}

/* Parse a manifest's text (modified in place) into a. Returns 0, or -1 with a reason in *why. */
static int manifest_parse(char *text, struct cas_artifact *a, const char **why)
{
	char *pos = text, *f[4];
	size_t cap = 0;
	int n;
	if (!str_has_prefix(text, MANIFEST_HEADER))
		return *why = "unknown format", -1;
	pos += strlen(MANIFEST_HEADER);
	while (*pos) {
		n = cas_split_line(&pos, f, 3);
		if (n < 0)
			return *why = "truncated line", -1;
		if (n == 2 && !strcmp(f[0], "strong") && !a->strong && is_safe_name(f[1]))
			a->strong = xstrdup(f[1]);
		else if (n == 2 && !strcmp(f[0], "weak") && !a->weak && is_safe_name(f[1]))
			a->weak = xstrdup(f[1]);
		else if (n == 2 && !strcmp(f[0], "files") && !a->files && cas_is_digest(f[1], strlen(f[1])))
			a->files = xstrdup(f[1]);
		else if (n == 2 && !strcmp(f[0], "log") && !a->log_digest && cas_is_digest(f[1], strlen(f[1])))
			a->log_digest = xstrdup(f[1]);
		else if (n == 2 && !strcmp(f[0], "public") && !a->public_digest &&
			 cas_is_digest(f[1], strlen(f[1])))
			a->public_digest = xstrdup(f[1]);
		else if (n == 3 && !strcmp(f[0], "dep")) {
			char *name = cas_unescape(f[1]), *key = cas_unescape(f[2]);
			if (!name || !key) {
				free(name);
				free(key);
				return *why = "bad escape in a dependency", -1;
			}
			GROW(a->dep_names, cap, a->ndeps + 1);
			a->dep_keys = xrealloc(a->dep_keys, cap * sizeof(*a->dep_keys));
			a->dep_names[a->ndeps] = name;
			a->dep_keys[a->ndeps++] = key;
		} else
			return *why = "unexpected line", -1;
	}
	if (!a->strong || !a->weak || !a->files)
		return *why = "a key or the files tree is missing", -1;
	return 0;
}

/* Load the manifest object digest into a new *out (keys, digests, dependencies only). */
int cas_manifest_load(struct cas *c, const char *digest, struct cas_artifact **out,
			 struct error *err)
{
	struct cas_artifact *a = xcalloc(1, sizeof(*a));
	struct buf text = BUF_INIT;
	const char *why = NULL;
	int rc;
	rc = cas_load_object(c, digest, "manifest", &text, err);
	if (rc)
		goto out;
	rc = -1;
	if (manifest_parse(text.data, a, &why)) {
		char *path = cas_object_path(c, digest, 0);
		error_set(err, "%s: manifest object is corrupt (%s); check the artifact cache with repair",
			  path, why);
		free(path);
		goto out;
	}
	rc = 0;
out:
	buf_release(&text);
	if (rc) {
		cas_artifact_free(a);
		a = NULL;
	}
	*out = a;
	return rc;
}

int cas_artifact_open(struct cas *c, const char *project, const char *element, const char *key,
		      struct cas_artifact **out, struct error *err)
{
	char *ref = cas_ref_path(c, project, element, key), digest[65];
	const char *seen = ref ? cas_memo_get(&c->refs_seen, ref) : NULL;
	int rc = -2;
	*out = NULL;
	if (seen && (*out = cas_memo_get(&c->manifests, seen))) {
		free(ref);
		return 0;
	}
	/* a ref whose manifest is gone counts as no artifact, as a missing ref does */
	if (ref && cas_read_ref(ref, digest) == 0)
		rc = cas_manifest_load(c, digest, out, err);
	free(ref);
	if (rc == -2)
		return error_set(err, "%s: no artifact with key %s in the cache", element, key);
	if (rc)
		return error_prefix(err, "%s", element);
	(*out)->c = c;
	if ((*out)->log_digest)
		(*out)->log_path = cas_object_path(c, (*out)->log_digest, 0);
	return 0;
}

void cas_artifact_free(struct cas_artifact *a)
{
	if (!a || a->shared)
		return;
	cas_free_names(a->dep_names, a->ndeps);
	cas_free_names(a->dep_keys, a->ndeps);
	free(a->strong);
	free(a->weak);
	free(a->files);
	free(a->log_digest);
	free(a->public_digest);
	free(a->public_yaml);
	free(a->log_path);
	free(a);
}

const char *cas_artifact_strong_key(const struct cas_artifact *a) { return a->strong; }
const char *cas_artifact_weak_key(const struct cas_artifact *a) { return a->weak; }
/* Loaded on first use: staging, by far the most frequent user of artifacts, never needs it. */
const char *cas_artifact_public_yaml(const struct cas_artifact *a)
{
	struct cas_artifact *m = (struct cas_artifact *)a;      /* only the cache below changes */
	struct buf text = BUF_INIT;
	struct error err = ERROR_INIT;
	if (!a->public_yaml && a->public_digest && cas_load_object(a->c, a->public_digest, "public data",
							       &text, &err) == 0)
		m->public_yaml = buf_detach(&text);
	buf_release(&text);
	error_release(&err);
	return a->public_yaml;
}
size_t cas_artifact_ndeps(const struct cas_artifact *a) { return a->ndeps; }
const char *cas_artifact_dep_name(const struct cas_artifact *a, size_t i) { return a->dep_names[i]; }
const char *cas_artifact_dep_key(const struct cas_artifact *a, size_t i) { return a->dep_keys[i]; }
const char *cas_artifact_log_path(const struct cas_artifact *a) { return a->log_path; }

/* ---- for the remote cache (casremote.c) ---- */

void cas_add_escaped(struct buf *b, const char *s)
{
	add_escaped(b, s);
}

int cas_store_data(struct cas *c, const void *data, size_t len, int exec, char digest[65],
		   struct error *err)
{
	return store_data(c, data, len, exec, digest, err);
}

int cas_write_ref(struct cas *c, const char *refpath, const char *digest, struct error *err)
{
	return write_ref(c, refpath, digest, err);
}

struct cas_newobj {
	struct tmpf t;
	struct sha256 h;
	unsigned long long size;
};

struct cas_newobj *cas_newobj_open(struct cas *c, struct error *err)
{
	struct cas_newobj *o = xcalloc(1, sizeof(*o));
	if (tmpf_open(c, &o->t, err)) {
		free(o);
		return NULL;
	}
	sha256_init(&o->h);
	return o;
}

int cas_newobj_write(struct cas *c, struct cas_newobj *o, const void *data, size_t len, struct error *err)
{
	if (os_write_all(o->t.fd, data, len))
		return error_set(err, "cannot write a file in '%s': %s", c->tmp, strerror(errno));
	sha256_update(&o->h, data, len);
	o->size += len;
	return 0;
}

void cas_newobj_abort(struct cas_newobj *o)
{
	if (!o)
		return;
	tmpf_close(&o->t);
	free(o);
}

int cas_newobj_commit(struct cas *c, struct cas_newobj *o, int exec, const char *hash,
		      unsigned long long size, struct error *err)
{
	unsigned char raw[32];
	char hex[65];
	int rc;
	sha256_final(&o->h, raw);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	if (o->size != size || strcmp(hex, hash)) {
		error_set(err, "blob %s/%llu arrived as %s/%llu: the server sent wrong data", hash, size, hex,
			  o->size);
		cas_newobj_abort(o);
		return -1;
	}
	if (fchmod(o->t.fd, exec ? 0555 : 0444)) {
		error_set(err, "cannot write a file in '%s': %s", c->tmp, strerror(errno));
		cas_newobj_abort(o);
		return -1;
	}
	rc = place_object(c, &o->t, hash, exec, size, err);
	free(o);
	return rc;
}
