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
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "base/osutil.h"
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

#define TREE_HEADER "rill-tree 1\n"
#define MANIFEST_HEADER "rill-artifact 1\n"
#define MAX_TREE_DEPTH 512

/* String-keyed table (open addressing) of the memory below. */
struct memo {
	struct memo_entry {
		char *key;
		void *val;
	} *e;
	size_t n, cap;
};

struct cas {
	char *root, *objects, *refs, *tmp;
	unsigned char made_dirs[32];    /* objects/<xx> known to exist, one bit each */
	struct buf scratch;             /* file contents being imported */
	/* What cas_preload() verified and keeps: refs (path -> manifest digest), manifests
	 * (digest -> shared struct cas_artifact) and trees (digest -> struct tree). */
	struct memo refs_seen, manifests, trees;
	size_t memo_bytes;
};

struct cas_artifact {
	struct cas *c;
	int shared;                     /* kept in c's memory: cas_artifact_free() leaves it */
	char *strong, *weak, *files, *log_digest, *public_digest;
	char *public_yaml, *log_path;
	char **dep_names, **dep_keys;
	size_t ndeps;
};

static unsigned long tmp_counter;

/* ---- small helpers ---- */

static int is_digest(const char *s, size_t n)
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
static char *unescape(const char *s)
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
static int split_line(char **pos, char **f, int max)
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

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* The names in the directory open as dirfd (not consumed) except "." and "..", sorted by
 * byte order. 0, or -1 with errno. */
static int list_dir(int dirfd, char ***out, size_t *nout)
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
		free_names(names, n);
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
static int copy_fd(int in, int out)
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

static char *object_path(const struct cas *c, const char *digest, int exec)
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
	final = object_path(c, digest, exec);
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
	final = object_path(c, digest, exec);
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
	if (copy_fd(in, t.fd)) {
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
	if (list_dir(dirfd, &names, &n))
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
	free_names(names, n);
	buf_release(&target);
	buf_release(&tree);
	return rc;
}

/* refs/<project>/<normal name>/<key>, or NULL when a part cannot be a file name. */
static char *ref_path(const struct cas *c, const char *project, const char *element, const char *key)
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
static int read_ref(const char *refpath, char digest[65])
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
	if (!is_digest(line, (size_t)n)) {
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
	if (list_dir(fd, &names, &n) == 0) {
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
		free_names(names, n);
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

static void *memo_get(const struct memo *m, const char *key)
{
	return m->n ? memo_slot(m, key)->val : NULL;
}

/* Add key (copied) -> val; key must not be there yet. */
static void memo_put(struct memo *m, const char *key, void *val)
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

static void free_shared_artifact(void *a);
static void free_tree(void *t);

struct cas *cas_open(const char *root, struct error *err)
{
	struct cas *c = xcalloc(1, sizeof(*c));
	c->root = xstrdup(root);
	c->objects = xasprintf("%s/objects", root);
	c->refs = xasprintf("%s/refs", root);
	c->tmp = xasprintf("%s/tmp", root);
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
	buf_release(&c->scratch);
	memo_release(&c->refs_seen, free);
	memo_release(&c->manifests, free_shared_artifact);
	memo_release(&c->trees, free_tree);
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
	int fd = -1, rc = -1;
	strong_ref = ref_path(c, project, element, m->strong_key ? m->strong_key : "");
	weak_ref = ref_path(c, project, element, m->weak_key ? m->weak_key : "");
	if (!strong_ref || !weak_ref) {
		error_set(err, "%s: cannot commit artifact: invalid project name '%s' or key '%s'/'%s'",
			  element, project, m->strong_key ? m->strong_key : "",
			  m->weak_key ? m->weak_key : "");
		goto out;
	}
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
	char *ref = ref_path(c, project, element, key), digest[65], *obj;
	int has;
	if (!ref)
		return 0;
	has = read_ref(ref, digest) == 0;
	free(ref);
	if (!has)
		return 0;
	obj = object_path(c, digest, 0);
	has = access(obj, F_OK) == 0;
	free(obj);
	return has;
}

/* Read object digest into out (reset first) and check its content against the digest.
 * what names the object kind for messages. -2 (with err) when the object does not exist. */
static int load_object(struct cas *c, const char *digest, const char *what, struct buf *out,
		       struct error *err)
{
	char *path = object_path(c, digest, 0), got[65];
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
		n = split_line(&pos, f, 3);
		if (n < 0)
			return *why = "truncated line", -1;
		if (n == 2 && !strcmp(f[0], "strong") && !a->strong && is_safe_name(f[1]))
			a->strong = xstrdup(f[1]);
		else if (n == 2 && !strcmp(f[0], "weak") && !a->weak && is_safe_name(f[1]))
			a->weak = xstrdup(f[1]);
		else if (n == 2 && !strcmp(f[0], "files") && !a->files && is_digest(f[1], strlen(f[1])))
			a->files = xstrdup(f[1]);
		else if (n == 2 && !strcmp(f[0], "log") && !a->log_digest && is_digest(f[1], strlen(f[1])))
			a->log_digest = xstrdup(f[1]);
		else if (n == 2 && !strcmp(f[0], "public") && !a->public_digest &&
			 is_digest(f[1], strlen(f[1])))
			a->public_digest = xstrdup(f[1]);
		else if (n == 3 && !strcmp(f[0], "dep")) {
			char *name = unescape(f[1]), *key = unescape(f[2]);
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
static int manifest_load(struct cas *c, const char *digest, struct cas_artifact **out,
			 struct error *err)
{
	struct cas_artifact *a = xcalloc(1, sizeof(*a));
	struct buf text = BUF_INIT;
	const char *why = NULL;
	int rc;
	rc = load_object(c, digest, "manifest", &text, err);
	if (rc)
		goto out;
	rc = -1;
	if (manifest_parse(text.data, a, &why)) {
		char *path = object_path(c, digest, 0);
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
	char *ref = ref_path(c, project, element, key), digest[65];
	const char *seen = ref ? memo_get(&c->refs_seen, ref) : NULL;
	int rc = -2;
	*out = NULL;
	if (seen && (*out = memo_get(&c->manifests, seen))) {
		free(ref);
		return 0;
	}
	/* a ref whose manifest is gone counts as no artifact, as a missing ref does */
	if (ref && read_ref(ref, digest) == 0)
		rc = manifest_load(c, digest, out, err);
	free(ref);
	if (rc == -2)
		return error_set(err, "%s: no artifact with key %s in the cache", element, key);
	if (rc)
		return error_prefix(err, "%s", element);
	(*out)->c = c;
	if ((*out)->log_digest)
		(*out)->log_path = object_path(c, (*out)->log_digest, 0);
	return 0;
}

void cas_artifact_free(struct cas_artifact *a)
{
	if (!a || a->shared)
		return;
	free_names(a->dep_names, a->ndeps);
	free_names(a->dep_keys, a->ndeps);
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
	if (!a->public_yaml && a->public_digest && load_object(a->c, a->public_digest, "public data",
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

/* ---- trees ---- */

struct tree_ent {
	char type;              /* f x l d */
	char digest[65];        /* "" for symlinks */
	unsigned long long size;
	char *name, *target;
};

struct tree {
	struct tree_ent *e;
	size_t n, cap;
};

static void tree_release(struct tree *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->e[i].name);
		free(t->e[i].target);
	}
	free(t->e);
	memset(t, 0, sizeof(*t));
}

static int tree_parse(char *text, struct tree *t, const char **why)
{
	char *pos = text, *f[6];
	if (!str_has_prefix(text, TREE_HEADER))
		return *why = "unknown format", -1;
	pos += strlen(TREE_HEADER);
	while (*pos) {
		struct tree_ent e = {0};
		char *end;
		int n = split_line(&pos, f, 5);
		if (n < 4 || strlen(f[0]) != 1 || !strchr("fxld", f[0][0]))
			return *why = n < 0 ? "truncated line" : "bad entry", -1;
		e.type = f[0][0];
		if (n != (e.type == 'l' ? 5 : 4))
			return *why = "bad entry", -1;
		if (e.type == 'l' ? strcmp(f[1], "-") != 0 : !is_digest(f[1], strlen(f[1])))
			return *why = "bad digest", -1;
		if (e.type != 'l')
			memcpy(e.digest, f[1], 65);
		errno = 0;
		e.size = strtoull(f[2], &end, 10);
		if (!*f[2] || *end || errno || f[2][0] == '-')
			return *why = "bad size", -1;
		e.name = unescape(f[3]);
		if (e.type == 'l')
			e.target = unescape(f[4]);
		GROW(t->e, t->cap, t->n + 1);
		t->e[t->n++] = e;
		if (!e.name || (e.type == 'l' && (!e.target || !*e.target)))
			return *why = "bad escape", -1;
		if (!*e.name || strchr(e.name, '/') || !strcmp(e.name, ".") || !strcmp(e.name, ".."))
			return *why = "bad name", -1;
		if (t->n > 1 && strcmp(t->e[t->n - 2].name, e.name) >= 0)
			return *why = "names not sorted", -1;
	}
	return 0;
}

/* Load and parse the tree object digest into t (released by the caller, on errors too). */
static int tree_load(struct cas *c, const char *digest, struct tree *t, struct error *err)
{
	struct buf text = BUF_INIT;
	const char *why = NULL;
	int rc = -1;
	if (load_object(c, digest, "tree", &text, err))
		goto out;
	if (tree_parse(text.data, t, &why)) {
		char *path = object_path(c, digest, 0);
		error_set(err, "%s: tree object is corrupt (%s); check the artifact cache with repair",
			  path, why);
		free(path);
		goto out;
	}
	rc = 0;
out:
	buf_release(&text);
	return rc;
}

/* The tree digest: from c's memory, else loaded into *local (released by the caller, on
 * errors too). NULL with err when it cannot be loaded. */
static const struct tree *tree_get(struct cas *c, const char *digest, struct tree *local,
				   struct error *err)
{
	const struct tree *t = memo_get(&c->trees, digest);
	if (t)
		return t;
	return tree_load(c, digest, local, err) ? NULL : local;
}

static void free_tree(void *t)
{
	tree_release(t);
	free(t);
}

static void free_shared_artifact(void *a)
{
	((struct cas_artifact *)a)->shared = 0;
	cas_artifact_free(a);
}

/* Keep the tree digest and those below it in memory. -1 when one cannot be loaded. */
static int preload_tree(struct cas *c, const char *digest, int depth)
{
	struct error ignored = ERROR_INIT;
	struct tree *t;
	int rc = 0;
	if (memo_get(&c->trees, digest))
		return 0;
	if (depth > MAX_TREE_DEPTH)
		return -1;
	t = xcalloc(1, sizeof(*t));
	if (tree_load(c, digest, t, &ignored)) {
		free_tree(t);
		error_release(&ignored);
		return -1;
	}
	memo_put(&c->trees, digest, t);
	c->memo_bytes += sizeof(*t) + t->n * (sizeof(*t->e) + 32);
	for (size_t i = 0; i < t->n && !rc; i++)
		if (t->e[i].type == 'd')
			rc = preload_tree(c, t->e[i].digest, depth + 1);
	return rc;
}

/* Memory for preloaded artifacts: far more than the trees of a large project's sysroots. */
#define CAS_MEMO_MAX ((size_t)256 << 20)

void cas_preload(struct cas *c, const char *project, const char *element, const char *key)
{
	struct error ignored = ERROR_INIT;
	struct cas_artifact *a = NULL;
	char *ref = ref_path(c, project, element, key), digest[65];
	if (!ref || memo_get(&c->refs_seen, ref) || c->memo_bytes > CAS_MEMO_MAX ||
	    read_ref(ref, digest))
		goto out;
	a = memo_get(&c->manifests, digest);
	if (!a) {
		if (manifest_load(c, digest, &a, &ignored))
			goto out;
		a->c = c;
		if (a->log_digest)
			a->log_path = object_path(c, a->log_digest, 0);
		if (preload_tree(c, a->files, 0)) {
			cas_artifact_free(a);
			goto out;
		}
		a->shared = 1;
		memo_put(&c->manifests, digest, a);
		c->memo_bytes += 256 + a->ndeps * 64;
	}
	memo_put(&c->refs_seen, ref, xstrdup(digest));
out:
	error_release(&ignored);
	free(ref);
}

struct walk {
	struct cas *c;
	int (*fn)(void *ud, const struct cas_entry *e);
	void *ud;
	struct buf path;
	struct error *err;
};

static int walk_tree(struct walk *w, const char *digest, int depth)
{
	struct tree local = {0};
	const struct tree *t;
	size_t base = w->path.len;
	int rc;
	if (depth > MAX_TREE_DEPTH)
		return error_set(w->err, "tree object %s: directories nested too deeply", digest);
	t = tree_get(w->c, digest, &local, w->err);
	rc = t ? 0 : -1;
	for (size_t i = 0; !rc && i < t->n; i++) {
		const struct tree_ent *te = &t->e[i];
		struct cas_entry e = {0};
		char *obj = NULL;
		w->path.len = base;
		if (base)
			buf_addch(&w->path, '/');
		buf_adds(&w->path, te->name);
		e.path = w->path.data;
		e.size = te->size;
		e.type = te->type == 'f' ? CAS_FILE : te->type == 'x' ? CAS_EXEC :
			 te->type == 'l' ? CAS_SYMLINK : CAS_DIR;
		e.target = te->target;
		if (te->type == 'f' || te->type == 'x')
			e.object = obj = object_path(w->c, te->digest, te->type == 'x');
		rc = w->fn(w->ud, &e);
		free(obj);
		if (!rc && te->type == 'd')
			rc = walk_tree(w, te->digest, depth + 1);
	}
	w->path.len = base;
	if (w->path.data)
		w->path.data[base] = '\0';
	tree_release(&local);
	return rc;
}

int cas_artifact_walk(struct cas *c, const struct cas_artifact *a,
		      int (*fn)(void *ud, const struct cas_entry *e), void *ud, struct error *err)
{
	struct walk w = {c, fn, ud, BUF_INIT, err};
	int rc;
	buf_adds(&w.path, "");
	rc = walk_tree(&w, a->files, 0);
	buf_release(&w.path);
	return rc;
}

/* ---- staging ---- */

/* A directory of dest known to be a real directory (no symlink on the way), by artifact path;
 * fd open on it, or -1 when too many are open already. */
struct known_dir {
	char *path;
	int fd;
};

#define STAGER_MAX_FDS 256

struct cas_stager {
	struct cas *c;
	char *dest;
	int destfd;
	int (*make_dir)(void *ud, int dirfd, const char *name);
	void *make_dir_ud;
	struct known_dir *known;        /* open-addressing table, cap a power of two */
	size_t nknown, cap, nfds;
};

struct stage {
	struct cas_stager *st;
	struct cas *c;
	const char *dest;
	int destfd, link;
	int (*want)(void *ud, const char *path);
	void (*overlap)(void *ud, const char *path);
	void *ud;
	struct error *err;
};

/* A directory of the artifact being staged; opened (and created) only when something in it is. */
struct stage_dir {
	struct stage_dir *parent;
	const char *name;       /* in parent */
	const char *path;       /* artifact path */
	char *canon;            /* resolved path in dest, "" for dest itself, once opened */
	int fd;
	int borrowed;           /* fd belongs to the stager's known directories */
};

static struct known_dir *known_slot(struct cas_stager *st, const char *path)
{
	size_t i = (size_t)hash_bytes(path, strlen(path)) & (st->cap - 1);
	while (st->known[i].path && strcmp(st->known[i].path, path))
		i = (i + 1) & (st->cap - 1);
	return &st->known[i];
}

static struct known_dir *known_get(struct cas_stager *st, const char *path)
{
	struct known_dir *k;
	if (!st->nknown)
		return NULL;
	k = known_slot(st, path);
	return k->path ? k : NULL;
}

/* Remember that path is a real directory of dest; the stager keeps fd (when it has room). */
static int known_add(struct cas_stager *st, const char *path, int fd)
{
	struct known_dir *k;
	if (2 * (st->nknown + 1) > st->cap) {
		struct known_dir *old = st->known;
		size_t oldcap = st->cap, i;
		st->cap = oldcap ? 2 * oldcap : 64;
		st->known = xcalloc(st->cap, sizeof(*st->known));
		for (i = 0; i < oldcap; i++)
			if (old[i].path)
				*known_slot(st, old[i].path) = old[i];
		free(old);
	}
	k = known_slot(st, path);
	k->path = xstrdup(path);
	k->fd = st->nfds < STAGER_MAX_FDS ? fd : -1;
	st->nfds += k->fd >= 0;
	st->nknown++;
	return k->fd >= 0;
}

/* Resolve path (relative to dest) following symlinks inside dest: an absolute target restarts
 * at dest, ".." stops at dest. Heap canonical path ("" for dest), or NULL with errno. */
static char *resolve_in_dest(int destfd, const char *path)
{
	struct buf canon = BUF_INIT, rest = BUF_INIT, cand = BUF_INIT;
	char *out = NULL, link[PATH_MAX];
	int links = 0;
	buf_adds(&canon, "");
	buf_adds(&rest, path);
	while (rest.len) {
		char *slash = strchr(rest.data, '/');
		size_t clen = slash ? (size_t)(slash - rest.data) : rest.len;
		char *comp = xstrndup(rest.data, clen);
		struct stat st;
		size_t skip = slash ? clen + 1 : clen;
		memmove(rest.data, rest.data + skip, rest.len - skip + 1);
		rest.len -= skip;
		if (!*comp || !strcmp(comp, ".")) {
			free(comp);
			continue;
		}
		if (!strcmp(comp, "..")) {
			char *last = strrchr(canon.data, '/');
			canon.len = last ? (size_t)(last - canon.data) : 0;
			canon.data[canon.len] = '\0';
			free(comp);
			continue;
		}
		buf_reset(&cand);
		buf_addf(&cand, "%s%s%s", canon.data, canon.len ? "/" : "", comp);
		free(comp);
		if (fstatat(destfd, cand.data, &st, AT_SYMLINK_NOFOLLOW))
			goto out;
		if (S_ISLNK(st.st_mode)) {
			ssize_t n = readlinkat(destfd, cand.data, link, sizeof(link) - 1);
			struct buf next = BUF_INIT;
			if (n < 0)
				goto out;
			if (++links > 40) {
				errno = ELOOP;
				goto out;
			}
			link[n] = '\0';
			buf_addf(&next, "%s%s%s", link, rest.len ? "/" : "", buf_str(&rest));
			buf_release(&rest);
			rest = next;
			buf_adds(&rest, "");
			if (link[0] == '/') {
				canon.len = 0;
				canon.data[0] = '\0';
			}
			continue;
		}
		buf_reset(&canon);
		buf_adds(&canon, cand.data);
	}
	out = buf_detach(&canon);
out:
	buf_release(&cand);
	buf_release(&rest);
	buf_release(&canon);
	return out;
}

/* A directory known to be real is opened directly (or its fd reused): a real directory stays
 * one, since staging only ever replaces non-directories. */
static int open_known(struct stage *s, struct stage_dir *d)
{
	struct known_dir *k = known_get(s->st, d->path);
	if (!k)
		return 0;
	d->canon = xstrdup(d->path);
	if (k->fd >= 0) {
		d->fd = k->fd;
		d->borrowed = 1;
		return 1;
	}
	d->fd = openat(s->destfd, d->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (d->fd < 0)
		return error_set(s->err, "cannot open directory '%s/%s': %s", s->dest, d->path,
				 strerror(errno));
	return 1;
}

static int stage_open_dir(struct stage *s, struct stage_dir *d)
{
	struct stat st;
	int made, rc;
	if (d->fd >= 0)
		return 0;
	rc = open_known(s, d);
	if (rc)
		return rc < 0 ? -1 : 0;
	if (stage_open_dir(s, d->parent))
		return -1;
	made = (s->st->make_dir ? s->st->make_dir(s->st->make_dir_ud, d->parent->fd, d->name)
				: mkdirat(d->parent->fd, d->name, 0755)) == 0;
	if (!made && errno != EEXIST)
		return error_set(s->err, "cannot create directory '%s/%s': %s", s->dest, d->path,
				 strerror(errno));
	/* what we just made is a directory; what was there already may be a symlink */
	if (!made && fstatat(d->parent->fd, d->name, &st, AT_SYMLINK_NOFOLLOW))
		return error_set(s->err, "cannot stage '%s/%s': %s", s->dest, d->path, strerror(errno));
	if (made || S_ISDIR(st.st_mode)) {
		d->canon = xasprintf("%s%s%s", d->parent->canon, *d->parent->canon ? "/" : "", d->name);
		d->fd = openat(d->parent->fd, d->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (d->fd >= 0 && !strcmp(d->canon, d->path))
			d->borrowed = known_add(s->st, d->path, d->fd);
	} else if (S_ISLNK(st.st_mode)) {
		char *p = xasprintf("%s%s%s", d->parent->canon, *d->parent->canon ? "/" : "", d->name);
		d->canon = resolve_in_dest(s->destfd, p);
		free(p);
		if (d->canon)
			d->fd = openat(s->destfd, *d->canon ? d->canon : ".",
				       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	} else
		errno = ENOTDIR;
	if (d->fd < 0) {
		if (errno == ENOTDIR || errno == ENOENT)
			return error_set(s->err, "cannot stage '%s/%s': the artifact has a directory there, "
					 "but something that is not a directory is in the way", s->dest,
					 d->path);
		return error_set(s->err, "cannot open directory '%s/%s': %s", s->dest, d->path,
				 strerror(errno));
	}
	return 0;
}

static int stage_copy(struct stage *s, int dirfd, const struct tree_ent *e, const char *obj,
		      const char *path)
{
	mode_t mode = e->type == 'x' ? 0755 : 0644;
	int in, out, rc = 0;
	in = open(obj, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return error_set(s->err, "cannot read object '%s' for '%s': %s", obj, path, strerror(errno));
	out = openat(dirfd, e->name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (out < 0 || copy_fd(in, out) || fchmod(out, mode))
		rc = error_set(s->err, "cannot write '%s/%s': %s", s->dest, path, strerror(errno));
	if (out >= 0 && close(out) && !rc)
		rc = error_set(s->err, "cannot write '%s/%s': %s", s->dest, path, strerror(errno));
	close(in);
	return rc;
}

/* Create the entry: 0; -1 with errno when a link or symlink could not be made (EEXIST:
 * something is in the way); -2 with s->err when a copy failed. */
static int place_entry(struct stage *s, int dirfd, const struct tree_ent *e, const char *obj,
		       const char *path)
{
	struct stat st;
	if (e->type == 'l')
		return symlinkat(e->target, dirfd, e->name);
	if (s->link && linkat(AT_FDCWD, obj, dirfd, e->name, 0) == 0)
		return 0;
	if (s->link && errno != EXDEV && errno != EMLINK && errno != EPERM)
		return -1;
	if (fstatat(dirfd, e->name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		errno = EEXIST;
		return -1;
	}
	return stage_copy(s, dirfd, e, obj, path) ? -2 : 0;
}

static int place_failed(struct stage *s, const struct tree_ent *e, const char *obj, const char *path)
{
	if (e->type == 'l')
		return error_set(s->err, "cannot create symlink '%s/%s': %s", s->dest, path, strerror(errno));
	return error_set(s->err, "cannot link object '%s' to '%s/%s': %s", obj, s->dest, path,
			 strerror(errno));
}

static int stage_entry(struct stage *s, struct stage_dir *d, const struct tree_ent *e,
		       const char *path)
{
	struct stat st;
	char *obj = NULL;
	int rc;
	if (stage_open_dir(s, d))
		return -1;
	if (e->type != 'l')
		obj = object_path(s->c, e->digest, e->type == 'x');
	/* try first: in a fresh sysroot almost nothing is in the way */
	rc = place_entry(s, d->fd, e, obj, path);
	if (rc == -1 && errno == EEXIST) {
		if (fstatat(d->fd, e->name, &st, AT_SYMLINK_NOFOLLOW))
			rc = error_set(s->err, "cannot stage '%s/%s': %s", s->dest, path, strerror(errno));
		else if (S_ISDIR(st.st_mode))
			rc = error_set(s->err, "cannot stage '%s/%s': a directory is in the way of a %s",
				       s->dest, path, e->type == 'l' ? "symlink" : "file");
		else if (unlinkat(d->fd, e->name, 0))
			rc = error_set(s->err, "cannot replace '%s/%s': %s", s->dest, path, strerror(errno));
		else {
			if (s->overlap)
				s->overlap(s->ud, path);
			rc = place_entry(s, d->fd, e, obj, path);
			if (rc == -1)
				rc = place_failed(s, e, obj, path);
		}
	} else if (rc == -1) {
		rc = place_failed(s, e, obj, path);
	}
	free(obj);
	return rc < 0 ? -1 : 0;
}

static void close_dir(struct stage_dir *d)
{
	if (d->fd >= 0 && !d->borrowed)
		close(d->fd);
	free(d->canon);
}

static int stage_tree(struct stage *s, struct stage_dir *d, const char *digest, int depth)
{
	struct tree local = {0};
	const struct tree *t;
	struct buf path = BUF_INIT;
	int rc;
	if (depth > MAX_TREE_DEPTH)
		return error_set(s->err, "tree object %s: directories nested too deeply", digest);
	t = tree_get(s->c, digest, &local, s->err);
	rc = t ? 0 : -1;
	for (size_t i = 0; !rc && i < t->n; i++) {
		const struct tree_ent *e = &t->e[i];
		buf_reset(&path);
		buf_addf(&path, "%s%s%s", d->path, *d->path ? "/" : "", e->name);
		if (e->type == 'd') {
			struct stage_dir sub = {d, e->name, path.data, NULL, -1, 0};
			if (!s->want || s->want(s->ud, path.data))
				rc = stage_open_dir(s, &sub);
			if (!rc)
				rc = stage_tree(s, &sub, e->digest, depth + 1);
			close_dir(&sub);
		} else if (!s->want || s->want(s->ud, path.data)) {
			rc = stage_entry(s, d, e, path.data);
		}
	}
	buf_release(&path);
	tree_release(&local);
	return rc;
}

struct cas_stager *cas_stager_new(struct cas *c, const char *dest,
				  int (*make_dir)(void *ud, int dirfd, const char *name),
				  void *make_dir_ud, struct error *err)
{
	struct cas_stager *st;
	int fd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		error_set(err, "cannot stage into '%s': %s", dest, strerror(errno));
		return NULL;
	}
	st = xcalloc(1, sizeof(*st));
	st->c = c;
	st->dest = xstrdup(dest);
	st->destfd = fd;
	st->make_dir = make_dir;
	st->make_dir_ud = make_dir_ud;
	return st;
}

int cas_stager_add(struct cas_stager *st, const struct cas_artifact *a, int link,
		   int (*want)(void *ud, const char *path),
		   void (*overlap)(void *ud, const char *path), void *ud, struct error *err)
{
	struct stage s = {st, st->c, st->dest, st->destfd, link, want, overlap, ud, err};
	struct stage_dir root = {NULL, "", "", NULL, st->destfd, 1};
	int rc;
	root.canon = xstrdup("");
	rc = stage_tree(&s, &root, a->files, 0);
	free(root.canon);
	return rc;
}

void cas_stager_free(struct cas_stager *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->cap; i++) {
		if (st->known[i].fd >= 0 && st->known[i].path)
			close(st->known[i].fd);
		free(st->known[i].path);
	}
	free(st->known);
	close(st->destfd);
	free(st->dest);
	free(st);
}

int cas_artifact_stage(struct cas *c, const struct cas_artifact *a, const char *dest, int link,
		       int (*want)(void *ud, const char *path),
		       void (*overlap)(void *ud, const char *path), void *ud, struct error *err)
{
	struct cas_stager *st = cas_stager_new(c, dest, NULL, NULL, err);
	int rc;
	if (!st)
		return -1;
	rc = cas_stager_add(st, a, link, want, overlap, ud, err);
	cas_stager_free(st);
	return rc;
}

/* ---- listing and checking ---- */

int cas_list_refs(struct cas *c, int (*fn)(void *ud, const char *project, const char *normal_name,
					   const char *key), void *ud, struct error *err)
{
	char **projects = NULL, **elements = NULL, **keys = NULL;
	size_t np = 0, ne = 0, nk = 0;
	int refs = -1, pfd = -1, efd = -1, rc = 0;
	refs = open(c->refs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (refs < 0 || list_dir(refs, &projects, &np)) {
		rc = error_set(err, "cannot read directory '%s': %s", c->refs, strerror(errno));
		goto out;
	}
	for (size_t i = 0; !rc && i < np; i++) {
		if (projects[i][0] == '.')
			continue;
		pfd = openat(refs, projects[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (pfd < 0 || list_dir(pfd, &elements, &ne)) {
			rc = error_set(err, "cannot read directory '%s/%s': %s", c->refs, projects[i],
				       strerror(errno));
			goto out;
		}
		for (size_t j = 0; !rc && j < ne; j++) {
			efd = openat(pfd, elements[j], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (efd < 0 || list_dir(efd, &keys, &nk)) {
				rc = error_set(err, "cannot read directory '%s/%s/%s': %s", c->refs,
					       projects[i], elements[j], strerror(errno));
				goto out;
			}
			for (size_t k = 0; !rc && k < nk; k++)
				if (keys[k][0] != '.')
					rc = fn(ud, projects[i], elements[j], keys[k]);
			free_names(keys, nk);
			keys = NULL;
			nk = 0;
			close(efd);
			efd = -1;
		}
		free_names(elements, ne);
		elements = NULL;
		ne = 0;
		close(pfd);
		pfd = -1;
	}
out:
	free_names(keys, nk);
	free_names(elements, ne);
	free_names(projects, np);
	if (efd >= 0)
		close(efd);
	if (pfd >= 0)
		close(pfd);
	if (refs >= 0)
		close(refs);
	return rc;
}

enum { OBJ_GOOD = 1, OBJ_MISSING, OBJ_CORRUPT };

/* Object paths already checked, with their verdict (open addressing). */
struct seen {
	char **key;
	unsigned char *val;
	size_t cap, n;
};

static unsigned char *seen_slot(struct seen *s, const char *key, int insert)
{
	size_t i;
	if (insert && (s->n + 1) * 2 > s->cap) {
		struct seen old = *s;
		s->cap = s->cap ? s->cap * 2 : 256;
		s->key = xcalloc(s->cap, sizeof(*s->key));
		s->val = xcalloc(s->cap, 1);
		s->n = 0;
		for (size_t j = 0; j < old.cap; j++)
			if (old.key[j])
				*seen_slot(s, old.key[j], 1) = old.val[j], free(old.key[j]);
		free(old.key);
		free(old.val);
	}
	if (!s->cap)
		return NULL;
	i = hash_bytes(key, strlen(key)) & (s->cap - 1);
	while (s->key[i] && strcmp(s->key[i], key))
		i = (i + 1) & (s->cap - 1);
	if (!s->key[i]) {
		if (!insert)
			return NULL;
		s->key[i] = xstrdup(key);
		s->n++;
	}
	return &s->val[i];
}

struct fsck {
	struct cas *c;
	int repair;
	void (*report)(void *ud, const char *msg);
	void *ud;
	struct seen seen;
	char **corrupt;         /* objects to remove with repair */
	size_t ncorrupt, corrupt_cap;
	const char *label;      /* project/element/key being checked */
	int broken, bad;
};

static void fsck_problem(struct fsck *f, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void fsck_problem(struct fsck *f, const char *fmt, ...)
{
	struct buf msg = BUF_INIT;
	va_list ap;
	buf_addf(&msg, "%s: ", f->label);
	va_start(ap, fmt);
	buf_vaddf(&msg, fmt, ap);
	va_end(ap);
	if (f->report)
		f->report(f->ud, msg.data);
	buf_release(&msg);
	f->bad = 1;
}

/* Check an object's presence, type, mode, size (unless size is -1) and content. */
static int fsck_object(struct fsck *f, const char *digest, int exec, long long size)
{
	char *path = object_path(f->c, digest, exec), hex[65];
	unsigned char *v = seen_slot(&f->seen, path, 0), verdict;
	struct stat st;
	if (v && *v) {
		verdict = *v;
	} else {
		struct error ignored = ERROR_INIT;
		if (lstat(path, &st))
			verdict = OBJ_MISSING;
		else if (!S_ISREG(st.st_mode) || (st.st_mode & 07777) != (exec ? 0555u : 0444u) ||
			 (size >= 0 && st.st_size != size) ||
			 cachekey_sha256_file(path, hex, &ignored) || strcmp(hex, digest))
			verdict = OBJ_CORRUPT;
		else
			verdict = OBJ_GOOD;
		error_release(&ignored);
		*seen_slot(&f->seen, path, 1) = verdict;
		if (verdict == OBJ_CORRUPT) {
			GROW(f->corrupt, f->corrupt_cap, f->ncorrupt + 1);
			f->corrupt[f->ncorrupt++] = xstrdup(path);
		}
	}
	free(path);
	if (verdict != OBJ_GOOD)
		fsck_problem(f, "object %s is %s", digest,
			     verdict == OBJ_MISSING ? "missing" : "corrupt");
	return verdict == OBJ_GOOD ? 0 : -1;
}

/* Mark a present object whose content matched but whose format is wrong as corrupt. */
static void fsck_bad_format(struct fsck *f, const char *digest, const char *what)
{
	char *path = object_path(f->c, digest, 0);
	unsigned char *v = seen_slot(&f->seen, path, 1);
	if (*v != OBJ_CORRUPT) {
		*v = OBJ_CORRUPT;
		GROW(f->corrupt, f->corrupt_cap, f->ncorrupt + 1);
		f->corrupt[f->ncorrupt++] = path;
	} else
		free(path);
	fsck_problem(f, "%s object %s is corrupt", what, digest);
}

static void fsck_tree(struct fsck *f, const char *digest, int depth)
{
	struct error ignored = ERROR_INIT;
	struct tree t = {0};
	if (depth > MAX_TREE_DEPTH) {
		fsck_problem(f, "tree object %s is nested too deeply", digest);
		return;
	}
	if (fsck_object(f, digest, 0, -1))
		return;
	if (tree_load(f->c, digest, &t, &ignored)) {
		fsck_bad_format(f, digest, "tree");
	} else {
		for (size_t i = 0; i < t.n; i++) {
			struct tree_ent *e = &t.e[i];
			if (e->type == 'd')
				fsck_tree(f, e->digest, depth + 1);
			else if (e->type != 'l')
				fsck_object(f, e->digest, e->type == 'x', (long long)e->size);
		}
	}
	error_release(&ignored);
	tree_release(&t);
}

static int fsck_ref(void *ud, const char *project, const char *element, const char *key)
{
	struct fsck *f = ud;
	char *label = xasprintf("%s/%s/%s", project, element, key);
	char *ref = xasprintf("%s/%s/%s/%s", f->c->refs, project, element, key), digest[65];
	struct cas_artifact *a = NULL;
	struct error ignored = ERROR_INIT;
	f->label = label;
	f->bad = 0;
	if (read_ref(ref, digest)) {
		fsck_problem(f, "ref is corrupt (%s)", errno == EINVAL ? "not a digest" : strerror(errno));
	} else if (!fsck_object(f, digest, 0, -1)) {
		if (manifest_load(f->c, digest, &a, &ignored)) {
			fsck_bad_format(f, digest, "manifest");
		} else {
			fsck_tree(f, a->files, 0);
			if (a->log_digest)
				fsck_object(f, a->log_digest, 0, -1);
			if (a->public_digest)
				fsck_object(f, a->public_digest, 0, -1);
		}
	}
	if (f->bad) {
		f->broken++;
		if (f->repair)
			unlink(ref);
	}
	cas_artifact_free(a);
	error_release(&ignored);
	free(ref);
	free(label);
	f->label = NULL;
	return 0;
}

int cas_fsck(struct cas *c, int repair, void (*report)(void *ud, const char *msg), void *ud,
	     struct error *err)
{
	struct fsck f = {0};
	int rc;
	f.c = c;
	f.repair = repair;
	f.report = report;
	f.ud = ud;
	rc = cas_list_refs(c, fsck_ref, &f, err);
	if (rc == 0 && repair)
		for (size_t i = 0; i < f.ncorrupt; i++)
			unlink(f.corrupt[i]);
	free_names(f.corrupt, f.ncorrupt);
	for (size_t i = 0; i < f.seen.cap; i++)
		free(f.seen.key[i]);
	free(f.seen.key);
	free(f.seen.val);
	return rc ? -1 : f.broken;
}
