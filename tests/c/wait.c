/*
 * Waiting for a job's result, end to end: a client with a continuation
 * webhook submits a job to the sandbox (EZT_SANDBOX_URL, EZT_API_KEY) over
 * libcurl; the sandbox delivers the signed result to a real HTTP server run
 * here, which hands it to the client's ezt_webhook_receiver; the main thread
 * waits with ezt_wait_for_result. The receiver runs the job's on_success
 * step, and refuses a replay of the same delivery.
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
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../examples/c/curl_transport.h"
#include "check.h"
#include "fetch.h"

#define SECRET "c_suite_wait_secret_0123456"

/* The one delivery the server received, kept to replay it. */
struct server {
    int listener;
    ezt_webhook_receiver *receiver;
    char *body;
    size_t length;
    char signature[512];
    uint16_t answered;
    int follow_up_ok;
    char follow_up_error[256];
};

static const char *base;

static char *header_value(char *head, const char *name) {
    size_t length = strlen(name);
    for (char *line = strstr(head, "\r\n"); line != NULL; line = strstr(line + 2, "\r\n")) {
        char *start = line + 2;
        if (strncasecmp(start, name, length) == 0 && start[length] == ':') {
            char *value = start + length + 1;
            while (*value == ' ') value++;
            return value;
        }
    }
    return NULL;
}

/* Serve one POST: read it whole, hand it to the receiver, answer what it says. */
static void *serve_one(void *arg) {
    struct server *server = arg;
    int connection = accept(server->listener, NULL, NULL);
    if (connection < 0) return NULL;
    size_t size = 1 << 16, used = 0;
    char *request = calloc(size + 1, 1);
    char *body = NULL;
    size_t expected = 0;
    for (;;) {
        ssize_t got = read(connection, request + used, size - used);
        if (got <= 0) break;
        used += (size_t)got;
        request[used] = '\0';
        char *end = strstr(request, "\r\n\r\n");
        if (end == NULL) continue;
        if (body == NULL) {
            *end = '\0';
            char *length = header_value(request, "content-length");
            expected = length ? strtoul(length, NULL, 10) : 0;
            char *signature = header_value(request, "x-ezthrottle-signature");
            if (signature != NULL) {
                size_t n = strcspn(signature, "\r\n");
                snprintf(server->signature, sizeof server->signature, "%.*s", (int)n, signature);
            }
            body = end + 4;
        }
        if ((size_t)(request + used - body) >= expected) break;
    }
    if (body != NULL) {
        server->length = expected;
        server->body = malloc(expected + 1);
        memcpy(server->body, body, expected);
        server->body[expected] = '\0';
        ezt_delivery *delivery = NULL;
        CHECK(ezt_webhook_receive(server->receiver, (const uint8_t *)server->body, server->length, server->signature,
                                  EZT_NOW, &delivery) == EZT_OK,
              "receive: %s", ezt_last_error_message());
        server->answered = delivery->status;
        const ezt_result *follow_up = delivery->follow_up;
        server->follow_up_ok = delivery->follow_up_status == EZT_OK && follow_up != NULL && follow_up->executed_locally &&
                               follow_up->status_code == 200;
        snprintf(server->follow_up_error, sizeof server->follow_up_error, "status %d: %s; result %s",
                 (int)delivery->follow_up_status, delivery->follow_up_error ? delivery->follow_up_error : "",
                 follow_up ? follow_up->json : "none");
        const char *answer = delivery->body;
        char head[256];
        int n = snprintf(head, sizeof head, "HTTP/1.1 %u X\r\nContent-Type: application/json\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                         server->answered, strlen(answer));
        if (write(connection, head, (size_t)n) < 0 || write(connection, answer, strlen(answer)) < 0) {
            CHECK(0, "could not answer the sandbox");
        }
        ezt_delivery_free(delivery);
    }
    free(request);
    close(connection);
    return NULL;
}

static int hits(const char *key) {
    char url[512];
    snprintf(url, sizeof url, "%s/upstream/hits/%s", base, key);
    cJSON *json = get_json(url, NULL);
    const cJSON *count = cJSON_GetObjectItemCaseSensitive(json, "hits");
    int n = cJSON_IsNumber(count) ? count->valueint : -1;
    cJSON_Delete(json);
    return n;
}

static void wait_receive_follow_up_replay(void) {
    struct server server = {0};
    server.listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = 0};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    CHECK(bind(server.listener, (struct sockaddr *)&address, sizeof address) == 0 && listen(server.listener, 4) == 0 &&
              getsockname(server.listener, (struct sockaddr *)&address, &length) == 0,
          "listen on loopback");
    char hook[128], key[64], notify[512], target[512];
    snprintf(hook, sizeof hook, "http://127.0.0.1:%u/hook", ntohs(address.sin_port));
    snprintf(key, sizeof key, "c-wait-%ld-%lx", (long)getpid(), (unsigned long)time(NULL));
    snprintf(notify, sizeof notify, "%s/upstream/count/%s", base, key);
    snprintf(target, sizeof target, "%s/upstream/status/200", base);

    /* NULL user data: the libcurl transport makes a handle per request, so the
       server thread's follow-up and this thread never share one. */
    ezt_client_options options = {.api_key = getenv("EZT_API_KEY"), .tracktags_url = base, .continuation_webhook = hook};
    ezt_client *client = NULL;
    CHECK(ezt_client_new(&options, ezt_curl_transport, NULL, &client) == EZT_OK, "client: %s", ezt_last_error_message());
    char *answer = NULL;
    CHECK(ezt_webhook_secret_create(client, SECRET, NULL, &answer) == EZT_OK, "secrets: %s", ezt_last_error_message());
    ezt_string_free(answer);
    CHECK(ezt_webhook_receiver_new(client, SECRET, NULL, EZT_DEFAULT_TOLERANCE_SECS, &server.receiver) == EZT_OK,
          "receiver: %s", ezt_last_error_message());
    pthread_t thread;
    pthread_create(&thread, NULL, serve_one, &server);

    ezt_step_options next = {.url = notify, .step_type = EZT_STEP_FRUGAL};
    /* A job of its own: a HASH duplicate of an earlier run's would answer
       with that job, delivered long ago to another server. */
    ezt_step_options first = {.url = target, .idempotent_strategy = EZT_IDEMPOTENT_UNIQUE, .on_success = &next};
    ezt_step *step = NULL;
    CHECK(ezt_step_new(&first, &step) == EZT_OK, "%s", ezt_last_error_message());
    ezt_result *result = NULL;
    CHECK(ezt_execute(client, step, &result) == EZT_OK, "execute: %s", ezt_last_error_message());
    const char *job_id = result ? result->job_id : NULL;
    CHECK(job_id != NULL, "submitted");

    ezt_webhook_event *event = NULL;
    ezt_status waited = ezt_wait_for_result(client, job_id ? job_id : "", 20000, &event);
    CHECK(waited == EZT_OK, "wait: %d %s", (int)waited, ezt_last_error_message());
    if (event != NULL) {
        CHECK(strcmp(event->job_id, job_id) == 0, "the job's result");
        CHECK(event->succeeded && event->response_status == 200, "it succeeded");
    }
    if (waited != EZT_OK) shutdown(server.listener, SHUT_RDWR); /* ends the accept */
    pthread_join(thread, NULL);
    CHECK(server.answered == 200, "the delivery was accepted: %u", server.answered);
    /* The receiver runs it; or, when the webhook beat the submit answer home,
       ezt_execute ran it last (it shows in the execution's trace). */
    int ran_in_execute = result != NULL && strstr(result->trace, key) != NULL;
    CHECK(server.follow_up_ok != ran_in_execute, "the on_success step ran in this client, once: %s", server.follow_up_error);
    CHECK(hits(key) == 1, "the follow-up reached its URL once");

    /* The same delivery again: acknowledged, never handled twice. */
    ezt_delivery *again = NULL;
    CHECK(ezt_webhook_receive(server.receiver, (const uint8_t *)server.body, server.length, server.signature, EZT_NOW, &again) == EZT_OK,
          "%s", ezt_last_error_message());
    CHECK(again->status == 200 && again->reason == EZT_SIGNATURE_REPLAYED, "a replay is acknowledged");
    CHECK(again->event == NULL, "and not handed over");
    CHECK(again->follow_up_status == EZT_OK && again->follow_up == NULL && again->follow_up_error == NULL, "nor followed up");
    ezt_delivery_free(again);
    CHECK(hits(key) == 1, "the follow-up did not run twice");

    /* A forged one is refused. */
    ezt_delivery *forged = NULL;
    CHECK(ezt_webhook_receive(server.receiver, (const uint8_t *)server.body, server.length, "t=1,v1=00", EZT_NOW, &forged) == EZT_OK, "decided");
    CHECK(forged->status == 401 && forged->event == NULL, "a forged delivery is refused");
    ezt_delivery_free(forged);

    /* A job whose result never comes: the wait ends at its timeout. */
    ezt_webhook_event *none = NULL;
    CHECK(ezt_wait_for_result(client, "job-that-never-ran", 50, &none) == EZT_ERR_TIMEOUT && none == NULL, "timeout");
    CHECK(ezt_wait_for_result(client, NULL, 50, &none) == EZT_ERR_NULL_ARGUMENT, "NULL job id");

    ezt_webhook_event_free(event);
    ezt_result_free(result);
    ezt_step_free(step);
    ezt_webhook_receiver_free(server.receiver);
    free(server.body);
    close(server.listener);
    ezt_client_free(client);
}

int main(void) {
    base = getenv("EZT_SANDBOX_URL");
    if (base == NULL || getenv("EZT_API_KEY") == NULL) {
        fprintf(stderr, "set EZT_SANDBOX_URL and EZT_API_KEY\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    begin_test("wait for a result: receiver fed by a real HTTP server, follow-up, replay refused");
    wait_receive_follow_up_replay();
    end_test();
    curl_global_cleanup();
    return finish();
}
