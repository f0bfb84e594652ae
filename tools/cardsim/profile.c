/*
 * Card profiles: what a new card looks like. Every profile carries the
 * GlobalPlatform test keys 40..4F (ENC = MAC = DEK) so that a stock GP
 * client manages it with its defaults; PUT KEY rotates them.
 */
#include <string.h>

#include "gp/putkey.h"
#include "sim_int.h"

const uint8_t sim_isd_aid[8] = { 0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00,
    0x00 };

/* The ROM package of supplementary security domains and its module. */
static const uint8_t sd_pkg[] = { 0xA0, 0x00, 0x00, 0x01, 0x51, 0x53, 0x50 };
static const uint8_t sd_mod[] = { 0xA0, 0x00, 0x00, 0x01, 0x51, 0x53, 0x50,
    0x41 };

struct sim_profile {
	const char	*name;
	int		 proto;
	uint8_t		 i, s;
	size_t		 klen;
	uint8_t		 kvn;
};

static const struct sim_profile profiles[] = {
	{ "scp03-aes128", 3, 0x70, 8, 16, 0x30 },
	{ "scp03-aes128-s16", 3, 0x70, 16, 16, 0x30 },
	{ "scp03-aes192", 3, 0x70, 8, 24, 0x30 },
	{ "scp03-aes256", 3, 0x70, 8, 32, 0x30 },
	{ "scp03-i00", 3, 0x00, 8, 16, 0x30 },
	{ "scp03-i10", 3, 0x10, 8, 16, 0x30 },
	{ "scp03-i30", 3, 0x30, 8, 16, 0x30 },
	{ "scp02-i15", 2, 0x15, 8, 16, 0x01 },
	{ "scp02-i55", 2, 0x55, 8, 16, 0x01 },
};

const char *
sim_profile_name(size_t i)
{
	return i < sizeof(profiles) / sizeof(profiles[0]) ?
	    profiles[i].name : NULL;
}

static void
profile_keys(struct sim_state *st, const struct sim_profile *p)
{
	struct sim_keyset *ks = &st->ks[0];
	size_t k;

	ks->kvn = p->kvn;
	ks->type = p->proto == 3 ? GP_KEYTYPE_AES : GP_KEYTYPE_DES;
	ks->len = p->klen;
	for (k = 0; k < p->klen; k++)
		ks->enc[k] = ks->mac[k] = ks->dek[k] = (uint8_t)(0x40 + k);
	ks->seq = p->proto == 3 ? 0 : 1;
	st->nks = 1;
}

static void
profile_rom(struct sim_state *st)
{
	struct sim_elf *e = &st->elf[0];

	(void)sim_aid_set(&e->aid, sd_pkg, sizeof(sd_pkg));
	(void)sim_aid_set(&e->sd, sim_isd_aid, sizeof(sim_isd_aid));
	(void)sim_aid_set(&e->mods[0], sd_mod, sizeof(sd_mod));
	e->nmods = 1;
	e->rom = 1;
	e->version[0] = 1;
	st->nelf = 1;
}

/* CPLC: fabricator 4790, type 5040, OS 4791, serial from the KDD. */
static void
profile_cplc(struct sim_state *st)
{
	static const uint8_t head[] = { 0x47, 0x90, 0x50, 0x40, 0x47, 0x91,
	    0x81, 0x02, 0x31, 0x00, 0x83, 0x58 };

	memset(st->cplc, 0, sizeof(st->cplc));
	memcpy(st->cplc, head, sizeof(head));
	memcpy(st->cplc + 12, st->kdd + 6, 4);
}

int
sim_profile_init(struct sim_state *st, const char *name)
{
	static const uint8_t kdd[GP_KDD_LEN] = { 0x00, 0x00, 0x54, 0x53, 0x4D,
	    0x53, 0x49, 0x4D, 0x00, 0x01 };
	static const uint8_t iin[] = { 0x42, 0x00, 0x01 };
	const struct sim_profile *p = NULL;
	size_t k;

	for (k = 0; k < sizeof(profiles) / sizeof(profiles[0]); k++)
		if (strcmp(profiles[k].name, name) == 0)
			p = &profiles[k];
	if (p == NULL)
		return SIM_ERR_PROFILE;
	memset(st, 0, sizeof(*st));
	memcpy(st->profile, p->name, strlen(p->name) + 1);
	st->lifecycle = SIM_LC_SECURED;
	(void)sim_aid_set(&st->isd, sim_isd_aid, sizeof(sim_isd_aid));
	st->proto = p->proto;
	st->i = p->i;
	st->s = p->s;
	memcpy(st->kdd, kdd, sizeof(kdd));
	memcpy(st->iin, iin, sizeof(iin));
	st->iin_len = sizeof(iin);
	memcpy(st->cin, kdd, sizeof(kdd));
	st->cin_len = sizeof(kdd);
	st->mem_total = 64 * 1024;
	st->status_page = 200;
	st->auth_limit = 10;
	profile_keys(st, p);
	profile_rom(st);
	profile_cplc(st);
	return 0;
}

static int
keys_valid(const struct sim_keys *k)
{
	if (k->enc == NULL || k->mac == NULL || k->dek == NULL ||
	    k->kvn > 0x7F)
		return 0;
	if (k->isd != NULL && (k->isd_len < 5 || k->isd_len > 16))
		return 0;
	if (k->proto == 2)
		return k->s == 8 && k->len == 16 && k->seq <= 0xFFFF;
	return k->proto == 3 && (k->s == 8 || k->s == 16) &&
	    (k->len == 16 || k->len == 24 || k->len == 32) &&
	    k->seq <= 0xFFFFFF;
}

/* Replaces a new card's ISD key set, KDD and challenge with k's. */
int
sim_profile_keys(struct sim_state *st, const struct sim_keys *k)
{
	struct sim_keyset *ks = &st->ks[0];

	if (!keys_valid(k))
		return SIM_ERR_INVAL;
	memcpy(st->profile, k->proto == 3 ? "keys-scp03" : "keys-scp02", 11);
	st->proto = k->proto;
	st->i = k->i;
	st->s = k->s;
	gp_wipe(st->ks, sizeof(st->ks));
	ks->kvn = k->kvn;
	ks->type = k->proto == 3 ? GP_KEYTYPE_AES : GP_KEYTYPE_DES;
	ks->len = k->len;
	memcpy(ks->enc, k->enc, k->len);
	memcpy(ks->mac, k->mac, k->len);
	memcpy(ks->dek, k->dek, k->len);
	/* SCP03 counts up before it answers; SCP02 after a session. */
	ks->seq = k->proto == 3 ? (k->seq + 0xFFFFFF) & 0xFFFFFF : k->seq;
	st->nks = 1;
	if (k->kdd != NULL) {
		memcpy(st->kdd, k->kdd, GP_KDD_LEN);
		memcpy(st->cin, k->kdd, GP_KDD_LEN);
		profile_cplc(st);
	}
	if (k->isd != NULL) {	/* the ROM file belongs to the ISD */
		(void)sim_aid_set(&st->isd, k->isd, k->isd_len);
		st->elf[0].sd = st->isd;
	}
	st->challenge_len = 0;
	if (k->challenge != NULL) {
		st->challenge_len = k->proto == 3 ? k->s : 6;
		memcpy(st->challenge, k->challenge, st->challenge_len);
	}
	return 0;
}
