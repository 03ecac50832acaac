/* json.c: small JSON helpers every layer may use. */
#include "core/json.h"
#include "core/text.h"
#include "core/util.h"

json_t *ck_json_time(int64_t ms)
{
    char ts[32];
    ck_time_format(ts, ms);
    return json_string(ts);
}

char *ck_json_text(json_t *v)
{
    return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

json_t *ck_error_json(const ck_error *err, const char *category)
{
    /* Every field made UTF-8 first (a step or field set with a bounded copy
     * elsewhere may end inside a character): the envelope is never lost. */
    ck_error e = *err;
    ck_utf8_repair(e.reason);
    ck_utf8_repair(e.field);
    ck_utf8_repair(e.step);
    ck_utf8_repair(e.message);
    json_t *o = json_pack("{s:s, s:s, s:s}", "errorCode", category ? category : ck_code_category(e.code), "reason",
                          e.reason[0] ? e.reason : "INTERNAL_ERROR", "message", e.message[0] ? e.message : "internal error");
    if (e.field[0])
        json_object_set_new(o, "field", json_string(e.field));
    if (e.step[0])
        json_object_set_new(o, "step", json_string(e.step));
    return json_pack("[o]", o);
}
