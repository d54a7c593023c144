/*
 * Every conformance vector through the C API: payloads and proxy requests,
 * FRUGAL decisions (with a scripted C transport), signatures, invalid steps,
 * and the random vectors' forwarded requests and gateway answers.
 * Reads the folder named by EZTHROTTLE_VECTORS (default conformance/).
 */
#include <ezthrottle.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "json.h"

#define API_KEY "ck_test_cust_abc_123"

/* ---- a scripted network ---------------------------------------------------- */

typedef struct {
    const cJSON *answers; /* url -> status or "network_error" */
    cJSON *local_calls;   /* [[method, url], ...] */
    cJSON *submitted;     /* job payloads */
    cJSON *last_gateway;  /* the last gateway request: {url, headers, envelope} */
    int calls;
} script;

static int answer_gateway(script *net, const ezt_http_request *request, ezt_http_response *response) {
    cJSON *captured = cJSON_CreateObject();
    cJSON_AddStringToObject(captured, "url", request->url);
    cJSON *headers = cJSON_AddObjectToObject(captured, "headers");
    for (size_t i = 0; i < request->header_count; i++) {
        cJSON_AddStringToObject(headers, request->headers[i].name, request->headers[i].value);
    }
    cJSON *envelope = cJSON_Parse((const char *)request->body);
    cJSON *body = cJSON_GetObjectItemCaseSensitive(envelope, "body");
    cJSON *job = cJSON_Parse(cJSON_IsString(body) ? body->valuestring : "null");
    cJSON_AddItemToArray(net->submitted, cJSON_Duplicate(job, true));
    if (envelope != NULL) cJSON_ReplaceItemInObjectCaseSensitive(envelope, "body", job);
    else cJSON_Delete(job);
    cJSON_AddItemToObject(captured, "envelope", envelope != NULL ? envelope : cJSON_CreateNull());
    cJSON_Delete(net->last_gateway);
    net->last_gateway = captured;

    char answer[256];
    snprintf(answer, sizeof answer,
             "{\"status\":\"allowed\",\"forwarded_response\":{\"status_code\":201,"
             "\"body\":\"{\\\"job_id\\\":\\\"job_%d\\\",\\\"status\\\":\\\"queued\\\"}\"}}",
             cJSON_GetArraySize(net->submitted));
    ezt_response_set_status(response, 200);
    ezt_response_set_body(response, (const uint8_t *)answer, strlen(answer));
    return EZT_TRANSPORT_OK;
}

static int scripted(void *user_data, const ezt_http_request *request, ezt_http_response *response) {
    script *net = user_data;
    net->calls++;
    if (!request->is_local) return answer_gateway(net, request, response);
    const char *url = request->url;
    cJSON *call = cJSON_CreateArray();
    cJSON_AddItemToArray(call, cJSON_CreateString(request->method));
    cJSON_AddItemToArray(call, cJSON_CreateString(url));
    cJSON_AddItemToArray(net->local_calls, call);
    const cJSON *answer = cJSON_GetObjectItemCaseSensitive(net->answers, url);
    if (cJSON_IsString(answer) && strcmp(answer->valuestring, "network_error") == 0) {
        ezt_response_set_error(response, "connection refused");
        return EZT_TRANSPORT_UNREACHABLE;
    }
    char body[600];
    snprintf(body, sizeof body, "body-of %s", url);
    ezt_response_set_status(response, cJSON_IsNumber(answer) ? (uint16_t)answer->valueint : 200);
    ezt_response_set_body(response, (const uint8_t *)body, strlen(body));
    return EZT_TRANSPORT_OK;
}

static script new_script(const cJSON *answers) {
    script net = {answers, cJSON_CreateArray(), cJSON_CreateArray(), NULL, 0};
    return net;
}

static void free_script(script *net) {
    cJSON_Delete(net->local_calls);
    cJSON_Delete(net->submitted);
    cJSON_Delete(net->last_gateway);
}

static ezt_client *new_client(script *net) {
    ezt_client_options options = {.api_key = API_KEY, .tracktags_url = "http://proxy.invalid", .ezthrottle_url = "http://ezt.invalid"};
    ezt_client *client = NULL;
    ezt_status status = ezt_client_new(&options, scripted, net, &client);
    CHECK(status == EZT_OK, "ezt_client_new: %s", ezt_last_error_message());
    return client;
}

static void expect_json(const char *text, const cJSON *expected, const char *what) {
    cJSON *actual = cJSON_Parse(text);
    char where[1024] = "";
    CHECK(actual != NULL && json_matches(actual, expected, where, sizeof where), "%s: %s (%s)", what, where, text);
    cJSON_Delete(actual);
}

static void expect_json_value(const cJSON *actual, const cJSON *expected, const char *what) {
    char where[1024] = "";
    CHECK(json_matches(actual, expected, where, sizeof where), "%s: %s", what, where);
}

static bool has_call(const cJSON *calls, const char *name, const char *argument) {
    const cJSON *call;
    cJSON_ArrayForEach(call, calls) {
        const cJSON *n = cJSON_GetArrayItem(call, 0), *a = cJSON_GetArrayItem(call, 1);
        if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0 && cJSON_IsString(a) && strcmp(a->valuestring, argument) == 0) return true;
    }
    return false;
}

static ezt_step *step_from(const cJSON *calls, ezt_status *status) {
    char *text = json_print_exact(calls);
    ezt_step *step = NULL;
    *status = ezt_step_from_calls(text, &step);
    cJSON_free(text);
    return step;
}

/* Refused with a validation error naming the field (`expect_path`, when the vector gives it), and nothing sent. */
static void expect_refusal(const cJSON *calls, const cJSON *expect_path) {
    ezt_status status;
    ezt_step *step = step_from(calls, &status);
    char *json = NULL;
    if (status == EZT_OK) status = ezt_step_to_json(step, &json);
    CHECK(status == EZT_ERR_VALIDATION, "expected EZT_ERR_VALIDATION, got %d (%s)", (int)status, json ? json : "");
    CHECK(strlen(ezt_last_error_path()) > 0 && strlen(ezt_last_error_message()) > 0, "the error names the field");
    if (cJSON_IsString(expect_path)) {
        CHECK(strcmp(ezt_last_error_path(), expect_path->valuestring) == 0, "error at %s, expected at %s: %s",
              ezt_last_error_path(), expect_path->valuestring, ezt_last_error_message());
    }
    if (step != NULL) {
        script net = new_script(NULL);
        ezt_client *client = new_client(&net);
        ezt_result *result = NULL;
        CHECK(ezt_execute(client, step, &result) == EZT_ERR_VALIDATION, "execute refuses it too");
        CHECK(net.calls == 0, "nothing was sent");
        ezt_client_free(client);
        free_script(&net);
    }
    ezt_string_free(json);
    ezt_step_free(step);
}

/* The job, handed over raw as the wire format (ezt_submit_job), reaches the gateway as it is. A generated key cannot be handed over. */
static void submit_raw_job(const cJSON *payload) {
    char *job = json_print_exact(payload);
    if (job != NULL && strstr(job, "<uuid4>") == NULL) {
        script net = new_script(NULL);
        ezt_client *client = new_client(&net);
        char *answer = NULL;
        CHECK(ezt_submit_job(client, job, &answer) == EZT_OK, "ezt_submit_job: %s", ezt_last_error_message());
        CHECK(cJSON_GetArraySize(net.submitted) == 1, "one job submitted");
        if (cJSON_GetArraySize(net.submitted) == 1) expect_json_value(cJSON_GetArrayItem(net.submitted, 0), payload, "ezt_submit_job");
        ezt_string_free(answer);
        ezt_client_free(client);
        free_script(&net);
    }
    cJSON_free(job);
}

/* ---- the vector files ------------------------------------------------------ */

static void run_payload(const cJSON *vector) {
    const cJSON *calls = cJSON_GetObjectItemCaseSensitive(vector, "calls");
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(vector, "expect_error"))) {
        expect_refusal(calls, cJSON_GetObjectItemCaseSensitive(vector, "expect_path"));
        return;
    }
    ezt_status status;
    ezt_step *step = step_from(calls, &status);
    CHECK(status == EZT_OK, "ezt_step_from_calls: %s", ezt_last_error_message());
    if (step == NULL) return;
    const cJSON *expected = cJSON_GetObjectItemCaseSensitive(vector, "payload");
    char *first = NULL, *second = NULL;
    CHECK(ezt_step_to_json(step, &first) == EZT_OK, "to_json: %s", ezt_last_error_message());
    CHECK(ezt_step_to_json(step, &second) == EZT_OK, "to_json: %s", ezt_last_error_message());
    if (first != NULL && second != NULL) {
        expect_json(first, expected, "payload");
        expect_json(second, expected, "payload");
        char *expected_text = cJSON_PrintUnformatted(expected);
        if (expected_text != NULL && strstr(expected_text, "<uuid4>") != NULL) {
            CHECK(strcmp(first, second) != 0, "two builds share their UUIDs");
        }
        cJSON_free(expected_text);
    }
    const cJSON *proxy = cJSON_GetObjectItemCaseSensitive(vector, "proxy_request");
    if (proxy != NULL && first != NULL) {
        script net = new_script(NULL);
        ezt_client *client = new_client(&net);
        if (has_call(calls, "type", "frugal")) {
            char *answer = NULL;
            CHECK(ezt_submit_job(client, first, &answer) == EZT_OK, "submit: %s", ezt_last_error_message());
            ezt_string_free(answer);
        } else {
            ezt_result *result = NULL;
            CHECK(ezt_execute(client, step, &result) == EZT_OK, "execute: %s", ezt_last_error_message());
            ezt_result_free(result);
        }
        CHECK(net.last_gateway != NULL, "a gateway request was sent");
        if (net.last_gateway != NULL) expect_json_value(net.last_gateway, proxy, "proxy_request");
        ezt_client_free(client);
        free_script(&net);
    }
    submit_raw_job(expected);
    ezt_string_free(first);
    ezt_string_free(second);
    ezt_step_free(step);
}

static void run_frugal(const cJSON *vector) {
    ezt_status status;
    ezt_step *step = step_from(cJSON_GetObjectItemCaseSensitive(vector, "calls"), &status);
    CHECK(status == EZT_OK, "ezt_step_from_calls: %s", ezt_last_error_message());
    if (step == NULL) return;
    script net = new_script(cJSON_GetObjectItemCaseSensitive(vector, "answers"));
    ezt_client *client = new_client(&net);
    ezt_result *result = NULL;
    status = ezt_execute(client, step, &result);
    CHECK(status == EZT_OK, "execute: %s", ezt_last_error_message());
    expect_json_value(net.local_calls, cJSON_GetObjectItemCaseSensitive(vector, "local_http_calls"), "local_http_calls");
    expect_json_value(net.submitted, cJSON_GetObjectItemCaseSensitive(vector, "submitted_jobs"), "submitted_jobs");
    if (result != NULL) expect_json(result->json, cJSON_GetObjectItemCaseSensitive(vector, "result"), "result");
    ezt_result_free(result);
    ezt_client_free(client);
    free_script(&net);
    ezt_step_free(step);
}

static void run_signature(const cJSON *vector) {
    const char *payload = cJSON_GetObjectItemCaseSensitive(vector, "payload")->valuestring;
    const cJSON *secondary = cJSON_GetObjectItemCaseSensitive(vector, "secondary_secret");
    const cJSON *tolerance = cJSON_GetObjectItemCaseSensitive(vector, "tolerance");
    ezt_signature_check check = {.reason = EZT_SIGNATURE_REPLAYED};
    ezt_status status = ezt_webhook_verify(
        (const uint8_t *)payload, strlen(payload), cJSON_GetObjectItemCaseSensitive(vector, "header")->valuestring,
        cJSON_GetObjectItemCaseSensitive(vector, "secret")->valuestring, cJSON_IsString(secondary) ? secondary->valuestring : NULL,
        (int64_t)cJSON_GetObjectItemCaseSensitive(vector, "now")->valuedouble,
        cJSON_IsNumber(tolerance) ? (uint64_t)tolerance->valuedouble : EZT_DEFAULT_TOLERANCE_SECS, &check);
    bool valid = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(vector, "valid"));
    CHECK((status == EZT_OK) == valid && check.valid == valid, "valid: got status %d", (int)status);
    CHECK(check.has_primary_reason == (check.reason == EZT_SIGNATURE_BOTH_SECRETS_FAILED), "primary reason set only for a rotation's refusal");
    CHECK(valid || status == EZT_ERR_SIGNATURE, "a refusal is EZT_ERR_SIGNATURE, got %d", (int)status);
    const char *expected = cJSON_GetObjectItemCaseSensitive(vector, "reason_code")->valuestring;
    CHECK(strcmp(ezt_signature_reason_name(check.reason), expected) == 0, "reason %s, expected %s", ezt_signature_reason_name(check.reason), expected);
    /* Only the random vectors carry it (for a failed rotation). */
    const cJSON *primary = cJSON_GetObjectItemCaseSensitive(vector, "primary_reason_code");
    if (cJSON_IsString(primary)) {
        CHECK(check.has_primary_reason && strcmp(ezt_signature_reason_name(check.primary_reason), primary->valuestring) == 0,
              "primary reason %s, expected %s", ezt_signature_reason_name(check.primary_reason), primary->valuestring);
    }
}

static void run_invalid(const cJSON *vector) {
    expect_refusal(cJSON_GetObjectItemCaseSensitive(vector, "calls"), cJSON_GetObjectItemCaseSensitive(vector, "expect_path"));
}

/* This project's own file (the random vectors): a forwarded or legacy request, and the reference's proxy request for it. */
static void run_forward(const cJSON *vector) {
    const cJSON *forward = cJSON_GetObjectItemCaseSensitive(vector, "forward");
    char *request = json_print_exact(forward != NULL ? forward : cJSON_GetObjectItemCaseSensitive(vector, "queue_request"));
    script net = new_script(NULL);
    ezt_client *client = new_client(&net);
    char *answer = NULL;
    ezt_status status = forward != NULL ? ezt_forward(client, request, &answer) : ezt_queue_request(client, request, &answer);
    CHECK(status == EZT_OK, "%s: %s", forward != NULL ? "ezt_forward" : "ezt_queue_request", ezt_last_error_message());
    CHECK(net.last_gateway != NULL, "a gateway request was sent");
    if (net.last_gateway != NULL) expect_json_value(net.last_gateway, cJSON_GetObjectItemCaseSensitive(vector, "proxy_request"), "proxy_request");
    ezt_string_free(answer);
    ezt_client_free(client);
    free_script(&net);
    cJSON_free(request);
}

/* Answers every request with one gateway answer: {status, headers, body}. */
static int answer_with(void *user_data, const ezt_http_request *request, ezt_http_response *response) {
    (void)request;
    const cJSON *answer = user_data, *header;
    const char *body = cJSON_GetObjectItemCaseSensitive(answer, "body")->valuestring;
    ezt_response_set_status(response, (uint16_t)cJSON_GetObjectItemCaseSensitive(answer, "status")->valueint);
    cJSON_ArrayForEach(header, cJSON_GetObjectItemCaseSensitive(answer, "headers")) {
        ezt_response_add_header(response, header->string, header->valuestring);
    }
    ezt_response_set_body(response, (const uint8_t *)body, strlen(body));
    return EZT_TRANSPORT_OK;
}

static bool ends_with(const char *text, const char *end) {
    size_t length = strlen(text), end_length = strlen(end);
    return length >= end_length && strcmp(text + length - end_length, end) == 0;
}

static int64_t now_ms(void) {
    struct timespec now;
    timespec_get(&now, TIME_UTC);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* This project's own file (the random vectors): the gateway's answer to a submitted job, and the answer or error the
 * reference's reading gives. C sees a denial's reason in the error's message. */
static void run_gateway(const cJSON *vector) {
    static const struct {
        const char *kind;
        ezt_status status;
    } kinds[] = {{"rate_limited", EZT_ERR_RATE_LIMITED}, {"authentication", EZT_ERR_AUTHENTICATION}, {"denied", EZT_ERR_DENIED},
                 {"job_rejected", EZT_ERR_JOB_REJECTED}, {"gateway", EZT_ERR_GATEWAY}, {"protocol", EZT_ERR_PROTOCOL}};
    ezt_client_options options = {.api_key = API_KEY, .tracktags_url = "http://proxy.invalid"};
    ezt_client *client = NULL;
    CHECK(ezt_client_new(&options, answer_with, (void *)cJSON_GetObjectItemCaseSensitive(vector, "answer"), &client) == EZT_OK,
          "ezt_client_new: %s", ezt_last_error_message());
    char *job = json_print_exact(cJSON_GetObjectItemCaseSensitive(vector, "job")), *answer = NULL;
    int64_t before = now_ms();
    ezt_status status = ezt_submit_job(client, job, &answer);
    int64_t after = now_ms();
    const cJSON *want = cJSON_GetObjectItemCaseSensitive(vector, "error");
    if (want == NULL) {
        CHECK(status == EZT_OK, "ezt_submit_job: %s", ezt_last_error_message());
        if (answer != NULL) expect_json(answer, cJSON_GetObjectItemCaseSensitive(vector, "result"), "result");
    } else {
        const char *kind = cJSON_GetObjectItemCaseSensitive(want, "kind")->valuestring, *message = ezt_last_error_message();
        ezt_status expected = EZT_OK;
        for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
            if (strcmp(kinds[i].kind, kind) == 0) expected = kinds[i].status;
        }
        CHECK(status == expected, "status %d, expected %s: %s", (int)status, kind, message);
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(want, "status"), *body = cJSON_GetObjectItemCaseSensitive(want, "body");
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(want, "message");
        CHECK(code == NULL || ezt_last_error_answer_status() == code->valueint, "status %d", (int)ezt_last_error_answer_status());
        CHECK(!cJSON_IsString(body) || strcmp(ezt_last_error_answer_body(), body->valuestring) == 0, "body: %s", ezt_last_error_answer_body());
        CHECK(!cJSON_IsString(text) || ends_with(message, text->valuestring), "message: %s", message);
        const cJSON *retry_at = cJSON_GetObjectItemCaseSensitive(want, "retry_at");
        const cJSON *retry_after = cJSON_GetObjectItemCaseSensitive(want, "retry_after_ms");
        int64_t at = ezt_last_error_retry_at_ms();
        CHECK(retry_at == NULL || at == (cJSON_IsNumber(retry_at) ? (int64_t)retry_at->valuedouble : -1), "retry at %lld", (long long)at);
        CHECK(retry_after == NULL || (at >= before + (int64_t)retry_after->valuedouble && at <= after + (int64_t)retry_after->valuedouble),
              "retry at %lld", (long long)at);
    }
    ezt_string_free(answer);
    cJSON_free(job);
    ezt_client_free(client);
}

int main(int argc, char **argv) {
    const char *dir = getenv("EZTHROTTLE_VECTORS");
    if (dir == NULL || *dir == '\0') dir = argc > 1 ? argv[1] : "conformance";
    struct {
        const char *file;
        void (*run)(const cJSON *);
    } files[] = {{"payloads", run_payload}, {"frugal", run_frugal}, {"signatures", run_signature}, {"invalid", run_invalid},
                 {"forward", run_forward}, {"gateway", run_gateway}};
    /* A folder may hold some of the files (the shared vectors have no forward.json); none is an error. */
    int files_read = 0;
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.json", dir, files[f].file);
        FILE *present = fopen(path, "rb");
        if (present == NULL) continue;
        fclose(present);
        cJSON *vectors = read_json(path);
        if (vectors == NULL) {
            fprintf(stderr, "cannot read %s\n", path);
            return 2;
        }
        files_read++;
        const cJSON *vector;
        cJSON_ArrayForEach(vector, vectors) {
            char name[512];
            const cJSON *n = cJSON_GetObjectItemCaseSensitive(vector, "name");
            snprintf(name, sizeof name, "%s::%s", files[f].file, cJSON_IsString(n) ? n->valuestring : "?");
            begin_test(name);
            files[f].run(vector);
            end_test();
        }
        cJSON_Delete(vectors);
    }
    if (files_read == 0) {
        fprintf(stderr, "no vector files in %s\n", dir);
        return 2;
    }
    return finish();
}
