/*
 * tsm-keyd for the benchmark: the cards' master imported as two
 * components (as a key ceremony would), and the baseline of keyd's
 * secure-channel openings per second: keys_open_channel in a loop, one
 * connection per thread, with the INITIALIZE UPDATE responses of real
 * simulated cards, exactly the call tsmd's workers make.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "gp/buf.h"
#include "keys.h"
#include "loadgen.h"

#define KEYD_CARDS	32

int
lg_keyd_import(const char *sock)
{
	uint8_t a[16], b[16], kcv[3];
	struct keys_component comp[2];
	struct keys_client c;
	size_t i;
	int r;

	for (i = 0; i < sizeof(a); i++) {
		b[i] = (uint8_t)(0xA5 + 11 * i);
		a[i] = lg_master[i] ^ b[i];
	}
	comp[0].value = a;
	comp[0].len = sizeof(a);
	comp[1].value = b;
	comp[1].len = sizeof(b);
	keys_init(&c, sock, KEYS_TIMEOUT_MS);
	if ((r = keys_kcv(KEYS_ALG_AES, a, 16, comp[0].kcv)) == 0 &&
	    (r = keys_kcv(KEYS_ALG_AES, b, 16, comp[1].kcv)) == 0)
		r = keys_import_components(&c, LG_LABEL, LG_KVN,
		    KEYS_ROLE_MASTER, GP_DIV_KDF3, KEYS_ALG_AES, comp, 2, kcv);
	keys_close(&c);
	gp_wipe(a, sizeof(a));
	gp_wipe(b, sizeof(b));
	return r == 0 ? 0 : LG_ERR_KEYS;
}

struct keyd_set {
	uint8_t		 hc[8];
	uint8_t		 rsp[KEYD_CARDS][64];
	size_t		 len[KEYD_CARDS];
};

struct keyd_th {
	const char		*sock;
	const struct keyd_set	*set;
	double			 secs;
	pthread_barrier_t	*bar;
	size_t			 n;
	int			 err;
	struct lg_lat		 lat;
	pthread_t		 th;
};

static void *
keyd_main(void *arg)
{
	struct keyd_th *t = arg;
	struct keys_session ks;
	struct keys_client c;
	double until, t0;
	size_t k;

	keys_init(&c, t->sock, KEYS_TIMEOUT_MS);
	if (keys_connect(&c) != 0)
		t->err = LG_ERR_KEYS;
	pthread_barrier_wait(t->bar);
	until = lg_now() + t->secs;
	while (t->err == 0 && (t0 = lg_now()) < until) {
		k = t->n % KEYD_CARDS;
		if (keys_open_channel(&c, LG_LABEL, LG_KVN, 3, 0x70, 8,
		    t->set->hc, t->set->rsp[k], t->set->len[k], &ks) != 0) {
			t->err = LG_ERR_KEYS;
			break;
		}
		keys_session_wipe(&ks);
		t->n++;
		if (lg_lat_add(&t->lat, (lg_now() - t0) * 1e6) != 0)
			break;
	}
	keys_close(&c);
	return NULL;
}

int
lg_keyd_run(const char *sock, int threads, double secs, double *rate,
    struct lg_lat *lat)
{
	static struct keyd_set set;
	pthread_barrier_t bar;
	struct keyd_th *t;
	double t0;
	size_t total = 0;
	int i, r = 0;

	*rate = 0;
	memcpy(set.hc, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
	for (i = 0; i < KEYD_CARDS; i++)
		if (lg_card_iu(0xFFFF0000u + (uint32_t)i, set.hc, set.rsp[i],
		    sizeof(set.rsp[i]), &set.len[i]) != 0)
			return LG_ERR_CARD;
	if (threads < 1 || (t = calloc((size_t)threads, sizeof(*t))) == NULL)
		return LG_ERR_NOMEM;
	if (pthread_barrier_init(&bar, NULL, (unsigned)threads + 1) != 0) {
		free(t);
		return LG_ERR_NOMEM;
	}
	for (i = 0; i < threads; i++) {
		t[i].sock = sock;
		t[i].set = &set;
		t[i].secs = secs;
		t[i].bar = &bar;
		if (pthread_create(&t[i].th, NULL, keyd_main, &t[i]) != 0)
			abort();	/* the barrier would never open */
	}
	pthread_barrier_wait(&bar);
	t0 = lg_now();
	for (i = 0; i < threads; i++) {
		pthread_join(t[i].th, NULL);
		total += t[i].n;
		if (t[i].err != 0)
			r = t[i].err;
		if (lg_lat_merge(lat, &t[i].lat) != 0)
			r = LG_ERR_NOMEM;
		lg_lat_free(&t[i].lat);
	}
	*rate = (double)total / (lg_now() - t0);
	pthread_barrier_destroy(&bar);
	free(t);
	return r;
}
