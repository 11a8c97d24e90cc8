/* download — the only libcurl user: one URL to one file, written atomically.
 * SPDX-License-Identifier: Apache-2.0 */
#include "build/download.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format/cachekey.h"
#define LAZYLIB_CURL
#include "cache/lazylib.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* The body goes to the file; a failed write (a full disk) is kept with its errno. */
struct sink {
	FILE *f;
	int errnum;
};

static size_t sink_write(char *data, size_t size, size_t n, void *ctx)
{
	struct sink *s = ctx;
	size_t done = fwrite(data, size, n, s->f);
	if (done != n) {
		s->errnum = errno ? errno : EIO;
		return 0;       /* libcurl stops with CURLE_WRITE_ERROR */
	}
	return n;
}

int download_file(const char *url, const char *path, char sha256_hex[65], struct error *err)
{
	struct sink sink = {NULL, 0};
	char errbuf[CURL_ERROR_SIZE] = "";
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	CURL *c = NULL;
	FILE *f = NULL;
	CURLcode cr;
	long status = 0;
	int rc = -1;
	if (lazylib_curl(err)) {
		error_prefix(err, "%s", url);
		goto out;
	}
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK) {
		error_set(err, "%s: cannot initialise libcurl: %s", url, curl_easy_strerror(curl_init_rc));
		goto out;
	}
	f = fopen(tmp, "wb");
	if (!f) {
		error_set(err, "%s: cannot create '%s': %s", url, tmp, strerror(errno));
		goto out;
	}
	c = curl_easy_init();
	if (!c) {
		error_set(err, "%s: cannot create a libcurl handle", url);
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	sink.f = f;
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 20L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 100L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "rill");
	cr = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (cr == CURLE_WRITE_ERROR && sink.errnum) {
		error_set(err, "%s: cannot write '%s': %s", url, tmp, strerror(sink.errnum));
		goto out;
	}
	if (cr != CURLE_OK) {
		error_set(err, "%s: %s", url, errbuf[0] ? errbuf : curl_easy_strerror(cr));
		goto out;
	}
	/* file: URLs have no status; http ones answer 2xx here (redirects were followed) */
	if (status >= 400) {
		error_set(err, "%s: HTTP %ld", url, status);
		goto out;
	}
	if (fclose(f) != 0) {
		f = NULL;
		error_set(err, "%s: cannot write '%s': %s", url, tmp, strerror(errno));
		goto out;
	}
	f = NULL;
	if (cachekey_sha256_file(tmp, sha256_hex, err) != 0)
		goto out;
	if (rename(tmp, path) != 0) {
		error_set(err, "%s: cannot rename '%s' to '%s': %s", url, tmp, path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (c)
		curl_easy_cleanup(c);
	if (f)
		fclose(f);
	if (rc != 0)
		unlink(tmp);
	free(tmp);
	return rc;
}
