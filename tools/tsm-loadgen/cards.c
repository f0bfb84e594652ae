/*
 * The simulated cards: libcardsim cards (SCP03, i = 70, AES-128) whose
 * ISD keys are diversified (KDF3) from the benchmark master, numbered so
 * that the inventory CSV, the cards and tsmd agree on each CSN.
 */
#include <stdio.h>
#include <string.h>

#include "gp/buf.h"
#include "loadgen.h"

const uint8_t lg_master[16] = { 0x4C, 0x4F, 0x41, 0x44, 0x47, 0x45, 0x4E,
    0x2D, 0x4D, 0x41, 0x53, 0x54, 0x45, 0x52, 0x2D, 0x31 };

void
lg_card_ids(uint32_t n, uint8_t kdd[GP_KDD_LEN], char csn[32])
{
	char ser[9];

	memcpy(kdd, "\x00\x00\x4C\x47\x00\x00", 6);
	kdd[6] = (uint8_t)(n >> 24);
	kdd[7] = (uint8_t)(n >> 16);
	kdd[8] = (uint8_t)(n >> 8);
	kdd[9] = (uint8_t)n;
	/* The simulator's CPLC: fabricator 4790, type 5040, serial = the
	 * last 4 KDD bytes, batch 0000; tsmd's CSN is their concatenation. */
	gp_hex_encode(kdd + 6, 4, ser);
	snprintf(csn, 32, "47905040%s0000", ser);
}

int
lg_card_new(uint32_t n, struct lg_card *c)
{
	struct gp_keyset ks;
	struct sim_opts so;
	struct sim_keys k;
	int r = LG_ERR_CARD;

	memset(c, 0, sizeof(*c));
	memset(&ks, 0, sizeof(ks));
	lg_card_ids(n, c->kdd, c->csn);
	if (gp_keyset_diversify(&ks, GP_DIV_KDF3, lg_master,
	    sizeof(lg_master), c->kdd) != 0)
		goto out;
	memset(&so, 0, sizeof(so));
	memset(&k, 0, sizeof(k));
	k.proto = 3;
	k.i = 0x70;
	k.s = 8;
	k.kvn = LG_KVN;
	k.enc = ks.enc;
	k.mac = ks.mac;
	k.dek = ks.dek;
	k.len = 16;
	k.kdd = c->kdd;
	k.seq = 1;
	if (sim_card_open_keys(&so, &k, &c->sim) == 0)
		r = 0;
 out:
	gp_keyset_wipe(&ks);
	return r;
}

void
lg_card_free(struct lg_card *c)
{
	sim_card_free(c->sim);
	memset(c, 0, sizeof(*c));
}

int
lg_cards_csv(const char *path, const char *product, uint32_t first,
    uint32_t count)
{
	uint8_t kdd[GP_KDD_LEN];
	char csn[32], hex[2 * GP_KDD_LEN + 1];
	uint32_t i;
	FILE *f;

	if ((f = fopen(path, "w")) == NULL)
		return LG_ERR_IO;
	fprintf(f, "csn,kdd,product,batch,tkv\n");
	for (i = 0; i < count; i++) {
		lg_card_ids(first + i, kdd, csn);
		gp_hex_encode(kdd, sizeof(kdd), hex);
		fprintf(f, "%s,%s,%s,LOADGEN,%d\n", csn, hex, product, LG_KVN);
	}
	return fclose(f) == 0 ? 0 : LG_ERR_IO;
}

int
lg_card_iu(uint32_t num, const uint8_t hc[8], uint8_t *rsp, size_t cap,
    size_t *len)
{
	static const uint8_t sel[] = { 0x00, 0xA4, 0x04, 0x00, 0x08, 0xA0,
	    0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00, 0x00 };
	uint8_t iu[14] = { 0x80, 0x50, 0x00, 0x00, 0x08 }, buf[300];
	struct lg_card c;
	size_t n;
	int r = LG_ERR_CARD;

	memcpy(iu + 5, hc, 8);
	if (lg_card_new(num, &c) != 0)
		return LG_ERR_CARD;
	if (sim_card_transmit(c.sim, sel, sizeof(sel), buf, sizeof(buf),
	    &n) == 0 && sim_card_transmit(c.sim, iu, sizeof(iu), buf,
	    sizeof(buf), &n) == 0 && n > 2 && n - 2 <= cap &&
	    buf[n - 2] == 0x90 && buf[n - 1] == 0x00) {
		memcpy(rsp, buf, n - 2);
		*len = n - 2;
		r = 0;
	}
	lg_card_free(&c);
	return r;
}
