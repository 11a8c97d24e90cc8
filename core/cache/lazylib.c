/* lazylib — see lazylib.h.
 * SPDX-License-Identifier: Apache-2.0 */
#include "cache/lazylib.h"

#include <archive.h>
#include <archive_entry.h>
#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define LAZYLIB_DEFINE(f) __typeof__(f) *lazy_##f;
LAZYLIB_CURL_FUNCS(LAZYLIB_DEFINE)
LAZYLIB_ARCHIVE_FUNCS(LAZYLIB_DEFINE)

struct lib {
	const char *soname, *package, *what;
	pthread_once_t once;
	char *error;                    /* why it cannot be used (heap), NULL when loaded */
};

static struct lib curl_lib = {"libcurl.so.4", "libcurl4", "to download sources", PTHREAD_ONCE_INIT, NULL};
static struct lib archive_lib = {"libarchive.so.13", "libarchive13", "for tar and zip sources and tar checkouts",
				 PTHREAD_ONCE_INIT, NULL};

/* dlopen lib and look up each symbol of names (NULL-terminated) into the matching slot. */
static void open_lib(struct lib *l, const char *const *names, void **const *slots)
{
	void *h = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL);
	size_t i;
	if (!h) {
		const char *why = dlerror();
		l->error = xasprintf("cannot load %s, needed %s: %s (install it: apt-get install %s)", l->soname,
				     l->what, why ? why : "unknown error", l->package);
		return;
	}
	for (i = 0; names[i]; i++) {
		*slots[i] = dlsym(h, names[i]);
		if (!*slots[i]) {
			l->error = xasprintf("%s has no function %s (a version older than rill was built for?)",
					     l->soname, names[i]);
			return;
		}
	}
}

#define LAZYLIB_NAME(f) #f,
#define LAZYLIB_SLOT(f) (void **)&lazy_##f,

static void open_curl(void)
{
	static const char *const names[] = {LAZYLIB_CURL_FUNCS(LAZYLIB_NAME) NULL};
	static void **const slots[] = {LAZYLIB_CURL_FUNCS(LAZYLIB_SLOT) NULL};
	open_lib(&curl_lib, names, slots);
}

static void open_archive(void)
{
	static const char *const names[] = {LAZYLIB_ARCHIVE_FUNCS(LAZYLIB_NAME) NULL};
	static void **const slots[] = {LAZYLIB_ARCHIVE_FUNCS(LAZYLIB_SLOT) NULL};
	open_lib(&archive_lib, names, slots);
}

static int check(struct lib *l, void (*open)(void), struct error *err)
{
	pthread_once(&l->once, open);
	if (l->error)
		return error_set(err, "%s", l->error);
	return 0;
}

int lazylib_curl(struct error *err)
{
	return check(&curl_lib, open_curl, err);
}

int lazylib_archive(struct error *err)
{
	return check(&archive_lib, open_archive, err);
}
