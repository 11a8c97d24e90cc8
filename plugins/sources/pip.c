/* pip.c — the pip source: Python source distributions downloaded with the host's
 * `python -m pip download` from a PEP 503 index (url, alias allowed, PyPI by default), pinned by
 * a ref of "name==version" lines, staged into .bst_pip_downloads. Unique key [url as written,
 * ref], as bst's.
 * SPDX-License-Identifier: Apache-2.0 */
#include "../common.h"

#include <dirent.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

extern char **environ;

static const char *const config_keys[] = {"url", "packages", "ref", "requirements-files", NULL};

#define PYPI_INDEX_URL "https://pypi.org/simple/"
#define OUTPUT_DIRNAME ".bst_pip_downloads"

/* ---------------------------------------------------------------------------------------------
 * The host's pip (bst's preflight). */

/* The interpreters tried, newest first. bst 1.6.8 tries python3.10 down to python2.7; we try
 * python3.13..python3.11 before those, because Debian 12's only python is 3.11 (bst itself then
 * refuses the source with "Unable to find a suitable pip command"). Which python runs pip does
 * not enter the key. */
static const char *const pythons[] = {
	"python3.13", "python3.12", "python3.11", "python3.10", "python3.9", "python3.8", "python3.7",
	"python3.6", "python3.5", "python3.4", "python3.3", "python3.2", "python3.1", "python3.0",
	"python2.7", NULL,
};

/* 1 when `python -m pip download --help` exits 0 (output discarded, as bst sends it to a log no
 * one reads at load time). A python not in PATH fails to spawn or exits 127: not suitable. */
static int pip_works(const char *python)
{
	const char *argv[] = {python, "-m", "pip", "download", "--help", NULL};
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status, rc;
	if (posix_spawn_file_actions_init(&fa) != 0)
		return 0;
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	rc = posix_spawnp(&pid, python, &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		return 0;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 0;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* The python whose pip can download, or NULL. Probed once per process (each probe starts a
 * python, and every pip source of a project asks); job processes inherit the answer. */
static const char *host_python(void)
{
	static int probed;
	static const char *found;
	size_t i;
	if (!probed) {
		for (i = 0; pythons[i] && !found; i++)
			if (pip_works(pythons[i]))
				found = pythons[i];
		probed = 1;
	}
	return found;
}

/* ---------------------------------------------------------------------------------------------
 * Configuration. */

/* The url as written (or PyPI's), its translation, and the ref (NULL when absent or empty:
 * bst's `if not self.ref` makes an empty ref no ref at all). */
static int read_config(const struct rill_host *host, struct rill_ctx *ctx, const struct rill_node *node,
		       const char **url, const char **translated, const char **ref)
{
	const struct rill_node *url_node;
	if (common_get_str(host, ctx, node, "ref", 0, NULL, ref, NULL) != 0 ||
	    common_get_str(host, ctx, node, "url", 0, PYPI_INDEX_URL, url, &url_node) != 0 ||
	    host->translate_url(ctx, url_node ? url_node : node, *url, translated) != 0)
		return -1;
	if (*ref && !(*ref)[0])
		*ref = NULL;
	return 0;
}

static int configure(const struct rill_host *host, struct rill_ctx *ctx, const struct rill_node *config,
		     struct rill_configured *out)
{
	const char *url, *translated, *ref;
	const struct rill_node *packages, *reqs;
	struct rill_node *key;
	if (read_config(host, ctx, config, &url, &translated, &ref) != 0 ||
	    common_get_list(host, ctx, config, "packages", 0, &packages) != 0 ||
	    common_get_list(host, ctx, config, "requirements-files", 0, &reqs) != 0)
		return -1;
	/* empty lists count as missing (Python truthiness) */
	if (!(packages && host->len(packages)) && !(reqs && host->len(reqs)))
		return host->error(ctx, NULL,
				   "pip source at %s: Either 'packages' or 'requirements-files' must be specified",
				   host->provenance(ctx, config));
	if (!host_python())
		return host->error(ctx, NULL, "pip source at %s: Unable to find a suitable pip command",
				   host->provenance(ctx, config));
	key = common_downloadable_key(host, ctx, url, ref);
	out->unique_key = key;
	return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Running pip. */

struct argv {
	const char **v;
	size_t n, cap;
};

static int argv_push(struct argv *a, const char *s)
{
	if (a->n + 2 > a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 32;
		const char **v = realloc(a->v, cap * sizeof(*v));
		if (!v)
			return -1;
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n++] = s;
	a->v[a->n] = NULL;
	return 0;
}

/* `<python> -m pip download --no-binary :all: --index-url <url> --dest <dest>`, the command bst
 * runs for both fetch and track; the caller appends the requirements. */
static int pip_download_argv(const struct rill_host *host, struct rill_ctx *ctx, struct argv *a,
			     const char *url, const char *dest)
{
	const char *python = host_python();
	const char *head[] = {"-m", "pip", "download", "--no-binary", ":all:", "--index-url", url, "--dest", dest};
	size_t i;
	if (!python)
		return host->error(ctx, NULL, "Unable to find a suitable pip command");
	if (argv_push(a, python) != 0)
		return host->error(ctx, NULL, "Out of memory");
	for (i = 0; i < sizeof(head) / sizeof(head[0]); i++)
		if (argv_push(a, head[i]) != 0)
			return host->error(ctx, NULL, "Out of memory");
	return 0;
}

/* fetch: the packages of the ref (one requirement per line, as bst splits it) into
 * <dir>/packages, which is what bst keeps as its mirror. */
static int fetch(const struct rill_host *host, struct rill_ctx *ctx, const struct rill_node *node, const char *dir)
{
	const char *url, *translated, *ref, *pkgdir;
	struct argv a = {0};
	struct rill_node *reqs;
	char *lines = NULL, *line, *nl;
	int rc = -1;
	if (read_config(host, ctx, node, &url, &translated, &ref) != 0)
		return -1;
	if (!ref)
		return host->error(ctx, node, "No ref to fetch: run 'rill track' first");
	if (!(pkgdir = common_fmt(host, ctx, "%s/packages", dir)))
		return -1;
	if (mkdir(pkgdir, 0755) != 0)
		return host->error(ctx, NULL, "Failed to create directory '%s': %s", pkgdir, strerror(errno));
	if (pip_download_argv(host, ctx, &a, translated, pkgdir) != 0)
		goto out;
	if (!(lines = strdup(ref))) {
		host->error(ctx, NULL, "Out of memory");
		goto out;
	}
	reqs = host->new_list(ctx);
	for (line = lines;; line = nl + 1) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		host->list_push(ctx, reqs, host->new_str(ctx, line));
		if (argv_push(&a, host->str(host->at(reqs, host->len(reqs) - 1))) != 0) {
			host->error(ctx, NULL, "Out of memory");
			goto out;
		}
		if (!nl)
			break;
	}
	host->status(ctx, "Downloading python packages from %s", translated);
	if (host->run_host(ctx, a.v, NULL, NULL) != 0) {
		/* bst's message shows the requirements as a Python list */
		struct { char *s; size_t n; } msg = {0};
		FILE *f = open_memstream(&msg.s, &msg.n);
		size_t i;
		if (!f) {
			host->error(ctx, node, "Failed to install python packages");
			goto out;
		}
		for (i = 0; i < host->len(reqs); i++)
			fprintf(f, "%s'%s'", i ? ", " : "", host->str(host->at(reqs, i)));
		fclose(f);
		host->error(ctx, node, "Failed to install python packages: [%s]", msg.s);
		free(msg.s);
		goto out;
	}
	rc = 0;
out:
	free(lines);
	free(a.v);
	return rc;
}

/* stage: the downloaded files into <dest>/.bst_pip_downloads (merged with what another pip
 * source staged there, as bst's copy_files merges). */
static int stage(const struct rill_host *host, struct rill_ctx *ctx, const struct rill_node *node,
		 const char *dir, const char *dest)
{
	const char *from, *to;
	(void)node;
	if (!(from = common_fmt(host, ctx, "%s/packages", dir)) ||
	    !(to = common_fmt(host, ctx, "%s/%s", dest, OUTPUT_DIRNAME)))
		return -1;
	host->status(ctx, "Staging Python packages");
	return host->copy_tree(ctx, from, to);
}

/* ---------------------------------------------------------------------------------------------
 * Tracking: download what pip picks today and name it by the sdist file names. */

/* s matches bst's _SDIST_RE,
 *   ^([a-zA-Z0-9]+?)-(.+).(?:tar|tar.bz2|tar.gz|tar.xz|tar.Z|zip)$  (re.IGNORECASE),
 * as Python matches it on the decoded file name. *name_len and *ver_len receive the byte lengths
 * of the two groups (the version starts after the name's '-'). */

/* Python's [a-zA-Z0-9] under IGNORECASE also takes four non-ASCII letters that fold into it:
 * U+0130 and U+0131 (i), U+017F (s), U+212A (k). Literal 'i' takes U+0130 and U+0131. */
static int sdist_name_char(unsigned long cp)
{
	return (cp < 0x80 && ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9'))) ||
	       cp == 0x130 || cp == 0x131 || cp == 0x17f || cp == 0x212a;
}

/* The extension alternative pat (its '.' is the regex's any-character) matches s[0..len)
 * exactly, case-insensitively. */
static int sdist_ext_matches(const char *pat, const unsigned char *s, size_t len)
{
	size_t used;
	while (*pat) {
		unsigned long cp, want = (unsigned char)*pat;
		if (!len)
			return 0;
		cp = common_py_codepoint(s, len, &used);
		if (want == '.') {
			if (cp == '\n')
				return 0;
		} else if (cp < 0x80) {
			if (cp != want && !(((want | 0x20) >= 'a' && (want | 0x20) <= 'z') && (cp | 0x20) == (want | 0x20)))
				return 0;
		} else if (!(want == 'i' && (cp == 0x130 || cp == 0x131))) {
			return 0;
		}
		s += used;
		len -= used;
		pat++;
	}
	return len == 0;
}

static int sdist_match(const char *name, size_t *name_len, size_t *ver_len)
{
	static const char *const exts[] = {"tar", "tar.bz2", "tar.gz", "tar.xz", "tar.Z", "zip"};
	const unsigned char *s = (const unsigned char *)name, *r;
	size_t len = strlen(name), pos = 0, used, rlen, n = 0, j, maxj, e, k, ends[2], nends = 0;
	size_t *bounds;
	int found = 0;
	while (pos < len && sdist_name_char(common_py_codepoint(s + pos, len - pos, &used)))
		pos += used;
	if (pos == 0 || pos >= len || s[pos] != '-')
		return 0;
	*name_len = pos;
	r = s + pos + 1;
	rlen = len - pos - 1;
	/* the code point boundaries of the rest: the version and the any-character are code points */
	if (!(bounds = malloc((rlen + 1) * sizeof(*bounds))))
		return 0;
	for (k = 0; k < rlen; k += used) {
		bounds[n++] = k;
		common_py_codepoint(r + k, rlen - k, &used);
	}
	bounds[n] = rlen;
	/* `$` matches at the end and before a final newline */
	ends[nends++] = rlen;
	if (rlen && r[rlen - 1] == '\n')
		ends[nends++] = rlen - 1;
	/* (.+) is greedy and cannot cross a newline: the longest version (j code points) whose
	 * rest, an any-character then an extension, matches wins */
	for (maxj = 0; maxj < n && r[bounds[maxj]] != '\n'; maxj++)
		;
	for (j = maxj < n ? maxj : n - 1; n >= 2 && j >= 1 && !found; j--) {
		if (r[bounds[j]] == '\n')
			continue;
		for (e = 0; e < nends && !found; e++)
			for (k = 0; k < sizeof(exts) / sizeof(exts[0]) && !found; k++)
				if (bounds[j + 1] <= ends[e] &&
				    sdist_ext_matches(exts[k], r + bounds[j + 1], ends[e] - bounds[j + 1])) {
					*ver_len = bounds[j];
					found = 1;
				}
	}
	free(bounds);
	return found;
}

struct sdist {
	char *name, *version;
};

/* Python's sorted() of (name, version) tuples. */
static int sdist_cmp(const void *a, const void *b)
{
	const struct sdist *x = a, *y = b;
	int c = common_py_strcmp(x->name, y->name);
	return c ? c : common_py_strcmp(x->version, y->version);
}

/* The ref bst builds from the sdists in dir: sorted "name==version" lines. */
static int sdist_ref(const struct rill_host *host, struct rill_ctx *ctx, const char *dir, const char **ref)
{
	struct sdist *v = NULL, *nv;
	size_t n = 0, cap = 0, i, name_len, ver_len;
	struct dirent *en;
	char *text = NULL;
	size_t text_len = 0;
	FILE *f;
	DIR *d = opendir(dir);
	int rc = -1;
	if (!d)
		return host->error(ctx, NULL, "Failed to read directory '%s': %s", dir, strerror(errno));
	while ((en = readdir(d))) {
		if (!strcmp(en->d_name, ".") || !strcmp(en->d_name, "..") ||
		    !sdist_match(en->d_name, &name_len, &ver_len))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			if (!(nv = realloc(v, cap * sizeof(*v))))
				goto oom;
			v = nv;
		}
		v[n].name = strndup(en->d_name, name_len);
		v[n].version = strndup(en->d_name + name_len + 1, ver_len);
		n++;
		if (!v[n - 1].name || !v[n - 1].version)
			goto oom;
	}
	qsort(v, n, sizeof(*v), sdist_cmp);
	if (!(f = open_memstream(&text, &text_len)))
		goto oom;
	for (i = 0; i < n; i++)
		fprintf(f, "%s%s==%s", i ? "\n" : "", v[i].name, v[i].version);
	if (fclose(f) != 0)
		goto oom;
	*ref = host->str(host->new_str(ctx, text));
	rc = 0;
	goto out;
oom:
	host->error(ctx, NULL, "Out of memory");
out:
	closedir(d);
	for (i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].version);
	}
	free(v);
	free(text);
	return rc;
}

static int track(const struct rill_host *host, struct rill_ctx *ctx, const struct rill_node *node, const char **ref)
{
	const char *url, *translated, *cur, *tmpdir = getenv("TMPDIR");
	const struct rill_node *packages, *reqs, *item;
	struct argv a = {0};
	char *tmp = NULL;
	size_t i;
	int rc = -1;
	*ref = NULL;
	if (read_config(host, ctx, node, &url, &translated, &cur) != 0 ||
	    common_get_list(host, ctx, node, "packages", 0, &packages) != 0 ||
	    common_get_list(host, ctx, node, "requirements-files", 0, &reqs) != 0)
		return -1;
	/* bst reads the requirements files from the element's earlier sources, staged for the
	 * track (BST_REQUIRES_PREVIOUS_SOURCES_TRACK); rill's track hook has no such staging */
	if (reqs && host->len(reqs))
		return host->error(ctx, NULL,
				   "pip source at %s: cannot track 'requirements-files': it needs the element's "
				   "previous sources staged, which rill does not offer when tracking. List the "
				   "packages in 'packages' instead, or write the ref by hand",
				   host->provenance(ctx, node));
	if (!(tmp = common_mkdtemp_in(host, ctx, tmpdir && tmpdir[0] ? tmpdir : "/tmp", "pip-track")) ||
	    pip_download_argv(host, ctx, &a, translated, tmp) != 0)
		goto out;
	for (i = 0; packages && i < host->len(packages); i++) {
		if (common_list_item_str(host, ctx, packages, "packages", i, &item) != 0)
			goto out;
		if (argv_push(&a, host->str(item)) != 0) {
			host->error(ctx, NULL, "Out of memory");
			goto out;
		}
	}
	host->status(ctx, "Tracking python packages from %s", translated);
	if (host->run_host(ctx, a.v, NULL, NULL) != 0) {
		host->error(ctx, node, "Failed to install python packages");
		goto out;
	}
	rc = sdist_ref(host, ctx, tmp, ref);
out:
	if (tmp)
		common_rm_rf(tmp);
	free(tmp);
	free(a.v);
	return rc;
}

RILL_PLUGIN_EXPORT const struct rill_plugin rill_plugin = {
	.abi_version = RILL_PLUGIN_ABI_VERSION,
	.type = RILL_PLUGIN_SOURCE,
	.kind = "pip",
	.config_keys = config_keys,
	.configure = configure,
	.fetch = fetch,
	.stage = stage,
	.track = track,
};
