// SPDX-License-Identifier: MIT
/*
 * `measured admin dashboard-token add|list|remove`: the dashboard's access
 * tokens (docs/server.md, "Dashboard").  A new token is printed once; the
 * database keeps only its SHA-256 (server/dash_auth.c).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <openssl/crypto.h>
#include <json-c/json.h>
#include "admin.h"
#include "common.h"
#include "measured/error.h"
#include "../server/dashboard.h"
#include "store_dash.h"

static int token_add(struct m_store *st, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "role", required_argument, NULL, 'r' }, { "json", no_argument, NULL, 'j' }, { 0 }
	};
	const char *role = "read";
	char tok[SRV_DASH_TOKEN_LEN + 1], hash[SRV_DASH_HEX];
	bool json = false;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'r': role = optarg; break;
		case 'j': json = true; break;
		default: return usage_error("admin", "dashboard-token add: unknown option");
		}
	}
	if (optind + 1 != argc)
		return usage_error("admin", "dashboard-token add NAME [--role read|write] [--json]");
	if (strcmp(role, "read") && strcmp(role, "write"))
		return usage_error("admin", "--role: read or write");
	if (!m_store_name_ok(argv[optind], strlen(argv[optind])))
		return usage_error("admin", "dashboard-token add: NAME is 1 to %u characters of [A-Za-z0-9._-]",
				   M_STORE_NAME_MAX - 1);
	r = srv_dash_token_new(tok, hash);
	if (r == 0)
		r = m_store_dash_token_add(st, argv[optind], hash, !strcmp(role, "write") ? M_DASH_WRITE : M_DASH_READ);
	if (r < 0) {
		OPENSSL_cleanse(tok, sizeof(tok));
		return fail(EXIT_INPUT, r, "dashboard-token add");
	}
	if (json)
		printf("{\"name\":\"%s\",\"role\":\"%s\",\"token\":\"%s\"}\n", argv[optind], role, tok);
	else
		printf("%s\n", tok);
	OPENSSL_cleanse(tok, sizeof(tok));
	return EXIT_OK;
}

static int print_token(const char *name, int role, int64_t created, void *arg)
{
	json_object *a = arg;

	if (a) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(name));
		json_object_object_add(o, "role", json_object_new_string(role == M_DASH_WRITE ? "write" : "read"));
		json_object_object_add(o, "created", json_object_new_int64(created));
		json_object_array_add(a, o);
	} else {
		printf("%s %s %lld\n", name, role == M_DASH_WRITE ? "write" : "read", (long long)created);
	}
	return 0;
}

int admin_dashboard_token(struct m_store *st, int argc, char **argv)
{
	int r;

	if (argc >= 2 && !strcmp(argv[1], "add"))
		return token_add(st, argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "remove")) {
		if (argc != 3)
			return usage_error("admin", "dashboard-token remove NAME");
		r = m_store_dash_token_remove(st, argv[2]);
		return r < 0 ? fail(EXIT_INPUT, r, "dashboard-token remove") : EXIT_OK;
	}
	if (argc >= 2 && !strcmp(argv[1], "list")) {
		bool json = argc == 3 && !strcmp(argv[2], "--json");
		json_object *a = json ? json_object_new_array() : NULL;

		if (argc > 3 || (argc == 3 && !json))
			return usage_error("admin", "dashboard-token list [--json]");
		r = m_store_dash_token_list(st, print_token, a);
		if (r == 0 && a)
			printf("%s\n", json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN));
		json_object_put(a);
		return r < 0 ? fail(EXIT_INPUT, r, "dashboard-token list") : EXIT_OK;
	}
	return usage_error("admin", "dashboard-token add|list|remove");
}
