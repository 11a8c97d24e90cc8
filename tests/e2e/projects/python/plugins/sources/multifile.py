# A Source whose files are fetched by one SourceFetcher each.
import os
import shutil
import urllib.parse

from buildstream import Source, SourceFetcher, SourceError, Consistency, utils


class FileFetcher(SourceFetcher):
    def __init__(self, source, url, sha):
        super().__init__()
        self.source = source
        self.original_url = url
        self.sha = sha
        self.mark_download_url(url)

    def path(self):
        return os.path.join(self.source.get_mirror_directory(), self.sha)

    def fetch(self, alias_override=None):
        url = self.source.translate_url(self.original_url, alias_override=alias_override)
        local = urllib.parse.urlparse(url).path
        if utils.sha256sum(local) != self.sha:
            raise SourceError("{}: wrong checksum for {}".format(self.source, url))
        os.makedirs(self.source.get_mirror_directory(), exist_ok=True)
        shutil.copyfile(local, self.path())


class MultiFileSource(Source):
    def configure(self, node):
        self.node_validate(node, ['files'] + Source.COMMON_CONFIG_KEYS)
        self.fetchers = []
        self.names = []
        for item in self.node_get_member(node, list, 'files'):
            self.node_validate(item, ['url', 'sha256', 'name'])
            url = self.node_get_member(item, str, 'url')
            sha = self.node_get_member(item, str, 'sha256')
            self.names.append(self.node_get_member(item, str, 'name', os.path.basename(url)))
            # the source sees every URL while configuring, as bst asserts
            self.mark_download_url(url, primary=not self.fetchers)
            self.fetchers.append(FileFetcher(self, url, sha))

    def preflight(self):
        pass

    def get_unique_key(self):
        return [[f.original_url, f.sha] for f in self.fetchers] + [self.names]

    def get_consistency(self):
        if all(os.path.exists(f.path()) for f in self.fetchers):
            return Consistency.CACHED
        return Consistency.RESOLVED

    def load_ref(self, node):
        pass

    def get_ref(self):
        return None

    def set_ref(self, ref, node):
        pass

    def get_source_fetchers(self):
        return self.fetchers

    def stage(self, directory):
        for name, f in zip(self.names, self.fetchers):
            utils.safe_copy(f.path(), os.path.join(directory, name))


def setup():
    return MultiFileSource
