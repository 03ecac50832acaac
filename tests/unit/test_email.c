/* test_email.c: money as a person reads it (core/money.h) and the pieces of
 * the confirmation message (events/email.h): RFC 2047 headers,
 * quoted-printable, and the addresses a header cannot take. The message as
 * a whole, as the SMTP server receives it, is tested in test_events. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/money.h"
#include "events/email.h"

static void expect_money(int64_t minor, const char *currency, const char *want)
{
    char buf[64];
    int n = ck_money_format(buf, sizeof(buf), minor, currency);
    assert_string_equal(buf, want);
    assert_int_equal(n, (int)strlen(want));
}

static void money(void **state)
{
    expect_money(7692, "USD", "USD 76.92");
    expect_money(0, "USD", "USD 0.00");
    expect_money(5, "EUR", "EUR 0.05");
    expect_money(-500, "USD", "USD -5.00");
    expect_money(-5, "USD", "USD -0.05");
    expect_money(500, "JPY", "JPY 500");
    expect_money(-12000, "KRW", "KRW -12000");
    expect_money(1250, "BHD", "BHD 1.250");
    expect_money(5, "KWD", "KWD 0.005");
    expect_money(12345, "CLF", "CLF 1.2345");
    expect_money(100, "XYZ", "XYZ 1.00"); /* a code not listed: two digits */
    expect_money(INT64_MAX, "USD", "USD 92233720368547758.07");
    expect_money(INT64_MIN, "USD", "USD -92233720368547758.08");
    expect_money(INT64_MIN, "JPY", "JPY -9223372036854775808");
    assert_int_equal(ck_currency_exponent("JPY"), 0);
    assert_int_equal(ck_currency_exponent("USD"), 2);
    assert_int_equal(ck_currency_exponent("OMR"), 3);
    assert_int_equal(ck_currency_exponent(NULL), 2);
    /* Too small a buffer: -1 and nothing, never a cut amount. */
    char small[9];
    assert_int_equal(ck_money_format(small, sizeof(small), 7692, "USD"), -1);
    assert_string_equal(small, "");
    char exact[10];
    assert_int_equal(ck_money_format(exact, sizeof(exact), 7692, "USD"), 9);
    assert_string_equal(exact, "USD 76.92");
}

/* Decodes the encoded-words of a header value; each word at most 75
 * characters and whole UTF-8 characters. */
static void decode_header(const char *value, char *out, size_t n)
{
    size_t len = 0;
    for (const char *p = value; *p;) {
        while (*p == ' ' || *p == '\r' || *p == '\n')
            p++;
        if (!*p)
            break;
        assert_true(strncmp(p, "=?UTF-8?B?", 10) == 0);
        const char *e = strstr(p + 10, "?=");
        assert_non_null(e);
        assert_true(e + 2 - p <= 75);
        unsigned char buf[128];
        int got = EVP_DecodeBlock(buf, (const unsigned char *)p + 10, (int)(e - p - 10));
        assert_true(got >= 0);
        for (const char *q = e - 1; *q == '='; q--)
            got--;
        /* Whole characters: it neither starts nor ends inside a sequence. */
        assert_true(got > 0 && (buf[0] & 0xc0) != 0x80);
        int last = got - 1;
        while (last > 0 && (buf[last] & 0xc0) == 0x80)
            last--;
        int need = buf[last] < 0x80 ? 1 : (buf[last] & 0xe0) == 0xc0 ? 2 : (buf[last] & 0xf0) == 0xe0 ? 3 : 4;
        assert_int_equal(got - last, need);
        assert_true(len + (size_t)got < n);
        memcpy(out + len, buf, (size_t)got);
        len += (size_t)got;
        p = e + 2;
    }
    out[len] = '\0';
}

static void headers(void **state)
{
    char *h = ck_email_header("Subject", "Order CK-1 confirmed");
    assert_string_equal(h, "Subject: Order CK-1 confirmed\r\n");
    free(h);

    /* 30 two-byte characters: 60 bytes, so a cut at 45 bytes would split one. */
    char value[128] = "";
    for (int i = 0; i < 30; i++)
        strcat(value, "\xc3\xa9");
    h = ck_email_header("Subject", value);
    assert_true(strncmp(h, "Subject: =?UTF-8?B?", 19) == 0);
    assert_non_null(strstr(h, "?=\r\n =?UTF-8?B?")); /* folded between words */
    assert_true(strcmp(h + strlen(h) - 4, "?=\r\n") == 0);
    char decoded[256];
    decode_header(h + 9, decoded, sizeof(decoded));
    assert_string_equal(decoded, value);
    free(h);

    /* A CR or LF in a value cannot start a header of its own: it is encoded. */
    h = ck_email_header("Subject", "Shop\r\nBcc: victim@example.com");
    assert_null(strstr(h, "\r\nBcc"));
    decode_header(h + 9, decoded, sizeof(decoded));
    assert_string_equal(decoded, "Shop\r\nBcc: victim@example.com");
    free(h);
}

static void quoted_printable(void **state)
{
    char *q = ck_email_quoted_printable("a = b\r\ntrailing \r\ncaf\xc3\xa9\r\n");
    assert_string_equal(q, "a =3D b\r\ntrailing=20\r\ncaf=C3=A9\r\n");
    free(q);
    /* A bare LF inside a line is data, not a line break. */
    q = ck_email_quoted_printable("x\ny");
    assert_string_equal(q, "x=0Ay");
    free(q);

    /* 76 characters fit one line; 77 take a soft break after 75 and "=". */
    char line[100];
    memset(line, 'a', 76);
    line[76] = '\0';
    q = ck_email_quoted_printable(line);
    assert_string_equal(q, line);
    free(q);
    memset(line, 'a', 77);
    line[77] = '\0';
    q = ck_email_quoted_printable(line);
    assert_int_equal(strlen(q), 75 + 3 + 2);
    assert_true(strncmp(q + 75, "=\r\naa", 5) == 0);
    free(q);
    /* An escape is never cut by a soft break. */
    char body[300] = "";
    for (int i = 0; i < 40; i++)
        strcat(body, "\xc3\xa9");
    q = ck_email_quoted_printable(body);
    for (const char *p = q; *p;) {
        const char *e = strstr(p, "\r\n");
        size_t ll = e ? (size_t)(e - p) : strlen(p);
        assert_true(ll <= 76);
        /* Each line is whole =XX escapes, then the soft break's "=". */
        assert_true(e ? (ll % 3 == 1 && p[ll - 1] == '=') : ll % 3 == 0);
        p += ll + (e ? 2 : 0);
    }
    free(q);
}

static const char payload[] = "{\"id\":\"evt_1\",\"type\":\"OrderCreated\",\"data\":{\"order\":{\"orderNumber\":\"CK-1\","
                              "\"currency\":\"JPY\",\"items\":[{\"sku\":\"S-1\",\"quantity\":2,\"unitPrice\":500,"
                              "\"adjustment\":-100,\"tax\":72,\"total\":972}],\"totals\":{\"subtotal\":1000,"
                              "\"adjustments\":-100,\"shipping\":0,\"tax\":72,\"grandTotal\":972}}}}";

static void message(void **state)
{
    char err[256] = "";
    ck_email_order in = {.from = "orders@shop.example", .to = "buyer@example.com", .store_name = NULL,
                         .message_id = "dlv_1", .payload = payload, .now_ms = 1796155729000LL};
    char *m = ck_email_order_confirmation(&in, err, sizeof(err));
    assert_non_null(m);
    assert_non_null(strstr(m, "\r\nDate: Tue, 01 Dec 2026 20:08:49 +0000\r\n"));
    assert_non_null(strstr(m, "\r\nMessage-ID: <dlv_1@shop.example>\r\n"));
    assert_non_null(strstr(m, "\r\nSubject: Order CK-1 confirmed\r\n"));
    /* JPY has no minor unit; an adjustment shows when there is one. */
    assert_non_null(strstr(m, "\r\n  2 x S-1 at JPY 500, adjustment JPY -100, tax JPY 72: JPY 972\r\n"));
    assert_non_null(strstr(m, "\r\nTotal:       JPY 972\r\n"));
    free(m);

    /* An address that would end the header or its brackets is refused. */
    static const char *const bad[] = {"a@b.example\r\nBcc: x@y.example", "a@b.example>", "<a@b.example", "", "a b@c"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        in.from = bad[i];
        err[0] = '\0';
        assert_null(ck_email_order_confirmation(&in, err, sizeof(err)));
        assert_true(strlen(err) > 0);
        in.from = "orders@shop.example";
        in.to = bad[i];
        err[0] = '\0';
        assert_null(ck_email_order_confirmation(&in, err, sizeof(err)));
        assert_true(strlen(err) > 0);
        in.to = "buyer@example.com";
    }
    /* An event without an order. */
    in.payload = "{\"data\":{}}";
    assert_null(ck_email_order_confirmation(&in, err, sizeof(err)));
    assert_non_null(strstr(err, "order"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(money),
        cmocka_unit_test(headers),
        cmocka_unit_test(quoted_printable),
        cmocka_unit_test(message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
