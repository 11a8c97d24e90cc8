/* osutil — the OS specifics the backend needs: directories, removal, atomic file writes,
 * clocks and child processes. Nothing here knows about projects or elements.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_OSUTIL_H
#define RILL_OSUTIL_H

#include <stdint.h>
#include <sys/types.h>

#include "base/util.h"

/* mkdir -p with mode 0755. 0, or -1 with err naming the directory. */
int os_mkdir_p(const char *path, struct error *err);
/* Ask the filesystem to spread the subdirectories of dir over the disk, as it does for
 * top-level directories (ext2/3/4's TOPDIR flag, chattr +T). Best effort: nothing happens
 * where the flag is unknown. For directories whose subtrees are created and removed again and
 * again (build directories): ext4 without a journal makes every new inode skip, one by one,
 * the inodes freed in the last minutes in its block group, so a group churned by earlier
 * builds makes each mkdir cost up to milliseconds; spread out, each build starts afresh. */
void os_spread_subdirs(const char *dir);
/* rm -rf: removes path (file, symlink or tree; read-only directories made writable first).
 * A missing path is not an error. 0, or -1 with err. */
int os_rm_rf(const char *path, struct error *err);
/* 1 when the directory path has no entries (or cannot be read: missing counts as empty). */
int os_dir_empty(const char *path);
/* Write data to path atomically (temporary file beside it, then rename). */
int os_write_file_atomic(const char *path, const void *data, size_t len, struct error *err);
/* Nanoseconds: monotonic (for elapsed times) and wall clock (for records readers show). */
int64_t os_now_mono_ns(void);
int64_t os_now_real_ns(void);
/* The user's cache directory for rill: $XDG_CACHE_HOME/rill or $HOME/.cache/rill. Heap. */
char *os_cache_dir(void);
/* Find prog in PATH; heap path or NULL. */
char *os_which(const char *prog);
/* Write all of len bytes (retrying on EINTR and short writes). 0, or -1 with errno. */
int os_write_all(int fd, const void *data, size_t len);
/* Mark fd close-on-exec. */
void os_cloexec(int fd);

#endif
