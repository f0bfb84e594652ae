/*
 * The PKCS#11 session of tsm-keyd: loads the module (the only process
 * that does), logs in, and keeps a table of the keys it has looked up,
 * each copied once into a session object: SoftHSMv2 derives 2-3 times
 * faster from a session object than from a token object.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "keyd_int.h"

int
keyd_rv(CK_RV rv)
{
	switch (rv) {
	case CKR_OK:
		return 0;
	case CKR_PIN_INCORRECT:
	case CKR_PIN_INVALID:
	case CKR_PIN_LEN_RANGE:
	case CKR_PIN_LOCKED:
		return KEYS_ERR_LOGIN;
	case CKR_HOST_MEMORY:
		return KEYS_ERR_NOMEM;
	case CKR_MECHANISM_INVALID:
	case CKR_KEY_TYPE_INCONSISTENT:
	case CKR_KEY_FUNCTION_NOT_PERMITTED:
		return KEYS_ERR_UNSUPPORTED;
	default:
		return KEYS_ERR_HSM;
	}
}

static int
find_slot(struct keyd *k, const char *token, CK_SLOT_ID *slot)
{
	CK_SLOT_ID slots[64];
	CK_ULONG n = 64, i;
	CK_TOKEN_INFO ti;
	size_t tl = strlen(token);
	int r;

	if ((r = keyd_rv(k->f->C_GetSlotList(CK_TRUE, slots, &n))) != 0)
		return r;
	for (i = 0; i < n; i++) {
		if (k->f->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
			continue;
		/* The label is blank padded to 32 bytes. */
		if (tl <= sizeof(ti.label) &&
		    memcmp(ti.label, token, tl) == 0 &&
		    (tl == sizeof(ti.label) || ti.label[tl] == ' ')) {
			*slot = slots[i];
			return 0;
		}
	}
	return KEYS_ERR_NOKEY;
}

int
keyd_p11_open(struct keyd *k, const char *module, const char *token,
    const char *pin)
{
	CK_C_GetFunctionList getfl;
	CK_C_INITIALIZE_ARGS ia;
	CK_SLOT_ID slot = 0;
	int r;

	memset(k, 0, sizeof(*k));
	k->audit_fd = -1;
	if ((k->dl = dlopen(module, RTLD_NOW | RTLD_LOCAL)) == NULL)
		return KEYS_ERR_HSM;
	*(void **)&getfl = dlsym(k->dl, "C_GetFunctionList");
	if (getfl == NULL || getfl(&k->f) != CKR_OK) {
		r = KEYS_ERR_HSM;
		goto fail;
	}
	memset(&ia, 0, sizeof(ia));
	ia.flags = CKF_OS_LOCKING_OK;
	if ((r = keyd_rv(k->f->C_Initialize(&ia))) != 0)
		goto fail;
	k->initialized = 1;
	if ((r = find_slot(k, token, &slot)) != 0)
		goto fail;
	if ((r = keyd_rv(k->f->C_OpenSession(slot,
	    CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &k->sh))) != 0)
		goto fail;
	r = keyd_rv(k->f->C_Login(k->sh, CKU_USER, (CK_UTF8CHAR *)(uintptr_t)pin,
	    strlen(pin)));
	if (r != 0 && r != KEYS_ERR_LOGIN)
		r = KEYS_ERR_LOGIN;
	if (r != 0)
		goto fail;
	return 0;
fail:
	keyd_p11_close(k);
	return r;
}

void
keyd_p11_close(struct keyd *k)
{
	if (k->f != NULL && k->initialized) {
		if (k->sh != 0)
			k->f->C_CloseSession(k->sh);
		k->f->C_Finalize(NULL);
	}
	/* The module stays mapped: SoftHSMv2 keeps atexit handlers. */
	k->dl = NULL;
	k->f = NULL;
	k->initialized = 0;
	k->sh = 0;
	k->nobj = 0;
}

static int
get_id(struct keyd *k, CK_OBJECT_HANDLE h, struct keyd_obj *o)
{
	uint8_t id[KEYD_ID_LEN];
	char label[KEYS_LABEL_MAX + 1];
	CK_ULONG vlen = 0;
	CK_ATTRIBUTE a[] = {
		{ CKA_ID, id, sizeof(id) },
		{ CKA_LABEL, label, KEYS_LABEL_MAX },
	};
	CK_ATTRIBUTE vl = { CKA_VALUE_LEN, &vlen, sizeof(vlen) };

	memset(label, 0, sizeof(label));
	if (k->f->C_GetAttributeValue(k->sh, h, a, 2) != CKR_OK ||
	    a[0].ulValueLen != KEYD_ID_LEN || a[1].ulValueLen > KEYS_LABEL_MAX)
		return KEYS_ERR_NOKEY;
	memset(o, 0, sizeof(*o));
	memcpy(o->label, label, a[1].ulValueLen);
	o->ver = id[0];
	o->role = id[1];
	o->method = id[2];
	o->alg = id[3];
	memcpy(o->kcv, id + 4, 3);
	o->tok = h;
	if (o->alg == KEYS_ALG_DES3)
		o->len = 16;
	else if (o->alg == KEYS_ALG_EC)
		o->len = 32;
	else if (o->alg == KEYS_ALG_RSA) {
		CK_ATTRIBUTE m = { CKA_MODULUS, NULL, 0 };

		if (k->f->C_GetAttributeValue(k->sh, h, &m, 1) == CKR_OK &&
		    m.ulValueLen / 8 <= 255)
			o->len = (uint8_t)(m.ulValueLen / 8);
	} else if (k->f->C_GetAttributeValue(k->sh, h, &vl, 1) == CKR_OK &&
	    vlen <= 255)
		o->len = (uint8_t)vlen;
	return 0;
}

/* Token objects with a label (NULL: all) of a class. */
static int
find_tok(struct keyd *k, const char *label, CK_OBJECT_CLASS cls,
    CK_OBJECT_HANDLE *out, CK_ULONG cap, CK_ULONG *n)
{
	CK_BBOOL t = CK_TRUE;
	CK_ATTRIBUTE a[3] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_TOKEN, &t, sizeof(t) },
		{ CKA_LABEL, (void *)(uintptr_t)label,
		    label != NULL ? strlen(label) : 0 },
	};
	int r;

	*n = 0;
	if ((r = keyd_rv(k->f->C_FindObjectsInit(k->sh, a,
	    label != NULL ? 3 : 2))) != 0)
		return r;
	r = keyd_rv(k->f->C_FindObjects(k->sh, out, cap, n));
	k->f->C_FindObjectsFinal(k->sh);
	return r;
}

static int
load(struct keyd *k, const char *label, uint8_t ver, int role,
    struct keyd_obj **out)
{
	static const CK_OBJECT_CLASS cls[2] = { CKO_SECRET_KEY,
	    CKO_PRIVATE_KEY };
	CK_OBJECT_HANDLE h[KEYD_OBJ_MAX];
	CK_BBOOL f = CK_FALSE;
	CK_ATTRIBUTE cp = { CKA_TOKEN, &f, sizeof(f) };
	struct keyd_obj o, *slot;
	CK_ULONG n, i, c;
	int r;

	for (c = 0; c < 2; c++) {
		if ((r = find_tok(k, label, cls[c], h, KEYD_OBJ_MAX, &n)) != 0)
			return r;
		for (i = 0; i < n; i++) {
			if (get_id(k, h[i], &o) != 0 || o.ver != ver ||
			    (role >= 0 && o.role != role))
				continue;
			if (k->nobj == KEYD_OBJ_MAX)
				return KEYS_ERR_NOMEM;
			if ((r = keyd_rv(k->f->C_CopyObject(k->sh, h[i], &cp, 1,
			    &o.ses))) != 0)
				return r;
			slot = &k->obj[k->nobj++];
			*slot = o;
			*out = slot;
			return 0;
		}
	}
	return KEYS_ERR_NOKEY;
}

int
keyd_find(struct keyd *k, const char *label, uint8_t ver, int role,
    struct keyd_obj **out)
{
	size_t i;

	for (i = 0; i < k->nobj; i++) {
		struct keyd_obj *o = &k->obj[i];

		if (o->ver == ver && (role < 0 || o->role == role) &&
		    strcmp(o->label, label) == 0) {
			*out = o;
			return 0;
		}
	}
	return load(k, label, ver, role, out);
}

int
keyd_find_public(struct keyd *k, struct keyd_obj *o)
{
	CK_OBJECT_HANDLE h[KEYD_OBJ_MAX];
	struct keyd_obj p;
	CK_ULONG n, i;
	int r;

	if ((r = find_tok(k, o->label, CKO_PUBLIC_KEY, h, KEYD_OBJ_MAX,
	    &n)) != 0)
		return r;
	for (i = 0; i < n; i++)
		if (get_id(k, h[i], &p) == 0 && p.ver == o->ver &&
		    p.role == o->role) {
			o->pub = h[i];
			return 0;
		}
	return KEYS_ERR_NOKEY;
}

int
keyd_exists(struct keyd *k, const char *label, uint8_t ver, int role)
{
	struct keyd_obj *o;

	return keyd_find(k, label, ver, role, &o) == 0;
}

int
keyd_scan(struct keyd *k, struct keyd_obj *out, size_t cap, size_t *n)
{
	static const CK_OBJECT_CLASS cls[2] = { CKO_SECRET_KEY,
	    CKO_PRIVATE_KEY };
	CK_OBJECT_HANDLE h[KEYD_OBJ_MAX];
	CK_ULONG got, i, c;
	int r;

	*n = 0;
	for (c = 0; c < 2; c++) {
		if ((r = find_tok(k, NULL, cls[c], h, KEYD_OBJ_MAX, &got)) != 0)
			return r;
		for (i = 0; i < got && *n < cap; i++)
			if (get_id(k, h[i], &out[*n]) == 0)
				(*n)++;
	}
	return 0;
}

int
keyd_encrypt(struct keyd *k, CK_OBJECT_HANDLE h, CK_MECHANISM_TYPE mt,
    const uint8_t *in, size_t n, uint8_t *out)
{
	uint8_t iv[16] = { 0 };
	CK_MECHANISM m = { mt, NULL, 0 };
	CK_ULONG outlen = n;
	int r;

	if (mt == CKM_DES3_CBC) {
		m.pParameter = iv;
		m.ulParameterLen = 8;
	} else if (mt == CKM_AES_CBC) {
		m.pParameter = iv;
		m.ulParameterLen = 16;
	}
	if ((r = keyd_rv(k->f->C_EncryptInit(k->sh, &m, h))) != 0)
		return r;
	if ((r = keyd_rv(k->f->C_Encrypt(k->sh, (CK_BYTE *)(uintptr_t)in, n,
	    out, &outlen))) != 0)
		return r;
	return outlen == n ? 0 : KEYS_ERR_HSM;
}

int
keyd_cmac(struct keyd *k, CK_OBJECT_HANDLE h, const uint8_t *in, size_t n,
    uint8_t out[16])
{
	CK_MECHANISM m = { CKM_AES_CMAC, NULL, 0 };
	CK_ULONG outlen = 16;
	int r;

	if ((r = keyd_rv(k->f->C_SignInit(k->sh, &m, h))) != 0)
		return r;
	if ((r = keyd_rv(k->f->C_Sign(k->sh, (CK_BYTE *)(uintptr_t)in, n, out,
	    &outlen))) != 0)
		return r;
	return outlen == 16 ? 0 : KEYS_ERR_HSM;
}

void
keyd_destroy(struct keyd *k, CK_OBJECT_HANDLE h)
{
	if (h != CK_INVALID_HANDLE)
		k->f->C_DestroyObject(k->sh, h);
}
