# Source, the base class of source plugins, and SourceFetcher for sources
# that download from several places.  URLs are translated by rill's C side
# (project aliases and mirrors); mirrors live under rill's cache directory.
# SPDX-License-Identifier: Apache-2.0
"""The Source base class of BuildStream 1.6's plugin API, hosted by rill."""

import os
from contextlib import contextmanager

from . import utils
from ._exceptions import BstError, ImplError, SourceError
from ._rill_node import host, host_error, host_function, host_has
from .plugin import Plugin
from .types import Consistency, CoreWarnings

__all__ = ['Source', 'SourceError', 'SourceFetcher', 'Consistency']


def _extract_alias(url):
    alias, separator, _ = url.partition(utils._ALIAS_SEPARATOR)
    if separator and alias.lower() not in utils._URI_SCHEMES:
        return alias
    return ""


class SourceFetcher():
    """One of the places a Source downloads from (see Source.get_source_fetchers())."""

    def __init__(self):
        self.__alias = None

    def fetch(self, alias_override=None, **kwargs):
        """Download into the source's mirror; `alias_override` replaces the URL alias."""
        raise ImplError("SourceFetcher '{}' does not implement fetch()".format(type(self)))

    def mark_download_url(self, url):
        """Declare the URL this fetcher downloads from (at construction)."""
        self.__alias = _extract_alias(url)

    def _get_alias(self):
        return self.__alias


class Source(Plugin):
    """Base class of source plugins."""

    BST_REQUIRES_PREVIOUS_SOURCES_TRACK = False
    """track() needs the element's earlier sources staged (previous_sources_dir=)"""

    BST_REQUIRES_PREVIOUS_SOURCES_FETCH = False
    """fetch() needs the element's earlier sources staged (previous_sources_dir=)"""

    BST_REQUIRES_PREVIOUS_SOURCES_STAGE = False
    """stage() needs the element's earlier sources staged in its directory"""

    COMMON_CONFIG_KEYS = ['kind', 'directory']
    """Keys of every source's node, for node_validate(); not for configure() to read"""

    def __init__(self, name, provenance=None, extra=None):
        super().__init__(name, provenance or "", "source")
        extra = extra or {}
        self.__directory = extra.get('directory')
        self.__expected_alias = None
        self.__marked_urls = set()

    #
    # Abstract methods
    #
    def get_consistency(self):
        """Consistency.INCONSISTENT, RESOLVED or CACHED (abstract)."""
        raise ImplError("Source plugin '{}' does not implement get_consistency()"
                        .format(self.get_kind()))

    def load_ref(self, node):
        """Read the ref from `node` (a project.refs entry) (abstract)."""
        raise ImplError("Source plugin '{}' does not implement load_ref()".format(self.get_kind()))

    def get_ref(self):
        """The current ref, or None (abstract)."""
        raise ImplError("Source plugin '{}' does not implement get_ref()".format(self.get_kind()))

    def set_ref(self, ref, node):
        """Take `ref` (None clears it) and write it into `node` (abstract)."""
        raise ImplError("Source plugin '{}' does not implement set_ref()".format(self.get_kind()))

    def track(self, **kwargs):
        """A new ref from the tracking configuration, or None (the default)."""
        return None

    def fetch(self, **kwargs):
        """Download the referenced source into the mirror (abstract)."""
        raise ImplError("Source plugin '{}' does not implement fetch()".format(self.get_kind()))

    def stage(self, directory):
        """Put the cached source into the existing `directory` (abstract)."""
        raise ImplError("Source plugin '{}' does not implement stage()".format(self.get_kind()))

    def init_workspace(self, directory):
        """Set up a workspace in `directory` (stage() by default)."""
        self.stage(directory)

    def get_source_fetchers(self):
        """The SourceFetchers to fetch with (none by default: fetch() is used)."""
        return []

    def validate_cache(self):
        """Checks run once the source is cached (nothing by default)."""

    #
    # Services
    #
    def get_mirror_directory(self):
        """The directory this kind of source keeps its downloads in (created)."""
        directory = os.path.join(host().cache_dir(), 'sources', self.get_kind())
        os.makedirs(directory, exist_ok=True)
        return directory

    def translate_url(self, url, *, alias_override=None, primary=True):
        """`url` with its alias expanded (or replaced by `alias_override`)."""
        self.mark_download_url(url, primary=primary)
        if alias_override:
            alias, _, rest = url.partition(utils._ALIAS_SEPARATOR)
            if alias:
                return alias_override + rest
            return url
        return host().translate_url(url, bool(primary))

    def mark_download_url(self, url, *, primary=True):
        """Declare a URL this source downloads from (at configure time)."""
        alias = _extract_alias(url)
        if primary:
            assert self.__expected_alias is None or self.__expected_alias == alias, \
                "Primary URL marked twice with different URLs"
            self.__expected_alias = alias

        if self._get_configuring():
            self.__marked_urls.add(url)
        else:
            assert url in self.__marked_urls or not alias, \
                "URL was not seen at configure time: {}".format(url)

        if not alias:
            self.warn("{}: Use of unaliased source download URL: {}".format(self, url),
                      warning_token=CoreWarnings.UNALIASED_URL)
            return
        try:
            host().translate_url(url, bool(primary))
        except host_error() as e:
            raise SourceError("{}: Invalid alias '{}' specified in URL: {}".format(self, alias, url),
                              reason="invalid-source-alias") from e

    def get_project_directory(self):
        """The project's directory."""
        return host().project_dir()

    @contextmanager
    def tempdir(self):
        """A temporary directory, removed afterwards.

        It is made in the mirror directory, as in bst, so that a download can
        be renamed into the mirror.
        """
        with utils._tempdir(dir=self.get_mirror_directory()) as directory:
            yield directory

    #
    # Private, used by the driver
    #
    def _preflight(self):
        try:
            self.preflight()
        except BstError as e:
            raise SourceError("{}: {}".format(self, e), reason=e.reason) from e

    def _get_alias(self):
        return self.__expected_alias

    def _requires_previous_sources(self):
        return self.BST_REQUIRES_PREVIOUS_SOURCES_TRACK or self.BST_REQUIRES_PREVIOUS_SOURCES_FETCH

    def _rill_fetch(self, previous_sources_dir=None):
        kwargs = self.__previous_sources_argument(self.BST_REQUIRES_PREVIOUS_SOURCES_FETCH,
                                                  previous_sources_dir, 'fetch')
        fetchers = self.get_source_fetchers()
        if not fetchers:
            self.fetch(**kwargs)
            return
        for fetcher in fetchers:
            last_error = None
            for uri in _alias_uris(fetcher._get_alias()):
                try:
                    fetcher.fetch(uri)
                except BstError as e:
                    last_error = e
                    continue
                last_error = None
                break
            if last_error is not None:
                raise last_error

    def _rill_track(self, previous_sources_dir=None):
        kwargs = self.__previous_sources_argument(self.BST_REQUIRES_PREVIOUS_SOURCES_TRACK,
                                                  previous_sources_dir, 'track')
        return self.track(**kwargs)

    def _rill_stage(self, directory):
        self.stage(self.__ensure_directory(directory))

    def _rill_init_workspace(self, directory):
        self.init_workspace(self.__ensure_directory(directory))

    def __previous_sources_argument(self, required, directory, what):
        if not required:
            return {}
        if directory is None:
            raise SourceError("{}: rill does not implement staging previous sources for {}() yet"
                              .format(self, what), reason="rill-unimplemented")
        return {'previous_sources_dir': self.__ensure_directory(directory)}

    def __ensure_directory(self, directory):
        if self.__directory is not None:
            directory = os.path.join(directory, self.__directory.lstrip(os.sep))
        try:
            os.makedirs(directory, exist_ok=True)
        except OSError as e:
            raise SourceError("Failed to create staging directory: {}".format(e),
                              reason="ensure-stage-dir-fail") from e
        return directory


def _alias_uris(alias):
    # Where to try a fetcher's alias, mirrors first; None lets translate_url()
    # ask the host, which knows the project's aliases.
    if alias and host_has('alias_uris'):
        uris = list(host_function('alias_uris')(alias))
        if uris:
            return uris
    return [None]
