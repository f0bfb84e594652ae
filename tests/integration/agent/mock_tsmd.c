/*
 * mock_tsmd: a stand-in tsmd for the agent's integration tests (the real
 * one is built in parallel). It serves sessions on 127.0.0.1 over TLS
 * with the test PKI and runs a discovery script on whatever card the
 * agent has: SELECT of the ISD, GET DATA CPLC (9F7F), GET DATA card
 * recognition data (66), then ends the session with 204 naming the card
 * (X-Admin-Card: the CSN from the CPLC, as tsmd does). It checks what
 * comes back with libgp's decoders and prints PASS or FAIL.
 *
 * The card hint: the first session must come without X-Admin-Card, every
 * later one with the CSN the session before named. tsm-agent runs one
 * session per process here (--sim implies --once), so the script plays
 * the app that keeps the hint between runs: the CSN is written to
 * CSN-FILE and given back with --card-hint. The hint carried from one
 * session to the next inside one agent is unit_agent_test_session's.
 *
 *   mock_tsmd PKI-DIR PORT-FILE SESSIONS [CSN-FILE]
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
	char		 csn[21];	/* named by the last 204, "" none */
	const char	*csn_file;
};

static void
fail(struct state *s, const char *why)
{
	s->fail++;
	snprintf(s->why, sizeof(s->why), "%s", why);
}

/*
 * CSN = IC fabricator ‖ IC type ‖ IC serial number ‖ IC batch identifier
 * (CPLC offsets 0, 2, 12, 16; docs/protocol/agent.md).
 */
static void
cplc_csn(struct state *s, const struct gp_span *cplc)
{
	const uint8_t *d = cplc->p + 3;
	uint8_t b[10];

	s->csn[0] = '\0';
	if (cplc->len < 3 + 18 + 2 || cplc->p[2] < 18)
		return;
	memcpy(b, d, 4);		/* fabricator, type */
	memcpy(b + 4, d + 12, 6);	/* serial number, batch */
	gp_hex_encode(b, sizeof(b), s->csn);
}

static void
check_rsp(struct state *s, const struct mock_req *q)
{
	struct gp_span sp[4];
	struct gp_script_rsp rsp = { .rapdus = sp, .cap = 4 };
	size_t i;

	s->csn[0] = '\0';
	if (gp_script_rsp_decode(q->body, q->body_len, &rsp) != 0 ||
	    rsp.executed != 3 || rsp.n != 3) {
		fail(s, "bad response script");
		return;
	}
	for (i = 0; i < 3; i++)
		if (sp[i].p[sp[i].len - 2] != 0x90 || sp[i].p[sp[i].len - 1]) {
			s->fail++;
			snprintf(s->why, sizeof(s->why), "SW of R-APDU %zu", i);
		}
	if (sp[1].len < 4 || sp[1].p[0] != 0x9F || sp[1].p[1] != 0x7F) {
		fail(s, "no CPLC");
		return;
	}
	cplc_csn(s, &sp[1]);
}

/* None on the first session; later, the CSN the last 204 named. */
static void
check_hint(struct state *s, const struct mock_req *q)
{
	char v[128];
	int has = mock_header(q, "X-Admin-Card", v, sizeof(v)) == 0;

	if (s->sid == 1 && has)
		fail(s, "X-Admin-Card before any was given");
	else if (s->sid > 1 && (!has || strcmp(v, s->csn) != 0))
		fail(s, "X-Admin-Card not the last CSN");
}

static void
name_card(struct state *s, struct mock_reply *o)
{
	FILE *f;

	if (s->csn[0] == '\0') {
		fail(s, "no CSN from the CPLC");
		return;
	}
	snprintf(o->headers, sizeof(o->headers), "X-Admin-Card: %s\r\n",
	    s->csn);
	if (s->csn_file == NULL || (f = fopen(s->csn_file, "w")) == NULL)
		return;
	fprintf(f, "%s\n", s->csn);
	fclose(f);
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
		    strcmp(v, "//tsm-agent/agent-0001") != 0)
			fail(s, "X-Admin-From");
		check_hint(s, q);
		o->status = 200;
		snprintf(o->session, sizeof(o->session), "it-%u", s->sid);
		gp_hex_decode(DISCOVERY, o->body, sizeof(o->body),
		    &o->body_len);
		return;
	}
	check_rsp(s, q);
	o->status = 204;
	strcpy(o->result, RESULT);
	name_card(s, o);
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

	if (argc != 4 && argc != 5)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	memset(&s, 0, sizeof(s));
	mo.dir = argv[1];
	s.csn_file = argc == 5 ? argv[4] : NULL;
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
	printf("mock_tsmd: %u session(s), %u request(s), %u connection(s), "
	    "card %s\n", s.done, mock_nreq(m), mock_nconn(m),
	    s.csn[0] != '\0' ? s.csn : "-");
	mock_free(m);
	if (s.done != want || s.fail != 0) {
		printf("mock_tsmd: FAIL %s\n", s.why);
		return 1;
	}
	printf("mock_tsmd: PASS\n");
	return 0;
}
