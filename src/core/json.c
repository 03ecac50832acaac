/* json.c: small JSON helpers every layer may use. */
#include "core/json.h"
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
    json_t *e = json_pack("{s:s, s:s, s:s}", "errorCode", category ? category : ck_code_category(err->code),
                          "reason", err->reason[0] ? err->reason : "INTERNAL_ERROR", "message",
                          err->message[0] ? err->message : "internal error");
    if (err->field[0])
        json_object_set_new(e, "field", json_string(err->field));
    if (err->step[0])
        json_object_set_new(e, "step", json_string(err->step));
    return json_pack("[o]", e);
}
