#include "check.h"

int checks_failed_in_test = 0;
int tests_passed = 0;
int tests_failed = 0;
static const char *current = "";

void begin_test(const char *name) {
    current = name;
    checks_failed_in_test = 0;
}

void end_test(void) {
    if (checks_failed_in_test == 0) {
        tests_passed++;
        printf("ok     %s\n", current);
    } else {
        tests_failed++;
        printf("FAILED %s\n", current);
    }
    fflush(stdout);
}

int finish(void) {
    printf("%d passed, %d failed\n", tests_passed, tests_failed);
    return tests_failed == 0 ? 0 : 1;
}
