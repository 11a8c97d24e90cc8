# BuildElement: the base of elements that build their sources with lists of
# shell commands (configure, build, install, strip), as in BuildStream 1.6.
# SPDX-License-Identifier: Apache-2.0
"""BuildElement of BuildStream 1.6's plugin API, hosted by rill."""

import os

from ._rill_node import host, host_error, host_has
from .element import Element, ElementError, Scope
from .sandbox import SandboxFlags

# The steps the unique key has always listed; only _COMMAND_STEPS are configurable
_LEGACY_COMMAND_STEPS = ['bootstrap-commands', 'configure-commands', 'build-commands',
                         'test-commands', 'install-commands', 'strip-commands']
_COMMAND_STEPS = ['configure-commands', 'build-commands', 'install-commands', 'strip-commands']


class BuildElement(Element):
    """Stages build dependencies at / and sources at %{build-root}, then runs
    the configured commands in %{command-subdir} and collects %{install-root}."""

    def configure(self, node):
        # Subclasses (bst_external's dpkg_build) read and replace
        # self._BuildElement__commands: the attribute name is part of the API.
        self.__commands = {}
        self.__create_dev_shm = False

        self.node_validate(node, _COMMAND_STEPS + ["create-dev-shm"])
        self.__create_dev_shm = self.node_get_member(node, bool, "create-dev-shm", False)

        for step in _LEGACY_COMMAND_STEPS:
            self.__commands[step] = (self.__substituted_commands(node, step)
                                     if step in _COMMAND_STEPS else [])

    def preflight(self):
        pass

    def get_unique_key(self):
        key = dict(self.__commands)
        # A variable's value is a string: any non-empty value counts, as in bst
        if self.get_variable('notparallel'):
            key['notparallel'] = True
        return key

    def configure_sandbox(self, sandbox):
        build_root = self.get_variable('build-root')
        install_root = self.get_variable('install-root')
        sandbox.mark_directory(build_root)
        sandbox.mark_directory(install_root)

        subdir = self.get_variable('command-subdir')
        sandbox.set_work_directory(os.path.join(build_root, subdir) if subdir else build_root)
        sandbox.set_environment(self.get_environment())

    def stage(self, sandbox):
        with self.timed_activity("Staging dependencies", silent_nested=True):
            self.stage_dependency_artifacts(sandbox, Scope.BUILD)

        with self.timed_activity("Integrating sandbox"):
            for dependency in self.dependencies(Scope.BUILD):
                dependency.integrate(sandbox)

        self.stage_sources(sandbox, self.get_variable('build-root'))

    def prepare(self, sandbox):
        commands = self.__commands['configure-commands']
        if commands:
            if self.__run_batch(sandbox, ['configure-commands']):
                return
            with self.timed_activity("Running configure-commands"):
                for command in commands:
                    self.__run_command(sandbox, command, 'configure-commands')

    def assemble(self, sandbox):
        steps = [step for step in _COMMAND_STEPS if step != 'configure-commands']
        if not self.__run_batch(sandbox, steps):
            for step in steps:
                commands = self.__commands[step]
                # configure-commands ran in prepare()
                if not commands:
                    continue
                with self.timed_activity("Running {}".format(step)):
                    for command in commands:
                        self.__run_command(sandbox, command, step)

        # bst looks for this path on the host as it is (not under the sandbox root)
        staged_build = os.path.join(self.get_variable('install-root'),
                                    self.get_variable('build-root'))
        if os.path.isdir(staged_build) and os.listdir(staged_build):
            self.warn("Writing to %{install-root}/%{build-root}.",
                      detail="Writing to this directory will almost certainly cause an error, "
                             "since later elements will not be allowed to stage to %{build-root}.")

        return self.get_variable('install-root')

    def generate_script(self):
        script = ""
        for step in _COMMAND_STEPS:
            for command in self.__commands[step]:
                script += "(set -ex; {}\n) || exit 1\n".format(command)
        return script

    def __substituted_commands(self, node, step):
        listed = self.node_get_member(node, list, step, [])
        return [self.node_subst_list_element(node, step, [index]) for index in range(len(listed))]

    def __run_batch(self, sandbox, steps):
        # rill runs a build's commands in one sandbox, as its native build elements do: each
        # command starts as `sh -c -e CMD` would in a sandbox of its own (same environment,
        # cwd, read-only root), and the first that fails fails the build with bst's message.
        # False when the host cannot (then each command gets a sandbox, as in bst).
        if not host_has('run_commands') or sandbox._rill_environment() not in (None, self.get_environment()):
            return False
        commands, notes = [], []
        for step in steps:
            for index, command in enumerate(self.__commands[step]):
                commands.append(command)
                notes.append("Running {}".format(step) if index == 0 else None)
        if not commands:
            return True
        flags = SandboxFlags.ROOT_READ_ONLY
        if self.__create_dev_shm:
            flags |= SandboxFlags.CREATE_DEV_SHM
        try:
            host().run_commands(commands, notes, int(flags), sandbox._rill_work_directory())
        except host_error() as e:
            raise ElementError(str(e)) from None
        return True

    def __run_command(self, sandbox, command, step):
        self.status("Running {}".format(step), detail=command)
        flags = SandboxFlags.ROOT_READ_ONLY
        if self.__create_dev_shm:
            flags |= SandboxFlags.CREATE_DEV_SHM
        exit_code = sandbox.run(['sh', '-c', '-e', command + '\n'], flags)
        if exit_code != 0:
            raise ElementError("Command '{}' failed with exitcode {}".format(command, exit_code))
