/* rill-statusline — an example of an editor-side reader of rill's status table: prints one short
 * line for an editor's status bar ("rill: build 3/10, 2 running: a.bst, b.bst"), once, or with
 * --watch a new line whenever it changes, across builds, until killed. It links only the reader
 * library (librillstatus, frontends/rill-status.h) and never holds the table open in a read
 * transaction while it prints or sleeps.
 *
 *   cc -Ifrontends -Icore/status examples/editor/rill-statusline.c frontends/librillstatus.a -llmdb
 *   cc rill-statusline.c $(pkg-config --cflags --libs rillstatus)      (after make install)
 *
 * SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "rill-status.h"

#define LINE_MAX_ 256

/* What one read gathers: the session, and the names of running jobs and failed elements. */
struct state {
	struct rill_status_session ses;
	char running[LINE_MAX_];
	unsigned nrunning;
	char failed[LINE_MAX_];
	unsigned nfailed;
};

/* Append ", name" to list (or "name" when empty); "..." once it is full. */
static void add_name(char *list, const char *name)
{
	size_t len = strlen(list);
	if (len + strlen(name) + 8 >= LINE_MAX_) {
		if (len && strcmp(list + len - 3, "..."))
			snprintf(list + len, LINE_MAX_ - len, ", ...");
		return;
	}
	snprintf(list + len, LINE_MAX_ - len, "%s%s", len ? ", " : "", name);
}

static void on_session(void *ctx, const struct rill_status_session *ses)
{
	struct state *s = ctx;
	s->ses = *ses;
}

static int on_element(void *ctx, const struct rill_status_element *e)
{
	struct state *s = ctx;
	if (e->state == RILL_ELEMENT_FAILED) {
		s->nfailed++;
		add_name(s->failed, e->name);
	}
	return 0;
}

static int on_job(void *ctx, const struct rill_status_job *j)
{
	struct state *s = ctx;
	if (j->result == RILL_JOB_RUNNING) {
		s->nrunning++;
		add_name(s->running, j->element_name);
	}
	return 0;
}

/* One consistent read (callbacks copy; the library ends the transaction before returning). */
static int read_state(struct rill_status *st, struct state *s)
{
	struct rill_status_visitor v = {.session = on_session, .element = on_element, .job = on_job};
	memset(s, 0, sizeof(*s));
	return rill_status_read(st, &v, s);
}

/* The backend died when the session is not final and no backend holds the lock. A backend
 * commits its final state before letting the lock go, so re-read once after seeing it free. */
static int backend_died(struct rill_status *st, struct state *s)
{
	if (rill_session_state_is_final(s->ses.state) || rill_status_backend_alive(st))
		return 0;
	if (read_state(st, s))
		return 0;
	return !rill_session_state_is_final(s->ses.state) && !rill_status_backend_alive(st);
}

/* Returns what the line means for an exit status: 0 running or succeeded, 1 failed, terminated or
 * died. */
static int format_line(char *line, size_t size, const struct state *s, int dead)
{
	const struct rill_status_session *ses = &s->ses;
	const char *cmd = ses->command[0] ? ses->command : "build";
	double took = ses->end_ns > ses->start_ns ? (double)(ses->end_ns - ses->start_ns) / 1e9 : 0;
	unsigned done = ses->elements_cached + ses->elements_failed +
			ses->element_states[RILL_ELEMENT_SKIPPED];
	if (dead)
		snprintf(line, size, "rill: %s: backend DIED (%u job%s running%s%s)", cmd, s->nrunning,
			 s->nrunning == 1 ? " was" : "s were", s->nrunning ? ": " : "", s->running);
	else if (ses->state == RILL_SESSION_SUCCESS)
		snprintf(line, size, "rill: %s ok (%u elements, %.1f s)", cmd, ses->elements_total, took);
	else if (ses->state == RILL_SESSION_FAILED && s->nfailed)
		snprintf(line, size, "rill: %s FAILED: %s", cmd, s->failed);
	else if (ses->state == RILL_SESSION_FAILED)
		snprintf(line, size, "rill: %s FAILED: %.200s", cmd, ses->error[0] ? ses->error : "(no detail)");
	else if (ses->state == RILL_SESSION_TERMINATED)
		snprintf(line, size, "rill: %s terminated", cmd);
	else if (ses->state != RILL_SESSION_RUNNING)
		snprintf(line, size, "rill: %s %s", cmd, rill_session_state_name(ses->state));
	else
		snprintf(line, size, "rill: %s %u/%u, %u running%s%s%s%s", cmd, done, ses->elements_total,
			 s->nrunning, s->nrunning ? ": " : "", s->running, s->nfailed ? ", FAILED: " : "",
			 s->failed);
	return dead || (rill_session_state_is_final(ses->state) && ses->state != RILL_SESSION_SUCCESS);
}

/* The current line. Returns format_line's 0 or 1, or -1 when the table cannot be read (line
 * says why). */
static int current_line(struct rill_status *st, char *line, size_t size)
{
	struct state *s = calloc(1, sizeof(*s));
	int rc = 0;
	if (!s)
		abort();
	if (read_state(st, s)) {
		snprintf(line, size, "rill: %s", rill_status_error(st));
		rc = -1;
	} else {
		rc = format_line(line, size, s, backend_died(st, s));
	}
	free(s);
	return rc;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --watch: print a line whenever it changes. The table may not exist yet (no build ran): wait
 * for it. A status bar needs no more than a few updates a second: poll every 100 ms (the poll
 * itself costs nanoseconds), re-check the backend's liveness every 500 ms. */
static void watch(const char *sdir) __attribute__((noreturn));
static void watch(const char *sdir)
{
	char line[LINE_MAX_ * 3] = "", last[sizeof(line)] = "", path[PATH_MAX + 16], err[512];
	struct rill_status *st = NULL;
	int64_t next_liveness = 0;
	struct stat sb;
	snprintf(path, sizeof(path), "%s/data.mdb", sdir);
	for (;;) {
		int update = 0;
		if (!st) {
			int exists = stat(path, &sb) == 0;
			st = exists ? rill_status_open(sdir, err, sizeof(err)) : NULL;
			if (!st) {
				snprintf(line, sizeof(line), "rill: %.500s", exists ? err : "no build");
				update = 1;
			}
		}
		if (st && (rill_status_changed(st) || mono_ms() >= next_liveness)) {
			next_liveness = mono_ms() + 500;
			if (current_line(st, line, sizeof(line)) < 0) {
				rill_status_close(st);  /* e.g. a newer rill rewrote the table: reopen */
				st = NULL;
			}
			update = 1;
		}
		if (update && strcmp(line, last)) {
			printf("%s\n", line);
			fflush(stdout);
			memcpy(last, line, sizeof(last));
		}
		sleep_ms(100);
	}
}

int main(int argc, char **argv)
{
	char pdir[PATH_MAX], sdir[PATH_MAX], line[LINE_MAX_ * 3], err[512], path[PATH_MAX + 16];
	const char *dir = NULL;
	int watching = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-C") && i + 1 < argc) {
			dir = argv[++i];
		} else if (!strcmp(argv[i], "--watch")) {
			watching = 1;
		} else {
			fprintf(stderr, "usage: rill-statusline [-C DIR] [--watch]\n"
					"  One status-bar line for the rill project containing DIR (default: the\n"
					"  current directory); --watch: a new line on every change, until killed.\n"
					"  Exit status: 0 running or succeeded, 1 failed or the backend died,\n"
					"  2 error, 3 no build has run.\n");
			return 2;
		}
	}
	if (rill_status_find_project(dir, pdir, sizeof(pdir)) || rill_status_dir(pdir, sdir, sizeof(sdir))) {
		fprintf(stderr, "rill-statusline: no rill project at %s: %s\n", dir ? dir : ".", strerror(errno));
		return 2;
	}
	if (watching)
		watch(sdir);
	struct rill_status *st = rill_status_open(sdir, err, sizeof(err));
	if (!st) {
		struct stat sb;
		snprintf(path, sizeof(path), "%s/data.mdb", sdir);
		if (stat(path, &sb) < 0) {
			printf("rill: no build\n");
			return 3;
		}
		fprintf(stderr, "rill-statusline: %s\n", err);
		return 2;
	}
	int rc = current_line(st, line, sizeof(line));
	printf("%s\n", line);
	rill_status_close(st);
	return rc < 0 ? 2 : rc;
}
