/* hostops — host functions for source plugins at job time (rill-plugin.h ABI 2): download
 * (libcurl, through download.h), extract (libarchive, through archive.h), run a host command,
 * copy a tree. Output goes to the job log (ctx->log_fd); errors to ctx->err.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_HOSTOPS_H
#define RILL_HOSTOPS_H

struct rill_ctx;

int hostops_download(struct rill_ctx *ctx, const char *url, const char *path);
int hostops_extract(struct rill_ctx *ctx, const char *archive, const char *dest, const char *base_dir);
int hostops_run_host(struct rill_ctx *ctx, const char *const *argv, const char *cwd, const char **out);
int hostops_copy_tree(struct rill_ctx *ctx, const char *src, const char *dest);

#endif
