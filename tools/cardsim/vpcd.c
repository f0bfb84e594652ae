/*
 * The vpcd link: see vpcd.h for the protocol. Every message is read whole
 * with its length checked before anything is trusted.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gp/apdu.h"
#include "vpcd.h"

static int
addr_of(const char *host, uint16_t port, struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(port);
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 :
	    SIM_ERR_INVAL;
}

int
sim_vpcd_listen(const char *host, uint16_t port, int *fd, uint16_t *bound)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int s, one = 1;

	if (addr_of(host, port, &sa) != 0)
		return SIM_ERR_INVAL;
	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return SIM_ERR_IO;
	(void)setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(s, 4) != 0 ||
	    getsockname(s, (struct sockaddr *)&sa, &sl) != 0) {
		close(s);
		return SIM_ERR_IO;
	}
	*fd = s;
	*bound = ntohs(sa.sin_port);
	return 0;
}

int
sim_vpcd_connect(const char *host, uint16_t port, int *fd)
{
	struct sockaddr_in sa;
	int s, one = 1;

	if (addr_of(host, port, &sa) != 0)
		return SIM_ERR_INVAL;
	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return SIM_ERR_IO;
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(s);
		return SIM_ERR_IO;
	}
	(void)setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	*fd = s;
	return 0;
}

/* 1 read whole, 0 clean end of stream, -1 error or interrupted. */
static int
read_full(int fd, uint8_t *p, size_t n, volatile sig_atomic_t *stop)
{
	size_t got = 0;
	ssize_t r;
	int one = 1;

	while (got < n) {
		if (*stop)
			return -1;
		/* vpcd writes the length and the APDU separately, without
		 * TCP_NODELAY: ACK at once, or Nagle waits for our delayed
		 * ACK (40 ms per APDU). Linux clears QUICKACK: set it each
		 * time. */
		(void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one,
		    sizeof(one));
		if ((r = read(fd, p + got, n - got)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			return got == 0 ? 0 : -1;
		got += (size_t)r;
	}
	return 1;
}

static int
send_msg(int fd, const uint8_t *p, size_t n)
{
	uint8_t buf[2 + GP_APDU_WIRE_MAX];
	size_t off = 0;
	ssize_t w;

	if (n > GP_APDU_WIRE_MAX || n > 0xFFFF)
		return SIM_ERR_INVAL;
	buf[0] = (uint8_t)(n >> 8);
	buf[1] = (uint8_t)n;
	memcpy(buf + 2, p, n);
	while (off < n + 2) {
		if ((w = write(fd, buf + off, n + 2 - off)) < 0) {
			if (errno == EINTR)
				continue;
			return SIM_ERR_IO;
		}
		off += (size_t)w;
	}
	return 0;
}

static int
control(struct sim_card *card, int fd, uint8_t code)
{
	const uint8_t *atr;
	size_t alen;

	switch (code) {
	case SIM_VPCD_CTRL_OFF:
	case SIM_VPCD_CTRL_ON:
	case SIM_VPCD_CTRL_RESET:
		return sim_card_reset(card);
	case SIM_VPCD_CTRL_ATR:
		if (sim_card_atr(card, &atr, &alen) != 0)
			return SIM_ERR_IO;
		return send_msg(fd, atr, alen);
	}
	return 0;	/* unknown codes are ignored, as vicc does */
}

static int
apdu(struct sim_card *card, int fd, const uint8_t *cmd, size_t n,
    int verbose)
{
	uint8_t rsp[GP_APDU_WIRE_MAX];
	size_t rlen = 0;
	int r;

	r = sim_card_transmit(card, cmd, n, rsp, sizeof(rsp), &rlen);
	if (verbose && r == 0 && rlen >= 2)
		fprintf(stderr, "tsm-cardsim: %02X%02X -> %02X%02X\n",
		    cmd[0], n > 1 ? cmd[1] : 0, rsp[rlen - 2], rsp[rlen - 1]);
	if (r != 0)
		rlen = 0;	/* a mute card: an empty answer */
	return send_msg(fd, rsp, rlen);
}

int
sim_vpcd_serve(struct sim_card *card, int fd, volatile sig_atomic_t *stop,
    int verbose)
{
	static uint8_t msg[GP_APDU_WIRE_MAX];
	uint8_t hdr[2];
	size_t n;
	int r, one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (;;) {
		if ((r = read_full(fd, hdr, 2, stop)) <= 0)
			break;
		n = (size_t)hdr[0] << 8 | hdr[1];
		if (n == 0 || read_full(fd, msg, n, stop) != 1) {
			r = -1;
			break;
		}
		r = n == 1 ? control(card, fd, msg[0]) :
		    apdu(card, fd, msg, n, verbose);
		if (r != 0)
			break;
	}
	close(fd);
	return r == 0 || *stop ? 0 : SIM_ERR_IO;
}
