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

int ezt_curl_transport(void *user_data, const ezt_http_request *request, ezt_http_response *response) {
    CURL *curl = user_data != NULL ? (CURL *)user_data : curl_easy_init();
    if (curl == NULL) {
        ezt_response_set_error(response, "curl_easy_init failed");
        return EZT_TRANSPORT_FAILED;
    }
    curl_easy_reset(curl);
    struct curl_slist *headers = NULL;
    for (size_t i = 0; i < ezt_request_header_count(request); i++) {
        char line[8192];
        snprintf(line, sizeof line, "%s: %s", ezt_request_header_name(request, i), ezt_request_header_value(request, i));
        headers = curl_slist_append(headers, line);
    }
    size_t body_length = 0;
    const uint8_t *body = ezt_request_body(request, &body_length);
    curl_easy_setopt(curl, CURLOPT_URL, ezt_request_url(request));
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, ezt_request_method(request));
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    if (body != NULL) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, (const char *)body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_length);
    }
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)ezt_request_timeout_ms(request));
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
                : (code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST) ? EZT_TRANSPORT_UNREACHABLE
                : EZT_TRANSPORT_FAILED;
    }
    curl_slist_free_all(headers);
    if (user_data == NULL) {
        curl_easy_cleanup(curl);
    }
    return outcome;
}
