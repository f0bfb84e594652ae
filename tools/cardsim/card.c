/*
 * A card's power: open (from a state file or a profile), commit after
 * every APDU that changed the persistent state, reset and power cuts
 * (tearing), and the transmit entry point.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gp/err.h"
#include "sim_int.h"

/* T=1, 8 historical bytes "TSMCSIM1"; TCK computed at first use. */
static const uint8_t atr[] = { 0x3B, 0x88, 0x80, 0x01, 'T', 'S', 'M', 'C',
    'S', 'I', 'M', '1', 0x00 };
static uint8_t atr_tck;

const char *
sim_strerror(int e)
{
	switch (e) {
	case SIM_OK: return "success";
	case SIM_ERR_INVAL: return "invalid argument";
	case SIM_ERR_NOMEM: return "out of memory";
	case SIM_ERR_IO: return "state file I/O error";
	case SIM_ERR_FORMAT: return "malformed state file";
	case SIM_ERR_PROFILE: return "unknown card profile";
	case SIM_ERR_SPACE: return "response buffer too small";
	case SIM_ERR_TORN: return "power cut: no response";
	case SIM_ERR_CRYPTO: return "crypto failure";
	case SIM_ERR_INCONSISTENT: return "registry inconsistent";
	}
	return "unknown error";
}

static void
image_free(struct sim_card *c)
{
	if (c->image != NULL) {
		gp_wipe(c->image, c->image_len);
		free(c->image);
		c->image = NULL;
		c->image_len = 0;
	}
}

/*
 * The committed image is the state's bytes, the arrays cut to the entries
 * in use: a power cut restores exactly what was committed, and taking it
 * is a few KB of copying. (It used to be the JSON of the state file,
 * serialised at every commit and parsed at every reset: most of a
 * simulated card's CPU under tsm-loadgen.) The JSON is written only for a
 * card with a state file.
 */
#define IMG_HEAD	offsetof(struct sim_state, elf)

static int
image_take(const struct sim_state *st, uint8_t **out, size_t *len)
{
	size_t ne = st->nelf * sizeof(st->elf[0]);
	size_t na = st->napp * sizeof(st->app[0]);
	uint8_t *p;

	if (st->nelf > SIM_ELF_MAX || st->napp > SIM_APP_MAX)
		return SIM_ERR_INCONSISTENT;
	if ((p = malloc(IMG_HEAD + ne + na)) == NULL)
		return SIM_ERR_NOMEM;
	memcpy(p, st, IMG_HEAD);
	memcpy(p + IMG_HEAD, st->elf, ne);
	memcpy(p + IMG_HEAD + ne, st->app, na);
	*out = p;
	*len = IMG_HEAD + ne + na;
	return 0;
}

/* The head, then the entries in use; the counts are kept beside. */
static int
image_restore(const struct sim_card *c, struct sim_state *st)
{
	size_t ne, na;

	if (c->image == NULL || c->image_len < IMG_HEAD)
		return SIM_ERR_INVAL;
	ne = c->image_len - IMG_HEAD;
	memset(st, 0, sizeof(*st));
	memcpy(st, c->image, IMG_HEAD);
	st->nelf = c->nelf_img;
	st->napp = c->napp_img;
	if (st->nelf > SIM_ELF_MAX || st->napp > SIM_APP_MAX ||
	    ne != st->nelf * sizeof(st->elf[0]) + st->napp *
	    sizeof(st->app[0]))
		return SIM_ERR_INCONSISTENT;
	na = st->napp * sizeof(st->app[0]);
	ne -= na;
	memcpy(st->elf, c->image + IMG_HEAD, ne);
	memcpy(st->app, c->image + IMG_HEAD + ne, na);
	return 0;
}

/* Writes the state as the new image (and file): all or nothing. */
static int
commit(struct sim_card *c)
{
	uint8_t *img;
	size_t n;
	char *json;
	int r;

	if ((r = image_take(&c->st, &img, &n)) != 0)
		return r;
	if (c->path != NULL) {
		if ((r = sim_state_to_json(&c->st, &json)) == 0) {
			r = sim_state_write_file(c->path, json);
			gp_wipe(json, strlen(json));
			free(json);
		}
		if (r != 0) {
			gp_wipe(img, n);
			free(img);
			return r;
		}
	}
	image_free(c);
	c->image = img;
	c->image_len = n;
	c->nelf_img = c->st.nelf;
	c->napp_img = c->st.napp;
	c->dirty = 0;
	return 0;
}

int
sim_card_reset(struct sim_card *c)
{
	if (c == NULL || c->image == NULL)
		return SIM_ERR_INVAL;
	sim_session_close(c);
	c->isd_sel = 1;		/* the ISD is the default application */
	c->sel.len = 0;
	c->torn = 0;
	c->tear_in = 0;
	c->dirty = 0;
	return image_restore(c, &c->st);
}

/*
 * A state made from a profile and options passes the state file's checks
 * (sim_state_from_json: memory, authentication limit, ...) as one read
 * from a file does: once, when the card is made. Resets no longer parse
 * JSON, so nothing else would.
 */
static int
state_valid(const struct sim_state *st)
{
	struct sim_state *chk;
	char *json;
	int r;

	if ((r = sim_state_to_json(st, &json)) != 0)
		return r;
	if ((chk = malloc(sizeof(*chk))) == NULL)
		r = SIM_ERR_NOMEM;
	else
		r = sim_state_from_json(json, strlen(json), chk);
	if (chk != NULL) {
		gp_wipe(chk, sizeof(*chk));
		free(chk);
	}
	gp_wipe(json, strlen(json));
	free(json);
	return r;
}

static int
open_state(struct sim_card *c, const struct sim_opts *o,
    const struct sim_keys *k)
{
	size_t len;
	char *json = NULL;
	int r;

	if (c->path != NULL && k == NULL) {
		r = sim_state_read_file(c->path, &json, &len);
		if (r == 0) {
			r = sim_state_from_json(json, len, &c->st);
			gp_wipe(json, len);
			free(json);
			return r;
		}
		if (r != SIM_ERR_INVAL)	/* INVAL: no file yet */
			return r;
	}
	if ((r = sim_profile_init(&c->st, o->profile ? o->profile :
	    "scp03-aes128")) != 0)
		return r;
	if (o->mem_total != 0)
		c->st.mem_total = o->mem_total;
	if (o->status_page != 0)
		c->st.status_page = o->status_page < 64 ? 64 :
		    o->status_page > 4096 ? 4096 : o->status_page;
	if (o->auth_limit != 0)
		c->st.auth_limit = o->auth_limit;
	if (k != NULL && (r = sim_profile_keys(&c->st, k)) != 0)
		return r;
	return state_valid(&c->st);
}

static int
card_open(const struct sim_opts *o, const struct sim_keys *k,
    struct sim_card **out)
{
	struct sim_card *c;
	int r;

	if (o == NULL || out == NULL)
		return SIM_ERR_INVAL;
	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return SIM_ERR_NOMEM;
	gp_wr_init_dyn(&c->load.buf, SIM_LOAD_MAX);
	if (o->state_path != NULL && (c->path = strdup(o->state_path)) ==
	    NULL) {
		r = SIM_ERR_NOMEM;
		goto out;
	}
	if ((r = open_state(c, o, k)) != 0 || (r = commit(c)) != 0 ||
	    (r = sim_card_reset(c)) != 0)
		goto out;
	*out = c;
	c = NULL;
 out:
	sim_card_free(c);
	return r;
}

int
sim_card_open(const struct sim_opts *o, struct sim_card **out)
{
	return card_open(o, NULL, out);
}

int
sim_card_open_keys(const struct sim_opts *o, const struct sim_keys *k,
    struct sim_card **out)
{
	if (k == NULL)
		return SIM_ERR_INVAL;
	return card_open(o, k, out);
}

void
sim_card_tap(struct sim_card *c, sim_tap_fn fn, void *arg)
{
	c->tap = fn;
	c->tap_arg = arg;
}

void
sim_card_free(struct sim_card *c)
{
	if (c == NULL)
		return;
	sim_session_close(c);
	gp_wr_free(&c->load.buf);
	image_free(c);
	free(c->path);
	gp_wipe(c, sizeof(*c));
	free(c);
}

int
sim_card_atr(const struct sim_card *c, const uint8_t **p, size_t *len)
{
	static uint8_t buf[sizeof(atr)];
	size_t k;

	if (c == NULL || p == NULL || len == NULL)
		return SIM_ERR_INVAL;
	if (atr_tck == 0) {
		memcpy(buf, atr, sizeof(atr));
		for (k = 1; k + 1 < sizeof(atr); k++)
			buf[sizeof(atr) - 1] ^= atr[k];
		atr_tck = buf[sizeof(atr) - 1];
	}
	*p = buf;
	*len = sizeof(buf);
	return 0;
}

void
sim_card_tear(struct sim_card *c, unsigned n, int mode)
{
	c->tear_in = n;
	c->tear_mode = mode;
}

static void
power_cut(struct sim_card *c)
{
	sim_session_close(c);
	c->torn = 1;
	c->dirty = 0;
}

int
sim_card_transmit(struct sim_card *c, const uint8_t *cmd, size_t n,
    uint8_t *rsp, size_t cap, size_t *rlen)
{
	struct gp_wr w;
	int r, tear;

	if (c == NULL || (cmd == NULL && n != 0) || rsp == NULL ||
	    rlen == NULL)
		return SIM_ERR_INVAL;
	if (c->torn)
		return SIM_ERR_TORN;
	c->napdu++;
	gp_wr_init(&w, rsp, cap);
	r = sim_dispatch(c, cmd, n, &w);
	tear = c->tear_in != 0 && --c->tear_in == 0;
	if (tear && c->tear_mode == SIM_TEAR_BEFORE) {
		power_cut(c);
		return SIM_ERR_TORN;
	}
	if (r == 0 && c->dirty && (r = commit(c)) != 0)
		r = SIM_ERR_IO;
	if (r != 0) {	/* nothing half done survives a failed command */
		sim_card_reset(c);
		return r == GP_ERR_SPACE ? SIM_ERR_SPACE : r;
	}
	if (tear) {
		power_cut(c);
		return SIM_ERR_TORN;
	}
	*rlen = w.len;
	return 0;
}

int
sim_card_check(const struct sim_card *c, char *why, size_t n)
{
	if (c->load.active && c->torn) {
		snprintf(why, n, "a load survived the power cut");
		return SIM_ERR_INCONSISTENT;
	}
	return sim_registry_check(&c->st, why, n);
}

void
sim_card_stats(const struct sim_card *c, struct sim_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->nelf = c->st.nelf;
	s->napp = c->st.napp;
	s->mem_total = c->st.mem_total;
	s->mem_free = sim_mem_free(&c->st);
	s->lifecycle = c->st.lifecycle;
	s->napdu = c->napdu;
}
