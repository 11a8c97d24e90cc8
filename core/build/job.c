/* job — job-process side: plugin contexts, messages, source fetch/track/stage.
 * SPDX-License-Identifier: Apache-2.0 */
#include "build/job.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/osutil.h"
#include "build/hostops.h"
#include "format/cachekey.h"
#include "graph/plugin.h"

static void job_warn(struct rill_ctx *c, const char *token, const char *where, const char *text)
{
	job_report(c, RILL_MSG_WARN, "%s%s%s [%s]", where, *where ? ": " : "", text, token);
}

void job_ctx_init(struct rill_ctx *c, struct project *p, struct element *e, const struct job_io *io,
		  struct error *err)
{
	memset(c, 0, sizeof(*c));
	c->job_warn = job_warn;
	/* plugins see the element's own project: its directory, aliases and fatal warnings */
	if (e && e->project)
		p = e->project;
	c->p = p;
	c->e = e;
	c->err = err;
	c->log_fd = io ? io->log_fd : -1;
	c->report_fd = io ? io->report_fd : -1;
	c->a = p->scratch;
	/* in a job a plugin's warnings are its messages; without a log or pipe (junctions and
	 * source checkouts at load time) the project's, as at load time */
	if (c->log_fd >= 0 || c->report_fd >= 0)
		c->job_warn = job_warn;
}

void job_vreport(struct rill_ctx *c, enum rill_message_type type, const char *fmt, va_list ap)
{
	struct buf text = BUF_INIT, line = BUF_INIT;
	time_t now = time(NULL);
	struct tm tm;
	size_t i;
	buf_vaddf(&text, fmt, ap);
	if (c->log_fd >= 0) {
		localtime_r(&now, &tm);
		buf_addf(&line, "[%02d:%02d:%02d] %-7s %s: %s\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
			 rill_message_type_name(type), c->e ? c->e->name : "", buf_str(&text));
		os_write_all(c->log_fd, line.data, line.len);
	}
	if (c->report_fd >= 0 && type != RILL_MSG_LOG) {
		buf_reset(&line);
		buf_addf(&line, "%d\t", (int)type);
		for (i = 0; i < text.len; i++) {
			if (text.data[i] == '\n')
				buf_adds(&line, "\\n");
			else if (text.data[i] == '\\')
				buf_adds(&line, "\\\\");
			else
				buf_addch(&line, text.data[i]);
		}
		buf_addch(&line, '\n');
		os_write_all(c->report_fd, line.data, line.len);
	}
	buf_release(&text);
	buf_release(&line);
}

void job_report(struct rill_ctx *c, enum rill_message_type type, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	job_vreport(c, type, fmt, ap);
	va_end(ap);
}

void job_report_ref(struct rill_ctx *c, size_t index, const char *ref)
{
	struct buf line = BUF_INIT;
	buf_addf(&line, "REF\t%zu\t", index);
	for (; *ref; ref++) {
		if (*ref == '\n')
			buf_adds(&line, "\\n");
		else if (*ref == '\\')
			buf_adds(&line, "\\\\");
		else
			buf_addch(&line, *ref);
	}
	buf_addch(&line, '\n');
	if (c->report_fd >= 0)
		os_write_all(c->report_fd, line.data, line.len);
	buf_release(&line);
}

char *job_source_dir(const char *cache_dir, const struct source *s)
{
	char hex[65];
	if (s->always_cached || !s->unique_json)
		return NULL;
	cachekey_sha256_hex(s->unique_json, strlen(s->unique_json), hex);
	return xasprintf("%s/sources/%s/%s", cache_dir, s->kind, hex);
}

static int source_cached(const char *cache_dir, const struct source *s)
{
	struct stat st;
	char *d;
	int r;
	if (s->always_cached)
		return 1;
	if (!s->unique_json || !s->plugin->desc->fetch)
		return !!s->unique_json;
	d = job_source_dir(cache_dir, s);
	r = stat(d, &st) == 0 && S_ISDIR(st.st_mode);
	free(d);
	return r;
}

int job_sources_cached(const char *cache_dir, const struct element *e)
{
	size_t i;
	for (i = 0; i < e->nsources; i++)
		if (!source_cached(cache_dir, &e->sources[i]))
			return 0;
	return 1;
}

/* A fresh, empty directory at path (removing what a failed attempt left). */
static int fresh_dir(const char *path, struct error *err)
{
	if (os_rm_rf(path, err))
		return -1;
	if (mkdir(path, 0700))
		return error_set(err, "cannot create a directory '%s': %s", path, strerror(errno));
	return 0;
}

/* Call the source's fetch (tmp set) or track hook (ref set) once, with c set up by the caller. */
static int source_hook(struct rill_ctx *c, struct source *s, const char *tmp, const char **ref)
{
	const struct rill_node *node = (const struct rill_node *)s->node;
	c->pl = s->plugin->desc;
	if (ref)
		return s->plugin->desc->track(job_host(), c, node, ref);
	return s->plugin->desc->fetch(job_host(), c, node, tmp);
}

/* Fetch (tmp set: into tmp) or track (ref set) source i of e, trying each URI that may stand
 * for its alias until one works, in BuildStream's order: for fetch the mirrors first and the
 * alias's own URI last, for track the reverse. Without mirrors for the alias there is one
 * attempt and the plugin's own error. When every URI fails, the error lists each URL tried
 * with what went wrong. */
static int source_with_mirrors(struct project *p, struct element *e, size_t i, const struct job_io *io,
			       const char *tmp, const char **ref, struct error *err)
{
	struct source *s = &e->sources[i];
	const char *action = ref ? "track" : "fetch";
	if (e->project)
		p = e->project;     /* its mirrors */
	struct rill_ctx c;
	struct buf tried = BUF_INIT;
	size_t n, k;
	const char **uris = p->mirrors ? project_alias_uris(p, s->alias, &n) : NULL;
	int rc = -1;
	job_ctx_init(&c, p, e, io, err);
	if (!uris || n < 2) {
		free(uris);
		return source_hook(&c, s, tmp, ref);
	}
	for (k = 0; k < n; k++) {
		const char *uri = uris[ref ? n - 1 - k : k], *url, *why;
		error_release(err);
		if (tmp && k && fresh_dir(tmp, err)) {
			buf_reset(&tried);
			break;
		}
		job_ctx_init(&c, p, e, io, err);
		c.alias = s->alias;
		c.alias_uri = uri;
		rc = source_hook(&c, s, tmp, ref);
		if (!rc)
			break;
		url = c.last_url ? c.last_url : uri;
		why = err->msg ? err->msg : "failed";
		/* download errors start with the URL already */
		if (!strncmp(why, url, strlen(url)) && !strncmp(why + strlen(url), ": ", 2))
			why += strlen(url) + 2;
		buf_addf(&tried, "\n  %s: %s", url, why);
		if (k + 1 < n)
			job_report(&c, RILL_MSG_INFO, "Could not %s from %s (%s), trying the next mirror",
				   action, url, why);
	}
	if (rc && tried.len)
		error_set(err, "%s: source %zu (%s): could not %s from any of the %zu URIs of alias '%s' "
			  "(tried in this order):%s", e->name, i + 1, s->kind, action, n, s->alias, buf_str(&tried));
	buf_release(&tried);
	free(uris);
	return rc;
}

int job_fetch(struct project *p, struct element *e, const struct job_io *io, struct error *err)
{
	size_t i;
	for (i = 0; i < e->nsources; i++) {
		struct source *s = &e->sources[i];
		char *dir, *tmp, *parent;
		int rc;
		if (source_cached(io->cache_dir, s))
			continue;
		if (!s->unique_json)
			return error_set(err, "%s: source %zu (%s) has no ref: run 'rill track %s' first",
					 e->name, i + 1, s->kind, e->name);
		dir = job_source_dir(io->cache_dir, s);
		parent = xasprintf("%s/sources/tmp", io->cache_dir);
		if (os_mkdir_p(parent, err)) {
			free(dir);
			free(parent);
			return -1;
		}
		tmp = xasprintf("%s/%s-XXXXXX", parent, s->kind);
		free(parent);
		if (!mkdtemp(tmp)) {
			error_set(err, "cannot create a directory in '%s': %s", tmp, strerror(errno));
			free(tmp);
			free(dir);
			return -1;
		}
		rc = source_with_mirrors(p, e, i, io, tmp, NULL, err);
		if (!rc) {
			char *kinddir = xasprintf("%s/sources/%s", io->cache_dir, s->kind);
			rc = os_mkdir_p(kinddir, err);
			free(kinddir);
			/* another job may have fetched the same source meanwhile: then keep theirs */
			if (!rc && rename(tmp, dir) && errno != ENOTEMPTY && errno != EEXIST)
				rc = error_set(err, "cannot store the source in '%s': %s", dir, strerror(errno));
		} else if (!err->msg) {
			error_set(err, "%s: fetching source %zu (%s) failed", e->name, i + 1, s->kind);
		}
		os_rm_rf(tmp, NULL);
		free(tmp);
		free(dir);
		if (rc)
			return -1;
	}
	return 0;
}

int job_track(struct project *p, struct element *e, const struct job_io *io, struct error *err)
{
	size_t i;
	for (i = 0; i < e->nsources; i++) {
		struct source *s = &e->sources[i];
		const char *ref = NULL;
		if (!s->plugin->desc->track)
			continue;
		if (source_with_mirrors(p, e, i, io, NULL, &ref, err)) {
			if (!err->msg)
				error_set(err, "%s: tracking source %zu (%s) failed", e->name, i + 1, s->kind);
			return -1;
		}
		if (ref) {
			struct rill_ctx c;
			job_ctx_init(&c, p, e, io, err);
			job_report_ref(&c, i, ref);
		}
	}
	return 0;
}

int job_stage_sources(struct rill_ctx *c, const char *dest)
{
	struct element *e = c->e;
	size_t i;
	for (i = 0; i < e->nsources; i++) {
		struct source *s = &e->sources[i];
		char *to, *dir = NULL;
		int rc;
		if (!s->plugin->desc->stage)
			continue;
		to = s->directory ? xasprintf("%s/%s", dest, s->directory) : xstrdup(dest);
		if (os_mkdir_p(to, c->err)) {
			free(to);
			return -1;
		}
		if (!s->always_cached) {
			struct stat st;
			dir = job_source_dir(c->p->cache_dir, s);
			if (!dir || stat(dir, &st)) {
				error_set(c->err, "%s: source %zu (%s) is not fetched: run 'rill fetch %s'",
					  e->name, i + 1, s->kind, e->name);
				free(dir);
				free(to);
				return -1;
			}
		}
		{
			const struct rill_plugin *was = c->pl;
			c->pl = s->plugin->desc;
			rc = s->plugin->desc->stage(job_host(), c, (const struct rill_node *)s->node, dir, to);
			c->pl = was;
		}
		if (rc && !c->err->msg)
			error_set(c->err, "%s: staging source %zu (%s) failed", e->name, i + 1, s->kind);
		free(dir);
		free(to);
		if (rc)
			return -1;
	}
	return 0;
}

/* Loading a junction (graph/loader.c, through load_params.junction_sources). */
static int junction_fetch(struct project *p, struct element *je, const char *cache_dir, struct error *err)
{
	struct job_io io = {-1, -1, cache_dir};
	return job_fetch(p, je, &io, err);
}

static int junction_stage(struct project *p, struct element *je, const char *dir, struct error *err)
{
	struct rill_ctx c;
	job_ctx_init(&c, p, je, NULL, err);
	return job_stage_sources(&c, dir);
}

const struct junction_sources job_junction_sources = {job_sources_cached, junction_fetch, junction_stage};

/* A plugin's status message at job time (host->status). */
void job_host_status(struct rill_ctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	job_vreport(c, RILL_MSG_STATUS, fmt, ap);
	va_end(ap);
}

/* host->message in a job: the plugin's message with its detail, in the log and the table. */
static void job_host_message(struct rill_ctx *c, const char *kind, const char *text, const char *detail)
{
	enum rill_message_type t = RILL_MSG_INFO;
	if (strcmp(kind, "debug") == 0)
		t = RILL_MSG_DEBUG;
	else if (strcmp(kind, "status") == 0)
		t = RILL_MSG_STATUS;
	else if (strcmp(kind, "log") == 0)
		t = RILL_MSG_LOG;
	if (detail && *detail)
		job_report(c, t, "%s\n\n%s", text, detail);
	else
		job_report(c, t, "%s", text);
}

/* The host functions plugins get in a job: those of load time (graph/plugin.c), messages and
 * host operations (downloads, archives, host commands); build_host() adds the build's. */
static struct rill_host job_host_table;
static pthread_once_t job_host_once = PTHREAD_ONCE_INIT;

static void job_host_init(void)
{
	struct rill_host *h = &job_host_table;
	*h = *plugin_host();
	h->status = job_host_status;
	h->download = hostops_download;
	h->extract = hostops_extract;
	h->run_host = hostops_run_host;
	h->copy_tree = hostops_copy_tree;
	h->message = job_host_message;
}

const struct rill_host *job_host(void)
{
	pthread_once(&job_host_once, job_host_init);
	return &job_host_table;
}
