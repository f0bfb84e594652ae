/*
 * The socket side of a tsm-keyd worker: accepts on the shared listening
 * socket, reads one frame at a time from each caller (size-capped, with a
 * timeout so a slow caller cannot hold the worker), notes the caller's uid
 * with SO_PEERCRED and answers through the request table.
 */
#define _GNU_SOURCE	/* accept4, struct ucred */
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "keyd_int.h"
#include "keyd_main.h"

#define CONN_MAX	64
#define READ_TIMEOUT_MS	2000

struct conn {
	int	 fd;
	uid_t	 uid;
	pid_t	 pid;
};

static void
conn_accept(int lfd, struct conn *c, size_t *n)
{
	struct ucred cr;
	socklen_t cl = sizeof(cr);
	int fd;

	if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) < 0)
		return;		/* another worker took it */
	if (*n == CONN_MAX || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr,
	    &cl) != 0) {
		close(fd);
		return;
	}
	c[*n].fd = fd;
	c[*n].uid = cr.uid;
	c[*n].pid = cr.pid;
	(*n)++;
}

/* One request from c; 0 keeps the connection, -1 drops it. */
static int
conn_serve(struct keyd *k, const struct keyd_cfg *cfg, struct conn *c)
{
	uint8_t in[KEYS_MSG_MAX], out[KEYS_MSG_MAX];
	struct keys_req q;
	struct gp_wr w;
	size_t n = 0;
	int r, keep = -1;

	gp_wr_init(&w, out, sizeof(out));
	r = keys_frame_recv(c->fd, in, sizeof(in), &n, READ_TIMEOUT_MS);
	if (r == KEYS_ERR_TOOLARGE) {
		/* Answer once, then drop: the stream is out of step. */
		if (gp_wr_u8(&w, (uint8_t)-KEYS_ERR_TOOLARGE) == 0)
			keys_frame_send(c->fd, out, w.len, READ_TIMEOUT_MS);
		memset(&q, 0, sizeof(q));
		keyd_audit(k->audit_fd, c->uid, c->pid, &q, r);
		goto out;
	}
	if (r != 0)
		goto out;
	r = keyd_dispatch(k, c->uid, c->pid, cfg->allowed_uid, in, n, &w);
	if (keys_frame_send(c->fd, out, w.len, READ_TIMEOUT_MS) != 0)
		goto out;
	/* A refused caller is not served further on this connection. */
	keep = r == KEYS_ERR_DENIED || r == KEYS_ERR_PROTO ? -1 : 0;
out:
	gp_wipe(in, sizeof(in));
	gp_wipe(out, sizeof(out));
	return keep;
}

int
keyd_serve(struct keyd *k, const struct keyd_cfg *cfg, int lfd)
{
	struct pollfd p[CONN_MAX + 1];
	struct conn c[CONN_MAX];
	size_t n = 0, i;
	int got;

	for (;;) {
		p[0].fd = lfd;
		p[0].events = POLLIN;
		for (i = 0; i < n; i++) {
			p[i + 1].fd = c[i].fd;
			p[i + 1].events = POLLIN;
			p[i + 1].revents = 0;
		}
		got = poll(p, n + 1, -1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return KEYS_ERR_IO;
		for (i = n; i > 0; i--) {
			if (p[i].revents == 0)
				continue;
			if (conn_serve(k, cfg, &c[i - 1]) != 0) {
				close(c[i - 1].fd);
				c[i - 1] = c[--n];
			}
		}
		if (p[0].revents & POLLIN)
			conn_accept(lfd, c, &n);
	}
}
