/*
 * Quickstart: a FRUGAL step (run locally first, forwarded to EZThrottle on
 * 429 / 5xx) with a libcurl transport.
 *
 *   cc -std=c11 quickstart.c curl_transport.c $(pkg-config --cflags --libs ezthrottle libcurl) -o quickstart
 *   EZTHROTTLE_API_KEY=… ./quickstart http://127.0.0.1:8080    # e.g. against `ezthrottle-sandbox serve --testkit`
 */
#include <curl/curl.h>
#include <ezthrottle.h>
#include <stdio.h>
#include <stdlib.h>

#include "curl_transport.h"

static int fail(const char *what, ezt_status status) {
    fprintf(stderr, "%s failed (%d): %s\n", what, (int)status, ezt_last_error_message());
    return 1;
}

int main(int argc, char **argv) {
    const char *gateway = argc > 1 ? argv[1] : "http://127.0.0.1:8080";
    char url[512];
    snprintf(url, sizeof url, "%s/upstream/flaky/quickstart-%ld/1/429", gateway, (long)rand());

    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *curl = curl_easy_init();
    ezt_client_options client_options = {.api_key = NULL /* EZTHROTTLE_API_KEY */, .tracktags_url = gateway};
    ezt_client *client = NULL;
    ezt_status status = ezt_client_new(&client_options, ezt_curl_transport, curl, &client);
    if (status != EZT_OK) return fail("ezt_client_new", status);

    ezt_header headers[] = {{"Content-Type", "application/json"}};
    ezt_webhook hooks[] = {{.url = "https://app.example/webhook"}};
    ezt_step_options charge = {
        .url = url,
        .method = "POST",
        .headers = headers,
        .header_count = 1,
        .body = "{\"amount\":1000}",
        .step_type = EZT_STEP_FRUGAL,
        .webhooks = hooks,
        .webhook_count = 1,
    };
    ezt_step *step = NULL;
    if ((status = ezt_step_new(&charge, &step)) != EZT_OK) return fail("ezt_step_new", status);

    char *payload = NULL;
    if ((status = ezt_step_to_json(step, &payload)) != EZT_OK) return fail("ezt_step_to_json", status);
    printf("job payload: %s\n", payload);
    ezt_string_free(payload);

    ezt_result *result = NULL;
    status = ezt_execute(client, step, &result);
    if (status == EZT_OK) {
        printf("result: %s\n", result->json);
        printf("trace:\n%s\n", result->trace);
        ezt_result_free(result);
    } else {
        fail("ezt_execute", status);
    }
    ezt_step_free(step);
    ezt_client_free(client);
    curl_easy_cleanup(curl);
    curl_global_cleanup();
    return status == EZT_OK ? 0 : 1;
}
