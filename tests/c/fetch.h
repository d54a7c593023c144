/* GET a JSON document over libcurl, for the suites that talk to a sandbox. */
#ifndef EZT_TEST_FETCH_H
#define EZT_TEST_FETCH_H

#include <cJSON.h>

/* GET `url` (with `Authorization: Bearer <api_key>` unless it is NULL) and
   parse the body (cJSON_Delete it), or NULL. */
cJSON *get_json(const char *url, const char *api_key);

#endif
