/*
 * GlobalPlatform command builders (Card Specification 2.3.1, chapter 11).
 *
 * Every builder appends one whole plaintext C-APDU (short length) to a
 * gp_wr through gp_apdu_encode; the secure channel layer wraps it later.
 * Builders check their inputs against the spec's field limits and fail
 * whole (nothing useful is left in the writer on error: callers reset it).
 *
 * Multi-command operations (LOAD, STORE DATA) are built one command at a
 * time, by index or with an iterator, so that a 64 KB load file never has
 * to exist twice in memory.
 */
#ifndef GP_CMD_H
#define GP_CMD_H

#include <stddef.h>
#include <stdint.h>

#include "gp/buf.h"
#include "gp/crypto.h"

/* ISO/IEC 7816-5: an AID is 5 to 16 bytes (RID 5 + PIX 0..11). */
#define GP_AID_MIN		5
#define GP_AID_MAX		16

#define GP_CLA_GP		0x80
#define GP_CLA_ISO		0x00

#define GP_INS_SELECT		0xA4
#define GP_INS_GET_DATA		0xCA
#define GP_INS_GET_STATUS	0xF2
#define GP_INS_INSTALL		0xE6
#define GP_INS_LOAD		0xE8
#define GP_INS_DELETE		0xE4
#define GP_INS_SET_STATUS	0xF0
#define GP_INS_STORE_DATA	0xE2
#define GP_INS_PUT_KEY		0xD8

/* SELECT P2 (ISO 7816-4 occurrence bits). */
#define GP_SELECT_FIRST		0x00
#define GP_SELECT_NEXT		0x02

/* GET DATA objects (GP 2.3.1 11.3 and H.3). */
#define GP_DATA_CPLC		0x9F7F
#define GP_DATA_CARD_DATA	0x0066
#define GP_DATA_CARD_CAPS	0x0067
#define GP_DATA_KEY_INFO	0x00E0
#define GP_DATA_IIN		0x0042
#define GP_DATA_CIN		0x0045
#define GP_DATA_RESOURCES	0xFF21

/* GET STATUS P1 scope and P2 (GP 2.3.1 table 11-33, 11-34). */
#define GP_STATUS_ISD		0x80
#define GP_STATUS_APPS		0x40	/* applications and SDs */
#define GP_STATUS_ELF		0x20	/* executable load files */
#define GP_STATUS_ELF_MODULES	0x10	/* load files and their modules */
#define GP_STATUS_LEGACY	0x00
#define GP_STATUS_TAGGED	0x02
#define GP_STATUS_NEXT		0x01	/* continue after 6310 */

/* INSTALL P1 (GP 2.3.1 table 11-41). */
#define GP_INSTALL_LOAD		0x02
#define GP_INSTALL_INSTALL	0x04
#define GP_INSTALL_SELECTABLE	0x08
#define GP_INSTALL_AND_SELECT	0x0C
#define GP_INSTALL_EXTRADITION	0x10
#define GP_INSTALL_PERSO	0x20
#define GP_INSTALL_REGISTRY	0x40

/* DELETE P2. */
#define GP_DELETE_OBJECT	0x00
#define GP_DELETE_RELATED	0x80

/* SET STATUS P1 (GP 2.3.1 table 11-77). */
#define GP_SETSTATUS_ISD	0x80
#define GP_SETSTATUS_APP	0x40	/* application or SD */
#define GP_SETSTATUS_SD_APPS	0x60	/* SD and its associated apps */

/* STORE DATA P1 (GP 2.3.1 table 11-86). */
#define GP_STORE_LAST		0x80
#define GP_STORE_ENC_NONE	0x00
#define GP_STORE_ENC_APP	0x20	/* application dependent */
#define GP_STORE_ENC		0x60	/* encrypted data */
#define GP_STORE_DGI		0x08
#define GP_STORE_BERTLV		0x10

/* Longest DGI value this module writes (3-byte length form). */
#define GP_DGI_MAX		0xFFFE

int	gp_cmd_select(const uint8_t *aid, size_t aidlen, uint8_t p2,
	    struct gp_wr *);
int	gp_cmd_get_data(uint16_t tag, struct gp_wr *);
/* crit NULL: search criteria 4F 00 (every entry of the scope). */
int	gp_cmd_get_status(uint8_t scope, uint8_t p2, const uint8_t *crit,
	    size_t critlen, struct gp_wr *);

/*
 * Fields of the INSTALL variants; each variant uses the subset listed in
 * GP 2.3.1 11.5.2.3 and ignores the others. A NULL pointer with length 0
 * is written as an empty LV where the spec allows an empty field.
 */
struct gp_install {
	const uint8_t	*elf_aid;	/* load, install */
	size_t		 elf_len;
	const uint8_t	*mod_aid;	/* install: executable module */
	size_t		 mod_len;
	const uint8_t	*app_aid;	/* install, selectable, perso, ... */
	size_t		 app_len;
	const uint8_t	*sd_aid;	/* load, extradition, registry */
	size_t		 sd_len;
	const uint8_t	*hash;		/* load: load file data block hash */
	size_t		 hash_len;
	const uint8_t	*priv;		/* 0, 1 or 3 privilege bytes */
	size_t		 priv_len;
	const uint8_t	*params;	/* whole parameters field (C9/EF) */
	size_t		 params_len;
	const uint8_t	*token;		/* delegated management token */
	size_t		 token_len;
};

/* The INSTALL data field without its final token LV (the token's input). */
int	gp_install_fields(uint8_t p1, const struct gp_install *,
	    struct gp_wr *);
int	gp_cmd_install(uint8_t p1, const struct gp_install *, struct gp_wr *);

/*
 * LOAD: the load file is [E2 DAP block] ‖ C4 ‖ BER length ‖ lfdb, sent in
 * slices of block bytes (1..255), P2 = slice index, P1 80 on the last.
 */
struct gp_load {
	const uint8_t	*lfdb;		/* Load File Data Block value */
	size_t		 lfdb_len;
	const uint8_t	*dap_sd;	/* NULL: no DAP block */
	size_t		 dap_sd_len;
	const uint8_t	*dap_sig;
	size_t		 dap_sig_len;
	size_t		 block;
};

/*
 * Number of LOAD commands, or a negative gp_err (at most
 * GP_LOAD_BLOCKS_MAX). P2 numbers the blocks from 00 to FF (GP 2.3.1
 * 11.6.2.2); past FF it starts again at 00, as GlobalPlatformPro sends and
 * cards accept, which is what lets a load file pass 256 blocks (about
 * 61 KB with short APDUs under C-MAC).
 */
#define GP_LOAD_BLOCKS_MAX	4096
long	gp_load_count(const struct gp_load *);
int	gp_cmd_load(const struct gp_load *, size_t index, struct gp_wr *);

/* DELETE: crt (B6 content) and token (9E) are optional. */
struct gp_delete {
	const uint8_t	*aid;
	size_t		 aid_len;
	int		 related;	/* P2 80: with related objects */
	const uint8_t	*crt;
	size_t		 crt_len;
	const uint8_t	*token;
	size_t		 token_len;
};

int	gp_cmd_delete(const struct gp_delete *, struct gp_wr *);
int	gp_cmd_set_status(uint8_t scope, uint8_t state, const uint8_t *aid,
	    size_t aidlen, struct gp_wr *);

/* One STORE DATA command: p1 as given, P2 = block, case 3. */
int	gp_cmd_store_data(uint8_t p1, uint8_t block, const uint8_t *data,
	    size_t n, struct gp_wr *);

/*
 * DGI encoding (EMV CPS): tag (2) ‖ length (1, or FF ‖ 2 bytes from 255)
 * ‖ value. The encrypted forms encrypt the value under the DEK, padded
 * with 80 00.. only when it is not a multiple of the block (CPS rule):
 * SCP02 session DEK in 3DES-ECB, SCP03 static DEK in AES-CBC with IV 0.
 */
int	gp_dgi_put(struct gp_wr *, uint16_t tag, const uint8_t *v, size_t n);
int	gp_dgi_put_des3(struct gp_wr *, uint16_t tag, struct gp_des3 *dek,
	    const uint8_t *v, size_t n);
int	gp_dgi_put_aes(struct gp_wr *, uint16_t tag, struct gp_aes *dek,
	    const uint8_t *v, size_t n);

/*
 * Splits a stream of DGIs into STORE DATA commands of at most chunk
 * bytes: whole DGIs are packed together; a DGI longer than chunk is cut
 * across consecutive commands. P2 counts on from first_block; the last
 * command carries P1 b8 only when final is set, so that several streams
 * (clear DGIs, then encrypted ones with GP_STORE_ENC) chain as one series.
 */
struct gp_store_iter {
	const uint8_t	*p;
	size_t		 len;
	size_t		 off;
	size_t		 dgi_left;	/* bytes of a cut DGI still to send */
	size_t		 chunk;
	unsigned	 block;
	uint8_t		 p1;
	int		 final;
};

int	gp_store_iter_init(struct gp_store_iter *, uint8_t p1,
	    const uint8_t *dgis, size_t n, size_t chunk, unsigned first_block,
	    int final);
/* 0 and one command appended; GP_ERR_NOTFOUND when the stream is done. */
int	gp_store_iter_next(struct gp_store_iter *, struct gp_wr *);

#endif
