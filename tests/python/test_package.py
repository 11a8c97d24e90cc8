#!/usr/bin/python3
# Tests of rill's own `buildstream` package (plugins/python/buildstream) with a
# stand-in `_rill` host module; where Debian's bst 1.6.8 is installed, results
# are compared with what bst itself computes for the same input.
# Run from the repository root: /usr/bin/python3 tests/python/test_package.py
# SPDX-License-Identifier: Apache-2.0
"""Unit and differential tests of rill's Python plugin API."""

import collections.abc
import configparser
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import traceback
import types

sys.dont_write_bytecode = True

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLUGINS = os.path.join(REPO, 'plugins', 'python')
SYSTEM_PYTHON = '/usr/bin/python3'
BST_EXTERNAL = 'BuildStream-external'

sys.path.insert(0, PLUGINS)
for _name in [n for n in sys.modules if n == 'buildstream' or n.startswith('buildstream.')]:
    del sys.modules[_name]

SCRATCH = tempfile.mkdtemp(prefix='rill-pytest-')


#
# The stand-in host
#
class FakeHost():
    """In-memory `_rill`: variables, a sandbox root in a temporary directory,
    and a record of every staging and run call."""

    def __init__(self):
        self.serial = 0
        self.reset()

    def reset(self):
        self.serial += 1
        self.variables = {}
        self.element = 'e.bst'
        self.project = os.path.join(SCRATCH, 'project')
        self.cache = os.path.join(SCRATCH, 'cache')
        self.tmp = os.path.join(SCRATCH, 'tmp')
        self.root = os.path.join(SCRATCH, 'root-{}'.format(self.serial))
        for directory in (self.project, self.cache, self.tmp, self.root):
            os.makedirs(directory, exist_ok=True)
        for shell in ('bin/sh', 'usr/bin/sh'):
            os.makedirs(os.path.dirname(os.path.join(self.root, shell)), exist_ok=True)
            with open(os.path.join(self.root, shell), 'w', encoding='utf-8'):
                pass
        self.messages = []
        self.warnings = []
        self.fatal = set()
        self.deps = {}
        self.infos = {}
        self.aliases = {'gh': 'https://example.com/'}
        self.mirrors = None
        self.exit_codes = []
        self.calls = []
        self.manifests = {}

    def expand(self, text, provenance, seen=()):
        def one(match):
            name = match.group(1)
            if name not in self.variables:
                message = "Reference to undefined variable '{}'".format(name)
                raise RILL.Error("{}: {}".format(provenance, message) if provenance else message)
            if name in seen:
                raise RILL.Error("circular {}".format(name))
            return self.expand(self.variables[name], provenance, seen + (name,))
        return re.sub(r"%\{([a-zA-Z][a-zA-Z0-9_-]*)\}", one, text)

    def module(self):
        host = self
        module = types.ModuleType('_rill')

        class Error(Exception):
            pass
        module.Error = Error

        def record(name):
            def function(*args):
                host.calls.append((name,) + args)
            return function

        module.subst = lambda text, provenance: host.expand(text, provenance)
        module.variable = lambda name: (host.expand(host.variables[name], None)
                                        if name in host.variables else None)

        def warn(token, where, text, detail=None):
            host.warnings.append((token, where, text, detail))
            if token in host.fatal:
                raise Error(text)
        module.warn = warn
        module.message = lambda kind, text, detail: host.messages.append((kind, text, detail))

        def translate_url(url, primary):
            alias, sep, rest = url.partition(':')
            if not sep or alias in ('http', 'https', 'file', 'git', 'ssh', 'ftp', 'sftp'):
                return url
            if alias not in host.aliases:
                raise Error("unknown alias {}".format(alias))
            return host.aliases[alias] + rest
        module.translate_url = translate_url
        module.project_dir = lambda: host.project
        module.element_name = lambda: host.element
        module.cache_dir = lambda: host.cache
        module.tmp_dir = lambda: host.tmp
        for name in ('stage_deps', 'stage_dep', 'stage_split', 'integrate', 'stage_sources',
                     'collect', 'stage_artifact', 'mark_directory'):
            setattr(module, name, record(name))

        def run(argv, flags, cwd, env):
            host.calls.append(('run', argv, flags, cwd, env))
            return host.exit_codes.pop(0) if host.exit_codes else 0
        module.run = run
        module.host_path = lambda path: os.path.join(host.root, path.lstrip('/'))

        def dependencies(scope, recurse, name=None):
            return list(host.deps.get((name or host.element, scope, recurse), []))
        module.dependencies = dependencies
        module.element_info = lambda name: host.infos[name]
        module.manifest = lambda name, include, exclude, orphans: list(host.manifests.get(name, []))

        def alias_uris(alias):
            if host.mirrors is None:
                return [host.aliases.get(alias)]
            return list(host.mirrors.get(alias, [])) + [host.aliases.get(alias)]
        module.alias_uris = alias_uris
        return module


HOST = FakeHost()
RILL = HOST.module()
sys.modules['_rill'] = RILL

import buildstream  # noqa: E402  pylint: disable=wrong-import-position
if not buildstream.__file__.startswith(PLUGINS + os.sep):
    sys.exit("imported {} instead of rill's package".format(buildstream.__file__))
from buildstream import (BuildElement, Consistency, Element, ElementError, Plugin,  # noqa: E402
                         SandboxFlags, Scope, ScriptElement, Source, SourceError, SourceFetcher,
                         utils)
from buildstream import _rill_driver as driver  # noqa: E402
from buildstream import _yaml  # noqa: E402
from buildstream._exceptions import LoadError, PluginError, ImplError  # noqa: E402
from buildstream._rill_node import PROVENANCE_KEY, Provenance, make_node  # noqa: E402


#
# Test machinery
#
TESTS = []


class Skip(Exception):
    """The test cannot run here (e.g. no bst 1.6.8 to compare with)."""


def test(name):
    def register(function):
        TESTS.append((name, function))
        return function
    return register


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def equal(actual, expected, what='value'):
    if actual != expected:
        raise AssertionError("{}: expected {!r}, got {!r}".format(what, expected, actual))


def raises(function, error_type, message=None, pattern=None):
    try:
        function()
    except error_type as e:
        if message is not None and str(e) != message:
            raise AssertionError("message: expected {!r}, got {!r}".format(message, str(e))) from e
        if pattern is not None and not re.fullmatch(pattern, str(e), re.DOTALL):
            raise AssertionError("message {!r} does not match {!r}".format(str(e), pattern)) from e
        return e
    raise AssertionError("no {} raised".format(error_type.__name__))


def canonical(value):
    """The JSON text bst hashes for a key (json with ujson's settings)."""
    return json.dumps(driver.sanitize(value), sort_keys=True, separators=(',', ':'),
                      ensure_ascii=True)


_handles = [1000]


def new_handle():
    _handles[0] += 1
    return _handles[0]


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write(textwrap.dedent(text))


def node(data, where='e.bst [line 1 column 0]'):
    return make_node(data, where)


def load_local(directory, kind, plugin_type='element'):
    return driver.load(plugin_type, kind, 'local', directory, HOST.project)


def configure(plugin_type, kind, data, name='e.bst', extra=None, handle=None):
    handle = handle or new_handle()
    key = driver.configure(plugin_type, kind, handle, node(data), name, extra or {})
    return handle, key, driver._instances[handle]


#
# Plugin fixtures: a local plugin directory inside the stand-in project
#
LOCAL = os.path.join(SCRATCH, 'project', 'plugins')

FIXTURES = {
    '_helper.py': """
        from buildstream import Element
        class Helper(Element):
            def configure(self, node):
                self.word = self.node_get_member(node, str, 'word', 'hi')
            def preflight(self):
                pass
            def get_unique_key(self):
                return {'word': self.word}
        """,
    'rel.py': """
        from ._helper import Helper
        class Rel(Helper):
            pass
        def setup():
            return Rel
        """,
    'nosetup.py': "X = 1\n",
    'setupattr.py': "def setup():\n    return None.nothing\n",
    'snf.py': "setup = 5\n",
    'notsub.py': "class Foo:\n    pass\ndef setup():\n    return Foo\n",
    'srcaselem.py': "from buildstream import Source\nclass S(Source):\n    pass\ndef setup():\n    return S\n",
    'nottype.py': "def setup():\n    return 5\n",
    'rv.py': ("from buildstream import Element\nclass E(Element):\n    BST_REQUIRED_VERSION_MAJOR = 1\n"
              "    BST_REQUIRED_VERSION_MINOR = 9\ndef setup():\n    return E\n"),
    'mv.py': ("from buildstream import Element\nclass E(Element):\n    BST_MIN_VERSION = '2.0'\n"
              "def setup():\n    return E\n"),
    'mb.py': ("from buildstream import Element\nclass E(Element):\n    BST_MIN_VERSION = 'garbage'\n"
              "def setup():\n    return E\n"),
    'ie.py': "import nosuchmodule_xyz\n",
    'boom.py': "def setup():\n    raise RuntimeError('boom in setup')\n",
    'mybuild.py': """
        from buildstream import BuildElement
        class MyBuildElement(BuildElement):
            BST_FORMAT_VERSION = 1
        def setup():
            return MyBuildElement
        """,
    'myscript.py': """
        from buildstream import ScriptElement
        class MyScript(ScriptElement):
            def configure(self, node):
                for item in self.node_get_member(node, list, 'layout', []):
                    element = self.node_subst_member(item, 'element') if 'element' in item else None
                    self.layout_add(element, self.node_subst_member(item, 'destination'))
                self.node_validate(node, ['commands', 'root-read-only', 'layout'])
                self.add_commands("commands", self.node_subst_list(node, "commands"))
                self.set_work_dir()
                self.set_install_root()
                self.set_root_read_only(self.node_get_member(node, bool, 'root-read-only', False))
        def setup():
            return MyScript
        """,
    'badcollect.py': """
        from buildstream import Element
        class Bad(Element):
            def configure(self, node):
                pass
            def preflight(self):
                pass
            def get_unique_key(self):
                return 1
            def configure_sandbox(self, sandbox):
                pass
            def stage(self, sandbox):
                pass
            def assemble(self, sandbox):
                self.set_public_data('extra', {'made': 'yes'})
                return '/nope'
        def setup():
            return Bad
        """,
    'tool.py': """
        from buildstream import Element
        class Tool(Element):
            def configure(self, node):
                pass
            def preflight(self):
                pass
            def get_unique_key(self):
                return (1, [2, (3,)])
        def setup():
            return Tool
        """,
    'mysource.py': """
        from buildstream import Source, SourceFetcher, SourceError, Consistency
        class Mirror(SourceFetcher):
            def __init__(self, source, url):
                super().__init__()
                self.source = source
                self.url = url
                self.mark_download_url(url)
            def fetch(self, alias_override=None):
                url = self.source.translate_url(self.url, alias_override=alias_override)
                self.source.tried.append(url)
                if 'bad' in url:
                    raise SourceError('cannot reach ' + url)
        class MySource(Source):
            def configure(self, node):
                self.node_validate(node, ['url', 'ref', 'extra'] + Source.COMMON_CONFIG_KEYS)
                self.url = self.node_get_member(node, str, 'url')
                self.ref = self.node_get_member(node, str, 'ref', None)
                self.extra = self.node_get_member(node, list, 'extra', [])
                self.mark_download_url(self.url)
                for url in self.extra:
                    self.mark_download_url(url, primary=False)
                self.fetchers = [Mirror(self, u) for u in [self.url] + self.extra]
                self.tried = []
                self.staged = []
            def preflight(self):
                pass
            def get_unique_key(self):
                return [self.url, self.ref]
            def get_consistency(self):
                return Consistency.RESOLVED if self.ref else Consistency.INCONSISTENT
            def get_ref(self):
                return self.ref
            def set_ref(self, ref, node):
                self.ref = node['ref'] = ref
            def track(self):
                return {'commit': 'abc', 'list': ('x', 'y')}
            def get_source_fetchers(self):
                return self.fetchers
            def stage(self, directory):
                self.staged.append(directory)
        def setup():
            return MySource
        """,
}


def make_fixtures():
    for name, text in FIXTURES.items():
        write(os.path.join(LOCAL, name), text)
    write(os.path.join(LOCAL, 'rel.yaml'), "config: {}\n")


#
# Loading plugins
#
@test('load local plugin with a relative sibling import')
def _():
    info = load_local(LOCAL, 'rel')
    equal(info['format_version'], 0, 'format version')
    equal(info['defaults'], os.path.join(LOCAL, 'rel.yaml'), 'defaults')
    _, key, instance = configure('element', 'rel', {'word': ' yo '})
    equal(instance.get_kind(), 'rel', 'kind')
    check(type(instance).__module__.endswith('._sp' + type(instance).__module__.split('._sp')[1]),
          'module name')
    equal(type(instance).__module__.rsplit('.', 1)[-1], 'rel', 'module kind')
    equal(key, {'word': 'yo'}, 'key')
    equal(str(instance), 'rel element at e.bst [line 1 column 0]', 'str()')


SETUP_ERRORS = [
    ('nosetup', "Element plugin 'nosetup' did not provide a setup() function"),
    ('setupattr', "Element plugin 'setupattr' did not provide a setup() function"),
    ('snf', "setup symbol in Element plugin 'snf' is not a function"),
    ('notsub', "Element plugin 'notsub' returned type 'Foo', which is not a subclass of Element"),
    ('srcaselem', "Element plugin 'srcaselem' returned type 'S', which is not a subclass of Element"),
    ('nottype', "Element plugin 'nottype' returned something that is not a type "
                "(expected subclass of Element)"),
    ('rv', "BuildStream 1.6 is too old for Element plugin 'rv' (requires 1.9)"),
    ('mv', "Loaded plugin 'mv' is a BuildStream 2 plugin"),
    ('mb', "Loaded plugin 'mb' is not a BuildStream 1 plugin"),
    ('ie', "Failed to load Element plugin 'ie': No module named 'nosuchmodule_xyz'"),
    ('a.b', "Failed to load Element plugin 'a.b': Plugin names cannot contain dots."),
]


@test('setup() and class check errors have bst messages')
def _():
    for kind, message in SETUP_ERRORS:
        raises(lambda kind=kind: load_local(LOCAL, kind), driver.LoadFailure, message)
    error = raises(lambda: load_local(LOCAL, 'mv'), driver.LoadFailure)
    equal(error.detail, "You need to use BuildStream 1 plugins with BuildStream 1 projects", 'detail')
    error = raises(lambda: load_local(LOCAL, 'mb'), driver.LoadFailure)
    equal(error.detail, "Error parsing BST_MIN_VERSION: Malformed version string: garbage", 'detail')
    equal(driver.describe_error(error)[:3:2], ("Loaded plugin 'mb' is not a BuildStream 1 plugin", False),
          'describe_error')


@test('missing local module names pluginbase space as bst')
def _():
    raises(lambda: load_local(LOCAL, 'nomod'), driver.LoadFailure,
           pattern=r"Failed to load Element plugin 'nomod': No module named "
                   r"'pluginbase\._internalspace\._sp[0-9a-f]{32}\.nomod'")
    raises(lambda: load_local(LOCAL, 'nomod', 'source'), driver.LoadFailure,
           pattern=r"Failed to load Source plugin 'nomod': No module named '.*\.nomod'")


@test('exception in setup() is a bug, not a load failure')
def _():
    error = raises(lambda: load_local(LOCAL, 'boom'), RuntimeError, 'boom in setup')
    message, detail, is_bug = driver.describe_error(error)
    equal((message, is_bug), ('boom in setup', True), 'describe_error')
    check('Traceback' in detail and "raise RuntimeError('boom in setup')" in detail, 'traceback')


ENTRY_POINTS = {
    'cargo': 'source', 'check_forbidden': 'element', 'collect_integration': 'element',
    'collect_manifest': 'element', 'cpan': 'source', 'docker': 'source', 'dpkg_build': 'element',
    'dpkg_deploy': 'element', 'flatpak_image': 'element', 'flatpak_repo': 'element',
    'git_tag': 'source', 'oci': 'element', 'patch_queue': 'source', 'pypi': 'source',
    'quilt': 'source', 'snap_image': 'element', 'tar_element': 'element', 'x86image': 'element',
}


def need_bst_external():
    if not os.path.isdir('/usr/lib/python3/dist-packages/bst_external'):
        raise Skip('python3-bst-external is not installed')


@test('all 18 loadable bst_external plugins load via origin pip')
def _():
    need_bst_external()
    expected = {
        'collect_manifest': (2, 1, driver.FLAG_STRICT_REBUILD),
        'tar_element': (0, 0, driver.FLAG_STRICT_REBUILD | driver.FLAG_FORBID_RDEPENDS |
                        driver.FLAG_FORBID_SOURCES),
        'x86image': (0, 0, driver.FLAG_STRICT_REBUILD | driver.FLAG_FORBID_RDEPENDS |
                     driver.FLAG_FORBID_SOURCES),
        'flatpak_repo': (0, 1, driver.FLAG_STRICT_REBUILD | driver.FLAG_FORBID_RDEPENDS |
                         driver.FLAG_FORBID_SOURCES),
        'git_tag': (2, 0, 0),
        'cargo': (0, 0, driver.FLAG_REQUIRES_PREVIOUS_SOURCES_TRACK),
        'dpkg_build': (0, 0, 0),
    }
    for kind, plugin_type in sorted(ENTRY_POINTS.items()):
        info = driver.load(plugin_type, kind, 'pip', BST_EXTERNAL, HOST.project)
        if kind in expected:
            equal((info['format_version'], info['artifact_version'], info['flags']), expected[kind],
                  kind + ' format/artifact/flags')
        cls = driver._last_loaded[(plugin_type, kind)][0]
        equal(cls.__module__.rsplit('.', 1)[-1], kind, kind + ' module')
    info = driver.load('element', 'dpkg_build', 'pip', BST_EXTERNAL, HOST.project)
    check(info['defaults'].endswith('bst_external/elements/dpkg_build.yaml'), 'dpkg_build defaults')
    check(issubclass(driver._last_loaded[('element', 'dpkg_build')][0], BuildElement), 'dpkg_build base')
    check(issubclass(driver._last_loaded[('element', 'x86image')][0], ScriptElement), 'x86image base')


@test('fastbootBootImage/fastbootExt4Image fail as in bst')
def _():
    need_bst_external()
    for kind in ('fastbootBootImage', 'fastbootExt4Image'):
        raises(lambda kind=kind: driver.load('element', kind, 'pip', BST_EXTERNAL, HOST.project),
               driver.LoadFailure,
               pattern=r"Failed to load Element plugin '{}': No module named "
                       r"'pluginbase\._internalspace\._sp[0-9a-f]{{32}}\.{}'".format(kind, kind))


@test('pip errors: missing distribution, missing entry point, name matching')
def _():
    need_bst_external()
    raises(lambda: driver.load('element', 'collect_manifest', 'pip', 'nosuch-dist', HOST.project),
           driver.LoadFailure,
           "Failed to load Element plugin 'collect_manifest': The 'nosuch-dist' distribution was "
           "not found and is required by the application")
    raises(lambda: driver.load('element', 'nokind', 'pip', 'buildstream_external', HOST.project),
           driver.LoadFailure, "Pip package buildstream_external does not contain a plugin named 'nokind'")
    raises(lambda: driver.load('source', 'git_module', 'pip', 'BUILDSTREAM-EXTERNAL', HOST.project),
           driver.LoadFailure,
           "Pip package BUILDSTREAM-EXTERNAL does not contain a plugin named 'git_module'")
    # Once a kind of the package was found, later kinds come from its directory (bst's cache)
    driver.load('source', 'git_tag', 'pip', 'buildstream-external', HOST.project)
    info = driver.load('source', 'git_module', 'pip', 'buildstream-external', HOST.project)
    equal(info['format_version'], 2, 'git_module format version')
    check(info['defaults'].endswith('sources/git_module.yaml'), 'git_module defaults via inspect')


#
# Differential tests: the same input through bst 1.6.8 and through rill's package
#
REFERENCE = {}

REF_PROJECT_CONF = """
    name: t
    element-path: elements
    aliases:
      gh: https://example.com/
    plugins:
    - origin: local
      path: plugins
      elements:
        mybuild: 1
        myscript: 0
    - origin: pip
      package-name: BuildStream-external
      elements:
        check_forbidden: 0
        collect_integration: 0
        collect_manifest: 2
        dpkg_build: 0
        dpkg_deploy: 0
        flatpak_image: 0
        flatpak_repo: 0
        oci: 0
        snap_image: 0
        tar_element: 0
        x86image: 0
      sources:
        git_tag: 2
        patch_queue: 0
        cargo: 0
        cpan: 0
        pypi: 0
        docker: 0
    """

REF_MYBUILD_YAML = """
    variables:
      greeting: from-plugin-yaml
    config:
      configure-commands:
      - ./configure --prefix=%{prefix}
      build-commands:
      - echo %{greeting} %{other}
      install-commands:
      - |
        mkdir -p %{install-root}/usr
        echo %{greeting} > %{install-root}/usr/greeting
    """

# name -> (.bst text, build dependencies)
REF_ELEMENTS = {
    'base.bst': ("kind: stack\n", []),
    'hello.bst': ("""
        kind: mybuild
        build-depends: [base.bst]
        variables:
          other: from-element
          notparallel: 'False'
        """, ['base.bst']),
    'hello2.bst': ("""
        kind: mybuild
        build-depends: [base.bst]
        variables:
          other: two
        config:
          create-dev-shm: true
          strip-commands:
          - '%{strip-binaries}'
        """, ['base.bst']),
    'script.bst': ("""
        kind: myscript
        build-depends: [base.bst, hello.bst]
        config:
          root-read-only: true
          layout:
          - element: base.bst
            destination: /
          - element: hello.bst
            destination: /sysroot
          - destination: '%{install-root}'
          commands:
          - ls %{install-root}
          - |
            echo done
        """, ['base.bst', 'hello.bst']),
    'bld.bst': ("kind: dpkg_build\nbuild-depends: [base.bst]\n", ['base.bst']),
    'deploy.bst': ("""
        kind: dpkg_deploy
        build-depends: [base.bst, bld.bst]
        config:
          base: base.bst
          input: bld.bst
        """, ['base.bst', 'bld.bst']),
    'cf.bst': ("""
        kind: check_forbidden
        build-depends: [base.bst]
        config:
          forbidden: [x.bst, a.bst]
        """, ['base.bst']),
    'ci.bst': ("""
        kind: collect_integration
        build-depends: [base.bst, hello.bst]
        config:
          script-path: '%{bindir}/post.sh'
          ignore: [base.bst]
        """, ['base.bst', 'hello.bst']),
    'cm.bst': ("""
        kind: collect_manifest
        build-depends: [hello.bst]
        config:
          path: /usr/share/m.json
        """, ['hello.bst']),
    'fi.bst': ("""
        kind: flatpak_image
        build-depends: [base.bst]
        variables:
          arch: x86_64
        config:
          directory: '%{prefix}'
          include: [runtime]
          exclude: [debug]
          metadata:
            Application:
              name: org.x.App
              runtime: org.x.Platform/%{arch}/1
            Extension org.x.Debug:
              directory: lib/debug
        """, ['base.bst']),
    'fr.bst': ("""
        kind: flatpak_repo
        build-depends: [base.bst, fi.bst]
        variables:
          arch: x86_64
        config:
          environment: [base.bst]
          copy-refs:
          - src: app/org.x.App/x86_64/stable
            dest: app/org.y.App/x86_64/stable
          repo-mode: bare
          branch: stable
        """, ['base.bst', 'fi.bst']),
    'oci.bst': ("""
        kind: oci
        build-depends: [base.bst]
        config:
          mode: docker
          gzip: False
          images:
          - architecture: amd64
            os: linux
            tags: ['x:latest']
            layer: [base.bst]
            author: me
            comment: 'a comment'
            config:
              Env: [A=1]
              Cmd: [sh]
              WorkingDir: /
              Memory: '1024'
              Healthcheck:
                Test: [CMD, 'true']
                Retries: 3
        """, ['base.bst']),
    'snap.bst': ("""
        kind: snap_image
        build-depends: [base.bst]
        config:
          directory: /
          metadata:
            name: x
            version: '1.0'
            apps:
              x:
                command: bin/x
            plugs: [home, network]
        """, ['base.bst']),
    'tar.bst': ("""
        kind: tar_element
        build-depends: [base.bst]
        config:
          compression: xz
        """, ['base.bst']),
    'x86.bst': ("""
        kind: x86image
        build-depends: [base.bst, bld.bst]
        config:
          base: base.bst
          input: bld.bst
        """, ['base.bst', 'bld.bst']),
    'srcs.bst': ("""
        kind: import
        sources:
        - kind: git_tag
          url: gh:repo.git
          ref: v1.2.3-0-g0123456789abcdef0123456789abcdef01234567
          track: master
          submodules:
            sub:
              url: gh:sub.git
              checkout: false
        - kind: patch_queue
          path: patches
          directory: sub
        - kind: cargo
          ref:
          - name: foo
            version: '1.0'
            sha: 0000000000000000000000000000000000000000000000000000000000000000
        - kind: cpan
          name: Foo
          url: gh:Foo-1.0.tar.gz
          sha256sum: 1111111111111111111111111111111111111111111111111111111111111111
        - kind: pypi
          name: foo
          ref:
            sha256sum: 2222222222222222222222222222222222222222222222222222222222222222
            suffix: aa/bb/foo-1.0.tar.gz
        - kind: docker
          image: library/alpine
          ref: 3333333333333333333333333333333333333333333333333333333333333333
        """, []),
}

NODE_CASE = """
    kind: manual
    config:
      name: '  padded  '
      count: 42
      flag: True
      bad: yes
      off: false
      nothing: ~
      empty:
      list: [a, ' b ', [c, d]]
      map: {x: 1}
      float: 1.5
      path: files
      link: lnk
      up: ../x
      abs: /etc
      missing: nope
      afile: afile
    """

NODE_OPS = [
    ['get', 'name', 'str', '@sentinel', None], ['get', 'count', 'int', '@sentinel', None],
    ['get', 'count', 'str', '@sentinel', None], ['get', 'flag', 'bool', '@sentinel', None],
    ['get', 'bad', 'bool', '@sentinel', None], ['get', 'off', 'bool', '@sentinel', None],
    ['get', 'nothing', 'str', '@sentinel', None], ['get', 'empty', 'str', '@sentinel', None],
    ['get', 'list', 'list', '@sentinel', None], ['get', 'list', 'str', '@sentinel', None],
    ['get', 'map', 'dict', '@sentinel', None], ['get', 'map', 'Mapping', '@sentinel', None],
    ['get', 'map', 'str', '@sentinel', None], ['get', 'name', 'Mapping', '@sentinel', None],
    ['get', 'float', 'int', '@sentinel', None], ['get', 'float', 'float', '@sentinel', None],
    ['get', 'count', 'list', '@sentinel', None], ['get', 'absent', 'str', '@sentinel', None],
    ['get', 'absent', 'str', 'dflt', None], ['get', 'absent', 'str', None, None],
    ['get', 'absent', 'bool', 'false', None], ['get', 'list', 'str', '@sentinel', [1]],
    ['get', 'list', 'str', '@sentinel', [2]], ['get', 'list', 'str', '@sentinel', [2, 0]],
    ['get', 'list', 'int', '@sentinel', [0]], ['get', 'absent', 'str', '@sentinel', [0]],
    ['validate', ['name', 'count']],
    ['validate', ['name', 'count', 'flag', 'bad', 'off', 'nothing', 'empty', 'list', 'map', 'float',
                  'path', 'link', 'up', 'abs', 'missing', 'afile']],
    ['project_path', 'path', False, True], ['project_path', 'path', True, False],
    ['project_path', 'afile', True, False], ['project_path', 'afile', False, True],
    ['project_path', 'link', False, False], ['project_path', 'up', False, False],
    ['project_path', 'abs', False, False], ['project_path', 'missing', False, False],
    ['provenance', None], ['provenance', 'count'], ['provenance', 'absent'], ['items'],
]

GLOB_PATTERNS = ['*.so', '**/lib*.so*', 'a/?', '[!abc]x', '[abc', '[]]', '[^x]y', '/usr/**', 'a.b+c']
GLOB_PATHS = ['lib.so', 'usr/lib/libz.so.1', '/usr/lib/libz.so', 'a/b', 'a/bc', 'dx', 'ax', '[abc',
              ']', '^y', 'xy', 'usr/share/x', 'a.b+c', 'aXb+c']
URLS = ['https://example.com/a b?c=d%20e', 'gh:repo.git', 'ÿ-ü']


def make_tree(root):
    write(os.path.join(root, 'top'), 'top file\n')
    write(os.path.join(root, 'a', 'b', 'file'), 'file\n')
    os.makedirs(os.path.join(root, 'a', 'empty'))
    os.makedirs(os.path.join(root, 'onlydirs', 'deeper', 'deepest'))
    os.symlink('a', os.path.join(root, 'link-to-dir'))
    os.symlink('/a/b/file', os.path.join(root, 'abs-link'))
    os.symlink('nowhere', os.path.join(root, 'broken'))
    os.chmod(os.path.join(root, 'a', 'b'), 0o700)


def make_dest(root):
    write(os.path.join(root, 'top'), 'old\n')
    write(os.path.join(root, 'broken', 'blocker'), 'keeps the directory\n')
    os.makedirs(os.path.join(root, 'a', 'empty'))


def run_reference():
    """Run bst 1.6.8 on the inputs once; REFERENCE gets its answers or 'error'."""
    if REFERENCE:
        return REFERENCE
    base = os.path.join(SCRATCH, 'ref')
    project = os.path.join(base, 'project')
    write(os.path.join(project, 'project.conf'), REF_PROJECT_CONF)
    write(os.path.join(project, 'plugins', 'mybuild.py'), FIXTURES['mybuild.py'])
    write(os.path.join(project, 'plugins', 'myscript.py'), FIXTURES['myscript.py'])
    write(os.path.join(project, 'plugins', 'mybuild.yaml'), REF_MYBUILD_YAML)
    write(os.path.join(project, 'patches', 'a.patch'), '--- a\n+++ b\n')
    write(os.path.join(project, 'afile'), 'a file\n')
    os.makedirs(os.path.join(project, 'files'))
    os.symlink('files', os.path.join(project, 'lnk'))
    for name, (text, _) in REF_ELEMENTS.items():
        write(os.path.join(project, 'elements', name), text)
    case = os.path.join(base, 'cases', 'e.bst')
    write(case, NODE_CASE)
    make_tree(os.path.join(base, 'tree'))
    for dest in ('dest-bst', 'dest-rill'):
        make_dest(os.path.join(base, dest))

    request = {
        'project_dir': project,
        'node_cases': [{'file': case, 'path': ['config'], 'ops': NODE_OPS},
                       {'file': case, 'path': [], 'ops': [['get', 'config', 'Mapping', '@sentinel', None],
                                                          ['validate', ['kind']]]}],
        'utils': {'tree': os.path.join(base, 'tree'), 'dest': os.path.join(base, 'dest-bst'),
                  'patterns': GLOB_PATTERNS, 'paths': GLOB_PATHS, 'urls': URLS},
        'project': project,
        'targets': [n for n in REF_ELEMENTS if n != 'base.bst'],
    }
    script = os.path.join(base, 'bst_reference.py')
    write(script, REF_SCRIPT)
    with open(os.path.join(base, 'in.json'), 'w', encoding='utf-8') as handle:
        json.dump(request, handle)
    home = os.path.join(base, 'home')
    env = {'PATH': os.environ.get('PATH', '/usr/bin:/bin'), 'HOME': home, 'LANG': 'C.UTF-8',
           'XDG_CACHE_HOME': os.path.join(home, 'cache'), 'XDG_CONFIG_HOME': os.path.join(home, 'config'),
           'XDG_DATA_HOME': os.path.join(home, 'data')}
    REFERENCE.update({'base': base, 'project': project, 'request': request})
    try:
        done = subprocess.run([SYSTEM_PYTHON, script, os.path.join(base, 'in.json'),
                               os.path.join(base, 'out.json')], cwd=base, env=env,
                              capture_output=True, text=True, timeout=600, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        REFERENCE['error'] = str(e)
        return REFERENCE
    if done.returncode != 0:
        REFERENCE['error'] = (done.stderr or done.stdout)[-2000:]
        return REFERENCE
    with open(os.path.join(base, 'out.json'), encoding='utf-8') as handle:
        REFERENCE.update(json.load(handle))
    REFERENCE['log'] = done.stdout + done.stderr
    return REFERENCE


def reference():
    answer = run_reference()
    if 'error' in answer:
        if not os.path.isdir('/usr/lib/python3/dist-packages/buildstream'):
            raise Skip('no bst 1.6.8 to compare with')
        raise AssertionError('bst reference run failed: ' + answer['error'])
    return answer


def from_reference(serialized):
    """A rill node from bst's serialized node (the provenance bst computed)."""
    def provenance(tree):
        if tree is None:
            return None
        return Provenance(tree['text'], None, [provenance(e) for e in tree['elements']])
    if 'map' in serialized:
        result = {k: from_reference(v) for k, v in serialized['map'].items()}
        members = {k: provenance(t) for k, t in serialized['members'].items() if t is not None}
        result[PROVENANCE_KEY] = Provenance(serialized['text'] or '', members)
        return result
    if 'list' in serialized:
        return [from_reference(v) for v in serialized['list']]
    return serialized['scalar']


RILL_TYPES = {'str': str, 'int': int, 'bool': bool, 'float': float, 'list': list, 'dict': dict,
              'Mapping': collections.abc.Mapping}


def rill_op(plugin, data, op):
    name = op[0]
    try:
        if name == 'get':
            _, key, type_name, default, indices = op
            if indices is not None:
                value = plugin.node_get_list_element(data, RILL_TYPES[type_name], key, indices)
            elif default == '@sentinel':
                value = plugin.node_get_member(data, RILL_TYPES[type_name], key)
            else:
                value = plugin.node_get_member(data, RILL_TYPES[type_name], key, default)
            return {'ok': json.dumps(_yaml.node_sanitize(value), sort_keys=True)}
        if name == 'validate':
            plugin.node_validate(data, op[1])
            return {'ok': 'null'}
        if name == 'project_path':
            value = plugin.node_get_project_path(data, op[1], check_is_file=op[2], check_is_dir=op[3])
            return {'ok': json.dumps(value)}
        if name == 'provenance':
            return {'ok': json.dumps(plugin.node_provenance(data, op[1]))}
        if name == 'items':
            return {'ok': json.dumps([k for k, _ in plugin.node_items(data)])}
        raise ValueError(name)
    except Exception as e:  # pylint: disable=broad-except
        return {'err': type(e).__name__, 'msg': str(e)}


@test('node_get_member/list_element/validate/project_path/provenance match bst')
def _():
    answer = reference()
    HOST.project = answer['project']
    plugin = Element('e.bst')
    failures = []
    for case, result in zip(answer['request']['node_cases'], answer['nodes']):
        data = from_reference(result['node'])
        for op, expected in zip(case['ops'], result['results']):
            actual = rill_op(plugin, data, op)
            if actual != expected:
                failures.append('{}: bst {} rill {}'.format(op, expected, actual))
    check(not failures, '{} differences\n    {}'.format(len(failures), '\n    '.join(failures)))


@test('utils: list_relative_paths, glob, _glob2re, url_directory_name, link_files match bst')
def _():
    answer = reference()
    spec = answer['request']['utils']
    expected = answer['utils']
    equal(list(utils.list_relative_paths(spec['tree'])), expected['list_relative_paths'],
          'list_relative_paths')
    equal(list(utils.list_relative_paths(spec['tree'], list_dirs=False)),
          expected['list_relative_paths_nodirs'], 'list_relative_paths(list_dirs=False)')
    equal([utils._glob2re(p) for p in GLOB_PATTERNS], expected['glob2re'], '_glob2re')
    equal([list(utils.glob(GLOB_PATHS, p)) for p in GLOB_PATTERNS], expected['glob'], 'glob')
    equal([utils.url_directory_name(u) for u in URLS], expected['url_directory_name'],
          'url_directory_name')
    dest = os.path.join(answer['base'], 'dest-rill')
    result = utils.link_files(spec['tree'], dest, report_written=True)
    equal({'overwritten': result.overwritten, 'ignored': result.ignored,
           'written': result.files_written}, expected['link_files'], 'link_files result')
    listing = list(utils.list_relative_paths(dest))
    equal(listing, expected['link_files_dest'], 'link_files output')
    equal({p: os.readlink(os.path.join(dest, p)) for p in listing
           if os.path.islink(os.path.join(dest, p))}, expected['link_targets'], 'link targets')
    equal(utils.sha256sum(os.path.join(spec['tree'], 'top')), expected['sha256sum'], 'sha256sum')


LOCAL_KINDS = ('mybuild', 'myscript')


def configure_like_bst(name, captured, project):
    """Configure element `name` in rill's package with the inputs bst used."""
    HOST.reset()
    HOST.project = project
    HOST.element = name
    HOST.variables = dict(captured['variables'])
    deps = REF_ELEMENTS[name][1]
    HOST.deps = {(name, Scope.BUILD.value, True): deps, (name, Scope.BUILD.value, False): deps,
                 (name, Scope.RUN.value, False): [], (name, Scope.RUN.value, True): [name]}
    kind = captured['kind']
    if kind in LOCAL_KINDS:
        driver.load('element', kind, 'local', os.path.join(project, 'plugins'), project)
    else:
        driver.load('element', kind, 'pip', BST_EXTERNAL, project)
    extra = {'public': node(captured['public'], name + ' [line 1 column 0]'),
             'environment': captured['environment'], 'sources': []}
    handle = new_handle()
    key = driver.configure('element', kind, handle, node(captured['config'], name + ' [line 1 column 0]'),
                           name, extra)
    return key, driver._instances[handle]


def element_differential(names):
    answer = reference()
    failures = []
    for name in names:
        captured = answer['show'].get(name)
        if captured is None:
            failures.append('{}: bst computed no key (log: {})'.format(name, answer['log'][-1500:]))
            continue
        try:
            key, _ = configure_like_bst(name, captured, answer['project'])
        except Exception as e:  # pylint: disable=broad-except
            failures.append('{}: {}: {}'.format(name, type(e).__name__, e))
            continue
        if canonical(key) != captured['element']:
            failures.append('{}:\n      bst  {}\n      rill {}'.format(name, captured['element'],
                                                                   canonical(key)))
    check(not failures, 'keys differ: {}\n    {}'.format(
        ', '.join(f.split(':')[0] for f in failures), '\n    '.join(failures)))


@test('BuildElement unique keys equal bst (notparallel quirk, create-dev-shm, strip)')
def _():
    element_differential(['hello.bst', 'hello2.bst'])


@test('ScriptElement unique key equals bst (layout, commands, root-read-only)')
def _():
    element_differential(['script.bst'])


@test('bst_external element keys equal bst (all 11 element kinds)')
def _():
    need_bst_external()
    element_differential(['bld.bst', 'deploy.bst', 'cf.bst', 'ci.bst', 'cm.bst', 'fi.bst', 'fr.bst',
                          'oci.bst', 'snap.bst', 'tar.bst', 'x86.bst'])


@test('bst_external source keys equal bst (git_tag, patch_queue, cargo, cpan, pypi, docker)')
def _():
    need_bst_external()
    answer = reference()
    captured = answer['show'].get('srcs.bst')
    check(captured is not None, 'bst computed no key for srcs.bst')
    HOST.reset()
    HOST.project = answer['project']
    HOST.element = 'srcs.bst'
    keys = []
    for index, source in enumerate(captured['source_configs']):
        driver.load('source', source['kind'], 'pip', BST_EXTERNAL, answer['project'])
        handle = new_handle()
        # The node as written in the .bst: rill's driver drops kind and directory as bst's loader
        config = dict(source['config'], kind=source['kind'])
        if source['directory']:
            config['directory'] = source['directory']
        key = driver.configure('source', source['kind'], handle,
                               node(config, 'srcs.bst [line 3 column 2]'), 'srcs.bst', {'index': index})
        check('kind' not in driver._nodes[handle] and 'directory' not in driver._nodes[handle],
              'kind and directory removed')
        if source['kind'] not in ('cpan', 'pypi'):  # those two set self.name themselves
            equal(driver._instances[handle].name, 'srcs.bst-{}'.format(index), 'source name')
        keys.append({'directory': driver._instances[handle]._Source__directory, 'unique': key})
    equal(canonical(keys), captured['sources'], 'sources key')


# What tests/python/bst_reference.py would be: run in a separate /usr/bin/python3
REF_SCRIPT = r'''
# Runs BuildStream 1.6.8 itself (Debian's python3-buildstream) on the inputs
# test_package.py gives, and prints what bst computes, for comparison with
# rill's own buildstream package.  Run by test_package.py with /usr/bin/python3;
# never imports rill's package.
# SPDX-License-Identifier: Apache-2.0
"""Reference answers from the real bst 1.6.8: usage bst_reference.py IN.json OUT.json"""

import collections.abc
import json
import os
import sys

import ujson
from buildstream import _yaml, utils
import buildstream.element as bst_element

TYPES = {'str': str, 'int': int, 'bool': bool, 'float': float, 'list': list, 'dict': dict,
         'Mapping': collections.abc.Mapping}


def bst_json(value):
    return ujson.dumps(_yaml.node_sanitize(value), sort_keys=True, escape_forward_slashes=False)


def provenance_tree(provenance):
    if provenance is None:
        return None
    return {'text': str(provenance),
            'elements': [provenance_tree(e) for e in getattr(provenance, 'elements', [])]}


def serialize(node):
    # A loaded node with every provenance bst attached to it, as JSON
    if isinstance(node, collections.abc.Mapping):
        own = node.get(_yaml.PROVENANCE_KEY)
        return {'map': {k: serialize(v) for k, v in _yaml.node_items(node)},
                'text': str(own) if own is not None else None,
                'members': {k: provenance_tree(own.members.get(k)) for k, _ in _yaml.node_items(node)}
                if own is not None else {}}
    if isinstance(node, list):
        return {'list': [serialize(v) for v in node]}
    return {'scalar': node}


def run_op(node, op, project_dir):
    name = op[0]
    try:
        if name == 'get':
            _, key, type_name, default, indices = op
            kwargs = {}
            if default != '@sentinel':
                kwargs['default_value'] = default
            value = _yaml.node_get(node, TYPES[type_name], key, indices=indices, **kwargs)
            return {'ok': json.dumps(_yaml.node_sanitize(value), sort_keys=True)}
        if name == 'validate':
            _yaml.node_validate(node, op[1])
            return {'ok': 'null'}
        if name == 'project_path':
            value = _yaml.node_get_project_path(node, op[1], project_dir,
                                                check_is_file=op[2], check_is_dir=op[3])
            return {'ok': json.dumps(value)}
        if name == 'provenance':
            return {'ok': json.dumps(str(_yaml.node_get_provenance(node, key=op[1])))}
        if name == 'items':
            return {'ok': json.dumps([k for k, _ in _yaml.node_items(node)])}
        raise ValueError(name)
    except Exception as e:  # pylint: disable=broad-except
        return {'err': type(e).__name__, 'msg': str(e)}


def nodes(request):
    answers = []
    for case in request.get('node_cases', []):
        loaded = _yaml.load(case['file'], shortname=os.path.basename(case['file']))
        node = loaded
        for key in case.get('path', []):
            node = node[key]
        answers.append({'node': serialize(node),
                        'results': [run_op(node, op, request['project_dir']) for op in case['ops']]})
    return answers


def util_answers(request):
    spec = request.get('utils')
    if not spec:
        return None
    answer = {}
    answer['list_relative_paths'] = list(utils.list_relative_paths(spec['tree']))
    answer['list_relative_paths_nodirs'] = list(utils.list_relative_paths(spec['tree'], list_dirs=False))
    answer['glob2re'] = [utils._glob2re(p) for p in spec['patterns']]
    answer['glob'] = [list(utils.glob(spec['paths'], p)) for p in spec['patterns']]
    answer['url_directory_name'] = [utils.url_directory_name(u) for u in spec['urls']]
    result = utils.link_files(spec['tree'], spec['dest'], report_written=True)
    answer['link_files'] = {'overwritten': result.overwritten, 'ignored': result.ignored,
                            'written': result.files_written}
    answer['link_files_dest'] = list(utils.list_relative_paths(spec['dest']))
    answer['link_targets'] = {p: os.readlink(os.path.join(spec['dest'], p))
                              for p in answer['link_files_dest']
                              if os.path.islink(os.path.join(spec['dest'], p))}
    answer['sha256sum'] = utils.sha256sum(os.path.join(spec['tree'], 'top'))
    return answer


def show(request):
    # `bst show` on the project, noting what each element's cache key is made of
    project = request.get('project')
    if not project:
        return None
    captured = {}
    calculate = bst_element.Element._Element__calculate_cache_key

    def noting(self, dependencies):
        key = calculate(self, dependencies)
        parts = self._Element__cache_key_dict
        if parts is not None and self.name not in captured:
            captured[self.name] = {
                'kind': self.get_kind(),
                'element': bst_json(parts['element']),
                'sources': bst_json(parts['sources']),
                'variables': {k: v for k, v in self._Element__variables if not k.startswith('__')},
                'environment': _yaml.node_sanitize(self._Element__environment),
                'config': _yaml.node_sanitize(self._Element__config),
                'public': _yaml.node_sanitize(self._Element__public),
                'source_configs': [{'kind': s.get_kind(),
                                    'config': _yaml.node_sanitize(s._Source__config),
                                    'directory': s._Source__directory}
                                   for s in self._Element__sources],
            }
        return key

    bst_element.Element._Element__calculate_cache_key = noting
    from buildstream._frontend.cli import cli  # pylint: disable=import-outside-toplevel
    try:
        cli(['--no-colors', '-C', project, 'show', '--deps', 'all'] + request['targets'],
            standalone_mode=False)
    except SystemExit:
        pass
    return captured


def main():
    with open(sys.argv[1], encoding='utf-8') as handle:
        request = json.load(handle)
    answer = {'nodes': nodes(request), 'utils': util_answers(request), 'show': show(request)}
    with open(sys.argv[2], 'w', encoding='utf-8') as handle:
        json.dump(answer, handle)


if __name__ == '__main__':
    main()
'''


#
# Behaviour with the stand-in host
#
BUILD_VARIABLES = {'greeting': 'hi', 'other': 'there', 'prefix': '/usr',
                   'build-root': '/buildstream/t/e.bst', 'install-root': '/buildstream-install',
                   'command-subdir': ''}
BUILD_CONFIG = {'configure-commands': ['./configure --prefix=%{prefix}'],
                'build-commands': ['echo %{greeting} %{other}', ' make '],
                'install-commands': ['make install DESTDIR=%{install-root}'],
                'strip-commands': []}


def build_element(config=None, variables=None, extra=None):
    HOST.variables = dict(BUILD_VARIABLES, **(variables or {}))
    HOST.deps = {('e.bst', Scope.BUILD.value, True): ['base.bst', 'lib.bst']}
    HOST.infos = {'base.bst': {'kind': 'stack', 'public': {}}, 'lib.bst': {'kind': 'autotools'}}
    load_local(LOCAL, 'mybuild')
    return configure('element', 'mybuild', BUILD_CONFIG if config is None else config,
                     extra=extra if extra is not None else {'environment': {'PATH': '/usr/bin:/bin'}})


@test('BuildElement key, _BuildElement__commands and notparallel')
def _():
    _, key, instance = build_element()
    equal(key, {'bootstrap-commands': [], 'configure-commands': ['./configure --prefix=/usr'],
                'build-commands': ['echo hi there', 'make'],
                'install-commands': ['make install DESTDIR=/buildstream-install'],
                'strip-commands': [], 'test-commands': []}, 'key')
    equal(instance._BuildElement__commands['build-commands'], ['echo hi there', 'make'],
          '_BuildElement__commands')
    equal(instance._get_workspace(), None, '_get_workspace()')
    _, key, _ = build_element(variables={'notparallel': 'False'})
    equal(key.get('notparallel'), True, 'notparallel from a non-empty variable')
    raises(lambda: build_element(config={'build-commands': [], 'bogus': 1}), LoadError,
           "e.bst [line 1 column 0]: Unexpected key: bogus")
    raises(lambda: build_element(config={'create-dev-shm': 'yes'}), LoadError,
           "e.bst [line 1 column 0]: Value of 'create-dev-shm' is not of the expected type 'bool'")


@test('BuildElement assemble: staging, integration once, commands, collect')
def _():
    handle, _, _ = build_element()
    HOST.calls = []
    public = driver.assemble(handle)
    names = [c[0] for c in HOST.calls]
    equal(names, ['mark_directory', 'mark_directory', 'stage_deps', 'integrate', 'stage_sources',
                  'run', 'run', 'run', 'run', 'collect'], 'host calls')
    runs = [c for c in HOST.calls if c[0] == 'run']
    equal(runs[0], ('run', ['sh', '-c', '-e', './configure --prefix=/usr\n'], SandboxFlags.ROOT_READ_ONLY,
                    '/buildstream/t/e.bst', {'PATH': '/usr/bin:/bin'}), 'first command')
    equal([r[1][3] for r in runs[1:]], ['echo hi there\n', 'make\n',
                                        'make install DESTDIR=/buildstream-install\n'], 'command order')
    equal(HOST.calls[2], ('stage_deps', '/'), 'stage_deps')
    equal(HOST.calls[4], ('stage_sources', '/buildstream/t/e.bst'), 'stage_sources')
    equal(HOST.calls[-1], ('collect', '/buildstream-install'), 'collect')
    check(os.path.isdir(os.path.join(HOST.root, 'buildstream/t/e.bst')), 'build root made')
    equal(public, {}, 'public data')
    check(any(m[1] == 'START Running build-commands' for m in HOST.messages), 'timed activity')


@test('BuildElement assemble failure and create-dev-shm flags')
def _():
    handle, _, _ = build_element(config=dict(BUILD_CONFIG, **{'create-dev-shm': True}))
    HOST.exit_codes = [0, 0, 3]
    HOST.calls = []
    raises(lambda: driver.assemble(handle), ElementError, "Command 'make' failed with exitcode 3")
    runs = [c for c in HOST.calls if c[0] == 'run']
    equal(runs[-1][2], SandboxFlags.ROOT_READ_ONLY | SandboxFlags.CREATE_DEV_SHM, 'flags')
    check(any(m[1] == 'FAILURE Running build-commands (00:00:00)' for m in HOST.messages), 'failure logged')


@test('generate_script and prepare as bst')
def _():
    handle, _, _ = build_element()
    equal(driver.generate_script(handle),
          "(set -ex; ./configure --prefix=/usr\n) || exit 1\n(set -ex; echo hi there\n) || exit 1\n"
          "(set -ex; make\n) || exit 1\n(set -ex; make install DESTDIR=/buildstream-install\n) || exit 1\n",
          'script')


@test('assemble: missing collect directory, public data returned')
def _():
    load_local(LOCAL, 'badcollect')
    handle, _, instance = configure('element', 'badcollect', {},
                                    extra={'public': {'bst': {'integration-commands': ['ldconfig']}}})
    raises(lambda: driver.assemble(handle), ElementError,
           "Directory '/nope' was not found inside the sandbox, unable to collect artifact contents")
    os.makedirs(os.path.join(HOST.root, 'nope'))
    public = driver.assemble(handle)
    equal(public, {'bst': {'integration-commands': ['ldconfig']}, 'extra': {'made': 'yes'}}, 'public')
    equal(_yaml.node_sanitize(instance.get_public_data('bst')), {'integration-commands': ['ldconfig']},
          'get_public_data')


@test('integrate() of the element itself runs its integration commands')
def _():
    HOST.variables = {'libdir': '/usr/lib'}
    load_local(LOCAL, 'badcollect')
    _, _, instance = configure('element', 'badcollect', {}, extra={
        'public': {'bst': {'integration-commands': ['ldconfig %{libdir}']}},
        'environment': {'A': 'b', 'PATH': '/bin'}})
    sandbox = buildstream.Sandbox()
    instance.integrate(sandbox)
    equal(HOST.calls[-1], ('run', ['sh', '-e', '-c', 'ldconfig /usr/lib'], 0, '/', {'A': 'b', 'PATH': '/bin'}), 'run')
    HOST.exit_codes = [1]
    raises(lambda: instance.integrate(sandbox), ElementError,
           "Command 'ldconfig /usr/lib' failed with exitcode 1")


@test('Sandbox.run: missing command, string command, defaults')
def _():
    sandbox = buildstream.Sandbox()
    sandbox.set_environment({'PATH': '/usr/bin'})
    os.remove(os.path.join(HOST.root, 'usr/bin/sh'))
    raises(lambda: sandbox.run(['sh', '-c', 'true'], 0), buildstream._exceptions.SandboxError,
           "Staged artifacts do not provide command 'sh'")
    write(os.path.join(HOST.root, 'usr', 'bin', 'sh'), '')
    equal(sandbox.run(['sh', '-c', 'true'], 0), 0, 'exit code')
    equal(HOST.calls[-1], ('run', ['sh', '-c', 'true'], 0, '/', {'PATH': '/usr/bin'}), 'defaults')
    sandbox.set_work_directory('/work')
    sandbox.run(['/usr/bin/sh'], SandboxFlags.NETWORK_ENABLED, env={'X': '1'})
    equal(HOST.calls[-1], ('run', ['/usr/bin/sh'], 2, '/work', {'X': '1'}), 'explicit env')
    sandbox.mark_directory('/out', artifact=True)
    check(os.path.isdir(os.path.join(HOST.root, 'out')), 'marked directory created')
    equal(HOST.calls[-1], ('mark_directory', '/out', True), 'mark_directory')


def script_element(config, deps):
    HOST.variables = {'install-root': '/buildstream-install', 'cwd': '/src'}
    HOST.deps = {('e.bst', Scope.BUILD.value, True): deps, ('e.bst', Scope.BUILD.value, False): deps}
    for name in deps:
        HOST.deps[(name, Scope.RUN.value, True)] = [name]
    HOST.infos = {name: {'kind': 'stack'} for name in deps}
    load_local(LOCAL, 'myscript')
    return configure('element', 'myscript', config, extra={'environment': {'PATH': '/bin'}})


@test('ScriptElement key, layout errors, staging by layout')
def _():
    _, key, _ = script_element({'commands': ['true'], 'layout': [
        {'element': 'base.bst', 'destination': '/'}, {'destination': '/out'}]}, ['base.bst'])
    equal(key, {'commands': {'commands': ['true']}, 'cwd': '/src', 'install-root': '/buildstream-install',
                'layout': [{'element': 'base.bst', 'destination': '/'},
                           {'element': None, 'destination': '/out'}],
                'root-read-only': False}, 'key')
    raises(lambda: script_element({'commands': [], 'layout': [{'element': 'base.bst',
                                                                'destination': '/x'}]}, ['base.bst']),
           ElementError, "myscript element at e.bst [line 1 column 0]: myscript element at "
                         "e.bst [line 1 column 0]: Using layout, but none are staged as '/'")
    raises(lambda: script_element({'commands': [], 'layout': [{'element': 'nope.bst',
                                                                'destination': '/'}]}, ['base.bst']),
           ElementError, "myscript element at e.bst [line 1 column 0]: myscript element at "
                         "e.bst [line 1 column 0]: 'nope.bst' in layout not found in dependencies")
    handle, _, _ = script_element({'commands': ['make', 'make install'], 'root-read-only': True,
                                   'layout': [{'element': 'base.bst', 'destination': '/'},
                                              {'element': 'tools.bst', 'destination': '/tools'}]},
                                  ['base.bst', 'tools.bst'])
    os.makedirs(os.path.join(HOST.root, 'buildstream-install'), exist_ok=True)
    HOST.calls = []
    driver.assemble(handle)
    equal([c for c in HOST.calls if c[0] != 'run'],
          [('mark_directory', '/buildstream-install', False), ('mark_directory', '/tools', True),
           ('stage_dep', 'base.bst', '/'), ('stage_dep', 'tools.bst', '/tools'), ('integrate',),
           ('collect', '/buildstream-install')], 'calls')
    equal([(c[1], c[2], c[3]) for c in HOST.calls if c[0] == 'run'],
          [(['sh', '-c', '-e', 'make\n'], 1, '/src'), (['sh', '-c', '-e', 'make install\n'], 1, '/src')],
          'runs')


@test('ScriptElement without layout stages build dependencies at /')
def _():
    handle, key, _ = script_element({'commands': []}, ['a.bst', 'b.bst'])
    equal(key['layout'], [], 'empty layout')
    HOST.calls = []
    driver.assemble(handle)
    equal([c for c in HOST.calls if c[0] != 'mark_directory'],
          [('stage_dep', 'a.bst', '/'), ('stage_dep', 'b.bst', '/'), ('integrate',),
           ('collect', '/buildstream-install')], 'calls')


@test('dependency views: kind, public data, variables, sources, identity, str()')
def _():
    HOST.deps = {('e.bst', Scope.BUILD.value, True): ['lib.bst'],
                 ('lib.bst', Scope.RUN.value, False): ['base.bst']}
    HOST.infos = {
        'lib.bst': {'kind': 'autotools', 'provenance': 'lib.bst [line 1 column 0]',
                    'public': {'bst': {'integration-commands': ['ldconfig %{libdir}']}},
                    'variables': {'libdir': '/usr/lib64'}, 'environment': {'A': '1'},
                    'sources': [{'kind': 'git', 'url': 'gh:lib.git', 'ref': 'v1.0'},
                                {'kind': 'tar', 'url': 'https://x/lib-2.0.tar.gz', 'ref': 'abc'}]},
        'base.bst': {'kind': 'stack'}}
    load_local(LOCAL, 'rel')
    _, _, instance = configure('element', 'rel', {})
    lib = instance.search(Scope.BUILD, 'lib.bst')
    check(lib is instance.search(Scope.BUILD, 'lib.bst'), 'same object twice')
    check(isinstance(lib, Element), 'is an Element')
    equal((lib.name, lib.normal_name, lib.get_kind()), ('lib.bst', 'lib', 'autotools'), 'names')
    equal(str(lib), 'autotools element at lib.bst [line 1 column 0]', 'str')
    bstdata = lib.get_public_data('bst')
    equal(lib.node_subst_list_element(bstdata, 'integration-commands', [0]), 'ldconfig /usr/lib64',
          'subst with the dependency variables')
    bstdata['integration-commands'].append('x')
    equal(len(lib.get_public_data('bst')['integration-commands']), 1, 'public data copied')
    equal([d.name for d in lib.dependencies(Scope.RUN, recurse=False)], ['base.bst'], 'deps of deps')
    equal(lib.get_environment(), {'A': '1'}, 'environment')
    git, tar = list(lib.sources())
    equal((git.get_kind(), git.mirror.url, git.mirror.ref, git.mirror.primary), ('git', 'gh:lib.git', 'v1.0', True),
          'git source view')
    equal(git.translate_url(git.mirror.url, alias_override=None, primary=True), 'https://example.com/lib.git',
          'translate_url')
    equal((tar.url, tar.ref), ('https://x/lib-2.0.tar.gz', 'abc'), 'tar source view')
    equal(instance.search(Scope.BUILD, 'none.bst'), None, 'search miss')
    raises(lambda: lib.get_variable('x') or lib.node_subst_member(
        node({'a': '%{nope}'}, 'lib.bst [line 3 column 4]'), 'a'), LoadError,
           "lib.bst [line 3 column 4]: lib.bst [line 3 column 4]: Reference to undefined variable 'nope'")


@test('a missing _rill function gives a PluginError naming it')
def _():
    saved = RILL.element_info
    del RILL.element_info
    try:
        HOST.deps = {('e.bst', Scope.BUILD.value, True): ['lib.bst']}
        load_local(LOCAL, 'rel')
        _, _, instance = configure('element', 'rel', {})
        raises(lambda: instance.search(Scope.BUILD, 'lib.bst').get_kind(), PluginError,
               "rill does not implement other elements yet (the host has no _rill.element_info())")
    finally:
        RILL.element_info = saved


@test('node_subst_member: substitution and bst-shaped undefined variable error')
def _():
    HOST.variables = {'prefix': '/usr', 'bindir': '%{prefix}/bin'}
    load_local(LOCAL, 'rel')
    _, _, instance = configure('element', 'rel', {})
    data = node({'a': ' %{bindir}/x ', 'l': ['%{prefix}', ' y '], 'u': '%{arch}'}, 'e.bst [line 7 column 5]')
    equal(instance.node_subst_member(data, 'a'), '/usr/bin/x', 'member')
    equal(instance.node_subst_member(data, 'absent', 'd-%{prefix}'), 'd-/usr', 'default substituted')
    raises(lambda: instance.node_subst_member(data, 'absent', None), TypeError)  # as bst 1.6
    equal(instance.node_subst_list(data, 'l'), ['/usr', ' y '], 'list (not stripped, as bst)')
    equal(instance.node_subst_list_element(data, 'l', [1]), 'y', 'list element (stripped)')
    error = raises(lambda: instance.node_subst_member(data, 'u'), LoadError,
                   "e.bst [line 7 column 5]: e.bst [line 7 column 5]: Reference to undefined variable 'arch'")
    equal(error.reason, buildstream._exceptions.LoadErrorReason.UNRESOLVED_VARIABLE, 'reason')
    equal(instance.get_variable('bindir'), '/usr/bin', 'get_variable')
    equal(instance.get_variable('nope'), None, 'get_variable of undefined')


@test('warn(): token prefix, core tokens, fatal warnings')
def _():
    load_local(LOCAL, 'rel')
    _, _, instance = configure('element', 'rel', {})
    instance.warn('careful', detail='more')
    equal(HOST.warnings[-1], (None, '', 'careful', 'more'), 'plain warning')
    instance.warn('odd', warning_token='odd-thing')
    equal(HOST.warnings[-1], ('rel:odd-thing', '', '[rel:odd-thing]: odd', None), 'prefixed token')
    instance.warn('overlap', warning_token=buildstream.CoreWarnings.OVERLAPS)
    equal(HOST.warnings[-1][0], 'overlaps', 'core token not prefixed')
    HOST.fatal = {'rel:odd-thing'}
    error = raises(lambda: instance.warn('odd', detail='d', warning_token='odd-thing'), PluginError,
                   "[rel:odd-thing]: odd\nd")
    equal(error.reason, 'rel:odd-thing', 'reason')


@test('Plugin.call/check_output: PluginError with the plugin, output collected')
def _():
    load_local(LOCAL, 'rel')
    _, _, instance = configure('element', 'rel', {})
    equal(instance.call(['true']), 0, 'call')
    equal(instance.call(['sh', '-c', 'exit 4']), 4, 'exit code without fail=')
    equal(instance.check_output(['sh', '-c', 'echo hello; umask'], cwd='/'), (0, 'hello\n0022\n'),
          'check_output and umask')
    error = raises(lambda: instance.call(['false'], fail='it failed', fail_temporarily=True), PluginError,
                   'rel element at e.bst [line 1 column 0]: it failed')
    equal(error.temporary, False, 'bst 1.6 PluginError is never temporary')
    check(('status', 'Running host command', 'false') in HOST.messages, 'status message')


def my_source(config, extra=None):
    load_local(LOCAL, 'mysource', 'source')
    return configure('source', 'mysource', config, name='e.bst', extra=extra)


@test('Source: name, alias checks, unaliased warning, translate_url, mirror directory')
def _():
    _, key, source = my_source({'url': 'gh:repo.git', 'ref': 'r1', 'kind': 'mysource'}, {'index': 2})
    equal(key, ['gh:repo.git', 'r1'], 'key')
    equal(source.name, 'e.bst-2', 'name')
    equal(str(source), 'mysource source at e.bst [line 1 column 0]', 'str')
    equal(source.translate_url('gh:repo.git'), 'https://example.com/repo.git', 'translate_url')
    equal(source.translate_url('gh:repo.git', alias_override='file:///m/'), 'file:///m/repo.git',
          'alias_override')
    mirror = source.get_mirror_directory()
    equal(mirror, os.path.join(HOST.cache, 'sources', 'mysource'), 'mirror directory')
    check(os.path.isdir(mirror), 'mirror directory made')
    with source.tempdir() as temporary:
        check(os.path.dirname(temporary) == mirror and os.path.isdir(temporary), 'tempdir')
    check(not os.path.exists(temporary), 'tempdir removed')
    equal(source.get_project_directory(), HOST.project, 'project directory')
    HOST.warnings = []
    _, key, source = my_source({'url': 'https://plain/repo.git'})
    equal(key, None, 'inconsistent source has no key')
    equal(HOST.warnings, [('unaliased-url', '', '[unaliased-url]: mysource source at e.bst [line 1 '
                                                 'column 0]: Use of unaliased source download URL: '
                                                 'https://plain/repo.git', None)], 'warnings')
    raises(lambda: my_source({'url': 'nosuch:repo.git'}), SourceError,
           "mysource source at e.bst [line 1 column 0]: Invalid alias 'nosuch' specified in URL: "
           "nosuch:repo.git")
    raises(lambda: my_source({'url': 'gh:x', 'bogus': 1}), LoadError,
           "e.bst [line 1 column 0]: Unexpected key: bogus")


@test('Source fetch through fetchers and mirrors; stage with directory; track')
def _():
    handle, _, source = my_source({'url': 'gh:repo.git', 'ref': 'r1', 'extra': ['gh:other.git']})
    driver.fetch(handle)
    equal(source.tried, ['https://example.com/repo.git', 'https://example.com/other.git'], 'no mirrors')
    HOST.mirrors = {'gh': ['https://bad.mirror/', 'https://good.mirror/']}
    source.tried = []
    driver.fetch(handle)
    equal(source.tried, ['https://bad.mirror/repo.git', 'https://good.mirror/repo.git',
                         'https://bad.mirror/other.git', 'https://good.mirror/other.git'], 'mirrors')
    HOST.mirrors = {'gh': ['https://bad.mirror/']}
    HOST.aliases['gh'] = 'https://bad.too/'
    raises(lambda: driver.fetch(handle), SourceError, 'cannot reach https://bad.too/repo.git')
    equal(driver.consistency(handle), Consistency.RESOLVED, 'consistency')
    dest = os.path.join(SCRATCH, 'stage-{}'.format(handle))
    handle2, _, source2 = my_source({'url': 'gh:repo.git', 'ref': 'r1', 'directory': 'sub/dir'})
    driver.stage(handle2, dest)
    equal(source2.staged, [os.path.join(dest, 'sub/dir')], 'stage directory')
    check(os.path.isdir(os.path.join(dest, 'sub/dir')), 'directory made')
    ref = driver.track(handle2)
    equal(ref, {'commit': 'abc', 'list': ['x', 'y']}, 'tracked ref sanitized')
    equal(driver._nodes[handle2]['ref'], {'commit': 'abc', 'list': ('x', 'y')}, 'set_ref on the node')
    check(('info', "Found new revision: {'commit': 'abc', 'list': ('x', 'y')}", None) in HOST.messages,
          'info message')
    handle3, key, source3 = my_source({'url': 'gh:repo.git'})
    equal((key, driver.unique_key(handle3), driver.get_ref(handle3)), (None, None, None), 'inconsistent')
    driver.set_ref(handle3, 'r9')
    equal((driver.unique_key(handle3), driver.get_ref(handle3), driver._nodes[handle3]['ref']),
          (['gh:repo.git', 'r9'], 'r9', 'r9'), 'after set_ref')
    raises(lambda: driver.load_ref(handle3, node({'ref': 'x'})), SourceError,
           "mysource source at e.bst [line 1 column 0]: Storing refs in project.refs is not supported "
           "by 'mysource' sources")


@test('source requiring previous sources: first-source check and missing directory')
def _():
    need_bst_external()
    driver.load('source', 'cargo', 'pip', BST_EXTERNAL, HOST.project)
    cargo, _, _ = configure('source', 'cargo', {'kind': 'cargo'}, extra={'index': 0})
    load_local(LOCAL, 'rel')
    raises(lambda: configure('element', 'rel', {}, extra={'sources': [cargo]}), ElementError,
           "rel element at e.bst [line 1 column 0]: cargo source at e.bst [line 1 column 0] cannot be "
           "the first source of an element as it requires access to previous sources")
    raises(lambda: driver.track(cargo), SourceError,
           "cargo source at e.bst [line 1 column 0]: rill does not implement staging previous sources "
           "for track() yet")


@test('git_tag configures offline: mirror dir, submodule overrides, fetchers')
def _():
    need_bst_external()
    driver.load('source', 'git_tag', 'pip', BST_EXTERNAL, HOST.project)
    handle, key, source = configure('source', 'git_tag', {
        'kind': 'git_tag', 'url': 'gh:repo.git', 'ref': 'v1-0-gabc', 'track-tags': 'true',
        'submodules': {'s': {'url': 'gh:s.git', 'checkout': 'False'}}})
    equal(key, ['gh:repo.git', 'v1-0-gabc', {'s': 'gh:s.git'},
                {'submodule_checkout_overrides': {'s': False}}], 'key')
    equal(driver.consistency(handle), Consistency.RESOLVED, 'consistency without a mirror')
    check(source.mirror.mirror.startswith(os.path.join(HOST.cache, 'sources', 'git_tag')), 'mirror path')
    raises(lambda: configure('source', 'git_tag', {'kind': 'git_tag', 'url': 'gh:repo.git'}), SourceError,
           "git_tag source at e.bst [line 1 column 0]: Git sources require a ref and/or track")


def git(*args, cwd):
    subprocess.run(['git', '-c', 'user.name=t', '-c', 'user.email=t@t', '-c', 'init.defaultBranch=master']
                   + list(args), cwd=cwd, check=True, capture_output=True)


@test('git_tag from a local repository: fetch, consistency, stage, track; collect_manifest reads it')
def _():
    need_bst_external()
    if shutil.which('git') is None:
        raise Skip('no git')
    repo = os.path.join(SCRATCH, 'repos', 'repo')
    write(os.path.join(repo, 'hello.txt'), 'hello\n')
    git('init', '-q', '.', cwd=repo)
    git('add', '.', cwd=repo)
    git('commit', '-q', '-m', 'one', cwd=repo)
    git('tag', '-a', '-m', 'v1.2.3', 'v1.2.3', cwd=repo)
    described = subprocess.run(['git', 'describe', '--tags', '--abbrev=40', '--long'], cwd=repo,
                               check=True, capture_output=True, text=True).stdout.strip()
    HOST.aliases['local'] = 'file://' + os.path.dirname(repo) + '/'
    HOST.cache = os.path.join(SCRATCH, 'cache-git')
    driver.load('source', 'git_tag', 'pip', BST_EXTERNAL, HOST.project)
    handle, key, _ = configure('source', 'git_tag', {'kind': 'git_tag', 'url': 'local:repo',
                                                     'ref': described, 'track': 'master'},
                               name='hello.bst', extra={'index': 0})
    equal(key, ['local:repo', described], 'key')
    equal(driver.consistency(handle), Consistency.RESOLVED, 'before fetch')
    driver.fetch(handle)
    equal(driver.consistency(handle), Consistency.CACHED, 'after fetch')
    leftovers = [n for n in os.listdir(os.path.join(HOST.cache, 'sources', 'git_tag')) if n.startswith('tmp')]
    equal(leftovers, [], 'temporary directories')
    dest = os.path.join(SCRATCH, 'git-stage')
    os.makedirs(dest)
    driver.stage(handle, dest)
    with open(os.path.join(dest, 'hello.txt'), encoding='utf-8') as f:
        equal(f.read(), 'hello\n', 'staged file')
    write(os.path.join(repo, 'more.txt'), 'more\n')
    git('add', '.', cwd=repo)
    git('commit', '-q', '-m', 'two', cwd=repo)
    new_ref = driver.track(handle)
    check(new_ref.startswith('v1.2.3-1-g') and len(new_ref) == len('v1.2.3-1-g') + 40, 'tracked ' + new_ref)

    HOST.element = 'manifest.bst'
    HOST.deps = {('manifest.bst', Scope.BUILD.value, False): ['hello.bst'],
                 ('hello.bst', Scope.RUN.value, False): []}
    HOST.infos = {'hello.bst': {'kind': 'mybuild', 'public': {}, 'sources': [{'handle': handle}]}}
    driver.load('element', 'collect_manifest', 'pip', BST_EXTERNAL, HOST.project)
    manifest, key, _ = configure('element', 'collect_manifest', {'path': '/usr/share/m.json'},
                                 name='manifest.bst')
    equal(key, {'path': '/usr/share/m.json', 'version': 2}, 'collect_manifest key')
    public = driver.assemble(manifest)
    with open(os.path.join(HOST.root, 'usr/share/m.json'), encoding='utf-8') as f:
        written = json.load(f)
    module = written['modules'][0]
    equal((module['name'], module['x-cpe'], module['sources'][0]['type'], module['sources'][0]['url']),
          ('hello.bst', {'product': 'hello', 'version': '1.2.3'}, 'git', HOST.aliases['local'] + 'repo'),
          'manifest')
    equal(public['cpe-manifest']['modules'][0]['name'], 'hello.bst', 'public cpe-manifest')
    equal(HOST.calls[-1], ('collect', '/'), 'collect')


@test('dpkg_build assemble: packages from debian/control, public split-rules and dpkg-data')
def _():
    need_bst_external()
    HOST.variables = dict(BUILD_VARIABLES, **{'strip-binaries': 'true', 'max-jobs': '2'})
    HOST.deps = {('e.bst', Scope.BUILD.value, True): ['base.bst']}
    HOST.infos = {'base.bst': {'kind': 'stack'}}
    info = driver.load('element', 'dpkg_build', 'pip', BST_EXTERNAL, HOST.project)
    config = {'build-commands': ['make <PACKAGES>'], 'install-commands': ['%{install-root} <PACKAGES>']}
    handle, key, _ = configure('element', 'dpkg_build', config,
                               extra={'environment': {'PATH': '/bin'}, 'public': {'bst': {}}})
    equal(key['build-commands'], ['make <PACKAGES>'], 'key keeps <PACKAGES>')
    check(info['defaults'].endswith('dpkg_build.yaml'), 'defaults')
    build = os.path.join(HOST.root, 'buildstream/t/e.bst')
    write(os.path.join(build, 'debian', 'control'), 'Source: foo\n\nPackage: foo\nPackage: foo-dev\n')
    for package in ('foo', 'foo-dev'):
        write(os.path.join(build, 'debian', package, 'DEBIAN', 'control'), 'Package: {}\n'.format(package))
        write(os.path.join(build, 'debian', package, 'usr', package), 'x')
    write(os.path.join(build, 'debian', 'foo', 'DEBIAN', 'postinst'), '#!/bin/sh\n')
    public = driver.assemble(handle)
    runs = [c[1][3] for c in HOST.calls if c[0] == 'run']
    equal(runs, ['make foo foo-dev\n', '/buildstream-install foo foo-dev\n'], 'commands')
    equal(public['bst']['split-rules'], {'foo': ['/usr/foo'], 'foo-dev': ['/usr/foo-dev']}, 'split-rules')
    equal(public['bst']['dpkg-data']['foo'], {'control': 'Package: foo\n', 'name': 'foo'}, 'dpkg-data')
    equal(public['bst']['package-scripts'], {'foo': {'postinst': '#!/bin/sh\n'}}, 'package-scripts')


@test('sanitize and canonical JSON: tuples, ConfigParser, nested provenance, unicode')
def _():
    parser = configparser.ConfigParser()
    parser.optionxform = str
    parser.read_dict({'Application': {'name': 'x', 'Z': 'ü'}})
    value = {'b': (1, [2, (3,)]), 'a': node({'x': {'y': 'z'}}), 'c': parser, 'd': None, 'e': True}
    equal(canonical(value),
          '{"a":{"x":{"y":"z"}},"b":[1,[2,[3]]],"c":{"Application":{"Z":"\\u00fc","name":"x"},'
          '"DEFAULT":{}},"d":null,"e":true}', 'canonical JSON')
    load_local(LOCAL, 'tool')
    _, key, _ = configure('element', 'tool', {})
    equal(key, [1, [2, [3]]], 'configure() returns sanitized key')


@test('package exports, version, Plugin defaults and ImplError texts')
def _():
    for name in ('Plugin', 'Element', 'ElementError', 'Scope', 'Source', 'SourceError', 'SourceFetcher',
                 'Consistency', 'BuildElement', 'ScriptElement', 'Sandbox', 'SandboxFlags', 'UtilError',
                 'ProgramNotFoundError', 'CoreWarnings'):
        check(hasattr(buildstream, name), 'missing ' + name)
    equal(buildstream.__version__, '1.6.8', '__version__')
    equal(utils.get_bst_version(), (1, 6), 'get_bst_version')
    equal((Plugin.BST_FORMAT_VERSION, Plugin.BST_REQUIRED_VERSION_MAJOR, Plugin.BST_REQUIRED_VERSION_MINOR),
          (0, 0, 0), 'Plugin defaults (as bst: 0.0)')
    equal((SandboxFlags.ROOT_READ_ONLY, SandboxFlags.NETWORK_ENABLED, SandboxFlags.INTERACTIVE,
           SandboxFlags.INHERIT_UID, SandboxFlags.CREATE_DEV_SHM), (1, 2, 4, 8, 16), 'SandboxFlags')
    equal((Scope.ALL.value, Scope.BUILD.value, Scope.RUN.value), (1, 2, 3), 'Scope')
    equal(Source.COMMON_CONFIG_KEYS, ['kind', 'directory'], 'COMMON_CONFIG_KEYS')
    raises(lambda: Element('e.bst').configure({}), ImplError,
           "element plugin 'element' does not implement configure()")
    raises(lambda: Element('e.bst').assemble(None), ImplError,
           "element plugin 'element' does not implement assemble()")
    raises(lambda: Source('e.bst-0').fetch(), ImplError, "Source plugin 'source' does not implement fetch()")
    raises(lambda: SourceFetcher().fetch(), ImplError,
           "SourceFetcher '<class 'buildstream.source.SourceFetcher'>' does not implement fetch()")
    equal(list(Source('e.bst-0').get_source_fetchers()), [], 'default fetchers')
    raises(lambda: utils.get_host_tool('no-such-tool-xyz'), buildstream.ProgramNotFoundError,
           pattern=r"Did not find 'no-such-tool-xyz' in PATH: .*")
    path = os.path.join(SCRATCH, 'atomic.txt')
    with utils.save_file_atomic(path, 'w') as handle:
        handle.write('x')
        check(not os.path.exists(path), 'not in place before the end')
    with open(path, encoding='utf-8') as handle:
        equal(handle.read(), 'x', 'save_file_atomic')


#
# Runner
#
def main():
    make_fixtures()
    passed = failed = 0
    for name, function in TESTS:
        HOST.reset()
        try:
            function()
        except Skip as e:
            print('ok {} # skip {}'.format(name, e))
            passed += 1
            continue
        except AssertionError as e:
            lines = str(e).splitlines() or ['assertion failed']
            print('FAIL {}: {}'.format(name, lines[0]))
            if len(lines) > 1:
                sys.stderr.write('\n'.join(lines[1:]) + '\n')
            failed += 1
            continue
        except Exception as e:  # pylint: disable=broad-except
            where = traceback.extract_tb(e.__traceback__)[-1]
            print('FAIL {}: {}: {} (at {}:{})'.format(name, type(e).__name__, str(e).splitlines()[0] if str(e)
                                                     else '', os.path.basename(where.filename), where.lineno))
            sys.stderr.write(traceback.format_exc())
            failed += 1
            continue
        print('ok {}'.format(name))
        passed += 1
    print('{} passed, {} failed'.format(passed, failed))
    if failed == 0:
        shutil.rmtree(SCRATCH, ignore_errors=True)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
