/* reader-bench — what reading the status table costs and how soon readers see changes
 * (bench/reader.sh runs it around a real build). Links only the reader library.
 *   reader-bench poll DIR [CALLS]  the cost of one poll when nothing changed
 *                                  (rill_status_changed on an idle table), and of a liveness check
 *   reader-bench follow DIR [US]   follow the running build of the project at DIR through the
 *                                  library, polling every US microseconds (default 1000): for each
 *                                  message, now - its time_ns when first seen
 *   reader-bench stamp             the same latency for `rill status --follow --json` lines on stdin
 * SPDX-License-Identifier: Apache-2.0 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rill-status.h"

#define TARGET_POLL_NS 1000
#define TARGET_LATENCY_NS (50 * 1000000LL)

static int64_t now_ns(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_us(long us)
{
	struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
	nanosleep(&ts, NULL);
}

struct samples {
	int64_t *v;
	size_t n, cap;
};

static void add_sample(struct samples *s, int64_t v)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 256;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		if (!s->v)
			abort();
	}
	s->v[s->n++] = v;
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* One line of figures; returns 0 when the latency target is met for every sample. */
static int report_latency(const char *what, struct samples *s)
{
	size_t within = 0;
	if (!s->n) {
		printf("latency (%s): no messages seen\n", what);
		return 1;
	}
	qsort(s->v, s->n, sizeof(*s->v), cmp64);
	for (size_t i = 0; i < s->n; i++)
		within += s->v[i] <= TARGET_LATENCY_NS;
#define MS(x) ((double)(x) / 1e6)
	printf("latency (%s): %zu messages, median %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms; "
	       "within 50 ms: %.1f%% -> %s\n", what, s->n, MS(s->v[s->n / 2]), MS(s->v[s->n * 95 / 100]),
	       MS(s->v[s->n * 99 / 100]), MS(s->v[s->n - 1]), 100.0 * (double)within / (double)s->n,
	       within == s->n ? "goal met" : "goal NOT MET");
	return within != s->n;
}

static struct rill_status *open_project(const char *dir)
{
	char pdir[PATH_MAX], sdir[PATH_MAX], err[512];
	struct rill_status *st;
	if (rill_status_find_project(dir, pdir, sizeof(pdir)) || rill_status_dir(pdir, sdir, sizeof(sdir))) {
		fprintf(stderr, "reader-bench: %s: not in a rill project\n", dir);
		return NULL;
	}
	st = rill_status_open(sdir, err, sizeof(err));
	if (!st)
		fprintf(stderr, "reader-bench: %s\n", err);
	return st;
}

static int bench_poll(const char *dir, long calls)
{
	struct rill_status *st = open_project(dir);
	struct rill_status_session ses;
	int64_t t0, t1;
	long changed = 0, alive = 0;
	if (!st)
		return 2;
	rill_status_session(st, &ses);          /* now nothing is new to this handle */
	t0 = now_ns(CLOCK_MONOTONIC);
	for (long i = 0; i < calls; i++)
		changed += rill_status_changed(st);
	t1 = now_ns(CLOCK_MONOTONIC);
	double per_call = (double)(t1 - t0) / (double)calls;
	printf("poll, nothing changed: %.1f ns per rill_status_changed() (%ld calls, %ld saw a change) "
	       "-> %s (goal <= %d ns)\n", per_call, calls, changed,
	       per_call <= TARGET_POLL_NS && !changed ? "goal met" : "goal NOT MET", TARGET_POLL_NS);
	t0 = now_ns(CLOCK_MONOTONIC);
	for (long i = 0; i < 100000; i++)
		alive += rill_status_backend_alive(st);
	t1 = now_ns(CLOCK_MONOTONIC);
	printf("liveness check (rill_status_backend_alive, fcntl F_GETLK): %.0f ns per call "
	       "(rill status --follow makes one per 100 ms)\n", (double)(t1 - t0) / 1e5);
	t0 = now_ns(CLOCK_MONOTONIC);
	for (int i = 0; i < 10000; i++)
		rill_status_session(st, &ses);
	t1 = now_ns(CLOCK_MONOTONIC);
	printf("session read (rill_status_session, one read transaction): %.0f ns per call\n",
	       (double)(t1 - t0) / 1e4);
	rill_status_close(st);
	return per_call <= TARGET_POLL_NS && !changed ? 0 : 1;
}

struct follower {
	struct samples lat;
	uint64_t last_seq;
};

static int on_message(void *ctx, const struct rill_status_message *m)
{
	struct follower *f = ctx;
	add_sample(&f->lat, now_ns(CLOCK_REALTIME) - m->time_ns);
	f->last_seq = m->seq;
	return 0;
}

static int bench_follow(const char *dir, long poll_us)
{
	struct rill_status *st = open_project(dir);
	struct rill_status_session ses;
	struct follower f = {0};
	char what[64];
	int64_t next_check = 0;
	if (!st)
		return 2;
	if (rill_status_session(st, &ses) || rill_session_state_is_final(ses.state)) {
		fprintf(stderr, "reader-bench: no build running\n");
		rill_status_close(st);
		return 2;
	}
	f.last_seq = ses.last_seq;              /* only what happens from now on */
	for (;;) {
		if (rill_status_changed(st)) {
			if (rill_status_messages(st, f.last_seq, NULL, on_message, &f) ||
			    rill_status_session(st, &ses))
				break;
			if (rill_session_state_is_final(ses.state))
				break;
		} else if (now_ns(CLOCK_MONOTONIC) > next_check) {
			next_check = now_ns(CLOCK_MONOTONIC) + 100000000;
			if (!rill_status_backend_alive(st) && !rill_status_changed(st))
				break;
		}
		sleep_us(poll_us);
	}
	rill_status_messages(st, f.last_seq, NULL, on_message, &f);
	snprintf(what, sizeof(what), "library, %ld us poll", poll_us);
	int rc = report_latency(what, &f.lat);
	free(f.lat.v);
	rill_status_close(st);
	return rc;
}

/* The integer after "key": in line, or -1. */
static int64_t json_int_after(const char *line, const char *key)
{
	const char *p = strstr(line, key);
	return p ? strtoll(p + strlen(key), NULL, 10) : -1;
}

static int bench_stamp(void)
{
	struct samples s = {0};
	char *line = NULL;
	size_t size = 0;
	while (getline(&line, &size, stdin) > 0) {
		int64_t seen = now_ns(CLOCK_REALTIME);
		if (strncmp(line, "{\"type\":\"message\"", 17))
			continue;
		int64_t t = json_int_after(line, "\"time_ns\":");
		if (t > 0)
			add_sample(&s, seen - t);
	}
	free(line);
	int rc = report_latency("rill status --follow --json", &s);
	free(s.v);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "poll"))
		return bench_poll(argv[2], argc > 3 ? atol(argv[3]) : 10000000);
	if (argc >= 3 && !strcmp(argv[1], "follow"))
		return bench_follow(argv[2], argc > 3 ? atol(argv[3]) : 1000);
	if (argc == 2 && !strcmp(argv[1], "stamp"))
		return bench_stamp();
	fprintf(stderr, "usage: reader-bench poll DIR [CALLS] | follow DIR [POLL_US] | stamp\n");
	return 2;
}
