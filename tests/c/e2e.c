/*
 * The end-to-end scenarios against a running sandbox (EZT_SANDBOX_URL,
 * EZT_API_KEY), over the libcurl transport; every webhook's signature is
 * verified through the C API.
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <curl/curl.h>
#include <ezthrottle.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../examples/c/curl_transport.h"
#include "check.h"
#include "fetch.h"
#include "json.h"

#define SECRET "c_suite_webhook_secret_0123"

static const char *base;
static ezt_client *client;
static CURL *curl;
static char run_id[32];

static void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static char *url_of(const char *format, const char *detail) {
    static char buffers[8][512];
    static int next = 0;
    char *out = buffers[next++ % 8];
    char path[256];
    snprintf(path, sizeof path, format, detail);
    snprintf(out, 512, "%s%s", base, path);
    return out;
}

/* Wait for `count` deliveries at receiver box `name`; verify and parse each. */
static int webhooks(const char *name, int count, ezt_webhook_event **events) {
    char box[128];
    snprintf(box, sizeof box, "/receiver/c-%s-%s", run_id, name);
    for (int tries = 0; tries < 400; tries++) {
        cJSON *got = get_json(url_of("%s", box), getenv("EZT_API_KEY"));
        int n = cJSON_GetArraySize(got);
        if (n >= count) {
            for (int i = 0; i < count; i++) {
                const cJSON *delivery = cJSON_GetArrayItem(got, i);
                const char *body = cJSON_GetObjectItemCaseSensitive(delivery, "body")->valuestring;
                const cJSON *signature = cJSON_GetObjectItemCaseSensitive(delivery, "signature");
                ezt_signature_check check;
                ezt_status status = ezt_webhook_verify((const uint8_t *)body, strlen(body),
                                                       cJSON_IsString(signature) ? signature->valuestring : NULL, SECRET,
                                                       NULL, EZT_NOW, EZT_DEFAULT_TOLERANCE_SECS, &check);
                CHECK(status == EZT_OK && check.has_timestamp, "%s: signature refused: %s", name, ezt_signature_reason_name(check.reason));
                events[i] = NULL;
                CHECK(ezt_webhook_parse((const uint8_t *)body, strlen(body), &events[i]) == EZT_OK, "parse: %s", ezt_last_error_message());
            }
            cJSON_Delete(got);
            return count;
        }
        cJSON_Delete(got);
        sleep_ms(50);
    }
    CHECK(0, "%s: waited 20 s for %d webhook(s)", name, count);
    return 0;
}

static const char *hook(const char *name) {
    char path[128];
    snprintf(path, sizeof path, "/receiver/c-%s-%s", run_id, name);
    return url_of("%s", path);
}

static ezt_step *step_of(const ezt_step_options *options) {
    ezt_step *step = NULL;
    CHECK(ezt_step_new(options, &step) == EZT_OK, "step: %s", ezt_last_error_message());
    return step;
}

/* Execute; the result's job id (copied into `job_id`) or "" when it ran locally. */
static ezt_result *execute(ezt_step *step, char *job_id, size_t size) {
    ezt_result *result = NULL;
    ezt_status status = ezt_execute(client, step, &result);
    CHECK(status == EZT_OK, "execute: %d %s", (int)status, ezt_last_error_message());
    if (job_id != NULL) {
        const char *id = result ? result->job_id : NULL;
        snprintf(job_id, size, "%s", id ? id : "");
    }
    return result;
}

static void performance_basic(void) {
    ezt_webhook hooks[] = {{.url = hook("basic")}};
    ezt_step *step = step_of(&(ezt_step_options){
        .url = url_of("/upstream/status/%s", "200"), .method = "POST", .webhooks = hooks, .webhook_count = 1});
    char id[128];
    ezt_result_free(execute(step, id, sizeof id));
    ezt_webhook_event *events[1] = {NULL};
    if (webhooks("basic", 1, events) == 1) {
        CHECK(strcmp(events[0]->job_id, id) == 0, "the webhook is the job's");
        CHECK(events[0]->succeeded && events[0]->response_status == 200, "success");
        ezt_webhook_event_free(events[0]);
    }
    ezt_step_free(step);
}

static void multi_region_race(void) {
    const char *regions[] = {"iad", "lax", "ord"};
    ezt_webhook hooks[] = {{.url = hook("race")}};
    ezt_step *step = step_of(&(ezt_step_options){.url = url_of("/upstream/delay/%s", "100"),
                                                 .regions = regions,
                                                 .region_count = 3,
                                                 .execution_mode = EZT_EXECUTION_RACE,
                                                 .webhooks = hooks,
                                                 .webhook_count = 1});
    char id[128];
    ezt_result_free(execute(step, id, sizeof id));
    ezt_webhook_event *events[1] = {NULL};
    if (webhooks("race", 1, events) == 1) {
        CHECK(events[0]->succeeded, "the race succeeded");
        ezt_webhook_event_free(events[0]);
    }
    cJSON *report = get_json(url_of("/api/v1/jobs/%s", id), getenv("EZT_API_KEY"));
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(report, "attempts")) == 3, "three regions raced");
    cJSON_Delete(report);
    ezt_step_free(step);
}

static void fallback_chain(void) {
    ezt_step_options slow = {.url = url_of("/upstream/delay/%s", "3000")};
    ezt_step_options good = {.url = url_of("/upstream/status/%s", "200")};
    uint16_t codes[] = {500};
    ezt_fallback fallbacks[] = {{.step = &slow, .trigger_on_error = codes, .trigger_on_error_count = 1},
                                {.step = &good, .trigger_on_timeout_ms = 1000}};
    ezt_retry_policy no_retries = {.max_retries = 0, .max_reroutes = EZT_RETRY_UNSET};
    ezt_webhook hooks[] = {{.url = hook("fallback")}};
    ezt_step *step = step_of(&(ezt_step_options){.url = url_of("/upstream/status/%s", "500"),
                                                 .retry_policy = &no_retries,
                                                 .webhooks = hooks,
                                                 .webhook_count = 1,
                                                 .fallbacks = fallbacks,
                                                 .fallback_count = 2});
    ezt_result_free(execute(step, NULL, 0));
    ezt_webhook_event *events[1] = {NULL};
    if (webhooks("fallback", 1, events) == 1) {
        CHECK(events[0]->succeeded, "the chain ends in success");
        CHECK(strcmp(events[0]->response_body, "status 200") == 0, "from the last fallback");
        ezt_webhook_event_free(events[0]);
    }
    ezt_step_free(step);
}

static void on_success_workflow(void) {
    ezt_webhook child_hooks[] = {{.url = hook("child")}}, parent_hooks[] = {{.url = hook("parent")}};
    ezt_step_options child = {.url = url_of("/upstream/%s", "echo"), .webhooks = child_hooks, .webhook_count = 1};
    ezt_step *step = step_of(&(ezt_step_options){
        .url = url_of("/upstream/status/%s", "200"), .webhooks = parent_hooks, .webhook_count = 1, .on_success = &child});
    char id[128];
    ezt_result_free(execute(step, id, sizeof id));
    ezt_webhook_event *parent[1] = {NULL}, *second[1] = {NULL};
    if (webhooks("parent", 1, parent) == 1 && webhooks("child", 1, second) == 1) {
        CHECK(strcmp(parent[0]->job_id, id) == 0, "the parent's webhook");
        CHECK(strcmp(second[0]->job_id, id) != 0, "the child is its own job");
        CHECK(second[0]->succeeded, "the child succeeded");
    }
    ezt_webhook_event_free(parent[0]);
    ezt_webhook_event_free(second[0]);
    ezt_step_free(step);
}

static void hash_dedupe(void) {
    char path[128];
    snprintf(path, sizeof path, "/upstream/count/c-%s-hash", run_id);
    ezt_step *step = step_of(&(ezt_step_options){.url = url_of("%s", path), .method = "POST", .body = "{\"amount\":1000}"});
    char first[128], second[128];
    ezt_result *one = execute(step, first, sizeof first);
    ezt_result *two = execute(step, second, sizeof second);
    CHECK(strcmp(first, second) == 0, "the same job: %s vs %s", first, second);
    CHECK(two != NULL && strcmp(two->status, "duplicate") == 0, "the repeat is a duplicate");
    ezt_result_free(one);
    ezt_result_free(two);
    ezt_step_free(step);
}

static void unique_strategy(void) {
    ezt_step *step = step_of(
        &(ezt_step_options){.url = url_of("/upstream/status/%s", "200"), .idempotent_strategy = EZT_IDEMPOTENT_UNIQUE});
    char first[128], second[128];
    ezt_result_free(execute(step, first, sizeof first));
    ezt_result_free(execute(step, second, sizeof second));
    CHECK(strcmp(first, second) != 0 && first[0] != '\0', "different jobs");
    ezt_step_free(step);
}

static void frugal_local(void) {
    ezt_step *step = step_of(&(ezt_step_options){.url = url_of("/upstream/status/%s", "200"), .step_type = EZT_STEP_FRUGAL});
    ezt_result *result = execute(step, NULL, 0);
    CHECK(result != NULL && result->executed_locally && result->status_code == 200, "ran locally");
    CHECK(result != NULL && result->job_id == NULL, "nothing submitted");
    CHECK(result != NULL && strstr(result->trace, "[SUCCESS]") != NULL, "traced");
    ezt_result_free(result);
    ezt_step_free(step);
}

static void frugal_forwarded(void) {
    char path[128];
    snprintf(path, sizeof path, "/upstream/flaky/c-%s/1/429", run_id);
    ezt_webhook hooks[] = {{.url = hook("frugal")}};
    ezt_step *step = step_of(&(ezt_step_options){
        .url = url_of("%s", path), .step_type = EZT_STEP_FRUGAL, .webhooks = hooks, .webhook_count = 1});
    char id[128];
    ezt_result_free(execute(step, id, sizeof id));
    CHECK(id[0] != '\0', "forwarded as a job");
    ezt_webhook_event *events[1] = {NULL};
    if (webhooks("frugal", 1, events) == 1) {
        CHECK(strcmp(events[0]->job_id, id) == 0 && events[0]->succeeded, "EZThrottle completed it");
        ezt_webhook_event_free(events[0]);
    }
    ezt_step_free(step);
}

static void unreachable_falls_back(void) {
    ezt_client_options options = {.api_key = getenv("EZT_API_KEY"), .tracktags_url = "http://127.0.0.1:9", .timeout_ms = 2000};
    ezt_client *down = NULL;
    CHECK(ezt_client_new(&options, ezt_curl_transport, NULL, &down) == EZT_OK, "%s", ezt_last_error_message());
    char *answer = NULL;
    bool fell_back = false;
    char forward[512];
    snprintf(forward, sizeof forward, "{\"url\": \"%s\"}", url_of("/upstream/status/%s", "200"));
    CHECK(ezt_forward_or_fallback(down, forward, NULL, NULL, &answer, &fell_back) == EZT_ERR_NULL_ARGUMENT, "a fallback is required");
    ezt_client_free(down);
}

static void noop(void *user_data) { *(int *)user_data += 1; }

/* A gateway that reads the request and hangs up without a word. */
static void *hang_up_once(void *listener) {
    int peer = accept(*(int *)listener, NULL, NULL);
    if (peer >= 0) {
        char buffer[4096];
        if (read(peer, buffer, sizeof buffer) < 0) perror("read");
        close(peer);
    }
    return NULL;
}

/* No answer came back from a gateway that hangs up: the service was not reached, so the fallback runs, as for a
 * refused connection (and as the reference SDK's requests.ConnectionError). */
static void hangup_falls_back(void) {
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t length = sizeof address;
    bool listening = listener >= 0 && bind(listener, (struct sockaddr *)&address, sizeof address) == 0 &&
                     listen(listener, 1) == 0 && getsockname(listener, (struct sockaddr *)&address, &length) == 0;
    CHECK(listening, "a loopback listener");
    pthread_t thread;
    if (!listening || pthread_create(&thread, NULL, hang_up_once, &listener) != 0) return;
    char gateway[64];
    snprintf(gateway, sizeof gateway, "http://127.0.0.1:%d", ntohs(address.sin_port));
    ezt_client_options options = {.api_key = getenv("EZT_API_KEY"), .tracktags_url = gateway, .timeout_ms = 5000};
    ezt_client *hangs_up = NULL;
    CHECK(ezt_client_new(&options, ezt_curl_transport, NULL, &hangs_up) == EZT_OK, "%s", ezt_last_error_message());
    char forward[512], *answer = NULL;
    snprintf(forward, sizeof forward, "{\"url\": \"%s\"}", url_of("/upstream/status/%s", "200"));
    int fallbacks = 0;
    bool fell_back = false;
    CHECK(ezt_forward_or_fallback(hangs_up, forward, noop, &fallbacks, &answer, &fell_back) == EZT_OK, "%s", ezt_last_error_message());
    CHECK(fell_back && fallbacks == 1 && answer == NULL, "a gateway that hangs up: the fallback ran");
    pthread_join(thread, NULL);
    close(listener);
    ezt_client_free(hangs_up);
}

static void forward_and_secrets(void) {
    char *answer = NULL;
    char forward[512];
    snprintf(forward, sizeof forward, "{\"url\": \"%s\", \"method\": \"POST\", \"metadata\": {\"order\": 7}, \"webhooks\": [{\"url\": \"%s\"}]}",
             url_of("/upstream/status/%s", "200"), hook("forward"));
    CHECK(ezt_forward(client, forward, &answer) == EZT_OK, "forward: %s", ezt_last_error_message());
    CHECK(answer != NULL && strstr(answer, "\"queued\"") != NULL, "queued: %s", answer ? answer : "NULL");
    ezt_string_free(answer);
    ezt_webhook_event *events[1] = {NULL};
    if (webhooks("forward", 1, events) == 1) {
        CHECK(strcmp(events[0]->metadata_json, "{\"order\":7}") == 0, "metadata echoed");
        ezt_webhook_event_free(events[0]);
    }
    int fallbacks = 0;
    bool fell_back = true;
    answer = NULL;
    CHECK(ezt_forward_or_fallback(client, forward, noop, &fallbacks, &answer, &fell_back) == EZT_OK, "%s", ezt_last_error_message());
    CHECK(!fell_back && fallbacks == 0 && answer != NULL, "the service is up: no fallback");
    ezt_string_free(answer);

    ezt_client_options options = {.api_key = getenv("EZT_API_KEY"), .tracktags_url = "http://127.0.0.1:9", .timeout_ms = 2000};
    ezt_client *down = NULL;
    ezt_client_new(&options, ezt_curl_transport, NULL, &down);
    answer = NULL;
    CHECK(ezt_forward_or_fallback(down, forward, noop, &fallbacks, &answer, &fell_back) == EZT_OK, "%s", ezt_last_error_message());
    CHECK(fell_back && fallbacks == 1 && answer == NULL, "unreachable: the fallback ran");
    ezt_client_free(down);

    char *secrets = NULL;
    CHECK(ezt_webhook_secret_get(client, &secrets) == EZT_OK, "get: %s", ezt_last_error_message());
    CHECK(secrets != NULL && strstr(secrets, "c_****23") != NULL, "masked: %s", secrets ? secrets : "NULL");
    ezt_string_free(secrets);
}

static void secret_rotation(void) {
    char *answer = NULL;
    CHECK(ezt_webhook_secret_rotate(client, "c_suite_rotated_secret_987", SECRET, &answer) == EZT_OK, "rotate: %s", ezt_last_error_message());
    ezt_string_free(answer);
    char *secrets = NULL;
    CHECK(ezt_webhook_secret_get(client, &secrets) == EZT_OK, "get: %s", ezt_last_error_message());
    CHECK(secrets != NULL && strstr(secrets, "\"has_secondary\":true") != NULL && strstr(secrets, "c_****87") != NULL,
          "rotated: %s", secrets ? secrets : "NULL");
    ezt_string_free(secrets);
    /* A delivery signed with the new primary verifies during the rotation. */
    ezt_webhook hooks[] = {{.url = hook("rotated")}};
    ezt_step *step = step_of(&(ezt_step_options){.url = url_of("/upstream/status/%s", "200"),
                                                 .idempotent_strategy = EZT_IDEMPOTENT_UNIQUE,
                                                 .webhooks = hooks,
                                                 .webhook_count = 1});
    ezt_result_free(execute(step, NULL, 0));
    char box[128];
    snprintf(box, sizeof box, "/receiver/c-%s-rotated", run_id);
    cJSON *got = NULL;
    for (int tries = 0; tries < 400 && cJSON_GetArraySize(got) < 1; tries++) {
        cJSON_Delete(got);
        got = get_json(url_of("%s", box), getenv("EZT_API_KEY"));
        if (cJSON_GetArraySize(got) < 1) sleep_ms(50);
    }
    const cJSON *delivery = cJSON_GetArrayItem(got, 0);
    if (delivery != NULL) {
        const char *body = cJSON_GetObjectItemCaseSensitive(delivery, "body")->valuestring;
        const char *signature = cJSON_GetObjectItemCaseSensitive(delivery, "signature")->valuestring;
        ezt_signature_check check;
        CHECK(ezt_webhook_verify((const uint8_t *)body, strlen(body), signature, "c_suite_rotated_secret_987", SECRET, EZT_NOW,
                                 EZT_DEFAULT_TOLERANCE_SECS, &check) == EZT_OK && check.reason == EZT_SIGNATURE_VALID_PRIMARY,
              "reason %s", ezt_signature_reason_name(check.reason));
        CHECK(ezt_webhook_verify((const uint8_t *)body, strlen(body), signature, SECRET, NULL, EZT_NOW,
                                 EZT_DEFAULT_TOLERANCE_SECS, &check) == EZT_ERR_SIGNATURE, "the old secret alone no longer verifies");
    } else {
        CHECK(0, "no delivery after the rotation");
    }
    cJSON_Delete(got);
    ezt_step_free(step);
    CHECK(ezt_webhook_secret_delete(client, &answer) == EZT_OK, "delete: %s", ezt_last_error_message());
    ezt_string_free(answer);
    CHECK(ezt_webhook_secret_get(client, &secrets) == EZT_ERR_SECRETS_NOT_CONFIGURED, "deleted");
}

int main(void) {
    base = getenv("EZT_SANDBOX_URL");
    if (base == NULL || getenv("EZT_API_KEY") == NULL) {
        fprintf(stderr, "set EZT_SANDBOX_URL and EZT_API_KEY\n");
        return 2;
    }
    snprintf(run_id, sizeof run_id, "%lx", (unsigned long)time(NULL) ^ (unsigned long)clock());
    curl_global_init(CURL_GLOBAL_DEFAULT);
    curl = curl_easy_init();
    ezt_client_options options = {.api_key = getenv("EZT_API_KEY"), .tracktags_url = base};
    if (ezt_client_new(&options, ezt_curl_transport, curl, &client) != EZT_OK) {
        fprintf(stderr, "client: %s\n", ezt_last_error_message());
        return 2;
    }
    char *answer = NULL;
    if (ezt_webhook_secret_create(client, SECRET, NULL, &answer) != EZT_OK) {
        fprintf(stderr, "secrets: %s\n", ezt_last_error_message());
        return 2;
    }
    ezt_string_free(answer);
    struct {
        const char *name;
        void (*run)(void);
    } scenarios[] = {
        {"PERFORMANCE basic", performance_basic},
        {"multi-region race", multi_region_race},
        {"fallback chain 500 -> timeout -> 200", fallback_chain},
        {"on_success workflow, two webhooks", on_success_workflow},
        {"HASH dedupe", hash_dedupe},
        {"UNIQUE", unique_strategy},
        {"FRUGAL local", frugal_local},
        {"FRUGAL 429 -> forwarded", frugal_forwarded},
        {"forward, forward-or-fallback, secrets", forward_and_secrets},
        {"forward-or-fallback needs a fallback", unreachable_falls_back},
        {"forward-or-fallback falls back when the gateway hangs up", hangup_falls_back},
        {"secret rotation, then deletion", secret_rotation},
    };
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++) {
        begin_test(scenarios[i].name);
        scenarios[i].run();
        end_test();
    }
    ezt_client_free(client);
    curl_easy_cleanup(curl);
    curl_global_cleanup();
    return finish();
}
