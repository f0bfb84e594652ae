/*
 * mock_tsmd: a stand-in tsmd for the agent's integration tests (the real
 * one is built in parallel). It serves sessions on 127.0.0.1 over TLS
 * with the test PKI and runs a discovery script on whatever card the
 * agent has: SELECT of the ISD, GET DATA CPLC (9F7F), GET DATA card
 * recognition data (66), then ends the session with 204. It checks
 * what comes back with libgp's decoders and prints PASS or FAIL.
 *
 *   mock_tsmd PKI-DIR PORT-FILE SESSIONS
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gp/buf.h"
#include "gp/script.h"
#include "mocksrv.h"

#define DISCOVERY	"AA1D" "220D00A4040008A000000151000000" \
			"220580CA9F7F00" "220580CA006600"
#define RESULT		"Your card was checked: nothing to do."

struct state {
	volatile unsigned done;		/* sessions ended */
	unsigned	 sid, fail;
	int		 step;
	char		 why[256];
};

static void
check_rsp(struct state *s, const struct mock_req *q)
{
	struct gp_span sp[4];
	struct gp_script_rsp rsp = { .rapdus = sp, .cap = 4 };
	size_t i;

	if (gp_script_rsp_decode(q->body, q->body_len, &rsp) != 0 ||
	    rsp.executed != 3 || rsp.n != 3) {
		s->fail++;
		snprintf(s->why, sizeof(s->why), "bad response script");
		return;
	}
	for (i = 0; i < 3; i++)
		if (sp[i].p[sp[i].len - 2] != 0x90 || sp[i].p[sp[i].len - 1]) {
			s->fail++;
			snprintf(s->why, sizeof(s->why), "SW of R-APDU %zu", i);
		}
	if (sp[1].len < 4 || sp[1].p[0] != 0x9F || sp[1].p[1] != 0x7F) {
		s->fail++;
		snprintf(s->why, sizeof(s->why), "no CPLC");
	}
}

static void
handler(void *arg, const struct mock_req *q, unsigned idx,
    struct mock_reply *o)
{
	struct state *s = arg;
	char v[128];

	if (q->body_len == 0) {
		s->sid++;
		if (mock_header(q, "X-Admin-From", v, sizeof(v)) != 0 ||
		    strcmp(v, "//tsm-agent/agent-0001") != 0) {
			s->fail++;
			snprintf(s->why, sizeof(s->why), "X-Admin-From");
		}
		o->status = 200;
		snprintf(o->session, sizeof(o->session), "it-%u", s->sid);
		gp_hex_decode(DISCOVERY, o->body, sizeof(o->body),
		    &o->body_len);
		return;
	}
	check_rsp(s, q);
	o->status = 204;
	strcpy(o->result, RESULT);
	s->done++;
}

int
main(int argc, char **argv)
{
	struct mock_opts mo = { 0 };
	struct mocksrv *m;
	struct state s;
	FILE *f;
	int port, i;
	unsigned want;

	if (argc != 4)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	memset(&s, 0, sizeof(s));
	mo.dir = argv[1];
	want = (unsigned)atoi(argv[3]);
	if (mock_start(&mo, handler, &s, &m, &port) != 0)
		return 1;
	if ((f = fopen(argv[2], "w")) == NULL)
		return 1;
	fprintf(f, "%d\n", port);
	fclose(f);
	for (i = 0; i < 600 && s.done < want; i++)
		usleep(100000);
	usleep(200000);
	mock_stop(m);
	printf("mock_tsmd: %u session(s), %u request(s), %u connection(s)\n",
	    s.done, mock_nreq(m), mock_nconn(m));
	mock_free(m);
	if (s.done != want || s.fail != 0) {
		printf("mock_tsmd: FAIL %s\n", s.why);
		return 1;
	}
	printf("mock_tsmd: PASS\n");
	return 0;
}
