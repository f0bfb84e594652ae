/*
 * The persistent image: struct sim_state to and from JSON (cJSON), and
 * its file, replaced atomically (write a temporary file, fsync, rename)
 * so that a power cut during a commit leaves the old image or the new
 * one, never half of one. The file is outside input: every field is
 * checked for type and length before it is used.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cJSON.h>

#include "sim_int.h"

#define STATE_FORMAT	1
#define STATE_FILE_MAX	(4 * 1024 * 1024)

/* ---- writing ---------------------------------------------------------- */

static int
put_hex(cJSON *o, const char *name, const uint8_t *p, size_t n)
{
	char buf[2 * SIM_DATA_MAX + 1];
	int ok;

	if (n > SIM_DATA_MAX)
		return SIM_ERR_INVAL;
	gp_hex_encode(p, n, buf);
	ok = cJSON_AddStringToObject(o, name, buf) != NULL;
	gp_wipe(buf, 2 * n);
	return ok ? 0 : SIM_ERR_NOMEM;
}

static int
put_num(cJSON *o, const char *name, double v)
{
	return cJSON_AddNumberToObject(o, name, v) != NULL ? 0 : SIM_ERR_NOMEM;
}

static int
put_keyset(cJSON *arr, const struct sim_keyset *ks)
{
	cJSON *o;

	if ((o = cJSON_CreateObject()) == NULL)
		return SIM_ERR_NOMEM;
	cJSON_AddItemToArray(arr, o);
	if (put_num(o, "kvn", ks->kvn) || put_num(o, "type", ks->type) ||
	    put_hex(o, "enc", ks->enc, ks->len) ||
	    put_hex(o, "mac", ks->mac, ks->len) ||
	    put_hex(o, "dek", ks->dek, ks->len) ||
	    put_num(o, "seq", ks->seq) || put_num(o, "fails", ks->fails))
		return SIM_ERR_NOMEM;
	return 0;
}

static int
put_aids(cJSON *o, const char *name, const struct sim_aid *a, size_t n)
{
	char buf[33];
	cJSON *arr, *s;
	size_t k;

	if ((arr = cJSON_AddArrayToObject(o, name)) == NULL)
		return SIM_ERR_NOMEM;
	for (k = 0; k < n; k++) {
		gp_hex_encode(a[k].b, a[k].len, buf);
		if ((s = cJSON_CreateString(buf)) == NULL)
			return SIM_ERR_NOMEM;
		cJSON_AddItemToArray(arr, s);
	}
	return 0;
}

static int
put_elf(cJSON *arr, const struct sim_elf *e)
{
	cJSON *o;

	if ((o = cJSON_CreateObject()) == NULL)
		return SIM_ERR_NOMEM;
	cJSON_AddItemToArray(arr, o);
	if (put_hex(o, "aid", e->aid.b, e->aid.len) ||
	    put_hex(o, "sd", e->sd.b, e->sd.len) ||
	    put_num(o, "rom", e->rom) || put_num(o, "size", (double)e->size) ||
	    put_hex(o, "version", e->version, 2) ||
	    put_aids(o, "modules", e->mods, e->nmods) ||
	    put_aids(o, "imports", e->imports, e->nimports))
		return SIM_ERR_NOMEM;
	return 0;
}

static int
put_app(cJSON *arr, const struct sim_app *a)
{
	cJSON *o;

	if ((o = cJSON_CreateObject()) == NULL)
		return SIM_ERR_NOMEM;
	cJSON_AddItemToArray(arr, o);
	if (put_hex(o, "aid", a->aid.b, a->aid.len) ||
	    put_hex(o, "elf", a->elf.b, a->elf.len) ||
	    put_hex(o, "module", a->mod.b, a->mod.len) ||
	    put_hex(o, "sd", a->sd.b, a->sd.len) ||
	    put_num(o, "lifecycle", a->lifecycle) ||
	    put_hex(o, "privileges", a->priv, 3) ||
	    put_num(o, "size", (double)a->size) || put_num(o, "fmt", a->fmt) ||
	    put_hex(o, "data", a->data, a->data_len))
		return SIM_ERR_NOMEM;
	return 0;
}

static int
put_card(cJSON *o, const struct sim_state *st)
{
	if (put_num(o, "format", STATE_FORMAT) ||
	    cJSON_AddStringToObject(o, "profile", st->profile) == NULL ||
	    put_num(o, "lifecycle", st->lifecycle) ||
	    put_hex(o, "isd", st->isd.b, st->isd.len) ||
	    put_num(o, "proto", st->proto) || put_num(o, "i", st->i) ||
	    put_num(o, "s", st->s) || put_hex(o, "kdd", st->kdd, GP_KDD_LEN) ||
	    put_hex(o, "cplc", st->cplc, sizeof(st->cplc)) ||
	    put_hex(o, "iin", st->iin, st->iin_len) ||
	    put_hex(o, "cin", st->cin, st->cin_len) ||
	    put_num(o, "mem_total", (double)st->mem_total) ||
	    put_num(o, "status_page", (double)st->status_page) ||
	    put_num(o, "auth_limit", st->auth_limit))
		return SIM_ERR_NOMEM;
	if (st->challenge_len != 0 &&
	    put_hex(o, "challenge", st->challenge, st->challenge_len))
		return SIM_ERR_NOMEM;
	return 0;
}

int
sim_state_to_json(const struct sim_state *st, char **out)
{
	cJSON *o, *ks, *elfs, *apps;
	size_t k;
	int r = SIM_ERR_NOMEM;

	*out = NULL;
	if ((o = cJSON_CreateObject()) == NULL)
		return SIM_ERR_NOMEM;
	if (put_card(o, st) != 0 ||
	    (ks = cJSON_AddArrayToObject(o, "keysets")) == NULL ||
	    (elfs = cJSON_AddArrayToObject(o, "load_files")) == NULL ||
	    (apps = cJSON_AddArrayToObject(o, "applications")) == NULL)
		goto out;
	for (k = 0; k < st->nks; k++)
		if (put_keyset(ks, &st->ks[k]) != 0)
			goto out;
	for (k = 0; k < st->nelf; k++)
		if (put_elf(elfs, &st->elf[k]) != 0)
			goto out;
	for (k = 0; k < st->napp; k++)
		if (put_app(apps, &st->app[k]) != 0)
			goto out;
	if ((*out = cJSON_PrintUnformatted(o)) != NULL)
		r = 0;
 out:
	cJSON_Delete(o);
	return r;
}

/* ---- reading ----------------------------------------------------------- */

static int
get_hex(const cJSON *o, const char *name, uint8_t *p, size_t min,
    size_t max, size_t *n)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, name);
	size_t got;

	if (!cJSON_IsString(s) || strlen(s->valuestring) > 2 * max ||
	    gp_hex_decode(s->valuestring, p, max, &got) != 0 || got < min)
		return SIM_ERR_FORMAT;
	if (n != NULL)
		*n = got;
	else if (got != min)
		return SIM_ERR_FORMAT;
	return 0;
}

static int
get_num(const cJSON *o, const char *name, double max, double *v)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!cJSON_IsNumber(x) || x->valuedouble < 0 || x->valuedouble > max)
		return SIM_ERR_FORMAT;
	*v = x->valuedouble;
	return 0;
}

static int
get_aid(const cJSON *o, const char *name, struct sim_aid *a)
{
	size_t n;

	if (get_hex(o, name, a->b, 5, 16, &n) != 0)
		return SIM_ERR_FORMAT;
	a->len = (uint8_t)n;
	return 0;
}

static int
get_aids(const cJSON *o, const char *name, struct sim_aid *a, size_t max,
    size_t *n)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, name), *s;
	size_t got;

	*n = 0;
	if (!cJSON_IsArray(arr))
		return SIM_ERR_FORMAT;
	cJSON_ArrayForEach(s, arr) {
		if (*n == max || !cJSON_IsString(s) ||
		    strlen(s->valuestring) > 32 ||
		    gp_hex_decode(s->valuestring, a[*n].b, 16, &got) != 0 ||
		    got < 5)
			return SIM_ERR_FORMAT;
		a[(*n)++].len = (uint8_t)got;
	}
	return 0;
}

static int
get_keyset(const cJSON *o, struct sim_keyset *ks)
{
	double kvn, type, seq, fails;
	size_t n;

	if (get_num(o, "kvn", 0x7F, &kvn) || get_num(o, "type", 0xFF, &type) ||
	    get_num(o, "seq", 0xFFFFFF, &seq) ||
	    get_num(o, "fails", 1000, &fails) ||
	    get_hex(o, "enc", ks->enc, 16, 32, &ks->len) ||
	    get_hex(o, "mac", ks->mac, ks->len, 32, &n) || n != ks->len ||
	    get_hex(o, "dek", ks->dek, ks->len, 32, &n) || n != ks->len)
		return SIM_ERR_FORMAT;
	if (ks->len != 16 && ks->len != 24 && ks->len != 32)
		return SIM_ERR_FORMAT;
	ks->kvn = (uint8_t)kvn;
	ks->type = (uint8_t)type;
	ks->seq = (uint32_t)seq;
	ks->fails = (unsigned)fails;
	return 0;
}

static int
get_elf(const cJSON *o, struct sim_elf *e)
{
	double rom, size;

	if (get_aid(o, "aid", &e->aid) || get_aid(o, "sd", &e->sd) ||
	    get_num(o, "rom", 1, &rom) || get_num(o, "size", SIM_LOAD_MAX,
	    &size) || get_hex(o, "version", e->version, 2, 2, NULL) ||
	    get_aids(o, "modules", e->mods, SIM_MOD_MAX, &e->nmods) ||
	    get_aids(o, "imports", e->imports, SIM_IMP_MAX, &e->nimports))
		return SIM_ERR_FORMAT;
	e->rom = rom != 0;
	e->size = (size_t)size;
	return 0;
}

static int
get_app(const cJSON *o, struct sim_app *a)
{
	double lc, size, fmt;

	if (get_aid(o, "aid", &a->aid) || get_aid(o, "elf", &a->elf) ||
	    get_aid(o, "module", &a->mod) || get_aid(o, "sd", &a->sd) ||
	    get_num(o, "lifecycle", 0xFF, &lc) ||
	    get_hex(o, "privileges", a->priv, 3, 3, NULL) ||
	    get_num(o, "size", SIM_LOAD_MAX, &size) ||
	    get_num(o, "fmt", 0xFF, &fmt) ||
	    get_hex(o, "data", a->data, 0, SIM_DATA_MAX, &a->data_len))
		return SIM_ERR_FORMAT;
	a->lifecycle = (uint8_t)lc;
	a->size = (size_t)size;
	a->fmt = (uint8_t)fmt;
	return 0;
}

static int
get_card(const cJSON *o, struct sim_state *st)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "profile");
	double fmt, lc, proto, i, s, mem, page, lim;

	if (get_num(o, "format", 100, &fmt) || fmt != STATE_FORMAT ||
	    !cJSON_IsString(p) || strlen(p->valuestring) >= sizeof(st->profile)
	    || get_num(o, "lifecycle", 0xFF, &lc) ||
	    get_aid(o, "isd", &st->isd) || get_num(o, "proto", 3, &proto) ||
	    get_num(o, "i", 0xFF, &i) || get_num(o, "s", 16, &s) ||
	    get_hex(o, "kdd", st->kdd, GP_KDD_LEN, GP_KDD_LEN, NULL) ||
	    get_hex(o, "cplc", st->cplc, 42, 42, NULL) ||
	    get_hex(o, "iin", st->iin, 0, 16, &st->iin_len) ||
	    get_hex(o, "cin", st->cin, 0, 16, &st->cin_len) ||
	    get_num(o, "mem_total", 1 << 30, &mem) ||
	    get_num(o, "status_page", 4096, &page) ||
	    get_num(o, "auth_limit", 1000, &lim))
		return SIM_ERR_FORMAT;
	if ((proto != 2 && proto != 3) || (s != 8 && s != 16) || page < 64)
		return SIM_ERR_FORMAT;
	/* Optional: a fixed card challenge (sim_card_open_keys). */
	if (cJSON_GetObjectItemCaseSensitive(o, "challenge") != NULL &&
	    get_hex(o, "challenge", st->challenge, proto == 3 ? (size_t)s : 6,
	    proto == 3 ? (size_t)s : 6, &st->challenge_len))
		return SIM_ERR_FORMAT;
	memcpy(st->profile, p->valuestring, strlen(p->valuestring) + 1);
	st->lifecycle = (uint8_t)lc;
	st->proto = (int)proto;
	st->i = (uint8_t)i;
	st->s = (uint8_t)s;
	st->mem_total = (size_t)mem;
	st->status_page = (size_t)page;
	st->auth_limit = (unsigned)lim;
	return 0;
}

static int
get_array(const cJSON *o, const char *name, size_t max, size_t *n,
    const cJSON **arr)
{
	*arr = cJSON_GetObjectItemCaseSensitive(o, name);
	if (!cJSON_IsArray(*arr))
		return SIM_ERR_FORMAT;
	*n = (size_t)cJSON_GetArraySize(*arr);
	return *n <= max ? 0 : SIM_ERR_FORMAT;
}

static int
get_all(const cJSON *o, struct sim_state *st)
{
	const cJSON *arr, *x;
	size_t n, k;
	int r;

	if ((r = get_card(o, st)) != 0)
		return r;
	if ((r = get_array(o, "keysets", SIM_KS_MAX, &n, &arr)) != 0 || n == 0)
		return SIM_ERR_FORMAT;
	k = 0;
	cJSON_ArrayForEach(x, arr)
		if ((r = get_keyset(x, &st->ks[k++])) != 0)
			return r;
	st->nks = n;
	if ((r = get_array(o, "load_files", SIM_ELF_MAX, &n, &arr)) != 0)
		return r;
	k = 0;
	cJSON_ArrayForEach(x, arr)
		if ((r = get_elf(x, &st->elf[k++])) != 0)
			return r;
	st->nelf = n;
	if ((r = get_array(o, "applications", SIM_APP_MAX, &n, &arr)) != 0)
		return r;
	k = 0;
	cJSON_ArrayForEach(x, arr)
		if ((r = get_app(x, &st->app[k++])) != 0)
			return r;
	st->napp = n;
	return 0;
}

int
sim_state_from_json(const char *json, size_t len, struct sim_state *st)
{
	cJSON *o;
	int r;

	memset(st, 0, sizeof(*st));
	if ((o = cJSON_ParseWithLength(json, len)) == NULL)
		return SIM_ERR_FORMAT;
	r = cJSON_IsObject(o) ? get_all(o, st) : SIM_ERR_FORMAT;
	cJSON_Delete(o);
	if (r != 0)
		gp_wipe(st, sizeof(*st));
	return r;
}

/* ---- the file ------------------------------------------------------------ */

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			return SIM_ERR_IO;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
sim_state_write_file(const char *path, const char *json)
{
	char tmp[4096];
	int fd, r;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return SIM_ERR_INVAL;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) < 0)
		return SIM_ERR_IO;
	r = write_all(fd, json, strlen(json));
	if (r == 0 && fsync(fd) != 0)
		r = SIM_ERR_IO;
	if (close(fd) != 0 && r == 0)
		r = SIM_ERR_IO;
	if (r == 0 && rename(tmp, path) != 0)
		r = SIM_ERR_IO;
	if (r != 0)
		(void)unlink(tmp);
	return r;
}

int
sim_state_read_file(const char *path, char **out, size_t *len)
{
	struct stat sb;
	char *p = NULL;
	FILE *f;
	int r = SIM_ERR_IO;

	*out = NULL;
	if ((f = fopen(path, "re")) == NULL)
		return errno == ENOENT ? SIM_ERR_INVAL : SIM_ERR_IO;
	if (fstat(fileno(f), &sb) != 0 || sb.st_size > STATE_FILE_MAX)
		goto out;
	if ((p = malloc((size_t)sb.st_size + 1)) == NULL) {
		r = SIM_ERR_NOMEM;
		goto out;
	}
	if (fread(p, 1, (size_t)sb.st_size, f) != (size_t)sb.st_size)
		goto out;
	p[sb.st_size] = '\0';
	*len = (size_t)sb.st_size;
	*out = p;
	p = NULL;
	r = 0;
 out:
	free(p);
	fclose(f);
	return r;
}
