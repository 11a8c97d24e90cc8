/* test_status — the status table: writer (core/status/status.c) against the reader library
 * (frontends/status-reader.c), the reader always in another process than the writer.
 * SPDX-License-Identifier: Apache-2.0 */
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/osutil.h"
#include "rill-status.h"
#include "status/status.h"
#include "base/util.h"

static char tmp_root[64];

static char *table_dir(const char *name)
{
	return xasprintf("%s/%s", tmp_root, name);
}

static struct status_writer *writer_open(const char *dir, uint64_t id)
{
	struct status_session_info info = {
		.command = "build", .project = "proj", .project_dir = "/src/proj",
		.targets = "a.bst b.bst", .session_id = id,
	};
	struct error err = ERROR_INIT;
	struct status_writer *w = status_open(dir, &info, &err);
	if (!w)
		printf("  status_open: %s\n", err.msg);
	error_release(&err);
	return w;
}

static int commit(struct status_writer *w)
{
	struct error err = ERROR_INIT;
	int rc = status_commit(w, &err);
	if (rc)
		printf("  status_commit: %s\n", err.msg);
	error_release(&err);
	return rc;
}

/* Fork; the child runs fn (with the pipes) and exits 0 when its checks passed. */
static pid_t child_run(void (*fn)(void *), void *arg)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		test_failed_now = 0;
		fn(arg);
		fflush(stdout);
		_exit(test_failed_now ? 1 : 0);
	}
	return pid;
}

static int child_wait(pid_t pid)
{
	int st;
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* A two-way lock step between parent and child over two pipes. */
struct step {
	int to_child[2], to_parent[2];
};

static void step_init(struct step *s)
{
	if (pipe(s->to_child) || pipe(s->to_parent))
		abort();
}

static void step_close(struct step *s)
{
	close(s->to_child[0]);
	close(s->to_child[1]);
	close(s->to_parent[0]);
	close(s->to_parent[1]);
}

static void say(int fd)
{
	char c = 'x';
	if (write(fd, &c, 1) != 1)
		abort();
}

static int hear(int fd)
{
	char c;
	return read(fd, &c, 1) == 1 ? 0 : -1;
}

static struct rill_status *reader_open(const char *dir, uint64_t id)
{
	char err[512];
	struct rill_status *s = rill_status_open_session(dir, id, 5000, err, sizeof(err));
	if (!s)
		printf("  rill_status_open_session: %s\n", err);
	return s;
}

/* ---- Collecting callbacks ------------------------------------------------------------------- */

struct seen {
	size_t n;
	struct rill_status_element el;
	struct rill_status_job job;
	struct rill_status_queue queue;
	struct rill_status_message msg;
};

static int seen_element(void *ctx, const struct rill_status_element *e)
{
	struct seen *s = ctx;
	s->el = *e;
	s->n++;
	return 0;
}

static int seen_job(void *ctx, const struct rill_status_job *j)
{
	struct seen *s = ctx;
	s->job = *j;
	s->n++;
	return 0;
}

static int seen_queue(void *ctx, const struct rill_status_queue *q)
{
	struct seen *s = ctx;
	s->queue = *q;
	s->n++;
	return 0;
}

static int seen_message(void *ctx, const struct rill_status_message *m)
{
	struct seen *s = ctx;
	s->msg = *m;
	s->n++;
	return 0;
}

static size_t count_elements(struct rill_status *r, struct seen *out)
{
	memset(out, 0, sizeof(*out));
	CHECK(rill_status_elements(r, seen_element, out) == 0);
	return out->n;
}

static size_t count_jobs(struct rill_status *r, struct seen *out)
{
	memset(out, 0, sizeof(*out));
	CHECK(rill_status_jobs(r, seen_job, out) == 0);
	return out->n;
}

/* ---- Names and the directory ---------------------------------------------------------------- */

static void status_names(void)
{
	CHECK_STR(rill_message_type_name(RILL_MSG_WARN), "WARNING");
	CHECK_STR(rill_message_type_name(RILL_MSG_SKIPPED), "SKIPPED");
	CHECK_STR(rill_message_type_name(0), "unknown");
	CHECK_STR(rill_element_state_name(RILL_ELEMENT_NO_REFERENCE), "no reference");
	CHECK_STR(rill_element_state_name(RILL_ELEMENT_FETCH_NEEDED), "fetch needed");
	CHECK_STR(rill_element_state_name(RILL_ELEMENT_SKIPPED), "skipped");
	CHECK_STR(rill_element_state_name(99), "unknown");
	CHECK_STR(rill_session_state_name(RILL_SESSION_TERMINATED), "terminated");
	CHECK_STR(rill_job_result_name(RILL_JOB_OK), "ok");
	CHECK(rill_session_state_is_final(RILL_SESSION_FAILED));
	CHECK(!rill_session_state_is_final(RILL_SESSION_RUNNING));
}

static void status_dir_location(void)
{
	char out[4096], expect[4096], real[4096], *proj = table_dir("My Project");
	const char *old_xdg = getenv("XDG_CACHE_HOME"), *old_home = getenv("HOME");
	char *save_xdg = old_xdg ? xstrdup(old_xdg) : NULL, *save_home = old_home ? xstrdup(old_home) : NULL;
	CHECK(mkdir(proj, 0755) == 0);
	CHECK(realpath(proj, real) != NULL);
	uint64_t h = hash_bytes(real, strlen(real));

	setenv("XDG_CACHE_HOME", "/x/cache", 1);
	CHECK(rill_status_dir(proj, out, sizeof(out)) == 0);
	snprintf(expect, sizeof(expect), "/x/cache/rill/status/My Project-%016llx", (unsigned long long)h);
	CHECK_STR(out, expect);

	/* Relative XDG_CACHE_HOME is ignored (XDG spec), like os_cache_dir(). */
	setenv("XDG_CACHE_HOME", "relative", 1);
	setenv("HOME", "/home/u", 1);
	CHECK(rill_status_dir(proj, out, sizeof(out)) == 0);
	snprintf(expect, sizeof(expect), "/home/u/.cache/rill/status/My Project-%016llx", (unsigned long long)h);
	CHECK_STR(out, expect);
	/* The same directory through another spelling gives the same place. */
	char *alias = xasprintf("%s/../%s/My Project/.", tmp_root, strrchr(tmp_root, '/') + 1);
	CHECK(rill_status_dir(alias, expect, sizeof(expect)) == 0);
	CHECK_STR(out, expect);
	errno = 0;
	CHECK(rill_status_dir(proj, out, 10) == -1 && errno == ENAMETOOLONG);
	CHECK(rill_status_dir("/nonexistent/project", out, sizeof(out)) == -1);

	if (save_xdg)
		setenv("XDG_CACHE_HOME", save_xdg, 1);
	else
		unsetenv("XDG_CACHE_HOME");
	if (save_home)
		setenv("HOME", save_home, 1);
	free(save_xdg);
	free(save_home);
	free(alias);
	rmdir(proj);
	free(proj);
}

static void status_no_table(void)
{
	char err[512] = "";
	char *dir = table_dir("none");
	CHECK(rill_status_open(dir, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "no status table yet") != NULL);
	CHECK(strstr(err, dir) != NULL);
	/* The reader did not create anything. */
	CHECK(access(dir, F_OK) != 0);
	free(dir);
}

/* ---- Session, elements, jobs: visible after commit and not before --------------------------- */

struct updates_ctx {
	const char *dir;
	struct step st;
	pid_t writer_pid;
};

#define SESSION_ID 0x1234abcd5678ef00ULL

static void updates_reader(void *arg)
{
	struct updates_ctx *c = arg;
	struct rill_status_session ses;
	struct seen seen;
	struct rill_status *r = reader_open(c->dir, SESSION_ID);
	CHECK(r != NULL);
	if (!r)
		return;
	CHECK(rill_status_session(r, &ses) == 0);
	CHECK(ses.session_id == SESSION_ID);
	CHECK(ses.schema_version == RILL_STATUS_SCHEMA_VERSION);
	CHECK(ses.state == RILL_SESSION_STARTING);
	CHECK(ses.backend_pid == c->writer_pid);
	CHECK_STR(ses.command, "build");
	CHECK_STR(ses.project, "proj");
	CHECK_STR(ses.project_dir, "/src/proj");
	CHECK_STR(ses.targets, "a.bst b.bst");
	CHECK(ses.start_ns > 0 && ses.heartbeat_ns >= ses.start_ns && ses.end_ns == 0);
	CHECK(rill_status_changed(r) == 0);
	CHECK(rill_status_backend_alive(r) == 1);
	CHECK(count_elements(r, &seen) == 0);

	say(c->st.to_parent[1]);
	CHECK(hear(c->st.to_child[0]) == 0);            /* the writer buffered, did not commit */
	CHECK(rill_status_changed(r) == 0);
	CHECK(count_elements(r, &seen) == 0);
	CHECK(count_jobs(r, &seen) == 0);
	CHECK(rill_status_session(r, &ses) == 0 && ses.state == RILL_SESSION_STARTING);

	say(c->st.to_parent[1]);
	CHECK(hear(c->st.to_child[0]) == 0);            /* committed */
	CHECK(rill_status_changed(r) == 1);
	CHECK(rill_status_session(r, &ses) == 0);
	CHECK(rill_status_changed(r) == 0);
	CHECK(ses.state == RILL_SESSION_RUNNING);
	CHECK(ses.elements_total == 2 && ses.jobs_running == 1);
	CHECK(ses.element_states[RILL_ELEMENT_BUILDING] == 1 && ses.element_states[RILL_ELEMENT_WAITING] == 1);
	CHECK(ses.generation >= 2);
	CHECK(count_elements(r, &seen) == 2);
	CHECK(seen.el.id == 1);                          /* walked in id order: last is 1 */
	CHECK_STR(seen.el.name, "b.bst");
	CHECK(seen.el.state == RILL_ELEMENT_WAITING && seen.el.job_id == RILL_STATUS_NONE);
	CHECK(count_jobs(r, &seen) == 1);
	CHECK(seen.job.id == 0 && seen.job.pid == 4242 && seen.job.element_id == 0);
	CHECK(seen.job.result == RILL_JOB_RUNNING && seen.job.start_ns > 0 && seen.job.end_ns == 0);
	CHECK_STR(seen.job.action, "build");
	CHECK_STR(seen.job.element_name, "a.bst");
	CHECK_STR(seen.job.log_path, "/tmp/logs/a.log");
	CHECK_STR(seen.job.last_line, "line 2");
	memset(&seen, 0, sizeof(seen));
	CHECK(rill_status_queues(r, seen_queue, &seen) == 0 && seen.n == 1);
	CHECK(seen.queue.index == 0 && seen.queue.processed == 3 && seen.queue.failed == 1);
	CHECK_STR(seen.queue.complete_name, "Built");
	/* Element 0 as the whole-snapshot visitor sees it. */
	struct seen one;
	memset(&one, 0, sizeof(one));
	struct rill_status_visitor v = {.element = seen_element};
	CHECK(rill_status_read(r, &v, &one) == 0 && one.n == 2);

	say(c->st.to_parent[1]);
	CHECK(hear(c->st.to_child[0]) == 0);            /* element finished, job ended, a message */
	CHECK(rill_status_changed(r) == 1);
	CHECK(rill_status_session(r, &ses) == 0);
	CHECK(ses.elements_cached == 1 && ses.elements_failed == 0 && ses.jobs_running == 0);
	CHECK(ses.element_states[RILL_ELEMENT_BUILDING] == 0);
	CHECK(ses.last_seq == 2 && ses.first_seq == 1);
	memset(&one, 0, sizeof(one));
	CHECK(rill_status_elements(r, seen_element, &one) == 0);
	CHECK(count_jobs(r, &seen) == 1 && seen.job.result == RILL_JOB_OK);
	CHECK(seen.job.end_ns >= seen.job.start_ns);
	memset(&seen, 0, sizeof(seen));
	uint64_t gap = 99;
	CHECK(rill_status_messages(r, 1, &gap, seen_message, &seen) == 0);
	CHECK(gap == 0 && seen.n == 1);
	CHECK(seen.msg.seq == 2 && seen.msg.type == RILL_MSG_SUCCESS);
	CHECK(seen.msg.element_id == 0 && seen.msg.job_id == 0 && seen.msg.elapsed_ns == 1500);
	CHECK_STR(seen.msg.element_name, "a.bst");
	CHECK_STR(seen.msg.action, "build");
	CHECK_STR(seen.msg.text, "built a.bst");
	CHECK(seen.msg.detail_len == 5000 && strlen(seen.msg.detail) == 5000);
	CHECK(seen.msg.detail[0] == 'a' && seen.msg.detail[1999] == 'a' + 1999 % 26 &&
	      seen.msg.detail[4999] == 'a' + 4999 % 26);
	memset(&seen, 0, sizeof(seen));
	CHECK(rill_status_messages(r, 0, &gap, seen_message, &seen) == 0 && seen.n == 2 && gap == 0);
	CHECK(seen.msg.seq == 2);

	say(c->st.to_parent[1]);
	CHECK(hear(c->st.to_child[0]) == 0);            /* final state */
	CHECK(rill_status_session(r, &ses) == 0);
	CHECK(ses.state == RILL_SESSION_FAILED && ses.end_ns >= ses.start_ns);
	CHECK_STR(ses.error, "something broke");
	memset(&one, 0, sizeof(one));
	CHECK(rill_status_elements(r, seen_element, &one) == 0 && one.n == 2);

	say(c->st.to_parent[1]);
	CHECK(hear(c->st.to_child[0]) == 0);            /* a commit with nothing buffered */
	CHECK(rill_status_changed(r) == 0);
	rill_status_close(r);
}

/* The element records as seen when finished. */
static void status_updates_after_commit(void)
{
	struct updates_ctx c = {.dir = table_dir("updates"), .writer_pid = getpid()};
	step_init(&c.st);
	struct status_writer *w = writer_open(c.dir, SESSION_ID);
	CHECK(w != NULL);
	if (!w)
		goto out;
	CHECK(status_session_id(w) == SESSION_ID);
	pid_t pid = child_run(updates_reader, &c);
	CHECK(hear(c.st.to_parent[0]) == 0);

	status_session_state(w, RILL_SESSION_RUNNING);
	status_element(w, 0, "a.bst", "abc123", RILL_ELEMENT_BUILDABLE);
	status_element(w, 0, NULL, NULL, RILL_ELEMENT_BUILDING);
	status_element(w, 1, "b.bst", "", RILL_ELEMENT_WAITING);
	status_job_start(w, 0, "build", 0, 4242, "/tmp/logs/a.log");
	status_job_output(w, 0, "line 1");
	status_job_output(w, 0, "line 2");
	status_queue(w, 0, "build", "Built", 3, 0, 1);
	say(c.st.to_child[1]);
	CHECK(hear(c.st.to_parent[0]) == 0);

	CHECK(commit(w) == 0);
	say(c.st.to_child[1]);
	CHECK(hear(c.st.to_parent[0]) == 0);

	char detail[5001];
	for (int i = 0; i < 5000; i++)
		detail[i] = (char)('a' + i % 26);
	detail[5000] = '\0';
	status_element(w, 0, NULL, NULL, RILL_ELEMENT_FAILED);     /* coalesced: the last one wins */
	status_element(w, 0, NULL, NULL, RILL_ELEMENT_CACHED);
	status_job_end(w, 0, RILL_JOB_OK);
	status_message(w, RILL_MSG_START, 0, 0, "build", -1, "building a.bst", NULL);
	status_message(w, RILL_MSG_SUCCESS, 0, 0, "build", 1500, "built a.bst", detail);
	CHECK(commit(w) == 0);
	say(c.st.to_child[1]);
	CHECK(hear(c.st.to_parent[0]) == 0);

	status_session_error(w, "something broke");
	status_session_state(w, RILL_SESSION_FAILED);
	CHECK(commit(w) == 0);
	say(c.st.to_child[1]);
	CHECK(hear(c.st.to_parent[0]) == 0);
	CHECK(commit(w) == 0);          /* within a second of the last: no write, no new txnid */
	say(c.st.to_child[1]);
	CHECK(child_wait(pid) == 0);
	status_close(w);
out:
	step_close(&c.st);
	free((char *)c.dir);
}

/* ---- Message ring --------------------------------------------------------------------------- */

struct ring_check {
	uint64_t next;          /* expected seq */
	size_t n;
	int bad;
};

static int ring_message(void *ctx, const struct rill_status_message *m)
{
	struct ring_check *rc = ctx;
	char want[64];
	snprintf(want, sizeof(want), "message %llu", (unsigned long long)m->seq);
	if (m->seq != rc->next || strcmp(m->text, want) != 0 || m->type != RILL_MSG_INFO)
		rc->bad++;
	if (m->seq % 1000 == 0 && strcmp(m->detail, want) != 0)
		rc->bad++;
	rc->next = m->seq + 1;
	rc->n++;
	return 0;
}

static void ring_reader(void *arg)
{
	const char *dir = arg;
	struct rill_status *r = reader_open(dir, 77);
	struct rill_status_session ses;
	uint64_t gap = 0;
	CHECK(r != NULL);
	if (!r)
		return;
	CHECK(rill_status_session(r, &ses) == 0);
	CHECK(ses.first_seq == 15001 && ses.last_seq == 25000 && ses.session_seq == 1);
	struct ring_check rc = {.next = 15001};
	CHECK(rill_status_messages(r, 100, &gap, ring_message, &rc) == 0);
	CHECK(gap == 14900);
	CHECK(rc.n == 10000 && rc.bad == 0 && rc.next == 25001);
	struct ring_check tail = {.next = 24991};
	CHECK(rill_status_messages(r, 24990, &gap, ring_message, &tail) == 0);
	CHECK(gap == 0 && tail.n == 10 && tail.bad == 0);
	struct ring_check none = {.next = 0};
	CHECK(rill_status_messages(r, 25000, &gap, ring_message, &none) == 0 && gap == 0 && none.n == 0);
	rill_status_close(r);
}

static void ring_reader_second(void *arg)
{
	const char *dir = arg;
	struct rill_status *r = reader_open(dir, 78);
	struct rill_status_session ses;
	CHECK(r != NULL);
	if (!r)
		return;
	CHECK(rill_status_session(r, &ses) == 0);
	/* A new session continues the sequence; the ring keeps the old session's tail. */
	CHECK(ses.last_seq == 25001 && ses.first_seq == 15002 && ses.session_seq == 25001);
	struct ring_check rc = {.next = 25001};
	uint64_t gap = 1;
	CHECK(rill_status_messages(r, 25000, &gap, ring_message, &rc) == 0 && gap == 0 && rc.n == 1);
	rill_status_close(r);
}

static void status_message_ring(void)
{
	char *dir = table_dir("ring");
	struct status_writer *w = writer_open(dir, 77);
	CHECK(w != NULL);
	if (!w)
		goto out;
	for (int tick = 0; tick < 25; tick++) {
		for (int i = 1; i <= 1000; i++) {
			uint64_t seq = (uint64_t)tick * 1000 + (uint64_t)i;
			char text[64];
			snprintf(text, sizeof(text), "message %llu", (unsigned long long)seq);
			status_message(w, RILL_MSG_INFO, RILL_STATUS_NONE, RILL_STATUS_NONE, NULL, -1, text,
				       i == 1000 ? text : NULL);
		}
		CHECK(commit(w) == 0);
	}
	pid_t pid = child_run(ring_reader, dir);
	CHECK(child_wait(pid) == 0);
	status_close(w);

	w = writer_open(dir, 78);
	CHECK(w != NULL);
	if (!w)
		goto out;
	status_message(w, RILL_MSG_INFO, RILL_STATUS_NONE, RILL_STATUS_NONE, NULL, -1, "message 25001", NULL);
	CHECK(commit(w) == 0);
	pid = child_run(ring_reader_second, dir);
	CHECK(child_wait(pid) == 0);
	status_close(w);
out:
	free(dir);
}

/* Finished jobs beyond the kept number leave the table; running ones stay. */
static void jobs_reader(void *arg)
{
	struct rill_status *r = reader_open(arg, 79);
	struct seen seen;
	CHECK(r != NULL);
	if (!r)
		return;
	CHECK(count_jobs(r, &seen) == 1001);
	CHECK(seen.job.id == 1500 && seen.job.result == RILL_JOB_RUNNING);
	rill_status_close(r);
}

static void status_jobs_bounded(void)
{
	char *dir = table_dir("jobs");
	struct status_writer *w = writer_open(dir, 79);
	CHECK(w != NULL);
	if (!w)
		goto out;
	status_element(w, 0, "e.bst", "k", RILL_ELEMENT_BUILDING);
	status_job_start(w, 1500, "build", 0, 1, "/log");
	for (uint32_t j = 0; j < 1400; j++) {
		status_job_start(w, j, "fetch", 0, 2, "/log");
		status_job_end(w, j, j % 2 ? RILL_JOB_OK : RILL_JOB_FAILED);
		if (j % 100 == 0)
			CHECK(commit(w) == 0);
	}
	CHECK(commit(w) == 0);
	pid_t pid = child_run(jobs_reader, dir);
	CHECK(child_wait(pid) == 0);
	status_close(w);
out:
	free(dir);
}

/* ---- One backend per table, liveness -------------------------------------------------------- */

static void second_writer(void *arg)
{
	struct status_session_info info = {.command = "build", .session_id = 5};
	struct error err = ERROR_INIT;
	char *want = xasprintf("another rill backend (pid %d) is using ", (int)getppid());
	struct status_writer *w = status_open(arg, &info, &err);
	CHECK(w == NULL);
	CHECK(err.msg && strstr(err.msg, want) != NULL);
	if (err.msg && !strstr(err.msg, want))
		printf("  got: %s\n", err.msg);
	CHECK(err.msg && strstr(err.msg, arg) != NULL);
	error_release(&err);
	free(want);
}

static void status_second_writer_refused(void)
{
	char *dir = table_dir("twice");
	struct status_writer *w = writer_open(dir, 4);
	struct error err = ERROR_INIT;
	CHECK(w != NULL);
	if (!w)
		goto out;
	pid_t pid = child_run(second_writer, dir);
	CHECK(child_wait(pid) == 0);
	/* In the same process too (fcntl locks do not conflict there) ... */
	struct status_session_info info = {.command = "build"};
	CHECK(status_open(dir, &info, &err) == NULL);
	CHECK(err.msg && strstr(err.msg, "another rill backend") != NULL);
	error_release(&err);
	/* ... and the refused attempt did not drop the first writer's lock. */
	pid = child_run(second_writer, dir);
	CHECK(child_wait(pid) == 0);
	status_close(w);
	/* Free again: a new backend may start. */
	w = writer_open(dir, 6);
	CHECK(w != NULL);
	status_close(w);
out:
	free(dir);
}

static void writer_then_hang(void *arg)
{
	struct status_writer *w = writer_open(arg, 42);
	if (!w)
		_exit(3);
	status_session_state(w, RILL_SESSION_RUNNING);
	commit(w);
	pause();
}

static void status_liveness(void)
{
	char *dir = table_dir("live");
	char err[512];
	pid_t pid = child_run(writer_then_hang, dir);
	struct rill_status *r = rill_status_open_session(dir, 42, 5000, err, sizeof(err));
	struct rill_status_session ses;
	CHECK(r != NULL);
	if (!r) {
		printf("  %s\n", err);
		kill(pid, SIGKILL);
		child_wait(pid);
		goto out;
	}
	CHECK(rill_status_backend_alive(r) == 1);
	kill(pid, SIGKILL);
	CHECK(child_wait(pid) == 128 + SIGKILL);
	CHECK(rill_status_backend_alive(r) == 0);
	/* Not final and nobody holds the lock: the backend died. */
	CHECK(rill_status_session(r, &ses) == 0);
	CHECK(!rill_session_state_is_final(ses.state) && ses.backend_pid == pid);

	/* rill_status_changed is meant to be called every frame: measure it. */
	struct timespec a, b;
	int changed = 0;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < 1000000; i++)
		changed += rill_status_changed(r);
	clock_gettime(CLOCK_MONOTONIC, &b);
	double ns = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / 1e6;
	printf("  rill_status_changed: %.1f ns per call (1,000,000 calls)\n", ns);
	CHECK(changed == 0);
	rill_status_close(r);
out:
	free(dir);
}

/* ---- A reader killed inside a read transaction ---------------------------------------------- */

static int block_forever(void *ctx, const struct rill_status_element *e)
{
	(void)e;
	say(*(int *)ctx);
	pause();
	return 0;
}

static off_t file_size(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 ? sb.st_size : -1;
}

struct stuck_ctx {
	const char *dir;
	int fd;
};

static void stuck_reader(void *arg)
{
	struct stuck_ctx *c = arg;
	struct rill_status *r = reader_open(c->dir, 90);
	if (!r)
		_exit(2);
	rill_status_elements(r, block_forever, &c->fd);
	_exit(4);       /* not reached: killed inside the callback, inside the read txn */
}

static void commits_of_changing_data(struct status_writer *w, int n, int round)
{
	char key[256];
	for (int i = 0; i < n; i++) {
		for (uint32_t e = 0; e < 50; e++) {
			snprintf(key, sizeof(key), "%0200d-%d-%d", round, i, (int)e);
			status_element(w, e, NULL, key,
				       (i + (int)e) % 2 ? RILL_ELEMENT_BUILDING : RILL_ELEMENT_CACHED);
		}
		status_message(w, RILL_MSG_LOG, RILL_STATUS_NONE, RILL_STATUS_NONE, NULL, -1, key, NULL);
		commit(w);
	}
}

static void status_dead_reader_growth(void)
{
	char *dir = table_dir("growth"), *data = xasprintf("%s/data.mdb", dir);
	int fds[2];
	struct status_writer *w = writer_open(dir, 90);
	CHECK(w != NULL && pipe(fds) == 0);
	if (!w)
		goto out;
	for (uint32_t e = 0; e < 50; e++) {
		char name[32];
		snprintf(name, sizeof(name), "e%u.bst", e);
		status_element(w, e, name, "k", RILL_ELEMENT_WAITING);
	}
	CHECK(commit(w) == 0);
	commits_of_changing_data(w, 200, 0);    /* settle the file size */

	struct stuck_ctx c = {dir, fds[1]};
	pid_t pid = child_run(stuck_reader, &c);
	CHECK(hear(fds[0]) == 0);               /* the child is inside its read txn */
	kill(pid, SIGKILL);
	CHECK(child_wait(pid) == 128 + SIGKILL);

	off_t before = file_size(data);
	commits_of_changing_data(w, 2000, 1);
	off_t after = file_size(data);
	printf("  data.mdb: %lld bytes before, %lld after 2000 commits with a dead reader's slot\n",
	       (long long)before, (long long)after);
	/* Pinned, each commit would add ~6 pages (~50 MB in all); cleared, growth stops within ~1 MiB. */
	CHECK(before > 0 && after - before < 4 * 1024 * 1024);
	status_close(w);
	close(fds[0]);
	close(fds[1]);
out:
	free(data);
	free(dir);
}

/* ---- Schema version ------------------------------------------------------------------------- */

/* Rewrite every copy of the schema record in data.mdb to claim another version (as a future rill
 * would have written it). LMDB keeps no checksums, so patching bytes in place is enough. */
static int patch_schema_version(const char *data, uint32_t version)
{
	struct buf b = BUF_INIT;
	struct error err = ERROR_INIT;
	int found = 0;
	if (read_file(data, &b, &err) == 0) {
		struct rill_status_rec_schema sch = {RILL_STATUS_SCHEMA_VERSION, sizeof(sch),
						     RILL_STATUS_MAGIC, 0};
		int fd = open(data, O_WRONLY);
		for (size_t i = 0; fd >= 0 && i + 12 <= b.len; i++) {
			if (memcmp(b.data + i, &sch, 12) == 0) {
				if (pwrite(fd, &version, 4, (off_t)i) == 4)
					found++;
			}
		}
		if (fd >= 0)
			close(fd);
	}
	error_release(&err);
	buf_release(&b);
	return found;
}

static void status_schema_mismatch(void)
{
	char *dir = table_dir("schema"), *data = xasprintf("%s/data.mdb", dir);
	char err[512] = "";
	struct status_writer *w = writer_open(dir, 91);
	CHECK(w != NULL);
	if (!w)
		goto out;
	status_close(w);
	CHECK(patch_schema_version(data, 99) >= 1);
	struct rill_status *r = rill_status_open(dir, err, sizeof(err));
	CHECK(r == NULL);
	CHECK(strstr(err, "schema version 99") != NULL);
	{
		char want[64];
		snprintf(want, sizeof(want), "understands version %d", RILL_STATUS_SCHEMA_VERSION);
		CHECK(strstr(err, want) != NULL);
	}
	rill_status_close(r);

	/* A backend of this version rewrites the table; readers accept it again. */
	w = writer_open(dir, 92);
	CHECK(w != NULL);
	if (!w)
		goto out;
	status_close(w);
	r = rill_status_open(dir, err, sizeof(err));
	CHECK(r != NULL);
	struct rill_status_session ses;
	CHECK(r && rill_status_session(r, &ses) == 0 && ses.session_id == 92 && ses.last_seq == 0);
	rill_status_close(r);
out:
	free(data);
	free(dir);
}

int main(void)
{
	struct error err = ERROR_INIT;
	snprintf(tmp_root, sizeof(tmp_root), "/tmp/rill-test-status-XXXXXX");
	if (!mkdtemp(tmp_root))
		return 1;
	RUN(status_names);
	RUN(status_dir_location);
	RUN(status_no_table);
	RUN(status_updates_after_commit);
	RUN(status_message_ring);
	RUN(status_jobs_bounded);
	RUN(status_second_writer_refused);
	RUN(status_liveness);
	RUN(status_dead_reader_growth);
	RUN(status_schema_mismatch);
	os_rm_rf(tmp_root, &err);
	error_release(&err);
	TEST_MAIN_END();
}
