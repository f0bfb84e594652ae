/*
 * Java Card CAP files (JCVM specification, chapter 6) through libzip:
 * structural validation, package and applet AIDs, imports, the Java Card
 * version they imply, and the Load File Data Block that INSTALL [for load]
 * and LOAD carry to the card.
 *
 * A CAP file is a ZIP archive; its components are the entries
 * <package path>/javacard/<Name>.cap. Everything else in the archive
 * (manifest, class files, XML) is ignored and never read. The archive is
 * hostile input: entry count, each component's size and the total size are
 * capped before anything is decompressed, and every component is parsed
 * with a bounded reader.
 *
 * Supported: CAP format 2.1 and 2.2 (Java Card 2.1 to 3.0.x). Format 2.3
 * (Java Card 3.1, with its extended form holding several packages) is
 * GP_ERR_UNSUPPORTED.
 */
#ifndef GP_CAP_H
#define GP_CAP_H

#include <stddef.h>
#include <stdint.h>

#define GP_CAP_AID_MIN		5
#define GP_CAP_AID_MAX		16
#define GP_CAP_ENTRIES_MAX	1024		/* ZIP entries of any kind */
#define GP_CAP_COMP_MAX		(1024 * 1024)	/* one component */
#define GP_CAP_TOTAL_MAX	(4 * 1024 * 1024) /* all components */
#define GP_CAP_NTAGS		13		/* tags 1..12; 0 unused */

enum gp_cap_tag {
	GP_CAP_HEADER = 1,
	GP_CAP_DIRECTORY = 2,
	GP_CAP_APPLET = 3,
	GP_CAP_IMPORT = 4,
	GP_CAP_CONSTANTPOOL = 5,
	GP_CAP_CLASS = 6,
	GP_CAP_METHOD = 7,
	GP_CAP_STATICFIELD = 8,
	GP_CAP_REFLOCATION = 9,
	GP_CAP_EXPORT = 10,
	GP_CAP_DESCRIPTOR = 11,
	GP_CAP_DEBUG = 12,
};

/* Header flags (JCVM 6.3). */
#define GP_CAP_ACC_INT		0x01
#define GP_CAP_ACC_EXPORT	0x02
#define GP_CAP_ACC_APPLET	0x04

enum gp_cap_hash {
	GP_CAP_SHA1 = 1,
	GP_CAP_SHA256 = 2,
};

struct gp_cap_aid {
	uint8_t		len;
	uint8_t		b[GP_CAP_AID_MAX];
};

struct gp_cap_applet {
	struct gp_cap_aid aid;
	uint16_t	install;	/* install() offset in Method info */
};

struct gp_cap_import {
	struct gp_cap_aid aid;
	uint8_t		minor;
	uint8_t		major;
};

/* One component as stored: tag, u2 size and info. p == NULL: absent. */
struct gp_cap_comp {
	uint8_t		*p;
	size_t		 len;
};

struct gp_cap {
	uint8_t		 fmt_minor;	/* CAP file format */
	uint8_t		 fmt_major;
	uint8_t		 flags;		/* GP_CAP_ACC_* */
	uint8_t		 pkg_minor;
	uint8_t		 pkg_major;
	struct gp_cap_aid pkg;
	char		*pkg_name;	/* Header package_name (2.2+), or NULL */
	char		*path;		/* ZIP folder of javacard/, "a/b/c" */
	const char	*jc_version;	/* static string, NULL when unknown */
	struct gp_cap_applet *applets;
	size_t		 napplets;
	struct gp_cap_import *imports;
	size_t		 nimports;
	size_t		 ncustom;	/* custom components seen, never loaded */
	struct gp_cap_comp comp[GP_CAP_NTAGS];
	uint8_t		*c4;		/* C4 || BER length || lfdb */
	size_t		 c4_len;
	const uint8_t	*lfdb;		/* Load File Data Block, inside c4 */
	size_t		 lfdb_len;
};

/*
 * Opens and validates a CAP held in memory (the bytes are not kept) or in
 * a file. On success *out owns all its memory; free it with gp_cap_free.
 * Errors: GP_ERR_FORMAT (not a ZIP, malformed component), GP_ERR_TRUNC
 * (a component ends early), GP_ERR_NOTFOUND (a mandatory component is
 * missing), GP_ERR_TOOLARGE (caps above), GP_ERR_UNSUPPORTED (CAP format,
 * several packages), GP_ERR_IO (file), GP_ERR_NOMEM.
 */
int	gp_cap_open_mem(const uint8_t *, size_t, struct gp_cap **out);
int	gp_cap_open_file(const char *path, struct gp_cap **out);
/*
 * The same checks on a Load File Data Block (its components one after
 * the other, as LOAD carries them after the C4 header): what a card has
 * after the last LOAD. No ZIP, so no path (NULL) and no custom components;
 * the errors are gp_cap_open_mem's.
 */
int	gp_cap_open_lfdb(const uint8_t *, size_t, struct gp_cap **out);
void	gp_cap_free(struct gp_cap *);

/* "Header", "Directory", ... for tags 1..12, NULL otherwise. */
const char *gp_cap_comp_name(int tag);
/* Java Card version implied by a javacard.framework import version. */
const char *gp_cap_jc_version(uint8_t major, uint8_t minor);
/*
 * Load File Data Block hash, as INSTALL [for load] and DAP blocks carry it:
 * over the block value, without the C4 tag and length (what GPPro hashes).
 * out needs 20 (SHA-1) or 32 (SHA-256) bytes.
 */
int	gp_cap_lfdb_hash(const struct gp_cap *, int alg, uint8_t *out,
	    size_t cap, size_t *outlen);

#endif
