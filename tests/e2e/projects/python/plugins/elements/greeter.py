# A plain Element: writes a file from its configuration, runs one command in the sandbox
# and collects /output.
import os

from buildstream import Element, ElementError, Scope, SandboxFlags


class GreeterElement(Element):
    BST_FORBID_SOURCES = True

    def configure(self, node):
        self.node_validate(node, ['message', 'repeat', 'files'])
        self.message = self.node_subst_member(node, 'message')
        self.repeat = self.node_get_member(node, int, 'repeat', 1)
        self.files = self.node_subst_list(node, 'files')

    def preflight(self):
        if self.repeat < 1:
            raise ElementError("{}: repeat must be at least 1".format(self))

    def get_unique_key(self):
        return {'message': self.message, 'repeat': self.repeat, 'files': self.files}

    def configure_sandbox(self, sandbox):
        sandbox.mark_directory('/output')
        sandbox.set_environment(self.get_environment())

    def stage(self, sandbox):
        self.stage_dependency_artifacts(sandbox, Scope.BUILD)

    def assemble(self, sandbox):
        out = os.path.join(sandbox.get_directory(), 'output')
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, 'greeting.txt'), 'w') as f:
            f.write((self.message + '\n') * self.repeat)
        deps = [d.name for d in self.dependencies(Scope.BUILD)]
        with open(os.path.join(out, 'deps.txt'), 'w') as f:
            f.write('\n'.join(deps) + '\n')
        cmd = 'cat ' + ' '.join(self.files) + ' > /output/copied.txt'
        code = sandbox.run(['sh', '-c', '-e', cmd], SandboxFlags.ROOT_READ_ONLY, cwd='/')
        if code != 0:
            raise ElementError("copying failed with exit code {}".format(code))
        return '/output'


def setup():
    return GreeterElement
