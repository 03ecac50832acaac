/* money.h: amounts in a currency's minor unit, written as a person reads
 * them ("USD 76.92", "JPY 500", "BHD 1.250"). */
#ifndef CK_MONEY_H
#define CK_MONEY_H

#include <stddef.h>
#include <stdint.h>

/* The ISO 4217 exponent of a currency code: the digits of its minor unit.
 * 0 for JPY, KRW and the other currencies without one, 3 for BHD, KWD,
 * JOD, OMR, TND, LYD, IQD, 4 for CLF and UYW, and 2 for every other code
 * (USD, EUR...). */
int ck_currency_exponent(const char *currency);

/* Writes minor (an amount in currency's minor unit) as "CUR major.minor"
 * into out, e.g. 7692 USD -> "USD 76.92", -500 USD -> "USD -5.00", 500 JPY
 * -> "JPY 500". Returns the length written, or -1 when out (n bytes) is too
 * small (out then holds ""). Every int64 amount fits in 32 bytes plus the
 * code. */
int ck_money_format(char *out, size_t n, int64_t minor, const char *currency);

#endif
