/*
 * libFuzzer harness for the card side of the secure channels (and the host
 * response path). The first input byte chooses the session:
 *   bit 0     protocol: 0 SCP02 (i = 55), 1 SCP03 (i = 70)
 *   bits 1-3  security level, an index into the protocol's level table
 *             (0 gives the defaults: SCP02 level 03, SCP03 level 33)
 *   bit 4     SCP03: S16 instead of S8
 *   bit 5     write the unwrapped command into a small fixed buffer
 *   bits 6-7  status word of the response built from the input
 * The rest is fed as a protected command to gp_scp_card_unwrap, as a
 * protected response to gp_scp_unwrap, as INITIALIZE UPDATE to
 * gp_scp_card_init_update and as EXTERNAL AUTHENTICATE to
 * gp_scp_card_ext_auth. When it parses as a plain command, it is also
 * wrapped by a host session and must come out of the card unchanged.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined -I tsm \
 *     tests/fuzz/fuzz_scp_card.c tsm/gp/[a-z0-9_]*.c -lcrypto -lzip
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gp/apdu.h"
#include "gp/buf.h"
#include "gp/err.h"
#include "gp/scp.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const uint8_t k_enc[32] = {
	0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47,
	0x48, 0x49, 0x4A, 0x4B, 0x4C, 0x4D, 0x4E, 0x4F,
	0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57,
	0x58, 0x59, 0x5A, 0x5B, 0x5C, 0x5D, 0x5E, 0x5F,
};
static const uint8_t k_mac[32] = {
	0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67,
	0x68, 0x69, 0x6A, 0x6B, 0x6C, 0x6D, 0x6E, 0x6F,
	0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77,
	0x78, 0x79, 0x7A, 0x7B, 0x7C, 0x7D, 0x7E, 0x7F,
};
static const uint8_t k_rmac[32] = {
	0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
	0x88, 0x89, 0x8A, 0x8B, 0x8C, 0x8D, 0x8E, 0x8F,
	0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97,
	0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F,
};

static const uint8_t scp02_levels[] = { 0x03, 0x00, 0x01, 0x11, 0x13 };
static const uint8_t scp03_levels[] = { 0x33, 0x00, 0x01, 0x03, 0x11,
    0x13, 0x31 };
static const uint16_t sws[] = { 0x9000, 0x6310, 0x6A82, 0x6982 };

static uint8_t out[GP_APDU_WIRE_MAX + 64];
static uint8_t wire[GP_APDU_WIRE_MAX + 64];

struct sel {
	int		proto;
	uint8_t		i, s, level;
	size_t		klen;
	int		small;
	uint16_t	sw;
};

static void
sel_parse(uint8_t b, struct sel *c)
{
	c->proto = (b & 1) ? 3 : 2;
	if (c->proto == 3) {
		c->i = 0x70;
		c->s = (b & 0x10) ? 16 : 8;
		c->level = scp03_levels[((b >> 1) & 7) % sizeof(scp03_levels)];
		c->klen = (b & 0x10) ? 32 : 16;
	} else {
		c->i = 0x55;
		c->s = 8;
		c->level = scp02_levels[((b >> 1) & 7) % sizeof(scp02_levels)];
		c->klen = 16;
	}
	c->small = (b & 0x20) != 0;
	c->sw = sws[b >> 6];
}

static void
open_session(struct gp_scp *s, const struct sel *c, int role)
{
	memset(s, 0, sizeof(*s));	/* a gp_scp must start zeroed */
	if (gp_scp_from_session_keys(s, c->proto, role, c->i, c->s, c->level,
	    k_enc, k_mac, k_rmac, c->klen) != 0)
		abort();
}

/* Property: a plain command wrapped by the host is what the card sees. */
static void
roundtrip(const struct sel *c, const uint8_t *in, size_t n)
{
	struct gp_scp host, card;
	struct gp_apdu a, b;
	struct gp_wr w, o;
	size_t dn;
	int r;

	if (gp_apdu_parse(in, n, &a) != 0 || (a.cla & GP_CLA_SM))
		return;
	open_session(&host, c, GP_SCP_HOST);
	open_session(&card, c, GP_SCP_CARD);
	gp_wr_init(&w, wire, sizeof(wire));
	if ((r = gp_scp_wrap(&host, in, n, &w)) != 0) {
		/* Only size limits, and logical channels 4..19 (their SM
		 * bit sits elsewhere), may refuse a well-formed command. */
		if (r != GP_ERR_TOOLARGE &&
		    !(r == GP_ERR_UNSUPPORTED && (a.cla & 0x40)))
			abort();
		goto done;
	}
	gp_wr_init(&o, out, sizeof(out));
	if (gp_scp_card_unwrap(&card, wire, w.len, &o) != 0)
		abort();
	if (gp_apdu_parse(out, o.len, &b) != 0)
		abort();
	if (a.cla != b.cla || a.ins != b.ins || a.p1 != b.p1 ||
	    a.p2 != b.p2 || a.lc != b.lc || a.ne != b.ne ||
	    (a.lc > 0 && memcmp(a.data, b.data, a.lc) != 0))
		abort();
	/* The response: data (the command's first bytes) and an SW. */
	dn = n > 256 ? 256 : n;
	if (c->proto == 3 && (c->sw >> 8) != 0x90 && (c->sw >> 8) != 0x62 &&
	    (c->sw >> 8) != 0x63)
		dn = 0;
	gp_wr_init(&w, wire, sizeof(wire));
	if (gp_scp_card_wrap(&card, in, dn, c->sw, &w) != 0)
		abort();
	gp_wr_init(&o, out, sizeof(out));
	if (gp_scp_unwrap(&host, wire, w.len, &o) != 0 || o.len != dn + 2 ||
	    memcmp(out, in, dn) != 0 || out[dn] != (uint8_t)(c->sw >> 8) ||
	    out[dn + 1] != (uint8_t)c->sw)
		abort();
done:
	gp_scp_free(&host);
	gp_scp_free(&card);
}

static void
card_unwrap(const struct sel *c, const uint8_t *in, size_t n)
{
	struct gp_scp card;
	struct gp_wr o;
	struct gp_apdu a;
	int r, first;

	open_session(&card, c, GP_SCP_CARD);
	gp_wr_init(&o, out, c->small ? 16 : sizeof(out));
	r = gp_scp_card_unwrap(&card, in, n, &o);
	if (r == 0) {
		/* Whatever the card accepts is a well-formed command. */
		if (gp_apdu_parse(out, o.len, &a) != 0)
			abort();
		if ((c->level & GP_SL_CMAC) && (a.cla & GP_CLA_SM))
			abort();
		/* And it answers it. */
		gp_wr_init(&o, wire, sizeof(wire));
		if (gp_scp_card_wrap(&card, out, o.len > 256 ? 256 : o.len,
		    c->sw, &o) != 0)
			abort();
	} else if (o.len != 0)
		abort();	/* nothing is output on failure */
	/* The same command again: with a C-MAC, a replay never passes. */
	first = r;
	gp_wr_init(&o, out, sizeof(out));
	r = gp_scp_card_unwrap(&card, in, n, &o);
	if (r != 0 && o.len != 0)
		abort();
	if (first == 0 && r == 0 && (c->level & GP_SL_CMAC))
		abort();
	gp_scp_free(&card);
}

static void
host_unwrap(const struct sel *c, const uint8_t *in, size_t n)
{
	static const uint8_t cmd[] = { 0x80, 0xCA, 0x00, 0x66, 0x00 };
	struct gp_scp host;
	struct gp_wr w, o;
	int r;

	open_session(&host, c, GP_SCP_HOST);
	gp_wr_init(&w, wire, sizeof(wire));
	if (gp_scp_wrap(&host, cmd, sizeof(cmd), &w) != 0)
		abort();
	gp_wr_init(&o, out, c->small ? 16 : sizeof(out));
	r = gp_scp_unwrap(&host, in, n, &o);
	if (r == 0 && (o.len < 2 || o.len > n))
		abort();
	if (r != 0 && o.len != 0)
		abort();
	gp_scp_free(&host);
}

static void
card_handshake(const struct sel *c, const uint8_t *in, size_t n)
{
	static const uint8_t cc[16] = { 0xC0, 0xC1, 0xC2, 0xC3, 0xC4, 0xC5,
	    0xC6, 0xC7, 0xC8, 0xC9, 0xCA, 0xCB, 0xCC, 0xCD, 0xCE, 0xCF };
	static const uint8_t aid[8] = { 0xA0, 0x00, 0x00, 0x01, 0x51, 0x00,
	    0x00, 0x00 };
	uint8_t iu[5 + 16 + 1] = { 0x80, 0x50, 0x30, 0x00 };
	uint8_t rsp[64];
	struct gp_scp_card_cfg cfg;
	struct gp_keyset ks;
	struct gp_scp card;
	struct gp_wr w;

	memset(&ks, 0, sizeof(ks));
	memcpy(ks.enc, k_enc, c->klen);
	memcpy(ks.mac, k_mac, c->klen);
	memcpy(ks.dek, k_rmac, c->klen);
	ks.len = c->klen;
	ks.kvn = 0x30;
	memset(&cfg, 0, sizeof(cfg));
	cfg.proto = c->proto;
	cfg.i = c->i;
	cfg.s = c->s;
	cfg.seq = 0x2A;
	cfg.card_challenge = c->proto == 2 || (c->small) ? cc : NULL;
	cfg.sd_aid = aid;
	cfg.sd_aid_len = sizeof(aid);

	/* The input as INITIALIZE UPDATE. */
	memset(&card, 0, sizeof(card));
	gp_wr_init(&w, rsp, sizeof(rsp));
	if (gp_scp_card_init_update(&card, &cfg, &ks, in, n, &w) == 0) {
		if (w.len < 2 || rsp[w.len - 2] != 0x90)
			abort();
		/* Then as EXTERNAL AUTHENTICATE too. */
		(void)gp_scp_card_ext_auth(&card, in, n);
	}
	gp_scp_free(&card);

	/* The input as EXTERNAL AUTHENTICATE after a genuine IU. */
	iu[4] = c->s;
	memset(iu + 5, 0xB0, c->s);
	gp_wr_init(&w, rsp, sizeof(rsp));
	if (gp_scp_card_init_update(&card, &cfg, &ks, iu, 5u + c->s + 1,
	    &w) != 0)
		abort();
	if (gp_scp_card_ext_auth(&card, in, n) == 0) {
		/* Only a correct cryptogram and MAC open the session. */
		if (card.state != GP_SCP_OPEN || n < 5 ||
		    memcmp(in + 5, card.host_cryptogram, c->s) != 0)
			abort();
	} else if (card.state != GP_SCP_BROKEN)
		abort();
	gp_scp_free(&card);
	gp_keyset_wipe(&ks);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sel c;

	if (size < 1)
		return 0;
	sel_parse(data[0], &c);
	data++;
	size--;
	card_unwrap(&c, data, size);
	host_unwrap(&c, data, size);
	roundtrip(&c, data, size);
	card_handshake(&c, data, size);
	return 0;
}
