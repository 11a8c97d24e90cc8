# The error classes of BuildStream 1.6's plugin API (domains, reasons and the
# `detail`/`temporary` attributes the host reads when it reports a failure).
# SPDX-License-Identifier: Apache-2.0
"""BuildStream error types as rill's plugin host offers them."""

from enum import Enum


class ErrorDomain(Enum):
    """Which part of BuildStream an error comes from (values as in bst 1.6)."""
    PLUGIN = 1
    LOAD = 2
    IMPL = 3
    PLATFORM = 4
    SANDBOX = 5
    ARTIFACT = 6
    PIPELINE = 7
    OSTREE = 8
    UTIL = 9
    PROG_NOT_FOUND = 12
    SOURCE = 10
    ELEMENT = 11
    APP = 12
    STREAM = 13
    CAS = 15


class BstError(Exception):
    """Base of every error a plugin may raise to report a clean failure."""

    def __init__(self, message, *, detail=None, domain=None, reason=None, temporary=False):
        super().__init__(message)
        self.detail = detail
        self.sandbox = None
        self.temporary = temporary
        self.domain = domain
        self.reason = reason


class PluginError(BstError):
    """An error from the plugin machinery.

    As in bst 1.6, `temporary` is accepted but the error is never temporary.
    """

    def __init__(self, message, *, detail=None, reason=None, temporary=False):
        del temporary  # bst 1.6 drops it as well
        super().__init__(message, domain=ErrorDomain.PLUGIN, detail=detail, reason=reason,
                         temporary=False)


class LoadErrorReason(Enum):
    """Machine readable reasons of a LoadError (members and values of bst 1.6)."""
    MISSING_FILE = 1
    INVALID_YAML = 2
    INVALID_DATA = 3
    ILLEGAL_COMPOSITE = 4
    CIRCULAR_DEPENDENCY = 5
    UNRESOLVED_VARIABLE = 6
    UNSUPPORTED_PROJECT = 7
    UNSUPPORTED_PLUGIN = 8
    EXPRESSION_FAILED = 9
    USER_ASSERTION = 10
    TRAILING_LIST_DIRECTIVE = 11
    CONFLICTING_JUNCTION = 12
    INVALID_JUNCTION = 13
    SUBPROJECT_FETCH_NEEDED = 14
    SUBPROJECT_INCONSISTENT = 15
    INVALID_SYMBOL_NAME = 16
    MISSING_PROJECT_CONF = 17
    LOADING_DIRECTORY = 18
    PROJ_PATH_INVALID = 19
    PROJ_PATH_INVALID_KIND = 20
    RECURSIVE_INCLUDE = 21
    CIRCULAR_REFERENCE_VARIABLE = 22
    PROTECTED_VARIABLE_REDEFINED = 23


class LoadError(BstError):
    """Bad project data: the message starts with the provenance."""

    def __init__(self, reason, message, *, detail=None):
        super().__init__(message, detail=detail, domain=ErrorDomain.LOAD, reason=reason)


class ImplError(BstError):
    """A plugin lacks a method the core needed."""

    def __init__(self, message, reason=None):
        super().__init__(message, domain=ErrorDomain.IMPL, reason=reason)


class PlatformError(BstError):
    """The host platform cannot do what was asked."""

    def __init__(self, message, reason=None):
        super().__init__(message, domain=ErrorDomain.PLATFORM, reason=reason)


class SandboxError(BstError):
    """Running something in the sandbox failed."""

    def __init__(self, message, reason=None):
        super().__init__(message, domain=ErrorDomain.SANDBOX, reason=reason)


class ArtifactError(BstError):
    """The artifact cache failed (always temporary, as in bst)."""

    def __init__(self, message, *, detail=None, reason=None, temporary=False):
        del temporary
        super().__init__(message, detail=detail, domain=ErrorDomain.ARTIFACT, reason=reason,
                         temporary=True)


class ElementError(BstError):
    """Raised by Element plugins to report errors to the user."""

    def __init__(self, message, *, detail=None, reason=None, temporary=False):
        super().__init__(message, detail=detail, domain=ErrorDomain.ELEMENT, reason=reason,
                         temporary=temporary)


class SourceError(BstError):
    """Raised by Source plugins to report errors to the user."""

    def __init__(self, message, *, detail=None, reason=None, temporary=False):
        super().__init__(message, detail=detail, domain=ErrorDomain.SOURCE, reason=reason,
                         temporary=temporary)


class UtilError(BstError):
    """A utility function's system call failed."""

    def __init__(self, message, reason=None):
        super().__init__(message, domain=ErrorDomain.UTIL, reason=reason)


class ProgramNotFoundError(BstError):
    """A required host program is missing."""

    def __init__(self, message, reason=None):
        super().__init__(message, domain=ErrorDomain.PROG_NOT_FOUND, reason=reason)
