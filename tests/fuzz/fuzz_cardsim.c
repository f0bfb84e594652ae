/*
 * libFuzzer harness for the cardsim APDU dispatcher. One card lives
 * across inputs (state kept, as a real card's is); an input is a
 * sequence of APDUs, each a 2-byte length and that many bytes. A fixed
 * prefix of plain APDUs is also tried with an open SCP03 channel so that
 * the secured handlers are reached: the fuzzer's bytes are then wrapped
 * by libgp's host role before the card sees them. Every tenth input
 * resets the card (a power cycle); every response must end in a SW.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "gp/apdu.h"
#include "gp/buf.h"
#include "gp/scp.h"
#include "cardsim.h"

static struct sim_card *card;
static unsigned long runs;

static const uint8_t select_isd[] = { 0x00, 0xA4, 0x04, 0x00, 0x08, 0xA0,
    0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00 };

static int
xmit(const uint8_t *cmd, size_t n, uint8_t *rsp, size_t *rlen)
{
	int r = sim_card_transmit(card, cmd, n, rsp, GP_APDU_WIRE_MAX, rlen);

	if (r == 0 && *rlen < 2)
		abort();	/* every answer carries a status word */
	return r;
}

/* SELECT, INITIALIZE UPDATE, EXTERNAL AUTHENTICATE with the test keys. */
static int
open_channel(struct gp_scp *s, uint8_t *rsp)
{
	static const uint8_t hc[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct gp_keyset ks;
	uint8_t cmd[64];
	struct gp_wr w;
	size_t rlen, k;
	int r = -1;

	memset(&ks, 0, sizeof(ks));
	for (k = 0; k < 16; k++)
		ks.enc[k] = ks.mac[k] = ks.dek[k] = (uint8_t)(0x40 + k);
	ks.len = 16;
	gp_wr_init(&w, cmd, sizeof(cmd));
	if (xmit(select_isd, sizeof(select_isd), rsp, &rlen) != 0 ||
	    gp_scp_host_init(s, 3, 0x70, 8, 0, hc, &w) != 0 ||
	    xmit(w.p, w.len, rsp, &rlen) != 0 || rlen < 2 ||
	    gp_scp_host_auth(s, &ks, rsp, rlen - 2) != 0)
		goto out;
	gp_wr_init(&w, cmd, sizeof(cmd));
	if (gp_scp_host_ext_auth(s, 0x33, &w) != 0 ||
	    xmit(w.p, w.len, rsp, &rlen) != 0)
		goto out;
	r = 0;
 out:
	gp_keyset_wipe(&ks);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t rsp[GP_APDU_WIRE_MAX], wire[GP_APDU_WIRE_MAX];
	struct sim_opts o = { .profile = "scp03-aes128", .mem_total = 8192 };
	struct gp_scp scp;
	struct gp_rd rd;
	struct gp_wr w;
	const uint8_t *p;
	uint16_t n;
	size_t rlen = 0;
	int secure;

	if (card == NULL && sim_card_open(&o, &card) != 0)
		abort();
	if (++runs % 10 == 0)
		(void)sim_card_reset(card);
	memset(&scp, 0, sizeof(scp));
	secure = size > 0 && (data[0] & 1);
	if (secure && open_channel(&scp, rsp) != 0)
		secure = 0;
	gp_rd_init(&rd, data, size);
	(void)gp_rd_skip(&rd, size > 0 ? 1 : 0);
	while (gp_rd_u16(&rd, &n) == 0 && gp_rd_bytes(&rd, n % 300, &p) == 0) {
		gp_wr_init(&w, wire, sizeof(wire));
		if (secure && scp.state == GP_SCP_OPEN) {
			if (gp_scp_wrap(&scp, p, n % 300, &w) != 0)
				continue;
		} else if (gp_wr_put(&w, p, n % 300) != 0)
			continue;
		if (xmit(w.p, w.len, rsp, &rlen) == SIM_ERR_TORN)
			(void)sim_card_reset(card);
		gp_wr_init(&w, wire, sizeof(wire));
		if (secure && scp.state == GP_SCP_OPEN && rlen > 2)
			(void)gp_scp_unwrap(&scp, rsp, rlen, &w);
	}
	gp_scp_free(&scp);
	return 0;
}
