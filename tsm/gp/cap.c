/*
 * CAP files: libzip opens the archive, this file checks the Java Card
 * structure (JCVM 3.0.5 chapter 6) and builds the Load File Data Block.
 *
 * Order of work, so that nothing big is decompressed before it is judged:
 * walk the ZIP central directory (names and declared sizes only), refuse
 * archives with too many entries or components over their caps, read the
 * component entries with a bounded loop, then parse Header, Import,
 * Applet and Directory through gp_rd. The other components are checked for
 * their tag and size only: their content is the card's business, and the
 * card's verifier (or an off-card one) checks the bytecode.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <zip.h>

#include "gp/buf.h"
#include "gp/cap.h"
#include "gp/err.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

static const char *const comp_names[GP_CAP_NTAGS] = {
	NULL, "Header", "Directory", "Applet", "Import", "ConstantPool",
	"Class", "Method", "StaticField", "RefLocation", "Export",
	"Descriptor", "Debug",
};

/* The Load File Data Block order (GP Card Spec, JCVM 6.2). */
static const uint8_t load_order[] = {
	GP_CAP_HEADER, GP_CAP_DIRECTORY, GP_CAP_IMPORT, GP_CAP_APPLET,
	GP_CAP_CLASS, GP_CAP_METHOD, GP_CAP_STATICFIELD, GP_CAP_EXPORT,
	GP_CAP_CONSTANTPOOL, GP_CAP_REFLOCATION, GP_CAP_DESCRIPTOR,
};

/* Every package has these, applet or library (JCVM 6.1). */
static const uint8_t mandatory[] = {
	GP_CAP_HEADER, GP_CAP_DIRECTORY, GP_CAP_IMPORT, GP_CAP_CONSTANTPOOL,
	GP_CAP_CLASS, GP_CAP_METHOD, GP_CAP_STATICFIELD, GP_CAP_REFLOCATION,
	GP_CAP_DESCRIPTOR,
};

/*
 * javacard.framework (A0000000620101) version -> Java Card release: each
 * release bumped the framework's minor version. 1.0 and 1.1 both shipped
 * in the 2.1 line.
 */
static const struct {
	uint8_t		 major, minor;
	const char	*jc;
} jc_versions[] = {
	{ 1, 0, "2.1.x" }, { 1, 1, "2.1.x" }, { 1, 2, "2.2.0" },
	{ 1, 3, "2.2.1" }, { 1, 4, "2.2.2" }, { 1, 5, "3.0.1" },
	{ 1, 6, "3.0.4" }, { 1, 7, "3.0.5" }, { 1, 8, "3.1" },
};

static const uint8_t framework_aid[] = {
	0xA0, 0x00, 0x00, 0x00, 0x62, 0x01, 0x01
};

const char *
gp_cap_comp_name(int tag)
{
	if (tag < 1 || tag >= GP_CAP_NTAGS)
		return NULL;
	return comp_names[tag];
}

const char *
gp_cap_jc_version(uint8_t major, uint8_t minor)
{
	size_t i;

	for (i = 0; i < nitems(jc_versions); i++)
		if (jc_versions[i].major == major &&
		    jc_versions[i].minor == minor)
			return jc_versions[i].jc;
	return NULL;
}

void
gp_cap_free(struct gp_cap *cap)
{
	size_t i;

	if (cap == NULL)
		return;
	for (i = 0; i < GP_CAP_NTAGS; i++)
		free(cap->comp[i].p);
	free(cap->pkg_name);
	free(cap->path);
	free(cap->applets);
	free(cap->imports);
	free(cap->c4);
	free(cap);
}

/* ---- ZIP side: find, cap and read the component entries ---------------- */

/* Tag of a component file's base name ("Method.cap"), 0 if custom. */
static int
cap_tag_of(const char *base)
{
	size_t n = strlen(base) - 4;	/* caller checked the ".cap" */
	int t;

	for (t = 1; t < GP_CAP_NTAGS; t++)
		if (strlen(comp_names[t]) == n &&
		    memcmp(comp_names[t], base, n) == 0)
			return t;
	return 0;
}

/*
 * Is name "<path>/javacard/<Name>.cap"? Sets *plen to the length of
 * <path> (0 for a top-level javacard/) and *base to <Name>.cap.
 */
static int
cap_comp_entry(const char *name, size_t *plen, const char **base)
{
	const char *slash = strrchr(name, '/');
	size_t dlen, blen;

	if (slash == NULL)
		return 0;
	*base = slash + 1;
	blen = strlen(*base);
	if (blen <= 4 || strcmp(*base + blen - 4, ".cap") != 0)
		return 0;
	dlen = (size_t)(slash - name);
	if (dlen < 8 || memcmp(slash - 8, "javacard", 8) != 0)
		return 0;
	if (dlen == 8) {
		*plen = 0;
		return 1;
	}
	if (slash[-9] != '/')
		return 0;
	*plen = dlen - 9;
	return 1;
}

/* All components must sit in one package folder: one package per CAP. */
static int
cap_set_path(struct gp_cap *cap, const char *name, size_t plen)
{
	if (cap->path != NULL) {
		if (strlen(cap->path) != plen ||
		    memcmp(cap->path, name, plen) != 0)
			return GP_ERR_UNSUPPORTED;
		return 0;
	}
	if ((cap->path = malloc(plen + 1)) == NULL)
		return GP_ERR_NOMEM;
	memcpy(cap->path, name, plen);
	cap->path[plen] = '\0';
	return 0;
}

/*
 * Reads exactly size bytes of entry i. The loop is bounded by size (each
 * pass makes progress or fails), and one extra byte proves the entry does
 * not inflate beyond what its directory record declared.
 */
static int
cap_read_entry(zip_t *za, zip_uint64_t i, size_t size, struct gp_cap_comp *c)
{
	zip_file_t *zf = NULL;
	uint8_t *p, extra;
	size_t got = 0;
	zip_int64_t n;
	int r = GP_ERR_FORMAT;

	if ((p = malloc(size > 0 ? size : 1)) == NULL)
		return GP_ERR_NOMEM;
	if ((zf = zip_fopen_index(za, i, 0)) == NULL)
		goto out;
	while (got < size) {
		if ((n = zip_fread(zf, p + got, size - got)) < 0)
			goto out;
		if (n == 0) {
			r = GP_ERR_TRUNC;
			goto out;
		}
		got += (size_t)n;
	}
	if (zip_fread(zf, &extra, 1) != 0)
		goto out;
	c->p = p;
	c->len = size;
	p = NULL;
	r = 0;
 out:
	if (zf != NULL)
		zip_fclose(zf);
	free(p);
	return r;
}

static int
cap_entry(zip_t *za, zip_uint64_t i, struct gp_cap *cap, size_t *total)
{
	const char *name, *base;
	zip_stat_t st;
	size_t plen;
	int tag, r;

	if ((name = zip_get_name(za, i, ZIP_FL_ENC_RAW)) == NULL)
		return GP_ERR_FORMAT;
	if (!cap_comp_entry(name, &plen, &base))
		return 0;
	if ((r = cap_set_path(cap, name, plen)) != 0)
		return r;
	if ((tag = cap_tag_of(base)) == 0) {
		cap->ncustom++;
		return 0;
	}
	if (cap->comp[tag].p != NULL)
		return GP_ERR_FORMAT;	/* the same component twice */
	zip_stat_init(&st);
	if (zip_stat_index(za, i, 0, &st) != 0 ||
	    (st.valid & ZIP_STAT_SIZE) == 0)
		return GP_ERR_FORMAT;
	if (st.size > GP_CAP_COMP_MAX || st.size > GP_CAP_TOTAL_MAX - *total)
		return GP_ERR_TOOLARGE;
	*total += (size_t)st.size;
	return cap_read_entry(za, i, (size_t)st.size, &cap->comp[tag]);
}

static int
cap_collect(zip_t *za, struct gp_cap *cap)
{
	zip_int64_t n;
	zip_uint64_t i;
	size_t total = 0;
	int r;

	if ((n = zip_get_num_entries(za, 0)) < 0)
		return GP_ERR_FORMAT;
	if (n > GP_CAP_ENTRIES_MAX)
		return GP_ERR_TOOLARGE;
	for (i = 0; i < (zip_uint64_t)n; i++)
		if ((r = cap_entry(za, i, cap, &total)) != 0)
			return r;
	if (cap->path == NULL)
		return GP_ERR_NOTFOUND;	/* no javacard/ folder at all */
	return 0;
}

/* ---- Components --------------------------------------------------------- */

/*
 * Every component starts with its tag and a u2 size that counts the rest
 * of the entry: a longer size means the entry was cut, a shorter one that
 * bytes trail the component.
 */
static int
cap_check_comps(const struct gp_cap *cap)
{
	struct gp_rd rd;
	uint16_t size;
	uint8_t tag;
	int t, r;

	for (t = 1; t < GP_CAP_NTAGS; t++) {
		if (cap->comp[t].p == NULL)
			continue;
		gp_rd_init(&rd, cap->comp[t].p, cap->comp[t].len);
		if ((r = gp_rd_u8(&rd, &tag)) != 0 ||
		    (r = gp_rd_u16(&rd, &size)) != 0)
			return r;
		if (tag != t)
			return GP_ERR_FORMAT;
		if (size > gp_rd_left(&rd))
			return GP_ERR_TRUNC;
		if (size < gp_rd_left(&rd))
			return GP_ERR_FORMAT;
	}
	return 0;
}

/* A reader over a component's info (after tag and size). */
static void
cap_rd(const struct gp_cap *cap, int tag, struct gp_rd *rd)
{
	gp_rd_init(rd, cap->comp[tag].p + 3, cap->comp[tag].len - 3);
}

static int
cap_rd_aid(struct gp_rd *rd, struct gp_cap_aid *aid)
{
	const uint8_t *p;
	size_t n;
	int r;

	if ((r = gp_rd_lv(rd, &p, &n)) != 0)
		return r;
	if (n < GP_CAP_AID_MIN || n > GP_CAP_AID_MAX)
		return GP_ERR_FORMAT;
	memcpy(aid->b, p, n);
	aid->len = (uint8_t)n;
	return 0;
}

/* package_name_info (CAP 2.2): the dotted name, kept as a C string. */
static int
cap_rd_name(struct gp_rd *rd, char **out)
{
	const uint8_t *p;
	size_t n;
	int r;

	if ((r = gp_rd_lv(rd, &p, &n)) != 0)
		return r;
	if (n == 0 || memchr(p, '\0', n) != NULL)
		return n == 0 ? 0 : GP_ERR_FORMAT;
	if ((*out = malloc(n + 1)) == NULL)
		return GP_ERR_NOMEM;
	memcpy(*out, p, n);
	(*out)[n] = '\0';
	return 0;
}

static int
cap_parse_header(struct gp_cap *cap)
{
	static const uint8_t magic[4] = { 0xDE, 0xCA, 0xFF, 0xED };
	const uint8_t *m;
	struct gp_rd rd;
	int r;

	cap_rd(cap, GP_CAP_HEADER, &rd);
	if ((r = gp_rd_bytes(&rd, 4, &m)) != 0 ||
	    (r = gp_rd_u8(&rd, &cap->fmt_minor)) != 0 ||
	    (r = gp_rd_u8(&rd, &cap->fmt_major)) != 0 ||
	    (r = gp_rd_u8(&rd, &cap->flags)) != 0)
		return r;
	if (memcmp(m, magic, sizeof(magic)) != 0)
		return GP_ERR_FORMAT;
	if (cap->fmt_major != 2 || cap->fmt_minor < 1 || cap->fmt_minor > 2)
		return GP_ERR_UNSUPPORTED;
	if ((r = gp_rd_u8(&rd, &cap->pkg_minor)) != 0 ||
	    (r = gp_rd_u8(&rd, &cap->pkg_major)) != 0 ||
	    (r = cap_rd_aid(&rd, &cap->pkg)) != 0)
		return r;
	if (cap->fmt_minor >= 2 && (r = cap_rd_name(&rd, &cap->pkg_name)) != 0)
		return r;
	if (gp_rd_left(&rd) != 0)
		return GP_ERR_FORMAT;
	/* The flags announce the optional components (JCVM 6.3). */
	if (((cap->flags & GP_CAP_ACC_APPLET) != 0) !=
	    (cap->comp[GP_CAP_APPLET].p != NULL) ||
	    ((cap->flags & GP_CAP_ACC_EXPORT) != 0) !=
	    (cap->comp[GP_CAP_EXPORT].p != NULL))
		return GP_ERR_FORMAT;
	return 0;
}

static int
cap_parse_import(struct gp_cap *cap)
{
	struct gp_cap_import *im;
	struct gp_rd rd;
	uint8_t n, i;
	int r;

	cap_rd(cap, GP_CAP_IMPORT, &rd);
	if ((r = gp_rd_u8(&rd, &n)) != 0)
		return r;
	if (n > 0 && (cap->imports = calloc(n, sizeof(*im))) == NULL)
		return GP_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		im = &cap->imports[i];
		if ((r = gp_rd_u8(&rd, &im->minor)) != 0 ||
		    (r = gp_rd_u8(&rd, &im->major)) != 0 ||
		    (r = cap_rd_aid(&rd, &im->aid)) != 0)
			return r;
		cap->nimports++;
	}
	return gp_rd_left(&rd) == 0 ? 0 : GP_ERR_FORMAT;
}

/* Install offsets point into the Method info; 0 is its handler_count. */
static int
cap_parse_applet(struct gp_cap *cap)
{
	struct gp_cap_applet *ap;
	struct gp_rd rd;
	size_t msize = cap->comp[GP_CAP_METHOD].len - 3;
	uint8_t n, i;
	int r;

	if (cap->comp[GP_CAP_APPLET].p == NULL)
		return 0;
	cap_rd(cap, GP_CAP_APPLET, &rd);
	if ((r = gp_rd_u8(&rd, &n)) != 0)
		return r;
	if (n == 0)
		return GP_ERR_FORMAT;
	if ((cap->applets = calloc(n, sizeof(*ap))) == NULL)
		return GP_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		ap = &cap->applets[i];
		if ((r = cap_rd_aid(&rd, &ap->aid)) != 0 ||
		    (r = gp_rd_u16(&rd, &ap->install)) != 0)
			return r;
		if (ap->install == 0 || ap->install >= msize)
			return GP_ERR_FORMAT;
		cap->napplets++;
	}
	return gp_rd_left(&rd) == 0 ? 0 : GP_ERR_FORMAT;
}

/*
 * component_sizes[] is indexed by tag - 1: 11 entries in CAP 2.1, 12 in
 * 2.2 (Debug). A Debug size without a Debug component is tolerated:
 * tools strip Debug.cap and leave the Directory alone, and it is never
 * loaded anyway.
 */
static int
cap_dir_sizes(const struct gp_cap *cap, struct gp_rd *rd)
{
	int t, n = cap->fmt_minor >= 2 ? 12 : 11;
	uint16_t size;
	size_t want;
	int r;

	for (t = 1; t <= n; t++) {
		if ((r = gp_rd_u16(rd, &size)) != 0)
			return r;
		want = cap->comp[t].p ? cap->comp[t].len - 3 : 0;
		if (t == GP_CAP_DEBUG && cap->comp[t].p == NULL)
			continue;
		if (size != want)
			return GP_ERR_FORMAT;
	}
	return 0;
}

static int
cap_parse_directory(const struct gp_cap *cap)
{
	struct gp_cap_aid aid;
	struct gp_rd rd;
	uint8_t nimp, napp, ncust, i, tag;
	int r;

	cap_rd(cap, GP_CAP_DIRECTORY, &rd);
	if ((r = cap_dir_sizes(cap, &rd)) != 0 ||
	    (r = gp_rd_skip(&rd, 6)) != 0 ||	/* static_field_size_info */
	    (r = gp_rd_u8(&rd, &nimp)) != 0 ||
	    (r = gp_rd_u8(&rd, &napp)) != 0 ||
	    (r = gp_rd_u8(&rd, &ncust)) != 0)
		return r;
	if (nimp != cap->nimports || napp != cap->napplets)
		return GP_ERR_FORMAT;
	for (i = 0; i < ncust; i++) {
		/* custom_component_info: tag (128..255), u2 size, AID. */
		if ((r = gp_rd_u8(&rd, &tag)) != 0 ||
		    (r = gp_rd_skip(&rd, 2)) != 0 ||
		    (r = cap_rd_aid(&rd, &aid)) != 0)
			return r;
		if (tag < 128)
			return GP_ERR_FORMAT;
	}
	return gp_rd_left(&rd) == 0 ? 0 : GP_ERR_FORMAT;
}

/* ---- Load File Data Block ------------------------------------------------ */

/* BER length of n (n < 2^24) into out, returns its size. */
static size_t
cap_ber_len(size_t n, uint8_t out[4])
{
	if (n < 0x80) {
		out[0] = (uint8_t)n;
		return 1;
	}
	if (n <= 0xFF) {
		out[0] = 0x81;
		out[1] = (uint8_t)n;
		return 2;
	}
	if (n <= 0xFFFF) {
		out[0] = 0x82;
		out[1] = (uint8_t)(n >> 8);
		out[2] = (uint8_t)n;
		return 3;
	}
	out[0] = 0x83;
	out[1] = (uint8_t)(n >> 16);
	out[2] = (uint8_t)(n >> 8);
	out[3] = (uint8_t)n;
	return 4;
}

static int
cap_build_lfdb(struct gp_cap *cap)
{
	struct gp_cap_comp *c;
	uint8_t hdr[5] = { 0xC4 };
	struct gp_wr w;
	size_t i, n = 0, hl;
	int r;

	for (i = 0; i < nitems(load_order); i++)
		n += cap->comp[load_order[i]].len;
	hl = 1 + cap_ber_len(n, hdr + 1);
	gp_wr_init_dyn(&w, hl + n);
	if ((r = gp_wr_reserve(&w, hl + n)) != 0 ||
	    (r = gp_wr_put(&w, hdr, hl)) != 0)
		goto out;
	for (i = 0; i < nitems(load_order); i++) {
		c = &cap->comp[load_order[i]];
		if (c->p != NULL && (r = gp_wr_put(&w, c->p, c->len)) != 0)
			goto out;
	}
	cap->c4 = gp_wr_steal(&w, &cap->c4_len);
	cap->lfdb = cap->c4 + hl;
	cap->lfdb_len = n;
 out:
	gp_wr_free(&w);
	return r;
}

int
gp_cap_lfdb_hash(const struct gp_cap *cap, int alg, uint8_t *out,
    size_t outcap, size_t *outlen)
{
	const EVP_MD *md;
	unsigned int n;

	if (cap == NULL || out == NULL || outlen == NULL)
		return GP_ERR_INVAL;
	if (alg == GP_CAP_SHA1)
		md = EVP_sha1();
	else if (alg == GP_CAP_SHA256)
		md = EVP_sha256();
	else
		return GP_ERR_INVAL;
	if (outcap < (size_t)EVP_MD_get_size(md))
		return GP_ERR_SPACE;
	if (!EVP_Digest(cap->lfdb, cap->lfdb_len, out, &n, md, NULL))
		return GP_ERR_CRYPTO;
	*outlen = n;
	return 0;
}

/* ---- Opening ------------------------------------------------------------- */

static const char *
cap_find_jc(const struct gp_cap *cap)
{
	const struct gp_cap_import *im;
	size_t i;

	for (i = 0; i < cap->nimports; i++) {
		im = &cap->imports[i];
		if (im->aid.len == sizeof(framework_aid) &&
		    memcmp(im->aid.b, framework_aid, im->aid.len) == 0)
			return gp_cap_jc_version(im->major, im->minor);
	}
	return NULL;
}

/*
 * The components of a Load File Data Block, as a card receives them: one
 * after the other, each its tag, u2 size and body. Same rules as the ZIP
 * walk: known tags only, each at most once (cap_parse_all checks the
 * mandatory ones).
 */
static int
cap_split_lfdb(const uint8_t *p, size_t n, struct gp_cap *cap)
{
	struct gp_rd rd;
	const uint8_t *comp;
	uint16_t size;
	uint8_t tag;

	if (n > GP_CAP_TOTAL_MAX)
		return GP_ERR_TOOLARGE;
	gp_rd_init(&rd, p, n);
	while (gp_rd_left(&rd) > 0) {
		comp = gp_rd_ptr(&rd);
		if (gp_rd_u8(&rd, &tag) != 0 || gp_rd_u16(&rd, &size) != 0 ||
		    gp_rd_skip(&rd, size) != 0)
			return GP_ERR_TRUNC;
		if (gp_cap_comp_name(tag) == NULL || cap->comp[tag].p != NULL)
			return GP_ERR_FORMAT;
		if ((cap->comp[tag].p = malloc(3u + size)) == NULL)
			return GP_ERR_NOMEM;
		memcpy(cap->comp[tag].p, comp, 3u + size);
		cap->comp[tag].len = 3u + size;
	}
	return 0;
}

/*
 * The components collected (from a ZIP or a loaded block): the mandatory
 * ones present, then Header first (the CAP format decides the
 * Directory's layout).
 */
static int
cap_parse_all(struct gp_cap *cap)
{
	size_t i;
	int r;

	for (i = 0; i < nitems(mandatory); i++)
		if (cap->comp[mandatory[i]].p == NULL)
			return GP_ERR_NOTFOUND;
	if ((r = cap_check_comps(cap)) != 0 ||
	    (r = cap_parse_header(cap)) != 0 ||
	    (r = cap_parse_import(cap)) != 0 ||
	    (r = cap_parse_applet(cap)) != 0 ||
	    (r = cap_parse_directory(cap)) != 0 ||
	    (r = cap_build_lfdb(cap)) != 0)
		return r;
	cap->jc_version = cap_find_jc(cap);
	return 0;
}

static int
cap_from_zip(zip_t *za, struct gp_cap **out)
{
	struct gp_cap *cap;
	int r;

	if ((cap = calloc(1, sizeof(*cap))) == NULL)
		return GP_ERR_NOMEM;
	if ((r = cap_collect(za, cap)) == 0 && (r = cap_parse_all(cap)) == 0) {
		*out = cap;
		cap = NULL;
	}
	gp_cap_free(cap);
	return r;
}

int
gp_cap_open_lfdb(const uint8_t *lfdb, size_t len, struct gp_cap **out)
{
	struct gp_cap *cap;
	int r;

	if (out == NULL)
		return GP_ERR_INVAL;
	*out = NULL;
	if (lfdb == NULL && len != 0)
		return GP_ERR_INVAL;
	if ((cap = calloc(1, sizeof(*cap))) == NULL)
		return GP_ERR_NOMEM;
	if ((r = cap_split_lfdb(lfdb, len, cap)) == 0 &&
	    (r = cap_parse_all(cap)) == 0) {
		*out = cap;
		cap = NULL;
	}
	gp_cap_free(cap);
	return r;
}

static int
cap_zip_err(int code)
{
	switch (code) {
	case ZIP_ER_MEMORY:
		return GP_ERR_NOMEM;
	case ZIP_ER_NOENT:
	case ZIP_ER_OPEN:
	case ZIP_ER_READ:
		return GP_ERR_IO;
	default:
		return GP_ERR_FORMAT;
	}
}

/* ZIP_CHECKCONS: local headers must agree with the central directory. */
int
gp_cap_open_mem(const uint8_t *buf, size_t len, struct gp_cap **out)
{
	zip_source_t *src;
	zip_error_t ze;
	zip_t *za;
	int r;

	if (out == NULL || (buf == NULL && len != 0))
		return GP_ERR_INVAL;
	*out = NULL;
	zip_error_init(&ze);
	if ((src = zip_source_buffer_create(buf, len, 0, &ze)) == NULL) {
		r = cap_zip_err(zip_error_code_zip(&ze));
		goto out;
	}
	if ((za = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS,
	    &ze)) == NULL) {
		zip_source_free(src);
		r = cap_zip_err(zip_error_code_zip(&ze));
		goto out;
	}
	r = cap_from_zip(za, out);
	zip_discard(za);
 out:
	zip_error_fini(&ze);
	return r;
}

int
gp_cap_open_file(const char *path, struct gp_cap **out)
{
	zip_t *za;
	int zerr = 0, r;

	if (out == NULL || path == NULL)
		return GP_ERR_INVAL;
	*out = NULL;
	if ((za = zip_open(path, ZIP_RDONLY | ZIP_CHECKCONS, &zerr)) == NULL)
		return cap_zip_err(zerr);
	r = cap_from_zip(za, out);
	zip_discard(za);
	return r;
}
