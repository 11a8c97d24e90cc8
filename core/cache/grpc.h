/* grpc — gRPC calls over HTTP/2 through libcurl (loaded on first use, see lazylib): unary,
 * client-streaming and server-streaming calls on one connection per channel, cleartext h2
 * with prior knowledge for http:// and TLS with ALPN for https:// (server certificate, client
 * key and certificate as BuildStream's remote specs give them). Why not the gRPC C core:
 * docs/remote-cache.md.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_GRPC_H
#define RILL_GRPC_H

#include <stddef.h>

#include "base/util.h"

/* gRPC status codes used here (google.rpc.Code) */
enum {
	GRPC_OK = 0, GRPC_CANCELLED = 1, GRPC_UNKNOWN = 2, GRPC_INVALID_ARGUMENT = 3,
	GRPC_DEADLINE_EXCEEDED = 4, GRPC_NOT_FOUND = 5, GRPC_ALREADY_EXISTS = 6,
	GRPC_PERMISSION_DENIED = 7, GRPC_RESOURCE_EXHAUSTED = 8, GRPC_FAILED_PRECONDITION = 9,
	GRPC_ABORTED = 10, GRPC_OUT_OF_RANGE = 11, GRPC_UNIMPLEMENTED = 12, GRPC_INTERNAL = 13,
	GRPC_UNAVAILABLE = 14, GRPC_DATA_LOSS = 15, GRPC_UNAUTHENTICATED = 16
};
/* "NOT_FOUND", ... (static) */
const char *grpc_code_name(int code);

struct grpc_tls {
	const char *server_cert;        /* PEM file of the roots to trust (NULL: the system's) */
	const char *client_key, *client_cert;   /* PEM files, both or neither */
};

struct grpc_chan;
/* A channel to url ("http://host[:port]" default port 80, "https://host[:port]" default 443;
 * any path is ignored, as bst ignores it). NULL with err for a URL that is neither, or when
 * libcurl cannot be loaded. Nothing is connected until the first call. */
struct grpc_chan *grpc_open(const char *url, const struct grpc_tls *tls, struct error *err);
void grpc_close(struct grpc_chan *ch);
/* "host:port" of the channel (borrowed). */
const char *grpc_target(const struct grpc_chan *ch);

/* The request body: append the next request message(s) (unframed: one message per call) to
 * out and return 1, or return 0 when there are no more. */
typedef int (*grpc_next_fn)(void *ud, struct buf *out);
/* One response message; a non-zero return cancels the call (its status: CANCELLED with the
 * message the callback left in *why, heap, or NULL). */
typedef int (*grpc_msg_fn)(void *ud, const unsigned char *msg, size_t len, char **why);

struct grpc_status {
	int code;
	char *message;                  /* heap, "" when none; free with grpc_status_release */
};
void grpc_status_release(struct grpc_status *st);

/* Make the call "/package.Service/Method". Every request message comes from next (called
 * until it returns 0), every response message goes to on_msg. A transport failure (refused,
 * reset, timed out) is UNAVAILABLE with curl's words; a reply that is not gRPC is UNKNOWN or
 * what its HTTP status maps to. Returns st->code. */
int grpc_call(struct grpc_chan *ch, const char *method, grpc_next_fn next, void *next_ud,
	      grpc_msg_fn on_msg, void *msg_ud, struct grpc_status *st);
/* A unary call: req is the request message, *resp (reset first) receives the response. */
int grpc_unary(struct grpc_chan *ch, const char *method, const struct buf *req, struct buf *resp,
	       struct grpc_status *st);

/* Counters of the channel: bytes of request and response messages. */
void grpc_counters(const struct grpc_chan *ch, unsigned long long *sent, unsigned long long *received);

#endif
