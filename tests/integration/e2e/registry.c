/*
 * tsm-e2e-registry: reads a card's registry through PC/SC, as an auditor
 * independent of tsmd: the card's own answer to GET STATUS inside a secure
 * channel whose session keys come from tsm-keyd (the card's key set is
 * named by the key version the card answers INITIALIZE UPDATE with, as
 * tsmd does). Used by tools/scripts/e2e.sh to check the store against the
 * card (docs/e2e.md).
 *
 *   tsm-e2e-registry -k KEYD_SOCKET [-l LABEL] [-r READER] [-i SCP02_I]
 *
 * Prints "card <life cycle>" ("card undefined-HH" for a value GP does
 * not name), "kvn <hex>", then, sorted, one line per application or
 * security domain "app <AID> <life cycle>" and per load file
 * "elf <AID> <life cycle>". Exit 0, or 1 with the reason on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "agent.h"
#include "links.h"
#include "gp/apdu.h"
#include "gp/buf.h"
#include "gp/cmd.h"
#include "gp/registry.h"
#include "gp/scp.h"
#include "keys.h"

#define LINES_MAX	256

static struct agent_card card;
static char *lines[LINES_MAX];
static size_t nlines;

static int
xmit(const uint8_t *cmd, size_t n, uint8_t *rsp, size_t *rlen,
    uint16_t *sw)
{
	if (card.ops->transmit(card.ctx, cmd, n, rsp, 65538, rlen) != 0 ||
	    *rlen < 2)
		return -1;
	*sw = (uint16_t)(rsp[*rlen - 2] << 8 | rsp[*rlen - 1]);
	return 0;
}

static void
add_line(const char *kind, const uint8_t *aid, size_t aidlen,
    const char *state)
{
	char hex[2 * 16 + 1], buf[128];

	if (nlines == LINES_MAX)
		return;
	gp_hex_encode(aid, aidlen, hex);
	snprintf(buf, sizeof(buf), "%s %s %s", kind, hex,
	    state != NULL ? state : "?");
	lines[nlines++] = strdup(buf);
}

static int
cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every page of GET STATUS scope, wrapped for the channel. */
static int
status(struct gp_scp *scp, uint8_t scope, const char *kind,
    enum gp_lc_kind lck, uint8_t *card_lc)
{
	static uint8_t rsp[65538];
	uint8_t plain[64], wire[128], p2 = GP_STATUS_TAGGED;
	struct gp_registry_entry e[64];
	struct gp_wr pw, w;
	size_t rl, n, k;
	uint16_t sw;

	for (;;) {
		gp_wr_init(&pw, plain, sizeof(plain));
		gp_wr_init(&w, wire, sizeof(wire));
		if (gp_cmd_get_status(scope, p2, NULL, 0, &pw) != 0 ||
		    gp_scp_wrap(scp, pw.p, pw.len, &w) != 0 ||
		    xmit(w.p, w.len, rsp, &rl, &sw) != 0)
			return -1;
		if (sw == 0x6A88)	/* nothing of that kind */
			return 0;
		if ((sw != 0x9000 && !gp_registry_more(sw)) ||
		    gp_registry_parse(rsp, rl - 2, e, 64, &n) != 0) {
			fprintf(stderr, "GET STATUS %02X answered %04X\n",
			    scope, sw);
			return -1;
		}
		for (k = 0; k < n; k++) {
			if (card_lc != NULL) {
				*card_lc = e[k].lifecycle;
				continue;
			}
			add_line(kind, e[k].aid.p, e[k].aid.len,
			    gp_lifecycle_name(lck, e[k].lifecycle));
		}
		if (!gp_registry_more(sw))
			return 0;
		p2 = GP_STATUS_TAGGED | GP_STATUS_NEXT;
	}
}

int
main(int argc, char **argv)
{
	static const uint8_t sel[] = { 0x00, 0xA4, 0x04, 0x00, 0x08, 0xA0,
	    0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00, 0x00 };
	static uint8_t rsp[65538];
	const char *sock = NULL, *label = "isd", *reader = NULL, *lc;
	uint8_t iu[13] = { 0x80, 0x50, 0x00, 0x00, 0x08 }, hc[8];
	uint8_t ea[64], cardlc = 0, i, kvn, scp02_i = 0x55;
	struct agent_pcsc *pc = NULL;
	struct keys_client kc;
	struct keys_session ks;
	struct gp_scp scp;
	struct gp_wr w;
	size_t rl, k;
	uint16_t sw;
	int ch, proto, r = 1;

	while ((ch = getopt(argc, argv, "k:l:r:i:")) != -1) {
		switch (ch) {
		case 'k': sock = optarg; break;
		case 'l': label = optarg; break;
		case 'r': reader = optarg; break;
		case 'i': scp02_i = (uint8_t)strtoul(optarg, NULL, 16); break;
		default: sock = NULL; optind = argc; break;
		}
	}
	if (sock == NULL) {
		fprintf(stderr, "usage: tsm-e2e-registry -k KEYD_SOCKET "
		    "[-l LABEL] [-r READER] [-i SCP02_I]\n");
		return 2;
	}
	memset(&scp, 0, sizeof(scp));
	memset(&ks, 0, sizeof(ks));
	keys_init(&kc, sock, 5000);
	if (agent_pcsc_new(reader, &pc) != 0) {
		fprintf(stderr, "no PC/SC reader\n");
		return 1;
	}
	agent_pcsc_card(pc, &card);
	if (card.ops->present(card.ctx, 10000) != 1 ||
	    card.ops->open(card.ctx) != 0) {
		fprintf(stderr, "no card in the reader\n");
		goto out;
	}
	if (RAND_bytes(hc, sizeof(hc)) != 1)
		goto out;
	memcpy(iu + 5, hc, 8);
	if (xmit(sel, sizeof(sel), rsp, &rl, &sw) != 0 || sw != 0x9000 ||
	    xmit(iu, sizeof(iu), rsp, &rl, &sw) != 0 || sw != 0x9000 ||
	    rl < 2 + 28) {
		fprintf(stderr, "SELECT / INITIALIZE UPDATE failed (%04X)\n",
		    sw);
		goto out;
	}
	rl -= 2;
	kvn = rsp[GP_KDD_LEN];
	proto = rsp[GP_KDD_LEN + 1];
	i = proto == 3 ? rsp[GP_KDD_LEN + 2] : scp02_i;
	if ((r = keys_open_channel(&kc, label, kvn, proto, i, 8, hc, rsp, rl,
	    &ks)) != 0) {
		fprintf(stderr, "keyd: %s/%u: %s\n", label, kvn,
		    keys_strerror(r));
		r = 1;
		goto out;
	}
	r = 1;
	gp_wr_init(&w, ea, sizeof(ea));
	if (keys_session_start(&ks, proto, i, kvn, hc, rsp, rl, GP_SL_CMAC,
	    &scp, &w) != 0 || xmit(w.p, w.len, rsp, &rl, &sw) != 0 ||
	    gp_scp_host_confirm(&scp, sw) != 0) {
		fprintf(stderr, "EXTERNAL AUTHENTICATE failed (%04X)\n", sw);
		goto out;
	}
	if (status(&scp, GP_STATUS_ISD, NULL, GP_LC_CARD, &cardlc) != 0 ||
	    status(&scp, GP_STATUS_APPS, "app", GP_LC_APP, NULL) != 0 ||
	    status(&scp, GP_STATUS_ELF, "elf", GP_LC_ELF, NULL) != 0)
		goto out;
	lc = gp_lifecycle_name(GP_LC_CARD, cardlc);
	if (lc != NULL)
		printf("card %s\nkvn %02X\n", lc, kvn);
	else
		printf("card undefined-%02X\nkvn %02X\n", cardlc, kvn);
	qsort(lines, nlines, sizeof(lines[0]), cmp_line);
	for (k = 0; k < nlines; k++)
		printf("%s\n", lines[k]);
	r = 0;
out:
	keys_session_wipe(&ks);
	gp_scp_free(&scp);
	keys_close(&kc);
	if (card.ops != NULL)
		card.ops->close(card.ctx);
	agent_pcsc_free(pc);
	for (k = 0; k < nlines; k++)
		free(lines[k]);
	return r;
}
