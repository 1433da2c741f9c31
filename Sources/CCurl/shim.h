#ifndef IMAGEGEN_CCURL_SHIM_H
#define IMAGEGEN_CCURL_SHIM_H
#include <curl/curl.h>
/* The driver thread waits for curl's sockets with epoll and is woken through an eventfd. */
#include <sys/epoll.h>
#include <sys/eventfd.h>

/* curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call. */
typedef size_t (*imagegen_curl_data_callback)(char *data, size_t size, size_t count, void *context);

static inline CURLcode imagegen_curl_set_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode imagegen_curl_set_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode imagegen_curl_set_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode imagegen_curl_set_callback(CURL *handle, CURLoption option, imagegen_curl_data_callback value) {
    return curl_easy_setopt(handle, option, value);
}

typedef int (*imagegen_curl_prereq_callback)(void *context, char *primary_ip, char *local_ip, int primary_port, int local_port);

static inline CURLcode imagegen_curl_set_prereq_callback(CURL *handle, imagegen_curl_prereq_callback value) {
    return curl_easy_setopt(handle, CURLOPT_PREREQFUNCTION, value);
}

static inline CURLcode imagegen_curl_get_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode imagegen_curl_get_pointer(CURL *handle, CURLINFO info, void **value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode imagegen_curl_get_curl_off(CURL *handle, CURLINFO info, curl_off_t *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLMcode imagegen_curl_multi_set_long(CURLM *multi, CURLMoption option, long value) {
    return curl_multi_setopt(multi, option, value);
}

static inline CURLMcode imagegen_curl_multi_set_pointer(CURLM *multi, CURLMoption option, void *value) {
    return curl_multi_setopt(multi, option, value);
}

static inline CURLMcode imagegen_curl_multi_set_socket_callback(CURLM *multi, curl_socket_callback value) {
    return curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, value);
}

static inline CURLMcode imagegen_curl_multi_set_timer_callback(CURLM *multi, curl_multi_timer_callback value) {
    return curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, value);
}
#endif
