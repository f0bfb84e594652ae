/*
 * The socket side of a tsm-keyd worker: accepts on the shared listening
 * socket, notes the caller's uid with SO_PEERCRED and answers through the
 * request table.
 *
 * Requests may be pipelined: each readable connection is read once into
 * its buffer (one recv takes every frame the caller has sent), every whole
 * frame is answered, then the batch's audit lines are written (one write)
 * and its answers sent (one send). A partial frame waits in the buffer, so
 * a slow or silent caller never holds the worker; an oversized frame is
 * answered KEYS_ERR_TOOLARGE and the connection closed.
 */
#define _GNU_SOURCE	/* accept4, struct ucred */
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keyd_int.h"
#include "keyd_main.h"

#define CONN_MAX	64
#define SEND_TIMEOUT_MS	2000
#define BALANCE_MS	10	/* re-check the balance while not accepting */
#define IN_CAP		(2 * (KEYS_MSG_MAX + 4))
#define OUT_CAP		(8 * (KEYS_MSG_MAX + 4))

struct conn {
	int	 fd;
	uid_t	 uid;
	pid_t	 pid;
	uint8_t	*in;
	size_t	 inlen;
};

static uint8_t out[OUT_CAP];
static size_t outlen;

static void
conn_accept(int lfd, struct conn *c, size_t *n)
{
	struct ucred cr;
	socklen_t cl = sizeof(cr);
	int fd;

	if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) < 0)
		return;		/* another worker took it */
	if (*n == CONN_MAX || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr,
	    &cl) != 0 || (c[*n].in = malloc(IN_CAP)) == NULL) {
		close(fd);
		return;
	}
	c[*n].fd = fd;
	c[*n].uid = cr.uid;
	c[*n].pid = cr.pid;
	c[*n].inlen = 0;
	(*n)++;
}

static void
conn_close(struct conn *c)
{
	close(c->fd);
	gp_wipe(c->in, c->inlen);
	free(c->in);
	c->in = NULL;
}

/* Sends the batch's answers (after its audit lines); -1 on failure. */
static int
flush(struct keyd *k, int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	size_t off = 0;
	ssize_t w;
	int r = 0;

	keyd_audit_flush(k);
	while (off < outlen) {
		w = send(fd, out + off, outlen - off, MSG_NOSIGNAL |
		    MSG_DONTWAIT);
		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN &&
		    poll(&p, 1, SEND_TIMEOUT_MS) == 1)
			continue;
		r = -1;
		break;
	}
	gp_wipe(out, outlen);
	outlen = 0;
	return r;
}

/* Appends status KEYS_ERR_TOOLARGE as an answer frame. */
static void
put_toolarge(void)
{
	static const uint8_t a[5] = { 0, 0, 0, 1,
	    (uint8_t)-KEYS_ERR_TOOLARGE };

	memcpy(out + outlen, a, sizeof(a));
	outlen += sizeof(a);
}

/* Reads and answers what c has sent; 0 keeps the connection, -1 drops. */
static int
conn_serve(struct keyd *k, const struct keyd_cfg *cfg, struct conn *c)
{
	struct keys_req q;
	struct gp_wr w;
	size_t off = 0;
	uint32_t len;
	ssize_t g;
	int r, keep = 0;

	do {
		g = recv(c->fd, c->in + c->inlen, IN_CAP - c->inlen, 0);
	} while (g < 0 && errno == EINTR);
	if (g < 0 && errno == EAGAIN)
		return 0;
	if (g <= 0)
		return -1;
	c->inlen += (size_t)g;
	while (keep == 0 && c->inlen - off >= 4) {
		const uint8_t *h = c->in + off;

		len = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 |
		    (uint32_t)h[2] << 8 | h[3];
		if (len == 0 || len > KEYS_MSG_MAX) {
			/* Answer once, then drop: the stream is out of step. */
			if (OUT_CAP - outlen < 5 && flush(k, c->fd) != 0)
				break;
			put_toolarge();
			memset(&q, 0, sizeof(q));
			keyd_audit(k, c->uid, c->pid, &q, KEYS_ERR_TOOLARGE);
			keep = -1;
			break;
		}
		if (c->inlen - off < 4 + (size_t)len)
			break;		/* the rest comes later */
		if (OUT_CAP - outlen < KEYS_MSG_MAX + 4 &&
		    flush(k, c->fd) != 0) {
			keep = -1;
			break;
		}
		gp_wr_init(&w, out + outlen + 4, KEYS_MSG_MAX);
		r = keyd_dispatch(k, c->uid, c->pid, cfg->allowed_uid,
		    c->in + off + 4, len, &w);
		out[outlen] = (uint8_t)(w.len >> 24);
		out[outlen + 1] = (uint8_t)(w.len >> 16);
		out[outlen + 2] = (uint8_t)(w.len >> 8);
		out[outlen + 3] = (uint8_t)w.len;
		outlen += 4 + w.len;
		off += 4 + (size_t)len;
		/* A refused caller is not served further on this connection. */
		if (r == KEYS_ERR_DENIED || r == KEYS_ERR_PROTO)
			keep = -1;
	}
	if (flush(k, c->fd) != 0)
		keep = -1;
	/* Keep a partial frame; wipe what was consumed. */
	if (off > 0) {
		memmove(c->in, c->in + off, c->inlen - off);
		gp_wipe(c->in + (c->inlen - off), off);
		c->inlen -= off;
	}
	/* A full buffer without a whole frame cannot happen (IN_CAP). */
	return keep;
}

/* 1 when this worker should take new connections now. */
static int
may_accept(const struct keyd_cfg *cfg, size_t n)
{
	int i, least = -1, v;

	if (cfg->conns == NULL || n == 0)
		return 1;
	for (i = 0; i < cfg->workers; i++) {
		v = __atomic_load_n(&cfg->conns[i], __ATOMIC_RELAXED);
		if (least < 0 || v < least)
			least = v;
	}
	return (int)n <= least;
}

static void
set_count(const struct keyd_cfg *cfg, size_t n)
{
	if (cfg->conns != NULL)
		__atomic_store_n(&cfg->conns[cfg->self], (int)n,
		    __ATOMIC_RELAXED);
}

int
keyd_serve(struct keyd *k, const struct keyd_cfg *cfg, int lfd)
{
	struct pollfd p[CONN_MAX + 1];
	struct conn c[CONN_MAX];
	size_t n = 0, i;
	int got, acc;

	for (;;) {
		/*
		 * The listening socket is watched only while this worker is
		 * among the least loaded; else the balance is looked at again
		 * every BALANCE_MS.
		 */
		acc = may_accept(cfg, n);
		p[0].fd = acc ? lfd : -1;
		p[0].events = POLLIN;
		p[0].revents = 0;
		for (i = 0; i < n; i++) {
			p[i + 1].fd = c[i].fd;
			p[i + 1].events = POLLIN;
			p[i + 1].revents = 0;
		}
		got = poll(p, n + 1, acc ? -1 : BALANCE_MS);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return KEYS_ERR_IO;
		for (i = n; i > 0; i--) {
			if (p[i].revents == 0)
				continue;
			if (conn_serve(k, cfg, &c[i - 1]) != 0) {
				conn_close(&c[i - 1]);
				c[i - 1] = c[--n];
				set_count(cfg, n);
			}
		}
		if (acc && (p[0].revents & POLLIN)) {
			conn_accept(lfd, c, &n);
			set_count(cfg, n);
		}
	}
}
