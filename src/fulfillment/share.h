/* share.h: the money a number of a line's units carries (API.md
 * "Fulfillment, cancellation and returns"): round_half_up(line total × n / q),
 * the last units of a line taking the remainder, so the shares of a line sum
 * to its total exactly. Pure arithmetic, no storage. */
#ifndef CK_SHARE_H
#define CK_SHARE_H

#include <stdint.h>

/* round_half_up(total × n / q) for total >= 0 and 0 <= n <= q, q > 0,
 * computed without overflow for any int64 total. */
int64_t ck_share_round(int64_t total, int64_t n, int64_t q);

/* The share of n more units of a line of q units and this total, fulfilled
 * or cancelled, when `done` of its units were already fulfilled or
 * cancelled carrying `assigned` of the total: the remainder (total −
 * assigned) when these are the line's last units, else
 * ck_share_round(total, n, q) but never more than the remainder, so that
 * no later unit's share goes below 0. Needs done + n <= q. */
int64_t ck_share_next(int64_t total, int64_t q, int64_t done, int64_t assigned, int64_t n);

/* The share of n more returned units of a line of q units and this total,
 * when `fulfilled` units carried `fulfilled_amount` and `returned` of them
 * were refunded `refunded`: what is left of the fulfilled units' money
 * (fulfilled_amount − refunded) when these are the last fulfilled units,
 * else ck_share_round(total, n, q) but never more than what is left, so
 * refunds never pass what the fulfilled units carried. Needs
 * returned + n <= fulfilled. */
int64_t ck_share_refund(int64_t total, int64_t q, int64_t fulfilled, int64_t fulfilled_amount, int64_t returned,
                        int64_t refunded, int64_t n);

#endif
