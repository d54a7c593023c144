#include "fetch.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t collect(char *data, size_t size, size_t count, void *buffer) {
    size_t length = size * count;
    char **text = buffer;
    size_t old = *text ? strlen(*text) : 0;
    char *grown = realloc(*text, old + length + 1);
    if (grown == NULL) return 0;
    memcpy(grown + old, data, length);
    grown[old + length] = '\0';
    *text = grown;
    return length;
}

cJSON *get_json(const char *url, const char *api_key) {
    CURL *get = curl_easy_init();
    char *text = NULL;
    struct curl_slist *headers = NULL;
    if (api_key != NULL) {
        char auth[256];
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", api_key);
        headers = curl_slist_append(NULL, auth);
    }
    curl_easy_setopt(get, CURLOPT_URL, url);
    curl_easy_setopt(get, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(get, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(get, CURLOPT_WRITEDATA, &text);
    curl_easy_perform(get);
    curl_slist_free_all(headers);
    curl_easy_cleanup(get);
    cJSON *json = text ? cJSON_Parse(text) : NULL;
    free(text);
    return json;
}
