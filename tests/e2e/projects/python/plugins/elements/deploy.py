# A ScriptElement subclass: stages its input at /input and runs its YAML's commands.
from buildstream import ScriptElement


class DeployElement(ScriptElement):

    def configure(self, node):
        self.node_validate(node, ['input', 'commands'])
        self.set_work_dir()
        self.set_install_root()
        self.set_root_read_only(True)
        self.layout_add(None, '/')
        for dep in self.node_get_member(node, list, 'input'):
            self.layout_add(dep, '/')
        self.add_commands('deploy', self.node_subst_list(node, 'commands'))


def setup():
    return DeployElement
