/*
 * Escaping text for the machine-readable and drawn outputs of the tools:
 * JSON strings (synack diagram --json, synack explain --json) and XML text
 * and attribute values (the SVG ladders and plots).
 */
#ifndef SYNACK_TOOLS_TEXTESC_H
#define SYNACK_TOOLS_TEXTESC_H

#include <stdio.h>

/* s as a JSON string with its quotes; NULL as null. */
void tool_json_str(FILE *f, const char *s);

/* s with <, >, & and " as entities; control characters (not allowed in
 * XML 1.0) as spaces. */
void tool_xml_esc(FILE *f, const char *s);

#endif
