/* JSON helpers over cJSON for the suites. */
#ifndef EZT_TEST_JSON_H
#define EZT_TEST_JSON_H

#include <cJSON.h>
#include <stdbool.h>

/* The whole file, NUL-terminated (free it), or NULL. */
char *read_file(const char *path);
/* Parse a file as JSON (cJSON_Delete it), or NULL. */
cJSON *read_json(const char *path);
/*
 * `value` as JSON text (free with cJSON_free) whose numbers read back
 * exactly: cJSON's own printer writes 15 significant digits, so 2^53 - 1
 * would reach the library as 9.00719925474099e+15.
 */
char *json_print_exact(const cJSON *value);
/*
 * Whether `actual` equals `expected` as JSON values, where the string
 * "<uuid4>" in `expected` stands for any hyphenated UUID v4. On a mismatch,
 * `where` (capacity `size`) says where.
 */
bool json_matches(const cJSON *actual, const cJSON *expected, char *where, size_t size);

#endif
