/* money.c: minor units to a readable amount, with the currency's ISO 4217
 * exponent. */
#include <stdio.h>
#include <string.h>

#include "core/money.h"

int ck_currency_exponent(const char *currency)
{
    /* ISO 4217 codes whose minor unit is not hundredths. */
    static const char *const zero[] = {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG",
                                       "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF", NULL};
    static const char *const three[] = {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND", NULL};
    static const char *const four[] = {"CLF", "UYW", NULL};
    if (!currency)
        return 2;
    for (int i = 0; zero[i]; i++)
        if (strcmp(currency, zero[i]) == 0)
            return 0;
    for (int i = 0; three[i]; i++)
        if (strcmp(currency, three[i]) == 0)
            return 3;
    for (int i = 0; four[i]; i++)
        if (strcmp(currency, four[i]) == 0)
            return 4;
    return 2;
}

int ck_money_format(char *out, size_t n, int64_t minor, const char *currency)
{
    const char *cur = currency ? currency : "";
    int exp = ck_currency_exponent(cur);
    /* In unsigned arithmetic, so that INT64_MIN has a magnitude too. */
    uint64_t mag = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;
    uint64_t scale = 1;
    for (int i = 0; i < exp; i++)
        scale *= 10;
    int w;
    if (exp == 0)
        w = snprintf(out, n, "%s %s%llu", cur, minor < 0 ? "-" : "", (unsigned long long)mag);
    else
        w = snprintf(out, n, "%s %s%llu.%0*llu", cur, minor < 0 ? "-" : "", (unsigned long long)(mag / scale), exp,
                     (unsigned long long)(mag % scale));
    if (w < 0 || (size_t)w >= n) {
        if (n)
            out[0] = '\0';
        return -1;
    }
    return w;
}
