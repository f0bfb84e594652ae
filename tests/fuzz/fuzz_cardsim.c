/*
 * libFuzzer harness for the cardsim APDU dispatcher. One card lives
 * across inputs (state kept, as a real card's is); an input is a
 * sequence of APDUs, each a 2-byte length and that many bytes. A fixed
 * prefix of plain APDUs is also tried with an open SCP03 channel so that
 * the secured handlers are reached: the fuzzer's bytes are then wrapped
 * by libgp's host role before the card sees them. Every tenth input
 * resets the card (a power cycle); every response must end in a SW.
 *
 * The first byte chooses: b0 an open secure channel, b1 the SCP02 card
 * (i = 55) instead of the SCP03 one (i = 70, level 33), b2 a power cut
 * (tearing) at APDU (b7..b4) + 1 of the input, during it (its writes
 * lost) or, with b3, after it (its response lost). After every input both the registry and the memory of
 * the card must be consistent (sim_card_check), as after a real cut.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "gp/apdu.h"
#include "gp/buf.h"
#include "gp/scp.h"
#include "cardsim.h"

static struct sim_card *cards[2], *card;
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
open_channel(struct gp_scp *s, uint8_t *rsp, int scp02)
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
	    gp_scp_host_init(s, scp02 ? 2 : 3, scp02 ? 0x55 : 0x70, 8, 0, hc,
	    &w) != 0 ||
	    xmit(w.p, w.len, rsp, &rlen) != 0 || rlen < 2 ||
	    gp_scp_host_auth(s, &ks, rsp, rlen - 2) != 0)
		goto out;
	gp_wr_init(&w, cmd, sizeof(cmd));
	if (gp_scp_host_ext_auth(s, scp02 ? 0x03 : 0x33, &w) != 0 ||
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
	static const char *const profiles[2] = { "scp03-aes128", "scp02-i55" };
	struct sim_opts o = { .mem_total = 8192 };
	struct gp_scp scp;
	struct gp_rd rd;
	struct gp_wr w;
	const uint8_t *p;
	uint8_t mode = size > 0 ? data[0] : 0;
	uint16_t n;
	size_t rlen = 0;
	char why[128];
	int secure, k;

	for (k = 0; k < 2; k++) {
		o.profile = profiles[k];
		if (cards[k] == NULL && sim_card_open(&o, &cards[k]) != 0)
			abort();
	}
	card = cards[(mode >> 1) & 1];
	if (++runs % 10 == 0)
		(void)sim_card_reset(card);
	memset(&scp, 0, sizeof(scp));
	secure = mode & 1;
	if (secure && open_channel(&scp, rsp, (mode >> 1) & 1) != 0)
		secure = 0;
	if (mode & 4)
		sim_card_tear(card, (unsigned)(mode >> 4) + 1, (mode & 8) ?
		    SIM_TEAR_AFTER : SIM_TEAR_BEFORE);
	gp_rd_init(&rd, data, size);
	(void)gp_rd_skip(&rd, size > 0 ? 1 : 0);
	while (gp_rd_u16(&rd, &n) == 0 && gp_rd_bytes(&rd, n % 300, &p) == 0) {
		gp_wr_init(&w, wire, sizeof(wire));
		if (secure && scp.state == GP_SCP_OPEN) {
			if (gp_scp_wrap(&scp, p, n % 300, &w) != 0)
				continue;
		} else if (gp_wr_put(&w, p, n % 300) != 0)
			continue;
		rlen = 0;
		if (xmit(w.p, w.len, rsp, &rlen) == SIM_ERR_TORN)
			(void)sim_card_reset(card);
		gp_wr_init(&w, wire, sizeof(wire));
		if (secure && scp.state == GP_SCP_OPEN && rlen > 2)
			(void)gp_scp_unwrap(&scp, rsp, rlen, &w);
	}
	gp_scp_free(&scp);
	sim_card_tear(card, 0, 0);	/* a cut not reached is called off */
	if (sim_card_check(card, why, sizeof(why)) != 0)
		abort();	/* the registry or the memory does not add up */
	return 0;
}
