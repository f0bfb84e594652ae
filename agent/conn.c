/*
 * One HTTPS connection, whatever the TLS library: TCP connect with a
 * timeout, TCP_NODELAY and I/O timeouts on the socket, then the TLS
 * handshake (tls_openssl.c or tls_wolfssl.c), and a read loop that stops
 * at the end of one whole HTTP response.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "agent_int.h"

static int
connect_one(const struct addrinfo *ai, int timeout_ms)
{
	struct pollfd pfd;
	struct timeval tv;
	int fd, one = 1, err = 0;
	socklen_t el = sizeof(err);

	if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, ai->ai_protocol)) < 0)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (errno != EINPROGRESS || poll(&pfd, 1, timeout_ms) != 1 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 ||
		    err != 0)
			goto fail;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0)
		goto fail;
	return fd;
 fail:
	close(fd);
	return -1;
}

static int
tcp_connect(const struct agent_url *u, int timeout_ms)
{
	struct addrinfo hints, *res = NULL, *ai;
	int fd = -1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(u->host, u->port, &hints, &res) != 0)
		return -1;
	for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next)
		fd = connect_one(ai, timeout_ms);
	freeaddrinfo(res);
	return fd;
}

int
agent_conn_open(struct agent_conn *c, const struct agent_url *u,
    int timeout_ms)
{
	int r;

	agent_conn_close(c);
	if ((c->fd = tcp_connect(u, timeout_ms)) < 0)
		return AGENT_ERR_CONNECT;
	if ((r = agent_tls_connect(c->tls, c->fd, u->host, &c->ssl)) != 0)
		agent_conn_close(c);
	return r;
}

void
agent_conn_close(struct agent_conn *c)
{
	agent_tls_close(c->ssl);
	c->ssl = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->used = 0;
}

int
agent_conn_write(struct agent_conn *c, const uint8_t *p, size_t n)
{
	size_t done;
	int r;

	while (n > 0) {
		if (c->ssl == NULL)
			return AGENT_ERR_LINK;
		if ((r = agent_tls_write(c->ssl, p, n, &done)) != 0)
			return r;
		p += done;
		n -= done;
	}
	return 0;
}

int
agent_conn_read(struct agent_conn *c, struct gp_wr *w,
    struct agent_http_rsp *rsp)
{
	size_t got, room;
	int r;

	gp_wr_reset(w);
	for (;;) {
		room = w->max - w->len < 16384 ? w->max - w->len : 16384;
		if (room == 0)
			return AGENT_ERR_TOOBIG;
		if (gp_wr_reserve(w, room) != 0)
			return AGENT_ERR_NOMEM;
		if (c->ssl == NULL)
			return AGENT_ERR_LINK;
		if ((r = agent_tls_read(c->ssl, w->p + w->len, w->cap - w->len,
		    &got)) != 0)
			return r;
		w->len += got;
		if ((r = agent_http_parse(w->p, w->len, rsp)) <= 0)
			break;
	}
	if (r == 0) {
		c->used = 1;
		/* After a response: a TLS 1.3 ticket has arrived by now. */
		agent_tls_keep(c->tls, c->ssl);
		if (rsp->close || rsp->total != w->len)
			agent_conn_close(c);
	}
	return r;
}
