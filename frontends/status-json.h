/* status-json — the JSON form of the status table's records, as `rill status --json` and
 * `rill status --follow --json` print them (docs/status-table.md, "JSON output"). One function per
 * record type; a field added to a record in the schema is added to its function here.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef RILL_FRONTEND_STATUS_JSON_H
#define RILL_FRONTEND_STATUS_JSON_H

#include "json.h"
#include "rill-status.h"

/* The version of the JSON output ("schema" in snapshot records). Bumped when a field changes
 * meaning or goes away; new fields may appear without a bump. */
#define STATUS_JSON_SCHEMA 1

/* Each appends one JSON object for the record to j (as a value: after json_key, in an array, or
 * at the top level of an empty writer). */
void status_json_session(struct json *j, const struct rill_status_session *s);
void status_json_element(struct json *j, const struct rill_status_element *e);
void status_json_job(struct json *j, const struct rill_status_job *jb);
void status_json_queue(struct json *j, const struct rill_status_queue *q);
void status_json_message(struct json *j, const struct rill_status_message *m);

#endif
