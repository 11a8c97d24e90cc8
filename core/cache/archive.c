/* archive — the only libarchive user: safe extraction of source archives (tar, zip) with
 * BuildStream's base-dir, and tar output of a directory tree.
 * SPDX-License-Identifier: Apache-2.0 */
#include "cache/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LAZYLIB_ARCHIVE
#include "cache/lazylib.h"

/* ---- a set of strings (directory names, symbolic links seen) -------------------------------- */

struct strset {
	char **slot;
	size_t cap, n;
};

static void strset_release(struct strset *s)
{
	size_t i;
	for (i = 0; i < s->cap; i++)
		free(s->slot[i]);
	free(s->slot);
	s->slot = NULL;
	s->cap = s->n = 0;
}

static size_t strset_find(const struct strset *s, const char *k, size_t len)
{
	size_t i = (size_t)hash_bytes(k, len) & (s->cap - 1);
	while (s->slot[i] && !(strncmp(s->slot[i], k, len) == 0 && s->slot[i][len] == '\0'))
		i = (i + 1) & (s->cap - 1);
	return i;
}

/* Is the first len bytes of k in the set? */
static int strset_has(const struct strset *s, const char *k, size_t len)
{
	return s->cap && s->slot[strset_find(s, k, len)] != NULL;
}

static void strset_add(struct strset *s, const char *k, size_t len)
{
	size_t i;
	if ((s->n + 1) * 2 > s->cap) {
		struct strset big = {xcalloc(s->cap ? s->cap * 2 : 64, sizeof(char *)), s->cap ? s->cap * 2 : 64, 0};
		for (i = 0; i < s->cap; i++)
			if (s->slot[i]) {
				big.slot[strset_find(&big, s->slot[i], strlen(s->slot[i]))] = s->slot[i];
				big.n++;
			}
		free(s->slot);
		*s = big;
	}
	i = strset_find(s, k, len);
	if (!s->slot[i]) {
		s->slot[i] = xstrndup(k, len);
		s->n++;
	}
}

/* ---- entry names ------------------------------------------------------------------------------ */

enum name_problem {
	NAME_OK = 0,
	NAME_ABSOLUTE,
	NAME_DOTDOT,
};

/* The entry name without "." and empty components (so "./a//b/" is "a/b"; the root is "").
 * Returns a heap string, or NULL with *problem set for absolute names and '..' components. */
static char *name_normalize(const char *name, enum name_problem *problem)
{
	struct buf b = BUF_INIT;
	const char *p = name;
	*problem = NAME_OK;
	if (name[0] == '/') {
		*problem = NAME_ABSOLUTE;
		return NULL;
	}
	while (*p) {
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			*problem = NAME_DOTDOT;
			buf_release(&b);
			return NULL;
		}
		if (len > 0 && !(len == 1 && p[0] == '.')) {
			if (b.len)
				buf_addch(&b, '/');
			buf_add(&b, p, len);
		}
		p += len;
		if (*p == '/')
			p++;
	}
	if (!b.len)
		return xstrdup("");
	return buf_detach(&b);
}

static const char *problem_text(enum name_problem p)
{
	return p == NAME_ABSOLUTE ? "it is an absolute path" : "it contains a '..' component";
}

/* rel with the leading directory base stripped: a pointer into rel, or NULL when rel is not
 * below base (base itself included). base "" keeps rel. */
static const char *strip_base(const char *rel, const char *base)
{
	size_t n = strlen(base);
	if (!n)
		return rel;
	if (strncmp(rel, base, n) == 0 && rel[n] == '/')
		return rel + n + 1;
	return NULL;
}

/* The longest proper leading directory of rel that is in links, or NULL. */
static const char *below_link(const struct strset *links, const char *rel, size_t *len)
{
	const char *p;
	for (p = strchr(rel, '/'); p; p = strchr(p + 1, '/'))
		if (strset_has(links, rel, (size_t)(p - rel))) {
			*len = (size_t)(p - rel);
			return rel;
		}
	return NULL;
}

static int refuse(struct error *err, const char *archive, const char *entry, const char *why)
{
	return error_set(err, "%s: refusing to extract '%s': %s; the archive is unsafe, nothing was extracted",
			 archive, entry, why);
}

/* ---- reading ---------------------------------------------------------------------------------- */

static struct archive *open_read(const char *path, struct error *err)
{
	struct archive *a = archive_read_new();
	if (!a) {
		error_set(err, "%s: cannot allocate an archive reader", path);
		return NULL;
	}
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	archive_read_support_format_zip(a);
	archive_read_support_format_ar(a);     /* a .deb (the deb source takes its data.tar out) */
	if (archive_read_open_filename(a, path, 64 * 1024) != ARCHIVE_OK) {
		error_set(err, "%s: cannot open archive: %s", path, archive_error_string(a));
		archive_read_free(a);
		return NULL;
	}
	return a;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* BuildStream's _find_base_dir(): the sorted directory paths of the archive (explicit
 * directories and parents of other entries), the first that matches pattern. *out is heap. */
static int find_base_dir(const char *path, const char *pattern, char **out, struct error *err)
{
	struct archive *a = open_read(path, err);
	struct archive_entry *e;
	struct strset dirs = {NULL, 0, 0};
	char **sorted = NULL;
	size_t i, n = 0;
	int r, rc = -1;
	*out = NULL;
	if (!a)
		return -1;
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		enum name_problem problem;
		char *rel;
		if (!archive_entry_pathname(e)) {
			error_set(err, "%s: an entry has no usable name", path);
			goto out;
		}
		rel = name_normalize(archive_entry_pathname(e), &problem);
		const char *p;
		if (!rel) {
			refuse(err, path, archive_entry_pathname(e), problem_text(problem));
			goto out;
		}
		for (p = strchr(rel, '/'); p; p = strchr(p + 1, '/'))
			strset_add(&dirs, rel, (size_t)(p - rel));
		if (archive_entry_filetype(e) == AE_IFDIR && rel[0])
			strset_add(&dirs, rel, strlen(rel));
		free(rel);
	}
	if (r != ARCHIVE_EOF) {
		error_set(err, "%s: cannot read archive: %s", path, archive_error_string(a));
		goto out;
	}
	sorted = xcalloc(dirs.n ? dirs.n : 1, sizeof(*sorted));
	for (i = 0; i < dirs.cap; i++)
		if (dirs.slot[i])
			sorted[n++] = dirs.slot[i];
	qsort(sorted, n, sizeof(*sorted), cmp_str);
	for (i = 0; i < n; i++)
		if (fnmatch(pattern, sorted[i], FNM_PATHNAME) == 0) {
			*out = xstrdup(sorted[i]);
			rc = 0;
			goto out;
		}
	error_set(err, "%s: Could not find base directory matching pattern: %s", path, pattern);
out:
	free(sorted);
	strset_release(&dirs);
	archive_read_free(a);
	return rc;
}

/* ---- removing and merging trees --------------------------------------------------------------- */

/* rm -rf path (not following symbolic links); directories are made writable first so that
 * read-only directories from an archive can be emptied. Errors are ignored (best effort). */
static void remove_tree(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	if (lstat(path, &st) != 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		unlink(path);
		return;
	}
	chmod(path, 0700);
	d = opendir(path);
	if (d) {
		while ((de = readdir(d)) != NULL) {
			char *child;
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			child = xasprintf("%s/%s", path, de->d_name);
			remove_tree(child);
			free(child);
		}
		closedir(d);
	}
	rmdir(path);
}

static int is_real_dir(const char *path, int *exists)
{
	struct stat st;
	*exists = lstat(path, &st) == 0;
	return *exists && S_ISDIR(st.st_mode);
}

/* Would moving src's children into dst replace a directory by a non-directory or the reverse?
 * rel is the path below the extraction root, for messages. */
static int merge_check(const char *archive, const char *src, const char *dst, const char *rel,
		       struct error *err)
{
	DIR *d = opendir(src);
	struct dirent *de;
	int rc = 0;
	if (!d)
		return error_set(err, "%s: cannot read '%s': %s", archive, src, strerror(errno));
	while (rc == 0 && (de = readdir(d)) != NULL) {
		char *s, *t, *r;
		int s_exists, t_exists, s_dir, t_dir;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		s = xasprintf("%s/%s", src, de->d_name);
		t = xasprintf("%s/%s", dst, de->d_name);
		r = rel[0] ? xasprintf("%s/%s", rel, de->d_name) : xstrdup(de->d_name);
		s_dir = is_real_dir(s, &s_exists);
		t_dir = is_real_dir(t, &t_exists);
		if (t_exists && s_dir != t_dir)
			rc = error_set(err, "%s: cannot extract '%s': '%s' already exists and is %s", archive,
				       r, t, t_dir ? "a directory" : "not a directory");
		else if (t_exists && s_dir)
			rc = merge_check(archive, s, t, r, err);
		free(s);
		free(t);
		free(r);
	}
	closedir(d);
	return rc;
}

/* Move src's children into dst: new names by rename(), existing files replaced, existing
 * directories merged. merge_check() has ruled out type conflicts. */
static int merge_move(const char *archive, const char *src, const char *dst, struct error *err)
{
	DIR *d = opendir(src);
	struct dirent *de;
	int rc = 0;
	if (!d)
		return error_set(err, "%s: cannot read '%s': %s", archive, src, strerror(errno));
	/* the temporary tree may hold read-only directories; we take entries out of them */
	chmod(src, 0700);
	while (rc == 0 && (de = readdir(d)) != NULL) {
		char *s, *t;
		int s_exists, t_exists, s_dir, t_dir;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		s = xasprintf("%s/%s", src, de->d_name);
		t = xasprintf("%s/%s", dst, de->d_name);
		s_dir = is_real_dir(s, &s_exists);
		t_dir = is_real_dir(t, &t_exists);
		if (t_exists && s_dir && t_dir)
			rc = merge_move(archive, s, t, err);
		else if (rename(s, t) != 0)
			rc = error_set(err, "%s: cannot move '%s' to '%s': %s", archive, s, t, strerror(errno));
		free(s);
		free(t);
	}
	closedir(d);
	return rc;
}

/* ---- extraction ------------------------------------------------------------------------------- */

static int copy_data(struct archive *in, struct archive *out, const char *archive, const char *entry,
		     struct error *err)
{
	const void *block;
	size_t size;
	la_int64_t offset;
	int r;
	while ((r = archive_read_data_block(in, &block, &size, &offset)) == ARCHIVE_OK) {
		if (archive_write_data_block(out, block, size, offset) < ARCHIVE_WARN)
			return error_set(err, "%s: cannot write '%s': %s", archive, entry,
					 archive_error_string(out));
	}
	if (r != ARCHIVE_EOF)
		return error_set(err, "%s: cannot read '%s': %s", archive, entry, archive_error_string(in));
	return 0;
}

/* Extract every entry of path below base into the directory root (absolute, no symbolic
 * links in it), checking each entry first. */
static int extract_into(const char *path, const char *root, const char *base, struct error *err)
{
	const int flags = ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
			  ARCHIVE_EXTRACT_SECURE_NODOTDOT;
	struct archive *in = open_read(path, err), *out = NULL;
	struct archive_entry *e;
	struct strset links = {NULL, 0, 0};
	char *rel = NULL, *target = NULL, *full = NULL;
	int r, rc = -1;
	if (!in)
		return -1;
	out = archive_write_disk_new();
	if (!out) {
		error_set(err, "%s: cannot allocate an archive writer", path);
		goto out;
	}
	archive_write_disk_set_options(out, flags);
	while ((r = archive_read_next_header(in, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		const char *name = archive_entry_pathname(e), *hl = archive_entry_hardlink(e);
		const char *sub, *link, *target_sub = NULL;
		unsigned type = archive_entry_filetype(e);
		enum name_problem problem;
		size_t link_len;
		free(rel);
		free(target);
		free(full);
		rel = target = full = NULL;
		if (!name) {
			error_set(err, "%s: an entry has no usable name", path);
			goto out;
		}
		if (!(rel = name_normalize(name, &problem))) {
			refuse(err, path, name, problem_text(problem));
			goto out;
		}
		if (type == AE_IFCHR || type == AE_IFBLK || type == AE_IFIFO || type == AE_IFSOCK) {
			refuse(err, path, name, "device, fifo and socket entries are not allowed in sources");
			goto out;
		}
		if (hl && !(target = name_normalize(hl, &problem))) {
			char *why = xasprintf("it is a hard link to '%s' and %s", hl, problem_text(problem));
			refuse(err, path, name, why);
			free(why);
			goto out;
		}
		sub = strip_base(rel, base);
		if (!sub || !sub[0]) {
			archive_read_data_skip(in);
			continue;
		}
		if ((link = below_link(&links, sub, &link_len))) {
			char *why = xasprintf("it would be written through the symbolic link '%.*s'",
					      (int)link_len, link);
			refuse(err, path, name, why);
			free(why);
			goto out;
		}
		if (target) {
			target_sub = strip_base(target, base);
			if (!target_sub || !target_sub[0]) {
				char *why = xasprintf("it is a hard link to '%s', outside the extracted tree", hl);
				refuse(err, path, name, why);
				free(why);
				goto out;
			}
			if ((link = below_link(&links, target_sub, &link_len))) {
				char *why = xasprintf("it is a hard link through the symbolic link '%.*s'",
						      (int)link_len, link);
				refuse(err, path, name, why);
				free(why);
				goto out;
			}
			free(full);
			full = xasprintf("%s/%s", root, target_sub);
			archive_entry_copy_hardlink(e, full);
		}
		if (type == AE_IFLNK)
			strset_add(&links, sub, strlen(sub));
		if (archive_format(in) == ARCHIVE_FORMAT_ZIP && type != AE_IFLNK)
			archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
		free(full);
		full = xasprintf("%s/%s", root, sub);
		archive_entry_copy_pathname(e, full);
		if (archive_write_header(out, e) < ARCHIVE_WARN) {
			error_set(err, "%s: cannot extract '%s': %s", path, name, archive_error_string(out));
			goto out;
		}
		if (archive_entry_size(e) > 0 && !hl && copy_data(in, out, path, name, err) != 0)
			goto out;
		if (archive_write_finish_entry(out) < ARCHIVE_WARN) {
			error_set(err, "%s: cannot extract '%s': %s", path, name, archive_error_string(out));
			goto out;
		}
	}
	if (r != ARCHIVE_EOF) {
		error_set(err, "%s: cannot read archive: %s", path, archive_error_string(in));
		goto out;
	}
	if (archive_write_close(out) != ARCHIVE_OK) {
		error_set(err, "%s: cannot finish extraction: %s", path, archive_error_string(out));
		goto out;
	}
	rc = 0;
out:
	free(rel);
	free(target);
	free(full);
	strset_release(&links);
	if (out)
		archive_write_free(out);
	archive_read_free(in);
	return rc;
}

int archive_extract(const char *archive, const char *dest, const char *base_dir, struct error *err)
{
	char *base = NULL, *parent = NULL, *tmp = NULL, *root = NULL, *slash;
	struct stat st;
	int rc = -1;
	if (lazylib_archive(err))
		return error_prefix(err, "%s", archive);
	if (stat(dest, &st) != 0 || !S_ISDIR(st.st_mode))
		return error_set(err, "%s: cannot extract into '%s': not an existing directory", archive, dest);
	if (base_dir && base_dir[0] && find_base_dir(archive, base_dir, &base, err) != 0)
		return -1;
	/* the temporary directory is a sibling of dest: same file system, never inside dest */
	parent = xstrdup(dest);
	while (strlen(parent) > 1 && parent[strlen(parent) - 1] == '/')
		parent[strlen(parent) - 1] = '\0';
	slash = strrchr(parent, '/');
	if (!slash) {
		free(parent);
		parent = xstrdup(".");
	} else {
		slash[slash == parent ? 1 : 0] = '\0';
	}
	tmp = xasprintf("%s/.rill-extract-XXXXXX", parent);
	if (!mkdtemp(tmp)) {
		error_set(err, "%s: cannot create a temporary directory in '%s': %s", archive, parent,
			  strerror(errno));
		free(tmp);
		tmp = NULL;
		goto out;
	}
	/* libarchive checks every component of the absolute names we give it for symbolic links */
	if (!(root = realpath(tmp, NULL))) {
		error_set(err, "%s: cannot resolve '%s': %s", archive, tmp, strerror(errno));
		goto out;
	}
	if (extract_into(archive, root, base ? base : "", err) != 0)
		goto out;
	if (merge_check(archive, root, dest, "", err) != 0)
		goto out;
	if (merge_move(archive, root, dest, err) != 0)
		goto out;
	rc = 0;
out:
	if (tmp)
		remove_tree(tmp);
	free(root);
	free(tmp);
	free(parent);
	free(base);
	return rc;
}

/* ---- writing a tar ---------------------------------------------------------------------------- */

static int filter_dots(const struct dirent *de)
{
	return strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
}

static int cmp_dirent(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int write_file_data(struct archive *a, const char *full, struct error *err)
{
	char block[64 * 1024];
	int fd = open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t n;
	if (fd < 0)
		return error_set(err, "Failed to read file '%s': %s", full, strerror(errno));
	while ((n = read(fd, block, sizeof(block))) > 0)
		if (archive_write_data(a, block, (size_t)n) != n) {
			close(fd);
			return error_set(err, "cannot write tar data for '%s': %s", full, archive_error_string(a));
		}
	close(fd);
	if (n < 0)
		return error_set(err, "Failed to read file '%s': %s", full, strerror(errno));
	return 0;
}

/* One entry for full (named rel in the tar); directories recurse. */
static int write_entry(struct archive *a, const char *full, const char *rel, struct error *err)
{
	struct archive_entry *e;
	struct stat st;
	char target[PATH_MAX];
	ssize_t n;
	int rc = -1;
	if (lstat(full, &st) != 0)
		return error_set(err, "cannot read '%s': %s", full, strerror(errno));
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode))
		return error_set(err, "cannot write '%s' to a tar: only files, directories and symbolic links are supported",
				 full);
	e = archive_entry_new();
	archive_entry_copy_pathname(e, rel);
	archive_entry_set_mode(e, st.st_mode);
	archive_entry_set_mtime(e, st.st_mtim.tv_sec, 0);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	if (S_ISREG(st.st_mode))
		archive_entry_set_size(e, st.st_size);
	if (S_ISLNK(st.st_mode)) {
		n = readlink(full, target, sizeof(target) - 1);
		if (n < 0) {
			error_set(err, "cannot read symbolic link '%s': %s", full, strerror(errno));
			goto out;
		}
		target[n] = '\0';
		archive_entry_copy_symlink(e, target);
	}
	if (archive_write_header(a, e) < ARCHIVE_WARN) {
		error_set(err, "cannot write tar entry '%s': %s", rel, archive_error_string(a));
		goto out;
	}
	if (S_ISREG(st.st_mode) && write_file_data(a, full, err) != 0)
		goto out;
	if (S_ISDIR(st.st_mode)) {
		struct dirent **names;
		int i, count = scandir(full, &names, filter_dots, cmp_dirent);
		if (count < 0) {
			error_set(err, "cannot read directory '%s': %s", full, strerror(errno));
			goto out;
		}
		rc = 0;
		for (i = 0; i < count; i++) {
			if (rc == 0) {
				char *cf = xasprintf("%s/%s", full, names[i]->d_name);
				char *cr = xasprintf("%s/%s", rel, names[i]->d_name);
				rc = write_entry(a, cf, cr, err);
				free(cf);
				free(cr);
			}
			free(names[i]);
		}
		free(names);
		goto out;
	}
	rc = 0;
out:
	archive_entry_free(e);
	return rc;
}

int archive_write_tar(const char *dir, const char *out_path, struct error *err)
{
	int to_stdout = strcmp(out_path, "-") == 0;
	char *tmp;
	struct archive *a;
	struct dirent **names = NULL;
	int i, count = -1, rc = -1;
	if (lazylib_archive(err))
		return error_prefix(err, "%s", out_path);
	tmp = to_stdout ? NULL : xasprintf("%s.tmp.%ld", out_path, (long)getpid());
	a = archive_write_new();
	if (!a) {
		error_set(err, "%s: cannot allocate a tar writer", out_path);
		goto out;
	}
	archive_write_set_format_pax_restricted(a);
	if ((to_stdout ? archive_write_open_fd(a, STDOUT_FILENO) : archive_write_open_filename(a, tmp)) !=
	    ARCHIVE_OK) {
		error_set(err, "%s: cannot open for writing: %s", out_path, archive_error_string(a));
		goto out;
	}
	count = scandir(dir, &names, filter_dots, cmp_dirent);
	if (count < 0) {
		error_set(err, "cannot read directory '%s': %s", dir, strerror(errno));
		goto out;
	}
	for (i = 0; i < count; i++) {
		char *full = xasprintf("%s/%s", dir, names[i]->d_name);
		int r = write_entry(a, full, names[i]->d_name, err);
		free(full);
		if (r != 0)
			goto out;
	}
	if (archive_write_close(a) != ARCHIVE_OK) {
		error_set(err, "%s: cannot finish the tar: %s", out_path, archive_error_string(a));
		goto out;
	}
	if (tmp && rename(tmp, out_path) != 0) {
		error_set(err, "%s: cannot rename '%s' into place: %s", out_path, tmp, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	for (i = 0; i < count; i++)
		free(names[i]);
	free(names);
	if (a)
		archive_write_free(a);
	if (rc != 0 && tmp)
		unlink(tmp);
	free(tmp);
	return rc;
}
