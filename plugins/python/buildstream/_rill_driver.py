# The entry points rill's C bridge calls: finding and importing plugins as
# bst 1.6.8 does (local directories and pip entry points), making and
# configuring instances, and running their fetch/stage/track/assemble.
# Contract: plugins/python/INTERFACE.md.
# SPDX-License-Identifier: Apache-2.0
"""Driver of Python plugins for rill's C side."""

import collections.abc
import gc
import hashlib
import importlib
import inspect
import os
import re
import sys
import traceback
import types
import warnings

from . import _yaml
from . import element as _element
from . import utils
from ._exceptions import BstError, ElementError, ImplError, SourceError
from ._rill_node import PROVENANCE_KEY, host, host_function, host_has, node_provenance
from .element import Element
from .sandbox import Sandbox
from .source import Source
from .types import Consistency

# rill's flag bits in load()'s answer
FLAG_STRICT_REBUILD = 0x1
FLAG_FORBID_RDEPENDS = 0x2
FLAG_FORBID_BDEPENDS = 0x4
FLAG_FORBID_SOURCES = 0x8
FLAG_REQUIRES_PREVIOUS_SOURCES_TRACK = 0x100
FLAG_REQUIRES_PREVIOUS_SOURCES_FETCH = 0x200
FLAG_REQUIRES_PREVIOUS_SOURCES_STAGE = 0x400

# Plugin modules live in one synthetic package per search directory, so that
# `from . import sibling` works and a module's last name is its kind.  bst's
# pluginbase names such packages 'pluginbase._internalspace._sp<md5>';
# messages are given with that prefix.
_SPACE_PARENT = '_rill_plugins'
_BST_SPACE_PARENT = 'pluginbase._internalspace'

_BASES = {'element': Element, 'source': Source}

_spaces = {}          # (type, directory) -> package module (kept alive)
_pip_directories = {} # (type, package name) -> directory of the first kind found
_types = {}           # (type, kind, origin, where) -> (class, defaults path)
_last_loaded = {}     # (type, kind) -> the same, for the latest load() of that kind
_instances = {}       # handle -> plugin instance
_nodes = {}           # handle -> node given to configure()
_validated = set()    # handles of sources whose validate_cache() ran
_pending_sources = {} # element name -> its Source instances configured so far


class LoadFailure(Exception):
    """A plugin could not be loaded; str() is bst's message."""

    def __init__(self, message, detail=None):
        super().__init__(message)
        self.detail = detail


#
# Loading
#
def load(type, kind, origin, where, project_dir):  # pylint: disable=redefined-builtin
    """Find, import and check plugin `kind`; see INTERFACE.md.

    Returns {"format_version", "flags", "artifact_version", "defaults"}.
    Raises LoadFailure with bst's message.
    """
    base = _BASES[type]
    key = (type, kind, origin, where)
    cached = _types.get(key)
    if cached is None:
        cached = _load_class(type, base, kind, origin, where, project_dir)
        _types[key] = cached
    _last_loaded[(type, kind)] = cached
    plugin_type, defaults = cached
    return {
        "format_version": int(plugin_type.BST_FORMAT_VERSION),
        "flags": _flags(plugin_type),
        "artifact_version": int(getattr(plugin_type, 'BST_ARTIFACT_VERSION', 0)),
        "defaults": defaults,
    }


def _load_class(type, base, kind, origin, where, project_dir):  # pylint: disable=redefined-builtin
    base_name = base.__name__
    defaults = None
    if origin == 'local':
        directory = where if os.path.isabs(where) else os.path.join(project_dir, where)
    elif origin == 'pip':
        directory, defaults = _pip_directory(type, base_name, where, kind)
    else:
        raise LoadFailure("Failed to load plugin '{}': Unexpected plugin origin '{}'"
                          .format(kind, origin))

    module = _import(type, base_name, directory, kind)
    if not defaults:
        defaults = os.path.join(os.path.dirname(inspect.getfile(module)), kind + '.yaml')

    try:
        plugin_type = module.setup()
    except AttributeError as e:
        raise LoadFailure("{} plugin '{}' did not provide a setup() function"
                          .format(base_name, kind)) from e
    except TypeError as e:
        raise LoadFailure("setup symbol in {} plugin '{}' is not a function"
                          .format(base_name, kind)) from e

    try:
        subclass = issubclass(plugin_type, base)
    except TypeError as e:
        raise LoadFailure("{} plugin '{}' returned something that is not a type "
                          "(expected subclass of {})".format(base_name, kind, base_name)) from e
    if not subclass:
        raise LoadFailure("{} plugin '{}' returned type '{}', which is not a subclass of {}"
                          .format(base_name, kind, plugin_type.__name__, base_name))

    _check_version(base_name, kind, plugin_type)
    return (plugin_type, defaults)


def _pip_directory(type, base_name, package_name, kind):  # pylint: disable=redefined-builtin
    # As bst: the first kind asked of a package fixes the directory every
    # later kind of that package (and plugin type) is imported from, and only
    # that first kind gets the entry point's .yaml as defaults.
    known = _pip_directories.get((type, package_name))
    if known is not None:
        return known, None

    found = _find_entry_point(package_name, kind)
    if found is not None:
        # the distribution's metadata, read directly: importing pkg_resources alone costs
        # more than loading a whole project (0.12 s); it is still used for its errors
        module_name, base = found
        stem = module_name.replace('.', os.sep)
        location = os.path.join(base, stem + '.py')
        defaults = os.path.join(base, stem + '.yaml')
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pkg_resources  # pylint: disable=import-outside-toplevel
        try:
            entry = pkg_resources.get_entry_info(package_name, 'buildstream.plugins', kind)
        except pkg_resources.DistributionNotFound as e:
            raise LoadFailure("Failed to load {} plugin '{}': {}".format(base_name, kind, e)) from e
        if entry is None:
            raise LoadFailure("Pip package {} does not contain a plugin named '{}'"
                              .format(package_name, kind))

        stem = entry.module_name.replace('.', os.sep)
        location = entry.dist.get_resource_filename(pkg_resources._manager, stem + '.py')
        try:
            defaults = entry.dist.get_resource_filename(pkg_resources._manager, stem + '.yaml')
        except KeyError:
            defaults = None
    directory = os.path.dirname(location)
    _pip_directories[(type, package_name)] = directory
    return directory, defaults


def _safe_name(name):
    # pkg_resources' matching of distribution names: runs of other characters are '-',
    # '_' is '-', case does not matter
    return re.sub('[^A-Za-z0-9.]+', '-', name).replace('_', '-').lower()


def _find_entry_point(package_name, kind):
    """(module name, base directory) of the `buildstream.plugins` entry point `kind` of the
    installed distribution `package_name`, from its egg-info or dist-info on sys.path; None
    when that cannot be said here (pkg_resources then decides, with its messages)."""
    wanted = _safe_name(package_name)
    for base in sys.path:
        try:
            names = os.listdir(base or '.')
        except OSError:
            continue
        for entry in names:
            stem, dot, suffix = entry.rpartition('.')
            if not dot or suffix not in ('egg-info', 'dist-info'):
                continue
            dist = stem.split('-')[0]
            if _safe_name(dist) != wanted:
                continue
            path = os.path.join(base or '.', entry, 'entry_points.txt')
            try:
                with open(path, encoding='utf-8') as f:
                    lines = f.read().splitlines()
            except OSError:
                return None
            section = None
            for line in lines:
                line = line.strip()
                if line.startswith('[') and line.endswith(']'):
                    section = line[1:-1].strip()
                elif section == 'buildstream.plugins' and '=' in line:
                    name, _, value = line.partition('=')
                    if name.strip() == kind:
                        return (value.split(':')[0].strip(), base or '.')
            return None
    return None


def _space(type, directory):  # pylint: disable=redefined-builtin
    key = (type, directory)
    space = _spaces.get(key)
    if space is None:
        if _SPACE_PARENT not in sys.modules:
            parent = types.ModuleType(_SPACE_PARENT)
            parent.__path__ = []
            sys.modules[_SPACE_PARENT] = parent
        digest = hashlib.md5('{}|{}'.format(type, directory).encode('utf-8')).hexdigest()
        name = '{}._sp{}'.format(_SPACE_PARENT, digest)
        space = types.ModuleType(name)
        space.__path__ = [directory]
        space.__package__ = name
        sys.modules[name] = space
        _spaces[key] = space
    return space


def _import(type, base_name, directory, kind):  # pylint: disable=redefined-builtin
    if '.' in kind:
        raise LoadFailure("Failed to load {} plugin '{}': Plugin names cannot contain dots."
                          .format(base_name, kind))
    space = _space(type, directory)
    try:
        return importlib.import_module('{}.{}'.format(space.__name__, kind))
    except ImportError as e:
        message = str(e).replace(_SPACE_PARENT + '.', _BST_SPACE_PARENT + '.')
        raise LoadFailure("Failed to load {} plugin '{}': {}".format(base_name, kind, message)) from e


def _check_version(base_name, kind, plugin_type):
    major, minor = utils.get_bst_version()
    wanted = (plugin_type.BST_REQUIRED_VERSION_MAJOR, plugin_type.BST_REQUIRED_VERSION_MINOR)
    if (major, minor) < wanted:
        raise LoadFailure("BuildStream {}.{} is too old for {} plugin '{}' (requires {}.{})"
                          .format(major, minor, base_name, kind, wanted[0], wanted[1]))
    if not hasattr(plugin_type, 'BST_MIN_VERSION'):
        return
    try:
        min_major, _ = utils._parse_version(plugin_type.BST_MIN_VERSION)
    except BstError as e:
        raise LoadFailure("Loaded plugin '{}' is not a BuildStream 1 plugin".format(kind),
                          detail="Error parsing BST_MIN_VERSION: {}".format(e)) from e
    raise LoadFailure("Loaded plugin '{}' is a BuildStream {} plugin".format(kind, min_major),
                      detail="You need to use BuildStream 1 plugins with BuildStream 1 projects")


def _flags(plugin_type):
    flags = 0
    for attribute, bit in (('BST_STRICT_REBUILD', FLAG_STRICT_REBUILD),
                           ('BST_FORBID_RDEPENDS', FLAG_FORBID_RDEPENDS),
                           ('BST_FORBID_BDEPENDS', FLAG_FORBID_BDEPENDS),
                           ('BST_FORBID_SOURCES', FLAG_FORBID_SOURCES),
                           ('BST_REQUIRES_PREVIOUS_SOURCES_TRACK',
                            FLAG_REQUIRES_PREVIOUS_SOURCES_TRACK),
                           ('BST_REQUIRES_PREVIOUS_SOURCES_FETCH',
                            FLAG_REQUIRES_PREVIOUS_SOURCES_FETCH),
                           ('BST_REQUIRES_PREVIOUS_SOURCES_STAGE',
                            FLAG_REQUIRES_PREVIOUS_SOURCES_STAGE)):
        if getattr(plugin_type, attribute, False):
            flags |= bit
    return flags


#
# Instances
#
def configure(type, kind, handle, node, name, extra=None):  # pylint: disable=redefined-builtin
    """Make plugin `kind` for element `name`, configure and preflight it.

    `extra` (a dict): for elements 'public' (node), 'environment' (dict of
    str), 'sources' (handles of the element's sources, configured before
    it), optionally 'provenance' (text); for sources optionally 'index'
    (the source's position: its name becomes "<element>-<index>" as in
    bst) and 'directory' (else the node's `directory`).  Optionally
    'origin' and 'where' as given to load(), to pick among plugins of the
    same kind from different origins (junctions); else the kind's latest
    load() is used.

    Returns the sanitized unique key; None for an inconsistent source.
    """
    _element._rill_new_call()
    extra = dict(extra or {})
    plugin_type = _loaded_type(type, kind, extra.get('origin'), extra.get('where'))

    if type == 'element':
        if 'sources' in extra:
            extra['sources'] = [_instances[h] for h in extra.get('sources') or []]
        else:
            # rill configures an element's sources just before the element
            extra['sources'] = _pending_sources.pop(name, [])
        instance = plugin_type(name, extra.get('provenance'), extra)
    else:
        index = extra.get('index')
        if index is None:
            index = len(_pending_sources.setdefault(name, []))
        directory = _take_common_keys(node)
        if 'directory' not in extra:
            extra['directory'] = directory
        provenance = node_provenance(node)
        instance = plugin_type(name if index is None else "{}-{}".format(name, index),
                               str(provenance) if provenance is not None else "", extra)

    _instances[handle] = instance
    _nodes[handle] = node
    if type == 'source':
        _pending_sources.setdefault(name, []).append(instance)
    instance._configure(node)

    if type == 'element':
        _preflight_element(instance)
        return sanitize(instance.get_unique_key())

    instance._preflight()
    if _source_consistency(handle, instance) == Consistency.INCONSISTENT:
        return None
    return sanitize(instance.get_unique_key())


def _take_common_keys(node):
    # bst's loader removes 'kind', and 'directory' when not empty, from a
    # source's node before the plugin sees it; the directory is returned.
    node.pop('kind', None)
    directory = _yaml.node_get(node, str, 'directory', default_value=None)
    if directory:
        del node['directory']
    return directory


def _loaded_type(type, kind, origin, where):  # pylint: disable=redefined-builtin
    try:
        if origin is not None:
            return _types[(type, kind, origin, where)][0]
        return _last_loaded[(type, kind)][0]
    except KeyError:
        raise LoadFailure("{} plugin '{}' was not loaded".format(type, kind)) from None


def _preflight_element(instance):
    try:
        instance.preflight()
    except BstError as e:
        raise ElementError("{}: {}".format(instance, e), reason=e.reason) from e
    sources = list(instance.sources())
    if sources and sources[0]._requires_previous_sources():
        raise ElementError("{}: {} cannot be the first source of an element "
                           "as it requires access to previous sources".format(instance, sources[0]))


def _source_consistency(handle, source):
    state = source.get_consistency()
    if state == Consistency.CACHED and handle not in _validated:
        source.validate_cache()
        _validated.add(handle)
    return state


def consistency(handle):
    """The source's Consistency (0 inconsistent, 1 resolved, 2 cached)."""
    _element._rill_new_call()
    return int(_source_consistency(handle, _instances[handle]))


def fetch(handle, previous_sources_dir=None):
    """Fetch the source, through its SourceFetchers when it has some.

    `previous_sources_dir`: where the element's earlier sources are staged,
    for BST_REQUIRES_PREVIOUS_SOURCES_FETCH sources.
    """
    _element._rill_new_call()
    _instances[handle]._rill_fetch(previous_sources_dir)


def stage(handle, dest_dir):
    """Stage the source into `dest_dir` joined with the source's `directory`."""
    _element._rill_new_call()
    _instances[handle]._rill_stage(dest_dir)


def init_workspace(handle, dest_dir):
    """Set a workspace up in `dest_dir` (joined with the source's `directory`)."""
    _element._rill_new_call()
    _instances[handle]._rill_init_workspace(dest_dir)


def track(handle, previous_sources_dir=None):
    """Track the source: the new ref (sanitized), or None when track() gave none."""
    _element._rill_new_call()
    source = _instances[handle]
    new_ref = source._rill_track(previous_sources_dir)
    if new_ref is None:
        return None
    if new_ref != source.get_ref():
        source.info("Found new revision: {}".format(new_ref))
        source.set_ref(new_ref, _nodes[handle])
    return sanitize(new_ref)


def unique_key(handle):
    """The plugin's sanitized unique key now; None for an inconsistent source
    (for a source that became resolved after configure(), e.g. by set_ref())."""
    _element._rill_new_call()
    instance = _instances[handle]
    if isinstance(instance, Source) and \
            _source_consistency(handle, instance) == Consistency.INCONSISTENT:
        return None
    return sanitize(instance.get_unique_key())


def get_ref(handle):
    """The source's current ref (sanitized), or None."""
    _element._rill_new_call()
    return sanitize(_instances[handle].get_ref())


def set_ref(handle, ref):
    """Give the source `ref` (e.g. what a track job found), written into its node."""
    _element._rill_new_call()
    _instances[handle].set_ref(ref, _nodes[handle])


def load_ref(handle, node):
    """Load the source's ref from `node` (a project.refs entry), as bst does."""
    _element._rill_new_call()
    source = _instances[handle]
    try:
        source.load_ref(node)
    except ImplError as e:
        raise SourceError("{}: Storing refs in project.refs is not supported by '{}' sources"
                          .format(source, source.get_kind()), reason="unsupported-load-ref") from e


def assemble(handle):
    """Build the element in the job's sandbox and collect its artifact.

    Returns the element's public data after the build (sanitized), which
    assemble() may have changed with set_public_data().
    """
    _element._rill_new_call()
    instance = _instances[handle]
    sandbox = Sandbox()
    instance._rill_begin_assemble()
    instance.configure_sandbox(sandbox)
    instance.stage(sandbox)
    # in a workspace, prepare() runs once (bst)
    if not (host_has('workspace_prepared') and host().workspace_prepared()):
        instance.prepare(sandbox)
    collect = instance.assemble(sandbox)

    if not os.path.exists(os.path.join(sandbox.get_directory(), collect.lstrip(os.sep))):
        raise ElementError("Directory '{}' was not found inside the sandbox, "
                           "unable to collect artifact contents".format(collect))
    # bst collects the returned path relative to the sandbox root ('output' is '/output')
    host_function('collect', 'collecting an artifact')('/' + collect.lstrip(os.sep))
    return instance._rill_public_data()


def generate_script(handle):
    """The element's generate_script() text."""
    _element._rill_new_call()
    return _instances[handle].generate_script()


#
# Helpers for the C side
#
def sanitize(value):
    """Plain data: Mappings become dicts with sorted keys and no provenance,
    lists and tuples become lists; other values pass unchanged."""
    if isinstance(value, collections.abc.Mapping):
        return {key: sanitize(value[key]) for key in sorted(k for k in value if k != PROVENANCE_KEY)}
    if isinstance(value, (list, tuple)):
        return [sanitize(item) for item in value]
    return value


def describe_error(exc):
    """(message, detail, is_bug) for an exception that reached the C side.

    BstError and LoadFailure are clean failures; anything else is a bug,
    whose detail is the traceback.
    """
    if isinstance(exc, (BstError, LoadFailure)):
        return (str(exc), getattr(exc, 'detail', None), False)
    message = str(exc) or type(exc).__name__
    detail = ''.join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return (message, detail, True)


# Loading makes many small objects and few cycles: the collector runs a hundredth as often
# (0.2 s to 0.16 s for 600 elements), and what importing made stays out of its way (and out of
# the pages forked jobs would otherwise copy).
gc.freeze()
gc.set_threshold(100000, 50, 50)
