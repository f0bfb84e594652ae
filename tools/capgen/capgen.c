/*
 * Demo CAP generator, written from the JCVM 3.0.5 specification, chapter 6
 * (CAP format 2.1, the classic format every GlobalPlatform card loads).
 * The package it describes is, in Java:
 *
 *	package tsm.demo;			// AID D2760001775453 4D01
 *	import javacard.framework.*;		// A0000000620101, version 1.3
 *	public class Demo extends Applet {
 *		private Demo() { super(); }
 *		public static void install(byte[] b, short o, byte l) {
 *			new Demo().register();
 *		}
 *		public void process(APDU apdu) { }
 *	}
 *
 * Tokens of javacard.framework used (from its export file): class Applet
 * = 3, APDU = 10; Applet.<init> static token 0, register() virtual token
 * 1, process(APDU) virtual token 7. Offsets inside the Method info:
 * handler_count at 0, <init> at 0x01, install at 0x08, process at 0x15.
 *
 * The structure (sizes, offsets, counts, reference locations, type
 * descriptors) is consistent and passes gp_cap; the bytecode is best
 * effort: no off-card verifier or real card has checked it here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zip.h>

#include "gp/buf.h"
#include "gp/cap.h"
#include "gp/err.h"
#include "capgen.h"

#define DEMO_PATH	"tsm/demo/javacard/"
#define DEMO_INSTALL	0x08	/* install() offset in the Method info */
#define COMP_CAP	128	/* bytes, the largest demo component is 68 */

struct demo {
	uint8_t		comp[GP_CAP_NTAGS][COMP_CAP];
	size_t		len[GP_CAP_NTAGS];
	char		name[GP_CAP_NTAGS][64];	/* ZIP entry names */
	uint8_t		*table;		/* a Static Field component with a
					 * byte array of table_len, or NULL */
	size_t		table_len;	/* (its whole component) */
	uint16_t	sf_size[3];	/* static_field_size_info */
};

static const uint8_t import_info[] = {
	0x01,				/* count */
	0x03, 0x01,			/* javacard.framework 1.3 (2.2.1) */
	0x07, 0xA0, 0x00, 0x00, 0x00, 0x62, 0x01, 0x01,
};

static const uint8_t cp_info[] = {
	0x00, 0x04,			/* count */
	0x06, 0x80, 0x03, 0x00,		/* #0 static method Applet.<init> */
	0x01, 0x00, 0x00, 0x00,		/* #1 class Demo (Class info 0) */
	0x06, 0x00, 0x00, 0x01,		/* #2 static method Demo.<init> */
	0x03, 0x80, 0x03, 0x01,		/* #3 virtual Applet.register() */
};

static const uint8_t class_info[] = {
	0x00,				/* flags 0, no interfaces */
	0x80, 0x03,			/* super class: framework.Applet */
	0x00,				/* declared_instance_size */
	0xFF, 0x00,			/* no reference fields */
	0x07, 0x01,			/* public methods from token 7, one */
	0x00, 0x00,			/* no package methods */
	0x00, 0x15,			/* token 7 process() at 0x15 */
};

static const uint8_t method_info[] = {
	0x00,				/* handler_count */
	/* 0x01 Demo.<init>(): max_stack 1, nargs 1, max_locals 0 */
	0x01, 0x10,
	0x18,				/* aload_0 */
	0x8C, 0x00, 0x00,		/* invokespecial #0 */
	0x7A,				/* return */
	/* 0x08 install(byte[], short, byte): stack 2, nargs 3 */
	0x02, 0x30,
	0x8F, 0x00, 0x01,		/* new #1 Demo */
	0x3D,				/* dup */
	0x8C, 0x00, 0x02,		/* invokespecial #2 */
	0x8B, 0x00, 0x03,		/* invokevirtual #3 register() */
	0x7A,				/* return */
	/* 0x15 process(APDU): stack 0, nargs 2 (this, apdu) */
	0x00, 0x20,
	0x7A,				/* return */
};

/* No static fields: image, references, arrays, defaults all zero. */
static const uint8_t static_info[10];

/* Constant pool indices in the bytecode, at 5, 11, 15 and 18 (deltas). */
static const uint8_t refloc_info[] = {
	0x00, 0x00,			/* no 1-byte indices */
	0x00, 0x04, 0x05, 0x06, 0x04, 0x03,
};

static const uint8_t descriptor_info[] = {
	0x01,				/* class_count */
	0x00, 0x01, 0x00, 0x00,		/* token 0, ACC_PUBLIC, Class 0 */
	0x00, 0x00, 0x00, 0x00, 0x03,	/* no interfaces/fields, 3 methods */
	/* token, flags, offset, type, bytecode_count, handlers (2) */
	0xFF, 0x82, 0x00, 0x01, 0x00, 0x0A, 0x00, 0x05, 0, 0, 0, 0,
	0x00, 0x09, 0x00, 0x08, 0x00, 0x0C, 0x00, 0x0B, 0, 0, 0, 0,
	0x07, 0x01, 0x00, 0x15, 0x00, 0x0F, 0x00, 0x01, 0, 0, 0, 0,
	/* type_descriptor_info: offsets count from its first byte */
	0x00, 0x04,			/* constant_pool_count */
	0x00, 0x0A, 0xFF, 0xFF, 0x00, 0x0A, 0x00, 0x0A,
	0x01, 0x10,			/* 0x0A ()V */
	0x04, 0xB4, 0x31,		/* 0x0C ([BSB)V */
	0x06, 0x68, 0x00, 0xA1,		/* 0x0F (Ljavacard/framework/APDU;)V */
};

static const char manifest[] =
    "Manifest-Version: 1.0\r\n"
    "Created-By: tsmctl capgen\r\n"
    "\r\n"
    "Name: tsm/demo\r\n"
    "Java-Card-CAP-File-Version: 2.1\r\n"
    "Java-Card-Package-Name: tsm.demo\r\n"
    "Java-Card-Package-Version: 1.0\r\n"
    "Java-Card-Applet-1-Name: Demo\r\n"
    "Java-Card-Imported-Package-1-Version: 1.3\r\n"
    "\r\n";

/* Writes tag, u2 size and info as component tag. */
static int
demo_put(struct demo *d, int tag, const uint8_t *info, size_t n)
{
	struct gp_wr w;
	int r;

	gp_wr_init(&w, d->comp[tag], sizeof(d->comp[tag]));
	if ((r = gp_wr_u8(&w, (uint8_t)tag)) != 0 ||
	    (r = gp_wr_u16(&w, (uint16_t)n)) != 0 ||
	    (r = gp_wr_put(&w, info, n)) != 0)
		return r;
	d->len[tag] = w.len;
	return 0;
}

/* Header: magic, CAP 2.1, ACC_APPLET, package 1.0 and its AID. */
static int
demo_header(struct demo *d, const uint8_t *aid, size_t n)
{
	static const uint8_t head[] = {
		0xDE, 0xCA, 0xFF, 0xED, 0x01, 0x02, GP_CAP_ACC_APPLET,
		0x00, 0x01,
	};
	uint8_t info[64];
	struct gp_wr w;
	int r;

	gp_wr_init(&w, info, sizeof(info));
	if ((r = gp_wr_put(&w, head, sizeof(head))) != 0 ||
	    (r = gp_wr_lv(&w, aid, n)) != 0)
		return r;
	return demo_put(d, GP_CAP_HEADER, info, w.len);
}

static int
demo_applet(struct demo *d, const uint8_t *aid, size_t n)
{
	uint8_t info[64];
	struct gp_wr w;
	int r;

	gp_wr_init(&w, info, sizeof(info));
	if ((r = gp_wr_u8(&w, 1)) != 0 ||
	    (r = gp_wr_lv(&w, aid, n)) != 0 ||
	    (r = gp_wr_u16(&w, DEMO_INSTALL)) != 0)
		return r;
	return demo_put(d, GP_CAP_APPLET, info, w.len);
}

/*
 * Directory: the 11 component sizes of CAP 2.1 (its own included, always
 * 31), empty static field image, one import, one applet, no custom.
 */
static int
demo_directory(struct demo *d)
{
	/* import count 1, applet count 1, no custom component */
	static const uint8_t tail[] = { 1, 1, 0 };
	uint8_t info[64];
	struct gp_wr w;
	size_t len;
	int t, r;

	d->len[GP_CAP_DIRECTORY] = 3 + 11 * 2 + 6 + sizeof(tail);
	gp_wr_init(&w, info, sizeof(info));
	for (t = GP_CAP_HEADER; t <= GP_CAP_DESCRIPTOR; t++) {
		len = t == GP_CAP_STATICFIELD && d->table != NULL ?
		    d->table_len : d->len[t];
		if ((r = gp_wr_u16(&w, len ? (uint16_t)(len - 3) : 0)) != 0)
			return r;
	}
	for (t = 0; t < 3; t++)
		if ((r = gp_wr_u16(&w, d->sf_size[t])) != 0)
			return r;
	if ((r = gp_wr_put(&w, tail, sizeof(tail))) != 0)
		return r;
	return demo_put(d, GP_CAP_DIRECTORY, info, w.len);
}

/*
 * A Static Field component holding one static byte array of n bytes
 * (JCVM 6.10: image of one reference, one array_init of type byte), as a
 * large constant table would be: how a load file of any size is made.
 */
static int
demo_table(struct demo *d, size_t n)
{
	struct gp_wr w;
	size_t i, len = 3 + 13 + n;
	int r;

	if (n == 0 || len > 3 + 0xFFFF)
		return GP_ERR_INVAL;
	if ((d->table = malloc(len)) == NULL)
		return GP_ERR_NOMEM;
	d->table_len = len;
	gp_wr_init(&w, d->table, len);
	if ((r = gp_wr_u8(&w, GP_CAP_STATICFIELD)) != 0 ||
	    (r = gp_wr_u16(&w, (uint16_t)(len - 3))) != 0 ||
	    (r = gp_wr_u16(&w, 2)) != 0 ||	/* image_size: one reference */
	    (r = gp_wr_u16(&w, 1)) != 0 ||	/* reference_count */
	    (r = gp_wr_u16(&w, 1)) != 0 ||	/* array_init_count */
	    (r = gp_wr_u8(&w, 3)) != 0 ||	/* type byte */
	    (r = gp_wr_u16(&w, (uint16_t)n)) != 0)
		return r;
	for (i = 0; i < n; i++)		/* not compressible to nothing */
		if ((r = gp_wr_u8(&w, (uint8_t)(i * 131 + (i >> 8)))) != 0)
			return r;
	if ((r = gp_wr_u16(&w, 0)) != 0 ||	/* default_value_count */
	    (r = gp_wr_u16(&w, 0)) != 0)	/* non_default_value_count */
		return r;
	d->sf_size[0] = 2;
	d->sf_size[1] = 1;
	d->sf_size[2] = (uint16_t)n;
	return 0;
}

static int
demo_build(struct demo *d, const uint8_t *pkg, size_t plen,
    const uint8_t *app, size_t alen)
{
	int r;

	if ((r = demo_header(d, pkg, plen)) != 0 ||
	    (r = demo_applet(d, app, alen)) != 0 ||
	    (r = demo_put(d, GP_CAP_IMPORT, import_info,
	    sizeof(import_info))) != 0 ||
	    (r = demo_put(d, GP_CAP_CONSTANTPOOL, cp_info,
	    sizeof(cp_info))) != 0 ||
	    (r = demo_put(d, GP_CAP_CLASS, class_info,
	    sizeof(class_info))) != 0 ||
	    (r = demo_put(d, GP_CAP_METHOD, method_info,
	    sizeof(method_info))) != 0 ||
	    (r = demo_put(d, GP_CAP_STATICFIELD, static_info,
	    sizeof(static_info))) != 0 ||
	    (r = demo_put(d, GP_CAP_REFLOCATION, refloc_info,
	    sizeof(refloc_info))) != 0 ||
	    (r = demo_put(d, GP_CAP_DESCRIPTOR, descriptor_info,
	    sizeof(descriptor_info))) != 0)
		return r;
	return demo_directory(d);	/* last: it records the sizes */
}

/* Reads the finished archive back out of its buffer source. */
static int
capgen_slurp(zip_source_t *src, uint8_t **out, size_t *outlen)
{
	zip_stat_t st;
	zip_int64_t n;
	uint8_t *p = NULL;
	size_t got = 0;
	int r = GP_ERR_FORMAT;

	zip_stat_init(&st);
	if (zip_source_is_deleted(src) || zip_source_stat(src, &st) != 0 ||
	    (st.valid & ZIP_STAT_SIZE) == 0 || st.size > GP_CAP_TOTAL_MAX * 2)
		return GP_ERR_FORMAT;
	if (zip_source_open(src) != 0)
		return GP_ERR_FORMAT;
	if ((p = malloc(st.size > 0 ? (size_t)st.size : 1)) == NULL) {
		r = GP_ERR_NOMEM;
		goto out;
	}
	while (got < st.size) {
		if ((n = zip_source_read(src, p + got, st.size - got)) <= 0)
			goto out;
		got += (size_t)n;
	}
	*out = p;
	*outlen = got;
	p = NULL;
	r = 0;
 out:
	zip_source_close(src);
	free(p);
	return r;
}

static int
capgen_add(zip_t *za, const struct capgen_ent *e)
{
	zip_source_t *fs;

	if ((fs = zip_source_buffer(za, e->p, e->len, 0)) == NULL)
		return GP_ERR_NOMEM;
	if (zip_file_add(za, e->name, fs, ZIP_FL_ENC_UTF_8) < 0) {
		zip_source_free(fs);
		return GP_ERR_INVAL;
	}
	return 0;
}

/* The in-memory pattern of libzip's own example (in-memory.c). */
int
capgen_zip(const struct capgen_ent *e, size_t n, uint8_t **out,
    size_t *outlen)
{
	zip_source_t *src;
	zip_error_t ze;
	zip_t *za = NULL;
	size_t i;
	int r = GP_ERR_NOMEM;

	*out = NULL;
	*outlen = 0;
	zip_error_init(&ze);
	if ((src = zip_source_buffer_create(NULL, 0, 0, &ze)) == NULL)
		goto out;
	if ((za = zip_open_from_source(src, ZIP_TRUNCATE, &ze)) == NULL) {
		zip_source_free(src);
		goto out;
	}
	zip_source_keep(src);	/* it must outlive zip_close */
	for (i = 0; i < n; i++)
		if ((r = capgen_add(za, &e[i])) != 0)
			goto out;
	r = GP_ERR_FORMAT;
	if (zip_close(za) != 0)
		goto out;
	za = NULL;
	r = capgen_slurp(src, out, outlen);
 out:
	if (za != NULL)
		zip_discard(za);
	if (src != NULL)
		zip_source_free(src);
	zip_error_fini(&ze);
	return r;
}

int
capgen_demo(const uint8_t *pkg, size_t plen, const uint8_t *app,
    size_t alen, uint8_t **out, size_t *outlen)
{
	return capgen_demo_table(pkg, plen, app, alen, 0, out, outlen);
}

int
capgen_demo_table(const uint8_t *pkg, size_t plen, const uint8_t *app,
    size_t alen, size_t table, uint8_t **out, size_t *outlen)
{
	static const uint8_t defpkg[] = {
		0xD2, 0x76, 0x00, 0x01, 0x77, 0x54, 0x53, 0x4D, 0x01,
	};
	uint8_t defapp[GP_CAP_AID_MAX];
	struct capgen_ent e[GP_CAP_NTAGS];
	struct demo *d;
	size_t n = 0;
	int t, r;

	if (out == NULL || outlen == NULL)
		return GP_ERR_INVAL;
	if (pkg == NULL) {
		pkg = defpkg;
		plen = sizeof(defpkg);
	}
	if (app == NULL && plen < GP_CAP_AID_MAX) {
		memcpy(defapp, pkg, plen);
		defapp[plen] = 0x01;
		app = defapp;
		alen = plen + 1;
	}
	if (app == NULL || plen < GP_CAP_AID_MIN || plen > GP_CAP_AID_MAX ||
	    alen < GP_CAP_AID_MIN || alen > GP_CAP_AID_MAX)
		return GP_ERR_INVAL;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return GP_ERR_NOMEM;
	if ((table > 0 && (r = demo_table(d, table)) != 0) ||
	    (r = demo_build(d, pkg, plen, app, alen)) != 0)
		goto out;
	e[n++] = (struct capgen_ent){ "META-INF/MANIFEST.MF",
	    (const uint8_t *)manifest, sizeof(manifest) - 1 };
	for (t = GP_CAP_HEADER; t <= GP_CAP_DESCRIPTOR; t++)
		if (d->len[t] != 0) {
			snprintf(d->name[t], sizeof(d->name[t]), "%s%s.cap",
			    DEMO_PATH, gp_cap_comp_name(t));
			e[n++] = (struct capgen_ent){ d->name[t], d->comp[t],
			    d->len[t] };
			if (t == GP_CAP_STATICFIELD && d->table != NULL) {
				e[n - 1].p = d->table;
				e[n - 1].len = d->table_len;
			}
		}
	r = capgen_zip(e, n, out, outlen);
 out:
	free(d->table);
	free(d);
	return r;
}
