# A Source that downloads one file:// URL into its mirror directory, keyed by sha256.
import os
import shutil
import urllib.parse

from buildstream import Source, SourceError, Consistency, utils

from ._fileurl_util import sha256_of


class FileUrlSource(Source):
    BST_FORMAT_VERSION = 1

    def configure(self, node):
        self.node_validate(node, ['url', 'ref', 'filename'] + Source.COMMON_CONFIG_KEYS)
        self.original_url = self.node_get_member(node, str, 'url')
        self.ref = self.node_get_member(node, str, 'ref', None)
        self.filename = self.node_get_member(node, str, 'filename', os.path.basename(self.original_url))
        self.url = self.translate_url(self.original_url)

    def preflight(self):
        pass

    def get_unique_key(self):
        return [self.original_url, self.ref, self.filename]

    def _mirror(self):
        return os.path.join(self.get_mirror_directory(), self.ref or 'none')

    def get_consistency(self):
        if self.ref is None:
            return Consistency.INCONSISTENT
        if os.path.exists(self._mirror()):
            return Consistency.CACHED
        return Consistency.RESOLVED

    def load_ref(self, node):
        self.ref = self.node_get_member(node, str, 'ref', None)

    def get_ref(self):
        return self.ref

    def set_ref(self, ref, node):
        node['ref'] = self.ref = ref

    def _path(self):
        url = self.translate_url(self.original_url)
        parsed = urllib.parse.urlparse(url)
        if parsed.scheme != 'file':
            raise SourceError("{}: only file:// URLs are supported, not {}".format(self, url))
        return parsed.path

    def track(self):
        return sha256_of(self._path())

    def fetch(self):
        path = self._path()
        got = sha256_of(path)
        if got != self.ref:
            raise SourceError("{}: {} has sha256 {}, expected {}".format(self, path, got, self.ref))
        with self.tempdir() as tmp:
            shutil.copyfile(path, os.path.join(tmp, 'file'))
            os.makedirs(self.get_mirror_directory(), exist_ok=True)
            os.rename(os.path.join(tmp, 'file'), self._mirror())

    def stage(self, directory):
        os.makedirs(directory, exist_ok=True)
        utils.safe_copy(self._mirror(), os.path.join(directory, self.filename))


def setup():
    return FileUrlSource
