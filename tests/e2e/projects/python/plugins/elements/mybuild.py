# A BuildElement subclass with its own defaults (mybuild.yaml), as projects write them.
from buildstream import BuildElement


class MyBuildElement(BuildElement):
    BST_FORMAT_VERSION = 1


def setup():
    return MyBuildElement
