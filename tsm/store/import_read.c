/*
 * Reading a card file: a fixed buffer, CSV lines or JSON objects handed
 * to the row parsers with their line numbers, progress reported as bytes
 * go by. Format from the name (.csv, .json, .jsonl) or the first byte.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "store/import_int.h"

#define READ_CHUNK	65536

struct reader {
	FILE		*fp;
	uint8_t		 buf[READ_CHUNK];
	size_t		 len, off;
	uint64_t	 done, total;
};

static int
rd_byte(struct reader *r)
{
	if (r->off == r->len) {
		r->len = fread(r->buf, 1, sizeof(r->buf), r->fp);
		r->off = 0;
		r->done += r->len;
		if (r->len == 0)
			return EOF;
	}
	return r->buf[r->off++];
}

static void
progress(struct tsm_import *im, struct reader *rd)
{
	if (im->o->progress != NULL && (im->res->rows & 0x3fff) == 0)
		im->o->progress(im->o->arg, rd->done, rd->total,
		    im->res->rows);
}

/* Reads one line without its end of line; *toolong when it was cut. */
static int
read_line(struct reader *rd, char *line, size_t *len, int *toolong)
{
	int c;

	*len = 0;
	*toolong = 0;
	while ((c = rd_byte(rd)) != EOF && c != '\n') {
		if (*len < TSM_LINE_MAX)
			line[(*len)++] = (char)c;
		else
			*toolong = 1;
	}
	if (*len > 0 && line[*len - 1] == '\r')
		(*len)--;
	return c == EOF && *len == 0 && !*toolong ? EOF : 0;
}

static int
csv_line(struct tsm_import *im, struct tsm_csv_cols *cols, int *have_hdr,
    uint64_t lineno, const char *line, size_t len)
{
	struct tsm_import_row row;
	char why[200];
	int r;

	if (len == 0 || line[0] == '#')
		return 0;
	if (!*have_hdr) {
		if ((r = tsm_csv_header(line, len, cols, why,
		    sizeof(why))) != 0) {
			tsm_import_bad(im, lineno, why);
			return TSM_STORE_ERR_FORMAT;
		}
		*have_hdr = 1;
		return 0;
	}
	if (tsm_csv_row(cols, line, len, &row, why, sizeof(why)) != 0) {
		im->res->rows++;
		tsm_import_bad(im, lineno, why);
		im->failed |= !im->o->skip_bad;
		return 0;
	}
	return tsm_import_row_add(im, lineno, &row);
}

static int
read_csv(struct tsm_import *im, struct reader *rd)
{
	struct tsm_csv_cols cols;
	char *line;
	size_t len;
	uint64_t lineno = 0;
	int have_hdr = 0, toolong, r = 0;

	if ((line = malloc(TSM_LINE_MAX)) == NULL)
		return TSM_STORE_ERR_NOMEM;
	while (r == 0 && read_line(rd, line, &len, &toolong) != EOF) {
		lineno++;
		if (lineno == 1 && len >= 3 && memcmp(line, "\xef\xbb\xbf",
		    3) == 0)
			memmove(line, line + 3, len -= 3);
		if (toolong) {
			im->res->rows++;
			tsm_import_bad(im, lineno, "line longer than 4096 "
			    "bytes");
			im->failed |= !im->o->skip_bad;
			continue;
		}
		r = csv_line(im, &cols, &have_hdr, lineno, line, len);
		progress(im, rd);
	}
	if (r == 0 && !have_hdr) {
		tsm_import_bad(im, lineno, "no header line");
		r = TSM_STORE_ERR_FORMAT;
	}
	free(line);
	return r;
}

static int
json_object(struct tsm_import *im, struct tsm_json_split *j)
{
	struct tsm_import_row row;
	char why[200];

	if (tsm_json_row(j->buf, j->len, &row, why, sizeof(why)) != 0) {
		im->res->rows++;
		tsm_import_bad(im, j->obj_line, why);
		im->failed |= !im->o->skip_bad;
		return 0;
	}
	return tsm_import_row_add(im, j->obj_line, &row);
}

static int
read_json(struct tsm_import *im, struct reader *rd)
{
	struct tsm_json_split *j;
	char why[200];
	int c, r = 0, s;

	if ((j = malloc(sizeof(*j))) == NULL)
		return TSM_STORE_ERR_NOMEM;
	tsm_json_split_init(j);
	while (r == 0 && (c = rd_byte(rd)) != EOF) {
		if ((s = tsm_json_split_byte(j, c, why, sizeof(why))) < 0) {
			tsm_import_bad(im, j->depth > 0 ? j->obj_line :
			    j->line, why);
			r = TSM_STORE_ERR_FORMAT;
		} else if (s == 1) {
			r = json_object(im, j);
			progress(im, rd);
		}
	}
	if (r == 0 && tsm_json_split_end(j, why, sizeof(why)) != 0) {
		tsm_import_bad(im, j->depth > 0 ? j->obj_line : j->line, why);
		r = TSM_STORE_ERR_FORMAT;
	}
	free(j);
	return r;
}

static enum tsm_import_format
guess(const char *name, struct reader *rd)
{
	const char *dot = name != NULL ? strrchr(name, '.') : NULL;
	size_t i;

	if (dot != NULL && strcmp(dot, ".csv") == 0)
		return TSM_IMPORT_CSV;
	if (dot != NULL && (strcmp(dot, ".json") == 0 ||
	    strcmp(dot, ".jsonl") == 0))
		return TSM_IMPORT_JSON;
	rd->len = fread(rd->buf, 1, sizeof(rd->buf), rd->fp);
	rd->done = rd->len;
	for (i = 0; i < rd->len; i++) {
		if (rd->buf[i] == ' ' || rd->buf[i] == '\n' ||
		    rd->buf[i] == '\r' || rd->buf[i] == '\t')
			continue;
		return rd->buf[i] == '[' || rd->buf[i] == '{' ?
		    TSM_IMPORT_JSON : TSM_IMPORT_CSV;
	}
	return TSM_IMPORT_CSV;
}

int
tsm_store_import_fp(struct tsm_store *s, FILE *fp, const char *name,
    const struct tsm_import_opts *o, struct tsm_import_result *res)
{
	struct tsm_import im;
	struct reader *rd;
	struct stat sb;
	int r;

	memset(res, 0, sizeof(*res));
	memset(&im, 0, sizeof(im));
	if ((rd = calloc(1, sizeof(*rd))) == NULL)
		return TSM_STORE_ERR_NOMEM;
	if ((im.md = EVP_MD_CTX_new()) == NULL) {
		free(rd);
		return TSM_STORE_ERR_NOMEM;
	}
	im.s = s;
	im.o = o;
	im.res = res;
	im.name = name != NULL ? name : "-";
	im.max_bad = o->max_bad > 0 ? o->max_bad : 100;
	im.now = tsm_now_ms();
	rd->fp = fp;
	if (fstat(fileno(fp), &sb) == 0 && S_ISREG(sb.st_mode))
		rd->total = (uint64_t)sb.st_size;
	if ((o->format == TSM_IMPORT_AUTO ? guess(name, rd) : o->format) ==
	    TSM_IMPORT_JSON)
		r = read_json(&im, rd);
	else
		r = read_csv(&im, rd);
	if (r == 0 && ferror(fp))
		r = TSM_STORE_ERR_IO;
	r = tsm_import_finish(&im, r);
	if (o->progress != NULL)
		o->progress(o->arg, rd->done, rd->total, res->rows);
	EVP_MD_CTX_free(im.md);
	free(rd);
	return r;
}

int
tsm_store_import_file(struct tsm_store *s, const char *path,
    const struct tsm_import_opts *o, struct tsm_import_result *res)
{
	FILE *fp;
	int r;

	memset(res, 0, sizeof(*res));
	if ((fp = fopen(path, "rb")) == NULL) {
		snprintf(s->err, sizeof(s->err), "%s: cannot open", path);
		return TSM_STORE_ERR_IO;
	}
	r = tsm_store_import_fp(s, fp, path, o, res);
	fclose(fp);
	return r;
}
