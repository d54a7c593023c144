/* An ezt_transport_fn over libcurl: performs each request synchronously. */
#ifndef EZT_CURL_TRANSPORT_H
#define EZT_CURL_TRANSPORT_H

#include <ezthrottle.h>

/* user_data: a CURL* easy handle (reused for keep-alive), or NULL to make one per request. */
int ezt_curl_transport(void *user_data, const ezt_http_request *request, ezt_http_response *response);

#endif
