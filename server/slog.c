// SPDX-License-Identifier: MIT
/*
 * Structured logs: one JSON object per line on stderr
 * ({"ts":...,"level":...,"event":...,FIELDS}), written with one write()
 * so lines from worker threads never interleave.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <stdlib.h>
#include <unistd.h>
#include "measured/error.h"
#include "measured/text.h"
#include "server.h"

void slog(const char *level, const char *event, json_object *fields)
{
	json_object *o = json_object_new_object();
	struct timespec ts;
	const char *txt;
	char *line;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	json_object_object_add(o, "ts", json_object_new_double((double)ts.tv_sec + ts.tv_nsec / 1e9));
	json_object_object_add(o, "level", json_object_new_string(level));
	json_object_object_add(o, "event", json_object_new_string(event));
	if (fields && json_object_is_type(fields, json_type_object)) {
		json_object_object_foreach(fields, k, v)
			json_object_object_add(o, k, json_object_get(v));
	} else if (fields) {
		/* not an object: kept whole, never iterated */
		json_object_object_add(o, "message", json_object_get(fields));
	}
	json_object_put(fields);
	txt = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	n = strlen(txt);
	line = malloc(n + 1);
	if (line) {
		memcpy(line, txt, n);
		line[n] = '\n';
		if (write(STDERR_FILENO, line, n + 1) < 0) {
			/* nowhere left to report it */
		}
		free(line);
	}
	json_object_put(o);
}

void slog_error(const char *event, int err)
{
	json_object *f = json_object_new_object();
	char *msg = m_text_escape_str(m_errmsg(err));

	json_object_object_add(f, "error", json_object_new_string(msg ? msg : "out of memory"));
	json_object_object_add(f, "errno", json_object_new_int(-err));
	free(msg);
	slog("error", event, f);
}
