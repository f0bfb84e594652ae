/*
 * libcardsim internals: the persistent state (what the image and the JSON
 * state file hold) and the volatile state of a powered card. Handlers
 * return a status word and write response data into a gp_wr.
 */
#ifndef SIM_INT_H
#define SIM_INT_H

#include <stddef.h>
#include <stdint.h>

#include "gp/apdu.h"
#include "gp/buf.h"
#include "gp/err.h"
#include "gp/scp.h"
#include "cardsim.h"

#define SIM_KS_MAX	8
#define SIM_ELF_MAX	32
#define SIM_APP_MAX	48
#define SIM_MOD_MAX	16
#define SIM_IMP_MAX	16
#define SIM_DATA_MAX	1024	/* personalisation data per instance */
#define SIM_LOAD_MAX	(256 * 1024)
#define SIM_APP_BASE	128	/* NVM an instance costs before its data */

/* Card life cycle (GP 2.3.1 table 11-5). */
#define SIM_LC_OP_READY		0x01
#define SIM_LC_INITIALIZED	0x07
#define SIM_LC_SECURED		0x0F
#define SIM_LC_LOCKED		0x7F
#define SIM_LC_TERMINATED	0xFF
/* Application / SD life cycle. */
#define SIM_APP_INSTALLED	0x03
#define SIM_APP_SELECTABLE	0x07
#define SIM_APP_PERSO		0x0F
#define SIM_APP_LOCKED		0x80
#define SIM_ELF_LOADED		0x01

#define SIM_PRIV_SD		0x80	/* privilege byte 1 b8 */

/* Status words. */
#define SW_OK		0x9000
#define SW_MORE		0x6310
#define SW_AUTH_FAIL	0x6300
#define SW_WRONG_LEN	0x6700
#define SW_NO_CHANNEL	0x6881
#define SW_NO_CHAIN	0x6884
#define SW_SEC_STATUS	0x6982
#define SW_AUTH_BLOCKED	0x6983
#define SW_CONDITIONS	0x6985
#define SW_SELECT_FAIL	0x6999
#define SW_WRONG_DATA	0x6A80
#define SW_NOT_FOUND	0x6A82
#define SW_NO_MEMORY	0x6A84
#define SW_WRONG_P1P2	0x6A86
#define SW_REF_NOT_FOUND 0x6A88
#define SW_INS		0x6D00
#define SW_CLA		0x6E00

struct sim_aid {
	uint8_t		len;
	uint8_t		b[16];
};

struct sim_keyset {
	uint8_t		kvn;
	uint8_t		type;		/* GP_KEYTYPE_DES or _AES */
	size_t		len;
	uint8_t		enc[32], mac[32], dek[32];
	uint32_t	seq;		/* sequence counter */
	unsigned	fails;		/* failed EXTERNAL AUTHENTICATEs */
};

struct sim_elf {
	struct sim_aid	aid;
	struct sim_aid	sd;
	int		rom;
	size_t		size;
	uint8_t		version[2];
	struct sim_aid	mods[SIM_MOD_MAX];
	size_t		nmods;
	struct sim_aid	imports[SIM_IMP_MAX];
	size_t		nimports;
};

struct sim_app {
	struct sim_aid	aid, elf, mod, sd;
	uint8_t		lifecycle;
	uint8_t		priv[3];
	size_t		size;		/* NVM charged, data included */
	uint8_t		fmt;		/* STORE DATA structure (P1 b5b4) */
	size_t		data_len;
	uint8_t		data[SIM_DATA_MAX];
};

/* Everything the card keeps across power cuts. */
struct sim_state {
	char		profile[32];
	uint8_t		lifecycle;
	struct sim_aid	isd;
	int		proto;
	uint8_t		i, s;
	uint8_t		kdd[GP_KDD_LEN];
	uint8_t		challenge[16];	/* fixed card challenge, if any */
	size_t		challenge_len;
	uint8_t		cplc[42];
	uint8_t		iin[16], cin[16];
	size_t		iin_len, cin_len;
	size_t		mem_total;
	size_t		status_page;
	unsigned	auth_limit;
	struct sim_keyset ks[SIM_KS_MAX];
	size_t		nks;
	struct sim_elf	elf[SIM_ELF_MAX];
	size_t		nelf;
	struct sim_app	app[SIM_APP_MAX];
	size_t		napp;
};

struct sim_load {
	int		active;
	struct sim_aid	aid, sd;
	uint8_t		hash[32];
	size_t		hash_len;
	size_t		quota;
	unsigned	next;
	struct gp_wr	buf;
};

struct sim_card {
	struct sim_state st;
	uint8_t		*image;		/* last committed state: card.c */
	size_t		 image_len;
	size_t		 nelf_img, napp_img;	/* its counts */
	char		*path;
	int		 dirty;
	/* volatile */
	struct gp_scp	 scp;
	int		 ks_idx;
	int		 isd_sel;
	struct sim_aid	 sel;		/* selected application */
	struct sim_load	 load;
	int		 perso;		/* INSTALL [for perso] target set */
	struct sim_aid	 perso_aid;
	unsigned	 store_next;
	size_t		 store_len;
	uint8_t		 store_buf[SIM_DATA_MAX];
	int		 status_more;
	uint8_t		 status_p1, status_p2;
	size_t		 status_next;
	struct sim_aid	 status_crit;
	sim_tap_fn	 tap;
	void		*tap_arg;
	/* tearing */
	unsigned	 tear_in;
	int		 tear_mode;
	int		 torn;
	unsigned long	 napdu;
};

/* state.c: JSON image */
int	sim_state_to_json(const struct sim_state *, char **out);
int	sim_state_from_json(const char *, size_t, struct sim_state *);
int	sim_state_write_file(const char *path, const char *json);
int	sim_state_read_file(const char *path, char **out, size_t *len);

/* profile.c */
int	sim_profile_init(struct sim_state *, const char *name);
int	sim_profile_keys(struct sim_state *, const struct sim_keys *);

/* lifecycle.c */
int	sim_lc_card_allowed(uint8_t from, uint8_t to);
int	sim_lc_ins_allowed(uint8_t card_lc, uint8_t ins);
uint16_t sim_app_set_status(struct sim_app *, uint8_t p2);

/* registry.c */
int	sim_aid_set(struct sim_aid *, const uint8_t *, size_t);
int	sim_aid_eq(const struct sim_aid *, const uint8_t *, size_t);
int	sim_aid_same(const struct sim_aid *, const struct sim_aid *);
struct sim_elf *sim_elf_find(struct sim_state *, const uint8_t *, size_t);
struct sim_app *sim_app_find(struct sim_state *, const uint8_t *, size_t);
int	sim_aid_in_use(struct sim_state *, const uint8_t *, size_t);
size_t	sim_mem_used(const struct sim_state *);
size_t	sim_mem_free(const struct sim_state *);
void	sim_app_remove(struct sim_state *, struct sim_app *);
void	sim_elf_remove(struct sim_state *, struct sim_elf *);
size_t	sim_elf_instances(const struct sim_state *, const struct sim_elf *);
int	sim_elf_imported(const struct sim_state *, const struct sim_elf *);
int	sim_registry_check(const struct sim_state *, char *, size_t);

/* keys.c */
struct sim_keyset *sim_ks_find(struct sim_state *, uint8_t kvn);
int	sim_ks_to_gp(const struct sim_keyset *, struct gp_keyset *);
uint16_t sim_put_key(struct sim_card *, const struct gp_apdu *,
	    struct gp_wr *);
int	sim_key_info(const struct sim_state *, struct gp_wr *);
int	sim_dek_decrypt(struct sim_card *, const uint8_t *, size_t,
	    uint8_t *out);

/* dispatch.c */
void	sim_session_close(struct sim_card *);
int	sim_dispatch(struct sim_card *, const uint8_t *, size_t,
	    struct gp_wr *);

/* command handlers */
uint16_t sim_cmd_install(struct sim_card *, const struct gp_apdu *,
	    struct gp_wr *);
uint16_t sim_cmd_load(struct sim_card *, const struct gp_apdu *,
	    struct gp_wr *);
void	sim_load_abort(struct sim_card *);
uint16_t sim_install_for_load(struct sim_card *, uint8_t p2,
	    struct gp_rd *);
uint16_t sim_cmd_store_data(struct sim_card *, const struct gp_apdu *,
	    struct gp_wr *);
uint16_t sim_cmd_delete(struct sim_card *, const struct gp_apdu *,
	    struct gp_wr *);
uint16_t sim_cmd_set_status(struct sim_card *, const struct gp_apdu *,
	    struct gp_wr *);
uint16_t sim_cmd_get_status(struct sim_card *, const struct gp_apdu *,
	    struct gp_wr *);
uint16_t sim_cmd_get_data(struct sim_card *, const struct gp_apdu *,
	    struct gp_wr *);
uint16_t sim_app_get_data(struct sim_card *, const struct sim_app *,
	    const struct gp_apdu *, struct gp_wr *);
int	sim_card_recognition(const struct sim_state *, struct gp_wr *);

#endif
