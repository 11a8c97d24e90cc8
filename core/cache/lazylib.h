/* lazylib — libcurl and libarchive, opened with dlopen(3) when a source first needs them.
 * Most runs (show, builds from local sources or from the cache) need neither, and linking them
 * made every start of the backend load and relocate 40 more shared libraries (their own
 * dependencies: TLS, LDAP, Kerberos, ICU, compressors): about 20 ms here, more than a third of
 * `rill show` on 1,000 elements.
 *
 * A user of libcurl (libarchive) defines LAZYLIB_CURL (LAZYLIB_ARCHIVE) and includes this
 * header after the library's own headers: each library function it calls then goes through a
 * pointer, which lazylib_curl() (lazylib_archive()) sets before the first call.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_LAZYLIB_H
#define RILL_LAZYLIB_H

#include "base/util.h"

/* Open the library once (thread-safe). Returns 0, or -1 with err naming the library, why it
 * could not be used and the Debian package that has it. */
int lazylib_curl(struct error *err);
int lazylib_archive(struct error *err);

#define LAZYLIB_CURL_FUNCS(X) \
	X(curl_global_init) \
	X(curl_easy_init) \
	X(curl_easy_setopt) \
	X(curl_easy_perform) \
	X(curl_easy_getinfo) \
	X(curl_easy_cleanup) \
	X(curl_easy_strerror) \
	X(curl_slist_append) \
	X(curl_slist_free_all)

#define LAZYLIB_ARCHIVE_FUNCS(X) \
	X(archive_entry_copy_hardlink) \
	X(archive_entry_copy_pathname) \
	X(archive_entry_copy_symlink) \
	X(archive_entry_filetype) \
	X(archive_entry_free) \
	X(archive_entry_hardlink) \
	X(archive_entry_new) \
	X(archive_entry_pathname) \
	X(archive_entry_set_gid) \
	X(archive_entry_set_mode) \
	X(archive_entry_set_mtime) \
	X(archive_entry_set_perm) \
	X(archive_entry_set_size) \
	X(archive_entry_set_uid) \
	X(archive_entry_size) \
	X(archive_error_string) \
	X(archive_format) \
	X(archive_read_data_block) \
	X(archive_read_data_skip) \
	X(archive_read_free) \
	X(archive_read_new) \
	X(archive_read_next_header) \
	X(archive_read_open_filename) \
	X(archive_read_support_filter_all) \
	X(archive_read_support_format_gnutar) \
	X(archive_read_support_format_ar) \
	X(archive_read_support_format_tar) \
	X(archive_read_support_format_zip) \
	X(archive_write_close) \
	X(archive_write_data) \
	X(archive_write_data_block) \
	X(archive_write_disk_new) \
	X(archive_write_disk_set_options) \
	X(archive_write_finish_entry) \
	X(archive_write_free) \
	X(archive_write_header) \
	X(archive_write_new) \
	X(archive_write_open_fd) \
	X(archive_write_open_filename) \
	X(archive_write_set_format_pax_restricted)

#endif

#if defined(LAZYLIB_CURL) && !defined(RILL_LAZYLIB_CURL_DONE)
#define RILL_LAZYLIB_CURL_DONE
#define LAZYLIB_DECLARE(f) extern __typeof__(f) *lazy_##f;
LAZYLIB_CURL_FUNCS(LAZYLIB_DECLARE)
#undef LAZYLIB_DECLARE
#undef curl_global_init
#define curl_global_init (*lazy_curl_global_init)
#undef curl_easy_init
#define curl_easy_init (*lazy_curl_easy_init)
#undef curl_easy_setopt
#define curl_easy_setopt (*lazy_curl_easy_setopt)
#undef curl_easy_perform
#define curl_easy_perform (*lazy_curl_easy_perform)
#undef curl_easy_getinfo
#define curl_easy_getinfo (*lazy_curl_easy_getinfo)
#undef curl_easy_cleanup
#define curl_easy_cleanup (*lazy_curl_easy_cleanup)
#undef curl_easy_strerror
#define curl_easy_strerror (*lazy_curl_easy_strerror)
#undef curl_slist_append
#define curl_slist_append (*lazy_curl_slist_append)
#undef curl_slist_free_all
#define curl_slist_free_all (*lazy_curl_slist_free_all)
#endif

#if defined(LAZYLIB_ARCHIVE) && !defined(RILL_LAZYLIB_ARCHIVE_DONE)
#define RILL_LAZYLIB_ARCHIVE_DONE
#define LAZYLIB_DECLARE(f) extern __typeof__(f) *lazy_##f;
LAZYLIB_ARCHIVE_FUNCS(LAZYLIB_DECLARE)
#undef LAZYLIB_DECLARE
#undef archive_entry_copy_hardlink
#define archive_entry_copy_hardlink (*lazy_archive_entry_copy_hardlink)
#undef archive_entry_copy_pathname
#define archive_entry_copy_pathname (*lazy_archive_entry_copy_pathname)
#undef archive_entry_copy_symlink
#define archive_entry_copy_symlink (*lazy_archive_entry_copy_symlink)
#undef archive_entry_filetype
#define archive_entry_filetype (*lazy_archive_entry_filetype)
#undef archive_entry_free
#define archive_entry_free (*lazy_archive_entry_free)
#undef archive_entry_hardlink
#define archive_entry_hardlink (*lazy_archive_entry_hardlink)
#undef archive_entry_new
#define archive_entry_new (*lazy_archive_entry_new)
#undef archive_entry_pathname
#define archive_entry_pathname (*lazy_archive_entry_pathname)
#undef archive_entry_set_gid
#define archive_entry_set_gid (*lazy_archive_entry_set_gid)
#undef archive_entry_set_mode
#define archive_entry_set_mode (*lazy_archive_entry_set_mode)
#undef archive_entry_set_mtime
#define archive_entry_set_mtime (*lazy_archive_entry_set_mtime)
#undef archive_entry_set_perm
#define archive_entry_set_perm (*lazy_archive_entry_set_perm)
#undef archive_entry_set_size
#define archive_entry_set_size (*lazy_archive_entry_set_size)
#undef archive_entry_set_uid
#define archive_entry_set_uid (*lazy_archive_entry_set_uid)
#undef archive_entry_size
#define archive_entry_size (*lazy_archive_entry_size)
#undef archive_error_string
#define archive_error_string (*lazy_archive_error_string)
#undef archive_format
#define archive_format (*lazy_archive_format)
#undef archive_read_data_block
#define archive_read_data_block (*lazy_archive_read_data_block)
#undef archive_read_data_skip
#define archive_read_data_skip (*lazy_archive_read_data_skip)
#undef archive_read_free
#define archive_read_free (*lazy_archive_read_free)
#undef archive_read_new
#define archive_read_new (*lazy_archive_read_new)
#undef archive_read_next_header
#define archive_read_next_header (*lazy_archive_read_next_header)
#undef archive_read_open_filename
#define archive_read_open_filename (*lazy_archive_read_open_filename)
#undef archive_read_support_filter_all
#define archive_read_support_filter_all (*lazy_archive_read_support_filter_all)
#undef archive_read_support_format_ar
#define archive_read_support_format_ar (*lazy_archive_read_support_format_ar)
#undef archive_read_support_format_gnutar
#define archive_read_support_format_gnutar (*lazy_archive_read_support_format_gnutar)
#undef archive_read_support_format_tar
#define archive_read_support_format_tar (*lazy_archive_read_support_format_tar)
#undef archive_read_support_format_zip
#define archive_read_support_format_zip (*lazy_archive_read_support_format_zip)
#undef archive_write_close
#define archive_write_close (*lazy_archive_write_close)
#undef archive_write_data
#define archive_write_data (*lazy_archive_write_data)
#undef archive_write_data_block
#define archive_write_data_block (*lazy_archive_write_data_block)
#undef archive_write_disk_new
#define archive_write_disk_new (*lazy_archive_write_disk_new)
#undef archive_write_disk_set_options
#define archive_write_disk_set_options (*lazy_archive_write_disk_set_options)
#undef archive_write_finish_entry
#define archive_write_finish_entry (*lazy_archive_write_finish_entry)
#undef archive_write_free
#define archive_write_free (*lazy_archive_write_free)
#undef archive_write_header
#define archive_write_header (*lazy_archive_write_header)
#undef archive_write_new
#define archive_write_new (*lazy_archive_write_new)
#undef archive_write_open_fd
#define archive_write_open_fd (*lazy_archive_write_open_fd)
#undef archive_write_open_filename
#define archive_write_open_filename (*lazy_archive_write_open_filename)
#undef archive_write_set_format_pax_restricted
#define archive_write_set_format_pax_restricted (*lazy_archive_write_set_format_pax_restricted)
#endif
