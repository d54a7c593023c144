/* A minimal test harness: CHECK records failures; finish() prints "N passed, N failed". */
#ifndef EZT_CHECK_H
#define EZT_CHECK_H

#include <stdio.h>

extern int checks_failed_in_test;
extern int tests_passed;
extern int tests_failed;

#define CHECK(condition, ...)                                              \
    do {                                                                   \
        if (!(condition)) {                                                \
            checks_failed_in_test++;                                       \
            fprintf(stderr, "  %s:%d: check failed: %s: ", __FILE__, __LINE__, #condition); \
            fprintf(stderr, __VA_ARGS__);                                  \
            fprintf(stderr, "\n");                                         \
        }                                                                  \
    } while (0)

/* Start a named test; end_test() reports it. */
void begin_test(const char *name);
void end_test(void);
/* Print the closing line; the exit status of the program. */
int finish(void);

#endif
