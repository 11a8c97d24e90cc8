/* download — the only libcurl user: fetch one http, https or file URL to a file, atomically,
 * and report the SHA-256 of what arrived.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_DOWNLOAD_H
#define RILL_DOWNLOAD_H

#include "base/util.h"

/* Download url (http:, https: or file:; redirects followed, to http and https only) into path.
 * The data goes to path.tmp.<pid>, renamed to path only when the whole transfer succeeded; on
 * failure nothing is left behind. One attempt: connecting gives up after 10 s and a transfer
 * slower than 100 bytes/s for 60 s is abandoned (the scheduler retries failed jobs).
 * sha256_hex receives the lowercase hex SHA-256 of the file (64 digits and a NUL).
 * Returns 0, or -1 with err set: "<url>: HTTP <status>" for a status of 400 or more,
 * "<url>: <curl's message>" for other failures. libcurl is initialised on first use. */
int download_file(const char *url, const char *path, char sha256_hex[65], struct error *err);

#endif
