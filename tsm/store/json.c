/*
 * JSON card files: an array of objects, or objects one after another
 * (JSON Lines). A small splitter finds each object's bytes as the file
 * streams past (never holding the file); cJSON parses one object at a
 * time. Keys are the CSV column names; values are strings, except
 * transport_key_version, which may be a number.
 */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "store/store_int.h"

#define JSON_DEPTH_MAX	8

void
tsm_json_split_init(struct tsm_json_split *j)
{
	memset(j, 0, sizeof(*j));
	j->line = 1;
}

static int
split_err(char *why, size_t wl, const char *what, int c)
{
	if (c >= 0x20 && c < 0x7f)
		snprintf(why, wl, "%s (found '%c')", what, c);
	else
		snprintf(why, wl, "%s (found byte 0x%02x)", what, c & 0xff);
	return TSM_STORE_ERR_FORMAT;
}

/* Inside an object: collect bytes, track strings and nesting. */
static int
in_object(struct tsm_json_split *j, int c, char *why, size_t wl)
{
	if (j->len >= sizeof(j->buf)) {
		snprintf(why, wl, "object longer than %d bytes", TSM_LINE_MAX);
		return TSM_STORE_ERR_TOOLARGE;
	}
	j->buf[j->len++] = (char)c;
	if (j->in_str) {
		if (j->esc)
			j->esc = 0;
		else if (c == '\\')
			j->esc = 1;
		else if (c == '"')
			j->in_str = 0;
		return 0;
	}
	if (c == '"')
		j->in_str = 1;
	else if (c == '{' || c == '[') {
		if (++j->depth > JSON_DEPTH_MAX) {
			snprintf(why, wl, "nested deeper than %d",
			    JSON_DEPTH_MAX);
			return TSM_STORE_ERR_FORMAT;
		}
	} else if (c == '}' || c == ']') {
		if (--j->depth == 0) {
			j->need_sep = j->started == 1;
			return 1;
		}
	}
	return 0;
}

static void
begin_object(struct tsm_json_split *j)
{
	j->obj_line = j->line;
	j->len = 0;
	j->buf[j->len++] = '{';
	j->depth = 1;
	j->in_str = 0;
	j->esc = 0;
	j->count++;
}

/* Between objects: the array punctuation, or nothing for JSON Lines. */
static int
between(struct tsm_json_split *j, int c, char *why, size_t wl)
{
	if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
		return 0;
	if (j->ended)
		return split_err(why, wl, "data after the closing ]", c);
	if (!j->started) {
		if (c == '[')
			j->started = 1;
		else if (c == '{') {
			j->started = 2;
			begin_object(j);
		} else
			return split_err(why, wl, "expected [ or {", c);
		return 0;
	}
	if (c == '{' && !j->need_sep) {
		begin_object(j);
		return 0;
	}
	if (j->started == 1 && c == ',' && j->need_sep) {
		j->need_sep = 0;
		return 0;
	}
	if (j->started == 1 && c == ']' && (j->need_sep || j->count == 0)) {
		j->ended = 1;
		return 0;
	}
	return split_err(why, wl, j->need_sep ? "expected , or ]" :
	    "expected an object", c);
}

int
tsm_json_split_byte(struct tsm_json_split *j, int c, char *why, size_t wl)
{
	int r;

	if (j->depth > 0)
		r = in_object(j, c, why, wl);
	else
		r = between(j, c, why, wl);
	if (c == '\n')
		j->line++;
	return r;
}

int
tsm_json_split_end(struct tsm_json_split *j, char *why, size_t wl)
{
	if (j->depth > 0) {
		snprintf(why, wl, "object starting here is not closed");
		return TSM_STORE_ERR_FORMAT;
	}
	if (!j->started) {
		snprintf(why, wl, "no JSON array or object");
		return TSM_STORE_ERR_FORMAT;
	}
	if (j->started == 1 && !j->ended) {
		snprintf(why, wl, "array is not closed with ]");
		return TSM_STORE_ERR_FORMAT;
	}
	return 0;
}

static int
json_field(struct tsm_import_row *row, const cJSON *it, unsigned *seen,
    char *why, size_t wl)
{
	enum tsm_field f;
	char num[8];
	const char *s;

	if (it->string == NULL ||
	    tsm_row_field_parse(it->string, strlen(it->string), &f) != 0) {
		snprintf(why, wl, "unknown key \"%.40s\"",
		    it->string != NULL ? it->string : "");
		return TSM_STORE_ERR_FORMAT;
	}
	if (*seen & (1u << f)) {
		snprintf(why, wl, "key \"%.40s\" twice", it->string);
		return TSM_STORE_ERR_FORMAT;
	}
	*seen |= 1u << f;
	if (f == TSM_F_TKV && cJSON_IsNumber(it)) {
		if (it->valuedouble < 0 || it->valuedouble > 255 ||
		    it->valuedouble != (double)it->valueint) {
			snprintf(why, wl, "transport_key_version: not 0..255");
			return TSM_STORE_ERR_FORMAT;
		}
		snprintf(num, sizeof(num), "%d", it->valueint);
		return tsm_row_set(row, f, num, strlen(num), why, wl);
	}
	if (!cJSON_IsString(it) || (s = it->valuestring) == NULL) {
		snprintf(why, wl, "%s: not a string", it->string);
		return TSM_STORE_ERR_FORMAT;
	}
	return tsm_row_set(row, f, s, strlen(s), why, wl);
}

int
tsm_json_row(const char *obj, size_t len, struct tsm_import_row *row,
    char *why, size_t wl)
{
	cJSON *root = NULL;
	const cJSON *it;
	unsigned seen = 0;
	int r;

	memset(row, 0, sizeof(*row));
	row->tkv = -1;
	if ((root = cJSON_ParseWithLength(obj, len)) == NULL ||
	    !cJSON_IsObject(root)) {
		snprintf(why, wl, "not a valid JSON object");
		r = TSM_STORE_ERR_FORMAT;
		goto out;
	}
	cJSON_ArrayForEach(it, root) {
		if ((r = json_field(row, it, &seen, why, wl)) != 0)
			goto out;
	}
	r = tsm_row_complete(row, why, wl);
 out:
	cJSON_Delete(root);
	return r;
}
