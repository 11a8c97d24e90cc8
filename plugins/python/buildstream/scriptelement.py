# ScriptElement: the base of elements that run groups of commands over a
# layout of staged dependencies (no sources), as in BuildStream 1.6.
# SPDX-License-Identifier: Apache-2.0
"""ScriptElement of BuildStream 1.6's plugin API, hosted by rill."""

import os
from collections import OrderedDict

from .element import Element, ElementError, Scope
from .sandbox import SandboxFlags


class ScriptElement(Element):
    """Runs command groups in a sandbox laid out with layout_add() (or the
    build dependencies at /) and collects the install root."""

    # Class-level defaults, replaced per instance by the setters (as in bst)
    __install_root = "/"
    __cwd = "/"
    __root_read_only = False
    __commands = None
    __layout = []
    __create_dev_shm = False

    BST_STRICT_REBUILD = True
    BST_FORBID_RDEPENDS = True
    BST_FORBID_SOURCES = True

    def set_work_dir(self, work_dir=None):
        """The directory commands run in (default: variable `cwd`, else /)."""
        self.__cwd = work_dir if work_dir is not None else (self.get_variable("cwd") or "/")

    def set_install_root(self, install_root=None):
        """The directory collected (default: variable `install-root`, else /)."""
        self.__install_root = (install_root if install_root is not None
                               else (self.get_variable("install-root") or "/"))

    def set_root_read_only(self, root_read_only):
        """Whether commands see a read-only root."""
        self.__root_read_only = root_read_only

    def set_create_dev_shm(self, create_dev_shm=False):
        """Whether the sandbox gets a /dev/shm."""
        self.__create_dev_shm = create_dev_shm

    def layout_add(self, element, destination):
        """Stage `element` (with its runtime dependencies) at `destination`;
        `element` None makes `destination` a writable directory."""
        if not self.__layout:
            self.__layout = []
        self.__layout.append({"element": element, "destination": destination})

    def add_commands(self, group_name, command_list):
        """Add a group of (already substituted) commands, run in order of addition."""
        if not self.__commands:
            self.__commands = OrderedDict()
        self.__commands[group_name] = command_list

    def __validate_layout(self):
        if not self.__layout:
            return
        if not any(entry['destination'] == '/' for entry in self.__layout):
            raise ElementError("{}: Using layout, but none are staged as '/'".format(self))
        for entry in self.__layout:
            if entry['element'] and not self.search(Scope.BUILD, entry['element']):
                raise ElementError("{}: '{}' in layout not found in dependencies"
                                   .format(self, entry['element']))

    def preflight(self):
        self.__validate_layout()

    def get_unique_key(self):
        return {
            'commands': self.__commands,
            'cwd': self.__cwd,
            'install-root': self.__install_root,
            'layout': self.__layout,
            'root-read-only': self.__root_read_only,
        }

    def configure_sandbox(self, sandbox):
        sandbox.set_work_directory(self.__cwd)
        sandbox.set_environment(self.get_environment())

        # A destination holds artifacts if any layout entry staged an element there
        directories = {self.__install_root: False}
        for entry in self.__layout:
            destination = entry['destination']
            directories[destination] = entry['element'] or directories.get(destination, False)
        for directory, artifact in directories.items():
            if directory != '/':
                sandbox.mark_directory(directory, artifact=artifact)

    def stage(self, sandbox):
        if not self.__layout:
            build_dependencies = list(self.dependencies(Scope.BUILD, recurse=False))
            for dependency in build_dependencies:
                with self.timed_activity("Staging {} at /".format(dependency.name),
                                         silent_nested=True):
                    dependency.stage_dependency_artifacts(sandbox, Scope.RUN, path="/")
            for dependency in build_dependencies:
                with self.timed_activity("Integrating {}".format(dependency.name),
                                         silent_nested=True):
                    for runtime in dependency.dependencies(Scope.RUN):
                        runtime.integrate(sandbox)
        else:
            for entry in self.__layout:
                if not entry['element']:
                    continue
                element = self.search(Scope.BUILD, entry['element'])
                destination = entry['destination']
                if destination == '/':
                    with self.timed_activity("Staging {} at /".format(element.name),
                                             silent_nested=True):
                        element.stage_dependency_artifacts(sandbox, Scope.RUN)
                else:
                    with self.timed_activity("Staging {} at {}".format(element.name, destination),
                                             silent_nested=True):
                        host_destination = os.path.join(sandbox.get_directory(),
                                                        destination.lstrip(os.sep))
                        os.makedirs(os.path.dirname(host_destination), exist_ok=True)
                        element.stage_dependency_artifacts(sandbox, Scope.RUN, path=destination)

            # Only what is staged at / is integrated
            for entry in self.__layout:
                if not entry['element'] or entry['destination'] != '/':
                    continue
                element = self.search(Scope.BUILD, entry['element'])
                with self.timed_activity("Integrating {}".format(element.name),
                                         silent_nested=True):
                    for runtime in element.dependencies(Scope.RUN):
                        runtime.integrate(sandbox)

        os.makedirs(os.path.join(sandbox.get_directory(), self.__install_root.lstrip(os.sep)),
                    exist_ok=True)

    def assemble(self, sandbox):
        flags = 0
        if self.__root_read_only:
            flags |= SandboxFlags.ROOT_READ_ONLY
        if self.__create_dev_shm:
            flags |= SandboxFlags.CREATE_DEV_SHM

        for group, commands in self.__commands.items():
            with self.timed_activity("Running '{}'".format(group)):
                for command in commands:
                    self.status("Running command", detail=command)
                    exit_code = sandbox.run(['sh', '-c', '-e', command + '\n'], flags)
                    if exit_code != 0:
                        raise ElementError("Command '{}' failed with exitcode {}"
                                           .format(command, exit_code))

        return self.__install_root


def setup():
    return ScriptElement
