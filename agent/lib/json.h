/* SPDX-License-Identifier: GPL-2.0 */
/* A small streaming JSON writer: commas, nesting and string escaping. */
#ifndef KVMRT_JSON_H
#define KVMRT_JSON_H

#include <stdio.h>
#include <stdint.h>

#define JSON_MAX_DEPTH 16

struct json {
	FILE *f;
	int depth;
	int first[JSON_MAX_DEPTH];
};

void json_init(struct json *j, FILE *f);
void json_obj_begin(struct json *j, const char *key);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j, const char *key);
void json_arr_end(struct json *j);
/* val must be UTF-8: text kvmrt did not write goes through escape.h first */
void json_str(struct json *j, const char *key, const char *val);
void json_u64(struct json *j, const char *key, uint64_t val);
void json_i64(struct json *j, const char *key, int64_t val);
void json_f64(struct json *j, const char *key, double val);
void json_bool(struct json *j, const char *key, int val);
void json_null(struct json *j, const char *key);
/* Finish the document with a newline. */
void json_end(struct json *j);

#endif
