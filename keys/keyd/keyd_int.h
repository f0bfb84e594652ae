/*
 * tsm-keyd internals: the PKCS#11 session, the key table, derivations,
 * ceremony, audit and the request handlers. Nothing here is linked by
 * anything but tsm-keyd (and its tests through the same library).
 */
#ifndef KEYD_INT_H
#define KEYD_INT_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* The standard PKCS#11 names, from the header Debian ships in p11-kit. */
#define CRYPTOKI_COMPAT 1
#include <p11-kit/pkcs11.h>

#include "gp/buf.h"
#include "keys.h"
#include "keys_proto.h"

#define KEYD_OBJ_MAX	KEYS_LIST_MAX
/* CKA_ID of every object: ver, role, method, alg, kcv (3). */
#define KEYD_ID_LEN	7

struct keyd_obj {
	char			 label[KEYS_LABEL_MAX + 1];
	uint8_t			 ver, role, method, alg, len;
	uint8_t			 kcv[3];
	CK_OBJECT_HANDLE	 tok;	/* token object */
	CK_OBJECT_HANDLE	 ses;	/* session copy used for work */
	CK_OBJECT_HANDLE	 pub;	/* key pairs: public key */
};

struct keyd {
	void			*dl;
	CK_FUNCTION_LIST	*f;
	CK_SESSION_HANDLE	 sh;
	int			 initialized;
	struct keyd_obj		 obj[KEYD_OBJ_MAX];
	size_t			 nobj;
	int			 audit_fd;
	/* Audit lines wait here until the batch's answers go out. */
	char			 abuf[16384];
	size_t			 alen;
	time_t			 asec;		/* second of awhen */
	char			 awhen[32];
};

/* p11.c */
int	keyd_p11_open(struct keyd *, const char *module, const char *token,
	    const char *pin);
void	keyd_p11_close(struct keyd *);
int	keyd_rv(CK_RV);
/* Finds label/ver/role (role < 0: any) in the cache or on the token. */
int	keyd_find(struct keyd *, const char *label, uint8_t ver, int role,
	    struct keyd_obj **);
int	keyd_exists(struct keyd *, const char *label, uint8_t ver, int role);
/* The public key object of a key pair into o->pub. */
int	keyd_find_public(struct keyd *, struct keyd_obj *);
/* All objects on the token, for LIST. */
int	keyd_scan(struct keyd *, struct keyd_obj *, size_t cap, size_t *n);
int	keyd_encrypt(struct keyd *, CK_OBJECT_HANDLE, CK_MECHANISM_TYPE,
	    const uint8_t *in, size_t n, uint8_t *out);
int	keyd_cmac(struct keyd *, CK_OBJECT_HANDLE, const uint8_t *, size_t,
	    uint8_t out[16]);
void	keyd_destroy(struct keyd *, CK_OBJECT_HANDLE);

/* keygen.c: ceremony requests (generate, import). */
int	keyd_generate(struct keyd *, const struct keys_req *, uint8_t kcv[3]);
int	keyd_import(struct keyd *, const struct keys_req *, uint8_t kcv[3]);
int	keyd_import_wrapped(struct keyd *, const struct keys_req *,
	    uint8_t kcv[3]);

/* derive.c: card keys, secure channel, PUT KEY. */
int	keyd_open(struct keyd *, const struct keys_req *, struct gp_wr *);
/* SCP03 i bit 10: the card's INITIALIZE UPDATE answer and its opening. */
int	keyd_predict(struct keyd *, const struct keys_req *, struct gp_wr *);
int	keyd_putkey(struct keyd *, const struct keys_req *, struct gp_wr *);
int	keyd_card_kcv(struct keyd *, const struct keys_req *, struct gp_wr *);
int	keyd_dgi(struct keyd *, const struct keys_req *, struct gp_wr *);

/* sign.c: HMAC, DAP and token signatures, key pairs, receipts. */
int	keyd_hmac(struct keyd *, const struct keys_req *, struct gp_wr *);
int	keyd_sign(struct keyd *, const struct keys_req *, struct gp_wr *);
int	keyd_sign_token(struct keyd *, const struct keys_req *,
	    struct gp_wr *);
int	keyd_pubkey(struct keyd *, const struct keys_req *, struct gp_wr *);
int	keyd_generate_pair(struct keyd *, const struct keys_req *,
	    uint8_t fpr[3]);
int	keyd_import_pair(struct keyd *, const struct keys_req *,
	    uint8_t fpr[3]);
int	keyd_receipt(struct keyd *, const struct keys_req *, struct gp_wr *);

/*
 * audit.c: one line per request; never a key value. Lines are buffered
 * in struct keyd and written (one write) by keyd_audit_flush, which the
 * server calls before it sends a batch of answers.
 */
void	keyd_audit(struct keyd *, uid_t uid, pid_t pid,
	    const struct keys_req *, int result);
void	keyd_audit_flush(struct keyd *);

/* dispatch.c: the request table. ans receives status ‖ result. */
int	keyd_dispatch(struct keyd *, uid_t uid, pid_t pid, uid_t allowed,
	    const uint8_t *req, size_t n, struct gp_wr *ans);

#endif
