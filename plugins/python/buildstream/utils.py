# The utility functions BuildStream 1.6 offers plugins (file lists, hard
# linking and copying trees, host tools, atomic saves), plus the private
# helpers plugins and the rest of this package reach for.
# SPDX-License-Identifier: Apache-2.0
"""Utilities for BuildStream plugins."""

import calendar
import errno
import hashlib
import os
import re
import shutil
import stat
import string
import subprocess
import tempfile
from contextlib import contextmanager

# BstError and ErrorDomain are importable from here as from bst's utils
from ._exceptions import BstError, ErrorDomain, UtilError, ProgramNotFoundError  # noqa: F401  pylint: disable=unused-import

__all__ = [
    'UtilError', 'ProgramNotFoundError', 'DirectoryExistsError', 'FileListResult',
    'list_relative_paths', 'glob', 'sha256sum', 'safe_copy', 'safe_link', 'safe_remove',
    'copy_files', 'link_files', 'move_atomic', 'get_host_tool', 'url_directory_name',
    'get_bst_version', 'save_file_atomic',
]

# What separates an alias from the rest of a URL, and the schemes that are not aliases
_ALIAS_SEPARATOR = ':'
_URI_SCHEMES = ["http", "https", "ftp", "file", "git", "sftp", "ssh"]

# Default argument marker: tells "not given" apart from an explicit None
_sentinel = object()

# The process that imported the package (rill imports it before forking jobs)
_main_pid = os.getpid()

# bst 1.6 is what plugins see
_BST_VERSION = "1.6.8"


class DirectoryExistsError(OSError):
    """move_atomic() found its destination already there."""


class FileListResult():
    """What a copy_files()/link_files() run did."""

    def __init__(self):
        self.overwritten = []
        """Files that replaced a file already in the target"""

        self.ignored = []
        """Files skipped because they would have replaced a non-empty directory"""

        self.failed_attributes = []
        """Files whose attributes could not be copied"""

        self.files_written = []
        """Every file written (when asked to report them)"""

    def combine(self, other):
        """A new result holding both this one's lists and `other`'s."""
        both = FileListResult()
        both.overwritten = self.overwritten + other.overwritten
        both.ignored = self.ignored + other.ignored
        both.failed_attributes = self.failed_attributes + other.failed_attributes
        both.files_written = self.files_written + other.files_written
        return both


def list_relative_paths(directory, *, list_dirs=True):
    """Yield the paths below `directory`, relative to it, in sorted walk order.

    Files and symbolic links (also links to directories) are listed; with
    `list_dirs`, so is every directory that holds no files ('.' for an
    empty `directory` itself).  Links are not followed.
    """
    for dirpath, subdirs, files in os.walk(directory):
        subdirs.sort()
        files.sort()
        relative = os.path.relpath(dirpath, directory)
        prefix = '' if dirpath == directory or relative == '.' else relative

        if list_dirs:
            # os.walk lists links to directories among the directories without
            # entering them: they are entries of this directory.
            for name in subdirs:
                if os.path.islink(os.path.join(dirpath, name)):
                    yield os.path.join(prefix, name)
            if not files:
                yield relative

        for name in files:
            yield os.path.join(prefix, name)


def glob(paths, pattern):
    """Yield those of `paths` that match the glob `pattern`.

    `*` and `?` stop at '/', `**` crosses directories, `[...]`/`[!...]` are
    character classes; a leading '/' is optional on both sides.
    """
    if not pattern.startswith(os.sep):
        pattern = os.sep + pattern
    matcher = re.compile(_glob2re(pattern), re.MULTILINE | re.DOTALL)
    for path in paths:
        candidate = path if path.startswith(os.sep) else os.sep + path
        if matcher.match(candidate):
            yield path


def sha256sum(filename):
    """The hex SHA-256 of the file `filename` (UtilError if it cannot be read)."""
    digest = hashlib.sha256()
    try:
        with open(filename, "rb") as handle:
            while True:
                block = handle.read(65536)
                if not block:
                    break
                digest.update(block)
    except OSError as e:
        raise UtilError("Failed to get a checksum of file '{}': {}".format(filename, e)) from e
    return digest.hexdigest()


def _unlink_if_present(path):
    try:
        os.unlink(path)
    except OSError as e:
        if e.errno != errno.ENOENT:
            raise UtilError("Failed to remove destination file '{}': {}".format(path, e)) from e


def safe_copy(src, dest, *, result=None):
    """Copy file `src` to `dest` with its attributes, unlinking `dest` first.

    Unlinking keeps a hard link at `dest` from being written through.
    Attributes that cannot be copied are noted in `result`.
    """
    _unlink_if_present(dest)
    shutil.copyfile(src, dest)
    try:
        shutil.copystat(src, dest)
    except PermissionError:
        if result:
            result.failed_attributes.append(dest)
    except shutil.Error as e:
        raise UtilError("Failed to copy '{} -> {}': {}".format(src, dest, e)) from e


def safe_link(src, dest, *, result=None):
    """Hard link `src` at `dest` (replacing it); copy across file systems."""
    _unlink_if_present(dest)
    try:
        os.link(src, dest)
    except OSError as e:
        if e.errno != errno.EXDEV:
            raise UtilError("Failed to link '{} -> {}': {}".format(src, dest, e)) from e
        safe_copy(src, dest, result=result)


def safe_remove(path):
    """Remove a file or an empty directory at `path`.

    Returns True when `path` is gone (or never was), False when it is a
    directory that is not empty.
    """
    if not os.path.lexists(path):
        return True
    try:
        os.unlink(path)
        return True
    except OSError as e:
        if e.errno != errno.EISDIR:
            raise UtilError("Failed to remove '{}': {}".format(path, e)) from e
    try:
        os.rmdir(path)
    except OSError as e:
        if e.errno == errno.ENOTEMPTY:
            return False
        raise UtilError("Failed to remove '{}': {}".format(path, e)) from e
    return True


def _transfer_files(src, dest, files, action, verb, ignore_missing, report_written):
    presorted = files is None
    if files is None:
        files = list_relative_paths(src)
    result = FileListResult()
    try:
        _process_list(src, dest, files, action, result, ignore_missing=ignore_missing,
                      report_written=report_written, presorted=presorted)
    except OSError as e:
        raise UtilError("Failed to {} '{} -> {}': {}".format(verb, src, dest, e)) from e
    return result


def copy_files(src, dest, *, files=None, ignore_missing=False, report_written=False):
    """Copy the tree `src` (or just `files`, relative to it) into `dest`.

    A file never replaces a non-empty directory: such paths are reported in
    the returned FileListResult's `ignored`.
    """
    return _transfer_files(src, dest, files, safe_copy, "copy", ignore_missing, report_written)


def link_files(src, dest, *, files=None, ignore_missing=False, report_written=False):
    """Like copy_files(), but hard links regular files (copying across devices)."""
    return _transfer_files(src, dest, files, safe_link, "link", ignore_missing, report_written)


def move_atomic(source, destination, *, ensure_parents=True):
    """Rename `source` to `destination`; DirectoryExistsError if that is taken."""
    if ensure_parents:
        os.makedirs(os.path.dirname(destination), exist_ok=True)
    try:
        os.rename(source, destination)
    except OSError as e:
        if e.errno in (errno.EEXIST, errno.ENOTEMPTY):
            raise DirectoryExistsError(*e.args) from e
        raise


_host_tools = {}       # (name, PATH) -> path found (sources ask once each: thousands of times)


def get_host_tool(name):
    """The full path of the host program `name` (ProgramNotFoundError if absent)."""
    search_path = os.environ.get('PATH')
    found = _host_tools.get((name, search_path))
    if found is None or not os.access(found, os.X_OK):
        found = shutil.which(name, path=search_path)
        if not found:
            raise ProgramNotFoundError("Did not find '{}' in PATH: {}".format(name, search_path))
        _host_tools[(name, search_path)] = found
    return found


_DIRECTORY_NAME_CHARACTERS = frozenset(string.digits + string.ascii_letters + '%_')


def url_directory_name(url):
    """`url` with every character other than letters, digits, '%' and '_' as '_'."""
    return ''.join(c if c in _DIRECTORY_NAME_CHARACTERS else '_' for c in url)


def get_bst_version():
    """The (major, minor) version plugins are told they run on: (1, 6)."""
    major, minor = _BST_VERSION.split('.')[:2]
    return (int(major), int(minor))


@contextmanager
def save_file_atomic(filename, mode='w', *, buffering=-1, encoding=None,
                     errors=None, newline=None, closefd=True, opener=None, tempdir=None):
    """Write `filename` through a temporary file renamed into place at the end.

    `filename` must be absolute.  The temporary file lives in `tempdir` (by
    default the target's directory) and is removed if the block fails.
    """
    assert os.path.isabs(filename), \
        "The utils.save_file_atomic() parameter ``filename`` must be an absolute path"
    directory = tempdir if tempdir is not None else os.path.dirname(filename)
    fd, temporary = tempfile.mkstemp(dir=directory)
    os.close(fd)
    handle = open(temporary, mode=mode, buffering=buffering, encoding=encoding,  # pylint: disable=consider-using-with
                  errors=errors, newline=newline, closefd=closefd, opener=opener)
    try:
        handle.real_filename = filename
        yield handle
        handle.close()
        os.replace(temporary, filename)
    except Exception:
        handle.close()
        try:
            os.remove(temporary)
        except FileNotFoundError:
            pass
        except OSError as e:
            raise UtilError("Failed to cleanup temporary file {}: {}".format(temporary, e)) from e
        raise


#
# Private helpers (bst has them too; some plugins use them)
#

def _is_main_process():
    return os.getpid() == _main_pid


def _get_dir_size(path):
    total = 0
    for dirpath, _, files in os.walk(os.path.abspath(path)):
        total += os.lstat(dirpath).st_size
        for name in files:
            total += os.lstat(os.path.join(dirpath, name)).st_size
    return total


def _pretty_size(size, dec_places=0):
    value = size
    unit = 'B'
    for unit in ('B', 'K', 'M', 'G', 'T'):
        if value < 1024:
            break
        value /= 1024
    return "{:g}{}".format(round(value, dec_places), unit)


def _force_rmtree(rootpath, **kwargs):
    for root, dirs, _ in os.walk(rootpath):
        for name in dirs:
            path = os.path.join(root, name)
            if os.path.exists(path) and not os.path.islink(path):
                try:
                    os.chmod(path, 0o755)
                except OSError as e:
                    raise UtilError("Failed to ensure write permission on file '{}': {}"
                                    .format(path, e)) from e
    try:
        shutil.rmtree(rootpath, **kwargs)
    except OSError as e:
        raise UtilError("Failed to remove cache directory '{}': {}".format(rootpath, e)) from e


def _missing_directories(srcdir, destdir, relative_file):
    # Create, parents first, the directories leading to `relative_file` that
    # `destdir` lacks; yield each with the mode it has in `srcdir`.
    parent = os.path.dirname(relative_file)
    target = os.path.join(destdir, parent)
    if os.path.lexists(target):
        return
    if parent:
        yield from _missing_directories(srcdir, destdir, parent)
    origin = os.path.join(srcdir, parent)
    if os.path.lexists(origin):
        mode = os.lstat(origin).st_mode
        if not (stat.S_ISDIR(mode) or stat.S_ISLNK(mode)):
            raise UtilError('Source directory tree has file where directory expected: {}'
                            .format(origin))
        os.makedirs(target)
        yield (target, mode)


def _ensure_real_directory(root, destpath):
    # A directory on the way may be a (relative) symlink: the real path must
    # stay inside the staging root and is created when missing.
    real = os.path.realpath(destpath)
    if not real.startswith(os.path.realpath(root)):
        raise UtilError('Destination path resolves to a path outside of the staging area\n\n'
                        '  Destination path: {}\n'
                        '  Real path: {}'.format(destpath, real))
    if not os.path.exists(real):
        os.makedirs(real)
    return real


def _process_list(srcdir, destdir, filelist, actionfunc, result,
                  ignore_missing=False, report_written=False, presorted=False):
    # Stage `filelist` (relative to srcdir) into destdir: directories and
    # links are recreated, devices made again, regular files go through
    # actionfunc.  Directory modes are applied last, once their files exist.
    modes = []
    if not presorted:
        # Sorted, so that a link to a directory comes before the files below it
        filelist = sorted(filelist)

    for path in filelist:
        srcpath = os.path.join(srcdir, path)
        destpath = os.path.join(destdir, path)

        if report_written:
            result.files_written.append(path)
        if os.path.lexists(destpath) and not os.path.isdir(destpath):
            result.overwritten.append(path)

        modes.extend(_missing_directories(srcdir, destdir, path))
        _ensure_real_directory(destdir, os.path.dirname(destpath))

        try:
            info = os.lstat(srcpath)
        except FileNotFoundError as e:
            if ignore_missing:
                continue
            raise UtilError("Source file is missing: {}".format(srcpath)) from e
        mode = info.st_mode

        if stat.S_ISDIR(mode):
            if not os.path.exists(destpath):
                _ensure_real_directory(destdir, destpath)
            if not stat.S_ISDIR(os.lstat(os.path.realpath(destpath)).st_mode):
                raise UtilError('Destination not a directory. source has {} destination has {}'
                                .format(srcpath, destpath))
            modes.append((destpath, os.stat(srcpath).st_mode))
        elif stat.S_ISLNK(mode):
            if not safe_remove(destpath):
                result.ignored.append(path)
                continue
            target = _relative_symlink_target(destdir, destpath, os.readlink(srcpath))
            os.symlink(target, destpath)
        elif stat.S_ISREG(mode):
            if not safe_remove(destpath):
                result.ignored.append(path)
                continue
            actionfunc(srcpath, destpath, result=result)
        elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
            if not safe_remove(destpath):
                result.ignored.append(path)
                continue
            os.mknod(destpath, mode, info.st_rdev)
            os.chmod(destpath, mode)
        else:
            raise UtilError('Cannot extract {} into staging-area. Unsupported type.'
                            .format(srcpath))

    for directory, directory_mode in modes:
        os.chmod(directory, directory_mode)


def _relative_symlink_target(root, symlink, target):
    # An absolute link target is rewritten relative to the link's directory,
    # as if `root` were '/', so that staged trees stay self-contained.
    if not os.path.isabs(target):
        return target
    link_directory = os.path.dirname(os.path.realpath(symlink.rstrip(os.sep)))
    full_target = os.path.join(os.path.realpath(root), target.lstrip(os.sep))
    return os.path.relpath(full_target, link_directory)


def _set_deterministic_user(directory):
    uid, gid = os.geteuid(), os.getegid()
    for root, dirs, files in os.walk(directory.encode("utf-8"), topdown=False):
        for name in files + dirs:
            os.chown(os.path.join(root, name), uid, gid, follow_symlinks=False)


# 2011-11-11 11:11:11 UTC, BuildStream's fixed timestamp
_MAGIC_TIMESTAMP = calendar.timegm([2011, 11, 11, 11, 11, 11])


def _set_deterministic_mtime(directory):
    stamp = (_MAGIC_TIMESTAMP, _MAGIC_TIMESTAMP)
    for dirname, _, files in os.walk(directory.encode("utf-8"), topdown=False):
        for name in files:
            path = os.path.join(dirname, name)
            if not os.path.islink(path):
                os.utime(path, stamp)
        os.utime(dirname, stamp)


@contextmanager
def _tempdir(suffix="", prefix="tmp", dir=None):  # pylint: disable=redefined-builtin
    directory = tempfile.mkdtemp(suffix=suffix, prefix=prefix, dir=dir)
    try:
        yield directory
    finally:
        if os.path.isdir(directory):
            shutil.rmtree(directory)


def _call(*popenargs, terminate=False, **kwargs):
    # Run a host command in its own session with umask 022, as bst does;
    # returns (exit code, decoded stdout or None).  rill's C side owns
    # signal handling, so there are no suspend/terminate handlers here.
    del terminate
    kwargs['start_new_session'] = True
    user_preexec = kwargs.pop('preexec_fn', None)

    def preexec():
        os.umask(stat.S_IWGRP | stat.S_IWOTH)
        if user_preexec is not None:
            user_preexec()

    with subprocess.Popen(*popenargs, preexec_fn=preexec, **kwargs) as process:  # pylint: disable=subprocess-popen-preexec-fn
        output, _ = process.communicate()
        exit_code = process.poll()
    if output is not None:
        output = output.decode('UTF-8')
    return (exit_code, output)


def _glob2re(pat):
    # Translate a glob into a regular expression: `*` and `?` do not cross
    # '/', `**` does, `[!...]` negates a class, and an unclosed '[' is literal.
    pieces = []
    i, n = 0, len(pat)
    while i < n:
        c = pat[i]
        i += 1
        if c == '*':
            if i < n and pat[i] == '*':
                pieces.append('.*')
                i += 1
            else:
                pieces.append('[^/]*')
        elif c == '?':
            pieces.append('[^/]')
        elif c == '[':
            end = i
            if end < n and pat[end] == '!':
                end += 1
            if end < n and pat[end] == ']':
                end += 1
            while end < n and pat[end] != ']':
                end += 1
            if end >= n:
                pieces.append('\\[')
            else:
                members = pat[i:end].replace('\\', '\\\\')
                i = end + 1
                if members[0] == '!':
                    members = '^' + members[1:]
                elif members[0] == '^':
                    members = '\\' + members
                pieces.append('[' + members + ']')
        else:
            pieces.append(re.escape(c))
    return ''.join(pieces) + r'\Z'


def _deduplicate(iterable, key=None):
    seen = set()
    for item in iterable:
        marker = item if key is None else key(item)
        if marker not in seen:
            seen.add(marker)
            yield item


def _parse_version(version):
    try:
        parts = version.split(".")
    except AttributeError as e:
        raise UtilError("Malformed version string: {}".format(version),) from e
    try:
        return int(parts[0]), int(parts[1])
    except (IndexError, ValueError) as e:
        raise UtilError("Malformed version string: {}".format(version),) from e
