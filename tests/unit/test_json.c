/* test_json — the JSON writer of `rill status --json` (frontends/json.c): structure and commas,
 * string escaping, UTF-8 passthrough and replacement of invalid bytes, numbers.
 * SPDX-License-Identifier: Apache-2.0 */
#include "test.h"

#include <stdint.h>

#include "json.h"

static void json_structure_and_commas(void)
{
	struct json j = JSON_INIT;
	json_object_begin(&j);
	json_field_string(&j, "a", "x");
	json_key(&j, "list");
	json_array_begin(&j);
	json_int(&j, 1);
	json_object_begin(&j);
	json_object_end(&j);
	json_array_begin(&j);
	json_array_end(&j);
	json_null(&j);
	json_array_end(&j);
	json_field_bool(&j, "t", 1);
	json_field_bool(&j, "f", 0);
	json_key(&j, "raw");
	json_raw(&j, "[1,2]", 5);
	json_object_end(&j);
	CHECK_STR(j.buf, "{\"a\":\"x\",\"list\":[1,{},[],null],\"t\":true,\"f\":false,\"raw\":[1,2]}");
	CHECK(j.len == strlen(j.buf));
	json_reset(&j);
	CHECK(j.len == 0);
	json_array_begin(&j);
	json_string(&j, "");
	json_array_end(&j);
	CHECK_STR(j.buf, "[\"\"]");
	json_release(&j);
	CHECK(j.buf == NULL && j.len == 0);
}

static void json_escapes_control_characters(void)
{
	struct json j = JSON_INIT;
	json_string(&j, "q\" b\\ n\n t\t r\r b\b f\f e\x1b u\x01 del\x7f /");
	CHECK_STR(j.buf, "\"q\\\" b\\\\ n\\n t\\t r\\r b\\b f\\f e\\u001b u\\u0001 del\x7f /\"");
	json_reset(&j);
	json_string_n(&j, "a\0b", 3);
	CHECK_STR(j.buf, "\"a\\u0000b\"");
	json_release(&j);
}

static void json_utf8_passes_invalid_replaced(void)
{
	struct json j = JSON_INIT;
	/* é (2 bytes), € (3), 😀 (4) pass through unchanged */
	json_string(&j, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	CHECK_STR(j.buf, "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
	json_reset(&j);
	/* stray continuation, truncated sequence at the end, overlong '/', surrogate, > U+10FFFF,
	 * Latin-1 byte */
	json_string(&j, "a\x80" "b\xc0\xaf" "c\xed\xa0\x80" "d\xf4\x90\x80\x80" "e\xe9" "f\xe2\x82");
	CHECK_STR(j.buf, "\"a\\ufffdb\\ufffd\\ufffdc\\ufffd\\ufffd\\ufffdd\\ufffd\\ufffd\\ufffd\\ufffde\\ufffdf"
			 "\\ufffd\\ufffd\"");
	json_release(&j);
}

static void json_numbers(void)
{
	struct json j = JSON_INIT;
	json_array_begin(&j);
	json_int(&j, INT64_MIN);
	json_int(&j, -1);
	json_uint(&j, UINT64_MAX);
	json_uint(&j, 0);
	json_array_end(&j);
	CHECK_STR(j.buf, "[-9223372036854775808,-1,18446744073709551615,0]");
	json_release(&j);
}

static void json_long_strings_grow(void)
{
	struct json j = JSON_INIT;
	static char big[100001];
	memset(big, 'x', sizeof(big) - 1);
	big[5000] = '\n';
	json_string(&j, big);
	CHECK(j.len == sizeof(big) - 1 + 2 + 1);
	CHECK(j.buf[0] == '"' && j.buf[j.len - 1] == '"' && j.buf[5001] == '\\' && j.buf[5002] == 'n');
	json_release(&j);
}

int main(void)
{
	test_prog = "json";
	RUN(json_structure_and_commas);
	RUN(json_escapes_control_characters);
	RUN(json_utf8_passes_invalid_replaced);
	RUN(json_numbers);
	RUN(json_long_strings_grow);
	TEST_MAIN_END();
}
