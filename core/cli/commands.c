/* commands — rill-backend's build, fetch, track, artifact, source and shell commands.
 * Pipeline commands write only to the status table (and a line on stderr for fatal errors,
 * which the frontend captures in the backend log); the others print their results.
 * SPDX-License-Identifier: Apache-2.0 */
#include "cli/commands.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "base/osutil.h"
#include "build/build.h"
#include "build/job.h"
#include "build/sandbox.h"
#include "cache/archive.h"
#include "cache/cas.h"
#include "cli/remotes.h"
#include "format/variables.h"
#include "graph/element.h"
#include "graph/loader.h"
#include "graph/select.h"
#include "sched/control.h"
#include "sched/scheduler.h"
#include "status/status.h"

/* The project directory as the loader finds it: dir (or the cwd) upwards to project.conf. */
static char *find_project_dir(const char *dir)
{
	char buf[4096], *s;
	struct stat st;
	if (!realpath(dir ? dir : ".", buf))
		return NULL;
	for (;;) {
		char *conf = xasprintf("%s/project.conf", buf);
		int found = stat(conf, &st) == 0;
		free(conf);
		if (found)
			return xstrdup(buf);
		s = strrchr(buf, '/');
		if (!s || s == buf)
			return NULL;
		*s = '\0';
	}
}

static int parse_count(const char *cmd, const char *opt, const char *v, int *out)
{
	char *end;
	long n = strtol(v, &end, 10);
	if (!*v || *end || n < 0 || n > 1024)
		return cli_usage_error(cmd, "Invalid value for '%s': not a valid count.", opt);
	*out = (int)n;
	return 0;
}

static const char usage_pipeline[] =
	"Usage: rill %s [OPTIONS] TARGETS...\n"
	"\n"
	"  %s\n"
	"\n"
	"Options:\n"
	"%s"
	"  --fetchers N            Maximum simultaneous fetch, track and pull jobs (default: 10)\n"
	"  --builders N            Maximum simultaneous build jobs (default: 4)\n"
	"  --pushers N             Maximum simultaneous push jobs (default: 4)\n"
	"  --network-retries N     Extra attempts of a failed fetch, track, pull or push job\n"
	"                          (default: 2)\n"
	"  --on-error [continue|quit|terminate|ask]\n"
	"                          What to do when a job fails. Default: ask (offer the choices)\n"
	"                          when the tty frontend runs on an interactive terminal, else quit\n"
	"                          (finish the running jobs and start no more)\n"
	"  --frontend [tty|plain]  How to show the build (default: tty when stderr is a terminal\n"
	"                          and TERM is not dumb, else plain)\n"
	"  --detach                Start the build in the background and return at once;\n"
	"                          'rill attach' or 'rill status' show it\n"
	"  --no-colors             No colors in the tty frontend (also: NO_COLOR set)\n"
	"  --heartbeat SECONDS     plain frontend: print a line when nothing happened for this\n"
	"                          long (default: 30; 0: never)\n"
	"  --redraw-rate N         tty frontend: at most N redraws of the status area per second\n"
	"                          (default: 10)\n"
	"  -o, --option NAME VALUE Set project option NAME to VALUE (repeatable)\n"
	"  --max-jobs N            Parallelism inside each build (the max-jobs variable)\n"
	"  --default-mirror NAME   The mirror to fetch from first (see docs/format.md, Mirrors)\n"
	"  --status-dir DIR        The status table to write (default: the project's, see\n"
	"                          docs/status-table.md)\n"
	"  -h, --help              Show this message and exit\n";

static const char usage_build_track[] =
	"  --bst-keys              BuildStream 1.6.8's cache keys and artifact names, to share\n"
	"                          artifacts with bst (also: bst-keys: true in rill.conf)\n"
	"  --track ELEMENT         Track ELEMENT and everything it depends on before building\n"
	"                          (repeatable; ELEMENT must be a target or one of their\n"
	"                          dependencies). Refs are written back (inline or to\n"
	"                          project.refs), then keys are computed and the targets built\n"
	"                          with the new refs\n"
	"  --track-all             Track every element of the pipeline before building\n"
	"  --track-except ELEMENT  Do not track ELEMENT, nor what only it depends on (repeatable;\n"
	"                          with --track or --track-all)\n"
	"  -J, --track-cross-junctions\n"
	"                          Track elements of subprojects too (their refs go to the\n"
	"                          project's project.refs; an error with inline refs). Without\n"
	"                          it they are left out\n"
	"  --track-save            Deprecated and ignored: tracked refs are always saved\n";

static const char usage_fetch_track[] =
	"  --track                 Track every element of the pipeline first, then fetch the new\n"
	"                          refs (refs are written back inline or to project.refs)\n"
	"  -J, --track-cross-junctions\n"
	"                          Track elements of subprojects too (their refs go to the\n"
	"                          project's project.refs; an error with inline refs). Without\n"
	"                          it they are left out\n";

static const char usage_transfer[] =
	"  -d, --deps [none|all]   The dependencies to transfer too (default: none)\n"
	"  -r, --remote URL        Only this remote artifact cache (pushes allowed), not the\n"
	"                          configured ones (artifacts: in project.conf and the user\n"
	"                          configuration)\n"
	"  --bst-keys              BuildStream 1.6.8's cache keys and artifact names, to share\n"
	"                          artifacts with bst (also: bst-keys: true in rill.conf)\n";

static const char usage_track_track[] =
	"  -J, --cross-junctions   Track targets in subprojects too (their refs go to the\n"
	"                          project's project.refs; an error with inline refs). Without\n"
	"                          it they are left out\n";

/* What `build --track...` and `fetch --track` ask for. */
struct track_opts {
	int any;                        /* track before fetching (fetch --track, build --track*) */
	int all;                        /* --track-all, fetch --track */
	int cross_junctions, save;
	const char **elements, **except;
	size_t nelements, nexcept, ecap, xcap;
};

/* The tracking options of build and fetch. Returns the arguments used, 0 when argv[k] is not
 * one, -1 after a usage error. */
static int track_option(const char *cmd, const char *cmdsp, struct track_opts *t, int argc, char **argv, int k)
{
	const char *a = argv[k];
	int build = !strcmp(cmd, "build"), fetch = !strcmp(cmd, "fetch"), track = !strcmp(cmd, "track");
	if (((build || fetch) && (!strcmp(a, "-J") || !strcmp(a, "--track-cross-junctions"))) ||
	    (track && (!strcmp(a, "-J") || !strcmp(a, "--cross-junctions")))) {
		t->cross_junctions = 1;
		return 1;
	}
	if (fetch && !strcmp(a, "--track")) {
		t->any = t->all = 1;
		return 1;
	}
	if (!build)
		return 0;
	if (!strcmp(a, "--track-all")) {
		t->any = t->all = 1;
		return 1;
	}
	if (!strcmp(a, "--track-save")) {
		t->save = 1;
		return 1;
	}
	if (!strcmp(a, "--track") || !strcmp(a, "--track-except")) {
		if (k + 1 >= argc)
			return cli_usage_error(cmdsp, "Option '%s' requires an argument.", a), -1;
		if (!strcmp(a, "--track")) {
			GROW(t->elements, t->ecap, t->nelements + 1);
			t->elements[t->nelements++] = argv[k + 1];
			t->any = 1;
		} else {
			GROW(t->except, t->xcap, t->nexcept + 1);
			t->except[t->nexcept++] = argv[k + 1];
		}
		return 2;
	}
	return 0;
}

/* Whether e belongs to a subproject: its sources are not tracked (as bst without -J). */
static int cross_junction(const struct element *e)
{
	return e->project && e->project->parent;
}

/* bst's _assert_junction_tracking: a subproject's refs can only be kept in the loaded
 * project's project.refs (a subproject is a staged copy of the junction's sources). */
static int check_cross_tracking(const struct project *p, const struct element *e, struct error *err)
{
	if (p->refs_in_project_refs)
		return 0;
	return error_set(err, "Untrackable sources\n\nRequested to track sources across junction boundaries\n"
			 "in a project which does not use project.refs ref-storage (%s)", e->name);
}

/* The plan positions to track (heap, n bytes), or NULL with err when a --track element is not
 * part of the pipeline. roots holds the targets, then the --track elements, then the
 * --track-except ones, as loaded. */
static unsigned char *track_mask(struct project *p, struct element **roots, size_t nt,
				 const struct track_opts *t, struct element **plan, size_t n, struct error *err)
{
	struct element **troots = t->all ? roots : roots + nt, **except = roots + nt + (t->all ? 0 : t->nelements);
	size_t ntroots = t->all ? nt : t->nelements, i;
	unsigned char *sel, *mask;
	struct element *outside = select_outside(p, roots, nt, troots, ntroots);
	if (outside) {
		error_set(err, "--track %s: Specified tracking targets that are not within the scope of "
			  "primary targets (%s is not a target nor a dependency of one)", outside->name, outside->name);
		return NULL;
	}
	sel = xcalloc(p->nelements ? p->nelements : 1, 1);
	select_track(p, troots, ntroots, except, t->nexcept, sel);
	mask = xcalloc(n ? n : 1, 1);
	for (i = 0; i < n; i++)
		mask[i] = sel[plan[i]->index] && (t->cross_junctions || !cross_junction(plan[i]));
	for (i = 0; i < n && t->cross_junctions; i++)
		if (mask[i] && cross_junction(plan[i]) && check_cross_tracking(p, plan[i], err)) {
			free(mask);
			mask = NULL;
			break;
		}
	free(sel);
	return mask;
}

/* What the status table gets once loading succeeded: the load's warnings. */
static void send_warnings(struct status_writer *w, const struct project *p)
{
	size_t i;
	for (i = 0; p->warnings && i < p->warnings->u.list.n; i++)
		status_message(w, RILL_MSG_WARN, RILL_STATUS_NONE, RILL_STATUS_NONE, NULL, -1,
			       node_str(p->warnings->u.list.items[i]), NULL);
}

/* bst's cache quota: bytes with an optional K, M, G or T (powers of 1024), or a percentage of
 * the size of the filesystem holding the cache. */
static int parse_quota(const char *text, const char *dir, unsigned long long *out, struct error *err)
{
	char *end;
	double v = strtod(text, &end);
	static const char units[] = "KMGT";
	const char *u;
	if (end == text || v < 0)
		return error_set(err, "user configuration: cache quota '%s' is not a size (e.g. 10G or 50%%)", text);
	if (*end == '%' && !end[1]) {
		struct statvfs fs;
		if (statvfs(dir, &fs) != 0)
			return error_set(err, "cannot measure the filesystem of '%s': %s", dir, strerror(errno));
		*out = (unsigned long long)(v / 100 * (double)fs.f_blocks * (double)fs.f_frsize);
		return 0;
	}
	if (*end && ((u = strchr(units, *end)) == NULL || end[1]))
		return error_set(err, "user configuration: cache quota '%s' is not a size (e.g. 10G or 50%%)", text);
	if (*end)
		for (long k = 0; k <= u - units; k++)
			v *= 1024;
	*out = (unsigned long long)v;
	return 0;
}

int cmd_pipeline(struct cli *c, int argc, char **argv)
{
	const char *cmd = argv[0], *status_dir = NULL;
	char cmdsp[16], dirbuf[4096], *pdir = NULL, *cachedir = NULL, *logdir = NULL, *artdir = NULL;
	const char **targets = NULL, **load_names = NULL;
	size_t nt = 0, tcap = 0, n = 0, nload = 0, i;
	struct sched_params sp = {0};
	struct sched_result res;
	struct status_session_info info = {0};
	struct status_writer *w = NULL;
	struct control *ctl = NULL;
	struct project *p = NULL;
	struct element **roots = NULL, **plan = NULL;
	struct cas *cas = NULL;
	struct error err = ERROR_INIT;
	struct buf tbuf = BUF_INIT;
	struct track_opts topt = {0};
	unsigned char *mask = NULL;
	int k, rc = 1, transfer = !strcmp(cmd, "pull") || !strcmp(cmd, "push");
	const char *remote_url = NULL, *deps = "none";
	struct remote_spec *specs = NULL;
	struct remote **remotes = NULL;
	int *can_push = NULL;
	size_t nspecs = 0, nremotes = 0;

	snprintf(cmdsp, sizeof(cmdsp), "%s ", cmd);
	sp.fetchers = 10;
	sp.builders = 4;
	sp.pushers = 4;
	sp.retries = 2;
	sp.on_error = ON_ERROR_QUIT;
	for (k = 1; k < argc; k++) {
		const char *a = argv[k];
		int used;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			printf(usage_pipeline, cmd,
			       !strcmp(cmd, "build") ? "Build the targets and everything they need: pull what a remote artifact cache\n  has, fetch the sources of the rest, build each element in a sandbox, and push\n  the results to the remotes that take pushes."
			       : !strcmp(cmd, "fetch") ? "Fetch the sources of the targets and their dependencies."
			       : !strcmp(cmd, "pull") ? "Pull the targets' artifacts from the remote artifact caches (the first that\n  has each), as bst pull."
			       : !strcmp(cmd, "push") ? "Push the targets' artifacts to the remote artifact caches that take pushes,\n  as bst push (what a remote already has is skipped)."
						       : "Track new source references for the targets and write them back\n  (inline, or to project.refs and junction.refs).",
			       !strcmp(cmd, "build") ? usage_build_track : !strcmp(cmd, "fetch") ? usage_fetch_track
			       : transfer ? usage_transfer : usage_track_track);
			rc = 0;
			goto out;
		}
		used = cli_common_option(c, argc, argv, k, cmdsp);
		if (!used)
			used = track_option(cmd, cmdsp, &topt, argc, argv, k);
		if (used < 0) {
			rc = 2;
			goto out;
		}
		if (used) {
			k += used - 1;
			continue;
		}
		if (transfer && (!strcmp(a, "--remote") || !strcmp(a, "-r") || !strcmp(a, "--deps") || !strcmp(a, "-d"))) {
			if (k + 1 >= argc) {
				rc = cli_usage_error(cmdsp, "Option '%s' requires an argument.", a);
				goto out;
			}
			if (a[1] == 'r' || !strcmp(a, "--remote")) {
				remote_url = argv[++k];
			} else {
				deps = argv[++k];
				if (strcmp(deps, "none") && strcmp(deps, "all")) {
					rc = cli_usage_error(cmdsp, "Invalid value for '--deps': '%s' is not one of 'none', 'all'.", deps);
					goto out;
				}
			}
			continue;
		}
		if (!strcmp(a, "--pushers")) {
			if (k + 1 >= argc) {
				rc = cli_usage_error(cmdsp, "Option '%s' requires an argument.", a);
				goto out;
			}
			if (parse_count(cmdsp, a, argv[++k], &sp.pushers)) {
				rc = 2;
				goto out;
			}
			continue;
		}
		if (!strcmp(a, "--fetchers") || !strcmp(a, "--builders") || !strcmp(a, "--network-retries") ||
		    !strcmp(a, "--on-error") || !strcmp(a, "--status-dir") || !strcmp(a, "--session")) {
			const char *v;
			if (k + 1 >= argc) {
				rc = cli_usage_error(cmdsp, "Option '%s' requires an argument.", a);
				goto out;
			}
			v = argv[++k];
			if (!strcmp(a, "--fetchers") ? parse_count(cmdsp, a, v, &sp.fetchers)
			    : !strcmp(a, "--builders") ? parse_count(cmdsp, a, v, &sp.builders)
			    : !strcmp(a, "--network-retries") ? parse_count(cmdsp, a, v, &sp.retries) : 0) {
				rc = 2;
				goto out;
			}
			if (!strcmp(a, "--on-error")) {
				if (!strcmp(v, "continue"))
					sp.on_error = ON_ERROR_CONTINUE;
				else if (!strcmp(v, "quit"))
					sp.on_error = ON_ERROR_QUIT;
				else if (!strcmp(v, "terminate"))
					sp.on_error = ON_ERROR_TERMINATE;
				else if (!strcmp(v, "ask"))
					sp.on_error = ON_ERROR_ASK;
				else {
					rc = cli_usage_error(cmdsp, "Invalid value for '--on-error': '%s' is not one of 'continue', 'quit', 'terminate', 'ask'.", v);
					goto out;
				}
			} else if (!strcmp(a, "--status-dir")) {
				status_dir = v;
			} else if (!strcmp(a, "--session")) {
				info.session_id = strtoull(v, NULL, 16);
			}
			continue;
		}
		if (a[0] == '-' && a[1]) {
			rc = cli_usage_error(cmdsp, "No such option: %s", a);
			goto out;
		}
		GROW(targets, tcap, nt + 1);
		targets[nt++] = a;
	}
	if (!nt) {
		rc = cli_usage_error(cmdsp, "%s", "Missing argument 'TARGETS...': name at least one element.");
		goto out;
	}
	if (sp.fetchers == 0 || sp.builders == 0) {
		rc = cli_usage_error(cmdsp, "%s", "--fetchers and --builders must be at least 1.");
		goto out;
	}
	if ((topt.nexcept || topt.cross_junctions) && !topt.any && strcmp(cmd, "track") != 0) {
		rc = cli_usage_error(cmdsp, "%s", !strcmp(cmd, "fetch")
				     ? "The --track-cross-junctions option can only be used with --track"
				     : "The --track-except and --track-cross-junctions options can only be used with --track or --track-all");
		goto out;
	}
	pdir = find_project_dir(c->directory);
	if (!pdir) {
		fprintf(stderr, "rill: no project.conf found in '%s' or any directory above it\n",
			c->directory ? c->directory : ".");
		goto out;
	}
	if (!status_dir) {
		if (rill_status_dir(pdir, dirbuf, sizeof(dirbuf))) {
			fprintf(stderr, "rill: cannot derive the status table directory: %s\n", strerror(errno));
			goto out;
		}
		status_dir = dirbuf;
	}
	for (i = 0; i < nt; i++) {
		if (i)
			buf_addch(&tbuf, ' ');
		buf_adds(&tbuf, targets[i]);
	}
	info.command = cmd;
	info.project = "";
	info.project_dir = pdir;
	info.targets = buf_str(&tbuf);
	w = status_open(status_dir, &info, &err);
	if (!w)
		goto fail;
	ctl = control_open(status_dir, &err);
	if (!ctl)
		goto fail;
	sp.control = ctl;
	status_session_state(w, RILL_SESSION_LOADING);
	if (topt.save)
		status_message(w, RILL_MSG_WARN, RILL_STATUS_NONE, RILL_STATUS_NONE, NULL, -1,
			       "--track-save is deprecated, saving is now unconditional", NULL);
	if (status_commit(w, &err))
		goto fail;
	/* the targets, then the elements named by --track and --track-except */
	load_names = xmalloc((nt + topt.nelements + topt.nexcept) * sizeof(*load_names));
	memcpy(load_names, targets, nt * sizeof(*targets));
	nload = nt;
	if (!topt.all)
		for (i = 0; i < topt.nelements; i++)
			load_names[nload++] = topt.elements[i];
	for (i = 0; i < topt.nexcept; i++)
		load_names[nload++] = topt.except[i];
	c->fetch_subprojects = 1;
	p = cli_load(c, load_names, nload, &roots, &err);
	if (!p)
		goto fail;
	status_session_project(w, p->name);
	send_warnings(w, p);
	if (!strcmp(cmd, "track")) {
		plan = xmalloc(nt * sizeof(*plan));
		/* elements of subprojects are left out, as bst does without --cross-junctions */
		for (i = n = 0; i < nt; i++)
			if (!cross_junction(roots[i]))
				plan[n++] = roots[i];
			else if (topt.cross_junctions) {
				if (check_cross_tracking(p, roots[i], &err))
					goto fail;
				plan[n++] = roots[i];
			}
		sp.track = 1;
	} else if (transfer) {
		size_t cap = 0;
		loader_walk(p, roots, nt, !strcmp(deps, "all") ? SCOPE_ALL : SCOPE_NONE, &plan, &n, &cap);
		sp.pull = !strcmp(cmd, "pull");
		sp.push = !sp.pull;
	} else {
		select_plan(p, roots, nt, &plan, &n);
		sp.fetch = 1;
		sp.build = !strcmp(cmd, "build");
		if (topt.any && !(mask = track_mask(p, roots, nt, &topt, plan, n, &err)))
			goto fail;
	}
	if (sp.build && sandbox_check(&err))
		goto fail;
	cachedir = os_cache_dir();
	/* the cache's own subtrees (artifacts, logs, build directories) away from whatever else
	 * churns the parent's block group: see os_spread_subdirs() */
	if (os_mkdir_p(cachedir, &err))
		goto fail;
	os_spread_subdirs(cachedir);
	logdir = xasprintf("%s/logs", cachedir);
	artdir = xasprintf("%s/artifacts", cachedir);
	sp.log_dir = logdir;
	cas = cas_open(artdir, &err);
	if (!cas)
		goto fail;
	if (p->cache_quota && parse_quota(p->cache_quota, artdir, &sp.quota, &err))
		goto fail;
	/* the remote artifact caches: each asked once what it offers; one that cannot be reached
	 * is left out, one that refuses pushes is still pulled from (both said once) */
	if (transfer || sp.build) {
		size_t npush = 0;
		if (remotes_configure(p, remote_url, &specs, &nspecs, &err))
			goto fail;
		remotes = xcalloc(nspecs ? nspecs : 1, sizeof(*remotes));
		can_push = xcalloc(nspecs ? nspecs : 1, sizeof(*can_push));
		for (i = 0; i < nspecs; i++) {
			struct remote *r = remote_open(&specs[i], &err);
			int allow = 0;
			if (!r || remote_init(r, &allow, &err)) {
				char *msg = xasprintf("Failed to initialize remote %s: %s", specs[i].url, err.msg);
				status_message(w, RILL_MSG_WARN, RILL_STATUS_NONE, RILL_STATUS_NONE, NULL, -1, msg, NULL);
				free(msg);
				error_release(&err);
				remote_close(r);
				continue;
			}
			if (specs[i].push && !allow) {
				char *msg = xasprintf("Remote %s does not allow push: artifacts are pulled from it, not pushed", specs[i].url);
				status_message(w, RILL_MSG_WARN, RILL_STATUS_NONE, RILL_STATUS_NONE, NULL, -1, msg, NULL);
				free(msg);
			}
			can_push[nremotes] = allow;
			npush += allow != 0;
			remotes[nremotes++] = r;
		}
		if (!strcmp(cmd, "pull") && !nremotes) {
			error_set(&err, "No artifact caches available for pulling artifacts");
			goto fail;
		}
		if (!strcmp(cmd, "push") && !npush) {
			error_set(&err, "No artifact caches available for pushing artifacts");
			goto fail;
		}
		if (sp.build) {
			sp.pull = nremotes > 0;
			sp.push = npush > 0;
		}
		sp.remotes = remotes;
		sp.can_push = can_push;
		sp.nremotes = nremotes;
		if (status_commit(w, &err))
			goto fail;
	}
	if (mask) {
		/* track first; keys depend on refs, so the project is loaded again with the new ones
		 * before anything is fetched or built (the plan, and so element ids, stay the same) */
		struct sched_params tp = sp;
		tp.track = 1;
		tp.fetch = tp.build = 0;
		tp.track_mask = mask;
		if (scheduler_run(p, plan, n, cas, w, &tp, &res, &err))
			goto fail;
		/* bst never fetches or builds an element whose tracking failed (nor what depends
		 * on it); rill builds nothing then (with --on-error continue, the other elements are
		 * still tracked) */
		if (res.terminated || res.failed)
			goto done;
		sp.first_job_id = res.next_job_id;
		status_session_state(w, RILL_SESSION_LOADING);
		if (status_commit(w, &err))
			goto fail;
		project_free(p);
		free(roots);
		free(plan);
		roots = plan = NULL;
		p = cli_load(c, targets, nt, &roots, &err);
		if (!p)
			goto fail;
		select_plan(p, roots, nt, &plan, &n);
	}
	if (scheduler_run(p, plan, n, cas, w, &sp, &res, &err))
		goto fail;
done:
	if (res.terminated) {
		status_session_state(w, RILL_SESSION_TERMINATED);
		rc = 1;
	} else if (res.failed) {
		status_session_state(w, RILL_SESSION_FAILED);
		rc = 1;
	} else {
		status_session_state(w, RILL_SESSION_SUCCESS);
		rc = 0;
	}
	goto out;
fail:
	fprintf(stderr, "rill: %s\n", err.msg ? err.msg : "unknown error");
	if (w) {
		status_session_error(w, err.msg ? err.msg : "unknown error");
		status_session_state(w, RILL_SESSION_FAILED);
	}
	rc = 1;
out:
	for (i = 0; i < nremotes; i++)
		remote_close(remotes[i]);
	free(remotes);
	free(can_push);
	remotes_free(specs, nspecs);
	control_close(ctl);
	if (w)
		status_close(w);
	if (cas)
		cas_close(cas);
	project_free(p);
	buf_release(&tbuf);
	error_release(&err);
	free(targets);
	free(load_names);
	free(topt.elements);
	free(topt.except);
	free(mask);
	free(roots);
	free(plan);
	free(pdir);
	free(cachedir);
	free(logdir);
	free(artdir);
	return rc;
}

/* Commands on one element ----------------------------------------------------------------- */

int load_one(struct cli *c, const char *target, struct one *o, struct error *err)
{
	char *cache, *art;
	memset(o, 0, sizeof(*o));
	c->fetch_subprojects = 1;
	o->p = cli_load(c, &target, 1, &o->roots, err);
	if (!o->p)
		return -1;
	o->e = o->roots[0];
	cache = os_cache_dir();
	art = xasprintf("%s/artifacts", cache);
	o->cas = cas_open(art, err);
	free(cache);
	free(art);
	return o->cas ? 0 : -1;
}

void one_release(struct one *o)
{
	if (o->cas)
		cas_close(o->cas);
	project_free(o->p);
	free(o->roots);
}

static int print_entry(void *ud, const struct cas_entry *e)
{
	(void)ud;
	if (e->type == CAS_SYMLINK)
		printf("%s -> %s\n", e->path, e->target);
	else
		printf("%s%s\n", e->path, e->type == CAS_DIR ? "/" : "");
	return 0;
}

static void print_report(void *ud, const char *msg)
{
	(void)ud;
	printf("%s\n", msg);
}

static const char usage_artifact[] =
	"Usage: rill artifact COMMAND [OPTIONS] ELEMENT\n"
	"\n"
	"Commands:\n"
	"  checkout [--deps none|run] [--hardlinks] [--directory DIR | --tar FILE] ELEMENT\n"
	"                  Check out the files of an artifact (and by default its runtime\n"
	"                  dependencies) into DIR (default: the element's name), or a tar file\n"
	"                  ('-' for stdout). --hardlinks links to the cache's read-only files.\n"
	"  log ELEMENT     Print the build log stored with the artifact\n"
	"  list-contents ELEMENT\n"
	"                  List the files of the artifact\n"
	"  fsck [--repair] Verify every artifact against its recorded digests; --repair removes\n"
	"                  broken artifacts so they are rebuilt\n"
	"  delete ELEMENT...\n"
	"                  Remove the artifacts of the elements (under their current keys) and\n"
	"                  the files nothing else in the cache uses\n";

static int artifact_checkout(struct one *o, int deps, int hardlinks, const char *dir, const char *tar,
			     struct error *err)
{
	struct element **list = NULL;
	size_t n = 0, cap = 0, i;
	char *dest = NULL, *tmpdir = NULL;
	int rc = -1;
	struct stat st;
	if (tar) {
		if (!(tmpdir = cli_scratch_dir("checkout", err)))
			goto out;
		dest = xstrdup(tmpdir);
		hardlinks = 1;
	} else {
		dest = xstrdup(dir);
		if (stat(dest, &st) == 0) {
			error_set(err, "checkout directory '%s' already exists: choose another with --directory", dest);
			goto out;
		}
		if (os_mkdir_p(dest, err))
			goto out;
	}
	loader_walk(o->p, &o->e, 1, deps ? SCOPE_RUN : SCOPE_NONE, &list, &n, &cap);
	for (i = 0; i < n; i++) {
		struct cas_artifact *a;
		if (cas_artifact_open(o->cas, o->p->name, list[i]->name, list[i]->strict_key, &a, err)) {
			error_prefix(err, "%s is not built: run 'rill build %s'", list[i]->name, o->e->name);
			goto out;
		}
		rc = cas_artifact_stage(o->cas, a, dest, hardlinks, NULL, NULL, NULL, err);
		cas_artifact_free(a);
		if (rc)
			goto out;
		rc = -1;
	}
	if (tar && archive_write_tar(dest, tar, err))
		goto out;
	rc = 0;
out:
	if (rc && !tar && dest)
		os_rm_rf(dest, NULL);
	if (tmpdir)
		os_rm_rf(tmpdir, NULL);
	free(tmpdir);
	free(dest);
	free(list);
	return rc;
}

/* `rill artifact delete ELEMENT...`: the artifacts of the elements under their current keys
 * (strong and weak refs) leave the cache; the objects nothing else uses are removed. */
static int artifact_delete(struct cli *c, int argc, char **argv)
{
	const char **targets = NULL;
	size_t nt = 0, cap = 0, i;
	struct element **roots = NULL;
	struct project *p = NULL;
	struct cas *cas = NULL;
	struct error err = ERROR_INIT;
	char *cache = NULL, *art = NULL;
	unsigned long long freed = 0;
	int k, rc = 1, missing = 0;
	for (k = 1; k < argc; k++) {
		int used = cli_common_option(c, argc, argv, k, "artifact delete ");
		if (used < 0)
			return 2;
		if (used) {
			k += used - 1;
			continue;
		}
		if (argv[k][0] == '-')
			return cli_usage_error("artifact delete ", "No such option: %s", argv[k]);
		GROW(targets, cap, nt + 1);
		targets[nt++] = argv[k];
	}
	if (!nt)
		return cli_usage_error("artifact delete ", "%s", "Missing argument 'ELEMENTS...'.");
	if (!(p = cli_load(c, targets, nt, &roots, &err)))
		goto fail;
	cache = os_cache_dir();
	art = xasprintf("%s/artifacts", cache);
	if (!(cas = cas_open(art, &err)))
		goto fail;
	for (i = 0; i < nt; i++) {
		struct element *e = roots[i];
		int r1 = cas_delete_ref(cas, p->name, e->name, e->strict_key, &err), r2 = 0;
		if (r1 < 0 || (e->weak_key[0] && strcmp(e->weak_key, e->strict_key) &&
			       (r2 = cas_delete_ref(cas, p->name, e->name, e->weak_key, &err)) < 0))
			goto fail;
		if (r1 == 1 && (r2 == 1 || !e->weak_key[0] || !strcmp(e->weak_key, e->strict_key))) {
			fprintf(stderr, "rill: %s: no artifact with key %s in the cache\n", e->name, e->strict_key);
			missing = 1;
		} else {
			fprintf(stderr, "Removed the artifact of %s (%.8s)\n", e->name, e->strict_key);
		}
	}
	if (cas_prune(cas, &freed, &err))
		goto fail;
	fprintf(stderr, "Freed %.1f MB\n", (double)freed / 1e6);
	rc = missing;
	goto out;
fail:
	fprintf(stderr, "rill: %s\n", err.msg ? err.msg : "artifact delete failed");
	rc = 1;
out:
	error_release(&err);
	cas_close(cas);
	project_free(p);
	free(roots);
	free(targets);
	free(cache);
	free(art);
	return rc;
}

int cmd_artifact(struct cli *c, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL, *target = NULL, *dir = NULL, *tar = NULL;
	struct error err = ERROR_INIT;
	struct one o = {0};
	int k, rc = 1, hardlinks = 0, deps = 1, repair = 0;
	if (!sub || !strcmp(sub, "-h") || !strcmp(sub, "--help")) {
		fputs(usage_artifact, sub ? stdout : stderr);
		return sub ? 0 : 2;
	}
	if (!strcmp(sub, "delete"))
		return artifact_delete(c, argc - 1, argv + 1);
	if (strcmp(sub, "checkout") && strcmp(sub, "log") && strcmp(sub, "list-contents") && strcmp(sub, "fsck"))
		return cli_usage_error("artifact ", "No such command '%s'.", sub);
	for (k = 2; k < argc; k++) {
		const char *a = argv[k];
		/* checkout's --directory is the destination, not the project (-C) */
		int used = !strcmp(sub, "checkout") && !strcmp(a, "--directory") ? 0
			   : cli_common_option(c, argc, argv, k, "artifact ");
		if (used < 0)
			return 2;
		if (used) {
			k += used - 1;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage_artifact, stdout);
			return 0;
		} else if (!strcmp(sub, "checkout") && !strcmp(a, "--hardlinks")) {
			hardlinks = 1;
		} else if (!strcmp(sub, "fsck") && !strcmp(a, "--repair")) {
			repair = 1;
		} else if (!strcmp(sub, "checkout") && (!strcmp(a, "--directory") || !strcmp(a, "--tar") ||
							!strcmp(a, "--deps"))) {
			if (k + 1 >= argc)
				return cli_usage_error("artifact ", "Option '%s' requires an argument.", a);
			if (!strcmp(a, "--directory"))
				dir = argv[++k];
			else if (!strcmp(a, "--tar"))
				tar = argv[++k];
			else if (!strcmp(argv[++k], "none"))
				deps = 0;
			else if (strcmp(argv[k], "run"))
				return cli_usage_error("artifact ", "Invalid value for '--deps': '%s' is not one of 'none', 'run'.", argv[k]);
		} else if (a[0] == '-' && a[1]) {
			return cli_usage_error("artifact ", "No such option: %s", a);
		} else if (target) {
			return cli_usage_error("artifact ", "Got unexpected extra argument (%s)", a);
		} else {
			target = a;
		}
	}
	if (dir && tar)
		return cli_usage_error("artifact ", "%s", "--directory and --tar cannot be used together.");
	if (!strcmp(sub, "fsck")) {
		char *cache = os_cache_dir(), *art = xasprintf("%s/artifacts", cache);
		struct cas *cas = cas_open(art, &err);
		int broken = cas ? cas_fsck(cas, repair, print_report, NULL, &err) : -1;
		free(cache);
		free(art);
		if (cas)
			cas_close(cas);
		if (broken < 0)
			goto fail;
		printf("%d broken artifact%s%s\n", broken, broken == 1 ? "" : "s",
		       broken && repair ? " removed" : "");
		error_release(&err);
		return broken && !repair ? 1 : 0;
	}
	if (!target)
		return cli_usage_error("artifact ", "%s", "Missing argument 'ELEMENT'.");
	if (load_one(c, target, &o, &err))
		goto fail;
	if (!strcmp(sub, "checkout")) {
		char *normal = NULL;
		if (!dir && !tar)
			dir = normal = cas_normal_name(o.e->name);
		rc = artifact_checkout(&o, deps, hardlinks, dir, tar, &err);
		free(normal);
		if (rc)
			goto fail;
	} else {
		struct cas_artifact *a;
		if (cas_artifact_open(o.cas, o.p->name, o.e->name, o.e->strict_key, &a, &err)) {
			error_prefix(&err, "%s is not built: run 'rill build %s'", o.e->name, o.e->name);
			goto fail;
		}
		if (!strcmp(sub, "log")) {
			struct buf b = BUF_INIT;
			const char *lp = cas_artifact_log_path(a);
			if (!lp || read_file(lp, &b, &err)) {
				if (!lp)
					error_set(&err, "%s: the artifact holds no build log", o.e->name);
				cas_artifact_free(a);
				buf_release(&b);
				goto fail;
			}
			fwrite(b.data, 1, b.len, stdout);
			buf_release(&b);
		} else if (cas_artifact_walk(o.cas, a, print_entry, NULL, &err)) {
			cas_artifact_free(a);
			goto fail;
		}
		cas_artifact_free(a);
	}
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "rill: %s\n", err.msg ? err.msg : "unknown error");
	rc = 1;
out:
	one_release(&o);
	error_release(&err);
	return rc;
}

static const char usage_source[] =
	"Usage: rill source checkout ELEMENT DIRECTORY\n"
	"\n"
	"  Stage the sources of ELEMENT into DIRECTORY (which must not exist). The sources must\n"
	"  have been fetched ('rill fetch ELEMENT').\n";

int cmd_source(struct cli *c, int argc, char **argv)
{
	struct error err = ERROR_INIT;
	struct one o = {0};
	struct rill_ctx ctx;
	struct job_io io = {-1, -1, NULL};
	struct stat st;
	int rc = 1;
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(usage_source, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "checkout"))
		return cli_usage_error("source ", "No such command '%s'.", argv[1]);
	if (argc != 4)
		return cli_usage_error("source ", "%s", "Expected ELEMENT and DIRECTORY.");
	if (stat(argv[3], &st) == 0) {
		fprintf(stderr, "rill: '%s' already exists: choose a new directory\n", argv[3]);
		return 1;
	}
	if (load_one(c, argv[2], &o, &err))
		goto fail;
	io.cache_dir = o.p->cache_dir;
	job_ctx_init(&ctx, o.p, o.e, &io, &err);
	if (os_mkdir_p(argv[3], &err))
		goto fail;
	if (job_stage_sources(&ctx, argv[3])) {
		os_rm_rf(argv[3], NULL);
		goto fail;
	}
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "rill: %s\n", err.msg ? err.msg : "unknown error");
out:
	one_release(&o);
	error_release(&err);
	return rc;
}

static const char usage_shell[] =
	"Usage: rill shell [--build] ELEMENT [COMMAND...]\n"
	"\n"
	"  Run COMMAND (default: an interactive sh) in a sandbox holding ELEMENT and its runtime\n"
	"  dependencies. With --build: its build dependencies and sources instead, in the build\n"
	"  directory; when the last build of ELEMENT failed, its sandbox as the build left it.\n"
	"  As in BuildStream, / is read-only: only /tmp (and with --build the build and install\n"
	"  directories) can be written.\n";

int cmd_shell(struct cli *c, int argc, char **argv)
{
	struct error err = ERROR_INIT;
	struct one o = {0};
	const char *target = NULL, **cmdv = NULL;
	const char *def_cmd[] = {"sh", "-i", NULL};
	char *root = NULL, *failed = NULL, *normal = NULL, *prompt = NULL;
	const char **env = NULL;
	size_t nenv = 0, i;
	struct sandbox sb = {0};
	const char *rw[2];
	int k, build = 0, rc = 1, status = 0, reuse = 0;
	for (k = 1; k < argc; k++) {
		const char *a = argv[k];
		int used;
		if (target) {
			cmdv = (const char **)argv + k;
			break;
		}
		used = cli_common_option(c, argc, argv, k, "shell ");
		if (used < 0)
			return 2;
		if (used) {
			k += used - 1;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage_shell, stdout);
			return 0;
		} else if (!strcmp(a, "-b") || !strcmp(a, "--build")) {
			build = 1;
		} else if (a[0] == '-' && a[1]) {
			return cli_usage_error("shell ", "No such option: %s", a);
		} else {
			target = a;
		}
	}
	if (!target)
		return cli_usage_error("shell ", "%s", "Missing argument 'ELEMENT'.");
	if (cmdv && cmdv[0] && !strcmp(cmdv[0], "--"))
		cmdv++;
	if (!cmdv || !cmdv[0])
		cmdv = def_cmd;
	if (load_one(c, target, &o, &err))
		goto fail;
	normal = cas_normal_name(o.e->name);
	if (build) {
		struct stat st;
		failed = xasprintf("%s/build/%s.failed/root", o.p->cache_dir, normal);
		if (stat(failed, &st) == 0 && S_ISDIR(st.st_mode)) {
			root = failed;
			failed = NULL;
			reuse = 1;
		}
	}
	if (!root && build_stage_shell(o.p, o.e, o.cas, build, &root, &err))
		goto fail;
	env = xmalloc((o.e->environment->u.map.n + 2) * sizeof(*env));
	for (i = 0; i < o.e->environment->u.map.n; i++)
		env[nenv++] = xasprintf("%s=%s", o.e->environment->u.map.entries[i].key,
					node_str(o.e->environment->u.map.entries[i].value));
	prompt = xasprintf("PS1=[%.8s@%s:${PWD}]$ ", o.e->strict_key, o.e->name);
	env[nenv++] = prompt;
	env[nenv] = NULL;
	rw[0] = variables_get(o.e->vars, "build-root");
	rw[1] = variables_get(o.e->vars, "install-root");
	sb.root = root;
	sb.rw_dirs = rw;
	sb.nrw = build ? 2 : 0;
	sb.env = env;
	sb.nenv = nenv;
	sb.uid = o.e->build_uid;
	sb.gid = o.e->build_gid;
	sb.cwd = build ? rw[0] : "/";
	/* the sysroot holds hardlinks into the artifact cache (a failed build's too) */
	sb.flags = SANDBOX_INTERACTIVE | SANDBOX_ROOT_READ_ONLY;
	if (sandbox_run(&sb, cmdv, 1, &status, &err))
		goto fail;
	rc = status;
	goto out;
fail:
	fprintf(stderr, "rill: %s\n", err.msg ? err.msg : "unknown error");
	rc = 1;
out:
	if (root && !reuse) {
		char *dir = xstrdup(root);
		*strrchr(dir, '/') = '\0';
		os_rm_rf(dir, NULL);
		free(dir);
	}
	for (i = 0; i + 1 < nenv; i++)
		free((char *)env[i]);
	free(env);
	free(prompt);
	free(root);
	free(failed);
	free(normal);
	one_release(&o);
	error_release(&err);
	return rc;
}
