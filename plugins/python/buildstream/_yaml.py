# The part of BuildStream 1.6's private `_yaml` module that plugins reach
# into: typed member access with bst's messages, validation, sanitizing,
# copying, provenance.  Nodes are dicts carrying a '__bst_provenance_info'
# entry (see _rill_node.py).
# SPDX-License-Identifier: Apache-2.0
"""Node helpers compatible with bst 1.6's buildstream._yaml."""

import collections.abc
import os
from pathlib import Path

from ._exceptions import LoadError, LoadErrorReason, PluginError
from ._rill_node import PROVENANCE_KEY, Provenance, node_provenance
from . import utils

# bst's provenance classes all have the shape of rill's one
DictProvenance = Provenance
MemberProvenance = Provenance
ElementProvenance = Provenance

# What a dictionary made in Python (not loaded from a file) reports, as in bst
_SYNTHETIC_TEXT = " [line 1 column 0]"


def node_get_provenance(node, key=None, indices=None):
    """Provenance of `node`, of its member `key`, or of an item of that list."""
    return node_provenance(node, key, indices)


def _convert(value, expected_type):
    # bst's coercions: bool only from true/True/false/False, other scalars
    # through the type's constructor, lists and dicts never.
    if expected_type is bool and isinstance(value, str):
        if value in ('true', 'True'):
            return True
        if value in ('false', 'False'):
            return False
        raise ValueError(value)
    if expected_type in (list, dict) or isinstance(value, (list, dict)):
        raise ValueError(value)
    return expected_type(value)


def node_get(node, expected_type, key, indices=None, default_value=utils._sentinel):
    """The member `key` of `node` (or an item below it), checked and converted.

    Raises LoadError (INVALID_DATA) with the node's provenance when the key
    is missing and there is no default, or when the value cannot be given
    as `expected_type`.  Strings come back stripped; None stays None.
    """
    value = node.get(key, default_value)
    if value is utils._sentinel:
        raise LoadError(LoadErrorReason.INVALID_DATA,
                        "{}: Dictionary did not contain expected key '{}'"
                        .format(node_get_provenance(node), key))

    path = key
    if indices is not None:
        value = node_get(node, list, key)
        for index in indices:
            value = value[index]
            path += '[{:d}]'.format(index)

    if value is None:
        return None

    if not isinstance(value, expected_type):
        try:
            value = _convert(value, expected_type)
        except (ValueError, TypeError) as e:
            raise LoadError(LoadErrorReason.INVALID_DATA,
                            "{}: Value of '{}' is not of the expected type '{}'"
                            .format(node_get_provenance(node, key=key, indices=indices),
                                    path, expected_type.__name__)) from e

    if isinstance(value, str):
        value = value.strip()
    return value


def node_get_project_path(node, key, project_dir, *, check_is_file=False, check_is_dir=False):
    """The path in member `key`, checked to be a real file or directory inside
    `project_dir` (no '..' first, no symlink, socket, fifo or block device)."""
    path_str = node_get(node, str, key)
    path = Path(path_str)
    project = Path(project_dir)
    where = node_get_provenance(node, key=key)

    if (project / path).is_symlink():
        raise LoadError(LoadErrorReason.PROJ_PATH_INVALID_KIND,
                        "{}: Specified path '{}' must not point to symbolic links "
                        .format(where, path_str))
    if path.parts and path.parts[0] == '..':
        raise LoadError(LoadErrorReason.PROJ_PATH_INVALID,
                        "{}: Specified path '{}' first component must not be '..'"
                        .format(where, path_str))
    try:
        resolved = (project / path).resolve(strict=True)
    except FileNotFoundError as e:
        raise LoadError(LoadErrorReason.MISSING_FILE,
                        "{}: Specified path '{}' does not exist".format(where, path_str)) from e

    inside = resolved == project or project.resolve() in resolved.parents
    if path.is_absolute() or not inside:
        raise LoadError(LoadErrorReason.PROJ_PATH_INVALID,
                        "{}: Specified path '{}' must not lead outside of the project directory"
                        .format(where, path_str))
    if resolved.is_socket() or resolved.is_fifo() or resolved.is_block_device():
        raise LoadError(LoadErrorReason.PROJ_PATH_INVALID_KIND,
                        "{}: Specified path '{}' points to an unsupported file kind"
                        .format(where, path_str))
    if check_is_file and not resolved.is_file():
        raise LoadError(LoadErrorReason.PROJ_PATH_INVALID_KIND,
                        "{}: Specified path '{}' is not a regular file".format(where, path_str))
    if check_is_dir and not resolved.is_dir():
        raise LoadError(LoadErrorReason.PROJ_PATH_INVALID_KIND,
                        "{}: Specified path '{}' is not a directory".format(where, path_str))
    return path_str


def node_items(node):
    """Yield the (key, value) pairs of `node`, without the provenance entry."""
    for key, value in node.items():
        if key != PROVENANCE_KEY:
            yield (key, value)


def node_sanitize(node):
    """Plain data for `node`: every Mapping becomes a dict with sorted keys and
    no provenance, lists are walked; anything else is returned as it is."""
    if isinstance(node, collections.abc.Mapping):
        keys = sorted(key for key, _ in node_items(node))
        return {key: node_sanitize(node[key]) for key in keys}
    if isinstance(node, list):
        return [node_sanitize(item) for item in node]
    return node


def node_validate(node, valid_keys):
    """LoadError "<provenance>: Unexpected key: k" for the first key of `node`
    not in `valid_keys` (the provenance entry is always allowed)."""
    allowed = set(valid_keys)
    allowed.add(PROVENANCE_KEY)
    for key in node:
        if key not in allowed:
            raise LoadError(LoadErrorReason.INVALID_DATA,
                            "{}: Unexpected key: {}".format(node_get_provenance(node, key=key), key))


def ensure_provenance(node):
    """The provenance of `node`, giving it a synthetic one when it has none."""
    provenance = node.get(PROVENANCE_KEY)
    if not provenance:
        provenance = Provenance(_SYNTHETIC_TEXT)
    node[PROVENANCE_KEY] = provenance
    return provenance


def node_copy(source):
    """A deep copy of the mapping `source` (provenance included) as a dict."""
    copy = {}
    for key, value in source.items():
        copy[key] = _copy_value(value)
    ensure_provenance(copy)
    return copy


def list_copy(source):
    """A deep copy of the list `source`."""
    return [_copy_value(item) for item in source]


def _copy_value(value):
    if isinstance(value, collections.abc.Mapping):
        return node_copy(value)
    if isinstance(value, list):
        return list_copy(value)
    if isinstance(value, Provenance):
        return value.clone()
    return value


# bst copies lazily through a ChainMap; a real copy behaves the same for plugins
node_chain_copy = node_copy
list_chain_copy = list_copy


def composite(target, source):
    """Merge `source` into `target`: mappings recursively, other values replace.

    (bst's list directives `(>)`, `(<)`, `(=)` are the C core's business and
    are not interpreted here.)
    """
    for key, value in node_items(source):
        current = target.get(key)
        if isinstance(value, collections.abc.Mapping) and isinstance(current, collections.abc.Mapping):
            composite(current, value)
        else:
            target[key] = _copy_value(value)
        target_provenance = target.get(PROVENANCE_KEY)
        member = node_get_provenance(source, key)
        if target_provenance is not None and member is not None:
            target_provenance.members[key] = member


def node_final_assertions(node):
    """LoadError when a list directive key is left over in `node`."""
    for key, value in node_items(node):
        if key in ('(>)', '(<)', '(=)'):
            raise LoadError(LoadErrorReason.TRAILING_LIST_DIRECTIVE,
                            "{}: Attempt to override non-existing list"
                            .format(node_get_provenance(node, key)))
        if isinstance(value, collections.abc.Mapping):
            node_final_assertions(value)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, collections.abc.Mapping):
                    node_final_assertions(item)


def load(filename, shortname=None, copy_tree=False, *, project=None):
    """Not offered: rill loads YAML in C."""
    del shortname, copy_tree, project
    raise PluginError("rill does not implement buildstream._yaml.load() yet (loading {})"
                      .format(filename), reason="rill-unimplemented")


def dump(node, filename=None):
    """Write sanitized `node` as YAML to `filename` (or stdout) using ruamel."""
    try:
        from ruamel.yaml import YAML  # pylint: disable=import-outside-toplevel
    except ImportError as e:
        raise PluginError("rill's buildstream._yaml.dump() needs ruamel.yaml") from e
    writer = YAML(typ='safe', pure=True)
    writer.default_flow_style = False
    data = node_sanitize(node)
    if filename is None:
        import sys  # pylint: disable=import-outside-toplevel
        writer.dump(data, sys.stdout)
        return
    with utils.save_file_atomic(os.path.abspath(filename), "w") as handle:
        writer.dump(data, handle)
