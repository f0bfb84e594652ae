/*
 * tsm-cardsim in process: APDUs per second (plain GET DATA, and GET
 * STATUS inside an SCP03 channel at level 33), full install + delete
 * cycles per second, and the time from sim_card_open to the first APDU
 * answered. The pcscd figures come from cardsim_pcsc_client's bench
 * mode run under tests/integration/cardsim/harness.sh (docs/cardsim.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gp/cmd.h"
#include "cardsim.h"
#include "simhost.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
xmit(void *arg, const uint8_t *cmd, size_t n, uint8_t *rsp, size_t cap,
    size_t *rlen)
{
	return sim_card_transmit(arg, cmd, n, rsp, cap, rlen);
}

static double
rate(struct sh *h, const uint8_t *cmd, size_t n, double secs)
{
	double t0 = now(), t;
	unsigned long k = 0;

	do {
		if (sh_send(h, cmd, n) != 0 || (h->sw != 0x9000 &&
		    h->sw != 0x6A88))
			return -1;
		k++;
	} while ((t = now()) - t0 < secs);
	return (double)k / (t - t0);
}

int
main(int argc, char **argv)
{
	static const uint8_t gd[] = { 0x80, 0xCA, 0x9F, 0x7F, 0x00 };
	static const uint8_t gs[] = { 0x80, 0xF2, 0x80, 0x02, 0x02, 0x4F,
	    0x00, 0x00 };
	struct sim_opts o = { .profile = "scp03-aes128" };
	double secs = argc > 1 ? atof(argv[1]) : 1.0, t0, t1, tc;
	struct sim_card *card;
	struct gp_keyset ks;
	struct gp_cap *cap;
	struct sh h;
	unsigned long cycles = 0;
	const struct gp_cap_aid *a;

	t0 = now();
	if (sim_card_open(&o, &card) != 0)
		return 1;
	sh_init(&h, xmit, card);
	if (sh_sw(&h, gd, sizeof(gd)) != 0x9000)
		return 1;
	t1 = now();
	printf("start to first APDU (in process): %.1f us\n", (t1 - t0) * 1e6);
	printf("plain GET DATA: %.0f APDUs/s\n", rate(&h, gd, sizeof(gd),
	    secs));
	sh_default_keys(&ks, 16, 0x30);
	if (sh_open(&h, 3, 0x70, 8, 0, &ks, 0x33) != 0)
		return 1;
	printf("SCP03 level 33 GET STATUS: %.0f APDUs/s\n", rate(&h, gs,
	    sizeof(gs), secs));
	if (gp_cap_open_file(sh_cap_path("kaoh_helloworld.cap"), &cap) != 0)
		return 1;
	a = &cap->applets[0].aid;
	t0 = now();
	do {
		if (sh_open(&h, 3, 0x70, 8, 0, &ks, 0x33) != 0 ||
		    sh_load(&h, cap, 200) != 0 || sh_install(&h, cap->pkg.b,
		    cap->pkg.len, a->b, a->len, a->b, a->len,
		    GP_INSTALL_AND_SELECT) != 0 ||
		    sh_delete(&h, cap->pkg.b, cap->pkg.len, 1) != 0)
			return 1;
		cycles++;
	} while ((tc = now()) - t0 < secs);
	printf("open + load + install + delete: %.0f cycles/s\n",
	    (double)cycles / (tc - t0));
	gp_cap_free(cap);
	sh_close(&h);
	gp_keyset_wipe(&ks);
	sim_card_free(card);
	return 0;
}
