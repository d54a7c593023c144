/* An ezt_transport_fn over libcurl. */
#include "curl_transport.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

static size_t on_body(char *data, size_t size, size_t count, void *response) {
    size_t length = size * count;
    if (ezt_response_append_body(response, (const uint8_t *)data, length) != EZT_OK) {
        return 0; /* abort the transfer */
    }
    return length;
}

static size_t on_header(char *line, size_t size, size_t count, void *response) {
    size_t length = size * count;
    char buffer[4096];
    if (length < sizeof buffer) {
        memcpy(buffer, line, length);
        buffer[length] = '\0';
        char *colon = strchr(buffer, ':');
        if (colon != NULL) {
            *colon = '\0';
            char *value = colon + 1;
            while (*value == ' ' || *value == '\t') value++;
            value[strcspn(value, "\r\n")] = '\0';
            ezt_response_add_header(response, buffer, value);
        }
    }
    return length;
}

/* Whether `code` means no answer came back (EZT_TRANSPORT_UNREACHABLE): nothing to connect to, a failed TLS
 * handshake, or a peer that hung up before or during its answer. */
static bool no_answer(CURLcode code) {
    switch (code) {
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
        return true;
    default:
        return false;
    }
}

int ezt_curl_transport(void *user_data, const ezt_http_request *request, ezt_http_response *response) {
    CURL *curl = user_data != NULL ? (CURL *)user_data : curl_easy_init();
    if (curl == NULL) {
        ezt_response_set_error(response, "curl_easy_init failed");
        return EZT_TRANSPORT_FAILED;
    }
    curl_easy_reset(curl);
    struct curl_slist *headers = NULL;
    for (size_t i = 0; i < request->header_count; i++) {
        char line[8192];
        snprintf(line, sizeof line, "%s: %s", request->headers[i].name, request->headers[i].value);
        headers = curl_slist_append(headers, line);
    }
    curl_easy_setopt(curl, CURLOPT_URL, request->url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request->method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    if (request->body != NULL) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, (const char *)request->body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)request->body_length);
    }
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)request->timeout_ms);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, response);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, response);

    CURLcode code = curl_easy_perform(curl);
    int outcome = EZT_TRANSPORT_OK;
    if (code == CURLE_OK) {
        long status = 0;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        ezt_response_set_status(response, (uint16_t)status);
    } else {
        ezt_response_set_error(response, curl_easy_strerror(code));
        outcome = code == CURLE_OPERATION_TIMEDOUT ? EZT_TRANSPORT_TIMEOUT
                : no_answer(code) ? EZT_TRANSPORT_UNREACHABLE
                : EZT_TRANSPORT_FAILED;
    }
    curl_slist_free_all(headers);
    if (user_data == NULL) {
        curl_easy_cleanup(curl);
    }
    return outcome;
}
