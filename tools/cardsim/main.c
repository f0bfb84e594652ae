/*
 * tsm-cardsim: a virtual GlobalPlatform card on pcscd's vpcd reader.
 *
 *   tsm-cardsim [-p profile] [-s state.json] [-m bytes] [-l host:port |
 *               -c host:port] [-P portfile] [-1] [-v] [-L]
 *
 * -l (default 127.0.0.1:0): listen; vpcd connects out to the card
 * (reader.conf DEVICENAME /dev/null:127.0.0.1:PORT). -c: connect to a
 * listening vpcd instead. -P writes the bound port once listening. -1
 * serves a single connection. The state file is written after every
 * APDU that changed it, so a killed simulator loses nothing answered.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cardsim.h"
#include "vpcd.h"

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int
split_hostport(char *s, const char **host, uint16_t *port)
{
	char *colon = strrchr(s, ':'), *end;
	unsigned long p;

	if (colon == NULL)
		return -1;
	*colon = '\0';
	p = strtoul(colon + 1, &end, 0);
	if (*end != '\0' || p > 65535)
		return -1;
	*host = s;
	*port = (uint16_t)p;
	return 0;
}

static int
write_port(const char *path, uint16_t port)
{
	char tmp[4096];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp) ||
	    (f = fopen(tmp, "w")) == NULL)
		return -1;
	fprintf(f, "%u\n", port);
	if (fclose(f) != 0)
		return -1;
	return rename(tmp, path);
}

static int
serve_listen(struct sim_card *card, const char *host, uint16_t port,
    const char *portfile, int once, int verbose)
{
	uint16_t bound;
	int lfd, fd, r;

	if ((r = sim_vpcd_listen(host, port, &lfd, &bound)) != 0)
		return r;
	fprintf(stderr, "tsm-cardsim: listening on %s:%u\n", host, bound);
	if (portfile != NULL && write_port(portfile, bound) != 0) {
		close(lfd);
		return SIM_ERR_IO;
	}
	while (!stop) {
		if ((fd = accept(lfd, NULL, NULL)) < 0)
			continue;	/* EINTR: check stop */
		(void)sim_card_reset(card);
		(void)sim_vpcd_serve(card, fd, &stop, verbose);
		if (once)
			break;
	}
	close(lfd);
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: tsm-cardsim [-p profile] [-s state.json] "
	    "[-m bytes] [-l host:port | -c host:port] [-P portfile] [-1] "
	    "[-v] [-L]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct sim_opts o = { 0 };
	struct sim_card *card = NULL;
	struct sigaction sa;
	char *listen_at = NULL, *connect_to = NULL;
	const char *portfile = NULL, *host = NULL;
	uint16_t port = 0;
	int ch, once = 0, verbose = 0, r, fd;
	size_t k;

	while ((ch = getopt(argc, argv, "p:s:m:l:c:P:1vL")) != -1) {
		switch (ch) {
		case 'p': o.profile = optarg; break;
		case 's': o.state_path = optarg; break;
		case 'm': o.mem_total = strtoul(optarg, NULL, 0); break;
		case 'l': listen_at = optarg; break;
		case 'c': connect_to = optarg; break;
		case 'P': portfile = optarg; break;
		case '1': once = 1; break;
		case 'v': verbose = 1; break;
		case 'L':
			for (k = 0; sim_profile_name(k) != NULL; k++)
				printf("%s\n", sim_profile_name(k));
			return 0;
		default: usage();
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: accept returns */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((r = sim_card_open(&o, &card)) != 0) {
		fprintf(stderr, "tsm-cardsim: %s\n", sim_strerror(r));
		return 1;
	}
	if (connect_to != NULL) {
		if (split_hostport(connect_to, &host, &port) != 0)
			usage();
		/* vpcd may still be starting: retry for 10 s */
		for (k = 0; k < 200 && !stop; k++) {
			if ((r = sim_vpcd_connect(host, port, &fd)) == 0)
				break;
			usleep(50000);
		}
		if (r == 0) {
			fprintf(stderr, "tsm-cardsim: connected to %s:%u\n",
			    host, port);
			r = sim_vpcd_serve(card, fd, &stop, verbose);
		}
	} else {
		if (listen_at == NULL)
			listen_at = strdup("127.0.0.1:0");
		if (listen_at == NULL || split_hostport(listen_at, &host,
		    &port) != 0)
			usage();
		r = serve_listen(card, host, port, portfile, once, verbose);
	}
	if (r != 0)
		fprintf(stderr, "tsm-cardsim: %s\n", sim_strerror(r));
	sim_card_free(card);
	return r == 0 ? 0 : 1;
}
