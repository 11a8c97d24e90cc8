/* bridge — hosts BuildStream's Python plugins in rill-backend: embeds CPython (Debian's
 * libpython3 of /usr/bin/python3), offers the `_rill` module of host services to rill's own
 * `buildstream` package (plugins/python/buildstream) and gives the loader one descriptor of
 * rill-plugin.h per Python kind. Loaded with dlopen only when a project declares a Python
 * plugin. Every call runs on the backend's main thread, which holds the interpreter's lock for
 * good; jobs are forked from it (before_fork/after_fork), so plugin instances made while loading
 * live on in them. See INTERFACE.md.
 * SPDX-License-Identifier: Apache-2.0 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin/rill-bridge.h"

#ifndef RILL_PYTHON_SONAME
#define RILL_PYTHON_SONAME "libpython3.so"
#endif
#ifndef RILL_PYTHON_EXE
#define RILL_PYTHON_EXE "/usr/bin/python3"
#endif

/* What a call from the core into Python may use: set on entry, restored on exit (calls nest:
 * an element's assemble stages its sources through the source plugins). */
static const struct rill_host *H;
static struct rill_ctx *C;
static PyObject *driver;                /* buildstream._rill_driver */
static PyObject *RillError;             /* _rill.Error */

struct pykind {
	struct rill_plugin desc;
	char *kind;
	const char *type;               /* "element" or "source" */
	char *origin, *where;           /* as loaded: a kind may come from several projects */
};

struct saved {
	const struct rill_host *h;
	struct rill_ctx *c;
};

static struct saved enter(const struct rill_host *h, struct rill_ctx *c)
{
	struct saved s = {H, C};
	H = h;
	C = c;
	return s;
}

static void leave(struct saved s)
{
	H = s.h;
	C = s.c;
}

/* ---- errors ---------------------------------------------------------------------------- */

static void copy_msg(char *dst, size_t n, const char *s)
{
	if (n)
		snprintf(dst, n, "%s", s ? s : "");
}

/* The pending Python exception as BuildStream shows it: its message and detail; an unexpected
 * exception (not one of BuildStream's errors) gets its traceback. Clears the exception. */
static char *exception_text(void)
{
	PyObject *type, *value, *tb, *r = NULL;
	char *out = NULL;
	PyErr_Fetch(&type, &value, &tb);
	PyErr_NormalizeException(&type, &value, &tb);
	if (!value)
		return strdup("unknown error in a Python plugin");
	if (tb)
		PyException_SetTraceback(value, tb);
	if (driver)
		r = PyObject_CallMethod(driver, "describe_error", "O", value);
	if (r && PyTuple_Check(r) && PyTuple_GET_SIZE(r) == 3) {
		PyObject *msg = PyTuple_GET_ITEM(r, 0), *detail = PyTuple_GET_ITEM(r, 1);
		const char *m = PyUnicode_Check(msg) ? PyUnicode_AsUTF8(msg) : "error in a Python plugin";
		const char *d = detail && PyUnicode_Check(detail) ? PyUnicode_AsUTF8(detail) : NULL;
		size_t n = strlen(m) + (d ? strlen(d) : 0) + 4;
		out = malloc(n);
		if (out)
			snprintf(out, n, "%s%s%s", m, d && *d ? "\n\n" : "", d && *d ? d : "");
	} else {
		PyObject *s;
		PyErr_Clear();
		s = PyObject_Str(value);
		out = strdup(s && PyUnicode_Check(s) ? PyUnicode_AsUTF8(s) : "error in a Python plugin");
		Py_XDECREF(s);
	}
	Py_XDECREF(r);
	Py_XDECREF(type);
	Py_XDECREF(value);
	Py_XDECREF(tb);
	return out;
}

/* Record the pending exception as the call's error; returns -1. */
static int fail_call(void)
{
	char *msg = exception_text();
	H->error(C, NULL, "%s", msg);
	free(msg);
	return -1;
}

/* A host function failed: its error becomes a Python exception (and is no longer the call's,
 * so a plugin that catches it may go on). Returns NULL. */
static PyObject *raise_host_error(void)
{
	const char *m = H && C ? H->last_error(C) : NULL;
	PyErr_SetString(RillError, m && *m ? m : "rill: a host function failed");
	if (H && C)
		H->clear_error(C);
	return NULL;
}

static int need_call(void)
{
	if (!H || !C) {
		PyErr_SetString(RillError, "rill: this is only available while rill calls the plugin");
		return -1;
	}
	return 0;
}

static int need_job(const char *what, void *fn)
{
	if (need_call())
		return -1;
	if (!fn) {
		PyErr_Format(RillError, "%s is only available in a build job", what);
		return -1;
	}
	return 0;
}

/* ---- nodes: C to Python ---------------------------------------------------------------- */

static PyObject *prov_class;            /* buildstream._rill_node.Provenance */

static PyObject *make_prov(const struct rill_node *n, PyObject *members, PyObject *elements)
{
	const char *text = H->provenance(C, n);
	return PyObject_CallFunction(prov_class, "sOO", text ? text : "", members ? members : Py_None,
				     elements ? elements : Py_None);
}

/* n as Python (dicts carry '__bst_provenance_info'); *prov receives n's Provenance. */
static PyObject *to_py(const struct rill_node *n, PyObject **prov)
{
	PyObject *v = NULL, *aux = NULL;
	size_t i, len;
	*prov = NULL;
	if (!n)
		Py_RETURN_NONE;
	switch (H->type(n)) {
	case RILL_NODE_SCALAR:
		if (H->is_null(n)) {
			v = Py_NewRef(Py_None);
		} else {
			const char *s = H->str(n);
			v = PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "surrogateescape");
		}
		if (v)
			*prov = make_prov(n, NULL, NULL);
		break;
	case RILL_NODE_LIST:
		len = H->len(n);
		v = PyList_New((Py_ssize_t)len);
		aux = PyList_New((Py_ssize_t)len);
		if (!v || !aux)
			goto fail;
		for (i = 0; i < len; i++) {
			PyObject *ip, *item = to_py(H->at(n, i), &ip);
			if (!item)
				goto fail;
			PyList_SET_ITEM(v, (Py_ssize_t)i, item);
			PyList_SET_ITEM(aux, (Py_ssize_t)i, ip ? ip : Py_NewRef(Py_None));
		}
		*prov = make_prov(n, NULL, aux);
		break;
	case RILL_NODE_MAP:
		len = H->len(n);
		v = PyDict_New();
		aux = PyDict_New();
		if (!v || !aux)
			goto fail;
		for (i = 0; i < len; i++) {
			PyObject *ip, *item = to_py(H->value_at(n, i), &ip);
			if (!item || PyDict_SetItemString(v, H->key_at(n, i), item) ||
			    PyDict_SetItemString(aux, H->key_at(n, i), ip ? ip : Py_None)) {
				Py_XDECREF(item);
				Py_XDECREF(ip);
				goto fail;
			}
			Py_DECREF(item);
			Py_XDECREF(ip);
		}
		*prov = make_prov(n, aux, NULL);
		if (!*prov || PyDict_SetItemString(v, "__bst_provenance_info", *prov))
			goto fail;
		break;
	default:
		v = Py_NewRef(Py_None);
	}
	Py_XDECREF(aux);
	if (!*prov) {
		Py_XDECREF(v);
		return NULL;
	}
	return v;
fail:
	Py_XDECREF(v);
	Py_XDECREF(aux);
	Py_XDECREF(*prov);
	*prov = NULL;
	return NULL;
}

static PyObject *node_py(const struct rill_node *n)
{
	PyObject *prov, *v = to_py(n, &prov);
	Py_XDECREF(prov);
	return v;
}

/* ---- values: Python to C (unique keys, refs); the driver sanitized them ----------------- */

static struct rill_node *from_py(PyObject *o)
{
	if (o == Py_None)
		return H->new_null(C);
	if (PyBool_Check(o))
		return H->new_bool(C, o == Py_True);
	if (PyLong_Check(o)) {
		int overflow = 0;
		long v = PyLong_AsLongAndOverflow(o, &overflow);
		if (!overflow && !(v == -1 && PyErr_Occurred()))
			return H->new_int(C, v);
		PyErr_Clear();
		PyErr_SetString(RillError, "rill: an integer in a unique key is too large");
		return NULL;
	}
	if (PyUnicode_Check(o)) {
		const char *s = PyUnicode_AsUTF8(o);
		return s ? H->new_str(C, s) : NULL;
	}
	if (PyFloat_Check(o)) {
		PyObject *r = PyObject_Repr(o);
		struct rill_node *n = r ? H->new_str(C, PyUnicode_AsUTF8(r)) : NULL;
		Py_XDECREF(r);
		return n;
	}
	if (PyList_Check(o) || PyTuple_Check(o)) {
		struct rill_node *l = H->new_list(C);
		Py_ssize_t i, n = PySequence_Fast_GET_SIZE(o);
		PyObject **items = PySequence_Fast_ITEMS(o);
		for (i = 0; i < n; i++) {
			struct rill_node *v = from_py(items[i]);
			if (!v)
				return NULL;
			H->list_push(C, l, v);
		}
		return l;
	}
	if (PyDict_Check(o)) {
		struct rill_node *m = H->new_map(C);
		PyObject *k, *v;
		Py_ssize_t pos = 0;
		while (PyDict_Next(o, &pos, &k, &v)) {
			struct rill_node *cv;
			PyObject *ks = PyObject_Str(k);
			if (!ks)
				return NULL;
			cv = from_py(v);
			if (!cv) {
				Py_DECREF(ks);
				return NULL;
			}
			H->map_put(C, m, PyUnicode_AsUTF8(ks), cv);
			Py_DECREF(ks);
		}
		return m;
	}
	PyErr_Format(PyExc_TypeError, "%R is not JSON serializable", o);
	return NULL;
}

/* The handle of an instance: the node configure() saw, which jobs are given again. */
static PyObject *handle_of(const struct rill_node *n)
{
	return PyLong_FromUnsignedLongLong((unsigned long long)(uintptr_t)n);
}

/* ---- the _rill module ------------------------------------------------------------------ */

static PyObject *r_subst(PyObject *self, PyObject *args)
{
	const char *text, *prov = NULL, *out;
	(void)self;
	if (!PyArg_ParseTuple(args, "s|z", &text, &prov) || need_call())
		return NULL;
	if (H->subst_str(C, NULL, text, &out)) {
		const char *m = H->last_error(C);
		if (prov && *prov)
			PyErr_Format(RillError, "%s: %s", prov, m ? m : "");
		else
			PyErr_SetString(RillError, m ? m : "");
		H->clear_error(C);
		return NULL;
	}
	return PyUnicode_FromString(out);
}

static PyObject *r_variable(PyObject *self, PyObject *args)
{
	const char *name, *v;
	(void)self;
	if (!PyArg_ParseTuple(args, "s", &name) || need_call())
		return NULL;
	v = H->variable(C, name);
	if (!v)
		Py_RETURN_NONE;
	return PyUnicode_FromString(v);
}

static PyObject *r_warn(PyObject *self, PyObject *args)
{
	const char *token, *where, *text, *detail = NULL;
	(void)self;
	if (!PyArg_ParseTuple(args, "zss|z", &token, &where, &text, &detail) || need_call())
		return NULL;
	/* where is already text: the warning is reported without a node; the host puts the
	 * "[token]: " before it that Plugin.warn() put in the text, as bst prints it */
	if (token) {
		size_t n = strlen(token);
		if (text[0] == '[' && strncmp(text + 1, token, n) == 0 && strncmp(text + 1 + n, "]: ", 3) == 0)
			text += n + 4;
	}
	if (H->warn(C, NULL, token ? token : "plugin", "%s%s%s%s%s", where, *where ? ": " : "", text,
		    detail && *detail ? "\n\n" : "", detail && *detail ? detail : ""))
		return raise_host_error();
	Py_RETURN_NONE;
}

static PyObject *r_message(PyObject *self, PyObject *args)
{
	const char *kind, *text, *detail = NULL;
	(void)self;
	if (!PyArg_ParseTuple(args, "ss|z", &kind, &text, &detail) || need_call())
		return NULL;
	H->message(C, kind, text, detail);
	Py_RETURN_NONE;
}

/* Whether url starts with a project alias (not one of bst's URI schemes: utils._URI_SCHEMES). */
static int has_alias(const char *url)
{
	static const char *const schemes[] = {"http", "https", "ftp", "file", "git", "sftp", "ssh", NULL};
	const char *colon = strchr(url, ':');
	size_t i;
	if (!colon)
		return 0;
	for (i = 0; schemes[i]; i++)
		if (strlen(schemes[i]) == (size_t)(colon - url) && strncmp(url, schemes[i], (size_t)(colon - url)) == 0)
			return 0;
	return 1;
}

static PyObject *r_translate_url(PyObject *self, PyObject *args)
{
	const char *url, *out;
	int primary = 1;
	(void)self;
	if (!PyArg_ParseTuple(args, "s|p", &url, &primary) || need_call())
		return NULL;
	(void)primary;
	/* a URL without an alias stays as it is; mark_download_url() warns about it, once */
	if (!has_alias(url))
		return PyUnicode_FromString(url);
	if (H->translate_url(C, NULL, url, &out))
		return raise_host_error();
	return PyUnicode_FromString(out);
}

static PyObject *r_project_dir(PyObject *self, PyObject *args)
{
	(void)self;
	(void)args;
	if (need_call())
		return NULL;
	return PyUnicode_FromString(H->project_dir(C));
}

static PyObject *r_element_name(PyObject *self, PyObject *args)
{
	(void)self;
	(void)args;
	if (need_call())
		return NULL;
	return PyUnicode_FromString(H->element_name(C));
}

static PyObject *r_cache_dir(PyObject *self, PyObject *args)
{
	(void)self;
	(void)args;
	if (need_call())
		return NULL;
	return PyUnicode_FromString(H->cache_dir(C));
}

static PyObject *r_tmp_dir(PyObject *self, PyObject *args)
{
	const char *c;
	(void)self;
	(void)args;
	if (need_call())
		return NULL;
	c = H->cache_dir(C);
	return PyUnicode_FromFormat("%s/tmp", *c ? c : "/tmp");
}

static PyObject *r_stage_deps(PyObject *self, PyObject *args)
{
	const char *path;
	(void)self;
	if (!PyArg_ParseTuple(args, "s", &path) || need_job("stage_dependency_artifacts", (void *)H->stage_deps))
		return NULL;
	if (H->stage_deps(C, path))
		return raise_host_error();
	Py_RETURN_NONE;
}

static PyObject *r_stage_dep(PyObject *self, PyObject *args)
{
	const char *name, *path;
	(void)self;
	if (!PyArg_ParseTuple(args, "ss", &name, &path) || need_job("stage_dependency_artifacts", (void *)H->stage_dep))
		return NULL;
	if (H->stage_dep(C, name, path))
		return raise_host_error();
	Py_RETURN_NONE;
}

/* A Python list of strings (or None) as a node for stage_split. */
static struct rill_node *str_list(PyObject *o, int *bad)
{
	struct rill_node *l;
	Py_ssize_t i, n;
	*bad = 0;
	if (o == Py_None)
		return NULL;
	if (!PyList_Check(o) && !PyTuple_Check(o)) {
		*bad = 1;
		PyErr_SetString(PyExc_TypeError, "include and exclude must be lists of split domain names");
		return NULL;
	}
	l = H->new_list(C);
	n = PySequence_Fast_GET_SIZE(o);
	for (i = 0; i < n; i++) {
		PyObject *s = PyObject_Str(PySequence_Fast_GET_ITEM(o, i));
		if (!s) {
			*bad = 1;
			return NULL;
		}
		H->list_push(C, l, H->new_str(C, PyUnicode_AsUTF8(s)));
		Py_DECREF(s);
	}
	return l;
}

static PyObject *r_stage_split(PyObject *self, PyObject *args)
{
	const char *element, *path;
	PyObject *inc, *exc;
	int orphans, bad;
	struct rill_node *in, *ex;
	(void)self;
	if (!PyArg_ParseTuple(args, "zOOps", &element, &inc, &exc, &orphans, &path) ||
	    need_job("stage_dependency_artifacts", (void *)H->stage_split))
		return NULL;
	in = str_list(inc, &bad);
	if (bad)
		return NULL;
	ex = str_list(exc, &bad);
	if (bad)
		return NULL;
	if (H->stage_split(C, element, in, ex, orphans, path))
		return raise_host_error();
	Py_RETURN_NONE;
}

static PyObject *r_integrate(PyObject *self, PyObject *args)
{
	(void)self;
	(void)args;
	if (need_job("integrate", (void *)H->integrate))
		return NULL;
	if (H->integrate(C))
		return raise_host_error();
	Py_RETURN_NONE;
}

static PyObject *r_stage_sources(PyObject *self, PyObject *args)
{
	const char *path;
	(void)self;
	if (!PyArg_ParseTuple(args, "s", &path) || need_job("stage_sources", (void *)H->stage_sources))
		return NULL;
	if (H->stage_sources(C, path))
		return raise_host_error();
	Py_RETURN_NONE;
}

/* argv (a list of str) as a NULL-terminated array of UTF-8 strings pointing into refs. */
static const char **c_strv(PyObject *seq, PyObject **keep)
{
	PyObject *fast = PySequence_Fast(seq, "expected a list of strings");
	const char **v;
	Py_ssize_t i, n;
	*keep = fast;
	if (!fast)
		return NULL;
	n = PySequence_Fast_GET_SIZE(fast);
	v = calloc((size_t)n + 1, sizeof(*v));
	for (i = 0; i < n; i++) {
		PyObject *s = PySequence_Fast_GET_ITEM(fast, i);
		if (!PyUnicode_Check(s) || !(v[i] = PyUnicode_AsUTF8(s))) {
			if (!PyErr_Occurred())
				PyErr_SetString(PyExc_TypeError, "expected a list of strings");
			free(v);
			return NULL;
		}
	}
	return v;
}

static PyObject *r_run(PyObject *self, PyObject *args)
{
	PyObject *argv, *env, *keep_a = NULL, *keep_e = NULL, *envl = NULL;
	const char *cwd, **av = NULL, **ev = NULL;
	unsigned flags;
	int status = -1, rc;
	(void)self;
	if (!PyArg_ParseTuple(args, "OIzO", &argv, &flags, &cwd, &env) || need_job("Sandbox.run", (void *)H->run_argv))
		return NULL;
	av = c_strv(argv, &keep_a);
	if (!av)
		goto out;
	if (env != Py_None) {
		PyObject *k, *v;
		Py_ssize_t pos = 0;
		if (!PyDict_Check(env)) {
			PyErr_SetString(PyExc_TypeError, "env must be a dict");
			goto out;
		}
		envl = PyList_New(0);
		while (PyDict_Next(env, &pos, &k, &v)) {
			PyObject *kv = PyUnicode_FromFormat("%S=%S", k, v);
			if (!kv || PyList_Append(envl, kv)) {
				Py_XDECREF(kv);
				goto out;
			}
			Py_DECREF(kv);
		}
		ev = c_strv(envl, &keep_e);
		if (!ev)
			goto out;
	}
	rc = H->run_argv(C, av, flags, cwd, ev, &status);
	if (rc) {
		raise_host_error();
		goto out;
	}
out:
	free(av);
	free(ev);
	Py_XDECREF(keep_a);
	Py_XDECREF(keep_e);
	Py_XDECREF(envl);
	if (PyErr_Occurred())
		return NULL;
	return PyLong_FromLong(status);
}

/* run_commands(cmds, notes, bst_flags, cwd): the commands in one sandbox (host->run_commands);
 * the first that fails raises Error with "Command '...' failed with exitcode N". */
static PyObject *r_run_commands(PyObject *self, PyObject *args)
{
	PyObject *cmds, *notes, *keep_c = NULL, *keep_n = NULL;
	const char *cwd, **cv = NULL, **nv = NULL;
	unsigned bst_flags, flags = 0;
	size_t n;
	int rc;
	(void)self;
	if (!PyArg_ParseTuple(args, "OOIz", &cmds, &notes, &bst_flags, &cwd) ||
	    need_job("running commands", (void *)H->run_commands))
		return NULL;
	cv = c_strv(cmds, &keep_c);
	if (!cv)
		goto out;
	for (n = 0; cv[n]; n++)
		;
	if (notes != Py_None) {
		PyObject *fast = PySequence_Fast(notes, "notes must be a list");
		Py_ssize_t i;
		keep_n = fast;
		if (!fast || (size_t)PySequence_Fast_GET_SIZE(fast) != n) {
			if (fast)
				PyErr_SetString(PyExc_ValueError, "one note per command");
			goto out;
		}
		nv = calloc(n + 1, sizeof(*nv));
		for (i = 0; i < (Py_ssize_t)n; i++) {
			PyObject *o = PySequence_Fast_GET_ITEM(fast, i);
			nv[i] = o == Py_None ? NULL : PyUnicode_AsUTF8(o);
		}
	}
	/* bst's SandboxFlags: ROOT_READ_ONLY 1, CREATE_DEV_SHM 0x10 */
	if (bst_flags & 1)
		flags |= RILL_RUN_ROOT_READ_ONLY;
	if (bst_flags & 0x10)
		flags |= RILL_RUN_DEV_SHM;
	rc = H->run_commands(C, cv, nv, n, flags, cwd);
	if (rc)
		raise_host_error();
out:
	free(cv);
	free(nv);
	Py_XDECREF(keep_c);
	Py_XDECREF(keep_n);
	if (PyErr_Occurred())
		return NULL;
	Py_RETURN_NONE;
}

static PyObject *r_workspace_prepared(PyObject *self, PyObject *args)
{
	(void)self;
	(void)args;
	if (need_job("workspaces", (void *)H->workspace_prepared))
		return NULL;
	return PyBool_FromLong(H->workspace_prepared(C));
}

static PyObject *r_host_path(PyObject *self, PyObject *args)
{
	const char *path, *out;
	(void)self;
	if (!PyArg_ParseTuple(args, "s", &path) || need_job("Sandbox.get_directory", (void *)H->host_path))
		return NULL;
	out = H->host_path(C, path);
	if (!out)
		return raise_host_error();
	return PyUnicode_FromString(out);
}

static PyObject *r_mark_directory(PyObject *self, PyObject *args)
{
	const char *path;
	int artifact = 0;
	(void)self;
	if (!PyArg_ParseTuple(args, "s|p", &path, &artifact) || need_job("Sandbox.mark_directory", (void *)H->mark_directory))
		return NULL;
	if (H->mark_directory(C, path))
		return raise_host_error();
	Py_RETURN_NONE;
}

static PyObject *r_collect(PyObject *self, PyObject *args)
{
	const char *path;
	(void)self;
	if (!PyArg_ParseTuple(args, "s", &path) || need_job("assemble", (void *)H->collect))
		return NULL;
	H->collect(C, path);
	Py_RETURN_NONE;
}

static PyObject *r_dependencies(PyObject *self, PyObject *args)
{
	const char *element = NULL;
	int scope, recurse;
	size_t i, n = 0;
	const char *const *names;
	PyObject *l;
	(void)self;
	if (!PyArg_ParseTuple(args, "ip|z", &scope, &recurse, &element) ||
	    need_job("dependencies", (void *)H->dependencies))
		return NULL;
	names = H->dependencies(C, element, scope, recurse, &n);
	if (!names)
		return raise_host_error();
	l = PyList_New((Py_ssize_t)n);
	for (i = 0; l && i < n; i++)
		PyList_SET_ITEM(l, (Py_ssize_t)i, PyUnicode_FromString(names[i]));
	return l;
}


/* The sources of element as the proxies of buildstream/element.py see them: a Python source is
 * its handle; a native one what plugins read of bst's core sources (url, ref, path, mirror). */
static PyObject *sources_list(const char *element)
{
	const struct rill_node *l = H->sources_of(C, element);
	PyObject *out = PyList_New(0);
	size_t i;
	for (i = 0; out && l && i < H->len(l); i++) {
		const struct rill_node *m = H->at(l, i), *cfg = H->get(m, "config");
		const char *kind = H->str(H->get(m, "kind"));
		const char *url = H->str(H->get(cfg, "url")), *ref = H->str(H->get(cfg, "ref"));
		const char *path = H->str(H->get(cfg, "path")), *translated = url;
		PyObject *d;
		if (url && has_alias(url) && H->translate_url(C, NULL, url, &translated)) {
			H->clear_error(C);
			translated = url;
		}
		d = Py_BuildValue("{s:N,s:s,s:s}", "handle", handle_of(cfg), "kind", kind, "provenance",
				  H->provenance(C, cfg));
		if (d && url) {
			/* git keeps the URL as written (its mirror's); archives the translated one */
			int git = strcmp(kind, "git") == 0;
			PyObject *mirror = Py_BuildValue("{s:s,s:z,s:O}", "url", url, "ref", ref, "primary", Py_True);
			PyObject *u = PyUnicode_FromString(git ? url : translated);
			if (!mirror || !u || PyDict_SetItemString(d, "mirror", mirror) || PyDict_SetItemString(d, "url", u)) {
				Py_CLEAR(d);
			}
			Py_XDECREF(mirror);
			Py_XDECREF(u);
		}
		if (d && ref) {
			PyObject *r = PyUnicode_FromString(ref);
			if (!r || PyDict_SetItemString(d, "ref", r))
				Py_CLEAR(d);
			Py_XDECREF(r);
		}
		if (d && path) {
			PyObject *pth = PyUnicode_FromString(path);
			if (!pth || PyDict_SetItemString(d, "path", pth))
				Py_CLEAR(d);
			Py_XDECREF(pth);
		}
		if (!d || PyList_Append(out, d)) {
			Py_XDECREF(d);
			Py_CLEAR(out);
			break;
		}
		Py_DECREF(d);
	}
	return out;
}

static PyObject *r_element_info(PyObject *self, PyObject *args)
{
	const char *element, *kind;
	PyObject *d, *pub;
	(void)self;
	if (!PyArg_ParseTuple(args, "s", &element) || need_job("element_info", (void *)H->element_kind))
		return NULL;
	kind = H->element_kind(C, element);
	if (!kind) {
		PyErr_Format(RillError, "rill: no element '%s' in this build", element);
		return NULL;
	}
	pub = node_py(H->public_of(C, element));
	if (!pub)
		return NULL;
	d = Py_BuildValue("{s:s,s:N,s:s}", "kind", kind, "public", pub, "provenance",
			  H->provenance(C, H->element_node(C, element)));
	if (d) {
		PyObject *srcs = sources_list(element);
		if (!srcs || PyDict_SetItemString(d, "sources", srcs)) {
			Py_XDECREF(srcs);
			Py_DECREF(d);
			return NULL;
		}
		Py_DECREF(srcs);
	}
	return d;
}

static PyObject *r_public(PyObject *self, PyObject *args)
{
	(void)self;
	(void)args;
	if (need_call())
		return NULL;
	return node_py(H->element_public(C));
}

static PyMethodDef rill_methods[] = {
	{"subst", r_subst, METH_VARARGS, "Expand %{variables} of the element."},
	{"variable", r_variable, METH_VARARGS, "A variable of the element, or None."},
	{"warn", r_warn, METH_VARARGS, "Report a warning (token, where, text)."},
	{"message", r_message, METH_VARARGS, "A message of the plugin (kind, text, detail)."},
	{"translate_url", r_translate_url, METH_VARARGS, "Expand the URL's project alias."},
	{"project_dir", r_project_dir, METH_NOARGS, "The element's project directory."},
	{"element_name", r_element_name, METH_NOARGS, "The element's name."},
	{"cache_dir", r_cache_dir, METH_NOARGS, "rill's cache directory."},
	{"tmp_dir", r_tmp_dir, METH_NOARGS, "A directory for temporary files."},
	{"stage_deps", r_stage_deps, METH_VARARGS, "Stage the build dependencies at a sandbox path."},
	{"stage_dep", r_stage_dep, METH_VARARGS, "Stage one build dependency at a sandbox path."},
	{"stage_split", r_stage_split, METH_VARARGS, "Stage dependencies' files by split domains."},
	{"integrate", r_integrate, METH_NOARGS, "Run the staged dependencies' integration commands."},
	{"stage_sources", r_stage_sources, METH_VARARGS, "Stage the element's sources."},
	{"run", r_run, METH_VARARGS, "Run argv in the sandbox; returns the exit code."},
	{"run_commands", r_run_commands, METH_VARARGS, "Run shell commands in one sandbox."},
	{"host_path", r_host_path, METH_VARARGS, "The host path of a sandbox path."},
	{"workspace_prepared", r_workspace_prepared, METH_NOARGS, "Whether the workspace ran its configure-commands."},
	{"collect", r_collect, METH_VARARGS, "The sandbox directory that becomes the artifact."},
	{"mark_directory", r_mark_directory, METH_VARARGS, "A sandbox directory commands may write."},
	{"dependencies", r_dependencies, METH_VARARGS, "Names of dependencies in a scope."},
	{"element_info", r_element_info, METH_VARARGS, "Kind and public data of an element."},
	{"public", r_public, METH_NOARGS, "The element's public data."},
	{NULL, NULL, 0, NULL},
};

static struct PyModuleDef rill_module = {
	PyModuleDef_HEAD_INIT, "_rill", "rill's host services for BuildStream plugins", -1, rill_methods,
	NULL, NULL, NULL, NULL,
};

static PyObject *init_rill_module(void)
{
	PyObject *m = PyModule_Create(&rill_module);
	if (!m)
		return NULL;
	RillError = PyErr_NewException("_rill.Error", NULL, NULL);
	Py_INCREF(RillError);
	PyModule_AddObject(m, "Error", RillError);
	return m;
}

/* ---- plugin callbacks ------------------------------------------------------------------ */

#define KIND(c) ((const struct pykind *)H->plugin(c))

static int py_configure(const struct rill_host *host, struct rill_ctx *ctx, const struct rill_node *node,
			struct rill_configured *out)
{
	struct saved sv = enter(host, ctx);
	const struct pykind *k = KIND(ctx);
	PyObject *pynode = NULL, *extra = NULL, *r = NULL, *h = NULL;
	int rc = -1;
	pynode = node_py(node);
	if (!pynode)
		goto pyfail;
	extra = Py_BuildValue("{s:s,s:s}", "origin", k->origin, "where", k->where);
	if (!extra)
		goto pyfail;
	if (k->desc.type == RILL_PLUGIN_ELEMENT) {
		/* the public data is asked for when a plugin reads it (_rill.public()) */
		PyObject *env = node_py(host->element_environment(ctx));
		if (!env || PyDict_SetItemString(extra, "environment", env)) {
			Py_XDECREF(env);
			goto pyfail;
		}
		Py_DECREF(env);
		{
			PyObject *pv = PyUnicode_FromString(host->provenance(ctx, host->element_node(ctx, NULL)));
			if (!pv || PyDict_SetItemString(extra, "provenance", pv)) {
				Py_XDECREF(pv);
				goto pyfail;
			}
			Py_DECREF(pv);
		}
	}
	h = handle_of(node);
	r = PyObject_CallMethod(driver, "configure", "ssOOsO", k->type, k->kind, h, pynode, host->element_name(ctx),
				extra);
	if (!r)
		goto pyfail;
	if (r == Py_None) {
		out->unique_key = NULL;         /* a source without a ref */
	} else {
		out->unique_key = from_py(r);
		if (!out->unique_key)
			goto pyfail;
	}
	if (k->desc.type == RILL_PLUGIN_SOURCE && r != Py_None) {
		PyObject *cons = PyObject_CallMethod(driver, "consistency", "O", h);
		if (!cons)
			goto pyfail;
		/* cached at load time: nothing to fetch (local files, a filled mirror) */
		out->always_cached = PyLong_AsLong(cons) >= 2;
		Py_DECREF(cons);
	}
	rc = 0;
	goto out;
pyfail:
	rc = fail_call();
out:
	Py_XDECREF(pynode);
	Py_XDECREF(extra);
	Py_XDECREF(r);
	Py_XDECREF(h);
	leave(sv);
	return rc;
}

/* Call driver.<method>(handle, *rest); returns its result or NULL after recording the error. */
static PyObject *call_driver(const char *method, const struct rill_node *node, const char *arg)
{
	PyObject *h = handle_of(node), *r;
	r = arg ? PyObject_CallMethod(driver, method, "Os", h, arg) : PyObject_CallMethod(driver, method, "O", h);
	Py_DECREF(h);
	if (!r)
		fail_call();
	return r;
}

static int py_fetch(const struct rill_host *host, struct rill_ctx *ctx, const struct rill_node *node,
		    const char *dir)
{
	struct saved sv = enter(host, ctx);
	PyObject *r = call_driver("fetch", node, NULL);
	(void)dir;      /* the plugin keeps its own mirror; dir is rill's mark that it is fetched */
	Py_XDECREF(r);
	leave(sv);
	return r ? 0 : -1;
}

static int py_stage(const struct rill_host *host, struct rill_ctx *ctx, const struct rill_node *node,
		    const char *dir, const char *dest)
{
	struct saved sv = enter(host, ctx);
	PyObject *r = call_driver("stage", node, dest);
	(void)dir;
	Py_XDECREF(r);
	leave(sv);
	return r ? 0 : -1;
}

static int py_track(const struct rill_host *host, struct rill_ctx *ctx, const struct rill_node *node,
		    const char **ref)
{
	struct saved sv = enter(host, ctx);
	PyObject *r = call_driver("track", node, NULL);
	int rc = -1;
	*ref = NULL;
	if (r) {
		if (r == Py_None) {
			rc = 0;
		} else if (PyUnicode_Check(r)) {
			*ref = host->str(host->new_str(ctx, PyUnicode_AsUTF8(r)));
			rc = 0;
		} else {
			/* a list or map (cargo's crates, pypi's suffix and checksum): JSON, which is YAML
			 * flow text, after the marker */
			PyObject *json = PyImport_ImportModule("json"), *text = NULL;
			if (json)
				text = PyObject_CallMethod(json, "dumps", "O", r);
			if (text && PyUnicode_Check(text)) {
				const char *t = PyUnicode_AsUTF8(text);
				size_t n = strlen(t);
				char *flow = malloc(n + 2);
				if (flow) {
					flow[0] = RILL_REF_FLOW;
					memcpy(flow + 1, t, n + 1);
					*ref = host->str(host->new_str(ctx, flow));
					free(flow);
					rc = 0;
				}
			} else {
				fail_call();
			}
			Py_XDECREF(text);
			Py_XDECREF(json);
		}
	}
	Py_XDECREF(r);
	leave(sv);
	return rc;
}

static int py_assemble(const struct rill_host *host, struct rill_ctx *ctx, const struct rill_node *config)
{
	struct saved sv = enter(host, ctx);
	PyObject *r = call_driver("assemble", config, NULL);
	Py_XDECREF(r);
	leave(sv);
	return r ? 0 : -1;
}

/* ---- the bridge ------------------------------------------------------------------------ */

static int b_init(const struct rill_host *host, const char *dir, char *err, size_t errlen)
{
	PyConfig cfg;
	PyStatus st;
	PyObject *sys_path, *d, *m;
	(void)host;
	/* extension modules of the interpreter (math, _json, ...) expect its symbols global */
	if (!dlopen(RILL_PYTHON_SONAME, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD))
		dlopen(RILL_PYTHON_SONAME, RTLD_NOW | RTLD_GLOBAL);
	if (PyImport_AppendInittab("_rill", init_rill_module) < 0) {
		copy_msg(err, errlen, "cannot register the _rill module");
		return -1;
	}
	PyConfig_InitPythonConfig(&cfg);
	cfg.install_signal_handlers = 0;        /* the backend's signals stay the backend's */
	cfg.parse_argv = 0;
	/* the interpreter BuildStream runs under, wherever PATH points */
	st = PyConfig_SetBytesString(&cfg, &cfg.program_name, RILL_PYTHON_EXE);
	if (!PyStatus_Exception(st))
		st = Py_InitializeFromConfig(&cfg);
	PyConfig_Clear(&cfg);
	if (PyStatus_Exception(st)) {
		copy_msg(err, errlen, st.err_msg ? st.err_msg : "cannot start the Python interpreter");
		return -1;
	}
	sys_path = PySys_GetObject("path");
	d = PyUnicode_FromString(dir);
	if (!sys_path || !d || PyList_Insert(sys_path, 0, d)) {
		Py_XDECREF(d);
		copy_msg(err, errlen, "cannot set sys.path");
		return -1;
	}
	Py_DECREF(d);
	driver = PyImport_ImportModule("buildstream._rill_driver");
	m = driver ? PyImport_ImportModule("buildstream._rill_node") : NULL;
	prov_class = m ? PyObject_GetAttrString(m, "Provenance") : NULL;
	Py_XDECREF(m);
	if (!driver || !prov_class) {
		char *msg = exception_text();
		snprintf(err, errlen, "cannot import rill's buildstream package from %s: %s", dir, msg);
		free(msg);
		return -1;
	}
	return 0;
}

static const struct rill_plugin *b_load(const struct rill_bridge_request *req, const char **defaults, char *err,
					size_t errlen)
{
	const char *type = req->type == RILL_PLUGIN_SOURCE ? "source" : "element";
	PyObject *r, *v;
	struct pykind *k;
	*defaults = NULL;
	r = PyObject_CallMethod(driver, "load", "sssss", type, req->kind, req->origin, req->where, req->project_dir);
	if (!r) {
		char *msg = exception_text();
		copy_msg(err, errlen, msg);
		free(msg);
		return NULL;
	}
	k = calloc(1, sizeof(*k));
	k->kind = strdup(req->kind);
	k->type = type;
	k->origin = strdup(req->origin);
	k->where = strdup(req->where);
	k->desc.abi_version = RILL_PLUGIN_ABI_VERSION;
	k->desc.type = req->type;
	k->desc.kind = k->kind;
	k->desc.data = k;
	v = PyDict_GetItemString(r, "flags");
	k->desc.flags = v ? (unsigned)(PyLong_AsLong(v) & 0xff) : 0;
	v = PyDict_GetItemString(r, "artifact_version");
	k->desc.artifact_version = v ? (int)PyLong_AsLong(v) : 0;
	v = PyDict_GetItemString(r, "format_version");
	k->desc.format_version = v ? (int)PyLong_AsLong(v) : 0;
	v = PyDict_GetItemString(r, "defaults");
	if (v && PyUnicode_Check(v))
		*defaults = strdup(PyUnicode_AsUTF8(v));
	PyErr_Clear();
	k->desc.configure = py_configure;
	if (req->type == RILL_PLUGIN_SOURCE) {
		k->desc.fetch = py_fetch;
		k->desc.stage = py_stage;
		k->desc.track = py_track;
	} else {
		k->desc.assemble = py_assemble;
	}
	Py_DECREF(r);
	return &k->desc;
}

static void b_before_fork(void)
{
	PyOS_BeforeFork();
}

static void b_after_fork(int child)
{
	if (child)
		PyOS_AfterFork_Child();
	else
		PyOS_AfterFork_Parent();
}

RILL_PLUGIN_EXPORT const struct rill_bridge rill_bridge = {
	.abi_version = RILL_BRIDGE_ABI_VERSION,
	.init = b_init,
	.load = b_load,
	.before_fork = b_before_fork,
	.after_fork = b_after_fork,
};
