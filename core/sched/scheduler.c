/* scheduler — the backend's event loop: queues, job processes, pipes, signals and the status
 * table. Single-threaded: poll() on the job pipes and a self-pipe the signal handlers write to.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sched/scheduler.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/osutil.h"
#include "build/build.h"
#include "build/job.h"
#include "graph/element.h"
#include "graph/keys.h"
#include "graph/plugin.h"
#include "graph/refs.h"
#include "graph/workspaces.h"

enum queue_id { Q_TRACK, Q_PULL, Q_FETCH, Q_BUILD, Q_PUSH, NQUEUES };

struct sched;
static void expire(struct sched *s, int now);

/* At most one status table commit per this interval (the table is written once per tick). */
#define COMMIT_INTERVAL_NS 10000000LL

static const char *const q_action[NQUEUES] = {"track", "pull", "fetch", "build", "push"};
static const char *const q_complete[NQUEUES] = {"Tracked", "Pulled", "Fetched", "Built", "Pushed"};

/* A pull or push job that had nothing to move (not on any remote; already on every one) */
#define EXIT_SKIPPED 2

enum task_state { T_QUEUED, T_RUNNING, T_DONE, T_FAILED };

struct task {
	struct element *e;
	uint32_t id;
	int queue;                      /* current queue, NQUEUES when through all of them */
	enum task_state state;
	int cached;                     /* artifact in the cache */
	int tries;                      /* attempts of the current queue's job */
	unsigned ready_gen;             /* run_ready() memo */
	int ready;
	char **refs;                    /* tracked refs by source index */
};

struct job {
	uint32_t id;
	struct task *t;
	int queue;
	pid_t pid;
	int fd;                         /* read end of the report pipe, -1 at EOF */
	struct buf in;
	char *log_path;
	char *error;                    /* the job's error text (ERR line) */
	int64_t start_mono;             /* moved forward by pauses, so elapsed times leave them out */
	off_t log_seen;
	int exited, status;
};

struct sched {
	struct project *p;
	struct cas *cas;
	struct status_writer *w;
	const struct sched_params *sp;
	struct task *tasks;
	size_t ntasks;
	struct job **jobs;              /* running */
	size_t njobs, jobs_cap;
	uint32_t next_job;
	unsigned running[NQUEUES];
	unsigned processed[NQUEUES], skipped[NQUEUES], failed[NQUEUES];
	unsigned gen;
	int stop_queueing;              /* quit: finish running jobs, start no more */
	int terminating;
	uint32_t awaiting_id;           /* ASK: the failed job waiting for a decision, or NONE */
	struct task *awaiting_task;
	int suspended;
	int64_t suspend_mono;
	int64_t start_mono;
	int had_frontend;               /* an interactive frontend was connected at some point */
	unsigned nfailed;
	int64_t last_commit, last_lines;
	/* cache expiry: the plan's (key, normal name) pairs sorted by key, made on first use */
	struct planned {
		const char *key;
		char *normal;
	} *planned;
	size_t nplanned;
	int expire_due;                 /* a build finished since the last expiry */
	int64_t last_expire;
};

/* Expiry measures the whole cache: after a build, at most this often (and at the end). */
#define EXPIRE_INTERVAL_NS 2000000000LL

#define CONTROL_POLLFDS 65               /* the listener and its connections */
#define ASK_GRACE_NS 10000000000LL      /* on-error ask: wait this long for a first frontend */

static int sig_pipe[2] = {-1, -1};
static volatile sig_atomic_t got_term;

static void on_signal(int sig)
{
	int saved = errno;
	char c = (char)sig;
	if (sig != SIGCHLD)
		got_term = sig;
	if (sig_pipe[1] >= 0 && write(sig_pipe[1], &c, 1) < 0) {
		/* the pipe is full: a wakeup is pending anyway */
	}
	errno = saved;
}

static struct task *task_of(struct sched *s, const struct element *e)
{
	return e->mark && e->mark <= s->ntasks && s->tasks[e->mark - 1].e == e ? &s->tasks[e->mark - 1] : NULL;
}

static void set_state(struct sched *s, struct task *t, enum rill_element_state st)
{
	status_element(s->w, t->id, t->e->name, t->e->strict_key, st);
}

/* An element is usable in a sysroot when it and its runtime closure are cached. */
static int run_ready(struct sched *s, struct task *t)
{
	size_t i;
	if (t->ready_gen == s->gen)
		return t->ready;
	t->ready_gen = s->gen;
	t->ready = 0;
	if (!t->cached)
		return 0;
	for (i = 0; i < t->e->nrun_deps; i++) {
		struct task *d = task_of(s, t->e->run_deps[i]);
		if (!d || !run_ready(s, d))
			return 0;
	}
	t->ready = 1;
	return 1;
}

static int build_ready(struct sched *s, struct task *t)
{
	size_t i;
	for (i = 0; i < t->e->nbuild_deps; i++) {
		struct task *d = task_of(s, t->e->build_deps[i]);
		if (!d || !run_ready(s, d))
			return 0;
	}
	return 1;
}

static int queue_runs(const struct sched_params *sp, int q)
{
	switch (q) {
	case Q_TRACK: return sp->track;
	case Q_PULL: return sp->pull;
	case Q_FETCH: return sp->fetch;
	case Q_BUILD: return sp->build;
	default: return sp->push;
	}
}

static void send_queues(struct sched *s)
{
	int q;
	for (q = 0; q < NQUEUES; q++)
		if (queue_runs(s->sp, q))
			status_queue(s->w, (unsigned)q, q_action[q], q_complete[q], s->processed[q], s->skipped[q],
				     s->failed[q]);
}

/* Move t to the next queue that has something to do, skipping (and counting) the others. */
static void advance(struct sched *s, struct task *t)
{
	for (t->queue++; t->queue < NQUEUES; t->queue++) {
		int q = t->queue;
		t->tries = 0;
		if (q == Q_TRACK && s->sp->track && (!s->sp->track_mask || s->sp->track_mask[t->id])) {
			size_t i;
			int any = 0;
			for (i = 0; i < t->e->nsources; i++)
				any |= t->e->sources[i].plugin->desc->track != NULL;
			if (any) {
				set_state(s, t, RILL_ELEMENT_TRACKING);
				return;
			}
			s->skipped[q]++;
		} else if (q == Q_PULL && s->sp->pull) {
			/* a workspaced element is built from its workspace, never pulled */
			if (!t->cached && t->e->strict_key[0] && !t->e->workspace && !element_key_unstable(s->p, t->e))
				return;
			s->skipped[q]++;
		} else if (q == Q_FETCH && s->sp->fetch) {
			if ((!s->sp->build || !t->cached) && !job_sources_cached(s->p->cache_dir, t->e)) {
				set_state(s, t, RILL_ELEMENT_FETCH_NEEDED);
				return;
			}
			s->skipped[q]++;
		} else if (q == Q_BUILD && s->sp->build) {
			if (!t->cached) {
				set_state(s, t, RILL_ELEMENT_WAITING);
				return;
			}
			s->skipped[q]++;
		} else if (q == Q_PUSH && s->sp->push) {
			/* bst pushes what is cached and not tainted (built in a workspace) */
			if (t->cached && !t->e->workspace) {
				set_state(s, t, RILL_ELEMENT_CACHED);
				return;
			}
			s->skipped[q]++;
		}
	}
	t->state = T_DONE;
	set_state(s, t, t->cached ? RILL_ELEMENT_CACHED : RILL_ELEMENT_SKIPPED);
}

static char *log_path_for(struct sched *s, struct task *t, int q, pid_t pid)
{
	char *normal = cas_normal_name(t->e->name);
	char *path = xasprintf("%s/%s/%s/%.8s-%s.%ld.log", s->sp->log_dir, s->p->name, normal,
			       t->e->strict_key[0] ? t->e->strict_key : "00000000", q_action[q], (long)pid);
	free(normal);
	return path;
}

static void human_size(char *out, size_t n, unsigned long long bytes)
{
	if (bytes < 1000)
		snprintf(out, n, "%llu B", bytes);
	else if (bytes < 1000000)
		snprintf(out, n, "%.1f kB", (double)bytes / 1e3);
	else if (bytes < 1000000000)
		snprintf(out, n, "%.1f MB", (double)bytes / 1e6);
	else
		snprintf(out, n, "%.2f GB", (double)bytes / 1e9);
}

struct transfer_progress {
	struct rill_ctx *c;
	const char *verb, *arrow, *key, *url;
	unsigned long long last;
};

/* At most once a second during a transfer: a STATUS message with the bytes moved so far. */
static void transfer_progress(void *arg, const struct remote_stats *st)
{
	struct transfer_progress *tp = arg;
	unsigned long long now = (unsigned long long)os_now_mono_ns();
	char size[32];
	if (now - tp->last < 1000000000ULL)
		return;
	tp->last = now;
	human_size(size, sizeof(size), st->bytes);
	job_report(tp->c, RILL_MSG_STATUS, "%s artifact %.8s %s %s: %s in %llu blobs so far", tp->verb, tp->key,
		   tp->arrow, tp->url, size, st->blobs);
}

/* A pull job (the first remote that has the artifact) or a push job (to every remote that takes
 * pushes), with bst's messages and the bytes moved. 0, EXIT_SKIPPED, or -1 with err. */
static int transfer_job(struct sched *s, struct task *t, int q, struct rill_ctx *c, struct error *err)
{
	const char *key = t->e->strict_key;
	const struct remote_name rn = {s->p->bst_keys, t->e->project->name, t->e->local_name};
	int any = 0;
	for (size_t i = 0; i < s->sp->nremotes; i++) {
		struct remote *r = s->sp->remotes[i];
		struct remote_stats st = {0};
		struct transfer_progress tp = {c, q == Q_PULL ? "Pulling" : "Pushing", q == Q_PULL ? "<-" : "->", key,
					       remote_url(r), (unsigned long long)os_now_mono_ns()};
		char size[32];
		int rc;
		if (q == Q_PUSH && !s->sp->can_push[i])
			continue;
		st.progress = transfer_progress;
		st.progress_arg = &tp;
		rc = q == Q_PULL ? remote_pull(r, s->cas, s->p->name, t->e->name, key, &rn, &st, err)
				 : remote_push(r, s->cas, s->p->name, t->e->name, key, &rn, &st, err);
		if (rc < 0)
			return -1;
		human_size(size, sizeof(size), st.bytes);
		if (q == Q_PULL && rc) {
			job_report(c, RILL_MSG_INFO, "Pulled artifact %.8s <- %s (%llu blobs, %s)", key, remote_url(r),
				   st.blobs, size);
			return 0;
		}
		if (q == Q_PULL) {
			job_report(c, RILL_MSG_INFO, "Remote (%s) does not have %.8s cached", remote_url(r), key);
		} else if (rc) {
			job_report(c, RILL_MSG_INFO, "Pushed artifact %.8s -> %s (%llu blobs, %s; %llu already there)", key,
				   remote_url(r), st.blobs, size, st.skipped);
			any = 1;
		} else {
			job_report(c, RILL_MSG_INFO, "Remote (%s) already has %.8s cached", remote_url(r), key);
		}
	}
	return q == Q_PUSH && any ? 0 : EXIT_SKIPPED;
}

/* The job process: never returns. Exit 0 ok, 1 failed (retryable for network queues). */
static void job_main(struct sched *s, struct task *t, int q, int report_fd)
{
	struct error err = ERROR_INIT;
	struct job_io io;
	struct rill_ctx c;
	char *path = log_path_for(s, t, q, getpid()), *dir = xstrdup(path);
	int log_fd, rc;
	sigset_t none;
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	*strrchr(dir, '/') = '\0';
	os_mkdir_p(dir, NULL);
	log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	io.log_fd = log_fd;
	io.report_fd = report_fd;
	io.cache_dir = s->p->cache_dir;
	job_ctx_init(&c, s->p, t->e, &io, &err);
	if (q == Q_TRACK)
		rc = job_track(s->p, t->e, &io, &err);
	else if (q == Q_PULL || q == Q_PUSH)
		rc = transfer_job(s, t, q, &c, &err);
	else if (q == Q_FETCH)
		rc = job_fetch(s->p, t->e, &io, &err);
	else
		rc = build_element(s->p, t->e, s->cas, &io, path, &err);
	if (rc) {
		struct buf line = BUF_INIT;
		const char *m = err.msg ? err.msg : "failed";
		job_report(&c, RILL_MSG_LOG, "%s", m);
		buf_adds(&line, "ERR\t");
		for (; *m; m++) {
			if (*m == '\n')
				buf_adds(&line, "\\n");
			else if (*m == '\\')
				buf_adds(&line, "\\\\");
			else
				buf_addch(&line, *m);
		}
		buf_addch(&line, '\n');
		os_write_all(report_fd, line.data, line.len);
		buf_release(&line);
	}
	_exit(rc == EXIT_SKIPPED ? EXIT_SKIPPED : rc ? 1 : 0);
}

static void unescape(char *s)
{
	char *o = s;
	for (; *s; s++) {
		if (*s == '\\' && s[1] == 'n') {
			*o++ = '\n';
			s++;
		} else if (*s == '\\' && s[1] == '\\') {
			*o++ = '\\';
			s++;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

static int start_job(struct sched *s, struct task *t, struct error *err)
{
	int q = t->queue, fds[2];
	struct job *j;
	pid_t pid;
	if (pipe2(fds, O_CLOEXEC))
		return error_set(err, "cannot create a pipe: %s", strerror(errno));
	if (q == Q_BUILD)
		build_prepare(s->p, t->e, s->cas);     /* the job inherits it */
	fflush(NULL);
	plugin_before_fork();
	pid = fork();
	plugin_after_fork(pid == 0);
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return error_set(err, "cannot start a job: %s", strerror(errno));
	}
	if (pid == 0) {
		setpgid(0, 0);
		close(fds[0]);
		close(sig_pipe[0]);
		close(sig_pipe[1]);
		job_main(s, t, q, fds[1]);
	}
	setpgid(pid, pid);
	close(fds[1]);
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	j = xcalloc(1, sizeof(*j));
	j->id = s->next_job++;
	j->t = t;
	j->queue = q;
	j->pid = pid;
	j->fd = fds[0];
	j->log_path = log_path_for(s, t, q, pid);
	j->start_mono = os_now_mono_ns();
	GROW(s->jobs, s->jobs_cap, s->njobs + 1);
	s->jobs[s->njobs++] = j;
	s->running[q]++;
	t->state = T_RUNNING;
	t->tries++;
	set_state(s, t, q == Q_TRACK ? RILL_ELEMENT_TRACKING : q == Q_FETCH || q == Q_PULL ? RILL_ELEMENT_FETCHING
				      : q == Q_PUSH ? RILL_ELEMENT_CACHED : RILL_ELEMENT_BUILDING);
	status_job_start(s->w, j->id, q_action[q], t->id, pid, j->log_path);
	{
		const char *rel = j->log_path + strlen(s->sp->log_dir) + 1;
		status_message(s->w, RILL_MSG_START, t->id, j->id, q_action[q], -1, rel, NULL);
	}
	return 0;
}

static unsigned limit(struct sched *s, int q)
{
	if (q == Q_BUILD)
		return s->sp->builders > 0 ? (unsigned)s->sp->builders : 1;
	if (q == Q_PUSH)
		return s->sp->pushers > 0 ? (unsigned)s->sp->pushers : 4;
	return s->sp->fetchers > 0 ? (unsigned)s->sp->fetchers : 1;
}

/* Start every job that may start now; the last queue first, so work flows to completion. */
static int schedule(struct sched *s, struct error *err)
{
	int q;
	size_t i;
	if (s->stop_queueing || s->terminating || s->awaiting_id != RILL_STATUS_NONE || s->suspended)
		return 0;
	s->gen++;
	for (q = NQUEUES - 1; q >= 0; q--) {
		for (i = 0; i < s->ntasks && s->running[q] < limit(s, q); i++) {
			struct task *t = &s->tasks[i];
			if (t->state != T_QUEUED || t->queue != q)
				continue;
			if (q == Q_BUILD && !build_ready(s, t))
				continue;
			if (q == Q_BUILD && t->queue == Q_BUILD)
				set_state(s, t, RILL_ELEMENT_BUILDABLE);
			if (start_job(s, t, err))
				return -1;
		}
	}
	return 0;
}

static void read_reports(struct sched *s, struct job *j)
{
	char tmp[4096];
	ssize_t n;
	char *nl;
	for (;;) {
		n = read(j->fd, tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0 || errno != EAGAIN) {
				close(j->fd);
				j->fd = -1;
			}
			break;
		}
		buf_add(&j->in, tmp, (size_t)n);
		if ((size_t)n < sizeof(tmp))
			break;
	}
	while (j->in.len && (nl = memchr(j->in.data, '\n', j->in.len))) {
		size_t len = (size_t)(nl - j->in.data);
		char *line = xstrndup(j->in.data, len), *tab = strchr(line, '\t');
		memmove(j->in.data, nl + 1, j->in.len - len - 1);
		j->in.len -= len + 1;
		j->in.data[j->in.len] = '\0';
		if (tab) {
			*tab = '\0';
			if (!strcmp(line, "ERR")) {
				unescape(tab + 1);
				free(j->error);
				j->error = xstrdup(tab + 1);
			} else if (!strcmp(line, "REF")) {
				char *ref = strchr(tab + 1, '\t');
				size_t idx = strtoul(tab + 1, NULL, 10);
				if (ref)
					unescape(ref + 1);
				if (ref && idx < j->t->e->nsources) {
					if (!j->t->refs)
						j->t->refs = xcalloc(j->t->e->nsources, sizeof(char *));
					free(j->t->refs[idx]);
					j->t->refs[idx] = xstrdup(ref + 1);
				}
			} else {
				int type = atoi(line);
				unescape(tab + 1);
				if (type >= RILL_MSG_DEBUG && type <= RILL_MSG_SKIPPED)
					status_message(s->w, (enum rill_message_type)type, j->t->id, j->id,
						       q_action[j->queue], -1, tab + 1, NULL);
			}
		}
		free(line);
	}
}

/* The last non-empty line of the job's log, when the log grew. */
static void update_last_line(struct sched *s, struct job *j)
{
	struct stat st;
	char tail[512];
	int fd = open(j->log_path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0 && st.st_size != j->log_seen) {
		off_t from = st.st_size > (off_t)sizeof(tail) - 1 ? st.st_size - (off_t)sizeof(tail) + 1 : 0;
		j->log_seen = st.st_size;
		n = pread(fd, tail, sizeof(tail) - 1, from);
		if (n > 0) {
			char *end, *start;
			tail[n] = '\0';
			end = tail + n;
			while (end > tail && (end[-1] == '\n' || end[-1] == '\r'))
				*--end = '\0';
			start = strrchr(tail, '\n');
			start = start ? start + 1 : tail;
			if (*start)
				status_job_output(s->w, j->id, start);
		}
	}
	close(fd);
}

/* The last lines of a log file, indented, for a failure message. */
static char *log_tail(const char *path, int lines)
{
	struct buf b = BUF_INIT, out = BUF_INIT;
	size_t i, start;
	int count = 0;
	if (read_file(path, &b, NULL)) {
		buf_release(&b);
		return NULL;
	}
	start = b.len;
	while (start > 0 && b.data[start - 1] == '\n')
		start--;
	for (i = start; i > 0; i--)
		if (b.data[i - 1] == '\n' && ++count >= lines)
			break;
	buf_add(&out, b.data + i, start - i);
	buf_release(&b);
	return buf_detach(&out);
}

static void resume_jobs(struct sched *s)
{
	size_t i;
	int64_t pause;
	if (!s->suspended)
		return;
	pause = os_now_mono_ns() - s->suspend_mono;
	for (i = 0; i < s->njobs; i++) {
		kill(-s->jobs[i]->pid, SIGCONT);
		s->jobs[i]->start_mono += pause;
	}
	s->suspended = 0;
	status_resume(s->w);
}

static void suspend_jobs(struct sched *s)
{
	size_t i;
	if (s->suspended)
		return;
	for (i = 0; i < s->njobs; i++)
		kill(-s->jobs[i]->pid, SIGSTOP);
	s->suspended = 1;
	s->suspend_mono = os_now_mono_ns();
	status_suspend(s->w);
}

static void terminate_jobs(struct sched *s)
{
	size_t i;
	for (i = 0; i < s->njobs; i++)
		kill(-s->jobs[i]->pid, SIGTERM);
	resume_jobs(s);         /* stopped processes act on SIGTERM once continued */
	s->awaiting_id = RILL_STATUS_NONE;
}

/* An element built in its workspace: its key is now that of what the build left there (the
 * job committed the artifact under it), so are those of its dependents; the workspace is
 * prepared (configure-commands do not run again) and remembers the build, as bst's does. */
static void workspace_built(struct sched *s, struct task *t)
{
	struct error err = ERROR_INIT;
	if (keys_workspace_changed(s->p, t->e, 1, &err) ||
	    workspace_put(s->p, t->e->name, t->e->workspace, 1, t->e->strict_key, &err))
		status_message(s->w, RILL_MSG_WARN, t->id, -1, "build", 0, err.msg, NULL);
	else
		t->e->workspace_prepared = 1;
	error_release(&err);
}

static void finish_job(struct sched *s, struct job *j)
{
	struct task *t = j->t;
	int q = j->queue, ok = j->exited && WIFEXITED(j->status) && WEXITSTATUS(j->status) == 0;
	int skipped = (q == Q_PULL || q == Q_PUSH) && j->exited && WIFEXITED(j->status) &&
		      WEXITSTATUS(j->status) == EXIT_SKIPPED;
	int64_t elapsed = os_now_mono_ns() - j->start_mono;
	struct error err = ERROR_INIT;
	s->running[q]--;
	update_last_line(s, j);
	if (ok && q == Q_TRACK && t->refs) {
		size_t i;
		for (i = 0; i < t->e->nsources && ok; i++) {
			char *warning = NULL;
			if (t->refs[i] && refs_write(s->p, t->e, i, t->refs[i], &warning, &err)) {
				ok = 0;
				free(j->error);
				j->error = xstrdup(err.msg);
			}
			if (warning)
				status_message(s->w, RILL_MSG_WARN, t->id, j->id, q_action[q], 0, warning, NULL);
			free(warning);
		}
	}
	if (skipped) {
		status_job_end(s->w, j->id, RILL_JOB_SKIPPED);
		status_message(s->w, RILL_MSG_SKIPPED, t->id, j->id, q_action[q], elapsed,
			       q == Q_PULL ? "Pull" : "Push", NULL);
		s->skipped[q]++;
		t->state = T_QUEUED;
		advance(s, t);
	} else if (ok) {
		status_job_end(s->w, j->id, RILL_JOB_OK);
		status_message(s->w, RILL_MSG_SUCCESS, t->id, j->id, q_action[q], elapsed,
			       q == Q_BUILD ? "Build complete" : q == Q_FETCH ? "Fetch complete"
			       : q == Q_PULL ? "Pull complete" : q == Q_PUSH ? "Push complete" : "Track complete",
			       NULL);
		s->processed[q]++;
		if (q == Q_PULL)
			t->cached = cas_has(s->cas, s->p->name, t->e->name, t->e->strict_key);
		if (q == Q_BUILD) {
			t->cached = 1;
			s->expire_due = 1;
			if (t->e->workspace)
				workspace_built(s, t);
			expire(s, 0);
		}
		t->state = T_QUEUED;
		advance(s, t);
	} else {
		const char *why = j->error ? j->error
			: WIFSIGNALED(j->status) ? "terminated by a signal" : "the job failed";
		char *tail = NULL;
		if (!s->terminating && q != Q_BUILD && t->tries <= s->sp->retries) {
			char *msg = xasprintf("Try #%d failed, retrying: %s", t->tries, why);
			status_job_end(s->w, j->id, RILL_JOB_FAILED);
			status_message(s->w, RILL_MSG_WARN, t->id, j->id, q_action[q], elapsed, msg, NULL);
			free(msg);
			t->state = T_QUEUED;
		} else {
			/* bst's --error-lines (rill passes it as RILL_ERROR_LINES): 20 by default */
			tail = log_tail(j->log_path, getenv("RILL_ERROR_LINES") && atoi(getenv("RILL_ERROR_LINES")) > 0
							     ? atoi(getenv("RILL_ERROR_LINES")) : 20);
			status_job_end(s->w, j->id, s->terminating ? RILL_JOB_TERMINATED : RILL_JOB_FAILED);
			status_message(s->w, RILL_MSG_FAILURE, t->id, j->id, q_action[q], elapsed,
				       s->terminating ? "Terminated" : why, tail);
			s->failed[q]++;
			s->nfailed++;
			t->state = T_FAILED;
			set_state(s, t, RILL_ELEMENT_FAILED);
			if (!s->terminating) {
				if (s->sp->on_error == ON_ERROR_ASK &&
				    (control_interactive(s->sp->control) || !s->had_frontend))
				{
					s->awaiting_id = j->id;
					s->awaiting_task = t;
				}
				else if (s->sp->on_error == ON_ERROR_QUIT || s->sp->on_error == ON_ERROR_ASK)
					s->stop_queueing = 1;
				else if (s->sp->on_error == ON_ERROR_TERMINATE) {
					s->terminating = 1;
					terminate_jobs(s);
				}
			}
		}
		free(tail);
	}
	error_release(&err);
	send_queues(s);
}

static void free_job(struct job *j)
{
	if (j->fd >= 0)
		close(j->fd);
	buf_release(&j->in);
	free(j->log_path);
	free(j->error);
	free(j);
}

/* Reap exited children; a job is finished once its process exited and its pipe hit EOF. */
static void reap(struct sched *s)
{
	size_t i;
	int st;
	pid_t pid;
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (i = 0; i < s->njobs; i++)
			if (s->jobs[i]->pid == pid) {
				s->jobs[i]->exited = 1;
				s->jobs[i]->status = st;
			}
	}
	for (i = 0; i < s->njobs;) {
		struct job *j = s->jobs[i];
		if (j->exited) {
			if (j->fd >= 0)
				read_reports(s, j);    /* drain what is left */
			finish_job(s, j);
			free_job(j);
			s->jobs[i] = s->jobs[--s->njobs];
		} else {
			i++;
		}
	}
}

/* ---- Control requests ------------------------------------------------------------------- */

static struct task *task_named(struct sched *s, const char *name)
{
	size_t i;
	for (i = 0; i < s->ntasks; i++)
		if (!strcmp(s->tasks[i].e->name, name))
			return &s->tasks[i];
	return NULL;
}

/* Run a failed task's job again: back in its queue, no longer counted as failed. */
static int retry_task(struct sched *s, struct task *t, struct buf *reply)
{
	int q = t->queue;
	if (t->state != T_FAILED) {
		buf_addf(reply, "error: %s has not failed", t->e->name);
		return -1;
	}
	t->state = T_QUEUED;
	t->tries = 0;
	s->failed[q]--;
	s->nfailed--;
	set_state(s, t, q == Q_TRACK ? RILL_ELEMENT_TRACKING : q == Q_FETCH ? RILL_ELEMENT_FETCH_NEEDED
		      : q == Q_PUSH ? RILL_ELEMENT_CACHED : RILL_ELEMENT_WAITING);
	send_queues(s);
	if (s->awaiting_task == t)
		s->awaiting_id = RILL_STATUS_NONE;
	s->stop_queueing = 0;
	buf_addf(reply, "ok retrying %s:%s", q_action[q], t->e->name);
	return 0;
}

static void on_request(void *ctx, const struct control_request *req, struct buf *reply)
{
	struct sched *s = ctx;
	const char *r = req->line;
	char what[600];
	if (!strcmp(r, "ping") || !strcmp(r, "interactive")) {
		buf_addf(reply, "ok %llu", (unsigned long long)status_session_id(s->w));
		return;
	}
	if (s->terminating) {
		buf_adds(reply, "error: the session is terminating");
		return;
	}
	if (!strcmp(r, "continue")) {
		if (s->awaiting_id == RILL_STATUS_NONE) {
			buf_adds(reply, "error: no failure is waiting for a decision");
			return;
		}
		s->awaiting_id = RILL_STATUS_NONE;
		snprintf(what, sizeof(what), "continue: going on with the remaining jobs");
	} else if (!strcmp(r, "quit")) {
		s->stop_queueing = 1;
		s->awaiting_id = RILL_STATUS_NONE;
		resume_jobs(s);
		snprintf(what, sizeof(what), "quit: finishing the running jobs, starting no more");
	} else if (!strcmp(r, "terminate")) {
		got_term = SIGTERM;
		snprintf(what, sizeof(what), "terminate");
	} else if (!strcmp(r, "suspend")) {
		suspend_jobs(s);
		snprintf(what, sizeof(what), "suspend: every job is stopped");
	} else if (!strcmp(r, "resume")) {
		resume_jobs(s);
		snprintf(what, sizeof(what), "resume: the jobs go on");
	} else if (!strcmp(r, "retry") || !strncmp(r, "retry ", 6)) {
		struct task *t = r[5] ? task_named(s, r + 6) : s->awaiting_task;
		if (!t) {
			buf_addf(reply, "error: %s", r[5] ? "no such element in this session" : "name the element to retry");
			return;
		}
		if (retry_task(s, t, reply))
			return;
		snprintf(what, sizeof(what), "retry %s", t->e->name);
	} else {
		buf_addf(reply, "error: unknown request '%.100s' (continue, quit, terminate, retry ELEMENT, "
			 "suspend, resume, ping)", r);
		return;
	}
	if (!reply->len)
		buf_adds(reply, "ok");
	{
		char *msg = xasprintf("Request from %s (pid %ld): %s", req->interactive ? "a frontend" : "a client",
				      (long)req->pid, what);
		status_message(s->w, RILL_MSG_INFO, RILL_STATUS_NONE, RILL_STATUS_NONE, NULL, -1, msg, NULL);
		free(msg);
	}
	status_request_done(s->w);
}

/* The control state as the table shows it. */
static void send_control(struct sched *s)
{
	static const enum rill_on_error map[] = {RILL_ON_ERROR_QUIT, RILL_ON_ERROR_CONTINUE,
						 RILL_ON_ERROR_TERMINATE, RILL_ON_ERROR_ASK};
	uint32_t flags = 0;
	unsigned fe = control_interactive(s->sp->control);
	if (fe)
		s->had_frontend = 1;
	/* the frontend that asked for ASK connects a moment after the backend starts: give it time */
	if (s->awaiting_id != RILL_STATUS_NONE && !fe && !s->terminating &&
	    (s->had_frontend || os_now_mono_ns() - s->start_mono > ASK_GRACE_NS)) {
		s->awaiting_id = RILL_STATUS_NONE;
		s->stop_queueing = 1;
		status_message(s->w, RILL_MSG_INFO, RILL_STATUS_NONE, RILL_STATUS_NONE, NULL, -1,
			       "No interactive frontend is left to decide about the failure: quitting", NULL);
	}
	if (s->stop_queueing)
		flags |= RILL_SESSION_QUITTING;
	if (s->awaiting_id != RILL_STATUS_NONE)
		flags |= RILL_SESSION_AWAITING;
	status_session_control(s->w, flags, s->awaiting_id, map[s->sp->on_error], fe);
}

static int cmp_planned(const void *a, const void *b)
{
	return strcmp(((const struct planned *)a)->key, ((const struct planned *)b)->key);
}

static void make_planned(struct sched *s)
{
	size_t i;
	s->planned = xmalloc((2 * s->ntasks + 1) * sizeof(*s->planned));
	for (i = 0; i < s->ntasks; i++) {
		struct element *e = s->tasks[i].e;
		char *nn = cas_normal_name(e->name);
		s->planned[s->nplanned++] = (struct planned){e->strict_key, nn};
		if (e->weak_key[0] && strcmp(e->weak_key, e->strict_key))
			s->planned[s->nplanned++] = (struct planned){e->weak_key, xstrdup(nn)};
	}
	qsort(s->planned, s->nplanned, sizeof(*s->planned), cmp_planned);
}

/* cas_expire's keep(): the artifacts of the plan (whichever key) are never removed. */
static int keep_planned(void *ud, const char *project, const char *normal, const char *key)
{
	struct sched *s = ud;
	size_t lo = 0, hi = s->nplanned;
	(void)project;
	while (lo < hi) {               /* the first entry with a key >= key */
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(s->planned[mid].key, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < s->nplanned && !strcmp(s->planned[lo].key, key); lo++)
		if (!strcmp(s->planned[lo].normal, normal))
			return 1;
	return 0;
}

/* Over the quota after builds: remove what the plan does not need, and say so. Measuring the
 * cache reads every object's size, so not after every build of a big plan: at most every
 * EXPIRE_INTERVAL_NS, and with now at the end of the run. */
static void expire(struct sched *s, int now)
{
	struct cas_expiry ex;
	struct error err = ERROR_INIT;
	char *msg;
	int64_t t = os_now_mono_ns();
	if (!s->sp->quota || !s->expire_due || (!now && t - s->last_expire < EXPIRE_INTERVAL_NS))
		return;
	s->expire_due = 0;
	s->last_expire = t;
	if (!s->planned)
		make_planned(s);
	if (cas_expire(s->cas, s->sp->quota, keep_planned, s, &ex, &err)) {
		status_message(s->w, RILL_MSG_WARN, RILL_STATUS_NONE, RILL_STATUS_NONE, NULL, -1,
			       "Cache expiry failed", err.msg);
		error_release(&err);
		return;
	}
	if (!ex.removed && ex.before <= s->sp->quota)
		return;
	msg = xasprintf("Cache usage %.1f MB of a %.1f MB quota: removed %zu least recently used artifacts (%.1f MB)%s",
			(double)ex.after / 1e6, (double)s->sp->quota / 1e6, ex.removed,
			(double)(ex.before - ex.after) / 1e6,
			ex.after > s->sp->quota ? "; what is left is needed by this build" : "");
	status_message(s->w, RILL_MSG_INFO, RILL_STATUS_NONE, RILL_STATUS_NONE, NULL, -1, msg, NULL);
	free(msg);
}

static int maybe_commit(struct sched *s, int force, struct error *err)
{
	int64_t now = os_now_mono_ns();
	if (!force && now - s->last_commit < COMMIT_INTERVAL_NS)
		return 0;
	s->last_commit = now;
	return status_commit(s->w, err);
}

int scheduler_run(struct project *p, struct element **plan, size_t n, struct cas *cas,
		  struct status_writer *w, const struct sched_params *sp, struct sched_result *res,
		  struct error *err)
{
	struct sched s = {0};
	struct sigaction sa;
	struct pollfd *pfds = NULL;
	size_t i, pcap = 0;
	int rc = -1, killed = 0;
	int64_t term_at = 0;
	sigset_t block, old;

	memset(res, 0, sizeof(*res));
	s.p = p;
	s.cas = cas;
	s.w = w;
	s.sp = sp;
	s.next_job = sp->first_job_id;
	s.ntasks = n;
	s.awaiting_id = RILL_STATUS_NONE;
	s.start_mono = os_now_mono_ns();
	s.tasks = xcalloc(n ? n : 1, sizeof(*s.tasks));
	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK))
		return error_set(err, "cannot create a pipe: %s", strerror(errno));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	(void)old;

	for (i = 0; i < p->nelements; i++)
		p->elements[i]->mark = 0;
	for (i = 0; i < n; i++) {
		struct task *t = &s.tasks[i];
		t->e = plan[i];
		t->id = (uint32_t)i;
		plan[i]->mark = (unsigned)i + 1;
		t->cached = plan[i]->strict_key[0] && cas_has(cas, p->name, plan[i]->name, plan[i]->strict_key);
		if (t->cached)
			cas_touch(cas, p->name, plan[i]->name, plan[i]->strict_key);      /* used now */
	}
	for (i = 0; i < n; i++) {
		struct task *t = &s.tasks[i];
		t->queue = -1;
		t->state = T_QUEUED;
		status_element(w, t->id, t->e->name, t->e->strict_key,
			       t->cached ? RILL_ELEMENT_CACHED : RILL_ELEMENT_WAITING);
		if (t->e->workspace) {
			/* every frontend shows which elements are built from a workspace */
			char *msg = xasprintf("%s is built from its workspace: %s", t->e->name, t->e->workspace);
			status_message(w, RILL_MSG_INFO, t->id, RILL_STATUS_NONE, NULL, -1, msg, NULL);
			free(msg);
		}
		advance(&s, t);
	}
	send_queues(&s);
	status_session_state(w, RILL_SESSION_RUNNING);
	if (maybe_commit(&s, 1, err))
		goto out;

	for (;;) {
		size_t np = 0, nctl;
		int timeout, queued = 0;
		if (got_term && !s.terminating) {
			s.terminating = 1;
			res->terminated = 1;
			status_message(w, RILL_MSG_INFO, RILL_STATUS_NONE, RILL_STATUS_NONE, NULL, -1,
				       "Terminating: stopping every running job", NULL);
			terminate_jobs(&s);
			term_at = os_now_mono_ns();
		}
		if (s.terminating && s.njobs && !killed && os_now_mono_ns() - term_at > 5000000000LL) {
			for (i = 0; i < s.njobs; i++)
				kill(-s.jobs[i]->pid, SIGKILL);
			killed = 1;
		}
		send_control(&s);
		if (schedule(&s, err))
			goto out;
		for (i = 0; i < s.ntasks && !queued; i++)
			queued = s.tasks[i].state == T_QUEUED;
		/* done when nothing runs, unless a decision or a resume may let queued work start */
		if (!s.njobs && s.awaiting_id == RILL_STATUS_NONE &&
		    !(s.suspended && queued && !s.stop_queueing && !s.terminating))
			break;
		GROW(pfds, pcap, s.njobs + 1 + CONTROL_POLLFDS);
		pfds[np].fd = sig_pipe[0];
		pfds[np++].events = POLLIN;
		for (i = 0; i < s.njobs; i++) {
			pfds[np].fd = s.jobs[i]->fd;   /* -1 is ignored by poll */
			pfds[np++].events = POLLIN;
		}
		nctl = control_pollfds(sp->control, pfds + np, CONTROL_POLLFDS);
		if (maybe_commit(&s, 0, err))
			goto out;
		/* buffered changes wait at most until the commit throttle lets them through */
		timeout = 100;
		if (status_pending(s.w))
			timeout = (int)((s.last_commit + COMMIT_INTERVAL_NS - os_now_mono_ns()) / 1000000) + 1;
		if (timeout < 1)
			timeout = 1;
		if (poll(pfds, np + nctl, timeout) < 0 && errno != EINTR) {
			error_set(err, "poll: %s", strerror(errno));
			goto out;
		}
		if (pfds[0].revents & POLLIN) {
			char drain[64];
			while (read(sig_pipe[0], drain, sizeof(drain)) > 0)
				;
		}
		for (i = 0; i < s.njobs; i++)
			if (s.jobs[i]->fd >= 0 && (pfds[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
				read_reports(&s, s.jobs[i]);
		control_handle(sp->control, pfds + np, nctl, on_request, &s);
		reap(&s);
		if (os_now_mono_ns() - s.last_lines > 100000000) {
			s.last_lines = os_now_mono_ns();
			for (i = 0; i < s.njobs; i++)
				update_last_line(&s, s.jobs[i]);
		}
	}
	resume_jobs(&s);
	s.awaiting_id = RILL_STATUS_NONE;
	send_control(&s);
	/* whatever is still queued could not run: a dependency failed, or we stopped */
	for (i = 0; i < s.ntasks; i++)
		if (s.tasks[i].state == T_QUEUED)
			set_state(&s, &s.tasks[i], RILL_ELEMENT_SKIPPED);
	send_queues(&s);
	expire(&s, 1);
	res->failed = s.nfailed;
	res->next_job_id = s.next_job;
	res->terminated = res->terminated || s.terminating;
	rc = maybe_commit(&s, 1, err);
out:
	for (i = 0; i < s.njobs; i++) {
		kill(-s.jobs[i]->pid, SIGKILL);
		waitpid(s.jobs[i]->pid, NULL, 0);
		free_job(s.jobs[i]);
	}
	for (i = 0; i < s.ntasks; i++) {
		size_t k;
		for (k = 0; s.tasks[i].refs && k < s.tasks[i].e->nsources; k++)
			free(s.tasks[i].refs[k]);
		free(s.tasks[i].refs);
	}
	for (i = 0; i < s.nplanned; i++)
		free(s.planned[i].normal);
	free(s.planned);
	free(s.jobs);
	free(s.tasks);
	free(pfds);
	close(sig_pipe[0]);
	close(sig_pipe[1]);
	sig_pipe[0] = sig_pipe[1] = -1;
	return rc;
}
