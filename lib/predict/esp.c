// SPDX-License-Identifier: MIT
/*
 * Paths on an EFI system partition unpacked into a directory: FAT matches
 * names without regard to case, and UEFI and GRUB write them with \ or /.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include "measured/chain.h"
#include "measured/error.h"
#include "measured/file.h"

#define ESP_PATH_MAX 4096

static int resolve(const char *esp, const char *path, char *out, bool quiet)
{
	size_t o = strlen(esp);
	const char *p = path;

	if (o + strlen(path) + 2 > ESP_PATH_MAX)
		return m_err(-ENAMETOOLONG, "%s: path too long", path);
	memcpy(out, esp, o + 1);
	while (*p) {
		char comp[256];
		size_t n = 0;
		DIR *d;
		struct dirent *de;
		bool found = false;

		while (*p == '/' || *p == '\\')
			p++;
		while (*p && *p != '/' && *p != '\\' && n < sizeof(comp) - 1)
			comp[n++] = *p++;
		comp[n] = '\0';
		if (!n)
			break;
		if (!strcmp(comp, ".") || !strcmp(comp, ".."))
			return m_err(-EINVAL, "%s: . and .. are not allowed", path);
		if (!(d = opendir(out)))
			return quiet ? -ENOENT : m_err(-ENOENT, "%s: not on the ESP", path);
		while ((de = readdir(d)))
			if (!strcasecmp(de->d_name, comp)) {
				snprintf(out + o, ESP_PATH_MAX - o, "/%s", de->d_name);
				found = true;
				break;
			}
		closedir(d);
		if (!found)
			return quiet ? -ENOENT : m_err(-ENOENT, "%s: not on the ESP", path);
		o = strlen(out);
	}
	return 0;
}

int m_esp_read(const char *esp, const char *path, uint8_t **ret, size_t *ret_len)
{
	char full[ESP_PATH_MAX];
	int r = resolve(esp, path, full, false);

	if (r < 0)
		return r;
	return m_read_file(full, M_ESP_MAX_FILE, ret, ret_len);
}

bool m_esp_exists(const char *esp, const char *path)
{
	char full[ESP_PATH_MAX];
	return resolve(esp, path, full, true) == 0;
}

int m_esp_kind(const char *esp, const char *path)
{
	char full[ESP_PATH_MAX];
	struct stat st;

	if (resolve(esp, path, full, true) < 0 || lstat(full, &st) < 0)
		return 0;
	return S_ISDIR(st.st_mode) ? 2 : S_ISREG(st.st_mode) ? 1 : 0;
}
