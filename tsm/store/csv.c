/*
 * CSV card files: a header line naming the columns (any order, each
 * known field at most once), then one card per line. Fields may be
 * quoted ("" escapes a quote); a quoted field cannot span lines. The
 * caller hands one line at a time, without its end of line.
 */
#include <stdio.h>
#include <string.h>

#include "gp/buf.h"
#include "store/store_int.h"

#define CSV_MAXCOLS	16

struct span {
	char	buf[TSM_LINE_MAX];
	size_t	n;
};

/* Reads one field into f; *last set when the line ends after it. */
static int
next_field(struct gp_rd *rd, struct span *f, int *last, char *why,
    size_t wl)
{
	uint8_t c;
	int quoted = 0, closed = 0;

	f->n = 0;
	*last = 1;
	if (gp_rd_left(rd) > 0 && *gp_rd_ptr(rd) == '"') {
		(void)gp_rd_u8(rd, &c);
		quoted = 1;
	}
	while (gp_rd_u8(rd, &c) == 0) {
		if (quoted && !closed && c == '"') {
			if (gp_rd_left(rd) > 0 && *gp_rd_ptr(rd) == '"')
				(void)gp_rd_u8(rd, &c);
			else {
				closed = 1;
				continue;
			}
		} else if (c == ',' && (!quoted || closed)) {
			*last = 0;
			return 0;
		} else if (closed) {
			snprintf(why, wl, "text after a closing quote");
			return TSM_STORE_ERR_FORMAT;
		}
		if (f->n >= sizeof(f->buf))
			return TSM_STORE_ERR_TOOLARGE;
		f->buf[f->n++] = (char)c;
	}
	if (quoted && !closed) {
		snprintf(why, wl, "unterminated quote");
		return TSM_STORE_ERR_FORMAT;
	}
	return 0;
}

/* Trims spaces around an unquoted value. */
static const char *
trim(const struct span *f, size_t *n)
{
	const char *p = f->buf;
	size_t len = f->n;

	while (len > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		len--;
	}
	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
		len--;
	*n = len;
	return p;
}

int
tsm_csv_header(const char *line, size_t len, struct tsm_csv_cols *cols,
    char *why, size_t wl)
{
	struct gp_rd rd;
	struct span f;
	enum tsm_field fld;
	unsigned seen = 0;
	const char *p;
	size_t n;
	int last = 0, r;

	memset(cols, 0, sizeof(*cols));
	gp_rd_init(&rd, (const uint8_t *)line, len);
	while (!last) {
		if ((r = next_field(&rd, &f, &last, why, wl)) != 0)
			return TSM_STORE_ERR_FORMAT;
		p = trim(&f, &n);
		if (cols->ncols >= CSV_MAXCOLS) {
			snprintf(why, wl, "more than %d columns", CSV_MAXCOLS);
			return TSM_STORE_ERR_FORMAT;
		}
		if (tsm_row_field_parse(p, n, &fld) != 0) {
			snprintf(why, wl, "unknown column \"%.*s\"",
			    (int)(n > 40 ? 40 : n), p);
			return TSM_STORE_ERR_FORMAT;
		}
		if (seen & (1u << fld)) {
			snprintf(why, wl, "column \"%.*s\" twice", (int)n, p);
			return TSM_STORE_ERR_FORMAT;
		}
		seen |= 1u << fld;
		cols->map[cols->ncols++] = (int)fld;
	}
	if ((seen & (1u << TSM_F_CSN)) == 0) {
		snprintf(why, wl, "no csn column");
		return TSM_STORE_ERR_FORMAT;
	}
	return 0;
}

int
tsm_csv_row(const struct tsm_csv_cols *cols, const char *line, size_t len,
    struct tsm_import_row *row, char *why, size_t wl)
{
	struct gp_rd rd;
	struct span f;
	const char *p;
	size_t n;
	int i = 0, last = 0, r;

	memset(row, 0, sizeof(*row));
	row->tkv = -1;
	gp_rd_init(&rd, (const uint8_t *)line, len);
	while (!last) {
		if ((r = next_field(&rd, &f, &last, why, wl)) != 0)
			return TSM_STORE_ERR_FORMAT;
		if (i >= cols->ncols) {
			snprintf(why, wl, "more than the %d fields of the "
			    "header", cols->ncols);
			return TSM_STORE_ERR_FORMAT;
		}
		p = trim(&f, &n);
		if ((r = tsm_row_set(row, (enum tsm_field)cols->map[i], p, n,
		    why, wl)) != 0)
			return r;
		i++;
	}
	if (i != cols->ncols) {
		snprintf(why, wl, "%d fields, the header has %d", i,
		    cols->ncols);
		return TSM_STORE_ERR_FORMAT;
	}
	return tsm_row_complete(row, why, wl);
}
