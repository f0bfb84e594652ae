/*
 * Length-prefixed frames over the keyd unix socket, with timeouts, for
 * both ends. A short read or write is retried; EOF is KEYS_ERR_IO.
 */
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <unistd.h>

#include "keys_proto.h"

static int
wait_fd(int fd, short ev, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = ev };
	int n;

	do {
		n = poll(&p, 1, timeout_ms);
	} while (n < 0 && errno == EINTR);
	if (n == 0)
		return KEYS_ERR_TIMEOUT;
	return n < 0 ? KEYS_ERR_IO : 0;
}

static int
put_all(int fd, const uint8_t *p, size_t n, int timeout_ms)
{
	ssize_t w;
	int r;

	while (n > 0) {
		if ((r = wait_fd(fd, POLLOUT, timeout_ms)) != 0)
			return r;
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (w <= 0)
			return KEYS_ERR_IO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
get_all(int fd, uint8_t *p, size_t n, int timeout_ms)
{
	ssize_t g;
	int r;

	while (n > 0) {
		if ((r = wait_fd(fd, POLLIN, timeout_ms)) != 0)
			return r;
		g = recv(fd, p, n, 0);
		if (g < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (g <= 0)
			return KEYS_ERR_IO;
		p += g;
		n -= (size_t)g;
	}
	return 0;
}

int
keys_frame_send(int fd, const uint8_t *body, size_t n, int timeout_ms)
{
	uint8_t h[4];
	int r;

	if (n == 0 || n > KEYS_MSG_MAX)
		return KEYS_ERR_TOOLARGE;
	h[0] = (uint8_t)(n >> 24);
	h[1] = (uint8_t)(n >> 16);
	h[2] = (uint8_t)(n >> 8);
	h[3] = (uint8_t)n;
	if ((r = put_all(fd, h, 4, timeout_ms)) != 0)
		return r;
	return put_all(fd, body, n, timeout_ms);
}

int
keys_frame_recv(int fd, uint8_t *buf, size_t cap, size_t *n, int timeout_ms)
{
	uint8_t h[4];
	uint32_t len;
	int r;

	*n = 0;
	if ((r = get_all(fd, h, 4, timeout_ms)) != 0)
		return r;
	len = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 |
	    (uint32_t)h[2] << 8 | h[3];
	if (len == 0 || len > cap || len > KEYS_MSG_MAX)
		return KEYS_ERR_TOOLARGE;
	if ((r = get_all(fd, buf, len, timeout_ms)) != 0)
		return r;
	*n = len;
	return 0;
}
