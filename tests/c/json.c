#include "json.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *read_file(const char *path) {
    FILE *file = fopen(path, "rb");
    if (file == NULL) return NULL;
    fseek(file, 0, SEEK_END);
    long length = ftell(file);
    fseek(file, 0, SEEK_SET);
    char *text = malloc((size_t)length + 1);
    if (text != NULL && fread(text, 1, (size_t)length, file) == (size_t)length) {
        text[length] = '\0';
    } else {
        free(text);
        text = NULL;
    }
    fclose(file);
    return text;
}

cJSON *read_json(const char *path) {
    char *text = read_file(path);
    if (text == NULL) return NULL;
    cJSON *json = cJSON_Parse(text);
    free(text);
    return json;
}

/* Each number below `parent` as raw text that reads back as the same double. */
static void exact_numbers(cJSON *parent) {
    cJSON *item = parent->child;
    while (item != NULL) {
        cJSON *next = item->next;
        if (cJSON_IsNumber(item)) {
            char text[32];
            snprintf(text, sizeof text, "%.17g", item->valuedouble);
            cJSON *raw = cJSON_CreateRaw(text);
            if (raw != NULL && item->string != NULL) {
                /* Replaced by pointer, an object's member keeps no key of its own. */
                size_t size = strlen(item->string) + 1;
                raw->string = malloc(size);
                if (raw->string != NULL) memcpy(raw->string, item->string, size);
            }
            cJSON_ReplaceItemViaPointer(parent, item, raw);
        } else {
            exact_numbers(item);
        }
        item = next;
    }
}

char *json_print_exact(const cJSON *value) {
    cJSON *copy = cJSON_Duplicate(value, true);
    if (copy == NULL) return NULL;
    exact_numbers(copy);
    char *text = cJSON_PrintUnformatted(copy);
    cJSON_Delete(copy);
    return text;
}

static bool is_uuid4(const char *s) {
    if (strlen(s) != 36) return false;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') return false;
        } else if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i])) {
            return false;
        }
    }
    return s[14] == '4' && strchr("89ab", s[19]) != NULL;
}

bool json_matches(const cJSON *actual, const cJSON *expected, char *where, size_t size) {
    if (cJSON_IsString(expected) && strcmp(expected->valuestring, "<uuid4>") == 0) {
        if (cJSON_IsString(actual) && is_uuid4(actual->valuestring)) return true;
        snprintf(where, size, "expected a UUID v4");
        return false;
    }
    if (cJSON_IsObject(expected) && cJSON_IsObject(actual)) {
        if (cJSON_GetArraySize(actual) != cJSON_GetArraySize(expected)) {
            snprintf(where, size, "objects of %d and %d fields", cJSON_GetArraySize(actual), cJSON_GetArraySize(expected));
            return false;
        }
        const cJSON *item;
        cJSON_ArrayForEach(item, expected) {
            const cJSON *other = cJSON_GetObjectItemCaseSensitive(actual, item->string);
            if (other == NULL || !json_matches(other, item, where, size)) {
                if (other == NULL) snprintf(where, size, "missing field %s", item->string);
                return false;
            }
        }
        return true;
    }
    if (cJSON_IsArray(expected) && cJSON_IsArray(actual)) {
        int n = cJSON_GetArraySize(expected);
        if (cJSON_GetArraySize(actual) != n) {
            snprintf(where, size, "lists of %d and %d items", cJSON_GetArraySize(actual), n);
            return false;
        }
        for (int i = 0; i < n; i++) {
            if (!json_matches(cJSON_GetArrayItem(actual, i), cJSON_GetArrayItem(expected, i), where, size)) return false;
        }
        return true;
    }
    if (cJSON_Compare(actual, expected, true)) return true;
    char *a = cJSON_PrintUnformatted(actual);
    char *e = cJSON_PrintUnformatted(expected);
    snprintf(where, size, "got %s, expected %s", a ? a : "?", e ? e : "?");
    cJSON_free(a);
    cJSON_free(e);
    return false;
}
