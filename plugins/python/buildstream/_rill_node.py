# Provenance of the nodes rill hands to Python plugins, and guarded access to the
# host module `_rill` (implemented in C by plugins/python/bridge.c).
# SPDX-License-Identifier: Apache-2.0
"""Node provenance and host access for rill's BuildStream plugin API."""

import re

PROVENANCE_KEY = '__bst_provenance_info'

_POSITION = re.compile(r'^(.*) \[line (\d+) column (\d+)\]$')


class _FileName():
    """What bst's ProvenanceFile offers that plugins read: name and shortname."""

    def __init__(self, name):
        self.name = name
        self.shortname = name
        self.project = None


class Provenance():
    """Where a node came from.

    `text` is "file.bst [line L column C]" ("" for synthetic nodes), `members`
    maps a mapping's keys to the Provenance of their values and `elements`
    lists the Provenance of a list's items.  str() gives `text`.
    """

    __slots__ = ('text', 'members', 'elements')

    def __init__(self, text='', members=None, elements=None):
        self.text = text if text is not None else ''
        self.members = members if members is not None else {}
        self.elements = elements if elements is not None else []

    def __str__(self):
        return self.text

    def __repr__(self):
        return 'Provenance({!r})'.format(self.text)

    # bst's Provenance attributes, derived from the text for plugins that read them
    def _position(self):
        match = _POSITION.match(self.text)
        if match is None:
            return (self.text, 0, 0)
        return (match.group(1), int(match.group(2)), int(match.group(3)))

    @property
    def filename(self):
        return _FileName(self._position()[0])

    @property
    def line(self):
        return self._position()[1]

    @property
    def col(self):
        return self._position()[2]

    def clone(self):
        return Provenance(self.text,
                          {k: v.clone() for k, v in self.members.items()},
                          [e.clone() for e in self.elements])


def node_provenance(node, key=None, indices=None):
    """The Provenance of `node`, of its member `key`, or of a list item below it."""
    if not hasattr(node, 'get'):
        return None
    provenance = node.get(PROVENANCE_KEY)
    if provenance is not None and key:
        provenance = provenance.members.get(key)
        if provenance is not None and indices is not None:
            for index in indices:
                provenance = provenance.elements[index]
    return provenance


def make_node(value, text=''):
    """Turn plain Python data into a rill node (dicts gain a provenance entry).

    Used for synthetic data (e.g. public data a plugin sets); `text` is
    given to every mapping and item.
    """
    if isinstance(value, dict):
        members = {}
        result = {}
        for key, item in value.items():
            if key == PROVENANCE_KEY:
                continue
            result[key] = make_node(item, text)
            members[key] = _item_provenance(result[key], text)
        result[PROVENANCE_KEY] = Provenance(text, members)
        return result
    if isinstance(value, list):
        return [make_node(item, text) for item in value]
    return value


def _item_provenance(value, text):
    if isinstance(value, list):
        return Provenance(text, None, [_item_provenance(v, text) for v in value])
    return Provenance(text)


#
# The host module.  It is a builtin module of the embedding process; tests
# install a stand-in in sys.modules before importing the package.
#
def host():
    """The `_rill` module (imported on first use)."""
    import _rill  # pylint: disable=import-outside-toplevel,import-error
    return _rill


def host_function(name, what=None):
    """The `_rill` function `name`, or a PluginError naming it when the host lacks it."""
    function = getattr(host(), name, None)
    if function is None:
        from ._exceptions import PluginError  # pylint: disable=import-outside-toplevel
        raise PluginError("rill does not implement {} yet (the host has no _rill.{}())"
                          .format(what or name + "()", name),
                          reason="rill-unimplemented")
    return function


def host_has(name):
    """Whether the host offers the `_rill` function `name`."""
    return getattr(host(), name, None) is not None


class _NoHostError(Exception):
    """Stands for `_rill.Error` when the host defines none (never raised)."""


def host_error():
    """The exception class host calls raise (`_rill.Error`)."""
    return getattr(host(), 'Error', _NoHostError)
