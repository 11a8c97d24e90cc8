/* grpc — see grpc.h. A call is one HTTP/2 POST: the request messages, each framed (1 byte
 * compressed flag, 4 bytes big-endian length), are the request body, read from next() as
 * libcurl asks for them; the response body is a sequence of such frames, handed to on_msg as
 * each completes; the status is in the trailers (grpc-status, grpc-message), or in the
 * headers of a trailers-only reply.
 * SPDX-License-Identifier: Apache-2.0 */
#include "cache/grpc.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cache/lazylib.h"
#define LAZYLIB_CURL
#include "cache/lazylib.h"

/* A response message larger than this is refused (bst's server sends 1 MiB chunks; the
 * default gRPC limit is 4 MiB). */
#define MAX_MESSAGE (64u << 20)

struct grpc_chan {
	CURL *curl;
	char *base;                     /* "http://host:port" */
	char *target;                   /* "host:port" */
	int tls;
	int no_reuse;                   /* a connection per call (see grpc_call) */
	struct curl_slist *headers;
	char errbuf[CURL_ERROR_SIZE];
	unsigned long long sent, received;
};

const char *grpc_code_name(int code)
{
	static const char *const names[] = {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT",
		"DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED",
		"RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
		"INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};
	return code >= 0 && code < (int)ARRAY_SIZE(names) ? names[code] : "UNKNOWN";
}

void grpc_status_release(struct grpc_status *st)
{
	free(st->message);
	st->message = NULL;
}

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static void global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct grpc_chan *grpc_open(const char *url, const struct grpc_tls *tls, struct error *err)
{
	struct grpc_chan *ch;
	const char *rest, *end;
	int secure;
	size_t hostlen;
	if (str_has_prefix(url, "http://"))
		secure = 0, rest = url + 7;
	else if (str_has_prefix(url, "https://"))
		secure = 1, rest = url + 8;
	else {
		error_set(err, "Unsupported URL: %s", url);
		return NULL;
	}
	end = rest + strcspn(rest, "/?#");
	hostlen = (size_t)(end - rest);
	if (!hostlen || memchr(rest, '@', hostlen)) {
		error_set(err, "Unsupported URL: %s (no host, or a user name)", url);
		return NULL;
	}
	if (lazylib_curl(err))
		return NULL;
	pthread_once(&global_once, global_init);
	ch = xcalloc(1, sizeof(*ch));
	{
		/* the port: after the last ':' unless that is inside an IPv6 literal */
		const char *colon = NULL;
		for (const char *s = rest; s < end; s++)
			if (*s == ':')
				colon = s;
			else if (*s == ']')
				colon = NULL;
		if (colon && colon + 1 < end)
			ch->target = xstrndup(rest, hostlen);
		else
			ch->target = xasprintf("%.*s:%d", (int)(colon ? hostlen - 1 : hostlen), rest, secure ? 443 : 80);
	}
	ch->base = xasprintf("%s://%s", secure ? "https" : "http", ch->target);
	ch->tls = secure;
	/* libcurl 7.88 (Debian 12) fails the second request on a reused cleartext HTTP/2
	 * connection ("Error in the HTTP2 framing layer"): cleartext calls connect each time (about
	 * 0.1 ms on a LAN); TLS connections are reused until that happens to them too */
	ch->no_reuse = !secure;
	ch->curl = curl_easy_init();
	if (!ch->curl) {
		error_set(err, "cannot start a connection to %s: libcurl failed", url);
		grpc_close(ch);
		return NULL;
	}
	ch->headers = curl_slist_append(ch->headers, "content-type: application/grpc");
	ch->headers = curl_slist_append(ch->headers, "te: trailers");
	ch->headers = curl_slist_append(ch->headers, "user-agent: rill-grpc/1");
	ch->headers = curl_slist_append(ch->headers, "Expect:");
	ch->headers = curl_slist_append(ch->headers, "Accept:");
	curl_easy_setopt(ch->curl, CURLOPT_HTTPHEADER, ch->headers);
	curl_easy_setopt(ch->curl, CURLOPT_HTTP_VERSION,
			 (long)(secure ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE));
	curl_easy_setopt(ch->curl, CURLOPT_POST, 1L);
	curl_easy_setopt(ch->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(ch->curl, CURLOPT_CONNECTTIMEOUT, 20L);
	/* a server that stops answering (stopped, or the network gone) ends the call */
	curl_easy_setopt(ch->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(ch->curl, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(ch->curl, CURLOPT_TCP_KEEPALIVE, 1L);
	/* with libcurl's 16 KiB receive buffer, 1 MiB replies stalled 200 ms at random (the HTTP/2
	 * window updates wait for the next round of its loop): 5.7 s instead of 0.7 s to pull
	 * 1,257 blobs of 26 MB (bench/remote.sh); the send buffer likewise */
	curl_easy_setopt(ch->curl, CURLOPT_BUFFERSIZE, 512L * 1024);
	curl_easy_setopt(ch->curl, CURLOPT_UPLOAD_BUFFERSIZE, 2L * 1024 * 1024);
	curl_easy_setopt(ch->curl, CURLOPT_ERRORBUFFER, ch->errbuf);
	if (secure && tls) {
		if (tls->server_cert)
			curl_easy_setopt(ch->curl, CURLOPT_CAINFO, tls->server_cert);
		if (tls->client_cert)
			curl_easy_setopt(ch->curl, CURLOPT_SSLCERT, tls->client_cert);
		if (tls->client_key)
			curl_easy_setopt(ch->curl, CURLOPT_SSLKEY, tls->client_key);
	}
	return ch;
}

void grpc_close(struct grpc_chan *ch)
{
	if (!ch)
		return;
	if (ch->curl)
		curl_easy_cleanup(ch->curl);
	if (ch->headers)
		curl_slist_free_all(ch->headers);
	free(ch->base);
	free(ch->target);
	free(ch);
}

const char *grpc_target(const struct grpc_chan *ch)
{
	return ch->target;
}

void grpc_counters(const struct grpc_chan *ch, unsigned long long *sent, unsigned long long *received)
{
	*sent = ch->sent;
	*received = ch->received;
}

struct call {
	struct grpc_chan *ch;
	grpc_next_fn next;
	void *next_ud;
	struct buf out;                 /* framed request bytes not yet given to libcurl */
	size_t out_pos;
	int out_done;
	grpc_msg_fn on_msg;
	void *msg_ud;
	struct buf in;                  /* response bytes not yet a whole frame */
	int have_status, code;
	char *message;
	char *abort_why;
	int aborted;
	long http;
};

static size_t read_cb(char *dst, size_t size, size_t nmemb, void *ud)
{
	struct call *c = ud;
	size_t want = size * nmemb, n;
	while (c->out_pos == c->out.len && !c->out_done) {
		struct buf msg = BUF_INIT;
		unsigned char hdr[5];
		buf_reset(&c->out);
		c->out_pos = 0;
		if (!c->next || !c->next(c->next_ud, &msg)) {
			c->out_done = 1;
			buf_release(&msg);
			break;
		}
		hdr[0] = 0;
		hdr[1] = (unsigned char)(msg.len >> 24);
		hdr[2] = (unsigned char)(msg.len >> 16);
		hdr[3] = (unsigned char)(msg.len >> 8);
		hdr[4] = (unsigned char)msg.len;
		buf_add(&c->out, hdr, 5);
		buf_add(&c->out, msg.data ? msg.data : "", msg.len);
		c->ch->sent += msg.len;
		buf_release(&msg);
	}
	n = c->out.len - c->out_pos;
	if (n > want)
		n = want;
	memcpy(dst, c->out.data + c->out_pos, n);
	c->out_pos += n;
	return n;
}

static size_t write_cb(char *src, size_t size, size_t nmemb, void *ud)
{
	struct call *c = ud;
	size_t n = size * nmemb, off = 0;
	if (c->aborted)
		return 0;
	buf_add(&c->in, src, n);
	while (c->in.len - off >= 5) {
		const unsigned char *h = (const unsigned char *)c->in.data + off;
		size_t len = ((size_t)h[1] << 24) | ((size_t)h[2] << 16) | ((size_t)h[3] << 8) | h[4];
		if (h[0] != 0 || len > MAX_MESSAGE) {
			c->aborted = 1;
			free(c->abort_why);
			c->abort_why = xstrdup(h[0] ? "the server sent a compressed message (not asked for)"
					       : "the server sent a message larger than 64 MiB");
			return 0;
		}
		if (c->in.len - off - 5 < len)
			break;
		c->ch->received += len;
		if (c->on_msg && c->on_msg(c->msg_ud, h + 5, len, &c->abort_why)) {
			c->aborted = 1;
			return 0;
		}
		off += 5 + len;
	}
	if (off) {
		memmove(c->in.data, c->in.data + off, c->in.len - off);
		c->in.len -= off;
	}
	return n;
}

/* grpc-message is percent-encoded */
static char *percent_decode(const char *s, size_t n)
{
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n) {
			char hex[3] = {s[i + 1], s[i + 2], 0}, *end;
			long v = strtol(hex, &end, 16);
			if (*end == '\0' && hex[0] && hex[1]) {
				buf_addch(&b, (char)v);
				i += 2;
				continue;
			}
		}
		buf_addch(&b, s[i]);
	}
	buf_addch(&b, '\0');
	return buf_detach(&b);
}

static size_t header_cb(char *line, size_t size, size_t nmemb, void *ud)
{
	struct call *c = ud;
	size_t n = size * nmemb, len = n;
	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len > 12 && !strncasecmp(line, "grpc-status:", 12)) {
		c->have_status = 1;
		c->code = atoi(line + 12);
	} else if (len > 13 && !strncasecmp(line, "grpc-message:", 13)) {
		const char *v = line + 13;
		while (v < line + len && *v == ' ')
			v++;
		free(c->message);
		c->message = percent_decode(v, (size_t)(line + len - v));
	}
	return n;
}

/* The gRPC code an HTTP status stands for (the gRPC HTTP/2 mapping). */
static int http_to_grpc(long http)
{
	switch (http) {
	case 400: return GRPC_INTERNAL;
	case 401: return GRPC_UNAUTHENTICATED;
	case 403: return GRPC_PERMISSION_DENIED;
	case 404: return GRPC_UNIMPLEMENTED;
	case 429: case 502: case 503: case 504: return GRPC_UNAVAILABLE;
	default: return GRPC_UNKNOWN;
	}
}

int grpc_call(struct grpc_chan *ch, const char *method, grpc_next_fn next, void *next_ud,
	      grpc_msg_fn on_msg, void *msg_ud, struct grpc_status *st)
{
	struct call c = {0};
	char *url = xasprintf("%s%s", ch->base, method);
	CURLcode rc;
	c.ch = ch;
	c.next = next;
	c.next_ud = next_ud;
	c.on_msg = on_msg;
	c.msg_ud = msg_ud;
	ch->errbuf[0] = '\0';
	curl_easy_setopt(ch->curl, CURLOPT_FORBID_REUSE, (long)ch->no_reuse);
	curl_easy_setopt(ch->curl, CURLOPT_FRESH_CONNECT, (long)ch->no_reuse);
	curl_easy_setopt(ch->curl, CURLOPT_URL, url);
	curl_easy_setopt(ch->curl, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(ch->curl, CURLOPT_READDATA, &c);
	curl_easy_setopt(ch->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)-1);
	curl_easy_setopt(ch->curl, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(ch->curl, CURLOPT_WRITEDATA, &c);
	curl_easy_setopt(ch->curl, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(ch->curl, CURLOPT_HEADERDATA, &c);
	{
		static int trace = -1;
		struct timespec t0, t1;
		unsigned long long s0 = ch->sent, r0 = ch->received;
		if (trace < 0)
			trace = getenv("RILL_GRPC_TRACE") != NULL;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		rc = curl_easy_perform(ch->curl);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		/* RILL_GRPC_TRACE: one line per call on stderr (the job's log) */
		if (trace)
			fprintf(stderr, "grpc %s %.3f ms sent %llu received %llu curl %d\n", method,
				(double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6,
				ch->sent - s0, ch->received - r0, (int)rc);
	}
	curl_easy_getinfo(ch->curl, CURLINFO_RESPONSE_CODE, &c.http);
	st->message = NULL;
	if (c.aborted) {
		st->code = GRPC_CANCELLED;
		st->message = c.abort_why ? c.abort_why : xstrdup("cancelled");
		c.abort_why = NULL;
	} else if (rc != CURLE_OK) {
		if (rc == CURLE_HTTP2 || rc == CURLE_HTTP2_STREAM)
			ch->no_reuse = 1;       /* the caller's retry connects anew */
		st->code = GRPC_UNAVAILABLE;
		st->message = xasprintf("%s", ch->errbuf[0] ? ch->errbuf : curl_easy_strerror(rc));
	} else if (c.have_status) {
		st->code = c.code;
		st->message = c.message ? c.message : xstrdup("");
		c.message = NULL;
	} else if (c.http != 200) {
		st->code = http_to_grpc(c.http);
		st->message = xasprintf("HTTP status %ld from %s (not a gRPC server?)", c.http, ch->target);
	} else {
		/* the stream ended without trailers: cut off on the way, as a dropped connection */
		st->code = GRPC_UNAVAILABLE;
		st->message = xasprintf("no gRPC status in the reply of %s%s (the stream was cut off)", ch->target, method);
		ch->no_reuse = 1;
	}
	if (st->code == GRPC_OK && c.in.len) {
		/* seen once in some hundred 1 MiB replies under load (libcurl 7.88): the stream ends
		 * with a status but not all of the last message; the caller's retry asks again on a
		 * new connection */
		st->code = GRPC_UNAVAILABLE;
		free(st->message);
		st->message = xstrdup("the reply ends inside a message");
		ch->no_reuse = 1;
	}
	free(c.message);
	free(c.abort_why);
	buf_release(&c.in);
	buf_release(&c.out);
	free(url);
	return st->code;
}

struct unary {
	const struct buf *req;
	int sent;
	struct buf *resp;
	int got;
};

static int unary_next(void *ud, struct buf *out)
{
	struct unary *u = ud;
	if (u->sent)
		return 0;
	u->sent = 1;
	if (u->req && u->req->len)
		buf_add(out, u->req->data, u->req->len);
	return 1;
}

static int unary_msg(void *ud, const unsigned char *msg, size_t len, char **why)
{
	struct unary *u = ud;
	if (u->got++) {
		*why = xstrdup("the server sent more than one reply to a unary call");
		return 1;
	}
	buf_add(u->resp, msg, len);
	return 0;
}

int grpc_unary(struct grpc_chan *ch, const char *method, const struct buf *req, struct buf *resp,
	       struct grpc_status *st)
{
	struct unary u = {req, 0, resp, 0};
	buf_reset(resp);
	return grpc_call(ch, method, unary_next, &u, unary_msg, &u, st);
}
