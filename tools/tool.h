/*
 * The synack command: subcommand entry points (tools/main.c dispatches).
 */
#ifndef SYNACK_TOOLS_TOOL_H
#define SYNACK_TOOLS_TOOL_H

/* Keep in step with project(VERSION) in CMakeLists.txt. */
#define SYNACK_TOOL_VERSION "0.1.0"

/* Exit codes shared by every subcommand. */
enum { TOOL_OK = 0, TOOL_FAIL = 1, TOOL_USAGE = 2 };

/* `synack sim ...`: argv[0] is "sim". Returns the exit code. */
int sim_main(int argc, char **argv);

/* `synack echo|discard|http|listen|connect ...` (tools/live.c): argv[0]
 * names the subcommand. */
int live_main(int argc, char **argv);

/* `synack bridge ...` (tools/bridge.c): two TAP devices joined through the
 * impaired in-memory link, no stack. */
int bridge_main(int argc, char **argv);

/* `synack ss ...` and `synack sysctl ...` (tools/ss.c, tools/sysctl.c):
 * clients of the control socket of running synack processes. */
int ss_main(int argc, char **argv);
int sysctl_main(int argc, char **argv);

/* `synack plot FILE` (tools/plot.c): the time-sequence plot of a capture's
 * connection as SVG. */
int plot_main(int argc, char **argv);

/* `synack explain` and `synack trace` (tools/explain.c, tools/trace.c):
 * why connections of running synack processes sit where they are, and
 * their state changes as they happen. */
int explain_main(int argc, char **argv);
int trace_main(int argc, char **argv);

/* `synack packetdrill ...` (tools/pd_*.c): run packetdrill scripts against
 * one stack on virtual time. */
int packetdrill_main(int argc, char **argv);

/* `synack states ...` (tools/states.c): the core's transition table as a
 * table or Graphviz DOT; --coverage checks the edges tests took. */
int states_main(int argc, char **argv);

/* `synack diagram FILE ...` (tools/diagram.c): a capture's connections as
 * ladder diagrams with both ends' inferred states. */
int diagram_main(int argc, char **argv);

#endif
