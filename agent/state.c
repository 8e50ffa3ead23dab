// SPDX-License-Identifier: MIT
/*
 * The agent's enrolment record, STATE_DIR/enrollment.json.  It holds no
 * secret (the keys stay in the TPM); it only spares a second enrolment and
 * remembers which server, machine name and AK it was made for.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "agent.h"
#include "measured/json.h"
#include "measured/error.h"
#include "measured/file.h"

#define STATE_FILE "enrollment.json"

static int copy_field(json_object *o, const char *key, char *dst, size_t size, const char *path)
{
	const char *s = m_json_str(o, key);

	if (!s)
		return m_err(-EBADMSG, "%s: field '%s' missing", path, key);
	if (strlen(s) >= size)
		return m_err(-EBADMSG, "%s: field '%s' longer than %zu bytes", path, key, size - 1);
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

int m_agent_state_load(const char *dir, struct m_agent_state *ret)
{
	struct m_agent_state s;
	struct m_json_error err;
	json_object *o = NULL;
	char path[4096];
	uint8_t *data = NULL;
	size_t len;
	int r;

	if ((size_t)snprintf(path, sizeof(path), "%s/" STATE_FILE, dir) >= sizeof(path))
		return m_err(-ENAMETOOLONG, "%s: name too long", dir);
	r = m_read_file(path, M_STATE_MAX, &data, &len);
	if (r < 0)
		return r;
	o = m_json_parse((const char *)data, len, 8, 0, &err);
	if (!o || !json_object_is_type(o, json_type_object)) {
		r = m_err(-EBADMSG, "%s: not a JSON object", path);
		goto out;
	}
	memset(&s, 0, sizeof(s));
	r = copy_field(o, "server", s.server, sizeof(s.server), path);
	if (r >= 0)
		r = copy_field(o, "machine", s.machine, sizeof(s.machine), path);
	if (r >= 0)
		r = copy_field(o, "enrollment", s.enrollment, sizeof(s.enrollment), path);
	if (r >= 0)
		r = copy_field(o, "ak_name", s.ak_name, sizeof(s.ak_name), path);
	if (r >= 0)
		*ret = s;
out:
	json_object_put(o);
	free(data);
	return r;
}

int m_agent_state_save(const char *dir, const struct m_agent_state *s)
{
	json_object *o = json_object_new_object();
	char path[4096], tmp[4096];
	const char *text;
	size_t len, off = 0;
	int fd = -1, r = 0;

	if (!o)
		return -ENOMEM;
	json_object_object_add(o, "server", json_object_new_string(s->server));
	json_object_object_add(o, "machine", json_object_new_string(s->machine));
	json_object_object_add(o, "enrollment", json_object_new_string(s->enrollment));
	json_object_object_add(o, "ak_name", json_object_new_string(s->ak_name));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY);
	len = strlen(text);
	if ((size_t)snprintf(path, sizeof(path), "%s/" STATE_FILE, dir) >= sizeof(path) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s/." STATE_FILE ".%ld", dir, (long)getpid()) >= sizeof(tmp)) {
		r = m_err(-ENAMETOOLONG, "%s: name too long", dir);
		goto out;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		r = m_err(-errno, "%s: %s", dir, strerror(errno));
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = m_err(-errno, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = m_err(-errno, "%s: %s", tmp, strerror(errno));
			goto out;
		}
		off += (size_t)n;
	}
	if (write(fd, "\n", 1) != 1 || fsync(fd) < 0) {
		r = m_err(-errno, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		r = m_err(-errno, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		r = m_err(-errno, "%s: %s", path, strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	if (r < 0)
		unlink(tmp);
	json_object_put(o);
	return r;
}
