/*
 * tsmd: the Trusted Service Manager server (docs/tsmd.md).
 *
 *   tsmd [-c CONFIG] [-o key=value]... [-t]
 *
 * Settings come from the config file, then from -o in order (the last
 * one wins). -t checks the configuration (and that the TLS files load)
 * and exits. Logs go to stderr, one logfmt line per event.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/server.h"

static int
usage(void)
{
	fprintf(stderr, "usage: tsmd [-c CONFIG] [-o key=value]... [-t]\n");
	return 2;
}

static int
set_kv(struct tsm_server_cfg *c, char *kv)
{
	char err[256], *eq = strchr(kv, '=');

	if (eq == NULL)
		return -1;
	*eq = '\0';
	if (tsm_server_cfg_set(c, kv, eq + 1, err, sizeof(err)) != 0) {
		fprintf(stderr, "tsmd: %s\n", err);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct tsm_server_cfg cfg;
	struct tsm_server *srv;
	char err[512];
	const char *conf = NULL;
	char *overrides[64];
	int ch, i, no = 0, test = 0, r;

	while ((ch = getopt(argc, argv, "c:o:t")) != -1) {
		switch (ch) {
		case 'c': conf = optarg; break;
		case 'o':
			if (no == 64)
				return usage();
			overrides[no++] = optarg;
			break;
		case 't': test = 1; break;
		default: return usage();
		}
	}
	if (optind != argc)
		return usage();
	tsm_server_cfg_defaults(&cfg);
	if (conf != NULL && tsm_server_cfg_load(&cfg, conf, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "tsmd: %s\n", err);
		return 1;
	}
	for (i = 0; i < no; i++)
		if (set_kv(&cfg, overrides[i]) != 0)
			return 1;
	if (tsm_server_cfg_check(&cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "tsmd: %s\n", err);
		return 1;
	}
	if (test) {
		printf("tsmd: configuration ok\n");
		return 0;
	}
	if ((r = tsm_server_new(&cfg, &srv)) != 0) {
		fprintf(stderr, "tsmd: cannot start: %s\n", tsm_strerror(r));
		return 1;
	}
	r = tsm_server_run(srv);
	tsm_server_free(srv);
	return r == 0 ? 0 : 1;
}
