# Writes OUT, a C file holding every migration in FILES as a NUL-terminated
# byte array, in order, plus a table of {version, name, sql}.
set(body "/* Generated from src/store/migrations; do not edit. */\n#include \"store/migrations.h\"\n\n")
string(REPLACE "|" ";" FILES "${FILES}")
set(table "")
set(n 0)
foreach(f ${FILES})
  get_filename_component(name ${f} NAME)
  string(REGEX MATCH "^[0-9]+" ver ${name})
  # Without its leading zeros: C reads 0008 as a bad octal constant and 0010 as 8.
  string(REGEX REPLACE "^0+([0-9])" "\\1" ver "${ver}")
  file(READ ${f} hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(APPEND body "static const char mig_${n}[] = {${bytes}0x00};\n")
  string(APPEND table "  {${ver}, \"${name}\", mig_${n}},\n")
  math(EXPR n "${n}+1")
endforeach()
string(APPEND body "\nconst ck_migration ck_migrations[] = {\n${table}};\nconst int ck_migration_count = ${n};\n")
file(WRITE ${OUT} "${body}")
