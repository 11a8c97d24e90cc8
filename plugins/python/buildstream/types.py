# Foundation types of BuildStream 1.6's plugin API: dependency scopes, source
# consistency states and the core warning tokens.
# SPDX-License-Identifier: Apache-2.0
"""Scope, Consistency and CoreWarnings."""

from enum import Enum


class Scope(Enum):
    """Which dependencies of an element a traversal covers."""

    ALL = 1
    """Build and runtime dependencies, recursively, and the element itself."""

    BUILD = 2
    """What building the element needs (build deps with their runtime deps)."""

    RUN = 3
    """What running the element needs, including the element itself."""

    NONE = 4
    """Only the element itself."""


class Consistency():
    """How far a Source's reference is resolved and cached."""

    INCONSISTENT = 0
    """No reference: the source can only be tracked."""

    RESOLVED = 1
    """A reference is known: the source has a key and can be fetched."""

    CACHED = 2
    """The referenced source is in the local source cache and can be staged."""


class CoreWarnings():
    """Warning tokens raised by the core (never prefixed with a plugin kind)."""

    OVERLAPS = "overlaps"
    REF_NOT_IN_TRACK = "ref-not-in-track"
    BAD_ELEMENT_SUFFIX = "bad-element-suffix"
    BAD_CHARACTERS_IN_NAME = "bad-characters-in-name"
    UNALIASED_URL = "unaliased-url"


class _KeyStrength(Enum):
    STRONG = 1
    WEAK = 2
