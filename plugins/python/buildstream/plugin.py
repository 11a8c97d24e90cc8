# Plugin, the base of Element and Source: node access with bst's error
# messages, messages and warnings through the host, timed activities and host
# commands.  Instances are made by buildstream._rill_driver.
# SPDX-License-Identifier: Apache-2.0
"""The Plugin base class of BuildStream 1.6's plugin API, hosted by rill."""

import subprocess
import time
from contextlib import contextmanager

from . import _yaml
from . import utils
from ._exceptions import PluginError, ImplError
from ._rill_node import host, host_error
from .types import CoreWarnings


class Plugin():
    """Base Plugin class: what Sources and Elements have in common.

    Plugins derive from Source, Element or one of the convenience classes
    (BuildElement, ScriptElement), never from Plugin directly.
    """

    BST_REQUIRED_VERSION_MAJOR = 0
    """Minimum required major version"""

    BST_REQUIRED_VERSION_MINOR = 0
    """Minimum required minor version"""

    BST_FORMAT_VERSION = 0
    """The plugin's YAML format version (bumped when new configuration is understood)"""

    def __init__(self, name, provenance, type_tag):
        self.name = name
        """The element name (for sources: the element name and the source's index)"""

        self.__provenance = provenance      # text of where the plugin was declared
        self.__type_tag = type_tag          # "element" or "source"
        self.__configuring = False
        self.__kind = type(self).__module__.rsplit('.', maxsplit=1)[-1]

    def __str__(self):
        return "{} {} at {}".format(self.__kind, self.__type_tag, self.__provenance)

    #
    # Abstract methods
    #
    def configure(self, node):
        """Read the plugin's configuration from `node` (abstract)."""
        raise ImplError("{} plugin '{}' does not implement configure()"
                        .format(self.__type_tag, self.get_kind()))

    def preflight(self):
        """Check early that the plugin can work here (abstract)."""
        raise ImplError("{} plugin '{}' does not implement preflight()"
                        .format(self.__type_tag, self.get_kind()))

    def get_unique_key(self):
        """Something (str, list, dict) identifying the plugin's input (abstract)."""
        raise ImplError("{} plugin '{}' does not implement get_unique_key()"
                        .format(self.__type_tag, self.get_kind()))

    #
    # Node access
    #
    def get_kind(self):
        """The plugin's kind: the last component of its module's name."""
        return self.__kind

    def node_items(self, node):
        """Iterate the (key, value) pairs of a node, without bst's private entries."""
        yield from _yaml.node_items(node)

    def node_provenance(self, node, member_name=None):
        """"file [line L column C]" for `node` or its member `member_name`."""
        return str(_yaml.node_get_provenance(node, key=member_name))

    def node_get_member(self, node, expected_type, member_name, default=utils._sentinel):
        """The member `member_name` of `node` as `expected_type`, or `default`.

        LoadError when the member is missing without a default, or has the
        wrong type.  Strings are stripped.
        """
        return _yaml.node_get(node, expected_type, member_name, default_value=default)

    def node_get_project_path(self, node, key, *, check_is_file=False, check_is_dir=False):
        """The project-relative path in member `key`, checked to stay in the project."""
        return _yaml.node_get_project_path(node, key, host().project_dir(),
                                           check_is_file=check_is_file,
                                           check_is_dir=check_is_dir)

    def node_validate(self, node, valid_keys):
        """LoadError for the first key of `node` that is not in `valid_keys`."""
        _yaml.node_validate(node, valid_keys)

    def node_get_list_element(self, node, expected_type, member_name, indices):
        """The item at `indices` of the list in `member_name`, as `expected_type`."""
        return _yaml.node_get(node, expected_type, member_name, indices=indices)

    #
    # Messages
    #
    def debug(self, brief, *, detail=None):
        """A debugging message (shown when the host logs debug output)."""
        self.__message("debug", brief, detail)

    def status(self, brief, *, detail=None):
        """A message about what the plugin is doing."""
        self.__message("status", brief, detail)

    def info(self, brief, *, detail=None):
        """Something the user may want to know."""
        self.__message("info", brief, detail)

    def warn(self, brief, *, detail=None, warning_token=None):
        """A warning; PluginError when `warning_token` is fatal in the project.

        Tokens other than CoreWarnings are prefixed with the plugin's kind
        ("git_tag:unused-lfs"), and the brief with "[token]: ".
        """
        if warning_token:
            warning_token = _prefix_warning(self, warning_token)
            brief = "[{}]: {}".format(warning_token, brief)
        args = [warning_token, "", brief]
        if detail is not None:
            args.append(detail)
        try:
            host().warn(*args)
        except host_error() as e:
            if not warning_token:
                raise
            raise PluginError("{}\n{}".format(brief, detail if detail else ""),
                              reason=warning_token) from e

    def log(self, brief, *, detail=None):
        """A message for the log only."""
        self.__message("log", brief, detail)

    @contextmanager
    def timed_activity(self, activity_name, *, detail=None, silent_nested=False):
        """Context manager logging the start, end and duration of an activity."""
        del silent_nested
        self.__message("log", "START {}".format(activity_name), detail)
        started = time.monotonic()
        try:
            yield
        except BaseException:
            self.__message("log", "FAILURE {} ({})".format(activity_name, _elapsed(started)), None)
            raise
        self.__message("log", "SUCCESS {} ({})".format(activity_name, _elapsed(started)), None)

    #
    # Host commands
    #
    def call(self, *popenargs, fail=None, fail_temporarily=False, **kwargs):
        """subprocess.call() on the host; PluginError "{plugin}: {fail}" on a
        non-zero exit when `fail` is given.  Returns the exit code."""
        exit_code, _ = self.__call(*popenargs, fail=fail, fail_temporarily=fail_temporarily,
                                   **kwargs)
        return exit_code

    def check_output(self, *popenargs, fail=None, fail_temporarily=False, **kwargs):
        """Like call(), collecting stdout: returns (exit code, output str)."""
        return self.__call(*popenargs, collect_stdout=True, fail=fail,
                           fail_temporarily=fail_temporarily, **kwargs)

    #
    # Private, used within the package (and by some plugins)
    #
    def _get_provenance(self):
        return self.__provenance

    def _configure(self, node):
        self.__configuring = True
        try:
            self.configure(node)
        finally:
            self.__configuring = False

    def _get_configuring(self):
        return self.__configuring

    def _preflight(self):
        self.preflight()

    def _get_full_name(self):
        return self.name

    def __message(self, kind, brief, detail):
        host().message(kind, brief, detail)

    def __call(self, *popenargs, collect_stdout=False, fail=None, fail_temporarily=False,
               **kwargs):
        # bst sends command output to the job's log, and to /dev/null in the
        # main process; a rill job's own stdout/stderr are its log.
        quiet = subprocess.DEVNULL if utils._is_main_process() else None
        kwargs.setdefault('stdout', quiet)
        kwargs.setdefault('stderr', quiet)
        if collect_stdout:
            kwargs['stdout'] = subprocess.PIPE

        argv = popenargs[0] if popenargs else kwargs.get('args', [])
        command = argv if isinstance(argv, str) else " ".join(argv)
        self.status('Running host command', detail=command)

        exit_code, output = utils._call(*popenargs, **kwargs)
        if fail and exit_code:
            raise PluginError("{}: {}".format(self, fail), temporary=fail_temporarily)
        return (exit_code, output)


def _elapsed(started):
    seconds = int(time.monotonic() - started)
    return "{:02d}:{:02d}:{:02d}".format(seconds // 3600, seconds // 60 % 60, seconds % 60)


_CORE_WARNINGS = frozenset(value for name, value in vars(CoreWarnings).items()
                           if not name.startswith("__"))


def _prefix_warning(plugin, warning):
    if warning in _CORE_WARNINGS:
        return warning
    return "{}:{}".format(plugin.get_kind(), warning)
