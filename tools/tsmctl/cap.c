/*
 * tsmctl cap: build the demo CAP, show what libgp reads in a CAP file and
 * print its Load File Data Block.
 *
 *	cap demo OUT.cap [--package-aid HEX] [--applet-aid HEX] [--table N]
 *		(--table: a static byte array of N bytes, for a large file)
 *	cap info FILE.cap [--json]
 *	cap loadfile FILE.cap
 *
 * Exit status: 0 success, 1 the CAP or a file failed, 2 usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gp/buf.h"
#include "gp/cap.h"
#include "gp/err.h"
#include "capgen.h"
#include "tsmctl.h"

static int
usage(void)
{
	fprintf(stderr, "usage: tsmctl cap demo OUT.cap [--package-aid HEX] "
	    "[--applet-aid HEX] [--table N]\n"
	    "       tsmctl cap info FILE.cap [--json]\n"
	    "       tsmctl cap loadfile FILE.cap\n");
	return 2;
}

static void
put_hex(FILE *f, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		fprintf(f, "%02X", p[i]);
}

/*
 * A JSON string. Names come from the ZIP and may hold any byte: bytes
 * outside printable ASCII are written as \u00XX so the output stays
 * valid JSON whatever the archive says.
 */
static void
put_json_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (s == NULL) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7F)
			fprintf(f, "\\u%04X", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static int
open_cap(const char *path, struct gp_cap **cap)
{
	int r;

	if ((r = gp_cap_open_file(path, cap)) != 0) {
		fprintf(stderr, "tsmctl cap: %s: %s\n", path, gp_strerror(r));
		return 1;
	}
	return 0;
}

static int
parse_aid(const char *opt, const char *hex, uint8_t *aid, size_t *len)
{
	if (hex == NULL || gp_hex_decode(hex, aid, GP_CAP_AID_MAX, len) != 0 ||
	    *len < GP_CAP_AID_MIN) {
		fprintf(stderr, "tsmctl cap: %s wants 5 to 16 bytes of hex\n",
		    opt);
		return -1;
	}
	return 0;
}

static int
write_file(const char *path, const uint8_t *p, size_t n)
{
	FILE *f;

	if ((f = fopen(path, "wb")) == NULL) {
		perror(path);
		return 1;
	}
	if (fwrite(p, 1, n, f) != n) {
		perror(path);
		fclose(f);
		return 1;
	}
	if (fclose(f) != 0) {
		perror(path);
		return 1;
	}
	return 0;
}

static int
cmd_demo(int argc, char **argv)
{
	uint8_t pkg[GP_CAP_AID_MAX], app[GP_CAP_AID_MAX], *zip = NULL;
	size_t plen = 0, alen = 0, zlen, table = 0;
	char *end;
	int i, r, havepkg = 0, haveapp = 0;

	if (argc < 2)
		return usage();
	for (i = 2; i < argc; i += 2) {
		if (i + 1 >= argc)
			return usage();
		if (strcmp(argv[i], "--table") == 0) {
			unsigned long v = strtoul(argv[i + 1], &end, 10);

			if (*argv[i + 1] == '\0' || *end != '\0' || v < 1 ||
			    v > 65522) {
				fprintf(stderr, "tsmctl cap demo: --table is "
				    "1..65522 bytes\n");
				return 2;
			}
			table = v;
		} else if (strcmp(argv[i], "--package-aid") == 0) {
			if (parse_aid(argv[i], argv[i + 1], pkg, &plen) != 0)
				return 2;
			havepkg = 1;
		} else if (strcmp(argv[i], "--applet-aid") == 0) {
			if (parse_aid(argv[i], argv[i + 1], app, &alen) != 0)
				return 2;
			haveapp = 1;
		} else
			return usage();
	}
	if ((r = capgen_demo_table(havepkg ? pkg : NULL, plen,
	    haveapp ? app : NULL, alen, table, &zip, &zlen)) != 0) {
		fprintf(stderr, "tsmctl cap demo: %s\n", gp_strerror(r));
		return 1;
	}
	r = write_file(argv[1], zip, zlen);
	free(zip);
	return r;
}

static void
info_text(const struct gp_cap *cap, const uint8_t *sha256)
{
	size_t i;
	int t;

	if (cap->pkg_name != NULL)
		printf("package:      %s\n", cap->pkg_name);
	printf("path:         %s\n", cap->path);
	printf("package AID:  ");
	put_hex(stdout, cap->pkg.b, cap->pkg.len);
	printf("\nversion:      %u.%u\n", cap->pkg_major, cap->pkg_minor);
	printf("CAP format:   %u.%u\n", cap->fmt_major, cap->fmt_minor);
	printf("Java Card:    %s\n", cap->jc_version ? cap->jc_version :
	    "unknown");
	printf("applets:      %zu\n", cap->napplets);
	for (i = 0; i < cap->napplets; i++) {
		printf("  ");
		put_hex(stdout, cap->applets[i].aid.b, cap->applets[i].aid.len);
		printf(" install at 0x%04X\n", cap->applets[i].install);
	}
	printf("imports:      %zu\n", cap->nimports);
	for (i = 0; i < cap->nimports; i++) {
		printf("  ");
		put_hex(stdout, cap->imports[i].aid.b, cap->imports[i].aid.len);
		printf(" %u.%u\n", cap->imports[i].major, cap->imports[i].minor);
	}
	printf("components:\n");
	for (t = 1; t < GP_CAP_NTAGS; t++)
		if (cap->comp[t].p != NULL)
			printf("  %-13s %zu\n", gp_cap_comp_name(t),
			    cap->comp[t].len);
	printf("load file:    %zu bytes (%zu with C4 header)\n",
	    cap->lfdb_len, cap->c4_len);
	printf("LFDB SHA-256: ");
	put_hex(stdout, sha256, 32);
	printf("\n");
}

static void
info_json_lists(const struct gp_cap *cap)
{
	size_t i;

	printf("\"applets\":[");
	for (i = 0; i < cap->napplets; i++) {
		printf("%s{\"aid\":\"", i ? "," : "");
		put_hex(stdout, cap->applets[i].aid.b, cap->applets[i].aid.len);
		printf("\",\"install_offset\":%u}", cap->applets[i].install);
	}
	printf("],\"imports\":[");
	for (i = 0; i < cap->nimports; i++) {
		printf("%s{\"aid\":\"", i ? "," : "");
		put_hex(stdout, cap->imports[i].aid.b, cap->imports[i].aid.len);
		printf("\",\"version\":\"%u.%u\"}", cap->imports[i].major,
		    cap->imports[i].minor);
	}
	printf("],");
}

static void
info_json(const struct gp_cap *cap, const uint8_t *sha256)
{
	const char *sep = "";
	int t;

	printf("{\"package_aid\":\"");
	put_hex(stdout, cap->pkg.b, cap->pkg.len);
	printf("\",\"package_version\":\"%u.%u\",\"package_name\":",
	    cap->pkg_major, cap->pkg_minor);
	put_json_str(stdout, cap->pkg_name);
	printf(",\"path\":");
	put_json_str(stdout, cap->path);
	printf(",\"cap_format\":\"%u.%u\",\"javacard\":", cap->fmt_major,
	    cap->fmt_minor);
	put_json_str(stdout, cap->jc_version);
	printf(",");
	info_json_lists(cap);
	printf("\"components\":{");
	for (t = 1; t < GP_CAP_NTAGS; t++)
		if (cap->comp[t].p != NULL) {
			printf("%s\"%s\":%zu", sep, gp_cap_comp_name(t),
			    cap->comp[t].len);
			sep = ",";
		}
	printf("},\"load_file_size\":%zu,\"load_file_sha256\":\"",
	    cap->lfdb_len);
	put_hex(stdout, sha256, 32);
	printf("\"}\n");
}

static int
cmd_info(int argc, char **argv)
{
	struct gp_cap *cap = NULL;
	uint8_t md[32];
	size_t mdlen;
	int json = 0, r;

	if (argc == 3 && strcmp(argv[2], "--json") == 0)
		json = 1;
	else if (argc != 2)
		return usage();
	if (open_cap(argv[1], &cap) != 0)
		return 1;
	if ((r = gp_cap_lfdb_hash(cap, GP_CAP_SHA256, md, sizeof(md),
	    &mdlen)) != 0) {
		fprintf(stderr, "tsmctl cap: hash: %s\n", gp_strerror(r));
		gp_cap_free(cap);
		return 1;
	}
	if (json)
		info_json(cap, md);
	else
		info_text(cap, md);
	gp_cap_free(cap);
	return 0;
}

static int
cmd_loadfile(int argc, char **argv)
{
	struct gp_cap *cap = NULL;

	if (argc != 2)
		return usage();
	if (open_cap(argv[1], &cap) != 0)
		return 1;
	put_hex(stdout, cap->c4, cap->c4_len);
	printf("\n");
	gp_cap_free(cap);
	return 0;
}

int
tsmctl_cap(int argc, char **argv)
{
	if (argc < 1)
		return usage();
	if (strcmp(argv[0], "demo") == 0)
		return cmd_demo(argc, argv);
	if (strcmp(argv[0], "info") == 0)
		return cmd_info(argc, argv);
	if (strcmp(argv[0], "loadfile") == 0)
		return cmd_loadfile(argc, argv);
	if (strcmp(argv[0], "verify") == 0)
		return tsmctl_cap_verify(argc, argv);
	return usage();
}
