#ifndef IMAGEGEN_CHIREDIS_SHIM_H
#define IMAGEGEN_CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>

/* errstr is a fixed char array, which Swift imports as a tuple. */
static inline const char *imagegen_redis_errstr(const redisContext *context) {
    return context->errstr;
}

static inline int imagegen_redis_err(const redisContext *context) {
    return context->err;
}
#endif
