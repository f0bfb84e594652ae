/*
 * The tsm-keyd wire protocol: the fixed request table and its parser,
 * shared by the client and the daemon.
 *
 * Frame: u32 length (big endian, 1..KEYS_MSG_MAX) then the body.
 * Request body: u8 type, then the fields the table lists for that type, in
 * order. Answer body: u8 status (0, or -keys_err) then the type's result.
 * Strings and byte strings are 1-byte-length prefixed (gp_rd_lv); DATA is
 * 2-byte-length prefixed. A request with bytes left over is malformed.
 */
#ifndef KEYS_PROTO_H
#define KEYS_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "gp/buf.h"
#include "keys.h"

#define KEYS_MSG_MAX	8192

enum keys_req_type {
	KEYS_REQ_PING = 1,
	KEYS_REQ_OPEN = 2,
	KEYS_REQ_PUTKEY = 3,
	KEYS_REQ_CARD_KCV = 4,
	KEYS_REQ_GENERATE = 5,
	KEYS_REQ_IMPORT = 6,
	KEYS_REQ_IMPORT_WRAPPED = 7,
	KEYS_REQ_LIST = 8,
	KEYS_REQ_HMAC = 9,
	KEYS_REQ_SIGN = 10,
	KEYS_REQ_PUBKEY = 11,
	KEYS_REQ_SIGN_TOKEN = 12,
	KEYS_REQ_IMPORT_PAIR = 13,
	KEYS_REQ_RECEIPT = 14,
	KEYS_REQ_DGI = 15,
	KEYS_REQ_PREDICT = 16,
	KEYS_REQ_MAX = 16
};

/* Fields, in wire order; the table in proto.c says which a type has. */
enum keys_field {
	KF_LABEL = 1 << 0,	/* lv, 1..32 of [A-Za-z0-9._-] */
	KF_VER = 1 << 1,
	KF_ROLE = 1 << 2,
	KF_METHOD = 1 << 3,
	KF_ALG = 1 << 4,
	KF_KLEN = 1 << 5,
	KF_PROTO = 1 << 6,	/* proto, i, s */
	KF_HC = 1 << 7,		/* lv host challenge (8 or 16) */
	KF_RSP = 1 << 8,	/* lv INITIALIZE UPDATE response (<= 64) */
	KF_KDD = 1 << 9,	/* 10 bytes */
	KF_SEQ = 1 << 10,	/* 2 bytes */
	KF_TARGET = 1 << 11,	/* lv label2, u8 ver2, old kvn, new kvn, id */
	KF_COMPS = 1 << 12,	/* u8 n (2..3), n x (lv value <= 32, kcv 3) */
	KF_WRAP = 1 << 13,	/* lv label2, u8 ver2, lv blob <= 64, kcv 3 */
	KF_DATA = 1 << 14,	/* u16 length (<= KEYS_DATA_MAX), bytes */
	KF_SIGALG = 1 << 15,	/* u8 enum keys_sig */
	KF_MAC = 1 << 16,	/* lv receipt (8..16) */
	KF_AID = 1 << 17,	/* lv SD AID (0, or 5..16) */
	KF_CTR = 1 << 18,	/* 3 bytes: SCP03 sequence counter */
};

struct keys_req {
	uint8_t		 type;
	char		 label[KEYS_LABEL_MAX + 1];
	uint8_t		 ver, role, method, alg, klen;
	uint8_t		 proto, i, s;
	const uint8_t	*hc;
	size_t		 hclen;
	const uint8_t	*rsp;
	size_t		 rsplen;
	uint8_t		 kdd[GP_KDD_LEN];
	uint8_t		 seq[2];
	uint32_t	 ctr;		/* KF_CTR, < 2^24 */
	char		 label2[KEYS_LABEL_MAX + 1];
	uint8_t		 ver2, old_kvn, new_kvn, key_id;
	size_t		 ncomp;
	const uint8_t	*comp[3];
	size_t		 complen[3];
	uint8_t		 kcv[3][3];
	const uint8_t	*blob;
	size_t		 bloblen;
	const uint8_t	*data;
	size_t		 datalen;
	uint8_t		 sigalg;
	const uint8_t	*mac;
	size_t		 maclen;
	const uint8_t	*aid;
	size_t		 aidlen;
};

/* Fields of a type (0 when the type is unknown). */
unsigned keys_req_fields(uint8_t type);
const char *keys_req_name(uint8_t type);
/* Parses a request body; pointers in r point into buf. */
int	keys_req_parse(const uint8_t *buf, size_t n, struct keys_req *r);
/* Encodes r (its type's fields) into w. */
int	keys_req_encode(const struct keys_req *r, struct gp_wr *w);
int	keys_label_valid(const char *);

/*
 * Framing over a stream socket with a timeout (ms, < 0 waits forever).
 * keys_frame_recv fails with KEYS_ERR_TOOLARGE on a length over cap and
 * KEYS_ERR_IO on EOF; buf may then hold part of a frame (wipe it).
 */
int	keys_frame_send(int fd, const uint8_t *body, size_t n, int timeout_ms);
int	keys_frame_recv(int fd, uint8_t *buf, size_t cap, size_t *n,
	    int timeout_ms);

#endif
