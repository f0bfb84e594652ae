/*
 * libtsmkeys: the client of tsm-keyd (key custody) and the code-signing
 * checks. tsmd and tsmctl link it; only tsm-keyd loads the PKCS#11 module.
 *
 * A struct keys_client holds one unix-socket connection to tsm-keyd. Every
 * call sends one request of the fixed table (keys_proto.h) and waits for
 * its answer, with a timeout. When keyd goes away mid-request the call
 * fails with KEYS_ERR_IO and the connection is dropped; the next call
 * connects again, so a restarted keyd is picked up without help.
 *
 * Only session keys ever come back from keyd. Callers wipe them
 * (keys_session_wipe) when the session ends.
 */
#ifndef KEYS_H
#define KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "gp/scp.h"

enum keys_err {
	KEYS_OK = 0,
	KEYS_ERR_INVAL = -1,		/* bad argument */
	KEYS_ERR_PROTO = -2,		/* malformed request or answer */
	KEYS_ERR_TOOLARGE = -3,		/* request over the size limit */
	KEYS_ERR_IO = -4,		/* connection failed or dropped */
	KEYS_ERR_TIMEOUT = -5,		/* keyd did not answer in time */
	KEYS_ERR_DENIED = -6,		/* caller's uid refused */
	KEYS_ERR_NOKEY = -7,		/* no such key label/version */
	KEYS_ERR_HSM = -8,		/* the PKCS#11 module failed */
	KEYS_ERR_LOGIN = -9,		/* token login failed (PIN) */
	KEYS_ERR_CARD_CRYPTOGRAM = -10,	/* card cryptogram wrong */
	KEYS_ERR_KCV = -11,		/* a key check value does not match */
	KEYS_ERR_EXISTS = -12,		/* label/version already there */
	KEYS_ERR_NOMEM = -13,
	KEYS_ERR_UNSUPPORTED = -14,	/* valid but not offered */
	KEYS_ERR_CRYPTO = -15,		/* software crypto failed */
	KEYS_ERR_CMS_FORMAT = -16,	/* signature file unreadable */
	KEYS_ERR_SIG_BAD = -17,		/* signature does not match the CAP */
	KEYS_ERR_CERT_UNTRUSTED = -18,	/* no chain to a configured anchor */
	KEYS_ERR_CERT_EXPIRED = -19,
	KEYS_ERR_CERT_NOTYET = -20,	/* not yet valid */
	KEYS_ERR_CERT_REVOKED = -21,
	KEYS_ERR_CERT_USAGE = -22,	/* no codeSigning extended key usage */
	KEYS_ERR_CRL = -23,		/* CRL unreadable, stale or unsigned */
	KEYS_ERR_RECEIPT = -24,		/* a card's receipt does not verify */
	KEYS_ERR_CARD_CHALLENGE = -25,	/* not the pseudo-random challenge */
	KEYS_ERR_MAX = 25
};

const char *keys_strerror(int);

/* Algorithms, roles and diversification methods of keys in the HSM. */
enum keys_alg { KEYS_ALG_DES3 = 1, KEYS_ALG_AES = 2, KEYS_ALG_HMAC = 3,
    KEYS_ALG_RSA = 4, KEYS_ALG_EC = 5 };
enum keys_role {
	KEYS_ROLE_MASTER = 0,	/* one master diversified into ENC/MAC/DEK */
	KEYS_ROLE_ENC = 1,	/* static keys of a key set (method none) */
	KEYS_ROLE_MAC = 2,
	KEYS_ROLE_DEK = 3,
	KEYS_ROLE_TRANSPORT = 4,/* unwraps imported keys */
	KEYS_ROLE_HMAC = 5,	/* audit chain */
	KEYS_ROLE_DAP = 6,	/* DAP / token signing key pair */
	KEYS_ROLE_RECEIPT = 7,	/* verifies card receipts (AES CMAC) */
	KEYS_ROLE_MAX = 7
};
/*
 * Signature schemes (sign, sign-token). AUTO picks from the key and the
 * hash length: RSA 20 bytes SHA-1, 32 bytes SHA-256; EC SHA-256.
 * RSA is PKCS#1 v1.5; ECDSA P-256 signatures are r || s (64 bytes).
 */
enum keys_sig { KEYS_SIG_AUTO = 0, KEYS_SIG_RSA_SHA1 = 1,
    KEYS_SIG_RSA_SHA256 = 2, KEYS_SIG_ECDSA_SHA256 = 3, KEYS_SIG_LAST = 3 };
/*
 * Key pairs (role DAP) are sized by the length byte of generate and list:
 * RSA the modulus in 8-byte units (2048 bits: 32), EC the field in bytes
 * (P-256: 32, the only curve offered).
 */
#define KEYS_RSA_KLEN(bits)	((bits) / 64)
/* Methods are enum gp_div_method (GP_DIV_NONE .. GP_DIV_KDF3). */

#define KEYS_LABEL_MAX		32
#define KEYS_LIST_MAX		128
#define KEYS_DATA_MAX		4096
#define KEYS_SIG_MAX		512
#define KEYS_TIMEOUT_MS		5000

struct keys_client {
	int	 fd;
	char	 path[108];
	int	 timeout_ms;
};

/* Session keys and host cryptogram of an opened secure channel. */
struct keys_session {
	uint8_t	 enc[GP_KEY_MAX];
	uint8_t	 mac[GP_KEY_MAX];
	uint8_t	 rmac[GP_KEY_MAX];
	size_t	 len;
	uint8_t	 host_cryptogram[16];
	size_t	 s;
};

struct keys_info {
	char	 label[KEYS_LABEL_MAX + 1];
	uint8_t	 version;
	uint8_t	 role;
	uint8_t	 method;
	uint8_t	 alg;
	uint8_t	 len;
	uint8_t	 kcv[3];
};

/* Connection. keys_close wipes nothing secret: it holds none. */
void	keys_init(struct keys_client *, const char *sockpath, int timeout_ms);
int	keys_connect(struct keys_client *);
void	keys_close(struct keys_client *);
int	keys_ping(struct keys_client *);

/*
 * Opens a secure channel with the key set label/version: proto 2 or 3,
 * i, s (8 or 16; 8 for SCP02), the host challenge sent and the
 * INITIALIZE UPDATE response data (no SW). On success out holds the
 * session keys and the host cryptogram; KEYS_ERR_CARD_CRYPTOGRAM when
 * the card's cryptogram is wrong (nothing else is returned).
 */
int	keys_open_channel(struct keys_client *, const char *label,
	    uint8_t version, int proto, uint8_t i, uint8_t s,
	    const uint8_t *host_challenge, const uint8_t *rsp, size_t rsplen,
	    struct keys_session *out);
/*
 * The same with the SD AID the card was selected by: for SCP03 with i bit
 * 10 (pseudo-random challenge), keyd then checks that the card challenge
 * is KDF(K-ENC, 02, seq || SD AID) and answers KEYS_ERR_CARD_CHALLENGE
 * (and nothing else) when it is not. aidlen 0: not checked.
 */
int	keys_open_channel_aid(struct keys_client *, const char *label,
	    uint8_t version, int proto, uint8_t i, uint8_t s,
	    const uint8_t *host_challenge, const uint8_t *rsp, size_t rsplen,
	    const uint8_t *sd_aid, size_t aidlen, struct keys_session *out);
/*
 * Pipelined openings: sends n open requests on the connection before
 * reading the n answers (one round trip for the batch). res[k] is the
 * result of request k, out[k] its session (wiped when res[k] != 0).
 * Returns 0 when every answer arrived (whatever each result), else the
 * connection error.
 */
struct keys_open_req {
	const char	*label;
	uint8_t		 version;
	int		 proto;
	uint8_t		 i, s;
	const uint8_t	*host_challenge;
	const uint8_t	*rsp;
	size_t		 rsplen;
	const uint8_t	*sd_aid;
	size_t		 aidlen;
};
#define KEYS_PIPELINE_MAX	32
int	keys_open_channels(struct keys_client *, const struct keys_open_req *,
	    size_t n, struct keys_session *out, int *res);
void	keys_session_wipe(struct keys_session *);
/*
 * Pre-computation for SCP03 cards with a pseudo-random card challenge (i
 * bit 10, GP_SCP03_I_PRAND): knowing the card's KDD, the key set, i, the
 * SD AID and the sequence counter the card will answer with, keyd predicts
 * the card's INITIALIZE UPDATE answer exactly, so a whole authenticated
 * script can be built before the card is reached.
 */
struct keys_predict_req {
	const char	*label;		/* key set label and version, */
	uint8_t		 version;	/* as for open */
	uint8_t		 i, s;		/* SCP03 i (with bit 0x10); s 8 or 16 */
	const uint8_t	*kdd;		/* 10 bytes: key diversification data */
	uint32_t	 seq;		/* the counter the card will answer
					 * with, < 2^24 */
	const uint8_t	*host_challenge;	/* s bytes */
	const uint8_t	*sd_aid;	/* 5..16 bytes: the AID the SD is */
	size_t		 aidlen;	/* selected by */
};
/*
 * rsp receives the predicted INITIALIZE UPDATE response data (no SW):
 * KDD(10) || key version || 03 || i || card challenge(s) || card
 * cryptogram(s) || seq(3), 16 + 2s bytes (cap must hold them). out gets
 * the session keys and host cryptogram exactly as keys_open_channel would
 * return them for that response. KEYS_ERR_INVAL, with nothing sent, for
 * a field out of range; keyd answers KEYS_ERR_INVAL for a key set that
 * is not SCP03 (AES).
 */
int	keys_predict_channel(struct keys_client *,
	    const struct keys_predict_req *, uint8_t *rsp, size_t cap,
	    size_t *rsplen, struct keys_session *out);
/*
 * Turns an opened channel into a libgp host session ready for wrapping and
 * builds its EXTERNAL AUTHENTICATE (apdu). libgp checks the card
 * cryptogram again with the session keys (gp_scp_host_auth_session) and
 * its host cryptogram must equal keyd's. kvn is what INITIALIZE UPDATE
 * asked for (00: the default key set). The keys_session can be wiped
 * right after.
 */
int	keys_session_start(const struct keys_session *, int proto, uint8_t i,
	    uint8_t kvn, const uint8_t *host_challenge, const uint8_t *rsp,
	    size_t rsplen, uint8_t level, struct gp_scp *scp,
	    struct gp_wr *apdu);

/*
 * PUT KEY for new card keys derived from the target key set (label2/
 * version2) for the card's KDD, encrypted under the current key set's DEK
 * (SCP02: the session DEK from seq; SCP03: the static DEK). apdu receives
 * the plain PUT KEY command (wrap it with the session), kcvs 3 x 3 bytes.
 */
struct keys_putkey_req {
	const char	*label;
	uint8_t		 version;
	int		 proto;
	uint8_t		 kdd[GP_KDD_LEN];
	uint8_t		 seq[2];
	const char	*new_label;
	uint8_t		 new_version;
	uint8_t		 old_kvn;
	uint8_t		 new_kvn;
	uint8_t		 key_id;
};
int	keys_put_key(struct keys_client *, const struct keys_putkey_req *,
	    struct gp_wr *apdu, uint8_t kcvs[9]);
/* KCVs of the card keys ENC, MAC, DEK of label/version for a KDD. */
int	keys_card_kcv(struct keys_client *, const char *label, uint8_t version,
	    const uint8_t kdd[GP_KDD_LEN], uint8_t kcvs[9]);

/* Ceremony. */
int	keys_generate(struct keys_client *, const char *label, uint8_t version,
	    int role, int method, int alg, size_t len, uint8_t kcv[3]);
/* Clear components (2 or 3), each checked against its KCV in keyd. */
struct keys_component {
	const uint8_t	*value;
	size_t		 len;
	uint8_t		 kcv[3];
};
int	keys_import_components(struct keys_client *, const char *label,
	    uint8_t version, int role, int method, int alg,
	    const struct keys_component *, size_t n, uint8_t kcv[3]);
/* A key wrapped (AES key wrap, RFC 3394) under a transport key. */
int	keys_import_wrapped(struct keys_client *, const char *label,
	    uint8_t version, int role, int method, int alg, size_t len,
	    const char *tk_label, uint8_t tk_version, const uint8_t *blob,
	    size_t bloblen, const uint8_t kcv[3], uint8_t out_kcv[3]);
int	keys_list(struct keys_client *, struct keys_info *, size_t cap,
	    size_t *n);

/* HMAC-SHA256 under an HMAC key (audit chain). */
int	keys_hmac(struct keys_client *, const char *label, uint8_t version,
	    const uint8_t *data, size_t n, uint8_t out[32]);
/*
 * DAP signature over a load file data block hash (20 bytes: SHA-1, 32:
 * SHA-256) by a key pair of role DAP, scheme KEYS_SIG_AUTO. The signature
 * goes into the E2 block libgp's gp_cmd_load builds (gp_load.dap_sig).
 */
int	keys_sign(struct keys_client *, const char *label, uint8_t version,
	    const uint8_t *hash, size_t hlen, uint8_t *sig, size_t cap,
	    size_t *siglen);
/*
 * Delegated management token over its input data (gp_token_install,
 * gp_token_delete: P1 || P2 || Lc || fields); keyd checks the layout and
 * hashes. scheme is explicit (KEYS_SIG_RSA_SHA1 for GP 2.2 RSA tokens).
 */
int	keys_sign_token(struct keys_client *, const char *label,
	    uint8_t version, int scheme, const uint8_t *data, size_t n,
	    uint8_t *sig, size_t cap, size_t *siglen);
/* Public key of a signing key pair, DER SubjectPublicKeyInfo. */
int	keys_pubkey(struct keys_client *, const char *label, uint8_t version,
	    uint8_t *der, size_t cap, size_t *derlen);
/*
 * Imports a signing key pair (role DAP) from a DER private key (PKCS#8 or
 * the RSA/EC traditional forms): RSA 1024..4096 or EC P-256. The private
 * key is stored sensitive and not extractable. fpr: first 3 bytes of
 * SHA-256 over the public key's SubjectPublicKeyInfo (what list shows).
 */
int	keys_import_pair(struct keys_client *, const char *label,
	    uint8_t version, const uint8_t *der, size_t n, uint8_t fpr[3]);
/*
 * Verifies a card's receipt (8 or 16 bytes) over its receipt data with a
 * receipt key (role RECEIPT, AES: CMAC). 0, or KEYS_ERR_RECEIPT.
 */
int	keys_verify_receipt(struct keys_client *, const char *label,
	    uint8_t version, const uint8_t *data, size_t n,
	    const uint8_t *receipt, size_t rlen);
/*
 * Encrypts sensitive personalisation data: dgis is a stream of clear DGIs
 * (tag 2, length 1 or FF + 2, value); out receives the same DGIs with
 * each value encrypted as libgp's gp_dgi_put_des3 (SCP02: session DEK of
 * seq, 3DES-ECB) or gp_dgi_put_aes (SCP03: static DEK, AES-CBC IV 0) do,
 * under the card's DEK of key set label/version. The DEK stays in keyd.
 */
struct keys_dgi_req {
	const char	*label;
	uint8_t		 version;
	int		 proto;
	uint8_t		 kdd[GP_KDD_LEN];
	uint8_t		 seq[2];
};
int	keys_encrypt_dgis(struct keys_client *, const struct keys_dgi_req *,
	    const uint8_t *dgis, size_t n, struct gp_wr *out);

/* Key check value computed in software (ceremony, on a component). */
int	keys_kcv(int alg, const uint8_t *key, size_t len, uint8_t kcv[3]);

/*
 * Code signing: verifies a detached CMS signature over a CAP file's bytes
 * against the trust anchors in anchor_pem (one or more CA certificates),
 * with a CRL file when given (crl_pem may be NULL). The signer needs the
 * codeSigning extended key usage. Returns 0 or the reason (KEYS_ERR_SIG_BAD,
 * KEYS_ERR_CERT_*). why (optional) receives a one-line explanation.
 */
int	keys_cms_verify(const uint8_t *cap, size_t caplen, const uint8_t *sig,
	    size_t siglen, const char *anchor_pem, const char *crl_pem,
	    char *why, size_t whycap);

#endif
