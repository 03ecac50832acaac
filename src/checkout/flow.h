/* flow.h: flows as ordered step lists; the read-only standard flow. */
#ifndef CK_FLOW_H
#define CK_FLOW_H

#define CK_FLOW_STANDARD_ID "flow_standard"
#define CK_STATE_START "Start"
#define CK_STATE_COMPLETED "Completed"

/* The standard flow's steps, in order; NULL-terminated. */
extern const char *const ck_standard_steps[];

/* The state after `state` in the standard flow: Start -> first step, last
 * step -> Completed, Completed -> NULL. Unknown state -> NULL. */
const char *ck_flow_next_state(const char *state);

#endif
