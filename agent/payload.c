// SPDX-License-Identifier: MIT
/*
 * The released payload: AES-256-GCM (AES-128-GCM from a TPM 1.2; NIST SP
 * 800-38D) under the key the TPM recovered, written to a file that did not exist before.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/evp.h>
#include "agent.h"
#include "measured/error.h"

int m_payload_decrypt(const uint8_t *key, size_t key_len, const uint8_t *iv, size_t iv_len,
		      const uint8_t *ct, size_t ct_len, const uint8_t *tag, size_t tag_len,
		      uint8_t **ret, size_t *ret_len)
{
	EVP_CIPHER_CTX *c = NULL;
	uint8_t *out = NULL;
	int n = 0, fin = 0, r;

	if (key_len != 32 && key_len != 16)
		return m_err(-EBADMSG, "payload key of %zu bytes (AES-256 needs 32, AES-128 16)", key_len);
	if (iv_len != 12 || tag_len != 16)
		return m_err(-EBADMSG, "payload: iv of %zu bytes, tag of %zu (want 12 and 16)", iv_len,
			     tag_len);
	if (ct_len > M_PAYLOAD_MAX)
		return m_err(-EFBIG, "payload of %zu bytes (at most %u)", ct_len, M_PAYLOAD_MAX);
	out = malloc(ct_len + 1);
	c = EVP_CIPHER_CTX_new();
	if (!out || !c) {
		r = -ENOMEM;
		goto out;
	}
	if (EVP_DecryptInit_ex(c, key_len == 16 ? EVP_aes_128_gcm() : EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, (int)iv_len, NULL) != 1 ||
	    EVP_DecryptInit_ex(c, NULL, NULL, key, iv) != 1 ||
	    EVP_DecryptUpdate(c, out, &n, ct, (int)ct_len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, (int)tag_len, (void *)tag) != 1) {
		r = m_err(-EIO, "payload: AES-256-GCM setup failed");
		goto out;
	}
	if (EVP_DecryptFinal_ex(c, out + n, &fin) != 1) {
		r = m_err(-EBADMSG, "payload: authentication tag does not verify (corrupt or not ours)");
		goto out;
	}
	*ret = out;
	*ret_len = (size_t)n + (size_t)fin;
	out = NULL;
	r = 0;
out:
	if (out) {
		explicit_bzero(out, ct_len);
		free(out);
	}
	EVP_CIPHER_CTX_free(c);
	return r;
}

int m_payload_write(const char *path, const uint8_t *data, size_t len)
{
	size_t off = 0;
	int fd, r = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return m_err(-errno, "%s: %s", path, strerror(errno));
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = m_err(-errno, "%s: write at offset %zu: %s", path, off, strerror(errno));
			break;
		}
		off += (size_t)n;
	}
	if (r == 0 && fsync(fd) < 0)
		r = m_err(-errno, "%s: fsync: %s", path, strerror(errno));
	if (close(fd) < 0 && r == 0)
		r = m_err(-errno, "%s: close: %s", path, strerror(errno));
	if (r < 0)
		unlink(path);
	return r;
}
