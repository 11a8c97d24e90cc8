#!/usr/bin/python3
# casserver.py — BuildStream 1.6.8's own artifact server (buildstream._artifactcache.casserver)
# for tests, bound to 127.0.0.1 only (its server_main binds every interface). Prints the port
# on stdout once serving; stop it by its PID (SIGTERM).
#   casserver.py REPO [--port N] [--read-only] [--asset] [--die-during-read N]
#   --read-only          push refused (Status.allow_updates false, writes PERMISSION_DENIED)
#   --asset              also serve the Remote Asset API (Fetch/Push Directory) over the repo's
#                        refs, as a REAPI server with an asset service would
#   --die-during-read N  exit (as a killed server) in the middle of the Nth ByteStream Read
#   --slow-read SECONDS  pause that long after the first chunk of every multi-chunk ByteStream
#                        Read (printing "slow read" on stderr), to be killed in the middle of
#   --tls CERT KEY       serve TLS (PEM files) instead of cleartext, as bst-artifact-server's
#                        --server-cert/--server-key
#   --client-certs PEM   and require client certificates signed by these (its --client-certs)
# SPDX-License-Identifier: Apache-2.0
import argparse
import os
import signal
import sys
import time

import grpc

from buildstream._artifactcache import casserver
from buildstream._artifactcache.casserver import create_server
from buildstream._protos.build.bazel.remote.asset.v1 import remote_asset_pb2, remote_asset_pb2_grpc

URN = "urn:fdc:buildstream.build:2020:v1:"


class Fetch(remote_asset_pb2_grpc.FetchServicer):
    def __init__(self, cas):
        self.cas = cas

    def FetchDirectory(self, request, context):
        if not request.uris:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "no uris")
        for uri in request.uris:
            if uri.startswith(URN):
                try:
                    digest = self.cas.resolve_ref(uri[len(URN):], update_mtime=True)
                except Exception:  # pylint: disable=broad-except
                    continue
                response = remote_asset_pb2.FetchDirectoryResponse()
                print("asset: FetchDirectory", uri, file=sys.stderr, flush=True)
                response.uri = uri
                response.root_directory_digest.CopyFrom(digest)
                return response
        context.abort(grpc.StatusCode.NOT_FOUND, "no such directory")


class Push(remote_asset_pb2_grpc.PushServicer):
    def __init__(self, cas, enable_push):
        self.cas = cas
        self.enable_push = enable_push

    def PushDirectory(self, request, context):
        if not request.uris:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "no uris")
        if not self.enable_push:
            context.abort(grpc.StatusCode.PERMISSION_DENIED, "push not allowed")
        for uri in request.uris:
            if not uri.startswith(URN):
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, "unknown uri " + uri)
            self.cas.set_ref(uri[len(URN):], request.root_directory_digest)
            print("asset: PushDirectory", uri, file=sys.stderr, flush=True)
        return remote_asset_pb2.PushDirectoryResponse()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("repo")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--read-only", action="store_true")
    ap.add_argument("--asset", action="store_true")
    ap.add_argument("--die-during-read", type=int, default=0)
    ap.add_argument("--slow-read", type=float, default=0)
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    ap.add_argument("--client-certs")
    args = ap.parse_args()

    if args.die_during_read:
        reads = [0]
        original = casserver._ByteStreamServicer.Read

        def dying_read(self, request, context):
            reads[0] += 1
            for i, response in enumerate(original(self, request, context)):
                if reads[0] >= args.die_during_read and i == 1:
                    os._exit(9)
                yield response
        casserver._ByteStreamServicer.Read = dying_read

    if args.slow_read:
        slow_original = casserver._ByteStreamServicer.Read

        def slow_read(self, request, context):
            for i, response in enumerate(slow_original(self, request, context)):
                if i == 1:
                    print("slow read", request.resource_name, file=sys.stderr, flush=True)
                    time.sleep(args.slow_read)
                yield response
        casserver._ByteStreamServicer.Read = slow_read

    server = create_server(args.repo, enable_push=not args.read_only)
    if args.asset:
        cas = casserver.CASCache(os.path.abspath(args.repo))
        remote_asset_pb2_grpc.add_FetchServicer_to_server(Fetch(cas), server)
        remote_asset_pb2_grpc.add_PushServicer_to_server(Push(cas, not args.read_only), server)
    if args.tls:
        with open(args.tls[0], "rb") as f:
            cert = f.read()
        with open(args.tls[1], "rb") as f:
            key = f.read()
        roots = None
        if args.client_certs:
            with open(args.client_certs, "rb") as f:
                roots = f.read()
        creds = grpc.ssl_server_credentials([(key, cert)], root_certificates=roots,
                                            require_client_auth=bool(roots))
        port = server.add_secure_port("127.0.0.1:%d" % args.port, creds)
    else:
        port = server.add_insecure_port("127.0.0.1:%d" % args.port)
    server.start()
    print(port, flush=True)
    signal.sigwait([signal.SIGTERM, signal.SIGINT])
    server.stop(0)


if __name__ == "__main__":
    sys.exit(main())
