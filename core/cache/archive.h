/* archive — the only libarchive user: safe extraction of tar (any compression) and zip source
 * archives with BuildStream's base-dir, and writing a directory tree as a tar (artifact checkout).
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_ARCHIVE_H
#define RILL_ARCHIVE_H

#include "base/util.h"

/* Extract the tar (plain, gzip, bzip2, xz, zstd, lz4...) or zip file archive into the existing
 * directory dest, merging with what dest already holds (an archived file replaces one of the
 * same name; directories merge).
 *
 * base_dir follows BuildStream's tar and zip sources: NULL or "" extracts the whole archive;
 * otherwise it is an fnmatch(3) pattern (FNM_PATHNAME: '*' does not cross '/') matched against
 * every directory path in the archive (explicit directory entries and the parents of other
 * entries, without a leading "./"); the first match in sorted order is extracted with that
 * leading directory stripped, and entries outside it are skipped. No match is an error.
 *
 * Hostile archives are refused as a whole: entries with absolute paths or '..' components,
 * entries below a symbolic link extracted earlier (which would be written through it), hard
 * links whose target is absolute, has '..' or lies outside base_dir, and device, fifo and
 * socket entries. Symbolic links themselves may point anywhere: they are stored, never
 * followed. Extraction happens in a temporary directory beside dest (in its parent) and is
 * moved into dest only when the whole archive extracted, so on any error dest is unchanged.
 *
 * Zip entries get modes 0644 (files) and 0755 (directories) like BuildStream's zip source;
 * tar entries keep their modes and modification times (never their owner).
 *
 * Returns 0, or -1 with err set ("<archive>: <what> '<entry>'...", or the libarchive message). */
int archive_extract(const char *archive, const char *dest, const char *base_dir, struct error *err);

/* Write the tree below dir (regular files with their modes, symbolic links, directories;
 * names relative to dir, sorted, owner root) as an uncompressed POSIX tar to out_path
 * ("-": standard output), written to out_path.tmp.<pid> and renamed into place. Files with
 * several links are stored as separate copies; fifos, sockets and devices are an error.
 * Returns 0, or -1 with err set. */
int archive_write_tar(const char *dir, const char *out_path, struct error *err);

#endif
