/* status-json — the status table's records as JSON objects (see status-json.h). Conventions
 * (docs/status-table.md): times are integers in CLOCK_REALTIME ns, null when unset; ids are
 * integers, null for "none"; strings are "" when unset; enums are their display names.
 * SPDX-License-Identifier: Apache-2.0 */
#include "status-json.h"

#include <stdio.h>
#include <string.h>

static void field_time(struct json *j, const char *key, int64_t ns)
{
	json_key(j, key);
	if (ns)
		json_int(j, ns);
	else
		json_null(j);
}

static void field_id(struct json *j, const char *key, uint32_t id)
{
	json_key(j, key);
	if (id == RILL_STATUS_NONE)
		json_null(j);
	else
		json_uint(j, id);
}

/* "a.bst b.bst" as ["a.bst", "b.bst"]. */
static void field_words(struct json *j, const char *key, const char *words)
{
	json_key(j, key);
	json_array_begin(j);
	for (const char *p = words; *p;) {
		size_t n = strcspn(p, " ");
		if (n)
			json_string_n(j, p, n);
		p += n;
		p += strspn(p, " ");
	}
	json_array_end(j);
}

void status_json_session(struct json *j, const struct rill_status_session *s)
{
	char id[24];
	snprintf(id, sizeof(id), "%016llx", (unsigned long long)s->session_id);
	json_object_begin(j);
	json_field_string(j, "id", id);     /* a string: 64-bit ids do not survive JSON doubles */
	json_field_string(j, "state", rill_session_state_name(s->state));
	json_field_bool(j, "final", rill_session_state_is_final(s->state));
	json_field_string(j, "command", s->command);
	json_field_string(j, "project", s->project);
	json_field_string(j, "project_dir", s->project_dir);
	field_words(j, "targets", s->targets);
	json_field_int(j, "backend_pid", s->backend_pid);
	field_time(j, "start_ns", s->start_ns);
	field_time(j, "heartbeat_ns", s->heartbeat_ns);
	field_time(j, "end_ns", s->end_ns);
	json_field_uint(j, "elements_total", s->elements_total);
	json_field_uint(j, "elements_cached", s->elements_cached);
	json_field_uint(j, "elements_failed", s->elements_failed);
	json_field_uint(j, "jobs_running", s->jobs_running);
	json_key(j, "element_states");
	json_object_begin(j);
	for (int st = 1; st < RILL_ELEMENT_STATE_COUNT; st++)
		json_field_uint(j, rill_element_state_name((enum rill_element_state)st), s->element_states[st]);
	json_object_end(j);
	json_field_uint(j, "first_seq", s->first_seq);
	json_field_uint(j, "last_seq", s->last_seq);
	json_field_uint(j, "session_seq", s->session_seq);
	json_field_uint(j, "generation", s->generation);
	json_field_bool(j, "quitting", (s->flags & RILL_SESSION_QUITTING) != 0);
	json_field_bool(j, "suspended", (s->flags & RILL_SESSION_SUSPENDED) != 0);
	json_field_bool(j, "awaiting_decision", (s->flags & RILL_SESSION_AWAITING) != 0);
	field_id(j, "awaiting_job", s->awaiting_job);
	json_field_string(j, "on_error", s->on_error == RILL_ON_ERROR_ASK ? "ask"
			  : s->on_error == RILL_ON_ERROR_CONTINUE ? "continue"
			  : s->on_error == RILL_ON_ERROR_TERMINATE ? "terminate" : "quit");
	json_field_uint(j, "frontends", s->frontends);
	json_field_int(j, "paused_ns", s->paused_ns);
	field_time(j, "suspended_ns", s->suspended_ns);
	json_field_uint(j, "requests", s->requests);
	json_field_string(j, "error", s->error);
	json_object_end(j);
}

void status_json_element(struct json *j, const struct rill_status_element *e)
{
	json_object_begin(j);
	json_field_uint(j, "id", e->id);
	json_field_string(j, "name", e->name);
	json_field_string(j, "state", rill_element_state_name(e->state));
	json_field_string(j, "key", e->key);
	field_id(j, "job_id", e->job_id);
	json_field_string(j, "action", e->action);
	field_id(j, "failed_job_id", e->failed_job_id);
	field_time(j, "build_start_ns", e->build_start_ns);
	field_time(j, "build_end_ns", e->build_end_ns);
	json_object_end(j);
}

void status_json_job(struct json *j, const struct rill_status_job *jb)
{
	json_object_begin(j);
	json_field_uint(j, "id", jb->id);
	json_field_string(j, "action", jb->action);
	field_id(j, "element_id", jb->element_id);
	json_field_string(j, "element", jb->element_name);
	json_field_int(j, "pid", jb->pid);
	json_field_string(j, "result", rill_job_result_name(jb->result));
	field_time(j, "start_ns", jb->start_ns);
	field_time(j, "end_ns", jb->end_ns);
	json_field_int(j, "paused_ns", jb->paused_ns);
	json_field_string(j, "log_path", jb->log_path);
	json_field_string(j, "last_line", jb->last_line);
	json_object_end(j);
}

void status_json_queue(struct json *j, const struct rill_status_queue *q)
{
	json_object_begin(j);
	json_field_uint(j, "index", q->index);
	json_field_string(j, "action", q->action);
	json_field_string(j, "complete_name", q->complete_name);
	json_field_uint(j, "processed", q->processed);
	json_field_uint(j, "skipped", q->skipped);
	json_field_uint(j, "failed", q->failed);
	json_object_end(j);
}

void status_json_message(struct json *j, const struct rill_status_message *m)
{
	json_object_begin(j);
	json_field_uint(j, "seq", m->seq);
	field_time(j, "time_ns", m->time_ns);
	json_field_string(j, "type", rill_message_type_name(m->type));
	field_id(j, "element_id", m->element_id);
	json_field_string(j, "element", m->element_name);
	field_id(j, "job_id", m->job_id);
	json_field_string(j, "action", m->action);
	json_field_string(j, "text", m->text);
	json_key(j, "elapsed_ns");
	if (m->elapsed_ns >= 0)
		json_int(j, m->elapsed_ns);
	else
		json_null(j);
	json_field_string(j, "detail", m->detail);
	json_object_end(j);
}
