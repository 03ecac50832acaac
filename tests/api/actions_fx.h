/* actions_fx.h: the helpers of the Checkout Flow action suites
 * (test_actions.c, test_actions_flow.c; API.md "Checkout Flow actions"):
 * calling an action on either path (/v1/actions/standard/... or the
 * reference's /services/data/v60.0/actions/standard/...), what is asserted
 * of one result of the action envelope, and the session's progress read
 * back through GET /v1/checkouts/{id}. Built on place_fx.h; every function
 * fails the test on an unexpected answer. */
#ifndef CK_TEST_ACTIONS_FX_H
#define CK_TEST_ACTIONS_FX_H
#include "api/place_fx.h"

/* The reference's path names this API version. */
#define AX_REF_VERSION "v60.0"

/* The twelve actions in API.md's table order (NULL-terminated). */
extern const char *const ax_actions[];
/* The actions whose only input is cartId, in table order (NULL-terminated). */
extern const char *const ax_cart_actions[];

/* The action's path: /v1/actions/standard/<name>, or with ref the
 * reference's /services/data/v60.0/actions/standard/<name>; name NULL: the
 * list's path. */
void ax_path(int ref, const char *name, char *out, size_t n);

/* POST {"inputs": inputs} (inputs is taken, any JSON value) as key. */
ckt_resp ax_post(ckt_daemon *d, int ref, const char *key, const char *name, json_t *inputs);
/* The same with one input {"cartId": cart}. */
ckt_resp ax_cart(ckt_daemon *d, int ref, const char *key, const char *name, const char *cart);

/* Result i of r is a success of action name: outputValues an object and no
 * errors. Returns outputValues (borrowed from r). */
json_t *ax_ok_at(const ckt_resp *r, size_t i, const char *name);
/* Result i of r is a failure of action name: outputValues null, one error
 * with this statusCode and reason, a message, and `step` when step is not
 * NULL (no step key when it is NULL). */
void ax_fail_at(const ckt_resp *r, size_t i, const char *name, const char *status_code, const char *reason,
                const char *step);

/* The action's statusCode for an HTTP status (400 BAD_REQUEST, 404
 * NOT_FOUND, 409 CONFLICT, 500 UNKNOWN_EXCEPTION). */
const char *ax_status_code(long http);

/* One input {"cartId": cart} as the fixture's buyer: HTTP 200 and one
 * success. Returns its outputValues (owned: json_decref). */
json_t *ax_run_ok(ckt_fx *f, int ref, const char *name, const char *cart);
/* The same, expected to fail: HTTP http, one result failing with reason
 * (and step, or no step when NULL). */
void ax_run_fails(ckt_fx *f, int ref, const char *name, const char *cart, long http, const char *reason,
                  const char *step);
/* As ax_run_fails for any key and a raw input (taken). */
void ax_input_fails(ckt_daemon *d, int ref, const char *key, const char *name, json_t *input, long http,
                    const char *reason);

/* checkoutSessionAction {"cartId": cart, "initialState": "Start"} as the
 * buyer; the session it made or returned (read back through its request)
 * into sid. */
void ax_session(ckt_fx *f, int ref, const char *cart, char sid[64]);
/* updateCheckoutSessionStateAction as the buyer; returns the response. */
ckt_resp ax_set_state(ckt_fx *f, int ref, const char *sid, const char *exp, const char *next);

/* GET /v1/checkouts/{sid} as the buyer: lastSuccessfulStep (NULL: null)
 * and state are these. */
void ax_expect_state(ckt_fx *f, const char *sid, const char *last, const char *state);
/* The session's inputsVersion. */
long long ax_inputs_version(ckt_fx *f, const char *sid);

/* A new cart of the buyer with qty x prod (no session); its id into cart. */
void ax_new_cart(ckt_fx *f, const char *prod, int qty, char cart[64]);

/* Authorizations of the session in the database (any status; status NULL)
 * or with this status. */
long long ax_auths(ckt_fx *f, const char *sid, const char *status);
/* Orders of the session in the database. */
long long ax_orders(ckt_fx *f, const char *sid);

#endif
