/*
 * Field-level encryption of cardholder data, envelope style: fields are
 * sealed with AES-256-GCM under a data key (DEK); the DEK is stored only
 * wrapped by a key-encryption key (KEK) that never enters the database.
 * The embedded KEK is a local key file (created 0600 on first use); keyd
 * replaces it through struct tsm_kek. Stored: the KEK's id, never a key.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "gp/buf.h"
#include "store/store_int.h"

static const char sql_dek_current[] =
    "SELECT id, wrapped FROM data_keys WHERE kek_id = ? ORDER BY id DESC"
    " LIMIT 1";
static const char sql_dek_by_id[] =
    "SELECT id, wrapped FROM data_keys WHERE id = ? AND kek_id = ?";
static const char sql_dek_add[] =
    "INSERT INTO data_keys (kek_id, wrapped, created) VALUES (?, ?, ?)";

/* out = nonce(12) | ciphertext(n) | tag(16) */
static int
seal(const uint8_t key[32], const char *aad, const uint8_t *in, size_t n,
    uint8_t *out)
{
	EVP_CIPHER_CTX *c;
	int l = 0, ok;

	if ((c = EVP_CIPHER_CTX_new()) == NULL)
		return TSM_STORE_ERR_NOMEM;
	ok = RAND_bytes(out, 12) == 1 &&
	    EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, out) == 1 &&
	    EVP_EncryptUpdate(c, NULL, &l, (const uint8_t *)aad,
	    (int)strlen(aad)) == 1 &&
	    (n == 0 || EVP_EncryptUpdate(c, out + 12, &l, in, (int)n) == 1) &&
	    EVP_EncryptFinal_ex(c, out + 12 + n, &l) == 1 &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16,
	    out + 12 + n) == 1;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : TSM_STORE_ERR_CRYPTO;
}

/* in = nonce | ciphertext | tag, n = ciphertext length; out: n bytes */
static int
unseal(const uint8_t key[32], const char *aad, const uint8_t *in, size_t n,
    uint8_t *out)
{
	EVP_CIPHER_CTX *c;
	uint8_t tag[16];
	int l = 0, ok;

	if ((c = EVP_CIPHER_CTX_new()) == NULL)
		return TSM_STORE_ERR_NOMEM;
	memcpy(tag, in + 12 + n, 16);
	ok = EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, in) == 1 &&
	    EVP_DecryptUpdate(c, NULL, &l, (const uint8_t *)aad,
	    (int)strlen(aad)) == 1 &&
	    (n == 0 || EVP_DecryptUpdate(c, out, &l, in + 12, (int)n) == 1) &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1 &&
	    EVP_DecryptFinal_ex(c, out + n, &l) == 1;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : TSM_STORE_ERR_CRYPTO;
}

static int
file_wrap(void *ctx, const uint8_t *in, size_t n, uint8_t *out,
    size_t *outlen)
{
	struct tsm_store *s = ctx;
	int r;

	if ((r = seal(s->kek_key, "tsm-dek", in, n, out)) != 0)
		return r;
	*outlen = n + 28;
	return 0;
}

static int
file_unwrap(void *ctx, const uint8_t *in, size_t n, uint8_t *out,
    size_t *outlen)
{
	struct tsm_store *s = ctx;
	int r;

	if (n < 28)
		return TSM_STORE_ERR_CRYPTO;
	if ((r = unseal(s->kek_key, "tsm-dek", in, n - 28, out)) != 0)
		return r;
	*outlen = n - 28;
	return 0;
}

/* Reads the key file, or creates it (0600, 32 random bytes in hex). */
static int
kek_file_load(struct tsm_store *s)
{
	char hex[66];
	size_t n = 0;
	ssize_t got;
	int fd, r;

	if (s->kek_path[0] == '\0')
		return TSM_STORE_ERR_CRYPTO;
	if ((fd = open(s->kek_path, O_RDONLY | O_CLOEXEC)) == -1) {
		if ((fd = open(s->kek_path, O_WRONLY | O_CREAT | O_EXCL |
		    O_CLOEXEC, 0600)) == -1)
			return TSM_STORE_ERR_IO;
		r = RAND_bytes(s->kek_key, 32) == 1 ? 0 : TSM_STORE_ERR_CRYPTO;
		gp_hex_encode(s->kek_key, 32, hex);
		hex[64] = '\n';
		if (r == 0 && write(fd, hex, 65) != 65)
			r = TSM_STORE_ERR_IO;
		close(fd);
		gp_wipe(hex, sizeof(hex));
		return r;
	}
	got = read(fd, hex, 64);
	close(fd);
	hex[got > 0 ? got : 0] = '\0';
	r = got == 64 && gp_hex_decode(hex, s->kek_key, 32, &n) == 0 &&
	    n == 32 ? 0 : TSM_STORE_ERR_CRYPTO;
	gp_wipe(hex, sizeof(hex));
	return r;
}

static int
kek_ready(struct tsm_store *s)
{
	uint8_t d[32];
	unsigned int dl = 0;
	char hex[65];
	int r;

	if (s->kek_set)
		return 0;
	if ((r = kek_file_load(s)) != 0) {
		snprintf(s->err, sizeof(s->err), "key file %.200s unusable",
		    s->kek_path);
		return r;
	}
	/* The id is a digest of the key (like a KCV): names it, hides it. */
	if (EVP_Digest(s->kek_key, 32, d, &dl, EVP_sha256(), NULL) != 1)
		return TSM_STORE_ERR_CRYPTO;
	gp_hex_encode(d, 8, hex);
	hex[16] = '\0';
	snprintf(s->kek.id, sizeof(s->kek.id), "file:%.16s", hex);
	s->kek.wrap = file_wrap;
	s->kek.unwrap = file_unwrap;
	s->kek.ctx = s;
	s->kek_set = 1;
	return 0;
}

void
tsm_store_set_kek(struct tsm_store *s, const struct tsm_kek *k)
{
	s->kek = *k;
	s->kek_set = 1;
	s->dek_id = 0;
	gp_wipe(s->dek, sizeof(s->dek));
}

struct dek_row {
	int64_t	id;
	uint8_t	wrapped[128];
	size_t	len;
};

static int
dek_row_fn(void *arg, const struct tsm_val *c, size_t n)
{
	struct dek_row *d = arg;

	if (n < 2 || c[0].t != TSM_V_INT || c[1].n > sizeof(d->wrapped))
		return TSM_STORE_ERR_CRYPTO;
	d->id = c[0].i;
	memcpy(d->wrapped, c[1].p, c[1].n);
	d->len = c[1].n;
	return 0;
}

static int
dek_create(struct tsm_store *s, struct dek_row *d)
{
	uint8_t key[32];
	struct tsm_val v[3];
	int r;

	if (RAND_bytes(key, 32) != 1)
		return TSM_STORE_ERR_CRYPTO;
	if ((r = s->kek.wrap(s->kek.ctx, key, 32, d->wrapped, &d->len)) != 0)
		goto out;
	v[0] = tsm_v_text(s->kek.id);
	v[1] = tsm_v_blob(d->wrapped, d->len);
	v[2] = tsm_v_int(tsm_now_ms());
	r = s->be->exec(s->db, sql_dek_add, v, 3, NULL, &d->id);
 out:
	gp_wipe(key, sizeof(key));
	return r;
}

int
tsm_crypt_dek(struct tsm_store *s, int64_t id)
{
	struct dek_row d;
	struct tsm_val v[2];
	size_t n = 0;
	int r;

	if ((r = kek_ready(s)) != 0)
		return r;
	if (s->dek_id != 0 && (id == 0 || id == s->dek_id))
		return 0;
	memset(&d, 0, sizeof(d));
	v[0] = id != 0 ? tsm_v_int(id) : tsm_v_text(s->kek.id);
	v[1] = tsm_v_text(s->kek.id);
	if ((r = s->be->query(s->db, id != 0 ? sql_dek_by_id :
	    sql_dek_current, v, id != 0 ? 2 : 1, dek_row_fn, &d)) != 0)
		return r;
	if (d.id == 0 && id != 0) {
		snprintf(s->err, sizeof(s->err), "data key %lld is not wrapped "
		    "by KEK %s", (long long)id, s->kek.id);
		return TSM_STORE_ERR_CRYPTO;
	}
	if (d.id == 0 && (r = dek_create(s, &d)) != 0)
		return r;
	if ((r = s->kek.unwrap(s->kek.ctx, d.wrapped, d.len, s->dek,
	    &n)) != 0 || n != 32) {
		gp_wipe(s->dek, sizeof(s->dek));
		return r != 0 ? r : TSM_STORE_ERR_CRYPTO;
	}
	s->dek_id = d.id;
	return 0;
}

int
tsm_crypt_field(struct tsm_store *s, const char *aad, const char *plain,
    uint8_t *out, size_t cap, size_t *outlen)
{
	size_t n = strlen(plain);
	int r;

	if (cap < n + TSM_FIELD_OVERHEAD)
		return TSM_STORE_ERR_TOOLARGE;
	out[0] = 1;	/* format version */
	if ((r = seal(s->dek, aad, (const uint8_t *)plain, n, out + 1)) != 0)
		return r;
	*outlen = n + TSM_FIELD_OVERHEAD;
	return 0;
}

int
tsm_decrypt_field(struct tsm_store *s, const char *aad, const uint8_t *in,
    size_t n, char *out, size_t cap)
{
	size_t pn;
	int r;

	if (n < TSM_FIELD_OVERHEAD || in[0] != 1)
		return TSM_STORE_ERR_CRYPTO;
	pn = n - TSM_FIELD_OVERHEAD;
	if (pn + 1 > cap)
		return TSM_STORE_ERR_TOOLARGE;
	if ((r = unseal(s->dek, aad, in + 1, pn, (uint8_t *)out)) != 0)
		return r;
	out[pn] = '\0';
	return 0;
}
