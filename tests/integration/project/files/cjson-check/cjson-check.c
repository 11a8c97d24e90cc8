/* cjson-check — parses a JSON document with the installed cJSON, changes it and prints it
 * back unformatted with the library's version, so the integration test can compare the output.
 * SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <cjson/cJSON.h>

int main(void)
{
	cJSON *doc = cJSON_Parse("{ \"name\": \"rill\", \"builds\": [1, 2] }");
	char *text;

	if (!doc) {
		fprintf(stderr, "cjson-check: parse failed\n");
		return 1;
	}
	cJSON_AddItemToArray(cJSON_GetObjectItem(doc, "builds"), cJSON_CreateNumber(3));
	cJSON_AddTrueToObject(doc, "ok");
	text = cJSON_PrintUnformatted(doc);
	printf("%s %s\n", cJSON_Version(), text);
	cJSON_free(text);
	cJSON_Delete(doc);
	return 0;
}
