/*
 * A PC/SC client for the cardsim integration test: finds the virtual
 * reader through pcscd (PCSCLITE_CSOCK_NAME names the test's socket),
 * waits for the card, then runs a GP lifecycle with libgp's host role:
 * SELECT, INITIALIZE UPDATE, EXTERNAL AUTHENTICATE, GET STATUS, LOAD and
 * INSTALL of real CAP files, personalisation, lock, unlock, key rotation
 * (PUT KEY replacing the key set with new keys and a new version, the
 * channel reopened with them, the old version refused), GET STATUS paged
 * with 6310 over several instances, DELETE.
 *
 *   pcsc_client scp03|scp02 CAP...
 *   pcsc_client bench SECONDS     APDUs/s through pcscd, and the time
 *                                 from start to the first APDU answered
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <winscard.h>

#include "gp/cmd.h"
#include "gp/err.h"
#include "gp/putkey.h"
#include "gp/registry.h"
#include "simhost.h"

struct link {
	SCARDCONTEXT	 ctx;
	SCARDHANDLE	 card;
};

static int
pcsc_xmit(void *arg, const uint8_t *cmd, size_t n, uint8_t *rsp, size_t cap,
    size_t *rlen)
{
	struct link *l = arg;
	DWORD len = (DWORD)cap;

	if (SCardTransmit(l->card, SCARD_PCI_T1, cmd, (DWORD)n, NULL, rsp,
	    &len) != SCARD_S_SUCCESS)
		return GP_ERR_IO;
	*rlen = len;
	return 0;
}

/* Waits up to 10 s for a card in the first reader, then connects. */
static int
pcsc_open(struct link *l)
{
	SCARD_READERSTATE rs;
	char readers[1024];
	DWORD n = sizeof(readers), proto;
	int k;

	if (SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &l->ctx) !=
	    SCARD_S_SUCCESS)
		return -1;
	for (k = 0; k < 100; k++) {
		n = sizeof(readers);
		if (SCardListReaders(l->ctx, NULL, readers, &n) ==
		    SCARD_S_SUCCESS)
			break;
		(void)SCardGetStatusChange(l->ctx, 100, NULL, 0);
	}
	memset(&rs, 0, sizeof(rs));
	rs.szReader = readers;
	rs.dwCurrentState = SCARD_STATE_UNAWARE;
	for (k = 0; k < 100; k++) {
		if (SCardGetStatusChange(l->ctx, 100, &rs, 1) ==
		    SCARD_S_SUCCESS && (rs.dwEventState & SCARD_STATE_PRESENT))
			break;
		rs.dwCurrentState = rs.dwEventState;
	}
	printf("reader: %s\n", readers);
	return SCardConnect(l->ctx, readers, SCARD_SHARE_SHARED,
	    SCARD_PROTOCOL_T1, &l->card, &proto) == SCARD_S_SUCCESS ? 0 : -1;
}

static int
apps(struct sh *h)
{
	struct gp_registry_entry e[16];
	uint8_t cmd[32];
	struct gp_wr w;
	size_t n = 0;

	gp_wr_init(&w, cmd, sizeof(cmd));
	if (gp_cmd_get_status(GP_STATUS_APPS, GP_STATUS_TAGGED, NULL, 0,
	    &w) != 0 || sh_send_wr(h, &w) != 0)
		return -1;
	if (h->sw == 0x6A88)
		return 0;
	if (h->sw != 0x9000 || gp_registry_parse(h->data, h->dlen, e, 16,
	    &n) != 0)
		return -1;
	return (int)n;
}

static int
set_status(struct sh *h, const struct gp_cap_aid *app, uint8_t st)
{
	uint8_t cmd[32];
	struct gp_wr w;

	gp_wr_init(&w, cmd, sizeof(cmd));
	if (gp_cmd_set_status(GP_SETSTATUS_APP, st, app->b, app->len,
	    &w) != 0 || sh_send_wr(h, &w) != 0)
		return -1;
	return h->sw == 0x9000 ? 0 : -1;
}

#define CHECK(x, what) do { if (!(x)) { fprintf(stderr, "FAIL: %s " \
	"(SW %04X)\n", what, h->sw); return -1; } } while (0)

/* The key set the card has now: keys, version, and how to open with it. */
struct keys {
	struct gp_keyset ks;
	int		 proto;
	uint8_t		 i, level;
	uint8_t		 kvn;		/* P1 of INITIALIZE UPDATE (00: any) */
};

static int
kopen(struct sh *h, const struct keys *k)
{
	return sh_open(h, k->proto, k->i, 8, k->kvn, &k->ks, k->level);
}

/*
 * PUT KEY replacing the key set k->ks.kvn with three new keys under
 * version kvn + 1 (key data under the DEK: SCP03 the static one, SCP02
 * the session one), KCVs checked, then k holds the new set.
 */
static int
put_key(struct sh *h, struct keys *k)
{
	struct gp_putkey pk = { .old_kvn = k->ks.kvn,
	    .new_kvn = (uint8_t)(k->ks.kvn + 1), .key_id = 1, .nkeys = 3,
	    .key_len = 16 };
	uint8_t nk[3][16], cmd[128];
	struct gp_scp_keys sk;
	struct gp_des3 des;
	struct gp_aes aes;
	struct gp_wr w;
	size_t j, b;
	int r;

	for (j = 0; j < 3; j++) {	/* fresh keys, different each time */
		for (b = 0; b < 16; b++)
			nk[j][b] = (uint8_t)(pk.new_kvn * 29 + j * 7 + b * 13);
		pk.keys[j] = nk[j];
	}
	memset(&des, 0, sizeof(des));
	memset(&aes, 0, sizeof(aes));
	gp_wr_init(&w, cmd, sizeof(cmd));
	if (k->proto == 3) {
		r = gp_aes_init(&aes, k->ks.dek, k->ks.len);
		if (r == 0)
			r = gp_cmd_put_key_scp03(&pk, &aes, &w);
		gp_aes_free(&aes);
	} else if ((r = gp_scp_session_keys(&h->scp, &sk)) == 0) {
		r = gp_des3_init(&des, sk.dek);
		if (r == 0)
			r = gp_cmd_put_key_scp02(&pk, &des, &w);
		gp_des3_free(&des);
		gp_wipe(&sk, sizeof(sk));
	}
	if (r == 0 && (r = sh_send_wr(h, &w)) == 0 && (h->sw != 0x9000 ||
	    gp_put_key_verify(&pk, k->proto == 3, h->data, h->dlen) != 0))
		r = GP_ERR_AUTH;
	gp_wipe(cmd, sizeof(cmd));
	if (r == 0) {
		memcpy(k->ks.enc, nk[0], 16);
		memcpy(k->ks.mac, nk[1], 16);
		memcpy(k->ks.dek, nk[2], 16);
		k->ks.len = 16;
		k->ks.kvn = pk.new_kvn;
		k->kvn = pk.new_kvn;
	}
	gp_wipe(nk, sizeof(nk));
	return r;
}

/* Key rotation through pcscd: PUT KEY, the new set opens a channel, the
 * old version is gone (6A88) and its keys no longer authenticate. */
static int
rotate(struct sh *h, struct keys *k)
{
	struct keys old = *k;
	uint8_t hc[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, cmd[32];
	struct gp_wr w;
	int ok;

	old.kvn = old.ks.kvn;
	CHECK(kopen(h, k) == 0, "open before PUT KEY");
	CHECK(put_key(h, k) == 0, "PUT KEY (replace the key set)");
	CHECK(kopen(h, k) == 0, "open with the new keys");
	CHECK(apps(h) >= 0, "GET STATUS under the new keys");
	/* The old version is no longer on the card. */
	CHECK(sh_select(h, sh_isd, sizeof(sh_isd)) == 0, "SELECT");
	gp_wr_init(&w, cmd, sizeof(cmd));
	CHECK(gp_scp_host_init(&h->scp, old.proto, old.i, 8, old.kvn, hc,
	    &w) == 0 && sh_send_wr(h, &w) == 0 && h->sw == 0x6A88,
	    "old key version refused");
	sh_close(h);
	/* Nor do its keys open a channel under any version. */
	old.kvn = 0;
	ok = kopen(h, &old) != 0;
	sh_close(h);
	gp_keyset_wipe(&old.ks);
	CHECK(ok, "old keys refused");
	CHECK(kopen(h, k) == 0, "reopen with the new keys");
	printf("key set %02X -> %02X\n", k->ks.kvn - 1, k->ks.kvn);
	return 0;
}

/* GET STATUS of the applications, paged: 6310 then P2 b1 until 9000. */
static int
apps_paged(struct sh *h, size_t *pages)
{
	struct gp_registry_entry e[16];
	uint8_t cmd[32];
	struct gp_wr w;
	size_t n, total = 0;

	*pages = 0;
	do {
		gp_wr_init(&w, cmd, sizeof(cmd));
		if (*pages == 32 || gp_cmd_get_status(GP_STATUS_APPS,
		    GP_STATUS_TAGGED | (*pages ? GP_STATUS_NEXT : 0), NULL, 0,
		    &w) != 0 || sh_send_wr(h, &w) != 0 ||
		    (h->sw != 0x9000 && h->sw != 0x6310) ||
		    gp_registry_parse(h->data, h->dlen, e, 16, &n) != 0 ||
		    n == 0)
			return -1;
		total += n;
		(*pages)++;
	} while (h->sw == 0x6310);
	return (int)total;
}

#define NINST	8	/* instances for paging: more than a 200-byte page */

static int
paging(struct sh *h, const struct gp_cap *cap)
{
	const struct gp_cap_aid *app = &cap->applets[0].aid;
	uint8_t aid[16];
	size_t pages;
	int k;

	CHECK(app->len < sizeof(aid), "applet AID shorter than 16");
	memcpy(aid, app->b, app->len);
	for (k = 1; k < NINST; k++) {	/* app itself is the first */
		aid[app->len] = (uint8_t)k;
		CHECK(sh_install(h, cap->pkg.b, cap->pkg.len, app->b,
		    app->len, aid, app->len + 1u, GP_INSTALL_AND_SELECT) == 0,
		    "INSTALL of another instance");
	}
	CHECK(apps_paged(h, &pages) == NINST, "GET STATUS pages");
	CHECK(pages >= 2, "GET STATUS answered 6310");
	printf("GET STATUS: %d instances in %zu pages\n", NINST, pages);
	return 0;
}

static int
lifecycle(struct sh *h, struct keys *k, const struct gp_cap *cap)
{
	static const uint8_t dgi[] = { 0x01, 0x01, 0x02, 0xAB, 0xCD };
	static const uint8_t gd[] = { 0x80, 0xCA, 0x01, 0x01, 0x00 };
	const struct gp_cap_aid *app = &cap->applets[0].aid;

	CHECK(kopen(h, k) == 0, "open");
	CHECK(apps(h) == 0, "GET STATUS (empty)");
	CHECK(sh_load(h, cap, 200) == 0, "LOAD");
	CHECK(sh_install(h, cap->pkg.b, cap->pkg.len, app->b, app->len,
	    app->b, app->len, GP_INSTALL_AND_SELECT) == 0, "INSTALL");
	CHECK(apps(h) == 1, "GET STATUS (one)");
	CHECK(sh_perso(h, app->b, app->len, dgi, sizeof(dgi)) == 0, "perso");
	CHECK(set_status(h, app, 0x80) == 0, "lock");
	CHECK(sh_select(h, app->b, app->len) != 0 && h->sw == 0x6999,
	    "locked app not selectable");
	CHECK(kopen(h, k) == 0, "reopen");
	CHECK(set_status(h, app, 0x00) == 0, "unlock");
	CHECK(sh_select(h, app->b, app->len) == 0, "SELECT app");
	CHECK(sh_sw(h, gd, sizeof(gd)) == 0x9000 && h->dlen == 2 &&
	    memcmp(h->data, dgi + 3, 2) == 0, "GET DATA on the instance");
	CHECK(rotate(h, k) == 0, "key rotation");
	CHECK(paging(h, cap) == 0, "paging");
	CHECK(sh_delete(h, cap->pkg.b, cap->pkg.len, 1) == 0, "DELETE");
	CHECK(apps(h) == 0, "GET STATUS (empty again)");
	return 0;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
rate(struct sh *h, const uint8_t *cmd, size_t n, double secs)
{
	double t0 = now(), t;
	unsigned long k = 0;

	do {
		if (sh_send(h, cmd, n) != 0 || h->sw != 0x9000)
			return -1;
		k++;
	} while ((t = now()) - t0 < secs);
	return (double)k / (t - t0);
}

static int
bench(struct link *l, double t0, double secs)
{
	static const uint8_t gd[] = { 0x80, 0xCA, 0x9F, 0x7F, 0x00 };
	static const uint8_t gs[] = { 0x80, 0xF2, 0x80, 0x02, 0x02, 0x4F,
	    0x00, 0x00 };
	struct gp_keyset ks;
	struct sh h;
	int rc = 1;

	sh_init(&h, pcsc_xmit, l);
	if (sh_sw(&h, gd, sizeof(gd)) != 0x9000)
		return 1;
	printf("start to first APDU (pcscd): %.1f ms\n", (now() - t0) * 1e3);
	printf("plain GET DATA through pcscd: %.0f APDUs/s\n", rate(&h, gd,
	    sizeof(gd), secs));
	sh_default_keys(&ks, 16, 0);
	if (sh_open(&h, 3, 0x70, 8, 0, &ks, 0x33) == 0) {
		printf("SCP03 level 33 GET STATUS through pcscd: %.0f "
		    "APDUs/s\n", rate(&h, gs, sizeof(gs), secs));
		rc = 0;
	}
	sh_close(&h);
	gp_keyset_wipe(&ks);
	return rc;
}

int
main(int argc, char **argv)
{
	struct link l;
	struct sh hs, *h = &hs;
	struct keys ks;
	struct gp_cap *cap;
	int k, rc = 1;
	double t0 = now();

	if (argc < 3)
		return 2;
	if (strcmp(argv[1], "bench") == 0) {
		memset(&l, 0, sizeof(l));
		if (pcsc_open(&l) != 0)
			return 1;
		rc = bench(&l, t0, atof(argv[2]));
		SCardDisconnect(l.card, SCARD_LEAVE_CARD);
		SCardReleaseContext(l.ctx);
		return rc;
	}
	memset(&ks, 0, sizeof(ks));
	ks.proto = strcmp(argv[1], "scp02") == 0 ? 2 : 3;
	ks.i = ks.proto == 3 ? 0x70 : 0x55;
	ks.level = ks.proto == 3 ? 0x33 : 0x03;
	/* The profile's test keys: version 30 (SCP03) or 01 (SCP02). */
	sh_default_keys(&ks.ks, 16, ks.proto == 3 ? 0x30 : 0x01);
	memset(&l, 0, sizeof(l));
	if (pcsc_open(&l) != 0) {
		fprintf(stderr, "FAIL: no card through pcscd\n");
		return 1;
	}
	sh_init(h, pcsc_xmit, &l);
	for (k = 2; k < argc; k++) {
		if (gp_cap_open_file(argv[k], &cap) != 0)
			goto out;
		rc = lifecycle(h, &ks, cap);
		printf("%s: %s\n", argv[k], rc == 0 ? "ok" : "FAILED");
		gp_cap_free(cap);
		if (rc != 0)
			goto out;
	}
	rc = 0;
	printf("PASS: %d CAP lifecycles through pcscd\n", argc - 2);
 out:
	sh_close(h);
	gp_keyset_wipe(&ks.ks);
	SCardDisconnect(l.card, SCARD_LEAVE_CARD);
	SCardReleaseContext(l.ctx);
	return rc;
}
