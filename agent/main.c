/*
 * tsm-agent: relays a card between a PC/SC reader and the TSM over HTTPS,
 * and tells the cardholder, in plain words on stdout, what happened. Logs
 * (-v) go to stderr. Built twice: tsm-agent (wolfSSL when the build has
 * it, PC/SC only: the small program a cardholder's device runs) and
 * tsm-agent-sim (OpenSSL, with the in-process virtual card as well, for
 * developers and tests; AGENT_WITH_SIM).
 */
#include <getopt.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "links.h"

#ifdef AGENT_WITH_SIM
#define AGENT_PROG	"tsm-agent-sim"
#define AGENT_SIM_USAGE	" | --sim PROFILE[,STATE.json]"
#else
#define AGENT_PROG	"tsm-agent"
#define AGENT_SIM_USAGE	""
#endif

struct opts {
	struct agent_config	 cfg;
	const char		*reader;
	char			*sim;		/* PROFILE[,STATE.json] */
	int			 once;
	int			 verbose;
	int			 wait_ms;
};

static void
usage(void)
{
	fprintf(stderr,
	    "usage: " AGENT_PROG " --server https://HOST[:PORT][/PATH] "
	    "--cert FILE --key FILE --ca FILE\n"
	    "       [--reader NAME" AGENT_SIM_USAGE "] [--once] [--wait MS] "
	    "[-v]\n"
	    "       [--card-hint CSN | --no-card-hint]\n");
	exit(2);
}

static void
log_stderr(void *arg, int level, const char *msg)
{
	const struct opts *o = arg;

	if (level <= o->verbose)
		fprintf(stderr, AGENT_PROG ": %s\n", msg);
}

/* agent_new checks it too; here only to say what is wrong. */
static int
csn_ok(const char *s)
{
	return strlen(s) == 20 && strspn(s, "0123456789ABCDEF") == 20;
}

static void
parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "server", required_argument, NULL, 's' },
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "ca", required_argument, NULL, 'a' },
		{ "reader", required_argument, NULL, 'r' },
		{ "sim", required_argument, NULL, 'S' },
		{ "once", no_argument, NULL, '1' },
		{ "wait", required_argument, NULL, 'w' },
		{ "card-hint", required_argument, NULL, 'H' },
		{ "no-card-hint", no_argument, NULL, 'N' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	memset(o, 0, sizeof(*o));
	o->wait_ms = -1;
	while ((ch = getopt_long(argc, argv, "v", lo, NULL)) != -1) {
		switch (ch) {
		case 's': o->cfg.server = optarg; break;
		case 'c': o->cfg.cert = optarg; break;
		case 'k': o->cfg.key = optarg; break;
		case 'a': o->cfg.ca = optarg; break;
		case 'r': o->reader = optarg; break;
#ifdef AGENT_WITH_SIM
		case 'S': o->sim = optarg; break;
#else
		case 'S':
			fprintf(stderr, "tsm-agent: no virtual card in this "
			    "program; tsm-agent-sim has one\n");
			exit(2);
#endif
		case '1': o->once = 1; break;
		case 'w': o->wait_ms = atoi(optarg); break;
		case 'H': o->cfg.card_hint = optarg; break;
		case 'N': o->cfg.no_card_hint = 1; break;
		case 'v': o->verbose++; break;
		default: usage();
		}
	}
	if (optind != argc || o->cfg.server == NULL || o->cfg.cert == NULL ||
	    o->cfg.key == NULL || o->cfg.ca == NULL ||
	    (o->reader != NULL && o->sim != NULL) ||
	    (o->cfg.card_hint != NULL && o->cfg.no_card_hint))
		usage();
	if (o->cfg.card_hint != NULL && !csn_ok(o->cfg.card_hint)) {
		fprintf(stderr, AGENT_PROG ": --card-hint: a CSN is 20 hex "
		    "digits, uppercase\n");
		exit(2);
	}
	o->cfg.log = log_stderr;
	o->cfg.arg = o;
}

/* Resident memory after a session, for docs/BENCHMARKS.md. */
static void
print_rss(void)
{
	char line[128];
	FILE *f;

	if ((f = fopen("/proc/self/status", "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0 ||
		    strncmp(line, "VmHWM:", 6) == 0 ||
		    strncmp(line, "RssAnon:", 8) == 0 ||
		    strncmp(line, "RssFile:", 8) == 0)
			fprintf(stderr, AGENT_PROG ": %s", line);
	fclose(f);
	/* Shared library pages counted once per process using them (Pss)
	 * and the pages no other process has (Private_*): VmRSS counts
	 * every page of libcrypto the kernel mapped, shared or not. */
	if ((f = fopen("/proc/self/smaps_rollup", "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "Pss:", 4) == 0 ||
		    strncmp(line, "Private_Clean:", 14) == 0 ||
		    strncmp(line, "Private_Dirty:", 14) == 0)
			fprintf(stderr, AGENT_PROG ": %s", line);
	fclose(f);
}

static int
open_link(struct opts *o, struct agent_pcsc **pc, struct agent_sim **sim,
    struct agent_card *card)
{
	int r;

#ifdef AGENT_WITH_SIM
	char *state;

	if (o->sim != NULL) {
		if ((state = strchr(o->sim, ',')) != NULL)
			*state++ = '\0';
		if ((r = agent_sim_new(o->sim, state, sim)) != 0)
			return r;
		agent_sim_card(*sim, card);
		o->once = 1;	/* a virtual card never leaves */
		return 0;
	}
#else
	(void)sim;
#endif
	if ((r = agent_pcsc_new(o->reader, pc)) != 0)
		return r;
	agent_pcsc_card(*pc, card);
	return 0;
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct agent *a = NULL;
	struct agent_pcsc *pc = NULL;
	struct agent_sim *sim = NULL;
	struct agent_card card;
	struct agent_outcome out;
	int r;

	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	parse(argc, argv, &o);
	if ((r = agent_new(&o.cfg, &a)) != 0 ||
	    (r = open_link(&o, &pc, &sim, &card)) != 0) {
		fprintf(stderr, AGENT_PROG ": %s\n", agent_strerror(r));
		printf("%s\n", agent_message(r));
		goto out;
	}
	for (;;) {
		if (card.ops->present(card.ctx, 0) != 1)
			printf("Place your card on the reader.\n");
		r = agent_serve_card(a, &card, o.wait_ms, &out);
		printf("%s\n", out.message);
#ifdef __GLIBC__
		/* The session's buffers are freed; give their pages back
		 * while the agent waits for the next card (glibc keeps up to
		 * 128 KB of free heap otherwise). */
		malloc_trim(0);
#endif
		if (o.verbose)
			print_rss();
		if (o.once || (r != 0 && r == AGENT_ERR_CARD))
			break;
		if (pc != NULL && agent_pcsc_wait_removed(pc, -1) < 0)
			break;
	}
 out:
	agent_pcsc_free(pc);
#ifdef AGENT_WITH_SIM
	agent_sim_free(sim);
#endif
	agent_free(a);
	return r == 0 ? 0 : 1;
}
