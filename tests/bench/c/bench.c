/*
 * The C client of the side-by-side benchmark: libezthrottle with the libcurl
 * transport of examples/c (one easy handle, kept alive), the way a C app uses
 * it. `bench RUN_JSON` prints one JSON line of figures.
 */
#define _POSIX_C_SOURCE 200809L
#include <assert.h>
#include <curl/curl.h>
#include <ezthrottle.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "curl_transport.h"
#include "json.h"

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void must(ezt_status status, const char *what) {
    if (status != EZT_OK) {
        fprintf(stderr, "%s failed (%d): %s\n", what, (int)status, ezt_last_error_message());
        exit(1);
    }
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* p in [0, 1], nearest rank, of sorted seconds, in milliseconds. */
static double percentile_ms(const double *sorted, size_t n, double p) {
    size_t rank = (size_t)((double)n * p + 0.999999);
    if (rank < 1) rank = 1;
    if (rank > n) rank = n;
    return sorted[rank - 1] * 1e3;
}

static void submits(ezt_client *client, const cJSON *run, char *out, size_t out_size) {
    int count = cJSON_GetObjectItem(run, "submits")->valueint;
    char *calls = cJSON_PrintUnformatted(cJSON_GetObjectItem(run, "submit"));
    long run_id = (long)cJSON_GetObjectItem(run, "run_id")->valuedouble;
    double *latencies = calloc((size_t)count, sizeof *latencies);
    double started = now_seconds();
    for (int i = 0; i < count; i++) {
        double t = now_seconds();
        ezt_step *step = NULL;
        must(ezt_step_from_calls(calls, &step), "ezt_step_from_calls");
        char key[96];
        snprintf(key, sizeof key, "\"bench-%ld-c-%d\"", run_id, i);
        must(ezt_step_set_json(step, "idempotent_key", key), "ezt_step_set_json");
        ezt_result *result = NULL;
        must(ezt_execute(client, step, &result), "ezt_execute");
        assert(strcmp(result->status, "queued") == 0);
        ezt_result_free(result);
        ezt_step_free(step);
        latencies[i] = now_seconds() - t;
    }
    double seconds = now_seconds() - started;
    qsort(latencies, (size_t)count, sizeof *latencies, by_value);
    snprintf(out, out_size,
             "{\"n\":%d,\"seconds\":%f,\"per_sec\":%f,\"p50_ms\":%f,\"p99_ms\":%f}", count, seconds,
             count / seconds, percentile_ms(latencies, (size_t)count, 0.50),
             percentile_ms(latencies, (size_t)count, 0.99));
    free(latencies);
    cJSON_free(calls);
}

static size_t keep_body(char *data, size_t size, size_t count, void *buffer) {
    size_t length = size * count;
    size_t *used = buffer;
    char *bytes = (char *)(used + 1);
    if (*used + length < 65536) {
        memcpy(bytes + *used, data, length);
        *used += length;
    }
    return length;
}

/* The FRUGAL step's request made directly with libcurl on the same handle,
 * set up as the transport sets it up. */
static void plain(CURL *curl, const cJSON *request) {
    static size_t buffer[65536 / sizeof(size_t) + 1];
    buffer[0] = 0;
    curl_easy_reset(curl);
    struct curl_slist *headers = NULL;
    const cJSON *header = NULL;
    cJSON_ArrayForEach(header, cJSON_GetObjectItem(request, "headers")) {
        char line[1024];
        snprintf(line, sizeof line, "%s: %s", header->string, header->valuestring);
        headers = curl_slist_append(headers, line);
    }
    const char *body = cJSON_GetObjectItem(request, "body")->valuestring;
    curl_easy_setopt(curl, CURLOPT_URL, cJSON_GetObjectItem(request, "url")->valuestring);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, cJSON_GetObjectItem(request, "method")->valuestring);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, keep_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, buffer);
    CURLcode code = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (code != CURLE_OK || status < 200 || status >= 300) {
        fprintf(stderr, "plain request failed: %s, status %ld\n", curl_easy_strerror(code), status);
        exit(1);
    }
    curl_slist_free_all(headers);
}

static void frugal(ezt_client *client, const ezt_step *step) {
    ezt_result *result = NULL;
    must(ezt_execute(client, step, &result), "ezt_execute");
    assert(result->executed_locally);
    ezt_result_free(result);
}

static void frugal_overhead(ezt_client *client, CURL *curl, const cJSON *run, char *out, size_t out_size) {
    int count = cJSON_GetObjectItem(run, "frugal")->valueint;
    const cJSON *request = cJSON_GetObjectItem(run, "frugal_plain");
    char *calls = cJSON_PrintUnformatted(cJSON_GetObjectItem(run, "frugal_calls"));
    ezt_step *step = NULL;
    must(ezt_step_from_calls(calls, &step), "ezt_step_from_calls");
    for (int i = 0; i < 100; i++) {
        plain(curl, request);
        frugal(client, step);
    }
    double plain_time = 0, step_time = 0;
    for (int i = 0; i < count; i++) {
        double t = now_seconds();
        plain(curl, request);
        double u = now_seconds();
        frugal(client, step);
        plain_time += u - t;
        step_time += now_seconds() - u;
    }
    double plain_ms = plain_time * 1e3 / count, step_ms = step_time * 1e3 / count;
    snprintf(out, out_size, "{\"n\":%d,\"step_ms\":%f,\"plain_ms\":%f,\"overhead_pct\":%f}", count, step_ms,
             plain_ms, (step_ms - plain_ms) / plain_ms * 100.0);
    ezt_step_free(step);
    cJSON_free(calls);
}

/* Twenty rounds of a twentieth each; the fastest counts (noise only adds). */
static void builds(const cJSON *run, char *out, size_t out_size) {
    int count = cJSON_GetObjectItem(run, "builds")->valueint, rounds = 20;
    char *calls = cJSON_PrintUnformatted(cJSON_GetObjectItem(run, "build"));
    ezt_step *step = NULL;
    must(ezt_step_from_calls(calls, &step), "ezt_step_from_calls");
    size_t total = 0;
    for (int i = 0; i < 1000; i++) {
        char *json = NULL;
        must(ezt_step_to_json(step, &json), "ezt_step_to_json");
        ezt_string_free(json);
    }
    double best = 1e9;
    for (int r = 0; r < rounds; r++) {
        double started = now_seconds();
        for (int i = 0; i < count / rounds; i++) {
            char *json = NULL;
            must(ezt_step_to_json(step, &json), "ezt_step_to_json");
            total += strlen(json);
            ezt_string_free(json);
        }
        double per_build = (now_seconds() - started) / (count / rounds);
        if (per_build < best) best = per_build;
    }
    assert(total > 0);
    snprintf(out, out_size, "{\"n\":%d,\"per_sec\":%f,\"us\":%f}", count, 1.0 / best, best * 1e6);
    ezt_step_free(step);
    cJSON_free(calls);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench RUN_JSON\n");
        return 2;
    }
    cJSON *run = read_json(argv[1]);
    if (run == NULL) {
        fprintf(stderr, "cannot read %s\n", argv[1]);
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *sdk_curl = curl_easy_init(), *plain_curl = curl_easy_init();
    ezt_client_options options = {
        .api_key = cJSON_GetObjectItem(run, "api_key")->valuestring,
        .tracktags_url = cJSON_GetObjectItem(run, "sandbox")->valuestring,
    };
    ezt_client *client = NULL;
    must(ezt_client_new(&options, ezt_curl_transport, sdk_curl, &client), "ezt_client_new");

    /* A count of 0 skips a workload (for profiling one alone). */
    char submit[256] = "null", overhead[256] = "null", build[256];
    if (cJSON_GetObjectItem(run, "submits")->valueint > 0) submits(client, run, submit, sizeof submit);
    if (cJSON_GetObjectItem(run, "frugal")->valueint > 0) frugal_overhead(client, plain_curl, run, overhead, sizeof overhead);
    builds(run, build, sizeof build);
    printf("{\"client\":\"C (libezthrottle + libcurl)\",\"submit\":%s,\"frugal\":%s,\"build\":%s}\n", submit, overhead,
           build);

    ezt_client_free(client);
    curl_easy_cleanup(sdk_curl);
    curl_easy_cleanup(plain_curl);
    curl_global_cleanup();
    cJSON_Delete(run);
    return 0;
}
