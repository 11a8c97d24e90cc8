# The Sandbox an element's build-phase methods receive: a view of the build
# job's sandbox whose staging and running are done by rill's C side.
# SPDX-License-Identifier: Apache-2.0
"""Sandbox and SandboxFlags of BuildStream 1.6's plugin API, hosted by rill."""

import os

from ._exceptions import SandboxError
from ._rill_node import host, host_function, host_has


class SandboxFlags():
    """Flags for Sandbox.run() (values as in bst 1.6)."""

    ROOT_READ_ONLY = 0x01
    """The root file system is read-only (marked directories stay writable)."""

    NETWORK_ENABLED = 0x02
    """The command may use the network."""

    INTERACTIVE = 0x04
    """The command is connected to the terminal."""

    INHERIT_UID = 0x08
    """The command runs with the caller's uid and gid instead of 0."""

    CREATE_DEV_SHM = 0x10
    """A /dev/shm is created in the sandbox."""


class Sandbox():
    """Programming interface to the build sandbox for Element plugins."""

    DEVICES = ['/dev/urandom', '/dev/random', '/dev/zero', '/dev/null']

    def __init__(self):
        self.__root = None
        self.__directories = []
        self.__cwd = None
        self.__env = None
        self.__mount_sources = {}

    def get_directory(self):
        """The host directory of the sandbox root, where artifacts are staged."""
        if self.__root is None:
            self.__root = host_function('host_path', 'Sandbox.get_directory()')('/')
        return self.__root

    def set_environment(self, environment):
        """The environment variables commands get by default (a dict of str)."""
        self.__env = environment

    def set_work_directory(self, directory):
        """The sandbox directory commands run in by default."""
        self.__cwd = directory

    def mark_directory(self, directory, *, artifact=False):
        """Declare `directory` (absolute, in the sandbox) writable and create it.

        `artifact` tells that artifacts will be staged there.
        """
        self.__directories.append({'directory': directory, 'artifact': artifact})
        os.makedirs(self.__host_path(directory), exist_ok=True)
        if host_has('mark_directory'):
            host().mark_directory(directory, bool(artifact))

    def run(self, command, flags, *, cwd=None, env=None):
        """Run `command` (a list of str) in the sandbox; returns its exit code.

        `cwd` and `env` default to what set_work_directory() and
        set_environment() gave.  SandboxError when the staged artifacts do
        not provide the program.
        """
        if cwd is None:
            cwd = self.__cwd
        if env is None:
            env = self.__env
        if not self._has_command(command[0], env):
            raise SandboxError("Staged artifacts do not provide command '{}'".format(command[0]),
                               reason='missing-command')
        if isinstance(command, str):
            command = [command]
        if cwd is None:
            cwd = '/'
        run = host_function('run', 'Sandbox.run()')
        return run([str(arg) for arg in command], int(flags), cwd,
                   dict(env) if env is not None else None)

    # rill's: what BuildElement's batched commands need to know
    def _rill_environment(self):
        return self.__env

    def _rill_work_directory(self):
        return self.__cwd

    #
    # Private, as in bst (some core-facing code and plugins use them)
    #
    def _get_marked_directories(self):
        return self.__directories

    def _get_mount_sources(self):
        return self.__mount_sources

    def _set_mount_source(self, mountpoint, mount_source):
        self.__mount_sources[mountpoint] = mount_source

    def _get_environment(self):
        return self.__env

    def _get_work_directory(self):
        return self.__cwd

    def _get_output(self):
        return (None, None)

    def _has_command(self, command, env=None):
        root = self.get_directory()
        if os.path.isabs(command):
            return os.path.exists(os.path.join(root, command.lstrip(os.sep)))
        search = (env or {}).get('PATH') or ''
        for directory in search.split(':'):
            if os.path.exists(os.path.join(root, directory.lstrip(os.sep), command)):
                return True
        return False

    def __host_path(self, directory):
        return os.path.join(self.get_directory(), directory.lstrip(os.sep))
