# rill's own `buildstream` package: BuildStream 1.6's plugin API, so that
# unmodified bst 1.6 plugins run inside rill (plugins/python/INTERFACE.md).
# SPDX-License-Identifier: Apache-2.0
"""BuildStream 1.6 plugin API, as hosted by rill."""

__version__ = "1.6.8"

from .utils import UtilError, ProgramNotFoundError
from .sandbox import Sandbox, SandboxFlags
from .types import Scope, Consistency, CoreWarnings
from .plugin import Plugin
from .source import Source, SourceError, SourceFetcher
from .element import Element, ElementError
from .buildelement import BuildElement
from .scriptelement import ScriptElement

__all__ = [
    'Plugin', 'Element', 'ElementError', 'Scope', 'Source', 'SourceError', 'SourceFetcher',
    'Consistency', 'BuildElement', 'ScriptElement', 'Sandbox', 'SandboxFlags',
    'UtilError', 'ProgramNotFoundError', 'CoreWarnings', '__version__',
]
