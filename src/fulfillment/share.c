/* share.c: the shares of a line's units (share.h). */
#include "fulfillment/share.h"

int64_t ck_share_round(int64_t total, int64_t n, int64_t q)
{
    if (q <= 0 || n <= 0 || total <= 0)
        return 0;
    __int128 x = (__int128)total * n;
    return (int64_t)((2 * x + q) / (2 * (__int128)q)); /* floor(x / q + 1/2) */
}

int64_t ck_share_next(int64_t total, int64_t q, int64_t done, int64_t assigned, int64_t n)
{
    int64_t left = total - assigned;
    if (left < 0)
        left = 0;
    if (done + n >= q)
        return left;
    int64_t s = ck_share_round(total, n, q);
    return s < left ? s : left;
}

int64_t ck_share_refund(int64_t total, int64_t q, int64_t fulfilled, int64_t fulfilled_amount, int64_t returned,
                        int64_t refunded, int64_t n)
{
    int64_t left = fulfilled_amount - refunded;
    if (left < 0)
        left = 0;
    if (returned + n >= fulfilled)
        return left;
    int64_t s = ck_share_round(total, n, q);
    return s < left ? s : left;
}
