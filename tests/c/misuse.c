/*
 * Misuse: NULL handles and strings, invalid UTF-8, malformed JSON, transports
 * that fail or return garbage, options that point at themselves. Each call returns a
 * status and leaves a message; nothing crashes or leaks (run under valgrind).
 */
#define _POSIX_C_SOURCE 200809L
#include <ezthrottle.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <threads.h>

#include "check.h"

#define KEY "ck_misuse_secret_key_0001"

#define EXPECT(call, expected)                                                                  \
    do {                                                                                        \
        ezt_status got_ = (call);                                                               \
        CHECK(got_ == (expected), "%s returned %d, expected %d (%s)", #call, (int)got_, (int)(expected), \
              ezt_last_error_message());                                                        \
        CHECK(got_ == EZT_OK || strlen(ezt_last_error_message()) > 0, "%s left no message", #call); \
    } while (0)

/* A transport whose behaviour the test picks. */
typedef struct {
    int outcome;         /* what to return */
    int status;          /* status to set, 0 for none */
    const char *body;    /* body to set, or NULL */
    const char *headers; /* one "Name: value" header, or NULL */
    int calls;
} canned;

static int canned_transport(void *user_data, const ezt_http_request *request, ezt_http_response *response) {
    (void)request;
    canned *c = user_data;
    c->calls++;
    if (c->status != 0) ezt_response_set_status(response, (uint16_t)c->status);
    if (c->body != NULL) ezt_response_set_body(response, (const uint8_t *)c->body, strlen(c->body));
    if (c->headers != NULL) ezt_response_add_header(response, "Retry-After", c->headers);
    if (c->outcome != EZT_TRANSPORT_OK) ezt_response_set_error(response, "canned failure");
    return c->outcome;
}

static ezt_client *client_over(canned *c) {
    ezt_client_options options = {.api_key = KEY, .tracktags_url = "http://gw.invalid"};
    ezt_client *client = NULL;
    EXPECT(ezt_client_new(&options, canned_transport, c, &client), EZT_OK);
    return client;
}

static ezt_step *step_for(const char *url) {
    ezt_step *step = NULL;
    EXPECT(ezt_step_new(&(ezt_step_options){.url = url}, &step), EZT_OK);
    return step;
}

/* The step's payload, or NULL when it is refused (the status is checked). */
static char *payload_of(const ezt_step_options *options, ezt_status expected) {
    ezt_step *step = NULL;
    char *json = NULL;
    ezt_status status = ezt_step_new(options, &step);
    if (status == EZT_OK) status = ezt_step_to_json(step, &json);
    CHECK(status == expected, "got %d, expected %d (%s)", (int)status, (int)expected, ezt_last_error_message());
    ezt_step_free(step);
    return json;
}

static ezt_status execute_with(canned *c, ezt_step *step) {
    ezt_client *client = client_over(c);
    ezt_result *result = NULL;
    ezt_status status = ezt_execute(client, step, &result);
    ezt_result_free(result);
    ezt_client_free(client);
    return status;
}

static void null_arguments(void) {
    ezt_step *step = step_for("https://a.example");
    ezt_step *none = NULL;
    char *out = NULL;
    ezt_step_options options = {.url = "https://a.example"};
    EXPECT(ezt_step_new(NULL, &none), EZT_ERR_NULL_ARGUMENT);
    EXPECT(ezt_step_new(&options, NULL), EZT_ERR_NULL_ARGUMENT);
    EXPECT(ezt_step_set_json(step, NULL, "{}"), EZT_ERR_NULL_ARGUMENT);
    EXPECT(ezt_step_set_json(NULL, "url", "\"https://a.example\""), EZT_ERR_NULL_ARGUMENT);
    EXPECT(ezt_step_to_json(NULL, &out), EZT_ERR_NULL_ARGUMENT);
    EXPECT(ezt_step_to_json(step, NULL), EZT_ERR_NULL_ARGUMENT);
    /* A NULL inside the options is refused and named. */
    ezt_header headers[] = {{"X-A", "1"}, {NULL, "2"}};
    EXPECT(ezt_step_new(&(ezt_step_options){.url = "https://a.example", .headers = headers, .header_count = 2}, &none),
           EZT_ERR_NULL_ARGUMENT);
    CHECK(strstr(ezt_last_error_message(), "headers[1].name") != NULL, "%s", ezt_last_error_message());
    ezt_fallback fallbacks[] = {{.step = NULL}};
    ezt_step_options child = {.url = "https://b.example", .fallbacks = fallbacks, .fallback_count = 1};
    EXPECT(ezt_step_new(&(ezt_step_options){.url = "https://a.example", .on_success = &child}, &none), EZT_ERR_NULL_ARGUMENT);
    CHECK(strstr(ezt_last_error_message(), "on_success.fallback[0].step") != NULL, "%s", ezt_last_error_message());
    EXPECT(ezt_step_new(&(ezt_step_options){.url = "https://a.example", .regions = NULL, .region_count = 3}, &none),
           EZT_ERR_NULL_ARGUMENT);
    CHECK(strstr(ezt_last_error_message(), "regions") != NULL, "%s", ezt_last_error_message());
    const char *regions[] = {"iad", NULL};
    EXPECT(ezt_step_new(&(ezt_step_options){.url = "https://a.example", .regions = regions, .region_count = 2}, &none),
           EZT_ERR_NULL_ARGUMENT);
    CHECK(strstr(ezt_last_error_message(), "regions[1]") != NULL, "%s", ezt_last_error_message());
    CHECK(none == NULL, "nothing was returned");
    ezt_client_free(NULL);
    ezt_result_free(NULL);
    ezt_webhook_event_free(NULL);
    ezt_string_free(NULL);
    ezt_step_free(NULL);
    ezt_step_free(step);
}

static void invalid_utf8_and_json(void) {
    ezt_step *step = step_for("https://a.example");
    ezt_step *none = NULL;
    EXPECT(ezt_step_new(&(ezt_step_options){.url = "https://a.example/\xff\xfe"}, &none), EZT_ERR_INVALID_UTF8);
    CHECK(strstr(ezt_last_error_message(), "`url`") != NULL, "%s", ezt_last_error_message());
    ezt_header headers[] = {{"X-A", "\xc3\x28"}};
    ezt_step_options child = {.url = "https://b.example", .headers = headers, .header_count = 1};
    EXPECT(ezt_step_new(&(ezt_step_options){.url = "https://a.example", .on_failure = &child}, &none), EZT_ERR_INVALID_UTF8);
    CHECK(strstr(ezt_last_error_message(), "on_failure.headers[0].value") != NULL, "%s", ezt_last_error_message());
    EXPECT(ezt_step_new(&(ezt_step_options){.url = "https://a.example", .metadata_json = "{\"a\": "}, &none), EZT_ERR_INVALID_JSON);
    CHECK(strstr(ezt_last_error_message(), "metadata_json") != NULL, "%s", ezt_last_error_message());
    EXPECT(ezt_step_new(&(ezt_step_options){.url = "https://a.example", .metadata_json = "[1]"}, &none), EZT_ERR_VALIDATION);
    CHECK(strcmp(ezt_last_error_path(), "metadata_json") == 0, "path %s", ezt_last_error_path());
    CHECK(none == NULL, "nothing was returned");
    EXPECT(ezt_step_set_json(step, "url", "\"https://a.example/\xff\""), EZT_ERR_INVALID_UTF8);
    EXPECT(ezt_step_set_json(step, "headers", "{\"X-A\": "), EZT_ERR_INVALID_JSON);
    EXPECT(ezt_step_set_json(step, "headers", "[1, 2]"), EZT_ERR_VALIDATION);
    EXPECT(ezt_step_set_json(step, "no_such_option", "1"), EZT_ERR_VALIDATION);
    CHECK(strcmp(ezt_last_error_path(), "no_such_option") == 0, "path %s", ezt_last_error_path());
    ezt_step *parsed = NULL;
    EXPECT(ezt_step_from_calls("[[\"url\"", &parsed), EZT_ERR_INVALID_JSON);
    EXPECT(ezt_step_from_calls("{\"url\": 1}", &parsed), EZT_ERR_VALIDATION);
    CHECK(parsed == NULL, "nothing was returned");
    char *json = NULL;
    EXPECT(ezt_step_to_json(step, &json), EZT_OK);
    CHECK(json != NULL && strstr(json, "\\xff") == NULL, "the refused values were not applied: %s", json);
    ezt_string_free(json);
    canned c = {EZT_TRANSPORT_OK, 200, "{}", NULL, 0};
    ezt_client *client = client_over(&c);
    char *answer = NULL;
    EXPECT(ezt_submit_job(client, "{\"url\":", &answer), EZT_ERR_VALIDATION);
    /* A raw job is checked as the builder checks a step, naming the field. */
    EXPECT(ezt_submit_job(client, "{\"url\": \"https://a.example\", \"on_success\": {\"method\": \"GET\"}}", &answer), EZT_ERR_VALIDATION);
    CHECK(strcmp(ezt_last_error_path(), "on_success.url") == 0, "path %s", ezt_last_error_path());
    EXPECT(ezt_submit_job(client, "{\"url\": \"https://a.example\", \"retry_policy\": {\"max_retries\": \"3\"}}", &answer), EZT_ERR_VALIDATION);
    CHECK(strcmp(ezt_last_error_path(), "retry_policy.max_retries") == 0, "path %s", ezt_last_error_path());
    EXPECT(ezt_submit_job(client, "{\"url\": \"https://a.example\", \"url\": \"https://b.example\"}", &answer), EZT_ERR_VALIDATION);
    CHECK(strcmp(ezt_last_error_path(), "job") == 0, "path %s", ezt_last_error_path());
    EXPECT(ezt_forward(client, "[]", &answer), EZT_ERR_VALIDATION);
    EXPECT(ezt_forward(client, "{\"url\": \"https://a.example\", \"colour\": 1}", &answer), EZT_ERR_VALIDATION);
    EXPECT(ezt_webhook_secret_create(client, "short", NULL, &answer), EZT_ERR_VALIDATION);
    CHECK(c.calls == 0 && answer == NULL, "nothing was sent");
    ezt_client_free(client);
    ezt_step_free(step);
}

static void validation_names_the_nested_field(void) {
    ezt_step_options ftp = {.url = "ftp://files.example"};
    ezt_step_options options = {.url = "https://a.example", .on_success = &ftp};
    CHECK(payload_of(&options, EZT_ERR_VALIDATION) == NULL, "refused");
    CHECK(strcmp(ezt_last_error_path(), "on_success.url") == 0, "path %s", ezt_last_error_path());
    CHECK(strstr(ezt_last_error_message(), "ftp") != NULL, "message %s", ezt_last_error_message());
    uint16_t codes[] = {500};
    ezt_fallback both[] = {{.step = &ftp, .trigger_on_error = codes, .trigger_on_error_count = 1, .trigger_on_timeout_ms = 1000}};
    ezt_step_options with_fallback = {.url = "https://a.example", .fallbacks = both, .fallback_count = 1};
    CHECK(payload_of(&(ezt_step_options){.url = "https://a.example", .on_failure = &with_fallback}, EZT_ERR_VALIDATION) == NULL, "refused");
    CHECK(strcmp(ezt_last_error_path(), "on_failure.fallback[0].trigger") == 0, "path %s", ezt_last_error_path());
    CHECK(payload_of(&(ezt_step_options){.url = "https://a.example", .step_type = 7}, EZT_ERR_VALIDATION) == NULL, "refused");
    CHECK(strcmp(ezt_last_error_path(), "step_type") == 0, "path %s", ezt_last_error_path());
    CHECK(payload_of(&(ezt_step_options){.url = "https://a.example", .execution_mode = 2}, EZT_ERR_VALIDATION) == NULL, "refused");
    CHECK(strcmp(ezt_last_error_path(), "execution_mode") == 0, "path %s", ezt_last_error_path());
    ezt_step *step = step_for("https://a.example");
    EXPECT(ezt_step_set_json(step, "method", "\"GE T\""), EZT_OK); /* checked when built */
    char *json = NULL;
    EXPECT(ezt_step_to_json(step, &json), EZT_ERR_VALIDATION);
    CHECK(strcmp(ezt_last_error_path(), "method") == 0, "path %s", ezt_last_error_path());
    canned c = {EZT_TRANSPORT_OK, 200, "{}", NULL, 0};
    EXPECT(execute_with(&c, step), EZT_ERR_VALIDATION);
    CHECK(c.calls == 0, "nothing is sent when validation fails");
    ezt_step_free(step);
}

/* The step copies what it needs: the caller's structs and strings can change
   or go once it is built; ezt_step_set_json replaces an option. */
static void options_are_copied_and_set_json_replaces(void) {
    char url[64] = "https://second.example";
    char body[8] = "b";
    ezt_header headers[] = {{"X-A", "1"}};
    ezt_step_options two = {.url = "https://two.example"};
    ezt_step_options options = {
        .url = url, .method = "post", .body = body, .headers = headers, .header_count = 1, .on_success = &two, .on_failure = &two,
        .on_failure_timeout_ms = 500};
    ezt_step *step = NULL;
    EXPECT(ezt_step_new(&options, &step), EZT_OK);
    strcpy(url, "https://changed.example");
    body[0] = 'x';
    two.url = "https://changed.example";
    EXPECT(ezt_step_set_json(step, "headers", "{\"X-B\": \"2\"}"), EZT_OK);
    char *json = NULL;
    EXPECT(ezt_step_to_json(step, &json), EZT_OK);
    const char *expected = "{\"url\":\"https://second.example\",\"method\":\"POST\",\"headers\":{\"X-B\":\"2\"},\"body\":\"b\","
                           "\"on_success\":{\"url\":\"https://two.example\",\"method\":\"GET\"},"
                           "\"on_failure\":{\"url\":\"https://two.example\",\"method\":\"GET\"},\"on_failure_timeout_ms\":500}";
    CHECK(json != NULL && strcmp(json, expected) == 0, "got %s", json);
    ezt_string_free(json);
    ezt_step_free(step);
}

/* Options that point at themselves: the chain ends at the core's nesting
   limit and the step is refused when built, naming where; nothing overflows. */
static void a_step_linked_to_itself(void) {
    ezt_step_options options = {.url = "https://self.example"};
    options.on_success = &options;
    CHECK(payload_of(&options, EZT_ERR_VALIDATION) == NULL, "refused");
    CHECK(strstr(ezt_last_error_message(), "nested more than") != NULL, "%s", ezt_last_error_message());
    CHECK(strncmp(ezt_last_error_path(), "on_success.on_success.", 22) == 0, "path %s", ezt_last_error_path());
    ezt_fallback fallbacks[] = {{.step = &options}};
    options.on_success = NULL;
    options.fallbacks = fallbacks;
    options.fallback_count = 1;
    CHECK(payload_of(&options, EZT_ERR_VALIDATION) == NULL, "refused");
    CHECK(strncmp(ezt_last_error_path(), "fallback[0].fallback[0].", 24) == 0, "path %s", ezt_last_error_path());
    /* Two fallbacks back at their own options describe 2^33 steps: refused at EZT_MAX_STEPS, at once. */
    ezt_fallback twice[] = {{.step = &options}, {.step = &options}};
    options.fallbacks = twice;
    options.fallback_count = 2;
    CHECK(payload_of(&options, EZT_ERR_VALIDATION) == NULL, "refused");
    CHECK(strstr(ezt_last_error_message(), "more than 1024 steps") != NULL, "%s", ezt_last_error_message());
    CHECK(EZT_MAX_STEPS == 1024, "the header's limit");
}

static void webhooks_regions_retry_policy(void) {
    const char *regions[] = {"iad", "lax"};
    ezt_webhook hooks[] = {{.url = "https://h.example/1", .quorum_vote = EZT_QUORUM_VOTE_YES},
                           {.url = "https://h.example/2", .regions = regions, .region_count = 1},
                           {.url = "https://h.example/3", .quorum_vote = 7}};
    uint16_t retry[] = {429, 503};
    ezt_retry_policy policy = {.max_retries = 2, .max_reroutes = EZT_RETRY_UNSET, .retry_codes = retry, .retry_code_count = 2};
    ezt_step_options options = {.url = "https://a.example",
                                .webhooks = hooks,
                                .webhook_count = 2,
                                .regions = regions,
                                .region_count = 2,
                                .retry_policy = &policy};
    char *json = payload_of(&options, EZT_OK);
    const char *expected = "{\"url\":\"https://a.example\",\"method\":\"GET\",\"webhooks\":[{\"url\":\"https://h.example/1\","
                           "\"has_quorum_vote\":true},{\"url\":\"https://h.example/2\",\"regions\":[\"iad\"]}],"
                           "\"regions\":[\"iad\",\"lax\"],\"retry_policy\":{\"max_retries\":2,\"retry_codes\":[429,503]}}";
    CHECK(json != NULL && strcmp(json, expected) == 0, "got %s", json);
    ezt_string_free(json);
    options.webhook_count = 3;
    CHECK(payload_of(&options, EZT_ERR_VALIDATION) == NULL, "refused");
    CHECK(strcmp(ezt_last_error_path(), "webhooks[2].quorum_vote") == 0, "path %s", ezt_last_error_path());
    hooks[2] = (ezt_webhook){.url = "https://h.example/3", .regions = NULL, .region_count = 2};
    CHECK(payload_of(&options, EZT_ERR_NULL_ARGUMENT) == NULL, "refused");
    CHECK(strstr(ezt_last_error_message(), "webhooks[2].regions") != NULL, "%s", ezt_last_error_message());
    options.webhook_count = 2;
    policy.max_retries = -7;
    CHECK(payload_of(&options, EZT_ERR_VALIDATION) == NULL, "refused");
    CHECK(strcmp(ezt_last_error_path(), "retry_policy.max_retries") == 0, "path %s", ezt_last_error_path());
    policy.max_retries = 0;
    uint16_t bad[] = {99};
    options.fallback_on_error = bad;
    options.fallback_on_error_count = 1;
    CHECK(payload_of(&options, EZT_ERR_VALIDATION) == NULL, "refused");
    CHECK(strcmp(ezt_last_error_path(), "fallback_on_error[0]") == 0, "path %s", ezt_last_error_path());
}

static void transports_that_fail_or_lie(void) {
    ezt_step *step = step_for("https://a.example");
    struct {
        canned c;
        ezt_status expected;
        const char *message_part;
    } cases[] = {
        {{EZT_TRANSPORT_FAILED, 0, NULL, NULL, 0}, EZT_ERR_TRANSPORT, "canned failure"},
        {{EZT_TRANSPORT_TIMEOUT, 0, NULL, NULL, 0}, EZT_ERR_TIMEOUT, "canned failure"},
        {{EZT_TRANSPORT_UNREACHABLE, 0, NULL, NULL, 0}, EZT_ERR_UNREACHABLE, "canned failure"},
        {{42, 0, NULL, NULL, 0}, EZT_ERR_TRANSPORT, "42"},
        {{EZT_TRANSPORT_OK, 0, "{}", NULL, 0}, EZT_ERR_TRANSPORT, "no status"},
        {{EZT_TRANSPORT_OK, 700, "{}", NULL, 0}, EZT_ERR_TRANSPORT, "answered 700"},
        {{EZT_TRANSPORT_OK, 200, "\x01garbage\xff", NULL, 0}, EZT_ERR_PROTOCOL, "not JSON"},
        {{EZT_TRANSPORT_OK, 200, "{\"status\":\"allowed\",\"forwarded_response\":{\"status_code\":\"x\"}}", NULL, 0}, EZT_ERR_PROTOCOL, "status_code"},
        {{EZT_TRANSPORT_OK, 200, "{\"status\":\"denied\",\"error\":\"plan\"}", NULL, 0}, EZT_ERR_DENIED, "plan"},
        {{EZT_TRANSPORT_OK, 502, "bad gateway", NULL, 0}, EZT_ERR_GATEWAY, "502"},
        {{EZT_TRANSPORT_OK, 401, "{\"error\":\"who\"}", NULL, 0}, EZT_ERR_AUTHENTICATION, "who"},
        {{EZT_TRANSPORT_OK, 200, "{\"status\":\"allowed\",\"forwarded_response\":{\"status_code\":400,\"body\":\"bad url\"}}", NULL, 0}, EZT_ERR_JOB_REJECTED, "bad url"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ezt_status status = execute_with(&cases[i].c, step);
        CHECK(status == cases[i].expected, "case %zu: %d, expected %d (%s)", i, (int)status, (int)cases[i].expected, ezt_last_error_message());
        CHECK(strstr(ezt_last_error_message(), cases[i].message_part) != NULL, "case %zu: message %s", i, ezt_last_error_message());
        CHECK(strstr(ezt_last_error_message(), KEY) == NULL, "case %zu: the API key leaked", i);
    }
    /* A rejected or failed answer's status and body, and none after another outcome. */
    canned bad_gateway = {EZT_TRANSPORT_OK, 502, "bad gateway", NULL, 0};
    EXPECT(execute_with(&bad_gateway, step), EZT_ERR_GATEWAY);
    CHECK(ezt_last_error_answer_status() == 502 && strcmp(ezt_last_error_answer_body(), "bad gateway") == 0, "%d %s",
          (int)ezt_last_error_answer_status(), ezt_last_error_answer_body());
    canned rejected = {EZT_TRANSPORT_OK, 200, "{\"status\":\"allowed\",\"forwarded_response\":{\"status_code\":400,\"body\":\"bad url\"}}", NULL, 0};
    EXPECT(execute_with(&rejected, step), EZT_ERR_JOB_REJECTED);
    CHECK(ezt_last_error_answer_status() == 400 && strcmp(ezt_last_error_answer_body(), "bad url") == 0, "%d %s",
          (int)ezt_last_error_answer_status(), ezt_last_error_answer_body());
    canned refused = {EZT_TRANSPORT_OK, 401, "{\"error\":\"who\"}", NULL, 0};
    EXPECT(execute_with(&refused, step), EZT_ERR_AUTHENTICATION);
    CHECK(ezt_last_error_answer_status() == 0 && *ezt_last_error_answer_body() == '\0', "no answer after an authentication error");
    /* A rate limit carries when to retry. */
    canned limited = {EZT_TRANSPORT_OK, 429, "{\"error\":\"slow down\"}", "5", 0};
    int64_t before = (int64_t)time(NULL) * 1000;
    EXPECT(execute_with(&limited, step), EZT_ERR_RATE_LIMITED);
    int64_t retry_at = ezt_last_error_retry_at_ms();
    CHECK(retry_at >= before + 4000 && retry_at <= before + 7000, "retry_at %lld", (long long)retry_at);
    ezt_step_free(step);
}

static int fallback_calls = 0;
static void count_fallback(void *user_data) {
    (void)user_data;
    fallback_calls++;
}

static void forward_or_fallback_only_when_unreachable(void) {
    const char *forward = "{\"url\": \"https://api.example/charge\", \"method\": \"POST\", \"body\": \"{}\"}";
    struct {
        canned c;
        ezt_status expected;
        bool fell_back;
    } cases[] = {
        {{EZT_TRANSPORT_UNREACHABLE, 0, NULL, NULL, 0}, EZT_OK, true},
        {{EZT_TRANSPORT_TIMEOUT, 0, NULL, NULL, 0}, EZT_OK, true},
        {{EZT_TRANSPORT_OK, 429, "{}", NULL, 0}, EZT_ERR_RATE_LIMITED, false},
        {{EZT_TRANSPORT_FAILED, 0, NULL, NULL, 0}, EZT_ERR_TRANSPORT, false},
        {{EZT_TRANSPORT_OK, 200, "{\"status\":\"allowed\",\"forwarded_response\":{\"status_code\":201,\"body\":\"{\\\"job_id\\\":\\\"j1\\\",\\\"status\\\":\\\"queued\\\"}\"}}", NULL, 0}, EZT_OK, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ezt_client *client = client_over(&cases[i].c);
        char *answer = NULL;
        bool fell_back = false;
        int before = fallback_calls;
        ezt_status status = ezt_forward_or_fallback(client, forward, count_fallback, NULL, &answer, &fell_back);
        CHECK(status == cases[i].expected, "case %zu: %d (%s)", i, (int)status, ezt_last_error_message());
        CHECK(fell_back == cases[i].fell_back && (fallback_calls - before) == (fell_back ? 1 : 0), "case %zu: fallback", i);
        CHECK((answer != NULL) == (status == EZT_OK && !fell_back), "case %zu: answer %s", i, answer ? answer : "NULL");
        ezt_string_free(answer);
        ezt_client_free(client);
    }
}

static void client_configuration(void) {
    unsetenv("EZTHROTTLE_API_KEY");
    canned c = {EZT_TRANSPORT_OK, 200, "{}", NULL, 0};
    ezt_client *client = NULL;
    ezt_client_options options = {0};
    EXPECT(ezt_client_new(&options, canned_transport, &c, &client), EZT_ERR_VALIDATION);
    CHECK(strstr(ezt_last_error_message(), "EZTHROTTLE_API_KEY") != NULL, "%s", ezt_last_error_message());
    setenv("EZTHROTTLE_API_KEY", KEY, 1);
    EXPECT(ezt_client_new(NULL, canned_transport, &c, &client), EZT_OK);
    ezt_client_free(client);
    ezt_client_options bad = {.api_key = "ck with spaces", .tracktags_url = "not a url"};
    client = NULL;
    EXPECT(ezt_client_new(&bad, canned_transport, &c, &client), EZT_ERR_VALIDATION);
    CHECK(strstr(ezt_last_error_message(), "ck with spaces") == NULL, "the key is not quoted");
    CHECK(client == NULL, "no client");
    EXPECT(ezt_client_new(&options, NULL, NULL, &client), EZT_ERR_NULL_ARGUMENT);
}

static void messages_are_per_call(void) {
    ezt_step *step = NULL;
    EXPECT(ezt_step_new(NULL, &step), EZT_ERR_NULL_ARGUMENT);
    CHECK(strlen(ezt_last_error_message()) > 0, "a failure leaves a message");
    EXPECT(ezt_step_new(&(ezt_step_options){.url = "https://a.example"}, &step), EZT_OK);
    CHECK(strcmp(ezt_last_error_message(), "") == 0, "a success clears it");
    CHECK(ezt_last_error_retry_at_ms() == -1, "no retry_at");
    CHECK(strcmp(ezt_version(), "0.1.0") == 0, "version %s", ezt_version());
    ezt_step_free(step);
}

static void webhook_parsing(void) {
    const char *body = "{\"job_id\":\"j1\",\"status\":\"success\",\"response\":{\"status_code\":201,\"headers\":{},\"body\":\"ok\"},\"metadata\":{\"a\":1}}";
    ezt_webhook_event *event = NULL;
    EXPECT(ezt_webhook_parse((const uint8_t *)body, strlen(body), &event), EZT_OK);
    CHECK(event != NULL && strcmp(event->job_id, "j1") == 0, "job id");
    CHECK(event->succeeded && event->response_status == 201, "status");
    CHECK(strcmp(event->response_body, "ok") == 0, "body");
    CHECK(strcmp(event->metadata_json, "{\"a\":1}") == 0, "metadata %s", event->metadata_json);
    CHECK(event->idempotent_key == NULL, "no key");
    ezt_webhook_event_free(event);
    event = NULL;
    EXPECT(ezt_webhook_parse((const uint8_t *)"{\"job_id\":1}", 12, &event), EZT_ERR_PROTOCOL);
    EXPECT(ezt_webhook_parse((const uint8_t *)"\xff\x00\x01", 3, &event), EZT_ERR_PROTOCOL);
    CHECK(event == NULL, "no event");
    ezt_signature_check check;
    EXPECT(ezt_webhook_verify((const uint8_t *)body, strlen(body), NULL, "secret_secret_1234", NULL, EZT_NOW, 300, &check), EZT_ERR_SIGNATURE);
    CHECK(!check.valid && check.reason == EZT_SIGNATURE_NO_SIGNATURE_HEADER && !check.has_timestamp, "reason %s", ezt_signature_reason_name(check.reason));
    CHECK(strcmp(ezt_signature_reason_name(99), "") == 0 && strcmp(ezt_signature_reason_name(-1), "") == 0, "unknown reason name");
    /* Signed with the empty key, which anyone can do: an empty secret, primary or secondary, verifies nothing. */
    const char *forged_body = "{\"job_id\":\"j\"}";
    const char *forged = "t=1764320000,v1=15c70733a562cb0253be2cf3b940df3548c4991445e59e072137fe30e8e23e15";
    EXPECT(ezt_webhook_verify((const uint8_t *)forged_body, strlen(forged_body), forged, "", NULL, 1764320000, 300, &check), EZT_ERR_SIGNATURE);
    CHECK(check.reason == EZT_SIGNATURE_SIGNATURE_MISMATCH, "empty secret: %s", ezt_signature_reason_name(check.reason));
    EXPECT(ezt_webhook_verify((const uint8_t *)forged_body, strlen(forged_body), forged, "secret_secret_1234", "", 1764320000, 300, &check), EZT_ERR_SIGNATURE);
    CHECK(check.reason == EZT_SIGNATURE_BOTH_SECRETS_FAILED, "empty secondary: %s", ezt_signature_reason_name(check.reason));
    /* The refusal is the core's, as every binding words it: the primary secret's reason. */
    CHECK(strstr(ezt_last_error_message(), "signature_mismatch") != NULL, "%s", ezt_last_error_message());
    CHECK(strcmp(ezt_signature_reason_name(EZT_SIGNATURE_REPLAYED), "replayed") == 0, "reason names");
}

/* A delivery whose follow-up fails carries the failure: no result, its
   status and message. The delivery is a signed conformance vector's. */
static void a_failing_follow_up(void) {
    canned c = {EZT_TRANSPORT_OK, 200,
                "{\"status\":\"allowed\",\"forwarded_response\":{\"status_code\":201,"
                "\"body\":\"{\\\"job_id\\\":\\\"job_1\\\",\\\"status\\\":\\\"queued\\\"}\"}}",
                NULL, 0};
    ezt_client_options options = {.api_key = KEY, .tracktags_url = "http://gw.invalid", .continuation_webhook = "https://app.example/hook"};
    ezt_client *client = NULL;
    EXPECT(ezt_client_new(&options, canned_transport, &c, &client), EZT_OK);
    ezt_step_options next = {.url = "https://a.example/next"};
    ezt_step *step = NULL;
    EXPECT(ezt_step_new(&(ezt_step_options){.url = "https://a.example", .on_success = &next}, &step), EZT_OK);
    ezt_result *result = NULL;
    EXPECT(ezt_execute(client, step, &result), EZT_OK);
    CHECK(result != NULL && result->job_id != NULL && strcmp(result->job_id, "job_1") == 0, "submitted as job_1");
    ezt_webhook_receiver *receiver = NULL;
    EXPECT(ezt_webhook_receiver_new(client, "whsec_primary_0123456789", NULL, 600, &receiver), EZT_OK);
    c.outcome = EZT_TRANSPORT_UNREACHABLE; /* the follow-up's submit fails */
    const char *body = "{\"job_id\":\"job_1\",\"idempotent_key\":\"k1\",\"status\":\"success\",\"response\":{\"status_code\":200,\"body\":\"ok\"}}";
    const char *signature = "t=1764319500,v1=3c8008f2e5540635b92ccd388eb78cb73f1d60f5414124166221c0b0a3e57655";
    ezt_delivery *delivery = NULL;
    int calls = c.calls;
    EXPECT(ezt_webhook_receive(receiver, (const uint8_t *)body, strlen(body), signature, 1764320000, &delivery), EZT_OK);
    CHECK(delivery->status == 200 && delivery->event != NULL && strcmp(delivery->event->job_id, "job_1") == 0, "accepted");
    CHECK(c.calls == calls + 1, "the follow-up was tried: %d calls", c.calls - calls);
    CHECK(delivery->follow_up == NULL && delivery->follow_up_status == EZT_ERR_UNREACHABLE, "status %d", (int)delivery->follow_up_status);
    CHECK(delivery->follow_up_error != NULL && strstr(delivery->follow_up_error, "canned failure") != NULL, "error %s",
          delivery->follow_up_error ? delivery->follow_up_error : "NULL");
    ezt_delivery_free(delivery);
    ezt_webhook_receiver_free(receiver);
    ezt_result_free(result);
    ezt_step_free(step);
    ezt_client_free(client);
}

/* A stateless transport: safe to call from several threads at once. */
static int always_ok(void *user_data, const ezt_http_request *request, ezt_http_response *response) {
    (void)user_data;
    (void)request;
    ezt_response_set_status(response, 200);
    ezt_response_set_body(response, (const uint8_t *)"fine", 4);
    return EZT_TRANSPORT_OK;
}

typedef struct {
    ezt_client *client;
    int index;
    int failures;
} worker;

static int work(void *argument) {
    worker *w = argument;
    for (int i = 0; i < 40; i++) {
        /* Odd workers make every other step invalid: their errors must stay theirs. */
        bool invalid = (w->index % 2 == 1) && (i % 2 == 0);
        ezt_step_options options = {.url = invalid ? "not a url" : "https://a.example/local", .step_type = EZT_STEP_FRUGAL};
        ezt_step *step = NULL;
        ezt_step_new(&options, &step);
        ezt_result *result = NULL;
        ezt_status status = ezt_execute(w->client, step, &result);
        if (invalid) {
            if (status != EZT_ERR_VALIDATION || strcmp(ezt_last_error_path(), "url") != 0) w->failures++;
        } else if (status != EZT_OK || strcmp(ezt_last_error_message(), "") != 0 || result->status_code != 200) {
            w->failures++;
        }
        ezt_result_free(result);
        ezt_step_free(step);
    }
    return 0;
}

static void receiver_wait_and_queue_request_refuse_bad_input(void) {
    canned c = {EZT_TRANSPORT_OK, 200, "{}", NULL, 0};
    ezt_client *client = client_over(&c);
    ezt_webhook_receiver *receiver = NULL;
    EXPECT(ezt_webhook_receiver_new(NULL, "whsec_primary_0123456789", NULL, EZT_DEFAULT_TOLERANCE_SECS, &receiver), EZT_ERR_NULL_ARGUMENT);
    EXPECT(ezt_webhook_receiver_new(client, "", NULL, EZT_DEFAULT_TOLERANCE_SECS, &receiver), EZT_ERR_VALIDATION);
    CHECK(strcmp(ezt_last_error_path(), "primary_secret") == 0, "path %s", ezt_last_error_path());
    EXPECT(ezt_webhook_receiver_new(client, "whsec_primary_0123456789", "", EZT_DEFAULT_TOLERANCE_SECS, &receiver), EZT_ERR_VALIDATION);
    CHECK(receiver == NULL, "no receiver");
    EXPECT(ezt_webhook_receiver_new(client, "whsec_primary_0123456789", NULL, EZT_DEFAULT_TOLERANCE_SECS, &receiver), EZT_OK);

    ezt_delivery *delivery = NULL;
    EXPECT(ezt_webhook_receive(NULL, (const uint8_t *)"{}", 2, NULL, EZT_NOW, &delivery), EZT_ERR_NULL_ARGUMENT);
    EXPECT(ezt_webhook_receive(receiver, NULL, 2, NULL, EZT_NOW, &delivery), EZT_ERR_NULL_ARGUMENT);
    EXPECT(ezt_webhook_receive(receiver, (const uint8_t *)"\xff", 1, NULL, EZT_NOW, &delivery), EZT_OK);
    CHECK(delivery->status == 401 && delivery->reason == EZT_SIGNATURE_BOTH_SECRETS_FAILED, "unsigned: %u %s",
          delivery->status, ezt_signature_reason_name(delivery->reason));
    CHECK(strstr(delivery->body, "invalid_signature") != NULL, "%s", delivery->body);
    ezt_delivery_free(delivery);
    ezt_delivery_free(NULL);
    ezt_webhook_receiver_free(receiver);
    ezt_webhook_receiver_free(NULL);

    ezt_webhook_event *event = NULL;
    EXPECT(ezt_wait_for_result(NULL, "job_1", 10, &event), EZT_ERR_NULL_ARGUMENT);
    EXPECT(ezt_wait_for_result(client, "job_1", 0, NULL), EZT_ERR_NULL_ARGUMENT);
    EXPECT(ezt_wait_for_result(client, "job_1", 0, &event), EZT_ERR_TIMEOUT);
    CHECK(event == NULL, "no event");

    char *answer = NULL;
    int sent = c.calls;
    EXPECT(ezt_queue_request(client, "{\"url\": \"https://a.example\"}", &answer), EZT_ERR_VALIDATION);
    CHECK(strcmp(ezt_last_error_path(), "webhook_url") == 0, "path %s", ezt_last_error_path());
    EXPECT(ezt_queue_request(client, "{\"url\": \"https://a.example\", \"webhook_url\": \"ftp://x\"}", &answer), EZT_ERR_VALIDATION);
    EXPECT(ezt_queue_request(client, "not json", &answer), EZT_ERR_INVALID_JSON);
    CHECK(c.calls == sent && answer == NULL, "nothing sent");
    ezt_client_free(client);
}

static void one_client_many_threads(void) {
    ezt_client_options options = {.api_key = KEY};
    ezt_client *client = NULL;
    EXPECT(ezt_client_new(&options, always_ok, NULL, &client), EZT_OK);
    worker workers[4];
    thrd_t threads[4];
    for (int i = 0; i < 4; i++) {
        workers[i] = (worker){client, i, 0};
        CHECK(thrd_create(&threads[i], work, &workers[i]) == thrd_success, "thread %d", i);
    }
    for (int i = 0; i < 4; i++) {
        thrd_join(threads[i], NULL);
        CHECK(workers[i].failures == 0, "worker %d saw %d wrong outcomes", i, workers[i].failures);
    }
    ezt_client_free(client);
}

int main(void) {
    struct {
        const char *name;
        void (*run)(void);
    } tests[] = {
        {"NULL arguments", null_arguments},
        {"invalid UTF-8 and malformed JSON", invalid_utf8_and_json},
        {"validation names the nested field, nothing sent", validation_names_the_nested_field},
        {"options are copied; ezt_step_set_json replaces", options_are_copied_and_set_json_replaces},
        {"a step linked to itself ends at the nesting limit", a_step_linked_to_itself},
        {"webhooks, regions, retry policy", webhooks_regions_retry_policy},
        {"transports that fail or return garbage", transports_that_fail_or_lie},
        {"forward-or-fallback falls back only when unreachable", forward_or_fallback_only_when_unreachable},
        {"client configuration", client_configuration},
        {"messages are per call", messages_are_per_call},
        {"webhook parsing and verification", webhook_parsing},
        {"receiver, wait and queue_request refuse bad input", receiver_wait_and_queue_request_refuse_bad_input},
        {"a delivery carries its follow-up's failure", a_failing_follow_up},
        {"one client, four threads, errors stay per thread", one_client_many_threads},
    };
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        begin_test(tests[i].name);
        tests[i].run();
        end_test();
    }
    return finish();
}
