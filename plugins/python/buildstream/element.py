# Element, the base class of element plugins, and the stand-ins other
# elements (dependencies) appear as.  Variables, staging, running and the
# dependency graph belong to rill's C side and are reached through `_rill`.
# SPDX-License-Identifier: Apache-2.0
"""The Element base class of BuildStream 1.6's plugin API, hosted by rill."""

import os
import re
from types import SimpleNamespace

from . import _yaml
from . import utils
from ._exceptions import ElementError, ImplError, LoadError, LoadErrorReason, PluginError
from ._rill_node import host, host_function, host_error, host_has
from .plugin import Plugin
from .types import Scope

__all__ = ['Element', 'ElementError', 'Scope']

# One "generation" per call from C into the driver: the data of other
# elements is fetched again in each call (a job sees artifacts' public data,
# the loading process the elements' own), and integration happens once per job.
_generation = 0
_integrated_generation = -1
_dependency_views = {}


def _rill_new_call():
    """Start a new call from the host: forget what was learnt about other elements."""
    global _generation  # pylint: disable=global-statement
    _generation += 1


def _normal_name(name):
    return os.path.splitext(name.replace(os.sep, '-'))[0]


def _sandbox_path(path):
    # bst joins relative sandbox paths to the root as if they were absolute
    return '/' + path.lstrip(os.sep) if path else '/'


class Element(Plugin):
    """Base class of element plugins."""

    BST_ARTIFACT_VERSION = 0
    """Bumped when the unique key or the output changes for the same input"""

    BST_STRICT_REBUILD = False
    """Rebuild in non-strict mode whenever a dependency changed"""

    BST_FORBID_RDEPENDS = False
    """Runtime dependencies are an error"""

    BST_FORBID_BDEPENDS = False
    """Build dependencies are an error"""

    BST_FORBID_SOURCES = False
    """Sources are an error"""

    BST_VIRTUAL_DIRECTORY = False
    """Whether the element can work on virtual directories (informational)"""

    def __init__(self, name, provenance=None, extra=None):
        super().__init__(name, provenance or "{} [line 1 column 0]".format(name), "element")
        extra = extra or {}

        self.normal_name = _normal_name(self.name)
        """The element name without directories separators or the .bst suffix"""

        # the public data is copied when first used: most elements never read it, and its
        # split rules are big (rill's bridge leaves it out of `extra`: _rill.public() has it)
        self.__public_given = extra.get('public')
        self.__public_copy = None
        self.__dynamic_public = None
        self.__environment = dict(extra.get('environment') or {})
        self.__sources = list(extra.get('sources') or [])
        self.__staged_sources_directory = None

    def __lt__(self, other):
        return self.name < other.name

    #
    # Abstract methods of the build phase
    #
    def configure_sandbox(self, sandbox):
        """Configure the sandbox (abstract)."""
        raise ImplError("element plugin '{}' does not implement configure_sandbox()"
                        .format(self.get_kind()))

    def stage(self, sandbox):
        """Stage dependencies and sources into the sandbox (abstract)."""
        raise ImplError("element plugin '{}' does not implement stage()".format(self.get_kind()))

    def prepare(self, sandbox):
        """One-off preparation before assemble() (does nothing by default)."""

    def assemble(self, sandbox):
        """Build; returns the sandbox path to collect the artifact from (abstract)."""
        raise ImplError("element plugin '{}' does not implement assemble()".format(self.get_kind()))

    def generate_script(self):
        """A shell script building the element (abstract)."""
        raise ImplError("element plugin '{}' does not implement write_script()"
                        .format(self.get_kind()))

    #
    # The element graph
    #
    def sources(self):
        """Yield the element's Source objects."""
        yield from self.__sources

    def dependencies(self, scope, *, recurse=True, visited=None, recursed=False):
        """Yield the dependencies in `scope`, in staging order.

        With `recurse` (the default) the whole closure, including the element
        itself for Scope.RUN and Scope.ALL; without, only direct dependencies.
        """
        del visited, recursed
        names = self._rill_dependency_names(scope, recurse)
        for name in names:
            yield self if name == self.name else _dependency_view(name)

    def search(self, scope, name):
        """The dependency called `name` in `scope`, or None."""
        for dependency in self.dependencies(scope):
            if dependency.name == name:
                return dependency
        return None

    #
    # Substituting variables
    #
    def node_subst_member(self, node, member_name, default=utils._sentinel):
        """node_get_member() as str, with the element's variables substituted."""
        value = self.node_get_member(node, str, member_name, default)
        return self.__subst(value, _yaml.node_get_provenance(node, key=member_name))

    def node_subst_list(self, node, member_name):
        """The list in `member_name` with variables substituted in each item."""
        items = self.node_get_member(node, list, member_name)
        return [self.__subst(item, _yaml.node_get_provenance(node, key=member_name,
                                                            indices=[index]))
                for index, item in enumerate(items)]

    def node_subst_list_element(self, node, member_name, indices):
        """node_get_list_element() as str, with variables substituted."""
        value = self.node_get_list_element(node, str, member_name, indices)
        return self.__subst(value, _yaml.node_get_provenance(node, key=member_name,
                                                            indices=indices))

    def __subst(self, value, provenance):
        if not isinstance(value, str):
            # bst 1.6 fails the same way (e.g. node_subst_member(node, k, None) for a missing k)
            raise TypeError("expected string or bytes-like object, got '{}'".format(type(value).__name__))
        try:
            return self._rill_subst(value, str(provenance) if provenance is not None else None)
        except (host_error(), LoadError) as e:
            # bst puts the member's provenance before the variable error's own
            raise LoadError(LoadErrorReason.UNRESOLVED_VARIABLE,
                            "{}: {}".format(provenance, e)) from e

    def _rill_subst(self, value, provenance_text):
        return host().subst(value, provenance_text)

    #
    # Artifacts
    #
    def compute_manifest(self, *, include=None, exclude=None, orphans=True):
        """The files of this element's artifact selected by split domains."""
        manifest = host_function('manifest', 'Element.compute_manifest()')
        return list(manifest(self.name, _optional_list(include), _optional_list(exclude),
                             bool(orphans)))

    def stage_artifact(self, sandbox, *, path=None, include=None, exclude=None, orphans=True,
                       update_mtimes=None):
        """Stage this element's artifact: impossible while it is being built."""
        del sandbox, path, include, exclude, orphans, update_mtimes
        raise ElementError("No artifacts to stage",
                           detail="No artifacts have been cached yet for that element\n"
                                  "Try building the element first with `bst build`\n",
                           reason="uncached-checkout-attempt")

    def stage_dependency_artifacts(self, sandbox, scope, *, path=None,
                                   include=None, exclude=None, orphans=True):
        """Stage the artifacts of the dependencies in `scope` at sandbox `path`.

        `include`/`exclude` select split domains, `orphans` files in none.
        """
        del sandbox
        target = _sandbox_path(path)
        if scope != Scope.BUILD:
            # The closure includes this element, which has no artifact yet
            self.stage_artifact(None)
        if include or exclude or not orphans:
            host_function('stage_split', 'stage_dependency_artifacts() with splits')(
                None, _optional_list(include), _optional_list(exclude), bool(orphans), target)
        else:
            host_function('stage_deps', 'stage_dependency_artifacts()')(target)

    def integrate(self, sandbox):
        """Run this element's integration commands in `sandbox`."""
        bstdata = self.get_public_data('bst')
        if bstdata is None:
            return
        environment = self.get_environment()
        commands = self.node_get_member(bstdata, list, 'integration-commands', [])
        for index in range(len(commands)):
            command = self.node_subst_list_element(bstdata, 'integration-commands', [index])
            self.status("Running integration command", detail=command)
            exit_code = sandbox.run(['sh', '-e', '-c', command], 0, env=environment, cwd='/')
            if exit_code != 0:
                raise ElementError("Command '{}' failed with exitcode {}".format(command, exit_code))

    def stage_sources(self, sandbox, directory):
        """Stage the element's sources at `directory` in the sandbox."""
        del sandbox
        assert self.__staged_sources_directory is None
        self.__staged_sources_directory = directory
        host_function('stage_sources', 'Element.stage_sources()')(_sandbox_path(directory))

    #
    # Public data, environment, variables
    #
    @property
    def __public(self):
        if self.__public_copy is None:
            public = self.__public_given
            if public is None and host_has('public'):
                public = host().public()
            self.__public_copy = _yaml.node_copy(public if public is not None else {})
            self.__public_given = None
        return self.__public_copy

    def get_public_data(self, domain):
        """A copy of the public data of `domain` (a dict), or None."""
        public = self.__dynamic_public if self.__dynamic_public is not None else self.__public
        data = public.get(domain)
        return _yaml.node_copy(data) if data is not None else None

    def set_public_data(self, domain, data):
        """Set the public data of `domain` (stored with the artifact)."""
        if self.__dynamic_public is None:
            self.__dynamic_public = _yaml.node_copy(self.__public)
        self.__dynamic_public[domain] = _yaml.node_copy(data) if data is not None else None

    def get_environment(self):
        """The environment for Sandbox.run(): a dict of str."""
        return _yaml.node_sanitize(self.__environment)

    def get_variable(self, varname):
        """The resolved value of variable `varname`, or None if undefined."""
        return host().variable(varname)

    #
    # Private (bst_external's dpkg_build calls _get_workspace())
    #
    def _get_workspace(self):
        return None

    def _get_source_element(self):
        return self

    def _rill_dependency_names(self, scope, recurse):
        dependencies = host_function('dependencies', 'Element.dependencies()')
        return dependencies(_scope_value(scope), bool(recurse))

    def _rill_begin_assemble(self):
        self.__dynamic_public = _yaml.node_copy(self.__public)
        self.__staged_sources_directory = None

    def _rill_public_data(self):
        public = self.__dynamic_public if self.__dynamic_public is not None else self.__public
        return _yaml.node_sanitize(public)


def _scope_value(scope):
    return scope.value if isinstance(scope, Scope) else int(scope)


def _optional_list(value):
    return list(value) if value is not None else None


def _dependency_view(name):
    view = _dependency_views.get(name)
    if view is None:
        view = _DependencyElement(name)
        _dependency_views[name] = view
    return view


_VARIABLE = re.compile(r"%\{([a-zA-Z][a-zA-Z0-9_-]*)\}")


class _DependencyElement(Element):
    """Another element of the project, as a plugin sees it through
    dependencies() and search().  What it knows comes from
    `_rill.element_info(name)`, fetched once per host call."""

    def __init__(self, name):
        super().__init__(name, None, None)
        self.__info = None
        self.__info_generation = -1

    def _rill_info(self):
        if self.__info_generation != _generation:
            self.__info = host_function('element_info', 'other elements')(self.name)
            self.__info_generation = _generation
        return self.__info

    def __need(self, key, what):
        info = self._rill_info()
        if key not in info:
            raise PluginError("rill does not implement {} yet (_rill.element_info('{}') has no '{}')"
                              .format(what, self.name, key), reason="rill-unimplemented")
        return info[key]

    def __str__(self):
        info = self._rill_info()
        return "{} element at {}".format(info.get('kind'),
                                         info.get('provenance') or
                                         "{} [line 1 column 0]".format(self.name))

    def __repr__(self):
        return '<element {}>'.format(self.name)

    def get_kind(self):
        return self._rill_info().get('kind')

    def sources(self):
        for entry in self._rill_info().get('sources') or []:
            yield _source_view(entry)

    def _rill_dependency_names(self, scope, recurse):
        dependencies = host_function('dependencies', 'Element.dependencies() of another element')
        return dependencies(_scope_value(scope), bool(recurse), self.name)

    def _rill_subst(self, value, provenance_text):
        variables = self.__need('variables', "variables of other elements")

        def expand(match):
            name = match.group(1)
            if name not in variables:
                message = "Reference to undefined variable '{}'".format(name)
                if provenance_text:
                    message = "{}: {}".format(provenance_text, message)
                raise LoadError(LoadErrorReason.UNRESOLVED_VARIABLE, message)
            return variables[name]

        return _VARIABLE.sub(expand, value)

    def get_public_data(self, domain):
        public = self._rill_info().get('public') or {}
        data = public.get(domain)
        return _yaml.node_copy(data) if data is not None else None

    def set_public_data(self, domain, data):
        raise PluginError("rill does not implement set_public_data() on another element ('{}')"
                          .format(self.name), reason="rill-unimplemented")

    def get_environment(self):
        return _yaml.node_sanitize(self.__need('environment', "the environment of other elements"))

    def get_variable(self, varname):
        return self.__need('variables', "variables of other elements").get(varname)

    def stage_artifact(self, sandbox, *, path=None, include=None, exclude=None, orphans=True,
                       update_mtimes=None):
        del sandbox, update_mtimes
        host_function('stage_artifact', 'Element.stage_artifact()')(
            self.name, _sandbox_path(path), _optional_list(include), _optional_list(exclude),
            bool(orphans))
        return utils.FileListResult()

    def stage_dependency_artifacts(self, sandbox, scope, *, path=None,
                                   include=None, exclude=None, orphans=True):
        del sandbox
        if scope != Scope.RUN:
            raise PluginError("rill does not implement stage_dependency_artifacts() with {} "
                              "on another element yet".format(scope), reason="rill-unimplemented")
        target = _sandbox_path(path)
        if include or exclude or not orphans:
            host_function('stage_split', 'stage_dependency_artifacts() with splits')(
                self.name, _optional_list(include), _optional_list(exclude), bool(orphans), target)
        else:
            host_function('stage_dep', 'stage_dependency_artifacts() of another element')(
                self.name, target)

    def integrate(self, sandbox):
        # rill integrates everything staged in one go: once per job is enough
        global _integrated_generation  # pylint: disable=global-statement
        del sandbox
        if _integrated_generation == _generation:
            return
        host_function('integrate', 'Element.integrate()')()
        _integrated_generation = _generation

    def stage_sources(self, sandbox, directory):
        raise PluginError("rill does not implement stage_sources() of another element ('{}')"
                          .format(self.name), reason="rill-unimplemented")


class _SourceView():
    """A source of another element described by `_rill.element_info()`:
    what collect_manifest reads of bst's core sources (url, ref, path,
    mirror.url/ref/primary) and a few Source methods."""

    def __init__(self, entry):
        self.__kind = entry.get('kind')
        self.__provenance = entry.get('provenance') or ''
        for key, value in entry.items():
            if key not in ('kind', 'provenance', 'mirror'):
                setattr(self, key.replace('-', '_'), value)
        mirror = entry.get('mirror')
        if mirror is None and 'url' in entry:
            mirror = {'url': entry.get('url'), 'ref': entry.get('ref'), 'primary': True}
        if mirror is not None:
            self.mirror = SimpleNamespace(**mirror)

    def __str__(self):
        return "{} source at {}".format(self.__kind, self.__provenance)

    def get_kind(self):
        return self.__kind

    def translate_url(self, url, *, alias_override=None, primary=True):
        if alias_override:
            alias, separator, rest = url.partition(utils._ALIAS_SEPARATOR)
            if separator and alias:
                return alias_override + rest
            return url
        return host().translate_url(url, bool(primary))


def _source_view(entry):
    handle = entry.get('handle')
    if handle is not None:
        from . import _rill_driver  # pylint: disable=import-outside-toplevel
        instance = _rill_driver._instances.get(handle)
        if instance is not None:
            return instance
    return _SourceView(entry)
