/*
 * libFuzzer harness for the agent's HTTP response parser (agent/http.c)
 * and, behind it, the script runner (agent/exec.c): the input is parsed
 * as a whole response and as every prefix a slow link could deliver;
 * whatever parses must stay within the input and the caps. A complete
 * response's body is run as a command script on a card that answers
 * from the input's last bytes (61xx, 6Cxx and all), so the GET RESPONSE
 * and resend loops meet hostile cards as well.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent_int.h"
#include "gp/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct fcard {
	const uint8_t	*p;
	size_t		 n;
	unsigned	 calls;
};

static int
f_present(void *ctx, int ms)
{
	return 1;
}

static int
f_open(void *ctx)
{
	return 0;
}

static void
f_close(void *ctx)
{
}

/* Answers with 0..3 bytes of data and a SW taken from the input. */
static int
f_transmit(void *ctx, const uint8_t *cmd, size_t n, uint8_t *rsp,
    size_t cap, size_t *rlen)
{
	struct fcard *c = ctx;
	size_t i = c->calls++ * 3, k;

	if (c->n < 3 || c->calls > 200)
		return AGENT_ERR_CARD_REMOVED;
	k = c->p[i % c->n] & 3;
	memset(rsp, 0xA5, k);
	rsp[k] = c->p[(i + 1) % c->n];
	rsp[k + 1] = c->p[(i + 2) % c->n];
	*rlen = k + 2;
	return 0;
}

static const struct agent_card_ops fops = {
	f_present, f_open, f_transmit, f_close,
};

static void
check(const uint8_t *p, size_t n, const struct agent_http_rsp *r)
{
	size_t i;

	if (r->total > n || r->body_len > AGENT_BODY_MAX ||
	    (r->body_len > 0 && (r->body < p || r->body + r->body_len >
	    p + r->total)) || r->status < 200 || r->status > 599 ||
	    strlen(r->session) > AGENT_SESSION_MAX ||
	    strlen(r->result) > AGENT_RESULT_MAX ||
	    (r->card[0] != '\0' && !agent_csn_ok(r->card, strlen(r->card))))
		abort();
	for (i = 0; r->result[i] != '\0'; i++)
		if ((unsigned char)r->result[i] < 0x20)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agent_http_rsp r;
	struct fcard fc = { data, size, 0 };
	struct agent_card card = { &fops, &fc };
	struct agent_exec ex;
	struct gp_wr out;
	size_t cut;
	int rc;

	rc = agent_http_parse(data, size, &r);
	if (rc == 0)
		check(data, size, &r);
	else if (rc != 1 && rc >= 0)
		abort();
	/* A prefix can never be complete when the whole is refused. */
	cut = size / 2;
	if (agent_http_parse(data, cut, &r) == 0) {
		check(data, cut, &r);
		if (rc < 0)
			abort();
	}
	if (rc != 0 || r.body_len == 0)
		return 0;
	gp_wr_init_dyn(&out, AGENT_BODY_MAX);
	if (agent_exec_script(&card, r.body, r.body_len, &out, &ex) == 0 &&
	    (out.len < 5 || out.p[0] != 0xAB))
		abort();
	gp_wr_free(&out);
	return 0;
}
