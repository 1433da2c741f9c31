#ifndef IMAGEGEN_CLIBPQ_SHIM_H
#define IMAGEGEN_CLIBPQ_SHIM_H
#include <libpq-fe.h>

static void imagegen_pq_ignore_notice(void *arg, const char *message) {
    (void)arg;
    (void)message;
}

/* NOTICEs would otherwise go straight to stderr, bypassing our logging. */
static inline void imagegen_pq_silence_notices(PGconn *connection) {
    PQsetNoticeProcessor(connection, imagegen_pq_ignore_notice, 0);
}
#endif
