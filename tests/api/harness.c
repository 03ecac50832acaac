/* harness.c: placeholder; the API test harness. */
int ck_harness_placeholder;
